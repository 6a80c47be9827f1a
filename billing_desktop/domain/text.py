"""Qt-free translation marker for domain messages.

Domain messages are English source sentences with ``{named}`` placeholders.
They are wrapped in :func:`QT_TRANSLATE_NOOP` so that ``pyside6-lupdate`` can
extract them into ``translations/*.ts``; the UI translates them at display
time with ``QCoreApplication.translate(context, message)`` and only then fills
in the placeholders.
"""

from __future__ import annotations

__all__ = ["QT_TRANSLATE_NOOP"]


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark ``text`` for translation in ``context`` and return it unchanged."""
    return text
