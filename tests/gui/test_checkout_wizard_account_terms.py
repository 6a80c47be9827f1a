"""Another operator changes the account's pricing data before Place order (team mode).

The review page ("Complete transaction") priced the order on the account's VAT
number, country and credit; Bob, on another instance of the application,
removes the VAT number or records a payment that becomes account credit.
Alice's **Place order** is refused with who and when, the page and every input
stay, nothing is written; going back reads the data again and the order then
placed is exactly what the new review showed — from the review page and from
the payment page.

Real widgets, clicks and keys; then the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from helpers import as_operator, dump, on_another_instance, sub_id
from PySide6.QtCore import QLocale, QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QRadioButton, QWizard

from billing_desktop.documents.formatting import format_value
from billing_desktop.domain.money import Money
from billing_desktop.services import payments
from billing_desktop.services.accounts import AccountChanges, account_overview, update_account
from billing_desktop.services.context import AppContext
from billing_desktop.ui.wizards.checkout import CheckoutWizard

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing)")

BOB_AT = datetime(2026, 4, 26, 10, 20)
NEXT = QWizard.WizardButton.NextButton
BACK = QWizard.WizardButton.BackButton
COMMIT = QWizard.WizardButton.CommitButton


@pytest.fixture
def bob(demo_ctx: AppContext) -> Iterator[AppContext]:
    """Support operator Bob Keller, on another instance of the application (10:20)."""
    with on_another_instance(as_operator(demo_ctx, "Bob Keller", BOB_AT)) as other:
        yield other


def changed_by_bob(what: str) -> str:
    at = format_value(BOB_AT, QLocale())
    return (
        f"{what} was changed by Bob Keller at {at} — reload to see the current data. "
        "Your input is kept."
    )


def click(qtbot, button: QAbstractButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    if isinstance(button, QRadioButton | QCheckBox):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    else:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def press(qtbot, wizard: QWizard, which: QWizard.WizardButton) -> None:
    click(qtbot, wizard.button(which))


def set_licences(qtbot, wizard: CheckoutWizard, n: int) -> None:
    spin = wizard.plan_page.licences_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(n))
    qtbot.keyClick(spin, Qt.Key.Key_Tab)
    assert spin.value() == n


def invoice(db, number: str) -> tuple:
    return db.reader.rows(
        "SELECT vat_rate_bp, vat_minor, reverse_charge, total_minor, credit_applied_minor,"
        " paid_minor FROM invoices WHERE number = :n",
        {"n": number},
    )[0]


@pytest.fixture
def open_checkout(qtbot) -> Callable[..., CheckoutWizard]:
    def make(ctx, account: str, product: str) -> CheckoutWizard:
        wizard = CheckoutWizard(ctx, account, subscription_id=sub_id(ctx.db, account, product))
        qtbot.addWidget(wizard)
        wizard.open()
        qtbot.waitExposed(wizard)
        return wizard

    return make


# --------------------------------------------------------------------------- review page


def test_place_order_after_another_operator_removed_the_vat_number(
    demo_ctx, db, bob, open_checkout, qtbot
) -> None:
    """A-100002 (IT, reverse charge): Alice reviews 10 → 8 licences with no VAT; Bob
    removes the account's VAT number: the order would now carry 22 % Italian VAT."""
    wizard = open_checkout(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 8)
    press(qtbot, wizard, NEXT)  # Checkout
    review = wizard.review_page
    assert review.totals.value("vat") == "€0.00 — reverse charge (VAT number IT05482200010)"
    assert review.totals.value("total") == "€16.00"

    seen = account_overview(bob, "A-100002")
    update_account(bob, "A-100002", AccountChanges(vat_number=""), expected_version=seen.version)
    before = dump(db)
    press(qtbot, wizard, COMMIT)  # Place order
    assert wizard.currentId() == CheckoutWizard.REVIEW  # the page stays
    assert review.error_shown() == "\n".join(
        (
            changed_by_bob("A-100002"),
            "Press Edit order to read the current data and review the order again.",
        )
    )
    assert dump(db) == before  # nothing written
    # what Alice accepted is still shown, and can be placed again once read again
    assert review.items.value("licences") == "8 (was 10)"
    assert review.totals.value("total") == "€16.00"
    assert wizard.button(COMMIT).isEnabled()

    press(qtbot, wizard, BACK)  # Edit order: her choice stays
    assert wizard.currentId() == CheckoutWizard.PLAN
    assert wizard.plan_page.licences_spin.value() == 8
    press(qtbot, wizard, NEXT)
    assert review.error_shown() == ""
    assert ("VAT (22%):", "€3.52") in review.totals.rows()
    assert review.totals.value("total") == "€19.52"
    assert review.totals.value("amount_due") == "€19.52"
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    result = wizard.state.result
    assert result is not None and result.total == wizard.state.review.total
    assert invoice(db, result.invoice_number) == (2200, 352, False, 1952, 0, 1952)


# --------------------------------------------------------------------------- payment page


def test_place_order_on_the_payment_page_after_credit_was_added(
    demo_ctx, db, bob, open_checkout, qtbot
) -> None:
    """A-100007 (v4 Standard → Premium, the payment page follows): Bob records a € 50.00
    payment the account does not owe, which becomes account credit. Back from the
    payment page reviews the order again with the credit applied; the payment choice
    is kept."""
    wizard = open_checkout(demo_ctx, "A-100007", "gotoassist_rs_v4")
    click(qtbot, wizard.plan_page.tier_buttons["premium"])
    press(qtbot, wizard, NEXT)  # Checkout
    review = wizard.review_page
    stale = wizard.state.review
    assert review.totals.value("credit_applied") == "€0.00"
    press(qtbot, wizard, NEXT)  # Checkout → payment
    payment = wizard.payment_page
    assert wizard.currentId() == CheckoutWizard.PAYMENT
    assert payment.on_file_radio.isChecked()

    payments.record_payment(bob, "A-100007", amount=Money("50.00", "EUR"), reference="Wire")
    before = dump(db)
    press(qtbot, wizard, COMMIT)  # Place order
    assert wizard.currentId() == CheckoutWizard.PAYMENT
    assert payment.error_shown() == "\n".join(
        (
            changed_by_bob("A-100007"),
            "Press Back to review the order again with the current data.",
        )
    )
    assert dump(db) == before

    press(qtbot, wizard, BACK)  # the review, read again
    assert wizard.currentId() == CheckoutWizard.REVIEW
    assert review.error_shown() == ""
    fresh = wizard.state.review
    assert fresh.total == stale.total  # same order, same VAT…
    assert review.totals.value("credit_applied") == "(€50.00)"  # …now with the credit
    assert fresh.amount_due == stale.amount_due - Money("50.00", "EUR")
    press(qtbot, wizard, NEXT)
    assert payment.on_file_radio.isChecked()
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    result = wizard.state.result
    assert (result.total, result.credit_applied, result.amount_paid) == (
        fresh.total, Money("50.00", "EUR"), fresh.amount_due
    )  # fmt: skip
    assert invoice(db, result.invoice_number)[3:] == (
        fresh.total.minor, 5000, fresh.amount_due.minor
    )  # fmt: skip
    assert db.reader.scalar(
        "SELECT credit_balance_minor FROM accounts WHERE account_number = 'A-100007'"
    ) == 0


def test_the_card_on_file_that_was_shown_is_the_one_charged(
    demo_ctx, db, bob, open_checkout, qtbot
) -> None:
    """A-100007 on the payment page, "Use the payment method on file: <card>" chosen;
    Bob adds a new card and makes it the default: Place order charges the card the page
    named, not Bob's."""
    wizard = open_checkout(demo_ctx, "A-100007", "gotoassist_rs_v4")
    click(qtbot, wizard.plan_page.tier_buttons["premium"])
    press(qtbot, wizard, NEXT)  # Checkout
    shown = wizard.state.review
    assert shown is not None and shown.payment_method_id_on_file is not None
    press(qtbot, wizard, NEXT)  # Checkout → payment
    payment = wizard.payment_page
    assert payment.on_file_radio.isChecked()
    assert shown.payment_method_on_file in payment.on_file_radio.text()

    new = payments.add_card(
        bob, "A-100007", number="5555555555554444", exp_month=12, exp_year=2030,
        holder_name="Bob's customer", make_default=True,
    )  # fmt: skip
    press(qtbot, wizard, COMMIT)  # Place order
    assert wizard.currentId() == CheckoutWizard.RESULT
    result = wizard.state.result
    charged = db.reader.rows(
        "SELECT payment_method_id FROM payments WHERE invoice_id = "
        "(SELECT id FROM invoices WHERE number = :n)",
        {"n": result.invoice_number},
    )
    assert charged == [(shown.payment_method_id_on_file,)]
    assert new.id != shown.payment_method_id_on_file
