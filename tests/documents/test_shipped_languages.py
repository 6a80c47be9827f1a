"""Customer documents in the account's language, with the shipped translations (issue 6).

The interface stays English while an Italian, a Dutch and a Spanish account
get their invoice PDF and their order email in their own language: the
documents load a translator of their own, the UI's is untouched.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication

from billing_desktop.documents import QtRenderer, render_invoice_pdf
from billing_desktop.services.documents_data import invoice_document
from billing_desktop.services.mail import EmailKind, queue_email, template_for

ROOT = Path(__file__).resolve().parents[2]
PDFTOTEXT = shutil.which("pdftotext")

#: (account, language) of the curated demo data
ACCOUNTS = [("A-100001", "it"), ("A-100005", "nl"), ("A-100008", "es")]


def shipped_translation(language: str, context: str, source: str) -> str:
    """What the shipped .ts file says for ``source``."""
    tree = ET.parse(ROOT / "translations" / f"billing_desktop_{language}.ts")
    for ctx in tree.getroot().iter("context"):
        if ctx.findtext("name") != context:
            continue
        for message in ctx.iter("message"):
            if message.findtext("source") == source:
                return message.findtext("translation") or ""
    raise AssertionError(f"{source!r} is not in the {language} translation")


def _account_id(ctx, number: str) -> int:
    return int(
        ctx.db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})
    )


@pytest.mark.parametrize(("number", "language"), ACCOUNTS)
def test_invoice_pdf_in_the_account_language(
    qapp, demo_ctx, shipped_qm, tmp_path, number, language
) -> None:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    invoice = demo_ctx.db.reader.scalar(
        "SELECT max(number) FROM invoices i JOIN accounts a ON a.id = i.account_id "
        "WHERE a.account_number = :n",
        {"n": number},
    )
    pdf = tmp_path / f"{number}.pdf"
    render_invoice_pdf(invoice_document(demo_ctx, invoice), pdf, translations_dir=shipped_qm)
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for source in ("Invoice number", "Due date"):
        word = shipped_translation(language, "Invoice", source)
        assert word and word != source
        assert word in text, (language, source, word)
        assert source not in text
    # the interface is still English
    assert QCoreApplication.translate("Invoice", "Invoice number") == "Invoice number"


@pytest.mark.parametrize(("number", "language"), ACCOUNTS)
def test_order_email_in_the_account_language(demo_ctx, shipped_qm, number, language) -> None:
    from billing_desktop.store.models import Account

    ctx = dataclasses.replace(demo_ctx, renderer=QtRenderer(translations_dir=shipped_qm))
    subject_source, _ = template_for(EmailKind.ORDER_PLACED, {})
    with ctx.db.transaction() as session:
        email = queue_email(
            session,
            ctx,
            session.get(Account, _account_id(ctx, number)),
            EmailKind.ORDER_PLACED,
            {"order_number": "ORD-2026-000042"},
        )
        session.flush()
        subject, body, sent_language = email.subject, email.body_text, email.language
    expected = shipped_translation(language, "Email", subject_source)
    assert sent_language == language
    assert expected and expected != subject_source
    assert subject == expected.replace("{order_number}", "ORD-2026-000042")
    assert "Your order" not in body
    assert QCoreApplication.translate("Email", subject_source) == subject_source
