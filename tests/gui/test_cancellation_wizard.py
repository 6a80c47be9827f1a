"""Article 000 on screen: cancel online → Cancellation pending → Reactivate.

The curated account A-100001 (Rossi Impianti, billing contact Marco Rossi)
has an annual GoToAssist Remote Support v4 Premium plan whose current year
runs 2025-10-13 – 2026-10-13; the clock is fixed on 2026-04-26.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest
from helpers import dump
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTranslator
from PySide6.QtWidgets import QApplication, QWizard
from sqlalchemy import select

from billing_desktop.services.subscriptions_view import CardActionCode
from billing_desktop.store.models import Account, AuditEntry, Contact, Email, Subscription
from billing_desktop.ui.account.subscriptions import SubscriptionsTab
from billing_desktop.ui.wizards import cancellation as cancellation_module
from billing_desktop.ui.wizards.cancellation import CancellationWizard, ReactivateDialog

# The offscreen platform cannot raise windows or grab the keyboard for popups
# (menus, combo lists): a limit of the test platform, not of the wizard.
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (raise|grabbing|propagateSizeHints)"
)

PRODUCT = "gotoassist_rs_v4"
MARCO = "marco.rossi@rossi-impianti.example"

Commit = QWizard.WizardButton.CommitButton
Cancel = QWizard.WizardButton.CancelButton
Finish = QWizard.WizardButton.FinishButton


# --------------------------------------------------------------------------- helpers


def account_id(ctx, number: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(select(Account.id).where(Account.account_number == number))


def sub_state(ctx, number: str = "A-100001", product: str = PRODUCT) -> dict:
    with ctx.db.sessions() as s:
        sub = s.scalar(
            select(Subscription)
            .join(Account)
            .where(Account.account_number == number, Subscription.product.has(code=product))
        )
        return {
            "id": sub.id,
            "status": sub.status,
            "auto_renew": sub.auto_renew,
            "cancel_requested_at": sub.cancel_requested_at,
            "cancellation_effective": sub.cancellation_effective,
            "cancel_reason": sub.cancel_reason,
            "cancel_reason_text": sub.cancel_reason_text,
            "version": sub.version,
        }


def audits(ctx, action: str) -> list[tuple[int | None, dict, dict]]:
    with ctx.db.sessions() as s:
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [
            (r.requested_by_contact_id, json.loads(r.before_json), json.loads(r.after_json))
            for r in rows
        ]


def outbox(ctx, number: str = "A-100001") -> list[tuple[str, str, str]]:
    with ctx.db.sessions() as s:
        rows = s.scalars(
            select(Email).join(Account).where(Account.account_number == number).order_by(Email.id)
        )
        return [(e.kind, e.to_address, e.status) for e in rows]


def contact_id(ctx, email: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(select(Contact.id).where(Contact.email == email))


def menu_texts(card) -> list[str]:
    return [a.text() for a in card.menu.actions() if a.isVisible()]


class MouseCounter(QObject):
    """Counts every mouse event the application sees (a keyboard-only test has none)."""

    KINDS = {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
    }

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in self.KINDS:
            self.count += 1
        return False


@pytest.fixture
def open_tab(qtbot):
    def make(ctx, number: str = "A-100001") -> SubscriptionsTab:
        tab = SubscriptionsTab(ctx, account_id(ctx, number))
        qtbot.addWidget(tab)
        tab.resize(1200, 800)
        tab.show()
        qtbot.waitExposed(tab)
        return tab

    return make


@pytest.fixture
def open_wizard(qtbot):
    def make(ctx, number: str = "A-100001", product: str = PRODUCT) -> CancellationWizard:
        wizard = CancellationWizard(
            ctx, account_id(ctx, number), sub_state(ctx, number, product)["id"]
        )
        qtbot.addWidget(wizard)
        wizard.open()
        qtbot.waitExposed(wizard)
        return wizard

    return make


def choose_reason_by_click(qtbot, page, row: int) -> None:
    """Open the reason list with a click and click the item in row ``row``."""
    combo = page.reason_combo
    qtbot.mouseClick(combo, Qt.MouseButton.LeftButton)
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    rect = view.visualRect(view.model().index(row, 0))

    def click_item() -> bool:
        # The list ignores a release that comes too soon after the click that opened
        # it (a double-click guard): click again until it takes the item.
        qtbot.mouseMove(view.viewport(), rect.center())
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        return not view.isVisible()

    qtbot.waitUntil(click_item)
    assert combo.currentIndex() == row


# --------------------------------------------------------------------------- seed 000


def test_seed_000_cancel_then_reactivate_by_mouse(demo_ctx, db, open_tab, qtbot) -> None:
    tab = open_tab(demo_ctx)
    card = tab.card_named(PRODUCT)
    assert card.badge.text() == "Active"
    before = sub_state(demo_ctx)

    # 2. options icon in the card's top-right corner → Cancel subscription
    qtbot.mouseClick(card.options_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(card.menu.isVisible)
    assert menu_texts(card) == ["&Edit subscription", "&Cancel subscription"]
    action = card.menu_actions[CardActionCode.CANCEL]
    qtbot.mouseClick(
        card.menu, Qt.MouseButton.LeftButton, pos=card.menu.actionGeometry(action).center()
    )
    qtbot.waitUntil(lambda: isinstance(tab.wizard, CancellationWizard) and tab.wizard.isVisible())
    wizard = tab.wizard
    assert wizard.isModal() or wizard.windowModality() == Qt.WindowModality.WindowModal
    page = wizard.confirm_page
    assert wizard.currentPage() is page

    # 3. the confirmation window: verify the information
    assert page.title() == "Cancel GoToAssist Remote Support v4?"
    assert page.facts.rows() == [
        ("Product", "GoToAssist Remote Support v4"),
        ("Plan", "Premium"),
        ("Licences", "3"),
        ("Billing frequency", "Annually"),
        ("Active until", "10/13/2026"),
        ("Auto-renewal", "Turned off: the plan is not renewed after 10/13/2026"),
    ]
    assert page.billing_note.text() == (
        "The current billing period is already paid for and is not refunded; nothing more is "
        "billed. Its data is kept until 1/11/2027, then deleted."
    )
    assert not page.trial_note.isVisibleTo(page)
    assert not page.blocked_box.isVisibleTo(page)
    assert page.requester_combo.currentText() == f"Marco Rossi <{MARCO}> (billing contact)"
    yes, dont = wizard.button(Commit), wizard.button(Cancel)
    assert (yes.text(), dont.text()) == ("&Yes, cancel", "&Don't cancel")
    assert yes.isVisible() and not yes.isEnabled()  # a reason is required
    assert page.hint_label.text() == "Choose a reason for the cancellation."
    assert dump(db) == dump(db)  # (the dump is stable)
    untouched = dump(db)

    choose_reason_by_click(qtbot, page, 0)
    assert page.reason_combo.currentText() == "It is too expensive"
    qtbot.mouseClick(page.details_edit.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(page.details_edit, "Budget cut for 2026")
    assert yes.isEnabled()
    assert not page.hint_label.isVisibleTo(page)
    assert dump(db) == untouched  # nothing written before the final button

    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)

    # Result: when the plan expires, the email, Close
    result = wizard.result_page
    assert result.headline.text() == (
        "Your GoToAssist Remote Support v4 subscription expires on 10/13/2026."
    )
    assert result.facts.rows() == [
        ("Product", "GoToAssist Remote Support v4"),
        ("Status", "Cancellation pending"),
        ("Expires on", "10/13/2026"),
        ("Auto-renewal", "Off"),
        ("Confirmation email", f"Sent to {MARCO}"),
    ]
    assert wizard.button(Finish).text() == "&Close"
    assert wizard.button(Finish).isVisible()
    assert not wizard.button(Cancel).isVisible()
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()

    after = sub_state(demo_ctx)
    assert after | {"version": None} == {
        "id": before["id"],
        "status": "cancellation_pending",
        "auto_renew": False,
        "cancel_requested_at": datetime(2026, 4, 26, 9, 0),
        "cancellation_effective": date(2026, 10, 13),
        "cancel_reason": "too_expensive",
        "cancel_reason_text": "Budget cut for 2026",
        "version": None,
    }
    assert after["version"] == before["version"] + 1
    [(requester, audit_before, audit_after)] = audits(demo_ctx, "cancel_subscription")
    assert requester == contact_id(demo_ctx, MARCO)
    assert (audit_before["status"], audit_after["status"]) == ("active", "cancellation_pending")
    assert audit_after["effective_end"] == "2026-10-13"
    assert outbox(demo_ctx) == [("cancellation_confirmed", MARCO, "queued")]

    # the card already shows it (completed reloaded the tab)
    card = tab.card_named(PRODUCT)
    assert card.badge.text() == "Cancellation pending"
    assert card.status_note.text() == "Expires on 10/13/2026"

    qtbot.mouseClick(wizard.button(Finish), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.wizard is None)

    # "you can reactivate before it expires": the options menu offers Reactivate
    qtbot.mouseClick(card.options_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(card.menu.isVisible)
    assert menu_texts(card) == ["&Reactivate"]
    action = card.menu_actions[CardActionCode.REACTIVATE]
    qtbot.mouseClick(
        card.menu, Qt.MouseButton.LeftButton, pos=card.menu.actionGeometry(action).center()
    )
    qtbot.waitUntil(lambda: isinstance(tab.wizard, ReactivateDialog) and tab.wizard.isVisible())
    dialog = tab.wizard
    assert dialog.headline.text() == "Reactivate GoToAssist Remote Support v4?"
    assert dialog.info.text() == (
        "GoToAssist Remote Support v4 renews automatically again. "
        "The next billing date is 10/13/2026."
    )
    assert dialog.expiry.text() == "Without reactivation it expires on 10/13/2026."
    assert (dialog.reactivate_button.text(), dialog.keep_button.text()) == (
        "&Reactivate",
        "&Keep cancellation",
    )
    assert dialog.reactivate_button.isDefault()
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(dialog.reactivate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.wizard is None)

    state = sub_state(demo_ctx)
    assert (state["status"], state["auto_renew"], state["cancellation_effective"]) == (
        "active",
        True,
        None,
    )
    assert (state["cancel_reason"], state["cancel_requested_at"]) == (None, None)
    [(requester, audit_before, audit_after)] = audits(demo_ctx, "reactivate_subscription")
    assert requester == contact_id(demo_ctx, MARCO)
    assert (audit_before["status"], audit_after["status"]) == ("cancellation_pending", "active")
    assert outbox(demo_ctx) == [
        ("cancellation_confirmed", MARCO, "queued"),
        ("reactivated", MARCO, "queued"),
    ]
    card = tab.card_named(PRODUCT)
    assert card.badge.text() == "Active"
    assert tab.message_label.text() == (
        "GoToAssist Remote Support v4 has been reactivated. The next billing date is "
        "10/13/2026. A confirmation email was sent."
    )
    card.open_menu()
    assert menu_texts(card) == ["&Edit subscription", "&Cancel subscription"]
    card.menu.hide()


def test_seed_000_keyboard_only(demo_ctx, open_tab, qtbot) -> None:
    """Cancel and reactivate without a single mouse event."""
    counter = MouseCounter()
    app = QApplication.instance()
    tab = open_tab(demo_ctx)
    app.installEventFilter(counter)
    try:
        card = tab.card_named(PRODUCT)
        tab.activateWindow()
        qtbot.waitUntil(tab.isActiveWindow)
        tab.scroll.setFocus()
        qtbot.keyClick(tab.scroll, Qt.Key.Key_Tab)
        qtbot.waitUntil(card.hasFocus)
        qtbot.keyClick(card, Qt.Key.Key_Space)
        qtbot.waitUntil(card.menu.isVisible)
        qtbot.keyClick(card.menu, Qt.Key.Key_Down)  # Edit subscription → Cancel subscription
        assert card.menu.activeAction() is card.menu_actions[CardActionCode.CANCEL]
        qtbot.keyClick(card.menu, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: isinstance(tab.wizard, CancellationWizard))
        wizard = tab.wizard
        qtbot.waitExposed(wizard)
        wizard.activateWindow()
        qtbot.waitUntil(wizard.isActiveWindow)
        page = wizard.confirm_page

        qtbot.waitUntil(page.reason_combo.hasFocus)  # the page starts on the reason
        qtbot.keyClick(page.reason_combo, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
        qtbot.waitUntil(page.requester_combo.hasFocus)
        qtbot.keyClick(wizard, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)  # &Reason
        qtbot.waitUntil(page.reason_combo.hasFocus)
        qtbot.keyClick(page.reason_combo, Qt.Key.Key_Down)
        qtbot.keyClick(page.reason_combo, Qt.Key.Key_Down)
        assert page.reason_combo.currentData() == "missing_features"
        qtbot.keyClick(page.reason_combo, Qt.Key.Key_Tab)
        qtbot.waitUntil(page.details_edit.hasFocus)
        qtbot.keyClicks(page.details_edit, "No mobile app")
        assert wizard.button(Commit).isEnabled()
        qtbot.keyClick(page.details_edit, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)
        assert wizard.result_page.facts.value("expiry_date") == "10/13/2026"
        assert sub_state(demo_ctx)["cancel_reason"] == "missing_features"
        # Enter = the default button: Close
        qtbot.keyClick(wizard.focusWidget() or wizard, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: tab.wizard is None)

        card = tab.card_named(PRODUCT)
        assert card.badge.text() == "Cancellation pending"
        tab.activateWindow()
        qtbot.waitUntil(tab.isActiveWindow)
        qtbot.waitUntil(card.hasFocus)  # the reload kept the focus on the card
        qtbot.keyClick(card, Qt.Key.Key_Menu)
        qtbot.waitUntil(card.menu.isVisible)
        qtbot.keyClick(card.menu, Qt.Key.Key_Return)  # Reactivate
        qtbot.waitUntil(lambda: isinstance(tab.wizard, ReactivateDialog))
        dialog = tab.wizard
        qtbot.waitExposed(dialog)
        with qtbot.waitSignal(dialog.completed):
            qtbot.keyClick(dialog.reactivate_button, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: tab.wizard is None)
        assert sub_state(demo_ctx)["status"] == "active"
        assert [kind for kind, _to, _status in outbox(demo_ctx)] == [
            "cancellation_confirmed",
            "reactivated",
        ]
    finally:
        app.removeEventFilter(counter)
    assert counter.count == 0


def test_dont_cancel_writes_nothing(demo_ctx, db, open_tab, qtbot) -> None:
    tab = open_tab(demo_ctx)
    untouched = dump(db)
    card = tab.card_named(PRODUCT)
    for close in ("button", "escape"):
        card.open_menu()
        card.menu_actions[CardActionCode.CANCEL].trigger()
        wizard = tab.wizard
        qtbot.waitExposed(wizard)
        choose_reason_by_click(qtbot, wizard.confirm_page, 2)
        qtbot.keyClicks(wizard.confirm_page.details_edit, "changing our mind")
        completed: list[bool] = []
        wizard.completed.connect(lambda done=completed: done.append(True))
        if close == "button":
            qtbot.mouseClick(wizard.button(Cancel), Qt.MouseButton.LeftButton)
        else:
            qtbot.keyClick(wizard.confirm_page.reason_combo, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: tab.wizard is None)
        assert completed == []
        assert dump(db) == untouched
        card = tab.card_named(PRODUCT)
        assert card.badge.text() == "Active"


def test_reason_is_required_and_other_needs_a_description(demo_ctx, open_wizard, qtbot) -> None:
    wizard = open_wizard(demo_ctx)
    page, yes = wizard.confirm_page, wizard.button(Commit)
    assert not yes.isEnabled()
    assert not page.validatePage()  # Enter on a disabled button cannot sneak through
    assert sub_state(demo_ctx)["status"] == "active"
    qtbot.keyClicks(page.details_edit, "no reason chosen")
    assert not yes.isEnabled()

    other = page.reason_combo.findData("other")
    choose_reason_by_click(qtbot, page, other)
    assert page.reason_combo.currentText() == "Other (please describe)"
    assert yes.isEnabled()  # described already
    page.details_edit.clear()
    assert not yes.isEnabled()
    assert page.hint_label.text() == "Describe the reason for the cancellation."
    qtbot.keyClicks(page.details_edit, "   ")
    assert not yes.isEnabled()
    qtbot.keyClicks(page.details_edit, "Moving to an in-house tool")
    assert yes.isEnabled()
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)
    state = sub_state(demo_ctx)
    assert (state["cancel_reason"], state["cancel_reason_text"]) == (
        "other",
        "Moving to an in-house tool",
    )


def test_double_activation_cancels_once(demo_ctx, open_wizard, qtbot, monkeypatch) -> None:
    wizard = open_wizard(demo_ctx)
    page, yes = wizard.confirm_page, wizard.button(Commit)
    choose_reason_by_click(qtbot, page, 0)
    real = cancellation_module.cancel_online
    calls: list[dict] = []
    reentered: list[object] = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        # a second activation while the first runs: the button is disabled and the
        # page's guard refuses a nested validation
        reentered.append(yes.isEnabled())
        yes.click()
        reentered.append(page.validatePage())
        return real(*args, **kwargs)

    monkeypatch.setattr(cancellation_module, "cancel_online", spy)
    completed = []
    wizard.completed.connect(lambda: completed.append(True))
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    yes.click()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)
    assert page.validatePage()  # already done: no second call
    assert len(calls) == 1
    assert reentered == [False, False]
    assert completed == [True]
    assert len(audits(demo_ctx, "cancel_subscription")) == 1
    assert outbox(demo_ctx) == [("cancellation_confirmed", MARCO, "queued")]


class _Shouting(QTranslator):
    """Upper-cases the wizard's words (a stand-in for another language)."""

    CONTEXTS = ("CancellationWizard", "CancellationConfirmPage", "CancellationReason")

    def translate(self, context, source, disambiguation=None, n=-1):
        if context in self.CONTEXTS:
            parts = re.split(r"(\{[^}]*\})", source)
            return "".join(p if p.startswith("{") else p.upper() for p in parts)
        return ""

    def isEmpty(self) -> bool:
        return False


def test_language_change_keeps_the_reason_typed(demo_ctx, open_wizard, qtbot) -> None:
    wizard = open_wizard(demo_ctx)
    page = wizard.confirm_page
    choose_reason_by_click(qtbot, page, page.reason_combo.findData("switching_provider"))
    qtbot.keyClicks(page.details_edit, "Going with another vendor")
    requester = page.requester_combo.currentData()

    translator = _Shouting()
    QCoreApplication.installTranslator(translator)
    try:
        qtbot.waitUntil(lambda: wizard.button(Commit).text() == "&YES, CANCEL")
        assert wizard.button(Cancel).text() == "&DON'T CANCEL"
        assert page.reason_combo.currentText() == "WE ARE SWITCHING PROVIDER"
        assert page.facts.rows()[0] == ("PRODUCT", "GoToAssist Remote Support v4")
        assert page.details_edit.toPlainText() == "Going with another vendor"
        assert page.reason_combo.currentData() == "switching_provider"
        assert page.requester_combo.currentData() == requester
        assert wizard.button(Commit).isEnabled()
    finally:
        QCoreApplication.removeTranslator(translator)
    qtbot.waitUntil(lambda: wizard.button(Commit).text() == "&Yes, cancel")
    # a plain LanguageChange event keeps everything too
    QApplication.sendEvent(page, QEvent(QEvent.Type.LanguageChange))
    assert page.reason_combo.currentText() == "We are switching provider"
    assert page.details_edit.toPlainText() == "Going with another vendor"
    qtbot.mouseClick(wizard.button(Commit), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)
    state = sub_state(demo_ctx)
    assert (state["cancel_reason"], state["cancel_reason_text"]) == (
        "switching_provider",
        "Going with another vendor",
    )


# --------------------------------------------------------------------------- other cases


def test_a_trial_simply_expires(demo_ctx, db, open_wizard, qtbot) -> None:
    """Article 000: a trial without billing information expires without any action."""
    wizard = open_wizard(demo_ctx, "A-100003", "goto_webinar")
    page = wizard.confirm_page
    assert page.facts.value("active_until") == "5/1/2026"
    assert page.facts.rows()[-2:] == [
        ("Trial ends on", "5/1/2026"),
        ("Auto-renewal", "None: a trial is never charged"),
    ]
    assert page.trial_note.text() == (
        "A free trial without billing information simply expires at the end of the trial "
        "period, on 5/1/2026, with no charge and nothing else to do. Cancelling it now only "
        "records the reason."
    )
    assert not page.billing_note.isVisibleTo(page)
    untouched = dump(db)
    qtbot.mouseClick(wizard.button(Cancel), Qt.MouseButton.LeftButton)
    assert dump(db) == untouched


def test_a_fixed_term_past_its_notice_window_warns(demo_ctx, open_wizard) -> None:
    wizard = open_wizard(demo_ctx, "A-100019", "goto_meeting")
    page = wizard.confirm_page
    assert page.facts.value("active_until") == "5/16/2027"
    assert page.warning_note.text() == (
        "The agreement was not cancelled at least 30 days before its end (5/16/2026), so it "
        "renews for another term: it stays active, and is billed, until 5/16/2027."
    )
    assert page.billing_note.text() == (
        "The agreement runs until 5/16/2027: €1,730.00 is still billed for its remaining "
        "months. Nothing is refunded."
    )


def test_not_the_billing_contact_is_refused_on_the_page(
    demo_ctx, db, open_wizard, qtbot
) -> None:
    wizard = open_wizard(demo_ctx)
    page = wizard.confirm_page
    giulia = page.requester_combo.findData(
        contact_id(demo_ctx, "giulia.bianchi@rossi-impianti.example")
    )
    page.requester_combo.setCurrentIndex(giulia)
    choose_reason_by_click(qtbot, page, 0)
    untouched = dump(db)
    qtbot.mouseClick(wizard.button(Commit), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.error_shown()))
    assert page.error_shown() == (
        f"Contact your billing admin (Marco Rossi, {MARCO}) to make product or licensing changes"
    )
    assert wizard.currentPage() is page
    assert dump(db) == untouched
    # the page can fix it: back to the billing contact, and Yes, cancel works again
    page.requester_combo.setCurrentIndex(0)
    assert not page.error_shown()
    assert wizard.button(Commit).isEnabled()
    qtbot.mouseClick(wizard.button(Commit), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)
    assert sub_state(demo_ctx)["status"] == "cancellation_pending"


def test_overdue_account_is_blocked_with_a_way_to_the_invoices(
    demo_ctx, db, open_wizard, qtbot
) -> None:
    untouched = dump(db)
    wizard = open_wizard(demo_ctx, "A-100009", "goto_meeting")
    page = wizard.confirm_page
    assert page.blocked_label.text() == (
        "An overdue invoice must be paid before the plan can be changed."
    )
    assert not page.reason_box.isVisibleTo(page)
    assert not wizard.button(Commit).isEnabled()
    assert ("Status", "Active") in page.facts.rows()
    assert page.facts.value("active_until") == ""  # no outcome for a refused cancellation
    assert page.way_out_button.text() == "Open &Invoices"
    with qtbot.waitSignal(wizard.navigate_requested) as signal:
        qtbot.mouseClick(page.way_out_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["invoices"]
    assert not wizard.isVisible()
    assert dump(db) == untouched


def test_support_only_product_for_a_viewer_and_for_support(
    demo_ctx, as_role, open_wizard, qtbot
) -> None:
    wizard = open_wizard(as_role("viewer"), "A-100005", "logmein_resolve")
    page = wizard.confirm_page
    assert page.blocked_label.isVisibleTo(page)
    assert not page.assisted_button.isVisibleTo(page)
    assert not wizard.button(Commit).isEnabled()

    wizard = open_wizard(as_role("support"), "A-100005", "logmein_resolve")
    page = wizard.confirm_page
    assert page.blocked_label.text() == (
        "LogMeIn Resolve cannot be cancelled online. Please contact support to cancel."
    )
    assert page.assisted_button.isVisibleTo(page)
    assert page.assisted_button.text() == "&Start assisted cancellation…"
    assert not wizard.button(Commit).isEnabled()


def test_support_only_product_hands_over_to_the_assisted_wizard(demo_ctx, open_tab, qtbot) -> None:
    from billing_desktop.ui.wizards.assisted import AssistedCancellationWizard

    tab = open_tab(demo_ctx, "A-100005")
    sub_id = sub_state(demo_ctx, "A-100005", "logmein_resolve")["id"]
    wizard = tab._open_wizard(lambda: CancellationWizard(demo_ctx, tab.account_id, sub_id, tab))
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    page = wizard.confirm_page
    assert page.assisted_button.isVisibleTo(page)
    qtbot.waitUntil(page.assisted_button.hasFocus)  # the way out has the focus
    with qtbot.waitSignal(wizard.assisted_requested):
        qtbot.keyClick(page.assisted_button, Qt.Key.Key_Space)
    assisted = wizard.assisted_wizard
    assert isinstance(assisted, AssistedCancellationWizard)
    assert assisted.isVisible() and not wizard.isVisible()
    assert assisted.subscription_id == sub_id
    qtbot.waitUntil(lambda: tab.wizard is assisted)
    # its signals reach the tab
    with qtbot.waitSignal(tab.account_changed):
        assisted.completed.emit()
    with qtbot.waitSignal(tab.tab_requested) as signal:
        assisted.navigate_requested.emit("licences")
    assert signal.args == ["licences"]
    assisted.reject()
    qtbot.waitUntil(lambda: tab.wizard is None)


def test_conflict_reloads_and_keeps_the_reason(demo_ctx, open_wizard, qtbot) -> None:
    wizard = open_wizard(demo_ctx)
    page = wizard.confirm_page
    choose_reason_by_click(qtbot, page, 0)
    qtbot.keyClicks(page.details_edit, "kept")
    with demo_ctx.db.transaction() as s:  # someone else touches the subscription meanwhile
        s.get(Subscription, wizard.subscription_id).licence_count = 4
    qtbot.mouseClick(wizard.button(Commit), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.error_shown()))
    assert "reload" in page.error_shown()
    assert page.facts.value("licences") == "4"  # fresh data
    assert page.details_edit.toPlainText() == "kept"
    assert sub_state(demo_ctx)["status"] == "active"
    qtbot.mouseClick(wizard.button(Commit), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)
    assert sub_state(demo_ctx)["status"] == "cancellation_pending"


def test_reactivate_dialog_keep_cancellation_writes_nothing(demo_ctx, db, qtbot) -> None:
    number = "A-100011"
    sub_id = sub_state(demo_ctx, number, "goto_meeting")["id"]
    untouched = dump(db)
    dialog = ReactivateDialog(demo_ctx, account_id(demo_ctx, number), sub_id)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    assert dialog.headline.text() == "Reactivate GoTo Meeting?"
    assert dialog.expiry.text() == "Without reactivation it expires on 5/7/2026."
    qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert dump(db) == untouched


def test_reactivate_dialog_guards_double_clicks(demo_ctx, qtbot, monkeypatch) -> None:
    number = "A-100011"
    sub_id = sub_state(demo_ctx, number, "goto_meeting")["id"]
    dialog = ReactivateDialog(demo_ctx, account_id(demo_ctx, number), sub_id)
    qtbot.addWidget(dialog)
    dialog.open()
    real = cancellation_module.reactivate
    calls = []

    def spy(*args, **kwargs):
        calls.append(True)
        dialog.reactivate_button.click()  # disabled while the first call runs
        dialog.confirm()
        return real(*args, **kwargs)

    monkeypatch.setattr(cancellation_module, "reactivate", spy)
    qtbot.mouseClick(dialog.reactivate_button, Qt.MouseButton.LeftButton)
    dialog.confirm()
    assert len(calls) == 1
    assert sub_state(demo_ctx, number, "goto_meeting")["status"] == "active"
    assert len(audits(demo_ctx, "reactivate_subscription")) == 1


def test_reactivate_too_late_says_why(demo_ctx, db, qtbot) -> None:
    import dataclasses

    from billing_desktop.services.clock import FixedClock

    late = dataclasses.replace(demo_ctx, clock=FixedClock(date(2026, 5, 7)))
    number = "A-100011"
    sub_id = sub_state(demo_ctx, number, "goto_meeting")["id"]
    dialog = ReactivateDialog(late, account_id(late, number), sub_id)
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.error_label.text() == (
        "GoTo Meeting expired on 5/7/2026 and can no longer be reactivated. "
        "Subscribe again instead."
    )
    assert not dialog.reactivate_button.isEnabled()
