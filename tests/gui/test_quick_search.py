"""Quick search (Ctrl+K): from a started main window to an account page, keyboard only."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from billing_desktop.services.accounts import SearchMatch, quick_search
from billing_desktop.ui.account.page import AccountPage
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.quick_search import QuickSearchDialog, QuickSearchModel, match_text


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


def _focused():
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def _open_search(qtbot, window) -> QuickSearchDialog:
    qtbot.keyClick(_focused(), Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window._quick_search is not None and window._quick_search.isVisible())
    dialog = window._quick_search
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.edit)
    return dialog


def _wait_for_page(qtbot, window, number: str) -> AccountPage:
    """The account page of ``number`` shows and has the keyboard."""
    qtbot.waitUntil(
        lambda: (
            isinstance(page := window.stack.currentWidget(), AccountPage)
            and page.number_label.text() == number
            and page.isAncestorOf(QApplication.focusWidget())
        )
    )
    return _shown_page(window)


def _shown_page(window) -> AccountPage:
    page = window.stack.currentWidget()
    assert isinstance(page, AccountPage)
    return page


@pytest.mark.parametrize(
    ("typed", "match"),
    [
        ("sanne.dev", SearchMatch.CONTACT_EMAIL),  # the billing admin of A-100005
        ("a-100005", SearchMatch.ACCOUNT_ID),
        ("100005", SearchMatch.ACCOUNT_ID),
    ],
)
def test_ctrl_k_type_enter_opens_the_account_without_the_mouse(qtbot, window, typed, match) -> None:
    dialog = _open_search(qtbot, window)
    qtbot.keyClicks(_focused(), typed)
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0)
    first = dialog.selected_hit()
    assert first is not None
    assert (first.account_number, first.matched) == ("A-100005", match)
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), AccountPage))
    page = _shown_page(window)
    assert page.number_label.text() == "A-100005"
    assert page.company_label.text() == "Van der Berg Techniek B.V."
    assert not dialog.isVisible()
    # the keyboard is on the page now
    qtbot.waitUntil(lambda: page.isAncestorOf(QApplication.focusWidget()))


def test_invoice_number_finds_its_account(qtbot, window, demo_ctx) -> None:
    number, account = demo_ctx.db.reader.rows(
        "SELECT i.number, a.account_number FROM invoices i JOIN accounts a "
        "ON a.id = i.account_id WHERE a.account_number = 'A-100009' ORDER BY i.number LIMIT 1"
    )[0]
    dialog = _open_search(qtbot, window)
    qtbot.keyClicks(_focused(), number.lower())
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)  # before the typing pause ends: searches now
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), AccountPage))
    assert _shown_page(window).number_label.text() == account
    assert dialog.model.hits()[0].matched is SearchMatch.INVOICE_NUMBER


def test_arrows_move_the_selection_and_enter_opens_it(qtbot, window) -> None:
    dialog = _open_search(qtbot, window)
    qtbot.keyClicks(_focused(), "a-10000")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 9)
    assert dialog.selected_hit().account_number == "A-100001"
    qtbot.keyClick(_focused(), Qt.Key.Key_Down)
    qtbot.keyClick(_focused(), Qt.Key.Key_Down)
    qtbot.keyClick(_focused(), Qt.Key.Key_Up)
    assert dialog.selected_hit().account_number == "A-100002"
    assert _focused() is dialog.edit  # the keys never left the line edit
    qtbot.keyClick(_focused(), Qt.Key.Key_Up)
    qtbot.keyClick(_focused(), Qt.Key.Key_Up)  # stops at the first row
    assert dialog.selected_hit().account_number == "A-100001"
    qtbot.keyClick(_focused(), Qt.Key.Key_Down)
    qtbot.keyClick(_focused(), Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), AccountPage))
    assert _shown_page(window).number_label.text() == "A-100002"


def test_escape_closes_and_nothing_opens(qtbot, window) -> None:
    dialog = _open_search(qtbot, window)
    qtbot.keyClicks(_focused(), "rossi")
    qtbot.keyClick(_focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.stack.currentWidget() is window.views["accounts"]
    assert window.account_page is None


def test_results_as_you_type_and_status_texts(qtbot, window) -> None:
    dialog = _open_search(qtbot, window)
    assert dialog.status_label.text().startswith("Type an account ID")
    qtbot.keyClicks(_focused(), "de vries")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1)  # no Enter: the pause searched
    hit = dialog.model.hits()[0]
    assert (hit.account_number, hit.matched, hit.matched_text) == (
        "A-100005", SearchMatch.CONTACT_NAME, "Sanne de Vries",
    )  # fmt: skip
    assert dialog.model.index(0, 0).data() == (
        "A-100005  Van der Berg Techniek B.V.\nContact Sanne de Vries"
    )
    assert dialog.status_label.text() == "1 account(s) found. Enter opens the selected one."
    qtbot.keyClicks(_focused(), "zzz")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0)
    assert dialog.status_label.text() == "No account matches “de vrieszzz”."
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)  # nothing to open: stays
    assert dialog.isVisible()


def test_reopening_selects_the_previous_text(qtbot, window) -> None:
    dialog = _open_search(qtbot, window)
    qtbot.keyClicks(_focused(), "a-100016")
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    _wait_for_page(qtbot, window, "A-100016")
    again = _open_search(qtbot, window)  # Ctrl+K also works from the account page
    assert again is dialog
    assert dialog.edit.selectedText() == "a-100016"
    qtbot.keyClicks(_focused(), "a-100001")  # typing replaces the old text
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    _wait_for_page(qtbot, window, "A-100001")
    assert window.stack.count() == 2  # the list and one account page


def test_match_texts(demo_ctx) -> None:
    texts = {
        h.matched: match_text(h)
        for text in ("A-100005", "Van der", "sanne.devries@", "pieter van der berg")
        for h in quick_search(demo_ctx, text)[:1]
    }
    assert texts == {
        SearchMatch.ACCOUNT_ID: "Account ID A-100005",
        SearchMatch.COMPANY: "Company name Van der Berg Techniek B.V.",
        SearchMatch.CONTACT_EMAIL: "Contact email sanne.devries@vanderberg-techniek.example",
        SearchMatch.CONTACT_NAME: "Contact Pieter van der Berg",
    }


def test_model_is_a_valid_qt_model(qtmodeltester, demo_ctx) -> None:
    model = QuickSearchModel()
    model.set_hits(quick_search(demo_ctx, "a-1000"))
    assert model.rowCount() == 19
    qtmodeltester.check(model)
    model.set_hits([])
    qtmodeltester.check(model)
