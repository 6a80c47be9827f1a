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

import functools
import logging
import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from billing_desktop.config import ROOT

__all__ = [
    "PSEUDO",
    "PseudoTranslator",
    "current_locale",
    "install",
    "installed_files",
    "pseudo_text",
    "translations_dir",
    "uninstall",
]

log = logging.getLogger("billing_desktop.i18n")

#: Translators installed by the last :func:`install`, removed by the next one.
_installed: list[QTranslator] = []
_current: QLocale | None = None


def translations_dir() -> Path:
    """Where the application's compiled ``.qm`` files live."""
    return ROOT / "translations"


#: ``--lang pseudo``: a development language that stretches every text by about
#: 40 % and brackets it, to find clipped or hard-coded texts on screen.
PSEUDO = "pseudo"

_ACCENTED = str.maketrans(
    "abcdeghiklnorstuyzABCDEGHIKLNORSTUYZ",
    "àƀçđéĝĥîķĺñöŕšţüýžÀƁÇĐÉĜĤÎĶĹÑÖŔŠŢÜÝŽ",
)


@functools.cache
def _kept_parts() -> re.Pattern[str]:
    """What a pseudo text must leave as it is: {fields}, %n / %1, HTML tags and
    entities, the & of a mnemonic with its letter (compiled on first use: only
    the pseudo language needs it)."""
    return re.compile(r"\{[^{}]*\}|%L?(?:n|\d+)|<[^>]*>|&[A-Za-z]+;|&#\d+;|&.")


def pseudo_text(text: str) -> str:
    """``"Place &order for {company}"`` → ``"[Ƥļàçé &order ƒöŕ {company}~~~~~~~]"``."""
    if not text:
        return text
    parts: list[str] = []
    last = 0
    letters = 0
    for match in _kept_parts().finditer(text):
        plain = text[last : match.start()]
        letters += sum(ch.isalpha() for ch in plain)
        parts.append(plain.translate(_ACCENTED))
        parts.append(match.group(0))
        last = match.end()
    plain = text[last:]
    letters += sum(ch.isalpha() for ch in plain)
    parts.append(plain.translate(_ACCENTED))
    padding = "~" * max(1, round(letters * 0.4))
    return f"[{''.join(parts)}{padding}]"


class PseudoTranslator(QTranslator):
    """Translates every text into :func:`pseudo_text` of its English source."""

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        return pseudo_text(source)

    def isEmpty(self) -> bool:
        return False


def _choose_locale(lang: str | None) -> QLocale:
    if lang == PSEUDO:
        # Numbers, dates and money in a locale unlike English: a good test too.
        return QLocale(QLocale.Language.German, QLocale.Country.Germany)
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
    if lang == PSEUDO:
        pseudo = PseudoTranslator(app)
        app.installTranslator(pseudo)
        _installed.append(pseudo)
        _current = locale
        return locale
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
