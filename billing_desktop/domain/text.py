"""Qt-free translation marker for domain messages.

Domain messages are English source sentences with ``{named}`` placeholders.
They are wrapped in :func:`QT_TRANSLATE_NOOP` so that ``pyside6-lupdate`` can
extract them into ``translations/*.ts``; the UI translates them at display
time with ``QCoreApplication.translate(context, message)`` and only then fills
in the placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["QT_TRANSLATE_NOOP", "Notice"]


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark ``text`` for translation in ``context`` and return it unchanged."""
    return text


@dataclass(frozen=True, slots=True)
class Notice:
    """A translatable message for the user (a warning, a reason, a checklist state).

    ``code`` is stable (tests, reports), ``message`` an English template marked
    with :func:`QT_TRANSLATE_NOOP`, ``params`` its values; the UI translates the
    template first and then fills it in.
    """

    code: str
    message: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    @property
    def text(self) -> str:
        """The English message with its placeholders filled (logs, tests)."""
        return self.message.format(**self.params)
