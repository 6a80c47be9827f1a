"""Customer documents in the account's language: emails and invoice PDFs.

Uses QtCore/QtGui only (QTranslator, QLocale, QTextDocument, QPdfWriter), no
widgets, so it works headless (``QT_QPA_PLATFORM=offscreen``) and from a
worker thread. The content comes from the services as plain data
(:mod:`billing_desktop.services.mail`, :mod:`billing_desktop.services.documents_data`).
"""

from __future__ import annotations

from billing_desktop.documents.email import QtRenderer
from billing_desktop.documents.invoice_pdf import invoice_html, render_invoice_pdf
from billing_desktop.documents.translation import (
    clear_cache,
    document_locale,
    load_translator,
    translator_for,
)

__all__ = [
    "QtRenderer",
    "clear_cache",
    "document_locale",
    "invoice_html",
    "load_translator",
    "render_invoice_pdf",
    "translator_for",
]
