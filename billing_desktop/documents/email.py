"""The email renderer the application injects into services (``AppContext.renderer``).

:class:`QtRenderer` implements :class:`billing_desktop.services.mail.Renderer`:
it takes the English template of an email kind (marked for lupdate in
``services/mail.py`` under the context "Email"), translates subject and body
as whole texts with a translator loaded for the *account's* language, and
only then fills in the values, formatted with that language's locale (money,
dates, periods, numbers). The UI's own language is never switched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from billing_desktop.documents.formatting import format_value, format_values
from billing_desktop.documents.translation import (
    Translator,
    document_locale,
    translate,
    translator_for,
)
from billing_desktop.services.mail import (
    EMAIL_CONTEXT,
    SIGNATURE,
    EmailKind,
    fill,
    template_for,
    template_values,
    tidy,
)

__all__ = ["QtRenderer"]

TranslatorFactory = Callable[[str], Translator | None]


class QtRenderer:
    """Emails in the account's language: Qt translations and QLocale formatting.

    ``translator_factory(language)`` returns the translator for a language (or
    None for English); by default the ``.qm`` files of ``translations_dir``
    (the application's ``translations/`` folder) are loaded once per language.
    """

    def __init__(
        self,
        translations_dir: Path | None = None,
        translator_factory: TranslatorFactory | None = None,
    ) -> None:
        if translator_factory is None:

            def translator_factory(language: str) -> Translator | None:
                return translator_for(language, translations_dir)

        self._translator_for = translator_factory

    def email(self, kind: EmailKind, language: str, params: Mapping[str, Any]) -> tuple[str, str]:
        subject_src, body_src = template_for(kind, params)
        translator = self._translator_for(language)
        locale = document_locale(language)
        values = template_values(params)
        text = format_values(values, locale)
        summary = values.get("summary")
        if isinstance(summary, list | tuple):
            text["summary"] = "\n".join(format_value(line, locale) for line in summary)
        subject = fill(translate(translator, EMAIL_CONTEXT, subject_src), text)
        body = translate(translator, EMAIL_CONTEXT, body_src)
        signature = translate(translator, EMAIL_CONTEXT, SIGNATURE)
        return subject.strip(), tidy(fill(body + signature, text))
