"""Whether the Welcome page is wanted for a database, and remembering its dismissal.

Kept apart from :mod:`billing_desktop.ui.welcome` so deciding costs no widget
imports at start-up; the page itself is imported only when it is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from billing_desktop.services.context import AppContext

__all__ = ["remember_welcome_dismissed", "welcome_wanted"]

_SETTINGS_DISMISSED = "welcome/dismissed"


def _dismissed() -> list[str]:
    value = QSettings().value(_SETTINGS_DISMISSED, [])
    if isinstance(value, str):  # QSettings returns a lone string for one-item lists
        return [value]
    return [str(v) for v in value or []]


def welcome_wanted(ctx: AppContext) -> bool:
    """True for an empty, non-demo database whose welcome was never dismissed."""
    if ctx.is_demo or not ctx.db.is_empty():
        return False
    return ctx.db.target.display_name() not in _dismissed()


def remember_welcome_dismissed(ctx: AppContext) -> None:
    """Do not show the Welcome page again for this database."""
    name = ctx.db.target.display_name()
    dismissed = _dismissed()
    if name not in dismissed:
        QSettings().setValue(_SETTINGS_DISMISSED, [*dismissed, name])
