"""The accounts table: a lazy window over a sorted, filtered SQL result.

Only rows loaded so far are kept. The first page is read on every reset
(filter or sort change); the view asks for more through
``canFetchMore``/``fetchMore`` as the user scrolls, and each page continues
after the last loaded row's ``(sort value, id)`` cursor, so page *n* costs the
same as page 1 even at 100 000 accounts. Sorting and filtering happen in SQL
(DESIGN habit 2); the model never sorts in Python.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from billing_desktop.services.account_list import (
    AccountFilter,
    AccountRow,
    AccountSort,
    count_accounts,
    list_accounts,
)
from billing_desktop.services.context import AppContext
from billing_desktop.ui.formatting import format_money
from billing_desktop.ui.models.table import (
    ALIGNMENT,
    DISPLAY,
    FOREGROUND,
    TOOLTIP,
    PagedTableModel,
    reread_pages,
)
from billing_desktop.ui.words import translated_word

__all__ = ["AccountsTableModel"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex

#: Translation context of the constant words below.
_CONTEXT = "AccountsTableModel"

TYPE_WORDS = {
    "standard": QT_TRANSLATE_NOOP("AccountsTableModel", "Standard"),
    "corporate": QT_TRANSLATE_NOOP("AccountsTableModel", "Corporate"),
}

STATUS_WORDS = {
    "active": QT_TRANSLATE_NOOP("AccountsTableModel", "Active"),
    "expired": QT_TRANSLATE_NOOP("AccountsTableModel", "Expired"),
    "closed": QT_TRANSLATE_NOOP("AccountsTableModel", "Closed"),
    "overdue": QT_TRANSLATE_NOOP("AccountsTableModel", "Overdue"),
}


def type_word(value: str) -> str:
    """The translated word for an account type ("standard" → "Standard")."""
    return translated_word(_CONTEXT, TYPE_WORDS, value)


def status_word(value: str) -> str:
    """The translated word for an account status ("overdue" → "Overdue")."""
    return translated_word(_CONTEXT, STATUS_WORDS, value)


class AccountsTableModel(PagedTableModel):
    """Accounts matching a filter, in SQL order, loaded page by page.

    ``ObjectRole``: the :class:`AccountRow` behind a row (any column);
    ``SortRole``: the value the column sorts by in SQL (the keyset cursor value).
    """

    ID, COMPANY, TYPE, COUNTRY, REPRESENTATIVE, ACTIVE_SUBSCRIPTIONS, BALANCE, STATUS = range(8)
    COLUMN_COUNT = 8

    CONTEXT = _CONTEXT
    HEADERS = (
        QT_TRANSLATE_NOOP("AccountsTableModel", "Account ID"),
        QT_TRANSLATE_NOOP("AccountsTableModel", "Company"),
        QT_TRANSLATE_NOOP("AccountsTableModel", "Type"),
        QT_TRANSLATE_NOOP("AccountsTableModel", "Country"),
        QT_TRANSLATE_NOOP("AccountsTableModel", "Representative"),
        QT_TRANSLATE_NOOP("AccountsTableModel", "Subscriptions"),
        QT_TRANSLATE_NOOP("AccountsTableModel", "Balance"),
        QT_TRANSLATE_NOOP("AccountsTableModel", "Status"),
    )

    HEADER_TIPS = {
        ACTIVE_SUBSCRIPTIONS: QT_TRANSLATE_NOOP(
            "AccountsTableModel", "Subscriptions in trial, active or pending cancellation"
        ),
        BALANCE: QT_TRANSLATE_NOOP("AccountsTableModel", "Amount due on open invoices"),
        STATUS: QT_TRANSLATE_NOOP(
            "AccountsTableModel", "Overdue: an open invoice is past its due date"
        ),
    }

    SORT_KEYS = (
        AccountSort.ACCOUNT_ID,
        AccountSort.COMPANY,
        AccountSort.TYPE,
        AccountSort.COUNTRY,
        AccountSort.REPRESENTATIVE,
        AccountSort.ACTIVE_SUBSCRIPTIONS,
        AccountSort.BALANCE,
        AccountSort.STATUS,
    )

    _OVERDUE_COLOR = QColor(176, 0, 32)

    def __init__(self, ctx: AppContext, parent: Any = None, *, load: bool = True) -> None:
        """With ``load=False`` nothing is read until :meth:`refresh` (sort and
        filter set before that only take note), so a view can restore its
        saved sort first and read the first page once, in that order."""
        super().__init__(parent)
        self._ctx = ctx
        self._filter = AccountFilter()
        self._sort = AccountSort.COMPANY
        self._rows: list[AccountRow] = []
        #: display texts per row, built on first paint of the row (formatting money
        #: and translating words once, not on every repaint)
        self._texts: dict[int, tuple[str | int, ...]] = {}
        if load:
            self.refresh()

    # -- state ---------------------------------------------------------------

    @property
    def account_filter(self) -> AccountFilter:
        return self._filter

    @property
    def sort_column(self) -> int:
        return self.SORT_KEYS.index(self._sort)

    def loaded_count(self) -> int:
        return len(self._rows)

    def row_object(self, row: int) -> AccountRow:
        return self._rows[row]

    # -- reloading -----------------------------------------------------------

    def set_filter(self, flt: AccountFilter) -> None:
        """Show only accounts matching ``flt``; reloads the first page."""
        if flt == self._filter:
            return
        self._filter = flt
        if self._loaded:
            self.refresh()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in SQL by ``column``; reloads the first page."""
        if not 0 <= column < self.COLUMN_COUNT:
            return
        key = self.SORT_KEYS[column]
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort, self._descending):
            return
        self._sort, self._descending = key, descending
        if self._loaded:
            self.refresh()

    def refresh(self, *, count: bool = True) -> None:
        """Forget loaded rows and read the first page and the count again.

        With ``count=False`` the count waits for :meth:`count_total` (counting
        100 000 accounts takes longer than reading the first page).
        """
        self._loaded = True
        self.beginResetModel()
        self._texts.clear()
        self._rows = self._page(after=None)
        self._exhausted = len(self._rows) < self.PAGE_SIZE
        self._total = count_accounts(self._ctx, self._filter) if count else None
        self.endResetModel()
        if self._total is not None:
            self.totalChanged.emit(self._total)

    def _reread_loaded(self) -> None:
        """:meth:`refresh_in_place`: the loaded rows read again, kept in place."""
        rows, exhausted = reread_pages(
            self._page, len(self._rows), self.PAGE_SIZE, lambda row: (row.sort_key, row.id)
        )
        old_ids = [row.id for row in self._rows]

        def install() -> None:
            self._rows = rows
            self._exhausted = exhausted

        self._replace_rows(old_ids, [row.id for row in rows], install)

    def count_total(self) -> None:
        """Count the matching accounts if that was left for later; emits ``totalChanged``."""
        if self._total is None and self._loaded:
            self._total = count_accounts(self._ctx, self._filter)
            self.totalChanged.emit(self._total)

    def _forget_texts(self) -> None:
        """Headers and words changed language (or the locale changed money formats)."""
        super()._forget_texts()
        self._texts.clear()

    def _page(self, after: tuple[Any, int] | None) -> list[AccountRow]:
        return list_accounts(
            self._ctx,
            self._filter,
            self._sort,
            self._descending,
            after=after,
            limit=self.PAGE_SIZE,
        )

    # -- lazy loading --------------------------------------------------------

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        last = self._rows[-1] if self._rows else None
        after = (last.sort_key, last.id) if last is not None else None
        page = self._page(after)
        if len(page) < self.PAGE_SIZE:
            self._exhausted = True
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()
        log.debug("loaded accounts %d-%d", first, first + len(page) - 1)

    # -- Qt model API --------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def _alignment(self, column: int) -> Qt.AlignmentFlag:
        """Numbers right-aligned; the status centred so it never touches the balance."""
        if column in (self.ACTIVE_SUBSCRIPTIONS, self.BALANCE):
            return self._RIGHT
        if column == self.STATUS:
            return self._CENTER
        return self._LEFT

    def _row_texts(self, number: int, row: AccountRow) -> tuple[str | int | None, ...]:
        texts = self._texts.get(number)
        if texts is None:
            texts = tuple(self._display(row, c) for c in range(self.COLUMN_COUNT))
            self._texts[number] = texts
        return texts

    def _color(self, row: AccountRow, column: int) -> QColor | None:
        if row.status == "overdue" and column in (self.BALANCE, self.STATUS):
            return self._OVERDUE_COLOR
        return None

    def _painted(self, index: _Index) -> tuple[Any, Any, Any]:
        number = index.row()
        if not 0 <= number < len(self._rows) or not index.isValid():
            return None, None, None
        row = self._rows[number]
        column = index.column()
        text = self._row_texts(number, row)[column]
        return text, self._alignment(column), self._color(row, column)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in self._DATA_ROLES:
            return None
        number = index.row()
        if not 0 <= number < len(self._rows) or not index.isValid():
            return None
        row = self._rows[number]
        column = index.column()
        if role == DISPLAY:
            return self._row_texts(number, row)[column]
        if role == ALIGNMENT:
            return self._alignment(column)
        if role == FOREGROUND:
            return self._color(row, column)
        if role == TOOLTIP:
            return row.company_name if column == self.COMPANY else None
        if role == self._OBJECT:
            return row
        return row.sort_value(self.SORT_KEYS[column])  # SortRole

    def _display(self, row: AccountRow, column: int) -> str | int | None:
        if column == self.ID:
            return row.account_number
        if column == self.COMPANY:
            return row.company_name
        if column == self.TYPE:
            return type_word(row.type)
        if column == self.COUNTRY:
            return row.country
        if column == self.REPRESENTATIVE:
            return row.representative or ""
        if column == self.ACTIVE_SUBSCRIPTIONS:
            return row.active_subscriptions
        if column == self.BALANCE:
            return format_money(row.outstanding_minor, row.currency)
        if column == self.STATUS:
            return status_word(row.status)
        return None
