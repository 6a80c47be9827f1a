"""Another operator changes what a wizard shows before its final click (issue 8, item 3).

Checkout (articles 001 and 004): the review page ("Complete transaction") showed
the amounts; Bob, on another instance of the application, changes the
subscription; Alice's **Place order** is refused with who and when, the page
and every input stay, nothing is written. Going back reads the data again and
the order then placed is exactly what the new review showed — straight from
the plan page, through the cart, and from the payment page. The same when Bob
changes the account's own pricing data (VAT number, credit); and the card on
file the payment page named is the one charged even if Bob changes the default.

Assisted cancellation (article 002): "Unassign all" sends the versions of the
checklist shown; after Bob's change it is refused, the checklist is read
again and what was entered is kept.

Real widgets, clicks and keys; then the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from helpers import as_operator, count, dump, on_another_instance, sub_id
from PySide6.QtCore import QLocale, QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QMessageBox, QRadioButton, QWizard

from billing_desktop.documents.formatting import format_value
from billing_desktop.domain.money import Money
from billing_desktop.services import licences, payments
from billing_desktop.services.accounts import AccountChanges, account_overview, update_account
from billing_desktop.services.cart import CartChange
from billing_desktop.services.checkout import place_order
from billing_desktop.services.context import AppContext
from billing_desktop.ui.wizards.assisted import AssistedCancellationWizard
from billing_desktop.ui.wizards.checkout import CheckoutWizard

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing)")

BOB_AT = datetime(2026, 4, 26, 10, 20)
NEXT = QWizard.WizardButton.NextButton
BACK = QWizard.WizardButton.BackButton
COMMIT = QWizard.WizardButton.CommitButton
EDIT_ORDER_HINT = "Press Edit order to read the current data and review the order again."


# --------------------------------------------------------------------------- helpers


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


def licence_count(db, sid: int) -> int:
    return db.reader.scalar("SELECT licence_count FROM subscriptions WHERE id = :id", {"id": sid})


def invoice_total(db, number: str) -> int:
    return db.reader.scalar("SELECT total_minor FROM invoices WHERE number = :n", {"n": number})


def cart_items(db, account: str) -> int:
    return db.reader.scalar(
        "SELECT COUNT(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id"
        " JOIN accounts a ON a.id = c.account_id WHERE a.account_number = :a",
        {"a": account},
    )


@pytest.fixture
def open_checkout(qtbot) -> Callable[..., CheckoutWizard]:
    def make(ctx, account: str, product: str) -> CheckoutWizard:
        wizard = CheckoutWizard(ctx, account, subscription_id=sub_id(ctx.db, account, product))
        qtbot.addWidget(wizard)
        wizard.open()
        qtbot.waitExposed(wizard)
        return wizard

    return make


def bob_orders(bob: AppContext, account: str, change: CartChange) -> None:
    """Bob places an order for the same subscription straight from his plan page."""
    place_order(bob, account, idempotency_key=f"bob-{account}", items=[change])


# --------------------------------------------------------------------------- checkout


def test_place_order_after_another_operator_changed_the_subscription(
    demo_ctx, db, bob, open_checkout, qtbot
) -> None:
    """A-100002 (v5 Standard, 10 licences): Alice reviews 10 → 8; Bob makes it 12."""
    sid = sub_id(db, "A-100002", "gotoassist_rs_v5")
    wizard = open_checkout(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 8)
    press(qtbot, wizard, NEXT)  # Checkout: the change is not stored
    review = wizard.review_page
    assert review.items.value("licences") == "8 (was 10)"
    stale_total = review.totals.value("total")

    bob_orders(bob, "A-100002", CartChange.change_licences(sid, 12))
    orders = count(db, "orders")
    press(qtbot, wizard, COMMIT)  # Place order
    assert wizard.currentId() == CheckoutWizard.REVIEW  # the page stays
    assert review.error_shown() == "\n".join(
        (changed_by_bob("GoToAssist Remote Support v5"), EDIT_ORDER_HINT)
    )
    assert count(db, "orders") == orders and licence_count(db, sid) == 12  # nothing written
    assert review.items.value("licences") == "8 (was 10)"  # what Alice accepted, still shown
    assert wizard.button(COMMIT).isEnabled()

    # Edit order reads the subscription again; Alice's choice stays
    press(qtbot, wizard, BACK)
    assert wizard.currentId() == CheckoutWizard.PLAN
    plan = wizard.plan_page
    assert plan.licences_spin.value() == 8
    assert plan.summary.value("licences") == "12 → 8"
    press(qtbot, wizard, NEXT)
    assert review.items.value("licences") == "8 (was 12)"
    assert review.error_shown() == ""
    fresh_total = review.totals.value("total")
    assert fresh_total != stale_total
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert licence_count(db, sid) == 8
    result = wizard.state.result
    assert result is not None and result.total == wizard.state.review.total
    assert invoice_total(db, result.invoice_number) == wizard.state.review.total.minor


def test_edit_order_follows_what_the_user_did_not_change(
    demo_ctx, db, bob, open_checkout, qtbot
) -> None:
    """Alice changes only the licences (10 → 8); Bob moves the plan to Premium. Back on
    the plan page the tier follows Bob's change (Alice left it as it was: no downgrade
    is proposed), the licences stay Alice's choice."""
    sid = sub_id(db, "A-100002", "gotoassist_rs_v5")
    wizard = open_checkout(demo_ctx, "A-100002", "gotoassist_rs_v5")
    plan = wizard.plan_page
    assert plan.tier_buttons["standard"].text().endswith("(current plan)")
    set_licences(qtbot, wizard, 8)
    press(qtbot, wizard, NEXT)
    bob_orders(bob, "A-100002", CartChange.change_tier(sid, "premium"))
    press(qtbot, wizard, COMMIT)
    assert wizard.review_page.error_shown().startswith(
        changed_by_bob("GoToAssist Remote Support v5")
    )

    press(qtbot, wizard, BACK)  # Edit order
    assert plan.tier_buttons["premium"].isChecked()
    assert plan.tier_buttons["premium"].text().endswith("(current plan)")
    assert not plan.tier_buttons["standard"].text().endswith("(current plan)")
    assert plan.licences_spin.value() == 8
    assert plan.summary.value("plan") == "Premium"
    assert plan.summary.value("licences") == "10 → 8"
    assert plan.error_shown() == "" and not plan.tier_message.isVisible()
    press(qtbot, wizard, NEXT)
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert db.reader.rows(
        "SELECT pl.code, s.licence_count FROM subscriptions s JOIN plans pl"
        " ON pl.id = s.plan_id WHERE s.id = :id",
        {"id": sid},
    ) == [("premium", 8)]


def test_checkout_through_the_cart_after_another_operator_changed_the_subscription(
    demo_ctx, db, bob, open_checkout, qtbot
) -> None:
    """The cart's version does not move when Bob changes the subscription in it: the
    review's versions catch it, the cart is kept, Edit order shows it read again."""
    sid = sub_id(db, "A-100002", "gotoassist_rs_v5")
    wizard = open_checkout(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 8)
    click(qtbot, wizard.plan_page.add_to_cart_button)
    assert wizard.currentId() == CheckoutWizard.CART
    cart_page = wizard.cart_page
    assert "8 licence(s) (was 10)" in cart_page.list.item(0).text()
    press(qtbot, wizard, NEXT)  # Checkout
    review = wizard.review_page
    assert review.items.value("licences") == "8 (was 10)"

    bob_orders(bob, "A-100002", CartChange.change_licences(sid, 12))
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.REVIEW
    assert review.error_shown().startswith(changed_by_bob("GoToAssist Remote Support v5"))
    assert cart_items(db, "A-100002") == 1 and licence_count(db, sid) == 12

    press(qtbot, wizard, BACK)  # Edit order: the cart, read again
    assert wizard.currentId() == CheckoutWizard.CART
    assert "8 licence(s) (was 12)" in cart_page.list.item(0).text()
    press(qtbot, wizard, NEXT)
    assert review.items.value("licences") == "8 (was 12)"
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert licence_count(db, sid) == 8 and cart_items(db, "A-100002") == 0
    assert wizard.state.result.total == wizard.state.review.total


def test_place_order_on_the_payment_page_after_another_operator_changed_the_subscription(
    demo_ctx, db, bob, open_checkout, qtbot
) -> None:
    """A-100007 (v4 Standard, 3 licences): Premium costs more, the payment page follows.
    Bob adds a licence; Back from the payment page reviews the order again; the payment
    choice is kept."""
    sid = sub_id(db, "A-100007", "gotoassist_rs_v4")
    wizard = open_checkout(demo_ctx, "A-100007", "gotoassist_rs_v4")
    click(qtbot, wizard.plan_page.tier_buttons["premium"])
    press(qtbot, wizard, NEXT)  # Checkout
    review = wizard.review_page
    assert review.items.value("licences") == "3"
    press(qtbot, wizard, NEXT)  # Checkout → payment
    payment = wizard.payment_page
    assert wizard.currentId() == CheckoutWizard.PAYMENT
    assert payment.on_file_radio.isChecked()

    bob_orders(bob, "A-100007", CartChange.change_licences(sid, 4))
    orders = count(db, "orders")
    press(qtbot, wizard, COMMIT)  # Place order
    assert wizard.currentId() == CheckoutWizard.PAYMENT
    assert payment.error_shown() == "\n".join(
        (
            changed_by_bob("GoToAssist Remote Support v4"),
            "Press Back to review the order again with the current data.",
        )
    )
    assert count(db, "orders") == orders

    press(qtbot, wizard, BACK)  # the review, read again
    assert wizard.currentId() == CheckoutWizard.REVIEW
    assert review.items.value("licences") == "4"
    assert review.error_shown() == ""
    press(qtbot, wizard, NEXT)
    assert payment.on_file_radio.isChecked()
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert db.reader.rows(
        "SELECT pl.code, s.licence_count FROM subscriptions s JOIN plans pl"
        " ON pl.id = s.plan_id WHERE s.id = :id",
        {"id": sid},
    ) == [("premium", 4)]
    assert wizard.state.result.total == wizard.state.review.total


# --------------------------------------------------------------------------- assisted cancellation

A100006 = {
    "account_id": "A-100006",
    "billing_admin_email": "fleur.jansen@bakkerjansen.example",
    "last4": "4417",
    "billing_address": "Waalhaven Oostzijde 85",
    "postal_code": "3087 BM",
}


def _next_button(wizard: QWizard) -> QAbstractButton:
    page = wizard.currentPage()
    if page is not None and page.isCommitPage():
        return wizard.button(COMMIT)
    return wizard.button(NEXT)


def _go_next(qtbot, wizard: QWizard, expected: int) -> None:
    qtbot.waitUntil(lambda: _next_button(wizard).isEnabled())
    click(qtbot, _next_button(wizard))
    qtbot.waitUntil(lambda: wizard.currentId() == expected)


def _confirm(qtbot, wizard: QWizard, name: str) -> None:
    qtbot.waitUntil(lambda: wizard.findChild(QMessageBox, name) is not None)
    box = wizard.findChild(QMessageBox, name)
    qtbot.waitUntil(box.isVisible)
    click(qtbot, box.findChild(QAbstractButton, f"{name}Accept"))
    qtbot.waitUntil(lambda: wizard.findChild(QMessageBox, name) is None)


def _seats(db, sid: int) -> int:
    return db.reader.scalar(
        "SELECT count(*) FROM licence_assignments WHERE subscription_id = :id", {"id": sid}
    )


def test_unassign_all_after_another_operator_changed_the_seats(demo_ctx, db, bob, qtbot) -> None:
    """A-100006, GoTo Connect (4 seats): the checklist says 4; Bob takes one back; Alice's
    "Unassign all" is refused, the checklist is read again (3), her backup tick stays."""
    connect = sub_id(db, "A-100006", "goto_connect")
    account = db.reader.scalar("SELECT id FROM accounts WHERE account_number = 'A-100006'")
    wizard = AssistedCancellationWizard(demo_ctx, account, connect)
    qtbot.addWidget(wizard)
    wizard.open()
    qtbot.waitExposed(wizard)
    page = wizard.verify_page
    for code, value in A100006.items():
        qtbot.keyClicks(page.edits[code], value)
    click(qtbot, page.verify_button)
    _go_next(qtbot, wizard, wizard.PAGE_REQUESTER)
    combo = wizard.requester_page.contact_combo
    combo.setFocus()
    combo.setCurrentIndex(
        next(i for i in range(combo.count()) if combo.itemText(i).startswith("Willem Bakker"))
    )
    _go_next(qtbot, wizard, wizard.PAGE_CHECKLIST)
    cp = wizard.checklist_page
    click(qtbot, cp.backup_check)
    assert cp.rows["licences_unassigned"].detail.text() == (
        "4 licences are still assigned to users (GoTo Connect); unassign them first."
    )

    overview = licences.licence_overview(bob, "A-100006")
    (seats,) = [s for s in overview.subscriptions if s.subscription_id == connect]
    licences.unassign_licences(
        bob, connect, [seats.holders[-1].contact_id], expected_version=seats.version
    )
    click(qtbot, cp.unassign_button)
    _confirm(qtbot, wizard, "unassignConfirmation")
    assert cp.error_shown() == "\n".join(
        (
            changed_by_bob("GoTo Connect"),
            "Nothing was unassigned. The checklist now shows the current data: check it and "
            "press Unassign all again if needed.",
        )
    )
    assert _seats(db, connect) == 3  # Bob's change, nothing of Alice's
    assert cp.rows["licences_unassigned"].detail.text() == (
        "3 licences are still assigned to users (GoTo Connect); unassign them first."
    )
    assert cp.backup_check.isChecked() and wizard.state.backup_confirmed
    assert wizard.currentId() == wizard.PAGE_CHECKLIST

    click(qtbot, cp.unassign_button)  # on the checklist read again
    _confirm(qtbot, wizard, "unassignConfirmation")
    assert cp.error_shown() == ""
    assert cp.action_note.text() == "3 licence(s) were unassigned."
    assert _seats(db, connect) == 0
    qtbot.waitUntil(lambda: _next_button(wizard).isEnabled())


def invoice(db, number: str) -> tuple:
    return db.reader.rows(
        "SELECT vat_rate_bp, vat_minor, reverse_charge, total_minor, credit_applied_minor,"
        " paid_minor FROM invoices WHERE number = :n",
        {"n": number},
    )[0]


# ------------------------------------------- the account's own data changed (review page)


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


# ------------------------------------------ the account's own data changed (payment page)


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
