"""The Invoices view (all accounts): data from the database, SQL filters and sorts,
the lazy model, keyboard use and opening an invoice's account."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from billing_desktop.store.invoice_queries import InvoiceFilter
from billing_desktop.ui.models.invoices_model import InvoicesTableModel
from billing_desktop.ui.views.invoices_view import InvoicesView

M = InvoicesTableModel
TODAY = date(2026, 4, 26)


@pytest.fixture
def demo(demo_ctx):
    """The curated demo data with one invoice voided and one disputed, through the services."""
    from billing_desktop.services.invoices import dispute_invoice, void_invoice

    void_invoice(demo_ctx, "INV-2026-000065", "Issued twice")
    dispute_invoice(demo_ctx, "INV-2026-000066", "Wrong licence count")
    return demo_ctx


@pytest.fixture
def raw(demo, db_path):
    """A plain sqlite3 connection: what the view shows must be what this reads."""
    con = sqlite3.connect(db_path)
    yield con
    con.close()


@pytest.fixture
def view(qtbot, demo) -> InvoicesView:
    widget = InvoicesView(demo)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.count_label.text() != "")  # counted after the first paint
    return widget


def numbers(model: InvoicesTableModel) -> list[str]:
    while model.canFetchMore():
        model.fetchMore()
    return [model.index(r, M.NUMBER).data() for r in range(model.rowCount())]


def sql_numbers(
    raw: sqlite3.Connection, where: str = "1", order: str = "i.number DESC, i.id DESC"
) -> list[str]:
    sql = (
        "SELECT i.number FROM invoices i JOIN accounts a ON a.id = i.account_id "
        f"WHERE {where} ORDER BY {order}"
    )
    return [r[0] for r in raw.execute(sql)]


def descending(order: str) -> str:
    return ", ".join(f"{part.strip()} DESC" for part in order.split(","))


def click_header(view: InvoicesView, column: int) -> None:
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    QTest.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )


# -- model -------------------------------------------------------------------


def test_model_passes_qt_model_tester(qtmodeltester, demo) -> None:
    model = InvoicesTableModel(demo)
    qtmodeltester.check(model)


def test_model_tester_with_small_pages_and_cache(qtmodeltester, demo, monkeypatch) -> None:
    monkeypatch.setattr(InvoicesTableModel, "PAGE_SIZE", 7)
    monkeypatch.setattr(InvoicesTableModel, "CACHED_BLOCKS", 2)
    model = InvoicesTableModel(demo)
    model.sort(M.COMPANY, Qt.SortOrder.AscendingOrder)
    model.set_filter(InvoiceFilter(status="paid"))
    qtmodeltester.check(model)


def test_pages_keep_ids_and_only_a_few_blocks_of_rows(demo, raw, monkeypatch) -> None:
    monkeypatch.setattr(InvoicesTableModel, "PAGE_SIZE", 10)
    monkeypatch.setattr(InvoicesTableModel, "CACHED_BLOCKS", 3)
    model = InvoicesTableModel(demo)
    assert model.rowCount() == 10
    shown = numbers(model)  # to the end, page by page
    assert shown == sql_numbers(raw)
    assert model.rowCount() == model.loaded_count() == 154
    assert model.cached_rows() <= 30
    # A row whose block was let go of is read again by id.
    assert model.index(0, M.NUMBER).data() == shown[0]
    assert model.row_object(3).number == shown[3]
    assert model.cached_rows() <= 30


def test_rows_show_what_the_database_holds(view, raw) -> None:
    model = view.model
    sql = (
        "SELECT i.number, i.issue_date, a.account_number, a.company_name, i.total_minor, "
        "i.due_date, i.status FROM invoices i JOIN accounts a ON a.id = i.account_id "
        "ORDER BY i.number DESC LIMIT 30"
    )
    for r, (number, issued, account, company, _total, due, status) in enumerate(raw.execute(sql)):
        assert model.index(r, M.NUMBER).data() == number
        assert model.index(r, M.ISSUE_DATE).data() == QDate.fromString(
            issued, "yyyy-MM-dd"
        ).toString("M/d/yyyy")
        assert model.index(r, M.ACCOUNT).data() == account
        assert model.index(r, M.COMPANY).data() == company
        assert model.index(r, M.TOTAL).data().replace("£", "€").replace("$", "€").startswith("€")
        assert model.index(r, M.DUE_DATE).data() == QDate.fromString(due, "yyyy-MM-dd").toString(
            "M/d/yyyy"
        )
        assert status in ("open", "paid", "void")
    assert view.count_label.text() == "154 invoice(s)"


def test_statuses_in_words(view) -> None:
    model = view.model
    texts = {
        model.index(r, M.NUMBER).data(): model.index(r, M.STATUS).data()
        for r in range(model.rowCount())
    }
    assert texts["INV-2026-000065"] == "Void"
    assert texts["INV-2026-000066"] == "Paid, disputed"
    assert texts["INV-2026-000036"] == "Overdue"
    assert texts["INV-2026-000064"] == "Paid"
    row = next(r for r in range(model.rowCount()) if texts[model.index(r, 0).data()] == "Overdue")
    assert model.index(row, M.DUE).data() != "€0.00"
    assert model.index(0, M.PERIOD).data() == "4/22/2026 – 5/21/2026"  # last day of service


# -- filters -------------------------------------------------------------------


def test_account_filter_by_company_prefix_and_by_id(qtbot, view, raw) -> None:
    qtbot.keyClicks(view.account_edit, "conti")
    qtbot.waitUntil(lambda: view.model.invoice_filter.account == "conti")
    expected = sql_numbers(raw, "a.search_name LIKE 'conti%'")
    assert numbers(view.model) == expected and len(expected) == 20
    qtbot.waitUntil(lambda: view.count_label.text() == "20 invoice(s)")
    view.account_edit.clear()
    qtbot.keyClicks(view.account_edit, "100002")  # the digits of A-100002
    qtbot.waitUntil(lambda: view.model.invoice_filter.account == "100002")
    assert numbers(view.model) == sql_numbers(raw, "a.account_number = 'A-100002'")
    assert {view.model.index(r, M.ACCOUNT).data() for r in range(9)} == {"A-100002"}


def test_status_filter(qtbot, view, raw) -> None:
    for status in ("open", "paid", "void"):
        view.status_combo.setCurrentIndex(view.status_combo.findData(status))
        assert numbers(view.model) == sql_numbers(raw, f"i.status = '{status}'")
    assert numbers(view.model) == ["INV-2026-000065"]
    view.status_combo.setCurrentIndex(0)
    assert len(numbers(view.model)) == 154


def test_overdue_only(qtbot, view, raw) -> None:
    qtbot.mouseClick(view.overdue_check, Qt.MouseButton.LeftButton)
    expected = sql_numbers(raw, "i.status = 'open' AND i.due_date < '2026-04-26'")
    assert numbers(view.model) == expected == ["INV-2026-000036"]
    qtbot.waitUntil(lambda: view.count_label.text() == "1 invoice(s)")


def test_date_range(qtbot, view, raw) -> None:
    view.from_edit.set_value(date(2026, 3, 1))
    view.to_edit.set_value(date(2026, 3, 31))
    view.apply_filter()  # what the typing pause ends in
    expected = sql_numbers(raw, "i.issue_date BETWEEN '2026-03-01' AND '2026-03-31'")
    assert numbers(view.model) == expected and 0 < len(expected) < 154
    view.to_edit.setFocus()
    QTest.keyClick(view.to_edit, Qt.Key.Key_Delete)  # back to "Any date"
    assert view.to_edit.value() is None and view.to_edit.text() == "Any date"
    qtbot.waitUntil(lambda: view.model.invoice_filter.date_to is None)
    assert numbers(view.model) == sql_numbers(raw, "i.issue_date >= '2026-03-01'")


def test_stepping_out_of_any_date_starts_at_the_start_date(view) -> None:
    assert view.from_edit.value() is None
    view.from_edit.stepBy(1)
    assert view.from_edit.value() == date(2026, 4, 1)  # the first of the current month
    view.to_edit.stepBy(-1)
    assert view.to_edit.value() == TODAY


def test_no_match_shows_the_empty_state_and_clear_restores(qtbot, view) -> None:
    qtbot.keyClicks(view.account_edit, "nobody at all")
    qtbot.waitUntil(lambda: view.model.rowCount() == 0)
    qtbot.waitUntil(lambda: view.count_label.text() == "0 invoice(s)")
    assert view.empty_label.isVisible()
    assert "No invoices match the filters." in view.empty_label.text()
    view.empty_label.linkActivated.emit("#clear")
    assert view.account_edit.text() == ""
    assert view.model.rowCount() > 0 and not view.empty_label.isVisible()


def test_filters_combine_and_clear_filters_button(qtbot, view, raw) -> None:
    view.status_combo.setCurrentIndex(view.status_combo.findData("paid"))
    qtbot.keyClicks(view.account_edit, "bakker")
    qtbot.waitUntil(lambda: view.model.invoice_filter.account == "bakker")
    assert numbers(view.model) == sql_numbers(
        raw, "i.status = 'paid' AND a.search_name LIKE 'bakker%'"
    )
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    assert view.model.invoice_filter == InvoiceFilter()
    assert len(numbers(view.model)) == 154


# -- sorting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "order"),
    [
        (M.ACCOUNT, "a.account_number, i.issue_date, i.id"),
        (M.COMPANY, "a.search_name, a.id, i.issue_date, i.id"),
        (M.DUE_DATE, "i.due_date, i.id"),
        (M.STATUS, "i.status, i.due_date, i.id"),
    ],
)
def test_header_click_sorts_in_sql(view, raw, column, order) -> None:
    click_header(view, column)
    assert view.model.sort_column == column
    assert numbers(view.model) == sql_numbers(raw, order=order)
    click_header(view, column)  # again: the other way round
    assert numbers(view.model) == sql_numbers(raw, order=descending(order))


def test_number_sort_both_ways(view, raw) -> None:
    assert view.model.sort_column == M.NUMBER  # the default: newest first
    assert numbers(view.model) == sql_numbers(raw)
    click_header(view, M.NUMBER)
    assert numbers(view.model) == sql_numbers(raw, order="i.number, i.id")


def test_columns_without_an_index_do_not_sort(view, raw) -> None:
    for column in (M.ISSUE_DATE, M.PERIOD, M.TOTAL, M.DUE):
        click_header(view, column)
        assert view.model.sort_column == M.NUMBER
        assert view.table.horizontalHeader().sortIndicatorSection() == M.NUMBER
    assert numbers(view.model) == sql_numbers(raw)


def test_sort_is_remembered(qtbot, demo) -> None:
    first = InvoicesView(demo)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    click_header(first, M.DUE_DATE)
    first.save_settings()
    second = InvoicesView(demo)
    qtbot.addWidget(second)
    assert second.model.sort_column == M.DUE_DATE
    assert second.model.sort_order == Qt.SortOrder.AscendingOrder


# -- opening and keyboard --------------------------------------------------------


def test_enter_on_a_row_opens_its_account(qtbot, view, raw) -> None:
    view.table.setFocus()
    view.table.selectRow(2)
    number = view.model.index(2, M.NUMBER).data()
    (account_id,) = raw.execute("SELECT account_id FROM invoices WHERE number = ?", (number,))
    with qtbot.waitSignal(view.account_activated) as signal:
        QTest.keyClick(view.table, Qt.Key.Key_Return)
    assert signal.args == [account_id[0]]


def test_double_click_and_open_account_button(qtbot, view) -> None:
    row = view.model.row_object(0)
    rect = view.table.visualRect(view.model.index(0, M.COMPANY))
    QTest.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(view.account_activated) as signal:
        QTest.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args == [row.account_id]
    assert view.open_account_button.isEnabled()
    with qtbot.waitSignal(view.account_activated) as signal:
        qtbot.mouseClick(view.open_account_button, Qt.MouseButton.LeftButton)
    assert signal.args == [row.account_id]


def test_buttons_wait_for_a_selection(view) -> None:
    assert not view.open_account_button.isEnabled()
    assert not view.open_pdf_button.isEnabled()
    view.table.selectRow(0)
    assert view.open_account_button.isEnabled() and view.open_pdf_button.isEnabled()


def test_keyboard_only_from_filter_to_account(qtbot, view) -> None:
    """Ctrl+F, type, Enter moves to the first row, Enter opens its account; Tab reaches all."""
    view.table.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.account_edit.hasFocus()
    QTest.keyClicks(view.account_edit, "ferretti")
    QTest.keyClick(view.account_edit, Qt.Key.Key_Return)
    assert view.table.hasFocus()
    row = view.model.row_object(0)
    assert row.company_name.startswith("Ferretti")
    with qtbot.waitSignal(view.account_activated) as signal:
        QTest.keyClick(view.table, Qt.Key.Key_Return)
    assert signal.args == [row.account_id]
    # Every control is on the Tab chain, in reading order (Tab also steps through
    # the day, month and year of a date edit, as Qt's date edits do).
    view.account_edit.setFocus()
    chain = [view.account_edit]
    for _ in range(20):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        if QApplication.focusWidget() is not chain[-1]:
            chain.append(QApplication.focusWidget())
        if chain[-1] is view.open_pdf_button:
            break
    assert chain == [
        view.account_edit,
        view.status_combo,
        view.overdue_check,
        view.from_edit,
        view.to_edit,
        view.clear_button,
        view.table,
        view.open_account_button,
        view.open_pdf_button,
    ]


def test_labels_have_mnemonics_for_their_fields(view) -> None:
    for label, field in (
        (view.account_label, view.account_edit),
        (view.status_label, view.status_combo),
        (view.from_label, view.from_edit),
        (view.to_label, view.to_edit),
    ):
        assert "&" in label.text() and label.buddy() is field
    assert "&" in view.overdue_check.text()


def test_open_pdf_renders_the_invoice(qtbot, view, monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    opened: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toLocalFile()))
    )
    view.table.selectRow(0)
    number = view.model.row_object(0).number
    qtbot.mouseClick(view.open_pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    assert opened[0].endswith(f"{number}.pdf")
    with open(opened[0], "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    qtbot.waitUntil(view.open_pdf_button.isEnabled)


def test_refresh_reads_new_data(qtbot, view, demo) -> None:
    from billing_desktop.services.invoices import dispute_invoice

    row = next(
        r
        for r in range(view.model.rowCount())
        if view.model.index(r, 0).data() == "INV-2026-000064"
    )
    assert view.model.index(row, M.STATUS).data() == "Paid"
    dispute_invoice(demo, "INV-2026-000064", "Not ordered")
    view.refresh()
    assert view.model.index(row, M.STATUS).data() == "Paid, disputed"
