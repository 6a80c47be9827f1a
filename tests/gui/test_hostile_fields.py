"""Hostile values typed into the wizard and form fields (issue 9, item 3): each gets the
service's translated validation message where the user looks, the button that would
write stays disabled (or the service refuses), and nothing is written.

ASCII goes in by key clicks; non-ASCII text (RTL, emoji, other digits) is set with
``setText``/``setPlainText`` (PySide6 6.11 aborts on non-ASCII key clicks). The
service-level counterpart, driven by Hypothesis, is ``tests/faults/test_hostile_input.py``.
"""

from __future__ import annotations

import pytest
from helpers import account_id, answered_message_boxes, dump, sub_id
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QWizard

from billing_desktop.ui.account.invoices import DisputeDialog, InvoicesTab
from billing_desktop.ui.account.page import AccountPage
from billing_desktop.ui.dialogs.payment_method_dialog import PaymentMethodDialog
from billing_desktop.ui.quick_search import QuickSearchDialog
from billing_desktop.ui.wizards.cancellation import CancellationWizard
from billing_desktop.ui.wizards.checkout import CheckoutWizard

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (raise|grabbing|propagateSizeHints)"
)

SQL = "'; DROP TABLE accounts; --"
RTL_EMOJI = "\u202eשלום 😀 مرحبا\u202c"
NEXT = QWizard.WizardButton.NextButton
COMMIT = QWizard.WizardButton.CommitButton


def _retype(qtbot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


# --------------------------------------------------------------------------- the Overview


@pytest.fixture
def overview(qtbot, demo_ctx):
    page = AccountPage(demo_ctx, account_id(demo_ctx.db, "A-100005"))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    qtbot.waitExposed(page)
    return page.overview_tab


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("company_name", "   ", "Enter the company name."),
        ("vat_number", SQL, "is not a valid VAT number for NL"),
        ("vat_number", "NL%_%", "is not a valid VAT number for NL"),
        ("postal_code", "\\", None),  # postal codes are free text: accepted
    ],
)
def test_overview_fields_refuse_hostile_text_inline(
    qtbot, overview, demo_ctx, field: str, typed: str, message: str | None
) -> None:
    before = dump(demo_ctx.db)
    _retype(qtbot, overview.edits[field], typed)
    error = overview.error_labels[field]
    if message is None:
        assert error.isHidden() and overview.save_button.isEnabled()
        return
    assert error.isVisible() and message in error.text()
    assert not overview.save_button.isEnabled()
    QTest.keyClick(overview.edits[field], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dump(demo_ctx.db) == before


def test_overview_caps_pasted_text_and_keeps_unicode_as_typed(qtbot, overview, demo_ctx) -> None:
    """A 10 000-character paste stops at the column's size; RTL text and emoji are saved
    exactly as typed."""
    city = overview.edits["city"]
    city.setText("x" * 10_000)
    assert len(city.text()) == 100
    city.setText(RTL_EMOJI)
    assert overview.error_labels["city"].isHidden()
    qtbot.mouseClick(overview.save_button, Qt.MouseButton.LeftButton)
    assert demo_ctx.db.reader.scalar(
        "SELECT city FROM accounts WHERE account_number = 'A-100005'"
    ) == RTL_EMOJI.strip()
    assert not overview.save_button.isEnabled()


# --------------------------------------------------------------------------- payment methods


@pytest.mark.parametrize(
    ("kind", "typed", "kept", "shown"),
    [
        ("card", "4111-1111-1111-1112", "4111-1111-1111-1112",
         "The card number is not valid. Check the digits."),
        # the field takes digits, spaces and dashes only: the rest never arrives
        ("card", "1e999", "1999", "Keep typing the card number."),
        ("card", SQL, "    --", ""),
        ("bank_account", "NL91 ABNA 0417 1643 01", "NL91 ABNA 0417 1643 01",
         "The IBAN is not valid. Check the digits."),
        ("bank_account", "NL%_%' OR '1'='1", "NL OR 11", "Keep typing the IBAN."),
    ],
)  # fmt: skip
def test_card_and_iban_fields(
    qtbot, demo_ctx, kind: str, typed: str, kept: str, shown: str
) -> None:
    before = dump(demo_ctx.db)
    dialog = PaymentMethodDialog(demo_ctx, account_id(demo_ctx.db, "A-100005"), kind)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.holder_edit, "Anna")
    qtbot.keyClicks(dialog.number_edit, typed)
    QTest.keyClick(dialog.number_edit, Qt.Key.Key_Tab)
    assert dialog.number_edit.text() == kept
    assert dialog.number_message.text() == shown
    assert not dialog.ok_button.isEnabled()
    QTest.keyClick(dialog, Qt.Key.Key_Return)  # Enter: OK is disabled, nothing happens
    assert dialog.isVisible()
    dialog.number_edit.setText("١٢٣٤ ٥٦٧٨ ٩٠١٢ ٣٤٥٦ ٧٨")  # other digits, pasted
    assert dialog.number_message.text() == (
        "The card number is not valid. Check the digits."
        if kind == "card"
        else "The IBAN does not have a valid format."
    )
    assert not dialog.ok_button.isEnabled()
    dialog.reject()
    assert dump(demo_ctx.db) == before


# --------------------------------------------------------------------------- the checkout wizard


def test_checkout_vat_field_takes_hostile_text_and_places_nothing(qtbot, demo_ctx) -> None:
    db = demo_ctx.db
    before = dump(db)
    wizard = CheckoutWizard(demo_ctx, "A-100003", subscription_id=sub_id(db, "A-100003",
                                                                         "gotoassist_rs_v5"))
    qtbot.addWidget(wizard)
    wizard.open()
    qtbot.waitExposed(wizard)
    qtbot.mouseClick(wizard.button(NEXT), Qt.MouseButton.LeftButton)  # Checkout
    qtbot.mouseClick(wizard.button(NEXT), Qt.MouseButton.LeftButton)  # review → payment
    payment = wizard.payment_page
    assert wizard.currentPage() is payment
    fields = payment.card_fields
    qtbot.keyClicks(fields.number_edit, "5555 5555 5555 4444")
    fields.month_combo.setCurrentIndex(fields.month_combo.findData(12))
    fields.year_combo.setCurrentIndex(fields.year_combo.findData(2030))
    qtbot.keyClicks(fields.holder_edit, "Antonio Greco")

    for typed in (SQL, "IT%_%", "IT" + "9" * 40, "-1e999"):
        _retype(qtbot, payment.vat_edit, typed)
        payment.check_vat()
        assert "is not a valid VAT number" in payment.vat_message.text()
        assert not wizard.button(COMMIT).isEnabled()
    payment.vat_edit.setText(RTL_EMOJI)
    payment.check_vat()
    assert payment.vat_message.text() and not wizard.button(COMMIT).isEnabled()
    assert dump(db) == before


def test_checkout_licence_count_stays_in_range(qtbot, demo_ctx) -> None:
    db = demo_ctx.db
    wizard = CheckoutWizard(demo_ctx, "A-100002", subscription_id=sub_id(db, "A-100002",
                                                                         "gotoassist_rs_v5"))
    qtbot.addWidget(wizard)
    wizard.open()
    qtbot.waitExposed(wizard)
    spin = wizard.plan_page.licences_spin
    for typed in ("-5", "0", "1e999", "99999999999999999999", SQL):
        spin.setFocus()
        spin.selectAll()
        qtbot.keyClicks(spin, typed)
        QTest.keyClick(spin, Qt.Key.Key_Tab)
        assert spin.minimum() <= spin.value() <= spin.maximum()
        assert spin.minimum() >= 1


# --------------------------------------------------------------------------- cancellation


def test_cancellation_comment_of_10000_characters_is_refused_inline(qtbot, demo_ctx) -> None:
    db = demo_ctx.db
    before = dump(db)
    wizard = CancellationWizard(
        demo_ctx, account_id(db, "A-100001"), sub_id(db, "A-100001", "gotoassist_rs_v4")
    )
    qtbot.addWidget(wizard)
    wizard.open()
    qtbot.waitExposed(wizard)
    page = wizard.confirm_page
    combo = page.reason_combo
    combo.setFocus()
    for _ in range(combo.count()):
        if combo.currentData() == "other":
            break
        QTest.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentData() == "other"
    page.details_edit.setPlainText("x" * 10_000)
    assert page.hint_label.text() == "The reason may be at most 2000 characters long."
    assert not wizard.button(COMMIT).isEnabled()
    page.details_edit.setPlainText("   \t\n ")
    assert page.hint_label.text() == "Describe the reason for the cancellation."
    assert not wizard.button(COMMIT).isEnabled()
    page.details_edit.setPlainText(RTL_EMOJI)  # a real comment, in any script
    assert page.hint_label.isHidden() and wizard.button(COMMIT).isEnabled()
    wizard.reject()
    assert dump(db) == before


# --------------------------------------------------------------------------- disputes


def test_a_dispute_note_too_long_is_refused_and_kept(qtbot, demo_ctx) -> None:
    db = demo_ctx.db
    before = dump(db)
    tab = InvoicesTab(demo_ctx, account_id(db, "A-100005"))
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.mouseClick(tab.dispute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in tab.findChildren(DisputeDialog)))
    dialog = next(d for d in tab.findChildren(DisputeDialog) if d.isVisible())
    note = RTL_EMOJI * 500
    dialog.note_edit.setPlainText(note)
    with answered_message_boxes() as texts:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(texts))
    assert texts == ["The dispute note is longer than 2000 characters."]
    assert dump(db) == before
    qtbot.mouseClick(tab.dispute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in tab.findChildren(DisputeDialog)))
    again = next(d for d in tab.findChildren(DisputeDialog) if d.isVisible())
    assert again.note() == note  # kept for correcting
    again.reject()


# --------------------------------------------------------------------------- the quick search


def test_quick_search_takes_any_text(qtbot, demo_ctx) -> None:
    before = dump(demo_ctx.db)
    dialog = QuickSearchDialog(demo_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for typed in (SQL, "%", "_", "\\", '"', "A-1000%"):
        _retype(qtbot, dialog.edit, typed)
        dialog.search_now()
        assert dialog.model.rowCount() == 0
        assert dialog.status_label.text() == f"No account matches “{typed.strip()}”."
    for pasted in (RTL_EMOJI, "x" * 10_000, "١٠٠٠٠٥"):
        dialog.edit.setText(pasted)
        dialog.search_now()
        assert dialog.model.rowCount() == 0
    _retype(qtbot, dialog.edit, "A-100005")
    dialog.search_now()
    assert [h.account_number for h in dialog.model.hits()] == ["A-100005"]
    assert dump(demo_ctx.db) == before
