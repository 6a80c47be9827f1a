"""Typed, translatable domain errors.

A :class:`DomainError` carries a stable machine ``code`` (for tests, logs and
reporting), an English ``message`` template with ``{named}`` placeholders
(extracted by lupdate from ``QT_TRANSLATE_NOOP("DomainError", ...)``) and the
``params`` that fill it. The UI translates ``message`` first and then formats
it with ``params`` (formatting dates and money with ``QLocale`` beforehand).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DomainError", "PolicyViolation", "ValidationError"]


class DomainError(Exception):
    """Base class of every error the domain raises on purpose.

    ``DomainError(code, message, params=None, **more_params)``: ``params`` may
    be given as a mapping, as keyword arguments, or both (keywords win).
    """

    code: str
    message: str
    params: dict[str, object]

    def __init__(
        self,
        code: str,
        message: str,
        params: Mapping[str, object] | None = None,
        /,
        **more_params: object,
    ) -> None:
        merged: dict[str, object] = dict(params or {})
        merged.update(more_params)
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.params = merged

    def __str__(self) -> str:
        """The English message with its placeholders filled in."""
        try:
            return self.message.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, {self.params!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep params across pickling (e.g. when errors cross a worker process).
        return (type(self), (self.code, self.message, dict(self.params)))


class ValidationError(DomainError):
    """An input value is malformed or out of range (amount, date, VAT, card…)."""


class PolicyViolation(DomainError):
    """A business rule refuses the requested action (SPEC §3 "Who may act")."""
