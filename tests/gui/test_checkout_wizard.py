"""The checkout wizard on the curated demo accounts (articles 001, 003, 004; 2026-04-26, en_US).

Every test drives the real widgets by clicks and keys and then checks what is
in the database and the outbox: the order, the invoice (to the cent what the
review page showed), the subscription, the email — or that nothing was
written when the flow was refused or abandoned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from helpers import count, dump, sub_id
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, Qt, QTranslator, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QRadioButton,
    QWidget,
    QWizard,
)

from billing_desktop.services import checkout as checkout_service
from billing_desktop.services.cart import CartChange, add_to_cart
from billing_desktop.ui.formatting import format_money
from billing_desktop.ui.wizards import checkout as checkout_module
from billing_desktop.ui.wizards.checkout import CheckoutWizard

# The offscreen platform cannot raise windows: a limit of the test platform.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing)")

TEST_CARD = "5555 5555 5555 4444"  # a Mastercard test number (Luhn-valid)
NEXT = QWizard.WizardButton.NextButton
BACK = QWizard.WizardButton.BackButton
COMMIT = QWizard.WizardButton.CommitButton
FINISH = QWizard.WizardButton.FinishButton
CANCEL = QWizard.WizardButton.CancelButton


# --------------------------------------------------------------------------- helpers


def subscription(db, sid: int) -> tuple:
    return db.reader.rows(
        "SELECT pl.code, s.licence_count, s.frequency, s.status, s.period_start, s.period_end"
        " FROM subscriptions s JOIN plans pl ON pl.id = s.plan_id WHERE s.id = :id",
        {"id": sid},
    )[0]


def invoice(db, number: str) -> dict:
    row = db.reader.rows(
        "SELECT id, subtotal_minor, vat_minor, reverse_charge, total_minor, credit_applied_minor,"
        " paid_minor, status FROM invoices WHERE number = :n",
        {"n": number},
    )[0]
    keys = ("id", "subtotal", "vat", "reverse_charge", "total", "credit_applied", "paid", "status")
    return dict(zip(keys, row, strict=True))


def emails(db, account: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT e.kind, e.to_address, e.subject FROM emails e"
        " JOIN accounts a ON a.id = e.account_id WHERE a.account_number = :a ORDER BY e.id",
        {"a": account},
    )


def audit_actions(db, account: str) -> list[str]:
    return [
        r[0]
        for r in db.reader.rows(
            "SELECT x.action FROM audit_entries x JOIN accounts a ON a.id = x.account_id"
            " WHERE a.account_number = :a ORDER BY x.id",
            {"a": account},
        )
    ]


def cart_items(db, account: str) -> int:
    return db.reader.scalar(
        "SELECT COUNT(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id"
        " JOIN accounts a ON a.id = c.account_id WHERE a.account_number = :a",
        {"a": account},
    )


def eur(minor: int) -> str:
    return format_money(minor, "EUR")


def text_of(button: QAbstractButton) -> str:
    return button.text().replace("&", "")


def texts(widget: QWidget) -> list[str]:
    """What a user reads on ``widget``: every visible, non-empty label."""
    return [
        label.text()
        for label in widget.findChildren(QLabel)
        if label.isVisibleTo(widget) and label.text()
    ]


@pytest.fixture
def open_wizard(qtbot) -> Callable[..., CheckoutWizard]:
    def make(ctx, account: str, product: str | None = None, **kwargs) -> CheckoutWizard:
        sid = sub_id(ctx.db, account, product) if product else None
        wizard = CheckoutWizard(ctx, account, subscription_id=sid, **kwargs)
        qtbot.addWidget(wizard)
        wizard.open()
        qtbot.waitExposed(wizard)
        return wizard

    return make


def click(qtbot, button: QAbstractButton) -> None:
    assert button.isVisible() and button.isEnabled(), text_of(button)
    if isinstance(button, QRadioButton | QCheckBox):
        # on the indicator: a stretched radio button's middle may be empty space
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    else:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def double_click(qtbot, button: QAbstractButton) -> None:
    """What a real double click delivers: press, release, double-click, release."""
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(button, left)
    qtbot.mouseRelease(button, left)
    qtbot.mouseDClick(button, left)
    qtbot.mouseRelease(button, left)


def press(qtbot, wizard: QWizard, which: QWizard.WizardButton) -> None:
    click(qtbot, wizard.button(which))


def set_licences(qtbot, wizard: CheckoutWizard, n: int) -> None:
    spin = wizard.plan_page.licences_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(n))
    qtbot.keyClick(spin, Qt.Key.Key_Tab)
    assert spin.value() == n


# --------------------------------------------------------------------------- article 001


def test_article_001_fewer_licences_add_to_cart_then_checkout(demo_ctx, db, open_wizard, qtbot):
    """A-100002: v5 Standard 10 → 7 licences (6 assigned) via Add to cart > Checkout."""
    sid = sub_id(db, "A-100002", "gotoassist_rs_v5")
    wizard = open_wizard(demo_ctx, "A-100002", "gotoassist_rs_v5")
    plan = wizard.plan_page
    assert wizard.currentId() == CheckoutWizard.PLAN
    # the cart is empty: the primary button reads Checkout, Add to cart is offered too
    assert text_of(wizard.button(NEXT)) == "Checkout"
    assert plan.add_to_cart_button.isVisible()
    assert plan.tier_buttons["standard"].isChecked()
    assert plan.licences_spin.value() == 10
    assert "6 licence(s) assigned to users" in texts(plan)
    assert not wizard.button(NEXT).isEnabled()  # nothing changed yet

    # below the assigned count: the message names it and offers Manage licences
    set_licences(qtbot, wizard, 5)
    assert plan.licence_message.text() == (
        "6 licences are assigned to users. Unassign licences before reducing the count below 6."
    )
    assert plan.manage_licences_button.isVisible()
    assert not wizard.button(NEXT).isEnabled()
    assert not plan.add_to_cart_button.isEnabled()

    set_licences(qtbot, wizard, 7)
    assert not plan.licence_message.isVisible()
    assert plan.summary.value("licences") == "10 → 7"
    assert plan.summary.value("credit") == eur(-36800)
    assert plan.summary.value("due") == eur(0)

    before = count(db, "cart_items")
    click(qtbot, plan.add_to_cart_button)
    assert wizard.currentId() == CheckoutWizard.CART
    assert count(db, "cart_items") == before + 1  # Add to cart writes the cart
    cart = wizard.cart_page
    assert cart.list.count() == 1
    assert cart.list.item(0).text() == (
        "GoToAssist Remote Support v5: Standard, 7 licence(s) (was 10), billed monthly"
    )
    assert text_of(wizard.button(NEXT)) == "Checkout"

    press(qtbot, wizard, NEXT)
    review = wizard.review_page
    assert wizard.currentId() == CheckoutWizard.REVIEW
    assert review.title() == "Complete transaction"
    assert text_of(wizard.button(BACK)) == "Edit order"
    assert text_of(wizard.button(COMMIT)) == "Place order"
    assert review.items.value("period") == ("4/26/2026 – 5/25/2026 (starts today, billed monthly)")
    assert review.items.value("licences") == "7 (was 10)"
    assert review.items.value("unit_price") == "€39.00 per licence per month"
    assert review.items.value("proration_credit") == (
        f"{eur(-36800)} for 23 unused days (4/26/2026 – 5/18/2026)"
    )
    shown = {
        name: review.totals.value(name)
        for name in ("subtotal", "vat", "total", "credit_applied", "amount_due", "credit_created")
    }
    assert "reverse charge" in shown["vat"]

    completed: list[bool] = []
    wizard.completed.connect(lambda: completed.append(True))
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert completed == [True]

    # the review page showed the invoice to the cent
    result = wizard.state.result
    assert result is not None
    inv = invoice(db, result.invoice_number)
    assert shown == {
        "subtotal": eur(inv["subtotal"]),
        "vat": f"{eur(inv['vat'])} — reverse charge (VAT number IT05482200010)",
        "total": eur(inv["total"]),
        "credit_applied": eur(-inv["credit_applied"]),
        "amount_due": eur(max(inv["total"] - inv["credit_applied"], 0)),
        "credit_created": eur(3200),
    }
    assert inv["total"] == -3200 and inv["reverse_charge"] == 1
    assert subscription(db, sid) == ("standard", 7, "monthly", "active", "2026-04-26", "2026-05-26")
    assert cart_items(db, "A-100002") == 0
    assert emails(db, "A-100002")[-1][:2] == (
        "order_placed",
        "francesca.ferretti@ferretti-informatica.example",
    )
    assert audit_actions(db, "A-100002")[-3:] == [
        "cart.updated",
        "subscription.changed",
        "order.placed",
    ]

    # the result page: what changed, the new billing date, the email; no seats to assign
    res = wizard.result_page
    assert res.facts.value("subscription") == "Standard, 7 licence(s) (was 10), billed monthly"
    assert res.facts.value("next_billing_date") == "5/26/2026"
    assert (
        "A confirmation email with the details of your purchase was sent to "
        "francesca.ferretti@ferretti-informatica.example." in texts(res)
    )
    assert not res.assign_button.isVisible()
    assert text_of(wizard.button(FINISH)) == "Close"
    press(qtbot, wizard, FINISH)
    assert wizard.result() == QWizard.DialogCode.Accepted


# --------------------------------------------------------------------------- article 003


def _fill_card(qtbot, wizard: CheckoutWizard) -> None:
    fields = wizard.payment_page.card_fields
    qtbot.keyClicks(fields.number_edit, TEST_CARD)
    assert fields.month_combo is not None and fields.year_combo is not None
    fields.month_combo.setCurrentIndex(fields.month_combo.findData(12))
    fields.year_combo.setCurrentIndex(fields.year_combo.findData(2030))
    qtbot.keyClicks(fields.holder_edit, "Antonio Greco")


def test_article_003_subscribe_now_checkout_when_cart_is_empty(demo_ctx, db, open_wizard):
    wizard = open_wizard(demo_ctx, "A-100003", "gotoassist_rs_v5")
    assert text_of(wizard.button(NEXT)) == "Checkout"
    assert wizard.plan_page.subTitle().startswith(
        "The free trial of GoToAssist Remote Support v5 has ended."
    )
    assert wizard.button(NEXT).isEnabled()  # subscribing is a change by itself


def test_article_003_subscribe_now_with_items_in_cart(demo_ctx, db, open_wizard, qtbot):
    """A-100003: the v5 trial ended; the cart already holds the webinar: Add to cart >
    Checkout > Payment (a card and the VAT number) > Place order > Assign licences now."""
    webinar = sub_id(db, "A-100003", "goto_webinar")
    v5 = sub_id(db, "A-100003", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(subscription_id=webinar))

    wizard = open_wizard(demo_ctx, "A-100003", "gotoassist_rs_v5")
    plan = wizard.plan_page
    # the cart holds items: the primary button reads Add to cart, Checkout is not offered
    assert text_of(wizard.button(NEXT)) == "Add to cart"
    assert not plan.add_to_cart_button.isVisible()
    assert plan.cart_label.text() == "Your cart holds 1 product(s)."
    click(qtbot, plan.tier_buttons["premium"])
    set_licences(qtbot, wizard, 3)
    assert plan.summary.value("plan") == "Premium"

    press(qtbot, wizard, NEXT)  # Add to cart
    assert wizard.currentId() == CheckoutWizard.CART
    assert [wizard.cart_page.list.item(i).text() for i in range(2)] == [
        "GoTo Webinar: subscribe to Standard, 1 licence(s), billed monthly",
        "GoToAssist Remote Support v5: subscribe to Premium, 3 licence(s), billed monthly",
    ]
    press(qtbot, wizard, NEXT)  # Checkout
    assert wizard.currentId() == CheckoutWizard.REVIEW
    # payment details follow: the review's button is Checkout, not Place order yet
    assert text_of(wizard.button(NEXT)) == "Checkout"
    assert wizard.review_page.items.value("1_licences") == "3"
    press(qtbot, wizard, NEXT)

    payment = wizard.payment_page
    assert wizard.currentId() == CheckoutWizard.PAYMENT
    assert payment.title() == "Payment and VAT"
    assert (
        "Enter a card or bank account: there is no valid payment method on file."
        in payment.reasons.text()
    )
    assert not payment.on_file_radio.isVisible()
    assert payment.card_radio.isChecked()
    assert text_of(wizard.button(COMMIT)) == "Place order"
    assert not wizard.button(COMMIT).isEnabled()
    # without a VAT number Italian VAT is charged
    assert payment.totals.rows()[1][0] == "VAT (22%):"
    assert payment.totals.value("total") == wizard.review_page.totals.value("total")

    # an invalid VAT number: the service's message, inline, and Place order stays disabled
    _fill_card(qtbot, wizard)
    qtbot.keyClicks(payment.vat_edit, "IT07664550213")
    payment.check_vat()
    assert payment.vat_message.text().endswith(
        "is not a valid VAT number for IT: check the digits."
    )
    assert not wizard.button(COMMIT).isEnabled()
    payment.vat_edit.clear()
    qtbot.keyClicks(payment.vat_edit, "IT07664550212")
    qtbot.waitUntil(lambda: "reverse charge" in payment.vat_message.text())
    assert payment.totals.value("vat").endswith("(VAT number IT07664550212)")
    assert wizard.button(COMMIT).isEnabled()
    total_shown = payment.totals.value("total")

    navigated: list[str] = []
    wizard.navigate_requested.connect(navigated.append)
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    result = wizard.state.result
    assert result is not None
    inv = invoice(db, result.invoice_number)
    assert total_shown == eur(inv["total"]) and inv["reverse_charge"] == 1
    assert subscription(db, v5)[:4] == ("premium", 3, "monthly", "active")
    assert subscription(db, webinar)[3] == "active"
    row = db.reader.rows(
        "SELECT m.brand, m.last4, a.vat_number FROM payment_methods m"
        " JOIN accounts a ON a.id = m.account_id WHERE a.account_number = 'A-100003'"
    )
    assert row == [("mastercard", "4444", "IT07664550212")]
    # the card number is nowhere in the database, nor left in the field
    assert "5555555555554444" not in repr(dump(db)).replace(" ", "")
    assert payment.card_fields.number_edit.text() == ""
    assert emails(db, "A-100003")[-1][0] == "order_placed"

    # licences were added: Assign licences now leads to the licences tab
    res = wizard.result_page
    assert res.assign_button.isVisible()
    click(qtbot, res.assign_button)
    assert navigated == ["licences"]
    assert wizard.result() == QWizard.DialogCode.Accepted


# --------------------------------------------------------------------------- article 004


def test_article_004_upgrade_asks_for_payment(demo_ctx, db, open_wizard, qtbot):
    """A-100007: v4 Standard → Premium costs more: the payment page offers the card on file."""
    sid = sub_id(db, "A-100007", "gotoassist_rs_v4")
    wizard = open_wizard(demo_ctx, "A-100007", "gotoassist_rs_v4")
    plan = wizard.plan_page
    assert text_of(plan.tier_buttons["standard"]).endswith("(current plan)")
    click(qtbot, plan.tier_buttons["premium"])
    assert plan.summary.value("plan") == "Standard → Premium"
    press(qtbot, wizard, NEXT)  # Checkout
    assert wizard.review_page.items.value("product") == (
        "GoToAssist Remote Support v4 Standard → Premium"
    )
    press(qtbot, wizard, NEXT)  # Checkout → payment
    payment = wizard.payment_page
    assert payment.reasons.text() == "Confirm the payment method: the new plan costs more."
    assert payment.on_file_radio.isChecked()
    assert text_of(payment.on_file_radio) == "Use the payment method on file: Visa •••• 0366"
    assert not payment.vat_box.isVisible()  # the account has its VAT number
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert subscription(db, sid)[:4] == ("premium", 3, "monthly", "active")
    result = wizard.state.result
    assert result is not None and result.payment_method == "Visa •••• 0366"
    assert wizard.result_page.facts.value("paid") == (
        f"{eur(result.amount_paid.minor)} to Visa •••• 0366"
    )
    assert "order.placed" in audit_actions(db, "A-100007")


def test_article_004_downgrade_is_refused_for_the_billing_contact(demo_ctx, db, open_wizard, qtbot):
    """A-100008: Enterprise → Premium: "To move to a lower plan, contact Customer Care"."""
    before = dump(db)
    wizard = open_wizard(demo_ctx, "A-100008", "gotoassist_rs_v4")
    plan = wizard.plan_page
    assert not plan.mode_label.isVisible()
    click(qtbot, plan.tier_buttons["premium"])
    assert plan.tier_message.isVisible()
    assert plan.tier_message.text() == "To move to a lower plan, contact Customer Care"
    assert not wizard.button(NEXT).isEnabled()
    assert not plan.add_to_cart_button.isEnabled()
    press(qtbot, wizard, CANCEL)
    assert dump(db) == before


def test_article_004_downgrade_is_allowed_for_support(as_role, db, open_wizard, qtbot):
    support = as_role("support")
    sid = sub_id(db, "A-100008", "gotoassist_rs_v4")
    wizard = open_wizard(support, "A-100008", "gotoassist_rs_v4")
    plan = wizard.plan_page
    assert plan.mode_label.isVisible()
    click(qtbot, plan.tier_buttons["premium"])
    assert not plan.tier_message.isVisible()
    assert plan.summary.value("plan") == "Enterprise → Premium"
    press(qtbot, wizard, NEXT)
    review = wizard.review_page
    # 12 × 45.00 + 12 × 8.00 = 636.00 − 119.23 credit = 516.77 (reverse charge)
    assert review.totals.value("total") == eur(51677)
    press(qtbot, wizard, COMMIT)  # costs less, card on file: no payment page
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert subscription(db, sid)[:2] == ("premium", 12)
    actions = audit_actions(db, "A-100008")
    assert "subscription.downgraded" in actions
    after = db.reader.scalar(
        "SELECT after_json FROM audit_entries WHERE action = 'order.placed' ORDER BY id DESC"
    )
    assert '"on_behalf_of_customer": false' in after


# --------------------------------------------------------------------------- keyboard


class _MouseSpy(QObject):
    """Counts every mouse event the application delivers."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
        ):
            self.seen += 1
        return False


def test_keyboard_only_checkout(demo_ctx, db, open_wizard, qtbot):
    """A-100002 with the keyboard alone: mnemonics, arrows, Tab, Space and Enter."""
    spy = _MouseSpy()
    QApplication.instance().installEventFilter(spy)
    try:
        sid = sub_id(db, "A-100002", "gotoassist_rs_v5")
        wizard = open_wizard(demo_ctx, "A-100002", "gotoassist_rs_v5")
        wizard.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard)
        plan = wizard.plan_page
        # Alt+L: the licences spin box; three times Down: 10 → 7
        qtbot.keyClick(wizard, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
        assert plan.licences_spin.hasFocus()
        for _ in range(3):
            qtbot.keyClick(plan.licences_spin, Qt.Key.Key_Down)
        assert plan.licences_spin.value() == 7
        # Alt+A: Add to cart, then Enter: Checkout on the cart page
        qtbot.keyClick(wizard, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: wizard.currentId() == CheckoutWizard.CART)
        qtbot.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Return)
        assert wizard.currentId() == CheckoutWizard.REVIEW
        # Alt+E: Edit order (back), Alt+C: Checkout again
        qtbot.keyClick(wizard, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: wizard.currentId() == CheckoutWizard.CART)
        qtbot.keyClick(wizard, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: wizard.currentId() == CheckoutWizard.REVIEW)
        # Enter: Place order (the default button)
        qtbot.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Return)
        assert wizard.currentId() == CheckoutWizard.RESULT
        assert subscription(db, sid)[:2] == ("standard", 7)
        # Enter: Close
        qtbot.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Return)
        assert not wizard.isVisible()
        assert wizard.result() == QWizard.DialogCode.Accepted
        assert spy.seen == 0
    finally:
        QApplication.instance().removeEventFilter(spy)


def test_keyboard_space_toggles_and_escape_cancels(demo_ctx, db, open_wizard, qtbot):
    before = dump(db)
    wizard = open_wizard(demo_ctx, "A-100007", "gotoassist_rs_v4")
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard)
    plan = wizard.plan_page
    qtbot.keyClick(wizard, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)  # Annual
    qtbot.waitUntil(plan.annual_radio.isChecked)
    assert text_of(plan.tier_buttons["premium"]).endswith("per licence per year")
    qtbot.keyClick(wizard, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)  # Add-ons
    focused = QApplication.focusWidget()
    assert focused is plan.addon_checks["mobile_device_support"]
    qtbot.keyClick(focused, Qt.Key.Key_Space)
    assert plan.addon_checks["mobile_device_support"].isChecked()
    qtbot.keyClick(focused, Qt.Key.Key_Escape)
    assert not wizard.isVisible()
    assert dump(db) == before


# --------------------------------------------------------------------------- double submission


def test_double_click_on_place_order_places_one_order(
    demo_ctx, db, open_wizard, qtbot, monkeypatch
):
    wizard = open_wizard(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 8)
    press(qtbot, wizard, NEXT)  # Checkout (the change is not stored yet)
    assert wizard.currentId() == CheckoutWizard.REVIEW
    commit = wizard.button(COMMIT)
    orders = count(db, "orders")

    calls: list[bool] = []
    real = checkout_service.place_order

    def place_order_clicked_again(*args, **kwargs):
        # another click arrives while the order is being placed: the button is disabled
        calls.append(commit.isEnabled())
        commit.click()
        return real(*args, **kwargs)

    monkeypatch.setattr(checkout_module, "place_order", place_order_clicked_again)
    double_click(qtbot, commit)
    assert calls == [False]
    assert count(db, "orders") == orders + 1
    assert wizard.currentId() == CheckoutWizard.RESULT
    # the wizard's own guard: placing again does not call the service
    assert wizard.review_page.place()
    assert calls == [False]


def test_a_refused_order_keeps_the_page_and_a_retry_uses_the_same_token(
    demo_ctx, db, open_wizard, qtbot, monkeypatch
):
    from billing_desktop.services.errors import ConflictError

    wizard = open_wizard(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 8)
    press(qtbot, wizard, NEXT)
    keys: list[str] = []
    real = checkout_service.place_order

    def flaky(*args, **kwargs):
        keys.append(kwargs["idempotency_key"])
        if len(keys) == 1:
            raise ConflictError("The order")
        return real(*args, **kwargs)

    monkeypatch.setattr(checkout_module, "place_order", flaky)
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.REVIEW
    assert wizard.review_page.error_shown()  # the service's message, on the page
    assert wizard.button(COMMIT).isEnabled()  # re-enabled after the refusal
    assert cart_items(db, "A-100002") == 0  # nothing written: the change is in the wizard only
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert len(set(keys)) == 1 and len(keys) == 2
    assert count(db, "orders") == 1
    assert cart_items(db, "A-100002") == 0


def test_edit_order_after_a_refused_order_keeps_the_cart_empty(
    demo_ctx, db, open_wizard, qtbot, monkeypatch
):
    """A refused Place order wrote nothing: Edit order goes back to Checkout, not the cart."""
    from billing_desktop.services.errors import ConflictError

    wizard = open_wizard(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 8)
    press(qtbot, wizard, NEXT)
    calls: list[dict] = []

    def refused(*args, **kwargs):
        calls.append(kwargs)
        raise ConflictError("The order")

    monkeypatch.setattr(checkout_module, "place_order", refused)
    press(qtbot, wizard, COMMIT)
    # one service call carrying the change itself; the cart is not involved
    assert len(calls) == 1 and calls[0]["items"] and calls[0]["expected_cart_version"] is None
    assert cart_items(db, "A-100002") == 0
    monkeypatch.setattr(checkout_module, "place_order", checkout_service.place_order)
    press(qtbot, wizard, BACK)  # Edit order
    assert wizard.currentId() == CheckoutWizard.PLAN
    assert text_of(wizard.button(NEXT)) == "Checkout"
    set_licences(qtbot, wizard, 9)
    press(qtbot, wizard, NEXT)  # Checkout
    assert wizard.review_page.items.value("licences") == "9 (was 10)"
    press(qtbot, wizard, COMMIT)
    assert wizard.currentId() == CheckoutWizard.RESULT
    assert subscription(db, sub_id(db, "A-100002", "gotoassist_rs_v5"))[1] == 9
    assert count(db, "orders") == 1
    assert cart_items(db, "A-100002") == 0


# --------------------------------------------------------------------------- Back and abandon


def test_back_keeps_every_input(demo_ctx, db, open_wizard, qtbot):
    wizard = open_wizard(demo_ctx, "A-100007", "gotoassist_rs_v4")
    plan = wizard.plan_page
    click(qtbot, plan.tier_buttons["premium"])
    set_licences(qtbot, wizard, 5)
    click(qtbot, plan.annual_radio)
    click(qtbot, plan.addon_checks["camera_share"])
    requester = plan.requester_combo.currentIndex()
    press(qtbot, wizard, NEXT)
    review = wizard.review_page
    first_key = wizard.state.idempotency_key
    first_total = review.totals.value("total")
    press(qtbot, wizard, NEXT)
    payment = wizard.payment_page
    click(qtbot, payment.card_radio)
    qtbot.keyClicks(payment.card_fields.number_edit, TEST_CARD)
    qtbot.keyClicks(payment.card_fields.holder_edit, "Javier Garcia")

    press(qtbot, wizard, BACK)  # payment → review
    assert wizard.currentId() == CheckoutWizard.REVIEW
    press(qtbot, wizard, BACK)  # Edit order
    assert wizard.currentId() == CheckoutWizard.PLAN
    assert plan.tier_buttons["premium"].isChecked()
    assert plan.licences_spin.value() == 5
    assert plan.annual_radio.isChecked()
    assert plan.addon_checks["camera_share"].isChecked()
    assert plan.requester_combo.currentIndex() == requester

    press(qtbot, wizard, NEXT)
    assert review.totals.value("total") == first_total
    assert wizard.state.idempotency_key != first_key  # a new review, a new order token
    press(qtbot, wizard, NEXT)
    assert payment.card_radio.isChecked()
    assert payment.card_fields.number_edit.text() == TEST_CARD
    assert payment.card_fields.holder_edit.text() == "Javier Garcia"


def test_abandoning_writes_nothing(demo_ctx, db, open_wizard, qtbot):
    before = dump(db)
    wizard = open_wizard(demo_ctx, "A-100003", "gotoassist_rs_v5")
    press(qtbot, wizard, NEXT)  # Checkout
    press(qtbot, wizard, NEXT)  # → payment
    _fill_card(qtbot, wizard)
    qtbot.keyClicks(wizard.payment_page.vat_edit, "IT07664550212")
    wizard.payment_page.check_vat()
    press(qtbot, wizard, CANCEL)
    assert not wizard.isVisible()
    assert dump(db) == before
    assert wizard.payment_page.card_fields.number_edit.text() == ""  # forgotten on close


def test_abandoning_after_add_to_cart_keeps_only_the_cart(demo_ctx, db, open_wizard, qtbot):
    before = dump(db)
    wizard = open_wizard(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 8)
    click(qtbot, wizard.plan_page.add_to_cart_button)
    press(qtbot, wizard, NEXT)  # Checkout → review
    press(qtbot, wizard, CANCEL)
    after = dump(db)
    changed = {t for t in after if after[t] != before[t]}
    assert changed == {"carts", "cart_items", "audit_entries"}
    assert audit_actions(db, "A-100002") == ["cart.updated"]


def test_cart_page_removes_an_item(demo_ctx, db, open_wizard, qtbot):
    webinar = sub_id(db, "A-100003", "goto_webinar")
    v5 = sub_id(db, "A-100003", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(subscription_id=webinar))
    add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(subscription_id=v5))
    wizard = open_wizard(demo_ctx, "A-100003")  # opened from the cart
    cart = wizard.cart_page
    assert wizard.currentId() == CheckoutWizard.CART
    assert cart.list.count() == 2
    cart.list.setCurrentRow(0)
    click(qtbot, cart.remove_button)
    assert cart.list.count() == 1
    assert cart_items(db, "A-100003") == 1
    click(qtbot, cart.remove_button)
    assert cart.list.count() == 0
    assert not wizard.button(NEXT).isEnabled()  # nothing to check out


# --------------------------------------------------------------------------- language


class _Italian(QTranslator):
    WORDS = {
        "Complete transaction": "Completa transazione",
        "&Edit order": "&Modifica ordine",
        "Select your plan": "Seleziona il piano",
        "&Checkout": "&Completa transazione",
    }

    def translate(self, context, source, disambiguation=None, n=-1):
        return self.WORDS.get(source)  # None: not translated (the source text is used)

    def isEmpty(self) -> bool:  # an empty translator is skipped
        return False


def test_language_change_keeps_the_state(demo_ctx, db, open_wizard, qtbot):
    wizard = open_wizard(demo_ctx, "A-100007", "gotoassist_rs_v4")
    plan = wizard.plan_page
    click(qtbot, plan.tier_buttons["premium"])
    set_licences(qtbot, wizard, 4)
    translator = _Italian()
    QCoreApplication.installTranslator(translator)
    try:
        qtbot.waitUntil(lambda: plan.title() == "Seleziona il piano")
        assert text_of(wizard.button(NEXT)) == "Completa transazione"
        assert plan.tier_buttons["premium"].isChecked()
        assert plan.licences_spin.value() == 4
        assert plan.summary.value("plan") == "Standard → Premium"
        press(qtbot, wizard, NEXT)
        review = wizard.review_page
        assert review.title() == "Completa transazione"
        assert text_of(wizard.button(BACK)) == "Modifica ordine"
        total = review.totals.value("total")
        QCoreApplication.sendEvent(wizard, QEvent(QEvent.Type.LanguageChange))
        assert review.totals.value("total") == total
    finally:
        QCoreApplication.removeTranslator(translator)
    qtbot.waitUntil(lambda: wizard.review_page.title() == "Complete transaction")
    press(qtbot, wizard, BACK)
    assert plan.licences_spin.value() == 4 and plan.tier_buttons["premium"].isChecked()


# --------------------------------------------------------------------------- blocked cases


class _MailCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def mail_catcher() -> Iterator[_MailCatcher]:
    catcher = _MailCatcher()
    QDesktopServices.setUrlHandler("mailto", catcher, "open")
    yield catcher
    QDesktopServices.unsetUrlHandler("mailto")


def test_not_the_billing_contact(demo_ctx, db, open_wizard, qtbot, mail_catcher):
    """A-100004: Paolo Conti (a user) asks: contact the billing admin Elena Marchetti."""
    before = dump(db)
    wizard = open_wizard(demo_ctx, "A-100004", "gotoassist_rs_v5")
    plan = wizard.plan_page
    assert not plan.blocked_frame.isVisible()  # the billing contact asks by default
    combo = plan.requester_combo
    combo.setCurrentIndex(next(i for i in range(combo.count()) if "Paolo" in combo.itemText(i)))
    assert plan.blocked_frame.isVisible()
    assert plan.blocked_label.text() == (
        "Contact your billing admin (Elena Marchetti, elena.marchetti@contilogistica.example) "
        "to make product or licensing changes"
    )
    assert not plan.inputs.isEnabled()
    assert not wizard.button(NEXT).isEnabled()
    click(qtbot, plan.email_admin_button)
    (url,) = mail_catcher.urls
    assert url.scheme() == "mailto" and url.path() == "elena.marchetti@contilogistica.example"
    assert "A-100004" in url.query()
    # choosing the billing contact again unblocks
    combo.setCurrentIndex(0)
    assert not plan.blocked_frame.isVisible()
    press(qtbot, wizard, CANCEL)
    assert dump(db) == before


def test_overdue_invoice_offers_pay_balance(demo_ctx, db, open_wizard, qtbot):
    wizard = open_wizard(demo_ctx, "A-100009", "goto_meeting")
    plan = wizard.plan_page
    assert plan.blocked_label.text() == (
        "An overdue invoice must be paid before the plan can be changed."
    )
    assert plan.pay_balance_button.isVisible() and not plan.email_admin_button.isVisible()
    navigated: list[str] = []
    wizard.navigate_requested.connect(navigated.append)
    click(qtbot, plan.pay_balance_button)
    assert navigated == ["invoices"]
    assert wizard.result() == QWizard.DialogCode.Rejected and not wizard.isVisible()


def test_corporate_account_names_the_representative(demo_ctx, db, open_wizard):
    wizard = open_wizard(demo_ctx, "A-100015", "goto_meeting")
    plan = wizard.plan_page
    assert plan.blocked_label.text() == (
        "Contact your representative Chiara Lombardi to make product or licensing changes"
    )
    assert not wizard.button(NEXT).isEnabled()


def test_product_that_cannot_be_changed_now(demo_ctx, db, open_wizard):
    """A-100011: GoTo Meeting is being cancelled: reactivate it first."""
    wizard = open_wizard(demo_ctx, "A-100011", "goto_meeting")
    assert wizard.plan_page.blocked_label.text() == (
        "GoTo Meeting is being cancelled. Reactivate it before changing the plan."
    )
    assert not wizard.button(NEXT).isEnabled()


def test_manage_licences_way_out(demo_ctx, db, open_wizard, qtbot):
    wizard = open_wizard(demo_ctx, "A-100002", "gotoassist_rs_v5")
    set_licences(qtbot, wizard, 4)
    navigated: list[str] = []
    wizard.navigate_requested.connect(navigated.append)
    click(qtbot, wizard.plan_page.manage_licences_button)
    assert navigated == ["licences"]
    assert not wizard.isVisible()
