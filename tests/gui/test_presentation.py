"""Presentation mode (issue 7 item 4) on a real main window over the curated demo (2026-04-26).

- the scale enlarges the whole UI and turning the mode off restores every size exactly;
- *Show Clicks and Keys* captions key presses and ripples clicks without taking the
  focus or an event from anyone;
- the Customer View shows the billing contact's Billing Center with their permissions
  and follows what the operator changes.
"""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWizard,
)
from sqlalchemy import select

from billing_desktop.services import cancellation as cx
from billing_desktop.services.subscriptions_view import CardActionCode
from billing_desktop.store.models import Account, Subscription
from billing_desktop.ui.customer_view import CustomerCardWidget, CustomerView
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.presentation import (
    InputOverlay,
    PresentationController,
    app_scale,
    install_presentation,
)
from billing_desktop.ui.quick_search import QuickSearchDialog
from billing_desktop.ui.wizards.cancellation import CancellationWizard

# The offscreen platform cannot raise windows or grab the keyboard for popups.
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (raise|grabbing|propagateSizeHints)"
)

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def account_id(ctx, number: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(select(Account.id).where(Account.account_number == number))


def subscription_id(ctx, number: str, product: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(
            select(Subscription.id)
            .join(Account)
            .where(Account.account_number == number, Subscription.product.has(code=product))
        )


@pytest.fixture(autouse=True)
def _normal_size_afterwards():
    """The application font is process-wide: every test ends at 100 %."""
    yield
    app_scale().apply(100)


def make_window(qtbot, ctx) -> MainWindow:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    return win


@pytest.fixture
def window(qtbot, demo_ctx) -> MainWindow:
    win = make_window(qtbot, demo_ctx)
    install_presentation(win)
    yield win
    controller = presentation(win)
    controller.set_show_input(False)
    controller.set_enabled(False)


def presentation(win: MainWindow) -> PresentationController:
    controller = win.presentation  # type: ignore[attr-defined]
    assert isinstance(controller, PresentationController)
    return controller


def open_account(qtbot, win: MainWindow, number: str, tab: str = "subscriptions") -> None:
    win.open_account(account_id(win.ctx, number))
    win.account_page.show_tab(tab)
    qtbot.waitUntil(lambda: win.account_page.tab(tab).isVisible())


# --------------------------------------------------------------------------- scale


def sizes() -> dict[int, tuple]:
    """Every size the mode touches, per widget (fonts, icons, row heights) and the app's."""
    found: dict[int, tuple] = {}
    for w in QApplication.allWidgets():
        f = w.font()
        entry: tuple = (type(w).__name__, w.objectName(), f.pointSizeF(), f.pixelSize(), f.bold())
        if isinstance(w, QAbstractButton):
            entry += (w.iconSize(),)
        if isinstance(w, QHeaderView):
            # (a stretched column takes what the others leave: layout, not a size of its own)
            stretch = QHeaderView.ResizeMode.Stretch
            columns = [
                w.sectionSize(i) for i in range(w.count()) if w.sectionResizeMode(i) != stretch
            ]
            entry += (w.defaultSectionSize(), columns)
        assert not [p for p in w.dynamicPropertyNames() if bytes(p).startswith(b"_presentation")]
        found[int(shiboken6.getCppPointer(w)[0])] = entry
    found[0] = (QFont(QApplication.font()).toString(), QApplication.font("QMenu").toString())
    return found


def nav_sizes(win: MainWindow) -> tuple:
    nav = win.navigation
    return nav.width(), [nav.item(i).sizeHint().height() for i in range(nav.count())]


def test_view_menu_has_the_presentation_submenu(window) -> None:
    controller = presentation(window)
    titles = [a.text() for a in window.view_menu.actions()]
    assert "&Presentation" in titles
    assert [a.text() for a in controller.menu.actions() if not a.isSeparator()] == [
        "&Presentation Mode",
        "&Scale",
        "Show &Clicks and Keys",
        "C&ustomer View",
    ]
    assert [a.text() for a in controller.scale_menu.actions()] == [
        "100 %",
        "125 %",
        "150 %",
        "200 %",
    ]
    assert controller.mode_action.shortcut().toString() == "Ctrl+Shift+P"
    assert controller.scale == 150 and controller.scale_actions[150].isChecked()
    assert not controller.enabled


def test_the_scale_enlarges_everything_and_restores_exactly(qtbot, window) -> None:
    open_account(qtbot, window, "A-100005")
    page = window.account_page
    card = page.tab("subscriptions").card_named("logmein_resolve")
    before, before_nav = sizes(), nav_sizes(window)
    base = QApplication.font().pointSizeF()
    title = page.company_label.font().pointSizeF()
    badge = page.type_badge.font().pointSizeF()  # a style sheet stops the parent's font
    icon = card.options_button.iconSize()
    row = window.navigation.item(0).sizeHint().height()

    qtbot.keyClick(window, Qt.Key.Key_P, CTRL | SHIFT)  # 150 % by default
    controller = presentation(window)
    assert controller.enabled
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.5)
    assert page.company_label.font().pointSizeF() == pytest.approx(title * 1.5)
    assert page.type_badge.font().pointSizeF() == pytest.approx(badge * 1.5)
    assert card.name_label.font().pointSizeF() == pytest.approx(base * 1.15 * 1.5)
    assert card.rows["plan"][1].font().pointSizeF() == pytest.approx(base * 1.5)
    assert card.options_button.iconSize() == icon * 1.5
    assert window.navigation.item(0).sizeHint().height() > row
    assert QSettings().value("presentation/enabled", type=bool) is True

    controller.scale_actions[200].trigger()  # View ▸ Presentation ▸ Scale ▸ 200 %
    assert QApplication.font().pointSizeF() == pytest.approx(base * 2)
    assert page.company_label.font().pointSizeF() == pytest.approx(title * 2)
    assert card.options_button.iconSize() == icon * 2
    assert QSettings().value("presentation/scale", type=int) == 200

    qtbot.keyClick(window, Qt.Key.Key_P, CTRL | SHIFT)
    assert not controller.enabled
    assert sizes() == before
    assert nav_sizes(window) == before_nav
    assert QSettings().value("presentation/enabled", type=bool) is False


def test_a_widget_made_during_the_mode_is_scaled_and_restored(qtbot, window) -> None:
    base = QApplication.font().pointSizeF()
    presentation(window).set_enabled(True)
    open_account(qtbot, window, "A-100001")  # built at 150 %
    page = window.account_page
    assert page.company_label.font().pointSizeF() == pytest.approx(base * 1.5 * 1.5)
    presentation(window).set_enabled(False)
    assert page.company_label.font().pointSizeF() == pytest.approx(base * 1.5)
    assert page.number_label.font().pointSizeF() == pytest.approx(base * 1.5)


def test_the_mode_and_scale_are_remembered(qtbot, demo_ctx, window) -> None:
    controller = presentation(window)
    controller.set_scale(125)
    controller.set_enabled(True)
    base = app_scale()
    assert base.percent == 125
    second = make_window(qtbot, demo_ctx)
    again = install_presentation(second)
    assert again.enabled and again.scale == 125
    assert again.scale_actions[125].isChecked()
    again.set_enabled(False)
    assert app_scale().percent == 100


# --------------------------------------------------------------------------- clicks and keys


def test_keys_are_captioned_and_still_reach_their_widgets(qtbot, window) -> None:
    controller = presentation(window)
    controller.set_show_input(True)
    edit = window.views["accounts"].filter_edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)

    qtbot.keyClicks(edit, "Rossi")
    overlay = controller.overlay(window)
    assert isinstance(overlay, InputOverlay)
    assert overlay.caption == "Rossi"
    assert edit.text() == "Rossi"  # every key reached the field

    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    assert overlay.caption == "Tab"
    assert not edit.hasFocus()  # Tab moved the focus, as it does without the overlay

    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    qtbot.keyClick(edit, Qt.Key.Key_K, CTRL)
    assert overlay.caption == "Ctrl+K"
    dialog = window.findChild(QuickSearchDialog)
    assert dialog is not None and dialog.isVisible()  # the shortcut still ran
    qtbot.waitUntil(dialog.edit.hasFocus)
    qtbot.keyClicks(dialog.edit, "A-1")
    assert controller.overlay(dialog).caption == "A-1"
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Escape)
    assert controller.overlay(dialog) is None or not dialog.isVisible()


def test_a_password_field_shows_dots_not_the_text(qtbot, window) -> None:
    controller = presentation(window)
    controller.set_show_input(True)
    dialog = QDialog(window)
    password = QLineEdit(dialog)
    password.setEchoMode(QLineEdit.EchoMode.Password)
    QVBoxLayout(dialog).addWidget(password)
    dialog.show()
    qtbot.waitExposed(dialog)
    password.setFocus()
    qtbot.waitUntil(password.hasFocus)
    qtbot.keyClicks(password, "s3cret")
    overlay = controller.overlay(dialog)
    assert overlay.caption == "…"
    assert password.text() == "s3cret"
    dialog.close()


def test_a_click_ripples_and_the_button_still_gets_it_without_a_focus_change(qtbot, window) -> None:
    controller = presentation(window)
    controller.set_show_input(True)
    button = QPushButton("Ping", window)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    window.statusBar().addWidget(button)
    button.show()
    edit = window.views["accounts"].filter_edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)

    clicks: list[bool] = []
    button.clicked.connect(lambda: clicks.append(True))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    overlay = controller.overlay(window)
    assert isinstance(overlay, InputOverlay)
    where = button.mapTo(window, button.rect().center())
    assert overlay.last_click == where
    assert where in overlay.ripple_points()
    assert clicks == [True]
    assert QApplication.focusWidget() is edit
    assert edit.hasFocus()
    # the overlay lies over everything now, and still lets the next click through
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    assert overlay.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert overlay.geometry() == window.rect()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert clicks == [True, True]
    assert overlay.last_click == button.mapTo(window, QPoint(3, 3))
    assert QApplication.focusWidget() is edit

    # a focusable widget takes the focus on a click as it always does
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, 10))
    assert QApplication.focusWidget() is not overlay

    controller.set_show_input(False)
    assert controller.overlay(window) is None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert clicks == [True, True, True]


# --------------------------------------------------------------------------- customer view


def customer(win: MainWindow) -> CustomerView:
    view = presentation(win).customer_view
    assert isinstance(view, CustomerView)
    return view


def customer_card(win: MainWindow, product: str) -> CustomerCardWidget:
    return next(c for c in customer(win).cards if c.card.product_code == product)


def test_customer_view_is_offered_only_with_an_account_open(qtbot, window) -> None:
    controller = presentation(window)
    assert not controller.customer_action.isEnabled()
    open_account(qtbot, window, "A-100005")
    assert controller.customer_action.isEnabled()
    controller.customer_action.trigger()
    dock = controller.customer_dock
    assert dock is not None and dock.isVisible()
    assert dock.windowTitle() == "Customer View"
    window.back_to_accounts()
    assert not controller.customer_action.isEnabled()
    assert not dock.isVisible()
    open_account(qtbot, window, "A-100001")  # it comes back with the next account
    assert dock.isVisible()
    assert customer(window).view.account_number == "A-100001"
    dock.close()
    assert not controller.customer_action.isChecked()


def test_customer_view_shows_the_billing_contacts_cards_without_support_powers(
    qtbot, window
) -> None:
    open_account(qtbot, window, "A-100005")
    operator_card = window.account_page.tab("subscriptions").card_named("logmein_resolve")
    assert CardActionCode.CANCEL in operator_card.menu_actions  # support runs the assisted flow

    presentation(window).set_customer_view_visible(True)
    view = customer(window)
    assert view.title_label.text() == "Billing Center"
    assert view.account_label.text() == "Van der Berg Techniek B.V. (A-100005)"
    assert view.contact_combo.currentText() == "Sanne de Vries (Billing admin)"
    card = customer_card(window, "logmein_resolve")
    assert card.isVisible()
    assert card.badge.text() == "Active"
    assert not card.options_button.isVisible() and card.menu_actions == {}
    assert card.actions_label.text().splitlines() == [
        "✓ Edit subscription",
        "✗ Cancel subscription: LogMeIn Resolve cannot be cancelled online. "
        "Please contact support to cancel.",
        "✗ Lower plan: To move to a lower plan, contact Customer Care",
    ]
    assert view.balance_label.text() == (
        "Balance due: €512.00. The customer can pay it with Pay balance."
    )
    assert view.invoice_tabs.tabText(0) == "Open invoices (1)"
    assert view.open_table.topLevelItem(0).text(0) == "INV-2026-000065"
    assert "Van der Berg" not in view.discover_label.text()


def test_customer_view_as_another_contact(qtbot, window) -> None:
    """A-100004: the plain user Paolo Conti is sent to the billing admin."""
    open_account(qtbot, window, "A-100004")
    presentation(window).set_customer_view_visible(True)
    view = customer(window)
    assert not view.notice_label.isVisible()
    combo = view.contact_combo
    index = next(i for i in range(combo.count()) if combo.itemText(i).startswith("Paolo Conti"))
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    while combo.currentIndex() != index:  # the keyboard, as a user would
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert view.view.contact.name == "Paolo Conti"
    assert view.notice_label.isVisible()
    assert view.notice_label.text().startswith("Contact your billing admin (Elena Marchetti,")
    for card in view.cards:
        assert all(line.startswith("✗") for line in card.actions_label.text().splitlines())


def test_customer_view_follows_a_cancellation_in_the_operator_view(qtbot, window) -> None:
    open_account(qtbot, window, "A-100001")
    controller = presentation(window)
    controller.set_customer_view_visible(True)
    card = customer_card(window, "gotoassist_rs_v4")
    assert card.badge.text() == "Active"
    assert card.actions_label.text().splitlines()[:2] == [
        "✓ Edit subscription",
        "✓ Cancel subscription",
    ]

    tab = window.account_page.tab("subscriptions")
    operator_card = tab.card_named("gotoassist_rs_v4")
    operator_card.setFocus()
    qtbot.waitUntil(operator_card.hasFocus)
    qtbot.keyClick(operator_card, Qt.Key.Key_Space)  # the options menu
    qtbot.waitUntil(operator_card.menu.isVisible)
    operator_card.menu_actions[CardActionCode.CANCEL].trigger()
    qtbot.waitUntil(lambda: isinstance(tab.wizard, CancellationWizard))
    wizard = tab.wizard
    page = wizard.confirm_page
    page.reason_combo.setFocus()
    qtbot.keyClick(page.reason_combo, Qt.Key.Key_Down)
    yes = wizard.button(QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(yes.isEnabled)
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)

    qtbot.waitUntil(
        lambda: customer_card(window, "gotoassist_rs_v4").badge.text() == "Cancellation pending",
        timeout=1500,  # the wizard's completion, not the periodic re-read
    )
    card = customer_card(window, "gotoassist_rs_v4")
    assert card.actions_label.text().splitlines() == ["✓ Reactivate"]
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)


def test_customer_view_follows_a_change_made_elsewhere(qtbot, window) -> None:
    """A change outside the account page (the clock, another operator) is read on a timer."""
    open_account(qtbot, window, "A-100011")
    presentation(window).set_customer_view_visible(True)
    assert customer_card(window, "goto_meeting").badge.text() == "Cancellation pending"
    cx.reactivate(window.ctx, subscription_id(window.ctx, "A-100011", "goto_meeting"))
    qtbot.waitUntil(
        lambda: customer_card(window, "goto_meeting").badge.text() == "Active", timeout=5000
    )


def test_customer_view_at_150_percent(qtbot, window, tmp_path) -> None:
    open_account(qtbot, window, "A-100009")
    controller = presentation(window)
    controller.set_customer_view_visible(True)
    controller.set_enabled(True)
    view = customer(window)
    assert view.notice_label.font().pointSizeF() == pytest.approx(QApplication.font().pointSizeF())
    table = view.open_table
    assert table.height() >= table.header().height() + table.sizeHintForRow(0)
    window.grab().save(str(tmp_path / "presentation-150.png"))


def test_the_menu_and_the_customer_view_follow_a_language_switch(
    qtbot, window, shipped_qm, monkeypatch
) -> None:
    import xml.etree.ElementTree as ET
    from pathlib import Path

    from PySide6.QtCore import QLocale

    from billing_desktop import i18n

    def shipped(context: str, source: str) -> str:
        root = Path(__file__).resolve().parents[2] / "translations" / "billing_desktop_nl.ts"
        for ctx in ET.parse(root).getroot().iter("context"):
            if ctx.findtext("name") == context:
                for message in ctx.iter("message"):
                    if message.findtext("source") == source:
                        return message.findtext("translation") or ""
        raise AssertionError(source)

    monkeypatch.setattr(i18n, "translations_dir", lambda: shipped_qm)
    open_account(qtbot, window, "A-100001")
    controller = presentation(window)
    controller.set_customer_view_visible(True)
    try:
        window.switch_language("nl")
        active = shipped("SubscriptionCardWidget", "Active")
        # Qt posts LanguageChange to every widget; it arrives with the next events
        qtbot.waitUntil(lambda: customer_card(window, "gotoassist_rs_v4").badge.text() == active)
        card = customer_card(window, "gotoassist_rs_v4")
        edit = shipped("SubscriptionCardWidget", "&Edit subscription").replace("&", "")
        assert card.actions_label.text().splitlines()[0] == f"✓ {edit}"
        assert controller.menu.title()  # retranslated (English until the texts are translated)
        assert customer(window).invoices_title.text()
    finally:
        i18n.uninstall(QApplication.instance())
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
