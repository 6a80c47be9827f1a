"""Typed, translatable errors the services raise; the UI shows them in one message box.

Every error carries a stable ``code``, an English ``message`` template marked
for lupdate and its ``params`` (see :mod:`billing_desktop.domain.errors`).
Domain rule refusals (:class:`PolicyViolation`) and bad input
(:class:`ValidationError`) pass through the services unchanged.
"""

from __future__ import annotations

from billing_desktop.domain.errors import DomainError, PolicyViolation, ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = [
    "ConflictError",
    "DomainError",
    "NotFound",
    "PermissionDenied",
    "PolicyViolation",
    "ServiceError",
    "ValidationError",
]


class ServiceError(DomainError):
    """Base of the errors that only the service layer raises."""


class PermissionDenied(ServiceError):
    """The operator's role does not allow the action (SPEC §6); nothing was changed."""


class NotFound(ServiceError):
    """The account, subscription, invoice… asked for does not exist (any more)."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(
            "not_found",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{what} {key} was not found; it may have been deleted."
            ),
            what=what,
            key=key,
        )


class ConflictError(ServiceError):
    """Someone else changed the data since it was read (optimistic locking).

    ``changed_by``/``changed_at`` name the operator and time of the latest
    change to the entity's account when known (``services.base.writing`` fills
    them after the failed transaction rolled back); the message then says so.
    ``account`` is the id or number of that account, for that look-up.
    """

    def __init__(
        self,
        what: str,
        changed_by: str = "",
        changed_at: object = None,
        *,
        account: int | str | None = None,
    ) -> None:
        if changed_by and changed_at is not None:
            message = QT_TRANSLATE_NOOP(
                "ServiceError",
                "{what} was changed by {changed_by} at {changed_at} — reload to see the "
                "current data. Your input is kept.",
            )
        elif changed_by:
            message = QT_TRANSLATE_NOOP(
                "ServiceError",
                "{what} was changed by {changed_by} in the meantime — reload to see the "
                "current data. Your input is kept.",
            )
        else:
            message = QT_TRANSLATE_NOOP(
                "ServiceError",
                "{what} was changed by someone else in the meantime; reload to see the "
                "current data. Your input is kept.",
            )
        super().__init__(
            "changed_elsewhere", message, what=what, changed_by=changed_by, changed_at=changed_at
        )
        self.account = account

    @property
    def what(self) -> str:
        return str(self.params["what"])

    def __reduce__(self) -> tuple[object, ...]:
        params = self.params
        return (
            _conflict,
            (params["what"], params["changed_by"], params["changed_at"], self.account),
        )


def _conflict(what: str, changed_by: str, changed_at: object, account: object) -> ConflictError:
    return ConflictError(what, changed_by, changed_at, account=account)  # type: ignore[arg-type]
