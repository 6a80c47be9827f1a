"""The Invoices view's first paint: the table and its rows come first, the rest of the
filter bar and the action row right after, without moving the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtWidgets import QApplication, QStyleFactory

from billing_desktop.store.invoice_queries import InvoiceFilter
from billing_desktop.ui.views.invoices_view import InvoicesView

#: Widgets of the bar and the action row that are built after the first paint.
LATER = (
    "status_combo",
    "overdue_check",
    "from_edit",
    "to_edit",
    "clear_button",
    "open_account_button",
    "open_pdf_button",
)


class _FirstPaint(QObject):
    """Notes where the table and the account field were when the rows first painted."""

    def __init__(self, view: InvoicesView) -> None:
        super().__init__()
        self.view = view
        self.table: QRect | None = None
        self.field: QRect | None = None
        self.built_then: bool | None = None

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.table is None:
            self.table = self.view.table.geometry()
            self.field = self.view.account_edit.geometry()
            self.built_then = "status_combo" in self.view.__dict__
        return False


@pytest.fixture(params=["Fusion", "Windows"])
def style(request, qapp) -> Iterator[str]:
    """The first paint in two styles (their controls differ in height)."""
    previous = qapp.style().name()
    qapp.setStyle(QStyleFactory.create(request.param))
    yield request.param
    qapp.setStyle(QStyleFactory.create(previous))


def test_the_rows_paint_first_and_nothing_moves_when_the_bar_comes(qtbot, demo_ctx, style):
    view = InvoicesView(demo_ctx)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    watch = _FirstPaint(view)
    view.table.viewport().installEventFilter(watch)
    view.show()
    qtbot.waitUntil(lambda: watch.table is not None)
    assert watch.built_then is False  # the rows painted before the rest of the bar existed
    qtbot.waitUntil(lambda: view.count_label.text() != "")
    QApplication.processEvents()
    for name in LATER:
        assert getattr(view, name).isVisible(), name
    assert view.table.geometry() == watch.table
    assert view.account_edit.geometry().top() == watch.field.top()
    assert view.account_edit.geometry().height() == watch.field.height()
    # The bar's controls stand in one row, above the table; the buttons below it.
    for name in ("status_combo", "overdue_check", "from_edit", "to_edit", "clear_button"):
        widget = getattr(view, name)
        assert widget.geometry().bottom() < view.table.geometry().top(), name
    for name in ("open_account_button", "open_pdf_button"):
        widget = getattr(view, name)
        assert widget.geometry().top() > view.table.geometry().bottom(), name


def test_a_filter_widget_used_before_the_first_paint_is_built_at_once(demo_ctx, qtbot):
    view = InvoicesView(demo_ctx)
    qtbot.addWidget(view)
    assert "to_edit" not in view.__dict__
    view.status_combo.setCurrentIndex(view.status_combo.findData("paid"))
    assert view.current_filter() == InvoiceFilter(status="paid")
    assert view.from_edit.is_any() and view.to_edit.is_any()
    view.apply_filter()
    assert view.model.rowCount() > 0
    assert all(view.model.row_object(r).status == "paid" for r in range(view.model.rowCount()))
    assert not view.open_account_button.isEnabled()  # no row chosen yet


def test_an_unknown_attribute_is_still_an_error(demo_ctx, qtbot):
    view = InvoicesView(demo_ctx)
    qtbot.addWidget(view)
    with pytest.raises(AttributeError):
        _ = view.no_such_widget
    assert "status_combo" not in view.__dict__  # asking for it built nothing
