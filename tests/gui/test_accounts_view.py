"""The accounts model and view: lazy pages, SQL sorting, filters, counts, empty states."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QLocale, QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest

from billing_desktop.services.accounts import AccountFilter, AccountRow
from billing_desktop.ui.formatting import format_money
from billing_desktop.ui.models.accounts_model import AccountsTableModel
from billing_desktop.ui.views.accounts_view import AccountsView

M = AccountsTableModel
NBSP = "\u00a0"


@pytest.fixture
def many(make_account) -> int:
    """650 accounts "Company 00001" … "Company 00650": three full pages and a bit."""
    for _ in range(650):
        make_account()
    return 650


@pytest.fixture
def mixed(make_account) -> dict[str, int]:
    """A small, varied set for the filters."""
    ids = {
        "acme": make_account("Acme Software", country="IT", outstanding_minor=123_456_789),
        "bergmann": make_account(
            "Bergmann Logistik", country="DE", type="corporate", currency="EUR"
        ),
        "citta": make_account("Città Nuova", country="IT", type="corporate"),
        "dutch": make_account(
            "Van der Berg",
            country="NL",
            outstanding_minor=5_000,
            oldest_due_date=date(2026, 3, 1),  # before the fixed today: overdue
        ),
        "future": make_account(
            "Zeta Future", country="NL", outstanding_minor=700, oldest_due_date=date(2026, 5, 30)
        ),
    }
    return ids


@pytest.fixture
def view(qtbot, ctx) -> AccountsView:
    widget = AccountsView(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    # The filter choices (and the clear button) are filled in after the first paint.
    qtbot.waitUntil(widget.filter_edit.isClearButtonEnabled)
    return widget


def companies(model: AccountsTableModel, n: int | None = None) -> list[str]:
    rows = range(model.rowCount()) if n is None else range(min(n, model.rowCount()))
    return [model.index(r, M.COMPANY).data() for r in rows]


def row_of(model: AccountsTableModel, company: str) -> int:
    return next(r for r in range(model.rowCount()) if model.index(r, M.COMPANY).data() == company)


def click_header(qtbot, view: AccountsView, column: int) -> None:
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    QTest.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )


# -- model -------------------------------------------------------------------


def test_model_passes_qt_model_tester(qtmodeltester, ctx, mixed) -> None:
    model = AccountsTableModel(ctx)
    qtmodeltester.check(model)


def test_model_tester_with_lazy_pages(qtmodeltester, ctx, many) -> None:
    model = AccountsTableModel(ctx)
    qtmodeltester.check(model)  # fetches one page itself, then stays attached
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 650


def test_model_tester_after_sort_and_filter(qtmodeltester, ctx, many) -> None:
    # Qt's tester runs its checks (and fetchMore) from modelReset before it
    # clears its own "reset in flight" flag, so it is attached after the
    # resets rather than during them.
    model = AccountsTableModel(ctx)
    model.sort(M.COMPANY, Qt.SortOrder.DescendingOrder)
    model.set_filter(AccountFilter(text="Company 003"))
    qtmodeltester.check(model)
    assert model.total == 100


def test_first_page_then_pages_of_200_with_exact_insert_ranges(qtbot, ctx, many) -> None:
    model = AccountsTableModel(ctx)
    assert model.rowCount() == 200
    assert model.loaded_count() == 200  # only what is loaded is kept
    assert model.total == 650
    assert model.canFetchMore(QModelIndex())

    inserted: list[tuple[int, int]] = []
    model.rowsAboutToBeInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    for expected in ((200, 399), (400, 599), (600, 649)):
        with qtbot.waitSignal(model.rowsInserted) as blocker:
            model.fetchMore(QModelIndex())
        parent, first, last = blocker.args
        assert not parent.isValid()
        assert (first, last) == expected
    assert inserted == [(200, 399), (400, 599), (600, 649)]
    assert model.rowCount() == 650
    assert not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # nothing left: no signal, no change
    assert model.rowCount() == 650

    names = companies(model)
    assert names == sorted(names)
    assert len(set(names)) == 650  # keyset continuation: no duplicates, no gaps


def test_descending_pages_continue_correctly(ctx, many) -> None:
    model = AccountsTableModel(ctx)
    model.sort(M.COMPANY, Qt.SortOrder.DescendingOrder)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    names = companies(model)
    assert names == sorted(names, reverse=True)
    assert len(set(names)) == 650


def test_roles_alignment_and_words(ctx, mixed) -> None:
    QLocale.setDefault(QLocale("it_IT"))
    model = AccountsTableModel(ctx)
    row = row_of(model, "Acme Software")
    balance = model.index(row, M.BALANCE)
    assert balance.data() == f"1.234.567,89{NBSP}€"
    assert balance.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    obj = model.index(row, M.ID).data(M.ObjectRole)
    assert isinstance(obj, AccountRow)
    assert obj.id == mixed["acme"]
    assert model.index(row, M.BALANCE).data(M.SortRole) == 123_456_789
    assert model.index(row, M.TYPE).data() == "Standard"
    assert model.index(row, M.STATUS).data() == "Active"
    assert model.index(row, M.ID).data().startswith("A-")
    assert not model.flags(balance) & Qt.ItemFlag.ItemIsEditable

    dutch = row_of(model, "Van der Berg")
    assert model.index(dutch, M.STATUS).data() == "Overdue"
    assert model.index(dutch, M.BALANCE).data() == format_money(5_000, "EUR")
    corporate = row_of(model, "Bergmann Logistik")
    assert model.index(corporate, M.TYPE).data() == "Corporate"


def test_headers(ctx) -> None:
    model = AccountsTableModel(ctx)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == [
        "Account ID",
        "Company",
        "Type",
        "Country",
        "Representative",
        "Subscriptions",
        "Balance",
        "Status",
    ]


# -- view --------------------------------------------------------------------


def test_scrolling_to_the_bottom_loads_the_next_page(qtbot, many, view) -> None:
    model = view.model
    assert model.rowCount() == 200
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 400)
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 600)
    assert view.count_label.text() == "650 account(s)"


def test_header_click_sorts_in_sql(qtbot, many, view) -> None:
    model = view.model
    assert companies(model, 2) == ["Company 00001", "Company 00002"]
    with qtbot.waitSignal(model.modelReset):
        click_header(qtbot, view, M.COMPANY)
    assert model.sort_order == Qt.SortOrder.DescendingOrder
    # The first rows of the whole table, not of the 200 loaded: sorting is in SQL.
    assert companies(model, 2) == ["Company 00650", "Company 00649"]
    assert model.rowCount() == 200
    with qtbot.waitSignal(model.modelReset):
        click_header(qtbot, view, M.COMPANY)
    assert companies(model, 2) == ["Company 00001", "Company 00002"]


def test_header_click_on_balance(qtbot, mixed, view) -> None:
    with qtbot.waitSignal(view.model.modelReset):
        click_header(qtbot, view, M.BALANCE)
    balances = [view.model.index(r, M.BALANCE).data(M.SortRole) for r in range(5)]
    assert balances == sorted(balances)
    assert balances[-1] == 123_456_789


def test_typing_filters_after_a_pause(qtbot, many, view) -> None:
    resets: list[int] = []
    view.model.modelReset.connect(lambda: resets.append(1))
    qtbot.keyClicks(view.filter_edit, "company 0064")
    assert view.model.account_filter.text == ""  # debounced: not yet applied
    qtbot.waitUntil(lambda: view.model.total == 10)
    assert len(resets) == 1  # one query for the whole word, not one per key
    assert companies(view.model)[0] == "Company 00640"
    assert view.count_label.text() == "10 account(s)"
    assert not view.empty_label.isVisible()


def test_filter_by_account_id_prefix(qtbot, many, view) -> None:
    qtbot.keyClicks(view.filter_edit, "a-90065")
    qtbot.waitUntil(lambda: view.model.total == 1)
    assert view.model.index(0, M.ID).data() == "A-900650"


def test_escape_clears_the_filter(qtbot, mixed, view) -> None:
    qtbot.keyClicks(view.filter_edit, "acme")
    qtbot.waitUntil(lambda: view.model.total == 1)
    qtbot.keyClick(view.filter_edit, Qt.Key.Key_Escape)
    assert view.filter_edit.text() == ""
    qtbot.waitUntil(lambda: view.model.total == 5)


def test_ctrl_f_focuses_the_filter(qtbot, mixed, view) -> None:
    view.activateWindow()
    qtbot.waitUntil(lambda: view.isActiveWindow())
    view.table.setFocus()
    qtbot.waitUntil(lambda: view.table.hasFocus())
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.filter_edit.hasFocus())


def test_type_filter(qtbot, mixed, view) -> None:
    with qtbot.waitSignal(view.model.totalChanged) as blocker:
        view.type_combo.setCurrentIndex(view.type_combo.findData("corporate"))
    assert blocker.args == [2]
    assert set(companies(view.model)) == {"Bergmann Logistik", "Città Nuova"}
    assert [view.type_combo.itemText(i) for i in range(3)] == ["All types", "Standard", "Corporate"]


def test_filter_choices_wait_for_the_first_paint(qtbot, ctx, mixed) -> None:
    widget = AccountsView(ctx)
    qtbot.addWidget(widget)
    # The rows are there; what the first paint does not need is not: no count,
    # no country query, no icon plugins.
    assert widget.model.rowCount() == 5
    assert not widget.model.total_known
    assert widget.count_label.text() == ""
    assert widget.country_combo.count() == 1
    assert widget.country_combo.itemText(0) == "All countries"
    assert widget.country_combo.currentData() is None
    assert not widget.filter_edit.isClearButtonEnabled()
    with qtbot.waitSignal(widget.model.totalChanged) as blocker:
        widget.show()
    assert blocker.args == [5]
    assert widget.count_label.text() == "5 account(s)"
    assert widget.country_combo.count() == 4
    assert widget.filter_edit.isClearButtonEnabled()
    assert widget.country_combo.itemText(0) == "All countries"


def test_refresh_before_the_first_paint_loads_the_choices(ctx, mixed) -> None:
    widget = AccountsView(ctx)
    widget.refresh()
    assert widget.model.total == 5
    assert widget.count_label.text() == "5 account(s)"
    assert widget.country_combo.count() == 4
    assert widget.filter_edit.isClearButtonEnabled()
    widget.deleteLater()


def test_country_filter(qtbot, mixed, view) -> None:
    codes = [view.country_combo.itemData(i) for i in range(view.country_combo.count())]
    assert codes == [None, "DE", "IT", "NL"]
    view.country_combo.setCurrentIndex(view.country_combo.findData("NL"))
    assert set(companies(view.model)) == {"Van der Berg", "Zeta Future"}


def test_overdue_filter(qtbot, mixed, view) -> None:
    view.overdue_check.setChecked(True)
    assert companies(view.model) == ["Van der Berg"]
    assert view.count_label.text() == "1 account(s)"


def test_filters_combine(qtbot, mixed, view) -> None:
    view.country_combo.setCurrentIndex(view.country_combo.findData("IT"))
    view.type_combo.setCurrentIndex(view.type_combo.findData("corporate"))
    assert companies(view.model) == ["Città Nuova"]


def test_no_match_shows_empty_state_with_clear_link(qtbot, mixed, view) -> None:
    qtbot.keyClicks(view.filter_edit, "no such company")
    qtbot.waitUntil(lambda: view.empty_label.isVisible())
    assert "No accounts match the filter." in view.empty_label.text()
    assert view.count_label.text() == "0 account(s)"
    view.empty_label.linkActivated.emit("#clear")
    assert view.filter_edit.text() == ""
    assert view.model.total == 5
    assert not view.empty_label.isVisible()


def test_empty_database_shows_a_hint_and_offers_the_demo(qtbot, view) -> None:
    assert view.model.total == 0
    assert view.empty_label.isVisible()
    assert "no accounts yet" in view.empty_label.text()
    with qtbot.waitSignal(view.demo_requested):
        view.empty_label.linkActivated.emit("#demo")


def test_table_is_read_only_rows_and_sortable(mixed, view) -> None:
    table = view.table
    assert table.isSortingEnabled()
    assert table.alternatingRowColors()
    assert table.selectionBehavior() == table.SelectionBehavior.SelectRows
    assert table.editTriggers() == table.EditTrigger.NoEditTriggers
    assert view.filter_edit.placeholderText() == "Filter by account ID or company name"


def test_activating_a_row_emits_the_account_id(qtbot, mixed, view) -> None:
    index = view.model.index(0, M.COMPANY)
    with qtbot.waitSignal(view.account_activated) as blocker:
        view.table.activated.emit(index)
    assert blocker.args == [index.data(M.ObjectRole).id]


def test_header_state_is_remembered(qtbot, ctx, mixed) -> None:
    first = AccountsView(ctx)
    qtbot.addWidget(first)
    first.model.sort(M.BALANCE, Qt.SortOrder.DescendingOrder)
    first.table.horizontalHeader().setSortIndicator(M.BALANCE, Qt.SortOrder.DescendingOrder)
    first.save_settings()
    second = AccountsView(ctx)
    qtbot.addWidget(second)
    assert second.model.sort_column == M.BALANCE
    assert second.model.sort_order == Qt.SortOrder.DescendingOrder
    assert second.model.index(0, M.COMPANY).data() == "Acme Software"


# -- representatives ------------------------------------------------------------


@pytest.fixture
def portfolio(ctx, make_account) -> dict[str, int]:
    """Two representatives: Anna with two corporate accounts, Bruno with one."""
    from datetime import datetime

    from billing_desktop.store.models import Operator

    reps = {}
    with ctx.db.transaction() as session:
        for name in ("Anna Rossi", "Bruno Weber"):
            op = Operator(
                email=f"{name.split()[0].lower()}@reps.example",
                name=name,
                role="representative",
                active=True,
                created_at=datetime(2026, 1, 1, 9, 0),
            )
            session.add(op)
            session.flush()
            reps[name] = op.id
    make_account("Alpha Corp", type="corporate", representative_id=reps["Anna Rossi"])
    make_account("Beta Corp", type="corporate", representative_id=reps["Anna Rossi"])
    make_account("Gamma Corp", type="corporate", representative_id=reps["Bruno Weber"])
    make_account("Delta Self-Service")
    return reps


def combo_texts(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_representative_filter(qtbot, portfolio, view) -> None:
    combo = view.rep_combo
    assert combo_texts(combo) == ["All representatives", "Anna Rossi", "Bruno Weber"]
    assert combo.currentIndex() == 0
    assert view.model.total == 4
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # Anna Rossi
    assert companies(view.model) == ["Alpha Corp", "Beta Corp"]
    assert view.model.account_filter.representative_id == portfolio["Anna Rossi"]
    assert view.count_label.text() == "2 account(s)"
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # Bruno Weber
    assert companies(view.model) == ["Gamma Corp"]
    assert view.model.index(0, M.REPRESENTATIVE).data() == "Bruno Weber"
    view.clear_filters()
    assert combo.currentIndex() == 0
    assert view.model.total == 4


def test_my_accounts_for_a_representative(qtbot, ctx, portfolio) -> None:
    import dataclasses

    from billing_desktop.services.context import OperatorInfo

    me = OperatorInfo(portfolio["Anna Rossi"], "anna@reps.example", "Anna Rossi", "representative")
    view = AccountsView(dataclasses.replace(ctx, operator=me))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(view.filter_edit.isClearButtonEnabled)
    # a representative opens on their own portfolio
    assert companies(view.model) == ["Alpha Corp", "Beta Corp"]
    assert combo_texts(view.rep_combo) == ["All representatives", "My accounts", "Bruno Weber"]
    assert view.rep_combo.currentText() == "My accounts"
    view.rep_combo.setCurrentIndex(0)
    assert view.model.total == 4
    view.rep_combo.setCurrentIndex(1)
    view.refresh()  # the choice survives reloading the choices
    assert view.rep_combo.currentText() == "My accounts"
    assert view.model.total == 2


# -- CSV export -------------------------------------------------------------------


def test_export_button_writes_the_current_filter(qtbot, tmp_path, portfolio, view, monkeypatch):
    import csv

    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "out" / "portfolio"  # ".csv" is added
    target.parent.mkdir()
    asked = []

    def save_dialog(parent, title, suggested, filters):
        asked.append((title, suggested, filters))
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    view.rep_combo.setCurrentIndex(view.rep_combo.findText("Anna Rossi"))
    view.model.sort(M.COMPANY, Qt.SortOrder.DescendingOrder)
    assert view.export_button.text() == "E&xport CSV…"
    with qtbot.waitSignal(view.exported, timeout=10_000) as blocker:
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    written = tmp_path / "out" / "portfolio.csv"
    assert blocker.args == [str(written), 2]
    assert asked[0][0] == "Export accounts"
    assert asked[0][1].endswith("accounts-2026-04-26.csv")
    assert asked[0][2] == "CSV files (*.csv)"
    with written.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["company_name"], r["representative"]) for r in rows] == [
        ("Beta Corp", "Anna Rossi"),
        ("Alpha Corp", "Anna Rossi"),
    ]
    assert rows == [r for r in rows if r["type"] == "corporate"]
    assert [p.name for p in written.parent.iterdir()] == ["portfolio.csv"]
    qtbot.waitUntil(lambda: view.export_task is None)
    assert view.export_button.isEnabled()
    assert view.export_status.text() == "2 account(s) exported."
    assert view.export_status.toolTip() == str(written)


def test_export_cancelled_in_the_file_dialog_does_nothing(qtbot, mixed, view, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: ("", "")))
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert view.export_task is None
    assert view.export_status.isHidden()
