"""The user's preferences kept between starts (QSettings): language, theme, database.

The Settings dialog writes them; the start-up code reads them:

- :func:`startup_language` — the language to install: ``--lang`` if given,
  else the one chosen in Settings, else None (the system's);
- :func:`apply_startup_theme` — applies the saved theme (nothing to do, and
  nothing imported, for "system");
- :func:`startup_database` — the database to open: ``--db`` if given, else
  ``$BILLING_DESKTOP_DB``, else the one chosen in Settings, else the default
  file in the user data folder;
- :func:`is_missing_saved_database` — whether that is the file chosen in
  Settings and it has vanished (the start-up then asks what to open instead of
  creating an empty database in its place).

QtCore only at import (it runs before the first paint). Reads and writes use
the application's QSettings once its organisation and name are set, and the
installed application's names before that (``__main__`` runs before
``run_gui`` sets them).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QCoreApplication, QSettings

from billing_desktop.config import APP_NAME, DB_ENV_VAR, ORG_NAME

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from billing_desktop.config import DatabaseTarget

__all__ = [
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "THEMES",
    "DatabaseChoice",
    "apply_startup_theme",
    "check_database_location",
    "is_missing_saved_database",
    "saved_database",
    "saved_language",
    "saved_theme",
    "set_saved_database",
    "set_saved_language",
    "set_saved_theme",
    "startup_database",
    "startup_language",
]

#: The languages the application ships (SPEC §7), in menu order.
LANGUAGES = ("en", "it", "nl", "es", "de", "fr")
#: Each language by its own name (never translated: a reader looks for their own).
LANGUAGE_NAMES = {
    "en": "English",
    "it": "Italiano",
    "nl": "Nederlands",
    "es": "Español",
    "de": "Deutsch",
    "fr": "Français",
}
#: The themes offered (see :mod:`billing_desktop.ui.theme`).
THEMES = ("system", "light", "dark")

KEY_LANGUAGE = "preferences/language"
KEY_THEME = "preferences/theme"
KEY_DATABASE = "preferences/database"

#: URL schemes of the database servers the application can use.
SERVER_SCHEMES = ("postgresql",)


def _settings() -> QSettings:
    if QCoreApplication.organizationName() or QCoreApplication.applicationName():
        return QSettings()
    return QSettings(ORG_NAME, APP_NAME)


def _text(key: str) -> str | None:
    value = _settings().value(key)
    if value is None:
        return None
    return str(value).strip() or None


# -- language ----------------------------------------------------------------


def saved_language() -> str | None:
    """The language chosen in Settings ("it"), None for the system's language."""
    code = _text(KEY_LANGUAGE)
    return code if code in LANGUAGES else None


def set_saved_language(code: str | None) -> None:
    """Remember ``code`` for the next start (None: follow the system)."""
    settings = _settings()
    if code:
        settings.setValue(KEY_LANGUAGE, code)
    else:
        settings.remove(KEY_LANGUAGE)
    settings.sync()


def switch_language(code: str | None) -> str:
    """Use ``code`` (None: the system's) from now on and at every start.

    Every open window retranslates at once (LanguageChange). Returns the
    locale name now in use.
    """
    from billing_desktop import i18n

    app = QCoreApplication.instance()
    assert app is not None
    locale = i18n.install(app, code)
    set_saved_language(code)
    return locale.name()


def startup_language(cli_lang: str | None = None) -> str | None:
    """What to pass to ``i18n.install`` at start: ``--lang``, else the saved choice."""
    return cli_lang or saved_language()


# -- theme -------------------------------------------------------------------


def saved_theme() -> str:
    """The theme chosen in Settings ("system" unless one was chosen)."""
    theme = _text(KEY_THEME)
    return theme if theme in THEMES else "system"


def set_saved_theme(name: str) -> None:
    settings = _settings()
    settings.setValue(KEY_THEME, name if name in THEMES else "system")
    settings.sync()


def apply_startup_theme(app: QApplication) -> str:
    """Apply the saved theme before the first window shows; returns its name."""
    theme = saved_theme()
    if theme == "system":
        return theme  # the platform's look: nothing to change, nothing to import
    from billing_desktop.ui.theme import apply_theme

    return apply_theme(app, theme)


# -- database ----------------------------------------------------------------


class DatabaseChoice(NamedTuple):
    """A checked database location: an SQLite file or a server URL.

    (A named tuple, not a dataclass: this module is imported before the first
    paint, and a frozen dataclass costs half a millisecond to create.)
    """

    #: what to store and pass on: the absolute file path, or the URL as typed
    value: str
    is_file: bool
    #: for showing: the path, or the URL with its password hidden
    display: str


class DatabaseLocationError(ValueError):
    """A database location that cannot be used; ``message`` is a ``QT_TRANSLATE_NOOP``
    source in the "Preferences" context with ``{named}`` placeholders."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.params = params


def check_database_location(text: str) -> DatabaseChoice:
    """Check the form of an SQLite file path or a server URL (without connecting).

    A file must be in an existing folder (it is created on first use if
    missing) and must not be a folder. A URL must be ``postgresql[+driver]://``
    with a server name and a database name. Raises :class:`DatabaseLocationError`.
    """
    from PySide6.QtCore import QT_TRANSLATE_NOOP

    value = text.strip()
    if not value:
        raise DatabaseLocationError(
            "empty", QT_TRANSLATE_NOOP("Preferences", "Enter a database file or a server URL.")
        )
    if "://" not in value:
        from pathlib import Path

        path = Path(value).expanduser()
        if not path.is_absolute():
            raise DatabaseLocationError(
                "relative",
                QT_TRANSLATE_NOOP(
                    "Preferences", "Enter the full path of the database file, not {path}."
                ),
                path=value,
            )
        path = path.resolve()
        if path.is_dir():
            raise DatabaseLocationError(
                "is_folder",
                QT_TRANSLATE_NOOP("Preferences", "{path} is a folder, not a database file."),
                path=str(path),
            )
        if not path.parent.is_dir():
            raise DatabaseLocationError(
                "no_folder",
                QT_TRANSLATE_NOOP("Preferences", "The folder {folder} does not exist."),
                folder=str(path.parent),
            )
        return DatabaseChoice(str(path), True, str(path))
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise DatabaseLocationError(
            "bad_url",
            QT_TRANSLATE_NOOP(
                "Preferences",
                "This is not a database URL. Write it as "
                "postgresql://user:password@server:5432/database.",
            ),
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise DatabaseLocationError(
                "sqlite_memory",
                QT_TRANSLATE_NOOP("Preferences", "An SQLite database must be a file."),
            )
        return check_database_location(url.database)
    if backend not in SERVER_SCHEMES:
        raise DatabaseLocationError(
            "unsupported",
            QT_TRANSLATE_NOOP(
                "Preferences",
                "{scheme} databases are not supported. Use an SQLite file or a PostgreSQL "
                "server (postgresql://…).",
            ),
            scheme=backend,
        )
    if not url.host:
        raise DatabaseLocationError(
            "no_host",
            QT_TRANSLATE_NOOP("Preferences", "The URL needs a server name after //."),
        )
    if not url.database:
        raise DatabaseLocationError(
            "no_database",
            QT_TRANSLATE_NOOP(
                "Preferences", "The URL needs a database name after the server (/database)."
            ),
        )
    return DatabaseChoice(value, False, url.render_as_string(hide_password=True))


def saved_database() -> str | None:
    """The database chosen in Settings (a file path or a URL), None if none was."""
    return _text(KEY_DATABASE)


def set_saved_database(value: str | None) -> None:
    settings = _settings()
    if value:
        settings.setValue(KEY_DATABASE, value)
    else:
        settings.remove(KEY_DATABASE)
    settings.sync()


def startup_database(cli_db: str | None = None) -> DatabaseTarget:
    """The database to open at start: ``--db``, ``$BILLING_DESKTOP_DB``, the saved choice,
    or the default file, in that order. A saved choice that no longer parses is
    skipped (the default opens) rather than stopping the start."""
    from billing_desktop.config import default_target, target_from

    if cli_db:
        return target_from(cli_db)
    if not os.environ.get(DB_ENV_VAR):
        saved = saved_database()
        if saved:
            try:
                return target_from(saved)
            except ValueError:
                pass
    return default_target()


def is_missing_saved_database(target: DatabaseTarget) -> bool:
    """Whether ``target`` is the database file chosen in Settings, other than the default
    one, and no file is there any more (deleted, moved, on a drive or share that is not
    connected). Opening it would create a new, empty database in its place.

    The default database is never "missing": on the first start it is created."""
    from billing_desktop.config import default_target, target_from

    path = target.path
    if path is None or path.exists():  # a server, or the file is there: cheap and usual
        return False
    saved = saved_database()
    if not saved:
        return False
    try:
        remembered = target_from(saved)
    except ValueError:
        return False
    return remembered == target and target != default_target()
