"""Light and dark themes: the Fusion style with a palette of our own, or the system's look.

:func:`apply_theme` switches the whole application at once; every widget
repaints with the new palette. "system" gives back the style and palette the
application started with (the platform's), so switching back and forth never
drifts. Widgets that colour something themselves (a failed status, an overdue
balance) ask :func:`is_dark` or use :func:`warning_color` so the colour stays
readable on both.

QtGui/QtWidgets only; cheap to import at start-up (the saved theme is applied
before the window shows, see :mod:`billing_desktop.ui.preferences`).
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

__all__ = [
    "THEMES",
    "apply_theme",
    "current_theme",
    "dark_palette",
    "is_dark",
    "light_palette",
    "warning_color",
]

log = logging.getLogger("billing_desktop.ui")

#: The themes offered, in menu order.
THEMES = ("system", "light", "dark")

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup

#: what the application looked like before the first theme was applied
_system_style: str | None = None
_current = "system"


def _palette(
    colors: dict[QPalette.ColorRole, str], disabled: dict[QPalette.ColorRole, str]
) -> QPalette:
    palette = QPalette()
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    for role, value in disabled.items():
        palette.setColor(_Group.Disabled, role, QColor(value))
    return palette


def dark_palette() -> QPalette:
    """A calm dark palette (dark grey surfaces, light text, blue selection)."""
    return _palette(
        {
            _Role.Window: "#2b2d30",
            _Role.WindowText: "#e6e6e6",
            _Role.Base: "#1f2023",
            _Role.AlternateBase: "#27292c",
            _Role.ToolTipBase: "#3a3d41",
            _Role.ToolTipText: "#f0f0f0",
            _Role.PlaceholderText: "#8c8f94",
            _Role.Text: "#e6e6e6",
            _Role.Button: "#35373b",
            _Role.ButtonText: "#e6e6e6",
            _Role.BrightText: "#ff6b6b",
            _Role.Light: "#45484d",
            _Role.Midlight: "#3a3d41",
            _Role.Mid: "#2f3134",
            _Role.Dark: "#1a1b1d",
            _Role.Shadow: "#000000",
            _Role.Highlight: "#3d7bd9",
            _Role.HighlightedText: "#ffffff",
            _Role.Link: "#7ab4ff",
            _Role.LinkVisited: "#c39bff",
        },
        {
            _Role.WindowText: "#7d8085",
            _Role.Text: "#7d8085",
            _Role.ButtonText: "#7d8085",
            _Role.Highlight: "#4a4d52",
            _Role.HighlightedText: "#a0a3a8",
            _Role.Base: "#252629",
        },
    )


def light_palette() -> QPalette:
    """A plain light palette, the same on every platform."""
    return _palette(
        {
            _Role.Window: "#efefef",
            _Role.WindowText: "#1e1e1e",
            _Role.Base: "#ffffff",
            _Role.AlternateBase: "#f5f5f5",
            _Role.ToolTipBase: "#ffffdc",
            _Role.ToolTipText: "#1e1e1e",
            _Role.PlaceholderText: "#80848a",
            _Role.Text: "#1e1e1e",
            _Role.Button: "#efefef",
            _Role.ButtonText: "#1e1e1e",
            _Role.BrightText: "#b00020",
            _Role.Light: "#ffffff",
            _Role.Midlight: "#e3e3e3",
            _Role.Mid: "#b8b8b8",
            _Role.Dark: "#9f9f9f",
            _Role.Shadow: "#767676",
            _Role.Highlight: "#2f6fd0",
            _Role.HighlightedText: "#ffffff",
            _Role.Link: "#1a5fb4",
            _Role.LinkVisited: "#6a3fb4",
        },
        {
            _Role.WindowText: "#9a9a9a",
            _Role.Text: "#9a9a9a",
            _Role.ButtonText: "#9a9a9a",
            _Role.Highlight: "#c8c8c8",
            _Role.Base: "#f4f4f4",
        },
    )


def apply_theme(app: QApplication, name: str) -> str:
    """Use the theme ``name`` ("system", "light", "dark") for the whole application.

    Light and dark use the Fusion style (it draws with the palette everywhere);
    "system" restores the style the application started with and the
    platform's palette. An unknown name is treated as "system". Returns the
    theme applied.
    """
    global _system_style, _current
    theme = name if name in THEMES else "system"
    if theme != name:
        log.warning("unknown theme %r; using the system theme", name)
    if _system_style is None:
        style = app.style()
        _system_style = style.name() if style is not None else ""
    if theme == "system":
        known = {key.lower() for key in QStyleFactory.keys()}  # noqa: SIM118 (a list, not a dict)
        if _system_style and _system_style.lower() in known:
            app.setStyle(_system_style)
        # A palette that sets nothing: Qt falls back to the style's and platform's own.
        app.setPalette(QPalette())
    else:
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if theme == "dark" else light_palette())
    _current = theme
    return theme


def current_theme() -> str:
    """The theme applied last ("system" before any)."""
    return _current


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether text is drawn light on dark (the dark theme, or a dark system theme)."""
    pal = palette if palette is not None else QGuiApplication.palette()
    return pal.color(_Role.Base).lightness() < 128


def warning_color(palette: QPalette | None = None) -> QColor:
    """A red that reads well on the palette's base colour (failed, overdue)."""
    return QColor("#ff7b7b") if is_dark(palette) else QColor(176, 0, 32)
