"""The account page (header, tabs, Back) and its Overview tab (edits, validation, conflicts)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.accounts import AccountChanges, account_overview, update_account
from billing_desktop.store.models import Account, AuditEntry
from billing_desktop.ui.account import overview as overview_module
from billing_desktop.ui.account.overview import ContactsModel, OverviewTab
from billing_desktop.ui.account.page import AccountPage
from billing_desktop.ui.errors import error_text
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.models.accounts_model import AccountsTableModel

TAB_TITLES = [
    "Overview", "Subscriptions", "Invoices", "Users && licences", "Payment methods",
    "Activity", "Emails",
]  # fmt: skip


def _id(ctx, number: str) -> int:
    return int(
        ctx.db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})
    )


def _stored(ctx, number: str) -> Account:
    with ctx.db.sessions() as session:
        return session.scalar(select(Account).where(Account.account_number == number))


@pytest.fixture
def errors(monkeypatch) -> list[DomainError]:
    """Service errors the Overview reported (instead of a modal message box)."""
    shown: list[DomainError] = []
    monkeypatch.setattr(overview_module, "show_service_error", lambda _p, err: shown.append(err))
    return shown


@pytest.fixture
def page(qtbot, demo_ctx) -> AccountPage:
    widget = AccountPage(demo_ctx, _id(demo_ctx, "A-100005"))
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget)
    return widget


@pytest.fixture
def window(qtbot, demo_ctx) -> MainWindow:
    win = MainWindow(demo_ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    qtbot.waitUntil(lambda: win.views["accounts"].model.total_known)
    return win


# --------------------------------------------------------------------------- the page


def test_header_and_tabs_in_order(page) -> None:
    assert page.number_label.text() == "A-100005"
    assert page.company_label.text() == "Van der Berg Techniek B.V."
    assert page.type_badge.text() == "Standard"
    assert page.status_badge.text() == "Active"
    assert page.balance_label.text() == "Balance due: €512.00"
    assert not page.credit_label.isVisible()
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert titles == TAB_TITLES
    assert page.tab_keys() == [
        "overview", "subscriptions", "invoices", "licences", "payment_methods",
        "activity", "emails",
    ]  # fmt: skip
    assert page.current_tab_key() == "overview"


def test_tabs_are_built_when_first_shown(qtbot, page) -> None:
    assert list(page.built_tabs()) == ["overview"]
    page.tabs.setCurrentIndex(2)
    assert list(page.built_tabs()) == ["overview", "invoices"]
    assert type(page.built_tabs()["invoices"]).__name__ == "InvoicesTab"
    # Alt+digit switches tabs from anywhere on the page
    page.overview_tab.edits["city"].setFocus()
    qtbot.keyClick(page.overview_tab.edits["city"], Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert page.current_tab_key() == "payment_methods"
    assert "payment_methods" in page.built_tabs()


def test_overdue_corporate_header(qtbot, demo_ctx) -> None:
    overdue = AccountPage(demo_ctx, _id(demo_ctx, "A-100009"))
    qtbot.addWidget(overdue)
    assert overdue.status_badge.text() == "Overdue"
    credit = AccountPage(demo_ctx, _id(demo_ctx, "A-100012"))
    qtbot.addWidget(credit)
    assert credit.balance_label.text() == "Nothing due"
    assert credit.credit_label.text() == "Account credit: £45.00"
    corporate = AccountPage(demo_ctx, _id(demo_ctx, "A-100016"))
    qtbot.addWidget(corporate)
    assert corporate.type_badge.text() == "Corporate"
    assert corporate.overview_tab.info_values["representative"].text() == "Annelies Verhoeven"


def test_a_change_in_one_tab_reloads_the_header_and_the_built_tabs(qtbot, page, demo_ctx) -> None:
    invoices = page.tab("invoices")
    reloaded: list[str] = []
    invoices.reload = lambda: reloaded.append("invoices")  # type: ignore[method-assign]
    ov = account_overview(demo_ctx, page.account_id)
    update_account(
        demo_ctx, ov.id, AccountChanges(company_name="Berg Techniek B.V."),
        expected_version=ov.version,
    )  # fmt: skip
    page.tab("payment_methods").account_changed.emit()
    assert page.company_label.text() == "Berg Techniek B.V."
    assert page.overview_tab.edits["company_name"].text() == "Berg Techniek B.V."
    assert reloaded == ["invoices"]
    assert "subscriptions" not in page.built_tabs()  # not built: reads fresh data when shown


def test_back_button_and_keys(qtbot, page) -> None:
    with qtbot.waitSignal(page.back_requested):
        qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    page.tabs.setFocus()
    with qtbot.waitSignal(page.back_requested):
        qtbot.keyClick(page.tabs, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    with qtbot.waitSignal(page.back_requested):
        qtbot.keyClick(page.tabs, Qt.Key.Key_Backspace)
    # in a text field Backspace edits the text
    city = page.overview_tab.edits["city"]
    city.setFocus()
    city.end(False)
    with qtbot.assertNotEmitted(page.back_requested):
        qtbot.keyClick(city, Qt.Key.Key_Backspace)
    assert city.text() == "Utrech"


# --------------------------------------------------------------------------- main window


def test_enter_on_the_accounts_list_opens_the_page_and_back_returns(qtbot, window) -> None:
    view = window.views["accounts"]
    qtbot.keyClicks(view.filter_edit, "Van der Berg")
    qtbot.keyClick(view.filter_edit, Qt.Key.Key_Return)  # filters now, focus to the first row
    assert view.model.rowCount() == 1
    assert QApplication.focusWidget() is view.table
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), AccountPage))
    page = window.account_page
    assert page is not None and page.number_label.text() == "A-100005"
    assert window.navigation.currentItem().text() == "Accounts"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is view)
    assert window.account_page is None
    assert view.filter_edit.text() == "Van der Berg"  # the list is as it was
    assert window.stack.count() == 1


def test_double_click_opens_and_a_second_account_replaces_the_first(qtbot, window) -> None:
    view = window.views["accounts"]
    index = view.model.index(0, AccountsTableModel.COMPANY)
    first = view.model.data(index, AccountsTableModel.ObjectRole)
    rect = view.table.visualRect(index)
    # a real double-click starts with a press on the same cell
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.account_page is not None)
    assert window.account_page.account_id == first.id
    window.open_account(_id(window.ctx, "A-100001"))
    assert window.account_page.number_label.text() == "A-100001"
    assert window.stack.count() == 2
    window.refresh_action.trigger()  # F5 reads the page again
    assert window.account_page.number_label.text() == "A-100001"
    window.view_actions["accounts"].trigger()  # Ctrl+1 also closes the page
    assert window.account_page is None
    assert window.stack.currentWidget() is view


def test_unsaved_edits_are_not_lost_silently(qtbot, window, monkeypatch) -> None:
    window.open_account(_id(window.ctx, "A-100005"))
    page = window.account_page
    page.overview_tab.edits["city"].setText("Zeist")
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard]
    asked: list[str] = []

    def fake_exec(box: QMessageBox) -> int:
        asked.append(box.text())
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    page.back_button.click()
    assert window.account_page is page  # Cancel: stays, edits kept
    assert page.overview_tab.edits["city"].text() == "Zeist"
    page.back_button.click()
    assert window.account_page is None  # Discard
    assert asked == ["The changes to account A-100005 are not saved. Discard them?"] * 2


# --------------------------------------------------------------------------- the Overview


def test_overview_shows_the_account(page) -> None:
    tab = page.overview_tab
    values = {name: tab.field_value(name) for name in tab.edits}
    assert values["company_name"] == "Van der Berg Techniek B.V."
    assert values["city"] == "Utrecht"
    assert values["vat_number"] == "NL669247704B01"
    assert tab.combos["country"].currentText() == "Netherlands (NL)"
    assert tab.combos["language"].currentText() == "Nederlands (nl)"
    assert tab.combos["currency"].currentText() == "EUR"
    assert not tab.combos["currency"].isEnabled()  # it has invoices
    assert tab.info_values["outstanding"].text() == "€512.00"
    assert tab.info_values["payment_method"].text() == "Mastercard ending 5100, expires 06/2029"
    assert tab.info_values["autopay"].text().startswith("Off:")
    rows = [
        [tab.contacts_model.index(r, c).data() for c in range(3)]
        for r in range(tab.contacts_model.rowCount())
    ]
    assert rows[0] == [
        "Sanne de Vries",
        "sanne.devries@vanderberg-techniek.example",
        "Billing admin",
    ]
    assert tab.contacts_model.index(0, 0).data(Qt.ItemDataRole.FontRole).bold()
    assert tab.contacts_hint.text().startswith("The billing contact (in bold) is Sanne de Vries.")
    assert rows[1][2] == "Super admin"
    assert not tab.save_button.isEnabled() and not tab.revert_button.isEnabled()


def test_edit_city_and_save(qtbot, page, demo_ctx, errors) -> None:
    tab = page.overview_tab
    changed: list[bool] = []
    tab.account_changed.connect(lambda: changed.append(True))
    city = tab.edits["city"]
    city.setFocus()
    city.selectAll()
    qtbot.keyClicks(city, "Amersfoort")
    assert tab.save_button.isEnabled() and tab.revert_button.isEnabled()
    qtbot.keyClick(city, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Save
    assert errors == []
    assert changed == [True]
    assert _stored(demo_ctx, "A-100005").city == "Amersfoort"
    with demo_ctx.db.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account.updated")
        ).one()
    assert json.loads(entry.before_json) == {"city": "Utrecht"}
    assert json.loads(entry.after_json) == {"city": "Amersfoort"}
    assert not tab.save_button.isEnabled()  # saved: nothing changed any more
    assert tab.overview.version == _stored(demo_ctx, "A-100005").version


def test_invalid_vat_number_disables_save_with_a_message(qtbot, page, demo_ctx) -> None:
    tab = page.overview_tab
    vat = tab.edits["vat_number"]
    vat.selectAll()
    qtbot.keyClicks(vat, "NL669247705B01")
    error = tab.error_labels["vat_number"]
    assert not error.isHidden()
    assert error.text() == "NL669247705B01 is not a valid VAT number for NL: check the digits."
    assert not tab.save_button.isEnabled()
    assert tab.revert_button.isEnabled()
    vat.selectAll()
    qtbot.keyClicks(vat, "NL669247704B01")  # the stored number again
    assert error.isHidden() and not tab.save_button.isEnabled()
    # a German address needs a German number
    country = tab.combos["country"]
    country.setCurrentIndex(country.findData("DE"))
    assert error.text() == (
        "The VAT number NL669247704B01 belongs to another country than the billing country DE."
    )
    vat.selectAll()
    qtbot.keyClicks(vat, "DE136695976")
    assert error.isHidden() and tab.save_button.isEnabled()
    tab.save_button.click()
    stored = _stored(demo_ctx, "A-100005")
    assert (stored.country, stored.vat_number) == ("DE", "DE136695976")


def test_required_field_message_and_revert(qtbot, page) -> None:
    tab = page.overview_tab
    city = tab.edits["city"]
    city.selectAll()
    qtbot.keyClick(city, Qt.Key.Key_Delete)
    assert tab.error_labels["city"].text() == "Enter the city."
    assert not tab.save_button.isEnabled()
    tab.revert_button.click()
    assert city.text() == "Utrecht"
    assert tab.error_labels["city"].isHidden()
    assert not tab.revert_button.isEnabled()


def test_conflict_keeps_the_input_until_reload(qtbot, page, demo_ctx, errors) -> None:
    tab = page.overview_tab
    # another operator changes the account after the tab read it
    with demo_ctx.db.transaction() as session:
        other = session.scalar(select(Account).where(Account.account_number == "A-100005"))
        other.region = "Provincie Utrecht"
    tab.edits["city"].setText("Zeist")
    tab.edits["postal_code"].setText("3701 AA")
    tab.save_button.click()
    assert len(errors) == 1
    assert error_text(errors[0]) == (
        "A-100005 was changed by someone else in the meantime; reload to see the current "
        "data. Your input is kept."
    )
    assert tab.conflict and not tab.conflict_label.isHidden()
    assert "changed elsewhere" in tab.conflict_label.text()
    assert tab.edits["city"].text() == "Zeist"
    assert tab.edits["postal_code"].text() == "3701 AA"
    stored = _stored(demo_ctx, "A-100005")
    assert (stored.city, stored.region) == ("Utrecht", "Provincie Utrecht")
    assert QApplication.focusWidget() is tab.reload_button or not tab.isActiveWindow()
    tab.reload_button.click()
    assert tab.edits["city"].text() == "Utrecht"
    assert tab.edits["region"].text() == "Provincie Utrecht"
    assert tab.conflict_label.isHidden()
    assert not tab.save_button.isEnabled()


def test_refused_save_keeps_input_and_focuses_the_field(qtbot, page, demo_ctx, errors) -> None:
    tab = page.overview_tab
    tab.combos["type"].setCurrentIndex(tab.combos["type"].findData("corporate"))
    assert tab.type_note.text().startswith("Corporate accounts pay by invoice")
    tab.save_button.click()  # A-100005 has autopay off: allowed
    assert errors == []
    assert _stored(demo_ctx, "A-100005").type == "corporate"
    assert page.type_badge.text() == "Corporate"  # the header follows the save


def test_another_tabs_change_keeps_the_users_edits(qtbot, page, demo_ctx) -> None:
    tab = page.overview_tab
    tab.edits["city"].setText("Zeist")
    ov = account_overview(demo_ctx, page.account_id)
    update_account(demo_ctx, ov.id, AccountChanges(region="UT"), expected_version=ov.version)
    page.tab("payment_methods").account_changed.emit()
    assert tab.edits["city"].text() == "Zeist"  # kept
    assert tab.edits["region"].text() == "UT"  # refreshed
    tab.save_button.click()  # no conflict: nobody else touched the city
    stored = _stored(demo_ctx, "A-100005")
    assert (stored.city, stored.region) == ("Zeist", "UT")


def test_viewer_sees_read_only_fields(qtbot, as_role) -> None:
    viewer = as_role("viewer")
    widget = OverviewTab(viewer, _id(viewer, "A-100005"))
    qtbot.addWidget(widget)
    assert widget.edits["city"].isReadOnly()
    assert not widget.combos["country"].isEnabled()
    assert widget.save_button.isHidden()
    assert not widget.read_only_note.isHidden()


def test_autopay_link_opens_payment_methods(qtbot, page) -> None:
    page.overview_tab.info_values["autopay"].linkActivated.emit("#payment_methods")
    assert page.current_tab_key() == "payment_methods"


def test_contacts_model(qtmodeltester, page) -> None:
    model = page.overview_tab.contacts_model
    assert isinstance(model, ContactsModel)
    assert model.rowCount() == 5
    qtmodeltester.check(model)
    selection = page.overview_tab.contacts_table.selectionModel()
    selection.select(model.index(0, 0), QItemSelectionModel.SelectionFlag.Select)
    assert model.contact(0).is_billing_contact


def test_language_change_keeps_the_users_edits(qtbot, page) -> None:
    tab = page.overview_tab
    tab.edits["city"].setText("Zeist")
    for widget in (page, tab):
        QApplication.sendEvent(widget, QEvent(QEvent.Type.LanguageChange))
    assert tab.edits["city"].text() == "Zeist"
    assert tab.save_button.isEnabled()
    assert tab.combos["type"].currentText() == "Standard"
    assert page.tabs.tabText(3) == "Users && licences"
    assert page.number_label.text() == "A-100005"


def test_a_missing_account_is_reported_and_nothing_opens(qtbot, window, monkeypatch) -> None:
    from billing_desktop.ui import main_window

    shown: list[DomainError] = []
    monkeypatch.setattr(main_window, "show_service_error", lambda _p, err: shown.append(err))
    window.open_account(999_999)
    assert [err.code for err in shown] == ["not_found"]
    assert window.account_page is None
    assert window.stack.currentWidget() is window.views["accounts"]


# --------------------------------------------------------------------------- wizards (issue 5)


def test_a_wizard_on_the_subscriptions_tab_reloads_the_page_and_switches_tabs(
    qtbot, demo_ctx, monkeypatch
) -> None:
    """Article 000 from the account page: the header and the other tabs read the
    account again when the wizard completes; its way out switches the page's tab."""
    from billing_desktop.services.subscriptions_view import CardActionCode
    from billing_desktop.ui.wizards.cancellation import CancellationWizard

    page = AccountPage(demo_ctx, _id(demo_ctx, "A-100001"))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    qtbot.waitExposed(page)
    invoices = page.tab("invoices")
    reloads: list[str] = []
    monkeypatch.setattr(invoices, "reload", lambda: reloads.append("invoices"))
    monkeypatch.setattr(page, "reload_header", lambda: reloads.append("header"))
    page.show_tab("subscriptions")
    tab = page.tab("subscriptions")
    card = tab.card_named("gotoassist_rs_v4")
    card.menu_actions[CardActionCode.CANCEL].trigger()  # the options menu's item
    wizard = tab.wizard
    assert isinstance(wizard, CancellationWizard)
    confirm = wizard.confirm_page
    confirm.reason_combo.setCurrentIndex(confirm.reason_combo.findData("no_longer_needed"))
    qtbot.mouseClick(wizard.button(wizard.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page)
    assert reloads == ["header", "invoices"]
    assert tab.card_named("gotoassist_rs_v4").badge.text() == "Cancellation pending"

    wizard.request_navigation("invoices")
    assert page.current_tab_key() == "invoices"
    qtbot.waitUntil(lambda: tab.wizard is None)


def test_show_tab_ignores_an_unknown_key(page) -> None:
    page.show_tab("licences")
    assert page.current_tab_key() == "licences"
    page.show_tab("no_such_tab")
    assert page.current_tab_key() == "licences"
