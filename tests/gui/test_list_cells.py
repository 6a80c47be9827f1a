"""The long lists (accounts, invoices) answer a painted cell's roles in one call
(``multiData``): what the delegate paints must be exactly what ``data()`` says,
cell by cell, and any other request still gets every role it asks for."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QModelRoleData, QModelRoleDataSpan, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTableView

from billing_desktop.services.invoices import dispute_invoice, void_invoice
from billing_desktop.ui.models.accounts_model import AccountsTableModel
from billing_desktop.ui.models.invoices_model import InvoicesTableModel

DISPLAY = Qt.ItemDataRole.DisplayRole
ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
FOREGROUND = Qt.ItemDataRole.ForegroundRole


@pytest.fixture
def demo(demo_ctx):
    """The curated demo with a void and a disputed invoice (muted and flagged rows)."""
    void_invoice(demo_ctx, "INV-2026-000065", "Issued twice")
    dispute_invoice(demo_ctx, "INV-2026-000066", "Wrong licence count")
    return demo_ctx


@pytest.fixture(params=["accounts", "invoices"])
def model(request, qtbot, demo):
    if request.param == "accounts":
        return AccountsTableModel(demo)
    return InvoicesTableModel(demo)


class Table(QTableView):
    def painted(self, index: QModelIndex) -> QStyleOptionViewItem:
        """What the table's delegate paints for ``index``: the view's defaults
        (left alignment among them), then the cell's one multiData request."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        delegate = self.itemDelegateForIndex(index)
        assert isinstance(delegate, QStyledItemDelegate)
        delegate.initStyleOption(option, index)
        return option


def asked(index: QModelIndex, role: Any) -> Any:
    """``role`` of ``index`` asked alone, as a one-role multiData request."""
    item = QModelRoleData(int(role))
    index.multiData(QModelRoleDataSpan(item))
    return item.data()


def test_every_painted_cell_shows_what_data_answers(qtbot, model) -> None:
    table = Table()
    qtbot.addWidget(table)
    table.setModel(model)
    delegate = table.itemDelegate()
    colours = 0
    assert model.rowCount() > 10
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            option = table.painted(index)
            text = index.data(DISPLAY)
            assert option.text == delegate.displayText(text, option.locale), (row, column)
            alignment = index.data(ALIGNMENT)
            assert option.displayAlignment == Qt.AlignmentFlag(alignment), (row, column)
            colour = index.data(FOREGROUND)
            if colour is not None:
                colours += 1
                assert option.palette.color(QPalette.ColorRole.Text) == colour, (row, column)
    assert colours > 0  # the demo has overdue rows (and a void invoice)


def test_a_request_of_other_roles_is_answered_role_by_role(model) -> None:
    roles = (
        DISPLAY,
        Qt.ItemDataRole.ToolTipRole,
        ALIGNMENT,
        FOREGROUND,
        model.SortRole,
        Qt.ItemDataRole.FontRole,
    )
    for row in (0, model.rowCount() - 1):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            for role in roles:
                assert asked(index, role) == index.data(role), (row, column, role)

