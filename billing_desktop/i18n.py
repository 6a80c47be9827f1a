"""Language and locale: which translators are installed, and switching them at run time.

Qt's own ``qtbase`` translations (standard buttons, context menus) and the
application's ``translations/billing_desktop_<lang>.qm`` are loaded for the
chosen language. A missing file is normal (English needs none, and a language
may have no Qt translation) and is only logged.

Calling :func:`install` again replaces the translators; Qt then sends
``QEvent.LanguageChange`` to every widget, whose ``changeEvent`` calls its
``retranslateUi()`` (DESIGN habit 7).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from billing_desktop.config import ROOT

__all__ = ["current_locale", "install", "installed_files", "translations_dir", "uninstall"]

log = logging.getLogger("billing_desktop.i18n")

#: Translators installed by the last :func:`install`, removed by the next one.
_installed: list[QTranslator] = []
_current: QLocale | None = None


def translations_dir() -> Path:
    """Where the application's compiled ``.qm`` files live."""
    return ROOT / "translations"


def _choose_locale(lang: str | None) -> QLocale:
    if lang:
        locale = QLocale(lang)
        if locale.language() != QLocale.Language.C or lang.upper() in {"C", "POSIX"}:
            return locale
        log.warning("unknown language %r; using the system language", lang)
    system = QLocale.system()
    if system.language() == QLocale.Language.C:
        # LANG=C/POSIX (containers, CI) is no one's language: use US English.
        return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    return system


def install(app: QCoreApplication, lang: str | None = None) -> QLocale:
    """Use ``lang`` ("it", "de_DE"; None = the system's) for text, numbers, dates and money.

    Returns the locale now in use.
    """
    global _current
    locale = _choose_locale(lang)
    QLocale.setDefault(locale)
    uninstall(app)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name, directory in (("qtbase", qt_dir), ("billing_desktop", str(translations_dir()))):
        translator = QTranslator(app)
        if translator.load(locale, name, "_", directory):
            app.installTranslator(translator)
            _installed.append(translator)
            log.info("loaded %s", translator.filePath())
        else:
            log.info("no %s translation for %s in %s", name, locale.name(), directory)
            translator.deleteLater()
    _current = locale
    return locale


def uninstall(app: QCoreApplication) -> None:
    """Remove the translators installed by :func:`install` (back to the English sources)."""
    for translator in _installed:
        app.removeTranslator(translator)
        translator.deleteLater()
    _installed.clear()


def installed_files() -> list[str]:
    """The ``.qm`` files in use, for the log and the About box."""
    return [translator.filePath() for translator in _installed]


def current_locale() -> QLocale:
    """The locale chosen by the last :func:`install` (the default locale before that)."""
    return QLocale(_current) if _current is not None else QLocale()
