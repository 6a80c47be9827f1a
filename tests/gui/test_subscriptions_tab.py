"""The Subscriptions tab on the curated demo accounts (2026-04-26, en_US locale)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTranslator
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from sqlalchemy import select

from billing_desktop.services.subscriptions_view import CardActionCode
from billing_desktop.store.models import Account, Email, Subscription
from billing_desktop.ui.account import subscriptions as subs_module
from billing_desktop.ui.account.subscriptions import (
    CARD_ACTIONS,
    SubscriptionCardWidget,
    SubscriptionsTab,
)

# The offscreen platform cannot raise windows or grab the keyboard for popups
# (menus, message boxes): a limit of the test platform, not of the tab.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing)")


def texts(widget: QWidget) -> list[str]:
    """What a user reads in ``widget``: every visible, non-empty label."""
    return [
        label.text()
        for label in widget.findChildren(QLabel)
        if label.isVisibleTo(widget) and label.text()
    ]


def visible_buttons(widget: QWidget) -> list[QAbstractButton]:
    return [b for b in widget.findChildren(QAbstractButton) if b.isVisibleTo(widget)]


def sub_row(ctx, number: str, product: str) -> Subscription:
    with ctx.db.sessions() as s:
        sub = s.scalar(
            select(Subscription)
            .join(Account)
            .where(Account.account_number == number)
            .where(Subscription.product.has(code=product))
        )
        s.expunge(sub)
        return sub


@pytest.fixture
def open_tab(qtbot):
    def make(ctx, number: str, width: int = 1200, height: int = 800) -> SubscriptionsTab:
        with ctx.db.sessions() as s:
            account_id = s.scalar(select(Account.id).where(Account.account_number == number))
        tab = SubscriptionsTab(ctx, account_id)
        qtbot.addWidget(tab)
        tab.resize(width, height)
        tab.show()
        qtbot.waitExposed(tab)
        return tab

    return make


def test_a100002_card_shows_the_billing_center_facts(demo_ctx, open_tab) -> None:
    tab = open_tab(demo_ctx, "A-100002")
    [card] = tab.cards
    assert texts(card) == [
        "GoToAssist Remote Support v5",
        "Active",
        "Plan", "Standard",
        "Licences", "6 of 10 assigned",
        "Billing frequency", "Monthly",
        "Contract", "Month-to-month",
        "Next billing date", "5/19/2026",
        "Add-ons", "Mobile device support",
    ]  # fmt: skip
    # Edit and Cancel are allowed by the rules and open their wizards
    assert card.options_button.isVisibleTo(card)
    assert list(card.menu_actions) == [CardActionCode.EDIT, CardActionCode.CANCEL]
    assert [a.text() for a in card.menu_actions.values()] == [
        "&Edit subscription",
        "&Cancel subscription",
    ]
    assert visible_buttons(card) == [card.options_button]
    assert card.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert not tab.cart_bar.isVisibleTo(tab)  # the cart is empty
    assert "Discover other products" in texts(tab)
    assert [e.offer.product_name for e in tab.discover_entries] == [
        "GoToAssist Remote Support v4",
        "LogMeIn Resolve",
        "GoTo Connect",
        "GoTo Meeting",
        "GoTo Webinar",
    ]
    assert "From €12.00 per licence per month, with a 14-day free trial" in texts(
        tab.discover_entries[3]
    )


def test_a100003_ended_trial_shows_subscribe_now_instead_of_the_options_icon(
    demo_ctx, open_tab, qtbot
) -> None:
    tab = open_tab(demo_ctx, "A-100003")
    ended, trial = tab.cards
    assert texts(ended)[:2] == ["GoToAssist Remote Support v5", "Trial ended"]
    assert texts(ended)[-2:] == ["Trial ended on", "4/23/2026"]
    assert "0 of 2 assigned" in texts(ended)
    assert not ended.options_button.isVisibleTo(ended)
    subscribe = ended.buttons[CardActionCode.SUBSCRIBE]
    assert visible_buttons(ended) == [subscribe]
    assert subscribe.text() == "&Subscribe now"
    assert texts(trial)[:2] == ["GoTo Webinar", "Trial"]
    assert texts(trial)[-2:] == ["Trial ends on", "5/1/2026"]
    assert visible_buttons(trial) == [trial.options_button]
    qtbot.keyClick(ended, Qt.Key.Key_Space)
    assert not ended.menu.isVisible()


def test_a100011_reactivate_through_the_options_menu(demo_ctx, open_tab, qtbot) -> None:
    from billing_desktop.ui.wizards.cancellation import ReactivateDialog

    tab = open_tab(demo_ctx, "A-100011")
    card = tab.card_named("goto_meeting")
    assert texts(card)[:3] == ["GoTo Meeting", "Cancellation pending", "Expires on 5/7/2026"]
    assert texts(card)[-2:] == ["Next billing date", "None: it is not renewed"]
    assert card.options_button.isVisibleTo(card)

    qtbot.mouseClick(card.options_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(card.menu.isVisible)
    assert [a.text() for a in card.menu.actions() if a.isVisible()] == ["&Reactivate"]
    action = card.menu_actions[CardActionCode.REACTIVATE]
    qtbot.mouseClick(
        card.menu, Qt.MouseButton.LeftButton, pos=card.menu.actionGeometry(action).center()
    )
    qtbot.waitUntil(lambda: isinstance(tab.wizard, ReactivateDialog) and tab.wizard.isVisible())
    dialog = tab.wizard
    assert dialog.headline.text() == "Reactivate GoTo Meeting?"
    assert dialog.info.text() == (
        "GoTo Meeting renews automatically again. The next billing date is 5/7/2026."
    )
    assert dialog.reactivate_button.text() == "&Reactivate"
    with qtbot.waitSignal(tab.account_changed, timeout=5000):
        qtbot.mouseClick(dialog.reactivate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.wizard is None)

    row = sub_row(demo_ctx, "A-100011", "goto_meeting")
    assert (row.status, row.auto_renew, row.cancellation_effective) == ("active", True, None)
    with demo_ctx.db.sessions() as s:
        assert s.scalar(select(Email.kind).order_by(Email.id.desc()).limit(1)) == "reactivated"
    card = tab.card_named("goto_meeting")
    assert card.badge.text() == "Active"
    assert texts(card)[-2:] == ["Next billing date", "5/7/2026"]
    assert list(card.menu_actions) == [CardActionCode.EDIT, CardActionCode.CANCEL]
    assert tab.message_label.isVisibleTo(tab)
    assert tab.message_label.text() == (
        "GoTo Meeting has been reactivated. The next billing date is 5/7/2026. "
        "A confirmation email was sent."
    )


def test_keyboard_opens_the_menu_and_declining_changes_nothing(demo_ctx, open_tab, qtbot) -> None:
    from billing_desktop.ui.wizards.cancellation import ReactivateDialog

    tab = open_tab(demo_ctx, "A-100011")
    card = tab.card_named("goto_meeting")
    assert card.focusPolicy() == Qt.FocusPolicy.StrongFocus
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow)
    tab.scroll.setFocus()
    qtbot.keyClick(tab.scroll, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: tab.focusWidget() in tab.cards)
    while not card.hasFocus():  # cards are tab stops in reading order
        qtbot.keyClick(tab.focusWidget(), Qt.Key.Key_Tab)

    for key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Menu):
        qtbot.keyClick(card, key)
        qtbot.waitUntil(card.menu.isVisible)
        qtbot.keyClick(card.menu, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: not card.menu.isVisible())

    before = sub_row(demo_ctx, "A-100011", "goto_meeting")
    qtbot.keyClick(card, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(card.menu.isVisible)
    qtbot.keyClick(card.menu, Qt.Key.Key_Return)  # the first item, Reactivate
    qtbot.waitUntil(lambda: isinstance(tab.wizard, ReactivateDialog) and tab.wizard.isVisible())
    dialog = tab.wizard
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # "Keep cancellation"
    qtbot.waitUntil(lambda: tab.wizard is None)
    after = sub_row(demo_ctx, "A-100011", "goto_meeting")
    assert (after.status, after.version) == ("cancellation_pending", before.version)
    assert tab.card_named("goto_meeting").badge.text() == "Cancellation pending"


def test_conflict_shows_the_reload_message_and_reloads(demo_ctx, open_tab, qtbot) -> None:
    tab = open_tab(demo_ctx, "A-100011")
    card = tab.card_named("goto_meeting")
    changed = []
    tab.account_changed.connect(lambda: changed.append(True))
    card.open_menu()
    card.menu_actions[CardActionCode.REACTIVATE].trigger()
    dialog = tab.wizard
    with demo_ctx.db.transaction() as s:  # someone else touches the subscription meanwhile
        s.get(Subscription, card.card.subscription_id).cancel_reason_text = "changed elsewhere"
    qtbot.mouseClick(dialog.reactivate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error_label.isVisible)
    assert "reload" in dialog.error_label.text()
    assert changed == []
    assert dialog.isVisible()
    assert sub_row(demo_ctx, "A-100011", "goto_meeting").status == "cancellation_pending"
    # the dialog read the subscription again: trying again works
    assert dialog.reactivate_button.isEnabled()
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(dialog.reactivate_button, Qt.MouseButton.LeftButton)
    assert sub_row(demo_ctx, "A-100011", "goto_meeting").status == "active"


def test_a_viewer_gets_no_options(as_role, open_tab) -> None:
    tab = open_tab(as_role("viewer"), "A-100011")
    card = tab.card_named("goto_meeting")
    assert card.badge.text() == "Cancellation pending"
    assert not card.options_button.isVisibleTo(card)
    assert card.focusPolicy() == Qt.FocusPolicy.NoFocus


def test_reactivation_too_late_is_explained_on_the_card(demo_ctx, open_tab) -> None:
    from billing_desktop.services.clock import FixedClock

    late = dataclasses.replace(demo_ctx, clock=FixedClock(date(2026, 5, 7)))
    tab = open_tab(late, "A-100011")
    card = tab.card_named("goto_meeting")
    assert not card.options_button.isVisibleTo(card)
    assert card.warning_note.isVisibleTo(card)
    assert card.warning_note.text() == (
        "GoTo Meeting expired on 5/7/2026 and can no longer be reactivated. "
        "Subscribe again instead."
    )


def test_a100018_discover_lists_the_cancelled_product(demo_ctx, open_tab) -> None:
    tab = open_tab(demo_ctx, "A-100018")
    assert [c.card.product_code for c in tab.cards] == ["gotoassist_rs_v4"]
    entries = {e.offer.product_code: e for e in tab.discover_entries}
    assert list(entries) == ["gotoassist_rs_v5", "logmein_resolve", "goto_connect",
                             "goto_meeting", "goto_webinar"]  # fmt: skip
    meeting = entries["goto_meeting"]
    assert texts(meeting) == [
        "GoTo Meeting",
        "Cancelled",
        "Online meetings and video conferencing.",
        "Plans: Professional, Business, and Enterprise",
        "From €12.00 per licence per month",
        "Ended on 3/8/2026. Its data is kept until 6/6/2026, then deleted.",
    ]
    assert not entries["goto_webinar"].badge.isVisibleTo(entries["goto_webinar"])


def test_overdue_account_sees_why_nothing_can_be_bought(demo_ctx, open_tab) -> None:
    tab = open_tab(demo_ctx, "A-100009")
    entry = tab.discover_entries[0]
    assert entry.blocked_label.text() == (
        "Cannot be bought now: An overdue invoice must be paid before the plan can be changed."
    )


def test_fixed_term_cards_show_the_renewal_window(demo_ctx, open_tab) -> None:
    tab = open_tab(demo_ctx, "A-100005")
    [card] = tab.cards
    assert "24-month fixed term, ends on 2/21/2027" in texts(card)
    assert card.renewal_note.text() == (
        "The agreement renews on 2/21/2027 unless it is cancelled by 1/22/2027."
    )
    assert not card.warning_note.isVisibleTo(card)
    tab = open_tab(demo_ctx, "A-100019")
    [card] = tab.cards
    assert card.warning_note.isVisibleTo(card)
    assert card.warning_note.text() == (
        "The notice period ended on 4/16/2026: the agreement renews for another term on 5/16/2026."
    )


@pytest.mark.parametrize(("width", "columns"), [(700, 1), (1000, 2), (1200, 3), (1400, 3)])
def test_responsive_grid(demo_ctx, open_tab, qtbot, width: int, columns: int) -> None:
    tab = open_tab(demo_ctx, "A-100003", width=width)
    qtbot.waitUntil(lambda: tab.columns == columns)
    grid = tab.grid
    positions = [grid.getItemPosition(grid.indexOf(w))[:2] for w in tab.cards]
    assert positions == [(0, 0), (0, 1)] if columns > 1 else [(0, 0), (1, 0)]
    first_entry = tab.discover_entries[0]
    row, column, _rows, _cols = grid.getItemPosition(grid.indexOf(first_entry))
    assert column == 0 and row == -(-2 // columns) + 1  # under the cards and the heading
    for widget in tab.cards + tab.discover_entries:
        assert widget.width() >= subs_module.CARD_MIN_WIDTH


def test_action_table_marks_what_this_build_can_open() -> None:
    available = {spec.code for spec in CARD_ACTIONS if spec.available}
    assert available == set(CardActionCode)
    assert all(spec.handler for spec in CARD_ACTIONS if spec.available)
    assert all(hasattr(SubscriptionsTab, spec.handler) for spec in CARD_ACTIONS if spec.handler)


class _Shouting(QTranslator):
    """A translator that upper-cases the card's words (a stand-in for a real language)."""

    def translate(self, context, source, disambiguation=None, n=-1):
        if context == "SubscriptionCardWidget":  # placeholders stay as they are
            parts = re.split(r"(\{[^}]*\})", source)
            return "".join(p if p.startswith("{") else p.upper() for p in parts)
        return ""  # not translated

    def isEmpty(self) -> bool:  # an empty translator is skipped
        return False


def test_language_change_retranslates_the_cards(demo_ctx, open_tab, qtbot) -> None:
    tab = open_tab(demo_ctx, "A-100011")
    translator = _Shouting()
    QCoreApplication.installTranslator(translator)
    try:
        card = tab.card_named("goto_meeting")
        qtbot.waitUntil(lambda: card.badge.text() == "CANCELLATION PENDING")
        assert "PLAN" in texts(card)
        assert "EXPIRES ON 5/7/2026" in texts(card)
        assert card.menu_actions[CardActionCode.REACTIVATE].text() == "&REACTIVATE"
    finally:
        QCoreApplication.removeTranslator(translator)
    qtbot.waitUntil(lambda: card.badge.text() == "Cancellation pending")


def test_account_without_subscriptions(demo_ctx, make_account, qtbot) -> None:
    tab = SubscriptionsTab(demo_ctx, make_account("Empty S.r.l."))
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    assert tab.cards == []
    assert tab.empty_label.text() == "This account has no subscriptions yet."
    assert tab.empty_label.isVisibleTo(tab)
    assert len(tab.discover_entries) == 6  # the whole catalog
    assert all(isinstance(w, SubscriptionCardWidget) for w in tab.cards)


# --------------------------------------------------------------------------- wiring (issue 5)


def test_discover_buy_buttons_follow_the_service(demo_ctx, open_tab) -> None:
    tab = open_tab(demo_ctx, "A-100018")
    entries = {e.offer.product_code: e for e in tab.discover_entries}
    assert entries["goto_meeting"].buy_button.text() == "Subscribe again"
    assert entries["goto_webinar"].buy_button.text() == "Buy"
    assert all(e.buy_button.isVisibleTo(e) for e in entries.values())
    overdue = open_tab(demo_ctx, "A-100009")  # an overdue invoice: nothing can be bought
    assert not any(e.buy_button.isVisibleTo(e) for e in overdue.discover_entries)


def _trigger(tab, card, code: CardActionCode) -> None:
    card.open_menu()
    card.menu_actions[code].trigger()
    card.menu.hide()


def _close(qtbot, tab) -> None:
    wizard = tab.wizard
    wizard.reject()
    qtbot.waitUntil(lambda: tab.wizard is None)


def test_each_menu_item_opens_its_wizard(demo_ctx, as_role, open_tab, qtbot) -> None:
    from billing_desktop.ui.wizards.assisted import AssistedCancellationWizard
    from billing_desktop.ui.wizards.cancellation import CancellationWizard, ReactivateDialog
    from billing_desktop.ui.wizards.checkout import CheckoutWizard

    tab = open_tab(demo_ctx, "A-100001")
    card = tab.card_named("gotoassist_rs_v4")
    _trigger(tab, card, CardActionCode.EDIT)
    assert type(tab.wizard) is CheckoutWizard
    assert tab.wizard.isVisible() and tab.wizard.windowModality() == Qt.WindowModality.WindowModal
    assert tab.wizard.state.target.subscription_id == card.card.subscription_id
    _close(qtbot, tab)

    _trigger(tab, card, CardActionCode.CANCEL)  # an online product: article 000
    assert type(tab.wizard) is CancellationWizard
    assert tab.wizard.subscription_id == card.card.subscription_id
    _close(qtbot, tab)

    # a support-only product (LogMeIn Resolve): the assisted wizard (article 002)
    tab = open_tab(demo_ctx, "A-100005")
    card = tab.card_named("logmein_resolve")
    _trigger(tab, card, CardActionCode.CANCEL)
    assert type(tab.wizard) is AssistedCancellationWizard
    assert tab.wizard.subscription_id == card.card.subscription_id
    _close(qtbot, tab)

    # support staff always run the assisted flow, for an online product too
    tab = open_tab(as_role("support"), "A-100001")
    card = tab.card_named("gotoassist_rs_v4")
    _trigger(tab, card, CardActionCode.CANCEL)
    assert type(tab.wizard) is AssistedCancellationWizard
    _close(qtbot, tab)

    tab = open_tab(demo_ctx, "A-100011")
    _trigger(tab, tab.card_named("goto_meeting"), CardActionCode.REACTIVATE)
    assert type(tab.wizard) is ReactivateDialog
    _close(qtbot, tab)


def test_subscribe_now_and_buy_open_the_checkout(demo_ctx, open_tab, qtbot) -> None:
    from billing_desktop.ui.wizards.checkout import CheckoutWizard

    tab = open_tab(demo_ctx, "A-100003")
    ended = tab.card_named("gotoassist_rs_v5")
    qtbot.mouseClick(ended.buttons[CardActionCode.SUBSCRIBE], Qt.MouseButton.LeftButton)
    assert type(tab.wizard) is CheckoutWizard
    assert tab.wizard.state.target.subscription_id == ended.card.subscription_id
    assert tab.wizard.currentId() == CheckoutWizard.PLAN
    _close(qtbot, tab)

    entry = next(e for e in tab.discover_entries if e.offer.product_code == "goto_meeting")
    qtbot.mouseClick(entry.buy_button, Qt.MouseButton.LeftButton)
    assert type(tab.wizard) is CheckoutWizard
    assert tab.wizard.state.target.product.code == "goto_meeting"
    assert tab.wizard.state.target.subscribe
    _close(qtbot, tab)


def test_completed_reloads_the_card_and_navigation_switches_tab(demo_ctx, open_tab, qtbot) -> None:
    from billing_desktop.services.cancellation import cancel_online

    tab = open_tab(demo_ctx, "A-100001")
    card = tab.card_named("gotoassist_rs_v4")
    _trigger(tab, card, CardActionCode.CANCEL)
    wizard = tab.wizard
    cancel_online(demo_ctx, card.card.subscription_id, reason="too_expensive")
    assert tab.card_named("gotoassist_rs_v4").badge.text() == "Active"  # not read yet
    with qtbot.waitSignal(tab.account_changed):
        wizard.completed.emit()
    assert tab.card_named("gotoassist_rs_v4").badge.text() == "Cancellation pending"
    with qtbot.waitSignal(tab.tab_requested) as signal:
        wizard.request_navigation("invoices")
    assert signal.args == ["invoices"]
    qtbot.waitUntil(lambda: tab.wizard is None)


def test_cart_indicator_opens_the_cart(demo_ctx, open_tab, qtbot) -> None:
    from billing_desktop.services.cart import CartChange, add_to_cart
    from billing_desktop.ui.wizards.checkout import CheckoutWizard

    tab = open_tab(demo_ctx, "A-100002")
    assert not tab.cart_bar.isVisibleTo(tab)
    sub_id = tab.cards[0].card.subscription_id
    add_to_cart(demo_ctx, tab.account_id, [CartChange.change_licences(sub_id, 8)])
    tab.reload()
    assert tab.cart_bar.isVisibleTo(tab)
    assert tab.cart_label.text() == "Cart: 1 item(s)"
    assert tab.review_cart_button.text() == "Re&view cart"
    qtbot.mouseClick(tab.review_cart_button, Qt.MouseButton.LeftButton)
    assert type(tab.wizard) is CheckoutWizard
    assert tab.wizard.state.target is None
    assert tab.wizard.currentId() == CheckoutWizard.CART
    _close(qtbot, tab)
