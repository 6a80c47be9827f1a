"""Customer documents: emails and invoice PDFs in the account's language.

The PDF checks read the text back with ``pdftotext`` (poppler-utils; skipped
when missing) and turn page 1 into a PNG with ``pdftoppm`` for a person to
look at. Translations: none ship yet, so a tiny Italian ``.qm`` is compiled
here from a ``.ts`` (``pyside6-lrelease``) and a fake translator checks which
language the renderer asks for.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from PySide6.QtCore import QCoreApplication, QLocale

from billing_desktop.documents import QtRenderer, render_invoice_pdf
from billing_desktop.documents.formatting import (
    country_name,
    format_date,
    format_percent,
    format_value,
)
from billing_desktop.documents.invoice_pdf import INVOICE_CONTEXT
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.services.documents_data import DEMO_SELLER, invoice_document
from billing_desktop.services.errors import NotFound
from billing_desktop.services.mail import (
    EMAIL_CONTEXT,
    SIGNATURE,
    EmailKind,
    queue_email,
    template_for,
)

NBSP = "\u00a0"
PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
LRELEASE = Path(sys.executable).with_name("pyside6-lrelease")


@pytest.fixture(autouse=True)
def _qt(qapp):
    """Fonts need a Q(Gui)Application; every test here has one."""
    return qapp


def pdf_text(path: Path) -> str:
    """The PDF's words in reading order, all white space (NBSP too) as single spaces."""
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(
        [PDFTOTEXT, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(out.split())


def pdf_pages(path: Path) -> int:
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    info = subprocess.run([pdfinfo, str(path)], capture_output=True, text=True, check=True)
    match = re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE)
    assert match, info.stdout
    assert re.search(r"^Page size:\s+595(\.\d+)? x 842(\.\d+)? pts \(A4\)", info.stdout, re.M)
    return int(match.group(1))


# --------------------------------------------------------------------------- invoices


def _add_invoice(db, account_id: int, **fields) -> int:
    from billing_desktop.store.models import Invoice, InvoiceLine

    lines = fields.pop("lines")
    values = {
        "number": "INV-2026-000042", "account_id": account_id, "kind": "order",
        "issue_date": date(2026, 4, 26), "due_date": date(2026, 5, 26),
        "period_start": date(2026, 4, 26), "period_end": date(2027, 4, 26),
        "currency": "EUR", "vat_rate_bp": 0, "vat_minor": 0, "reverse_charge": False,
        "credit_applied_minor": 0, "paid_minor": 0, "status": "open", "language": "it",
    }
    values.update(fields)
    with db.transaction() as session:
        invoice = Invoice(**values)
        for position, (kind, text, qty, unit, amount) in enumerate(lines, start=1):
            invoice.lines.append(
                InvoiceLine(
                    position=position, kind=kind, description=text, quantity=qty,
                    unit_price_minor=unit, amount_minor=amount,
                    period_start=values["period_start"], period_end=values["period_end"],
                )
            )
        session.add(invoice)
        session.flush()
        return invoice.id


@pytest.fixture
def corporate_invoice(ctx, make_account) -> int:
    """An Italian corporate invoice with VAT, a proration credit, account credit and a payment.

    Lines: 12 × 637,00 = 7.644,00; 12 × 97,00 = 1.164,00; credit −250,50.
    Subtotal 7.644,00 + 1.164,00 − 250,50 = 8.557,50; VAT 22 % = 1.882,65;
    total 10.440,15; credit applied 40,15; paid 400,00; due 10.440,15 − 40,15 − 400,00
    = 10.000,00.
    """
    from billing_desktop.store.models import Account, Contact

    acc = make_account(
        "Moretti Holding S.p.A.", type="corporate", address_line1="Corso Venezia 36",
        postal_code="20121", city="Milano", region="MI", vat_number="IT09010470632",
        payment_terms_days=30, po_number="PO-4500018342",
    )
    with ctx.db.transaction() as session:
        session.add(
            Contact(
                account=session.get(Account, acc), first_name="Federica", last_name="Moretti",
                email="federica@moretti.example", email_lower="federica@moretti.example",
                search_name="moretti federica", roles="billing_admin", is_billing_contact=True,
            )
        )
    return _add_invoice(
        ctx.db, acc,
        lines=[
            ("charge", "GoToAssist Remote Support v5 Premium", 12, 63700, 764400),
            ("addon", "Mobile device support", 12, 9700, 116400),
            ("proration_credit", "Unused time on Standard", 1, -25050, -25050),
        ],
        subtotal_minor=855750, vat_rate_bp=2200, vat_minor=188265, total_minor=1044015,
        credit_applied_minor=4015, paid_minor=40000, po_number="PO-4500018342",
        vat_number="IT09010470632",
    )


def test_invoice_document_holds_what_the_invoice_prints(ctx, corporate_invoice) -> None:
    doc = invoice_document(ctx, corporate_invoice)

    assert doc == invoice_document(ctx, "INV-2026-000042")  # by number too
    assert doc.number == "INV-2026-000042"
    assert (doc.language, doc.account_type, doc.po_number) == ("it", "corporate", "PO-4500018342")
    assert doc.payment_terms_days == 30
    assert doc.customer.name == "Moretti Holding S.p.A."
    assert doc.customer.address_lines == ("Corso Venezia 36", "20121 Milano (MI)")
    assert doc.customer.vat_number == "IT09010470632"
    assert doc.contact_name == "Federica Moretti"
    assert doc.seller == DEMO_SELLER
    assert doc.service_period == Period(date(2026, 4, 26), date(2027, 4, 26))
    assert [line.amount for line in doc.lines] == [
        Money("7644.00", "EUR"), Money("1164.00", "EUR"), Money("-250.50", "EUR")
    ]
    assert doc.subtotal == Money("8557.50", "EUR")
    assert (doc.vat_rate, doc.vat) == (Decimal("22"), Money("1882.65", "EUR"))
    assert doc.total == Money("10440.15", "EUR")
    assert doc.credit_applied == Money("40.15", "EUR")
    assert doc.amount_paid == Money("400.00", "EUR")
    assert doc.amount_due == Money("10000.00", "EUR")  # 10 440,15 − 40,15 − 400,00


def test_unknown_invoice_is_not_found(ctx) -> None:
    with pytest.raises(NotFound):
        invoice_document(ctx, 12345)


def test_invoice_pdf_shows_parties_lines_and_totals(ctx, corporate_invoice, tmp_path) -> None:
    path = tmp_path / "invoice.pdf"

    # the English sources (no translation in tmp_path); tests/documents/
    # test_shipped_languages.py checks the shipped languages
    data = render_invoice_pdf(
        invoice_document(ctx, corporate_invoice), path, translations_dir=tmp_path
    )

    assert path.read_bytes() == data
    assert data.startswith(b"%PDF") and len(data) > 1024
    text = pdf_text(path)
    for expected in (
        "INV-2026-000042",
        "Billing Desk Software Ltd.", "IE0000000X",  # seller
        "Moretti Holding S.p.A.", "Corso Venezia 36", "20121 Milano (MI)", "Italia",
        "IT09010470632", "PO-4500018342", "net 30 days",
        "26/04/2026", "26/05/2026",  # issue and due date, Italian order, 4-digit year
        "26/04/2026 – 25/04/2027",  # service period: first to last day of service
        "GoToAssist Remote Support v5 Premium", "Mobile device support",
        "637,00 €", "7644,00 €", "97,00 €", "1164,00 €", "-250,50 €",  # it_IT: no group < 10 000
        "8557,50 €", "VAT 22%", "1882,65 €", "10.440,15 €", "40,15 €", "400,00 €",
        "10.000,00 €",
        "Please pay 10.000,00 € by 26/05/2026, quoting invoice number INV-2026-000042.",
    ):
        assert expected in text, expected
    assert "Reverse charge" not in text
    # the column headings of SPEC §3
    for heading in ("Description", "Billing period", "Quantity", "Unit price", "Total"):
        assert heading in text


def test_reverse_charge_invoice_says_so(ctx, make_account, tmp_path) -> None:
    acc = make_account(
        "Schmidt Fernwartung GmbH", country="DE", language="de", vat_number="DE136695976"
    )
    invoice_id = _add_invoice(
        ctx.db, acc, number="INV-2026-000043", language="de", reverse_charge=True,
        status="paid", lines=[("charge", "LogMeIn Resolve Premium", 5, 5800, 29000)],
        subtotal_minor=29000, total_minor=29000, paid_minor=29000,
    )
    path = tmp_path / "rc.pdf"
    render_invoice_pdf(invoice_document(ctx, invoice_id), path, translations_dir=tmp_path)

    text = pdf_text(path)
    assert "Reverse charge — VAT to be accounted for by the recipient" in text
    assert "Deutschland" in text and "DE136695976" in text
    assert "26.04.2026" in text  # German date order
    assert "290,00 €" in text and "58,00 €" in text  # 5 × 58,00 = 290,00
    assert "Paid in full. Thank you." in text


def test_pdf_to_bytes_or_a_file_object(ctx, corporate_invoice) -> None:
    doc = invoice_document(ctx, corporate_invoice)
    sink = io.BytesIO()
    data = render_invoice_pdf(doc, sink)
    assert sink.getvalue() == data
    assert render_invoice_pdf(doc).startswith(b"%PDF")


def test_pdf_page_renders_to_an_image(ctx, corporate_invoice, tmp_path) -> None:
    """pdftoppm draws page 1 (the PNG is what a person checks the layout on)."""
    if PDFTOPPM is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pdf = tmp_path / "invoice.pdf"
    render_invoice_pdf(invoice_document(ctx, corporate_invoice), pdf)
    subprocess.run(
        [PDFTOPPM, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(tmp_path / "page")],
        check=True,
    )
    png = tmp_path / "page.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert pdf_pages(pdf) == 1


def test_long_invoices_continue_on_further_pages(ctx, make_account, tmp_path) -> None:
    acc = make_account("Many Lines B.V.", country="NL", language="nl")
    lines = [("charge", f"Product {n:02d}", 1, 1000, 1000) for n in range(1, 61)]
    invoice_id = _add_invoice(
        ctx.db, acc, number="INV-2026-000044", language="nl", lines=lines,
        subtotal_minor=60000, total_minor=60000,
    )
    path = tmp_path / "long.pdf"
    render_invoice_pdf(invoice_document(ctx, invoice_id), path)
    text = pdf_text(path)
    assert pdf_pages(path) == 2
    assert "Product 01" in text and "Product 60" in text
    assert "€ 600,00" in text  # 60 × 10,00; nl_NL puts the symbol first


def test_every_curated_invoice_renders(demo_ctx) -> None:
    """All languages and currencies of the demo data (EUR, GBP, USD) render without error."""
    numbers = [
        row[0]
        for row in demo_ctx.db.reader.rows(
            "SELECT MAX(number) FROM invoices GROUP BY account_id ORDER BY account_id"
        )
    ]
    assert len(numbers) >= 10
    for number in numbers:
        doc = invoice_document(demo_ctx, number)
        assert render_invoice_pdf(doc).startswith(b"%PDF"), number


# --------------------------------------------------------------------------- translations


def _compile_italian(tmp_path: Path, messages: dict[tuple[str, str], str]) -> Path:
    """Write billing_desktop_it.ts with ``messages`` and compile it to .qm in ``tmp_path``."""
    if not LRELEASE.exists():
        pytest.skip("pyside6-lrelease is not available")
    contexts: dict[str, list[str]] = {}
    for (context, source), translation in messages.items():
        contexts.setdefault(context, []).append(
            f"<message><source>{escape(source)}</source>"
            f"<translation>{escape(translation)}</translation></message>"
        )
    body = "".join(
        f"<context><name>{name}</name>{''.join(items)}</context>"
        for name, items in contexts.items()
    )
    ts = tmp_path / "billing_desktop_it.ts"
    ts.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.1" language="it_IT">'
        f"{body}</TS>",
        encoding="utf-8",
    )
    qm = tmp_path / "billing_desktop_it.qm"
    subprocess.run([str(LRELEASE), str(ts), "-qm", str(qm)], check=True, capture_output=True)
    assert qm.exists()
    return tmp_path


CANCEL_SUBJECT, CANCEL_BODY = template_for(EmailKind.CANCELLATION_CONFIRMED, {})
ITALIAN_EMAIL = {
    (EMAIL_CONTEXT, CANCEL_SUBJECT): "Il tuo abbonamento {product} è stato annullato",
    (EMAIL_CONTEXT, CANCEL_BODY): (
        "Buongiorno {contact_name},\n\nabbiamo annullato il rinnovo automatico del tuo "
        "abbonamento {product}. Resta attivo fino al {expiry_date}.\n"
    ),
    (EMAIL_CONTEXT, SIGNATURE): "\nCordiali saluti,\nIl team di fatturazione\n",
}


def _italian_account(ctx, make_account) -> int:
    from billing_desktop.store.models import Account, Contact

    acc = make_account("Rossi Assistenza S.r.l.")  # country IT, language it
    with ctx.db.transaction() as session:
        session.add(
            Contact(
                account=session.get(Account, acc), first_name="Marco", last_name="Rossi",
                email="marco@rossi.example", email_lower="marco@rossi.example",
                search_name="rossi marco", roles="billing_admin", is_billing_contact=True,
            )
        )
    return acc


def _queue(ctx, account_id: int, kind: EmailKind, params: dict) -> tuple[str, str, str]:
    from billing_desktop.store.models import Account

    with ctx.db.transaction() as session:
        email = queue_email(session, ctx, session.get(Account, account_id), kind, params)
        session.flush()
        return email.subject, email.body_text, email.language


def test_italian_account_gets_its_email_in_italian(ctx, make_account, tmp_path) -> None:
    folder = _compile_italian(tmp_path, ITALIAN_EMAIL)
    italian_ctx = dataclasses.replace(ctx, renderer=QtRenderer(translations_dir=folder))
    acc = _italian_account(ctx, make_account)

    subject, body, language = _queue(
        italian_ctx, acc, EmailKind.CANCELLATION_CONFIRMED,
        {"product": "GoToAssist Remote Support v4", "expiry_date": date(2026, 10, 13)},
    )

    assert language == "it"
    assert subject == "Il tuo abbonamento GoToAssist Remote Support v4 è stato annullato"
    assert body == (
        "Buongiorno Marco Rossi,\n\nabbiamo annullato il rinnovo automatico del tuo "
        "abbonamento GoToAssist Remote Support v4. Resta attivo fino al 13/10/2026.\n"
        "\nCordiali saluti,\nIl team di fatturazione\n"
    )
    # the UI's own translation is untouched: nothing was installed on the application
    assert QCoreApplication.translate(EMAIL_CONTEXT, CANCEL_SUBJECT) == CANCEL_SUBJECT


def test_untranslated_text_falls_back_to_english_with_italian_formats(
    ctx, make_account, tmp_path
) -> None:
    folder = _compile_italian(tmp_path, ITALIAN_EMAIL)  # no ORDER_PLACED translation
    italian_ctx = dataclasses.replace(ctx, renderer=QtRenderer(translations_dir=folder))
    acc = _italian_account(ctx, make_account)

    subject, body, _ = _queue(
        italian_ctx, acc, EmailKind.ORDER_PLACED,
        {
            "order_number": "ORD-2026-000007", "invoice_number": "INV-2026-000042",
            "total": Money("12345.67", "EUR"), "amount_due": Money("1234.56", "EUR"),
            "next_billing_date": date(2026, 5, 26),
            "summary": ["GoToAssist Remote Support v5 Premium × 7"],
        },
    )
    assert subject == "Your order ORD-2026-000007 is confirmed"
    assert f"Invoice INV-2026-000042: 12.345,67{NBSP}€ (amount due now: 1234,56{NBSP}€)." in body
    assert "Your next billing date is 26/05/2026." in body
    assert "GoToAssist Remote Support v5 Premium × 7" in body
    assert "Cordiali saluti," in body  # the signature is translated


class FakeTranslator:
    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def translate(self, context: str, source: str) -> str:
        self.asked.append((context, source))
        return self.table.get(source, "")


def test_renderer_asks_for_the_account_language(ctx, make_account) -> None:
    fake = FakeTranslator({"Your {product} trial has ended": "La prova di {product} è finita"})
    languages: list[str] = []

    def factory(language: str) -> FakeTranslator:
        languages.append(language)
        return fake

    renderer_ctx = dataclasses.replace(ctx, renderer=QtRenderer(translator_factory=factory))
    italian = _italian_account(ctx, make_account)
    dutch = make_account("Jansen B.V.", country="NL", language="nl")

    subject, body, _ = _queue(
        renderer_ctx, italian, EmailKind.TRIAL_ENDED,
        {"product": "GoTo Meeting", "trial_end": date(2026, 4, 20)},
    )
    _queue(renderer_ctx, dutch, EmailKind.TRIAL_ENDED, {"product": "GoTo Meeting"})

    assert languages == ["it", "nl"]
    assert subject == "La prova di GoTo Meeting è finita"
    assert "ended on 20/04/2026." in body  # untranslated body, Italian date
    assert all(context == EMAIL_CONTEXT for context, _ in fake.asked)


def test_invoice_pdf_in_italian_with_a_translation(ctx, corporate_invoice, tmp_path) -> None:
    folder = _compile_italian(
        tmp_path,
        {
            (INVOICE_CONTEXT, "Invoice"): "Fattura",
            (INVOICE_CONTEXT, "Amount due"): "Importo dovuto",
            (INVOICE_CONTEXT, "VAT {rate}"): "IVA {rate}",
        },
    )
    path = tmp_path / "fattura.pdf"
    render_invoice_pdf(invoice_document(ctx, corporate_invoice), path, translations_dir=folder)
    text = pdf_text(path)
    assert "Fattura" in text and "Importo dovuto" in text and "IVA 22%" in text
    assert "Subtotal" in text  # not translated in this small file: English source


def test_explicit_language_overrides_the_invoice_language(ctx, corporate_invoice, tmp_path):
    path = tmp_path / "en.pdf"
    render_invoice_pdf(invoice_document(ctx, corporate_invoice), path, "en")
    text = pdf_text(path)
    assert "€10,440.15" in text and "4/26/2026" in text
    assert "Italy" in text and "Italia" not in text  # the country named for the reader


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("language", "rate", "expected"),
    [
        ("it", Decimal("22"), "22%"),
        ("en", Decimal("23.00"), "23%"),
        ("de", Decimal("19"), f"19{NBSP}%"),
        ("nl", Decimal("21.5"), "21,5%"),
        ("fr", Decimal("20"), f"20{NBSP}%"),
    ],
)
def test_vat_rates_as_the_language_writes_them(language, rate, expected) -> None:
    assert format_percent(rate, QLocale(language)) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("it", "26/04/2026"), ("de", "26.04.2026"), ("en", "4/26/2026"), ("nl", "26-04-2026"),
     ("es", "26/4/2026"), ("fr", "26/04/2026")],
)
def test_document_dates_have_four_digit_years(language, expected) -> None:
    assert format_date(date(2026, 4, 26), QLocale(language)) == expected


def test_country_names_for_the_reader() -> None:
    assert country_name("IT", QLocale("it")) == "Italia"
    assert country_name("IT", QLocale("de")) == "Italien"  # de_IT exists in CLDR
    assert country_name("BE", QLocale("nl")) == "België"
    assert country_name("IE", QLocale("it")) == "Ireland"  # the country's own name
    assert country_name("XX", QLocale("it")) == "XX"


def test_values_are_formatted_for_the_locale() -> None:
    it = QLocale("it")
    assert format_value(Money("1234.56", "EUR"), it) == f"1234,56{NBSP}€"
    assert format_value(Money("-12345.67", "EUR"), it) == f"-12.345,67{NBSP}€"
    assert format_value(Money("1234.56", "GBP"), QLocale("en")) == "£1,234.56"
    assert format_value(Period(date(2026, 1, 31), date(2026, 2, 28)), it) == (
        "31/01/2026 – 27/02/2026"
    )
    assert format_value(datetime(2026, 4, 26, 9, 5), it) == "26/04/2026 09:05"
    assert format_value(Decimal("-1234.5"), QLocale("de")) == "-1.234,5"  # de groups 4 digits
    assert format_value(Decimal("1234.5"), it) == "1234,5"  # it groups from 5 digits
    assert format_value(Decimal("12345.5"), it) == "12.345,5"
    assert format_value(12, it) == "12"


def test_documents_import_no_widgets() -> None:
    script = (
        "import sys, billing_desktop.documents\n"
        "print(any(m.startswith('PySide6.QtWidgets') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
