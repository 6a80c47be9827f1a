"""The invoice PDF: an :class:`InvoiceDocument` laid out with QTextDocument, printed on A4.

Everything printed is in the invoice's language: labels are English source
texts marked ``QT_TRANSLATE_NOOP("Invoice", …)`` and translated with the
document translator for that language (never the UI's); money, dates and the
VAT rate use that language's QLocale. The layout is HTML in the subset
QTextDocument understands (tables, no floats), so it needs QtGui only: a
``QGuiApplication`` must exist (fonts), widgets are not used.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import IO

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
from PySide6.QtGui import QFont, QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from billing_desktop.documents.formatting import (
    country_name,
    format_date,
    format_money,
    format_percent,
    format_period,
)
from billing_desktop.documents.translation import (
    Translator,
    document_locale,
    translate,
    translator_for,
)
from billing_desktop.domain.money import Money
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.documents_data import InvoiceDocument, Party
from billing_desktop.services.mail import fill

__all__ = ["INVOICE_CONTEXT", "invoice_html", "render_invoice_pdf"]

#: translation context of the invoice's labels
INVOICE_CONTEXT = "Invoice"

_LABELS = {
    "title": QT_TRANSLATE_NOOP("Invoice", "Invoice"),
    "number": QT_TRANSLATE_NOOP("Invoice", "Invoice number"),
    "issue_date": QT_TRANSLATE_NOOP("Invoice", "Issue date"),
    "due_date": QT_TRANSLATE_NOOP("Invoice", "Due date"),
    "service_period": QT_TRANSLATE_NOOP("Invoice", "Service period"),
    "account": QT_TRANSLATE_NOOP("Invoice", "Account"),
    "bill_to": QT_TRANSLATE_NOOP("Invoice", "Bill to"),
    "attention": QT_TRANSLATE_NOOP("Invoice", "Attn. {name}"),
    "vat_number": QT_TRANSLATE_NOOP("Invoice", "VAT number: {vat_number}"),
    "po_number": QT_TRANSLATE_NOOP("Invoice", "Purchase order: {po_number}"),
    "terms": QT_TRANSLATE_NOOP("Invoice", "Payment terms: net {days} days"),
    "description": QT_TRANSLATE_NOOP("Invoice", "Description"),
    "billing_period": QT_TRANSLATE_NOOP("Invoice", "Billing period"),
    "quantity": QT_TRANSLATE_NOOP("Invoice", "Quantity"),
    "unit_price": QT_TRANSLATE_NOOP("Invoice", "Unit price"),
    "line_total": QT_TRANSLATE_NOOP("Invoice", "Total"),
    "subtotal": QT_TRANSLATE_NOOP("Invoice", "Subtotal"),
    "vat": QT_TRANSLATE_NOOP("Invoice", "VAT {rate}"),
    "reverse_charge": QT_TRANSLATE_NOOP(
        "Invoice", "Reverse charge — VAT to be accounted for by the recipient"
    ),
    "total": QT_TRANSLATE_NOOP("Invoice", "Total"),
    "credit_applied": QT_TRANSLATE_NOOP("Invoice", "Account credit applied"),
    "amount_paid": QT_TRANSLATE_NOOP("Invoice", "Amount paid"),
    "amount_due": QT_TRANSLATE_NOOP("Invoice", "Amount due"),
    "status_open": QT_TRANSLATE_NOOP(
        "Invoice", "Please pay {amount} by {due_date}, quoting invoice number {number}."
    ),
    "status_paid": QT_TRANSLATE_NOOP("Invoice", "Paid in full. Thank you."),
    "status_void": QT_TRANSLATE_NOOP(
        "Invoice", "This invoice has been voided and is not payable."
    ),
    "disputed": QT_TRANSLATE_NOOP("Invoice", "Disputed on {date}: {note}"),
    "void_mark": QT_TRANSLATE_NOOP("Invoice", "VOID"),
}

_CSS = """
body { font-size: 9pt; color: #1d1d1f; }
h1 { font-size: 20pt; font-weight: 600; color: #1d3557; margin: 0; }
.seller-name { font-size: 11pt; font-weight: bold; }
.muted { color: #5f6368; }
.label { color: #5f6368; }
.caption { font-size: 8pt; font-weight: bold; color: #5f6368; text-transform: uppercase; }
.customer-name { font-size: 11pt; font-weight: bold; }
table.lines { font-size: 8pt; }
table.lines th { background-color: #e8eef5; color: #1d3557; font-weight: bold;
                 border-bottom: 1px solid #9fb3c8; }
table.lines td { border-bottom: 1px solid #dde3ea; }
.num { text-align: right; }
.due td { font-weight: bold; font-size: 11pt; border-top: 1px solid #1d3557; }
.void { color: #b00020; font-size: 16pt; font-weight: bold; }
.note { color: #1d1d1f; }
"""


_NBSP = "\u00a0"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


class _Writer:
    """Labels and values for one language."""

    def __init__(self, doc: InvoiceDocument, language: str, translator: Translator | None):
        self.doc = doc
        self.locale = document_locale(language)
        self.translator = translator

    def label(self, key: str, **values: str) -> str:
        text = translate(self.translator, INVOICE_CONTEXT, _LABELS[key])
        return fill(text, values) if values else text

    def money(self, amount: Money) -> str:
        return format_money(amount.minor, amount.currency, self.locale)

    def date(self, d: object) -> str:
        return format_date(d, self.locale)  # type: ignore[arg-type]

    def party(self, party: Party, *, name_class: str) -> str:
        rows = [f'<span class="{name_class}">{_e(party.name)}</span>']
        rows += [_e(line) for line in party.address_lines]
        if party.country:
            rows.append(_e(country_name(party.country, self.locale)))
        if party.vat_number:
            rows.append(_e(self.label("vat_number", vat_number=party.vat_number)))
        return "<br/>".join(rows)


def invoice_html(doc: InvoiceDocument, language: str, translator: Translator | None) -> str:
    """The invoice as the HTML that QTextDocument lays out (exposed for tests and previews)."""
    w = _Writer(doc, language, translator)
    meta_rows = [
        (w.label("number"), doc.number),
        (w.label("issue_date"), w.date(doc.issue_date)),
        (w.label("due_date"), w.date(doc.due_date)),
    ]
    if doc.service_period is not None:
        meta_rows.append((w.label("service_period"), format_period(doc.service_period, w.locale)))
    meta_rows.append((w.label("account"), doc.account_number))
    meta = "".join(
        f'<tr><td class="label" align="right">{_e(k)}</td>'
        f'<td align="right"><b>{_e(v)}</b></td></tr>'
        for k, v in meta_rows
    )
    seller = w.party(doc.seller, name_class="seller-name")
    if doc.seller.email:
        seller += f'<br/><span class="muted">{_e(doc.seller.email)}</span>'

    customer = w.party(doc.customer, name_class="customer-name")
    extra = []
    if doc.contact_name:
        extra.append(w.label("attention", name=doc.contact_name))
    if doc.po_number:
        extra.append(w.label("po_number", po_number=doc.po_number))
    if doc.payment_terms_days:
        extra.append(w.label("terms", days=w.locale.toString(doc.payment_terms_days)))
    if extra:
        customer += "<br/>" + "<br/>".join(_e(x) for x in extra)

    head = (
        '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f'<td width="55%" valign="top">{seller}</td>'
        '<td width="45%" valign="top" align="right">'
        f'<h1 align="right">{_e(w.label("title"))}</h1>'
        f'<table align="right" cellspacing="0" cellpadding="2">{meta}</table>'
        "</td></tr></table>"
    )
    bill_to = (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 18px;"><tr>'
        f'<td valign="top"><span class="caption">{_e(w.label("bill_to"))}</span><br/>'
        f"{customer}</td></tr></table>"
    )

    header_cells = (
        f'<th align="left" width="30%">{_e(w.label("description"))}</th>'
        f'<th align="left" width="28%">{_e(w.label("billing_period"))}</th>'
        f'<th align="right" width="10%">{_e(w.label("quantity"))}</th>'
        f'<th align="right" width="15%">{_e(w.label("unit_price"))}</th>'
        f'<th align="right" width="17%">{_e(w.label("line_total"))}</th>'
    )
    body_rows = []
    for line in doc.lines:
        # one line per row: a row never splits across pages, the dates never wrap
        period = format_period(line.period, w.locale).replace(" ", _NBSP) if line.period else ""
        body_rows.append(
            "<tr>"
            f"<td>{_e(line.description)}</td>"
            f"<td>{_e(period)}</td>"
            f'<td align="right">{_e(w.locale.toString(line.quantity))}</td>'
            f'<td align="right">{_e(w.money(line.unit_price))}</td>'
            f'<td align="right">{_e(w.money(line.amount))}</td>'
            "</tr>"
        )
    lines = (
        '<table class="lines" width="100%" cellspacing="0" cellpadding="5" '
        'style="margin-top: 18px; border-collapse: collapse;">'
        f"<thead><tr>{header_cells}</tr></thead>{''.join(body_rows)}</table>"
    )

    if doc.reverse_charge:
        vat_label = w.label("reverse_charge")
    else:
        vat_label = w.label("vat", rate=format_percent(doc.vat_rate, w.locale))
    totals_rows = [
        (w.label("subtotal"), w.money(doc.subtotal), ""),
        (vat_label, w.money(doc.vat), ""),
        (w.label("total"), w.money(doc.total), "font-weight: bold;"),
    ]
    if not doc.credit_applied.is_zero:
        totals_rows.append((w.label("credit_applied"), w.money(doc.credit_applied), ""))
    totals_rows.append((w.label("amount_paid"), w.money(doc.amount_paid), ""))
    totals = "".join(
        f'<tr><td align="right" style="{style}">{_e(k)}</td>'
        f'<td align="right" width="22%" style="{style}">{_e(v)}</td></tr>'
        for k, v, style in totals_rows
    )
    totals += (
        f'<tr class="due"><td align="right">{_e(w.label("amount_due"))}</td>'
        f'<td align="right">{_e(w.money(doc.amount_due))}</td></tr>'
    )
    totals_table = (
        '<table width="100%" cellspacing="0" cellpadding="4" style="margin-top: 10px;">'
        f"{totals}</table>"
    )

    notes = []
    if doc.status == "void":
        notes.append(f'<p class="void">{_e(w.label("void_mark"))}</p>')
        notes.append(f'<p class="note">{_e(w.label("status_void"))}</p>')
    elif doc.amount_due.is_positive:
        text = w.label(
            "status_open",
            amount=w.money(doc.amount_due),
            due_date=w.date(doc.due_date),
            number=doc.number,
        )
        notes.append(f'<p class="note">{_e(text)}</p>')
    else:
        notes.append(f'<p class="note">{_e(w.label("status_paid"))}</p>')
    if doc.disputed_at is not None:
        text = w.label(
            "disputed", date=w.date(doc.disputed_at.date()), note=doc.dispute_note or ""
        )
        notes.append(f'<p class="note">{_e(text)}</p>')

    return (
        f'<html><head><meta charset="utf-8"/><style>{_CSS}</style></head><body>'
        f"{head}{bill_to}{lines}{totals_table}"
        f'<div style="margin-top: 16px;">{"".join(notes)}</div>'
        "</body></html>"
    )


def render_invoice_pdf(
    invoice_view: InvoiceDocument,
    path_or_bytes: str | Path | IO[bytes] | None = None,
    language: str | None = None,
    *,
    translator: Translator | None = None,
    translations_dir: Path | None = None,
) -> bytes:
    """Print ``invoice_view`` as an A4 PDF in ``language`` (default: the invoice's).

    ``path_or_bytes``: a file path to write, a binary file object to write
    into, or None; the PDF's bytes are returned in every case. ``translator``
    overrides the one loaded for the language from ``translations_dir``.
    Needs a running ``QGuiApplication`` (or ``QApplication``).
    """
    if QGuiApplication.instance() is None:
        raise RuntimeError("render_invoice_pdf needs a QGuiApplication (fonts)")
    language = language or invoice_view.language
    if translator is None:
        translator = translator_for(language, translations_dir)

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            # QTextDocument.print_() adds its own 2 cm margin around an
            # unpaginated document (and the page number in it): the page margins.
            QMarginsF(0, 0, 0, 0),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setResolution(300)
    title = f"{translate(translator, INVOICE_CONTEXT, _LABELS['title'])} {invoice_view.number}"
    writer.setTitle(title)
    writer.setCreator("Billing Desktop")

    document = QTextDocument()
    font = QFont()
    font.setFamilies(["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"])
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSize(9)
    document.setDefaultFont(font)
    document.setHtml(invoice_html(invoice_view, language, translator))
    document.print_(writer)
    del writer  # finishes the PDF
    buffer.close()
    data = bytes(QByteArray(buffer.data()).data())

    if isinstance(path_or_bytes, str | Path):
        target = Path(path_or_bytes)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    elif path_or_bytes is not None:
        path_or_bytes.write(data)
    return data
