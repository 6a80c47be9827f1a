"""Translators for customer documents, one per language, independent of the UI's.

An email or invoice is written in the *account's* language while the operator
may be using another one, so documents never go through the translators the
UI installed on the application (``billing_desktop.i18n``). They load their
own ``translations/billing_desktop_<lang>.qm`` with a private
:class:`QTranslator` and ask it directly. A language without a file (English,
or one not translated yet) falls back to the English source text.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QLocale, QTranslator

from billing_desktop.config import ROOT

__all__ = [
    "TranslationFile",
    "Translator",
    "clear_cache",
    "document_locale",
    "load_translator",
    "translate",
    "translations_dir",
    "translator_for",
]

log = logging.getLogger("billing_desktop.documents")

#: base name of the compiled translation files: billing_desktop_<lang>.qm
TranslationFile = "billing_desktop"


class Translator(Protocol):
    """What documents need of a translator (``QTranslator`` has this method)."""

    def translate(self, context: str, source_text: str, /) -> str: ...


def translations_dir() -> Path:
    """Where the compiled ``.qm`` files live (as ``billing_desktop.i18n`` uses them)."""
    return ROOT / "translations"


def document_locale(language: str | None) -> QLocale:
    """The locale for a document in ``language`` ("it" → it_IT); unknown → en_US."""
    if language:
        locale = QLocale(language.replace("-", "_"))
        if locale.language() != QLocale.Language.C:
            return locale
        log.warning("unknown document language %r; using English", language)
    return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)


def load_translator(language: str, directory: Path | None = None) -> QTranslator | None:
    """A translator with ``billing_desktop_<language>.qm`` loaded, or None if there is none."""
    folder = directory if directory is not None else translations_dir()
    translator = QTranslator()
    if translator.load(document_locale(language), TranslationFile, "_", str(folder)):
        log.info("documents in %s use %s", language, translator.filePath())
        return translator
    log.info("no %s translation in %s; documents stay in English", language, folder)
    return None


_cache: dict[tuple[str, str], QTranslator | None] = {}
_lock = threading.Lock()


def translator_for(language: str, directory: Path | None = None) -> QTranslator | None:
    """:func:`load_translator`, loaded once per language and folder."""
    folder = directory if directory is not None else translations_dir()
    key = (language, str(folder))
    with _lock:
        if key not in _cache:
            _cache[key] = load_translator(language, folder)
        return _cache[key]


def clear_cache() -> None:
    """Forget loaded translators (after the ``.qm`` files were rebuilt)."""
    with _lock:
        _cache.clear()


def translate(translator: Translator | None, context: str, source: str) -> str:
    """``source`` translated in ``context``; the English source when there is no translation."""
    if translator is None:
        return source
    return translator.translate(context, source) or source
