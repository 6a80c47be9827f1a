"""The invoices table (all accounts): a lazy window over a sorted, filtered SQL result.

Pages come from :mod:`billing_desktop.services.invoice_list` with keyset
pagination: the first page on every reset (filter or sort change), the next
one through ``canFetchMore``/``fetchMore`` as the user scrolls, each
continuing after the last loaded row's sort key, so page *n* costs what page
1 costs at 1 000 000 invoices. Sorting and filtering happen in SQL.

Memory stays flat however far the user scrolls: the model keeps the *ids* of
the rows loaded so far (8 bytes each, in an ``array``) and the rows
themselves, with their display texts, only for the most recently used blocks
of :attr:`InvoicesTableModel.PAGE_SIZE` rows. A block that was let go of is
read again by id when it is painted again (Anki's browser keeps ids and a row
cache the same way).

Read-only: the model calls the store's plain-SQL read functions with the
context's query-only reader, as ``services.accounts.list_accounts`` does for
the accounts list; nothing here writes.
"""

from __future__ import annotations

import logging
from array import array
from collections import OrderedDict
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QDate,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from billing_desktop.domain.periods import Period
from billing_desktop.services import invoice_list
from billing_desktop.services.context import AppContext
from billing_desktop.store.invoice_queries import InvoiceFilter, InvoiceListRow, InvoiceSort
from billing_desktop.ui.formatting import MoneyTexts, date_pattern
from billing_desktop.ui.models.table import (
    ALIGNMENT,
    CENTER,
    DISPLAY,
    FOREGROUND,
    LEFT,
    RIGHT,
    TOOLTIP,
    PagedTableModel,
    reread_pages,
)
from billing_desktop.ui.words import translated_word

__all__ = ["InvoicesTableModel", "invoice_status_text", "status_text", "status_word"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex

#: Translation context of the constant words below.
_CONTEXT = "InvoicesListModel"

#: The status filter's and column's words, one per ``invoices.status`` value.
STATUS_WORDS = {
    "open": QT_TRANSLATE_NOOP("InvoicesListModel", "Open"),
    "overdue": QT_TRANSLATE_NOOP("InvoicesListModel", "Overdue"),
    "paid": QT_TRANSLATE_NOOP("InvoicesListModel", "Paid"),
    "void": QT_TRANSLATE_NOOP("InvoicesListModel", "Void"),
}
#: A disputed invoice's status: the dispute is noted on the invoice, whatever its status.
_DISPUTED = QT_TRANSLATE_NOOP("InvoicesListModel", "{status}, disputed")


def status_word(status: str) -> str:
    """The translated word for an invoice status ("overdue" → "Overdue")."""
    return translated_word(_CONTEXT, STATUS_WORDS, status)


def status_text(status: str, disputed: bool) -> str:
    """A status word ("open", "overdue", "paid", "void"), with ", disputed" when it is."""
    word = status_word(status)
    if disputed:
        return QCoreApplication.translate(_CONTEXT, _DISPUTED).format(status=word)
    return word


def invoice_status_text(row: InvoiceListRow) -> str:
    """The status column: Open / Overdue / Paid / Void, with ", disputed" when it is."""
    return status_text("overdue" if row.overdue else row.status, row.disputed)


#: What a row shows in one column: its text, alignment and colour (None: the default).
_Cell = tuple[str, Qt.AlignmentFlag, "QColor | None"]


class _Block:
    """Up to ``PAGE_SIZE`` consecutive rows and their cells (built on first paint)."""

    __slots__ = ("cells", "rows")

    def __init__(self, rows: list[InvoiceListRow | None]) -> None:
        self.rows = rows
        self.cells: list[tuple[_Cell, ...] | None] = [None] * len(rows)


class InvoicesTableModel(PagedTableModel):
    """Invoices of all accounts matching a filter, in SQL order, loaded page by page.

    ``ObjectRole``: the :class:`InvoiceListRow` behind a row (any column);
    ``SortRole``: the value the column sorts by in SQL (None for a column that
    does not sort).
    """

    (
        NUMBER,
        ISSUE_DATE,
        ACCOUNT,
        COMPANY,
        PERIOD,
        TOTAL,
        DUE,
        DUE_DATE,
        STATUS,
    ) = range(9)
    COLUMN_COUNT = 9

    #: Blocks of rows kept in memory (the rest is read again by id when shown).
    CACHED_BLOCKS = 16

    CONTEXT = _CONTEXT
    HEADERS = (
        QT_TRANSLATE_NOOP("InvoicesListModel", "Number"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Date"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Account ID"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Company"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Service period"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Total"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Balance due"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Due date"),
        QT_TRANSLATE_NOOP("InvoicesListModel", "Status"),
    )

    HEADER_TIPS = {
        NUMBER: QT_TRANSLATE_NOOP(
            "InvoicesListModel", "Invoice numbers follow the order in which invoices were issued"
        ),
        ISSUE_DATE: QT_TRANSLATE_NOOP(
            "InvoicesListModel", "The day the invoice was issued; sort by number for that order"
        ),
        ACCOUNT: QT_TRANSLATE_NOOP(
            "InvoicesListModel", "Sorted by account, then by invoice date within each account"
        ),
        COMPANY: QT_TRANSLATE_NOOP(
            "InvoicesListModel", "Sorted by company, then by invoice date within each account"
        ),
        DUE: QT_TRANSLATE_NOOP("InvoicesListModel", "What is still to pay on the invoice"),
        STATUS: QT_TRANSLATE_NOOP(
            "InvoicesListModel",
            "Sorted open first (overdue at the top), then paid, then void",
        ),
    }

    #: The SQL sort of each sortable column (the others have no index to sort by).
    SORT_KEYS: dict[int, InvoiceSort] = {
        NUMBER: InvoiceSort.NUMBER,
        ACCOUNT: InvoiceSort.ACCOUNT,
        COMPANY: InvoiceSort.COMPANY,
        DUE_DATE: InvoiceSort.DUE_DATE,
        STATUS: InvoiceSort.STATUS,
    }

    #: Amounts right-aligned; the due date centred so it never touches the balance.
    _ALIGNMENTS = (LEFT, LEFT, LEFT, LEFT, LEFT, RIGHT, RIGHT, CENTER, LEFT)
    _OVERDUE_COLOR = QColor(176, 0, 32)
    _MUTED_COLOR = QColor(110, 110, 110)
    #: Each column's colour in a row: an overdue invoice's balance, due date and
    #: status in red; all of a void invoice grey; the rest in the view's colour.
    _PLAIN_COLORS: tuple[QColor | None, ...] = (None,) * COLUMN_COUNT
    _OVERDUE_COLORS = tuple(
        map(dict.fromkeys((DUE, DUE_DATE, STATUS), _OVERDUE_COLOR).get, range(COLUMN_COUNT))
    )
    _VOID_COLORS = (_MUTED_COLOR,) * COLUMN_COUNT

    def __init__(self, ctx: AppContext, parent: Any = None, *, load: bool = True) -> None:
        """With ``load=False`` nothing is read until :meth:`refresh` (sort and
        filter set before that only take note)."""
        super().__init__(parent)
        self._ctx = ctx
        self._filter = InvoiceFilter()
        self._sort = InvoiceSort.NUMBER
        self._descending = True  # newest first
        #: ids of every row loaded so far, in order
        self._ids = array("q")
        #: the last loaded row's sort key: where the next page starts
        self._cursor: tuple[Any, ...] | None = None
        #: block number → rows and texts, least recently used first
        self._blocks: OrderedDict[int, _Block] = OrderedDict()
        #: the block data() used last (painting asks for it cell after cell)
        self._last_number = -1
        self._last_block: _Block | None = None
        #: the display texts' dates (the service period shows the first – last day
        #: of service, as the invoice prints it)
        self._dates: _DateTexts | None = None
        if load:
            self.refresh()

    # -- state ---------------------------------------------------------------

    @property
    def invoice_filter(self) -> InvoiceFilter:
        return self._filter

    @property
    def sort_key(self) -> InvoiceSort:
        return self._sort

    @property
    def sort_column(self) -> int:
        return next(c for c, key in self.SORT_KEYS.items() if key == self._sort)

    @classmethod
    def is_sortable(cls, column: int) -> bool:
        return column in cls.SORT_KEYS

    def loaded_count(self) -> int:
        return len(self._ids)

    def cached_rows(self) -> int:
        """How many rows are held in memory now (at most ``CACHED_BLOCKS`` pages)."""
        return sum(len(block.rows) for block in self._blocks.values())

    def row_object(self, row: int) -> InvoiceListRow | None:
        """The invoice of ``row`` (read again by id if its block was let go of)."""
        if not 0 <= row < len(self._ids):
            return None
        block = self._block(row // self.PAGE_SIZE)
        return block.rows[row % self.PAGE_SIZE]

    # -- reloading -----------------------------------------------------------

    def set_filter(self, flt: InvoiceFilter, *, count: bool = True) -> None:
        """Show only invoices matching ``flt``; reloads the first page and (with
        ``count``) the count; without, it waits for :meth:`count_total`."""
        if flt == self._filter:
            return
        self._filter = flt
        self._total = None
        if self._loaded:
            self.refresh(count=count)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in SQL by ``column`` (a sortable one; others are ignored); reloads."""
        key = self.SORT_KEYS.get(column)
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort, self._descending):
            return
        self._sort, self._descending = key, descending
        if self._loaded:
            self.refresh(count=self._total is None)  # the same invoices: the count stands

    def refresh(self, *, count: bool = True) -> None:
        """Forget loaded rows and read the first page (and, with ``count``, the count).

        With ``count=False`` the count waits for :meth:`count_total`.
        """
        self._loaded = True
        self.beginResetModel()
        self._ids = array("q")
        self._blocks.clear()
        self._last_block = None
        self._cursor = None
        self._exhausted = False
        if count:
            self._total = None
        page = self._read_page()
        if page:
            self._add_page(page)
        self.endResetModel()
        if count:
            self.count_total()

    def _reread_loaded(self) -> None:
        """:meth:`refresh_in_place`: the loaded rows read again, kept in place."""

        def read(after: Any) -> list[InvoiceListRow]:
            return invoice_list.invoice_page(
                self._ctx, self._filter, self._sort, self._descending,
                after=after, limit=self.PAGE_SIZE,
            )  # fmt: skip

        rows, exhausted = reread_pages(
            read, len(self._ids), self.PAGE_SIZE, lambda row: row.sort_key
        )
        old_ids = list(self._ids)
        new_ids = [row.id for row in rows]

        def install() -> None:
            self._ids = array("q", new_ids)
            self._blocks.clear()
            self._last_block = None
            size = self.PAGE_SIZE
            for number in range(0, len(rows), size):
                self._store_block(number // size, _Block(list(rows[number : number + size])))
            self._cursor = rows[-1].sort_key if rows else None
            self._exhausted = exhausted

        self._replace_rows(old_ids, new_ids, install)

    def count_total(self) -> None:
        """Count the matching invoices if not counted yet; emits ``totalChanged``."""
        if self._total is None and self._loaded:
            self._total = invoice_list.count_invoices(self._ctx, self._filter)
            self.totalChanged.emit(self._total)

    def forget_total(self) -> None:
        """The next :meth:`count_total` counts again (the database may have changed)."""
        self._total = None

    def _forget_texts(self) -> None:
        """Headers and words changed language (or the locale changed formats)."""
        super()._forget_texts()
        self._dates = None
        for block in self._blocks.values():
            block.cells = [None] * len(block.rows)

    # -- lazy loading --------------------------------------------------------

    def _read_page(self) -> list[InvoiceListRow]:
        """The next page after the cursor (the first one without a cursor)."""
        page = invoice_list.invoice_page(
            self._ctx,
            self._filter,
            self._sort,
            self._descending,
            after=self._cursor,
            limit=self.PAGE_SIZE,
        )
        if len(page) < self.PAGE_SIZE:
            self._exhausted = True
        return page

    def _add_page(self, page: list[InvoiceListRow]) -> None:
        # Pages start at multiples of PAGE_SIZE, so a page is exactly one block.
        self._store_block(len(self._ids) // self.PAGE_SIZE, _Block(list(page)))
        self._ids.extend([row[0] for row in page])  # the ids (first column)
        self._cursor = page[-1].sort_key

    def _store_block(self, number: int, block: _Block) -> None:
        self._last_block = None
        self._blocks[number] = block
        self._blocks.move_to_end(number)
        while len(self._blocks) > self.CACHED_BLOCKS:
            self._blocks.popitem(last=False)

    def _block(self, number: int) -> _Block:
        block = self._blocks.get(number)
        if block is not None:
            self._blocks.move_to_end(number)
            return block
        first = number * self.PAGE_SIZE
        ids = self._ids[first : first + self.PAGE_SIZE]
        rows = invoice_list.invoices_by_id(self._ctx, ids)
        block = _Block(rows)
        self._store_block(number, block)
        log.debug("read invoices %d-%d again", first, first + len(rows) - 1)
        return block

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or not self._loaded:
            return
        page = self._read_page()
        if not page:
            return
        first = len(self._ids)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._add_page(page)
        self.endInsertRows()

    # -- Qt model API --------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def _alignment(self, column: int) -> Qt.AlignmentFlag:
        return self._ALIGNMENTS[column]

    def _located(self, index: _Index) -> tuple[_Block, int] | None:
        """The block holding ``index``'s row and the row's place in it (None: no row)."""
        number = index.row()
        if not 0 <= number < len(self._ids) or not index.isValid():
            return None
        block_number, offset = divmod(number, self.PAGE_SIZE)
        if block_number == self._last_number and self._last_block is not None:
            block = self._last_block  # painting goes cell by cell along a block
        else:
            block = self._block(block_number)
            self._last_number, self._last_block = block_number, block
        return block, offset

    def _row_cells(self, block: _Block, offset: int) -> tuple[_Cell, ...]:
        """The row's cells, made the first time the row is shown (kept with its block)."""
        cells = block.cells[offset]
        if cells is None:
            row = block.rows[offset]
            assert row is not None
            cells = tuple(zip(self._texts(row), self._ALIGNMENTS, self._colors(row), strict=True))
            block.cells[offset] = cells
        return cells

    def _colors(self, row: InvoiceListRow) -> tuple[QColor | None, ...]:
        """Each column's text colour: overdue amounts and dates in red, a void invoice grey."""
        if row.status == "void":
            return self._VOID_COLORS
        if row.overdue:
            return self._OVERDUE_COLORS
        return self._PLAIN_COLORS

    def _painted(self, index: _Index) -> tuple[Any, Any, Any]:
        found = self._located(index)
        if found is None:
            return None, None, None
        block, offset = found
        if block.rows[offset] is None:  # gone from the database since it was listed
            return None, None, None
        return self._row_cells(block, offset)[index.column()]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != DISPLAY:  # painting asks for the display role most
            if role not in self._DATA_ROLES:
                return None
            if role == ALIGNMENT:
                return self._ALIGNMENTS[index.column()]
        found = self._located(index)
        if found is None:
            return None
        block, offset = found
        row = block.rows[offset]
        if row is None:  # gone from the database since it was listed
            return None
        column = index.column()
        if role == DISPLAY:
            return self._row_cells(block, offset)[column][0]
        if role == FOREGROUND:
            return self._row_cells(block, offset)[column][2]
        if role == TOOLTIP:
            if column == self.COMPANY:
                return row.company_name
            return None
        if role == self._OBJECT:
            return row
        return self._sort_value(row, column)  # SortRole

    def _texts(self, row: InvoiceListRow) -> tuple[str, ...]:
        dates = self._dates
        if dates is None:
            dates = self._dates = _DateTexts()
        day, money = dates.text, dates.money.text
        start, end = row.period_start, row.period_end
        if start is None or end is None or end <= start:
            period = "—"
        else:
            period = f"{day(start)} – {day(Period(start, end).last_day)}"
        return (
            row.number,
            day(row.issue_date),
            row.account_number,
            row.company_name,
            period,
            money(row.total_minor, row.currency),
            money(row.due_minor, row.currency),
            day(row.due_date),
            invoice_status_text(row),
        )

    def _sort_value(self, row: InvoiceListRow, column: int) -> Any:
        """The value SQL sorts the column by (None for a column that does not sort)."""
        if column == self.NUMBER:
            return row.number
        if column == self.ACCOUNT:
            return row.account_number
        if column == self.COMPANY:
            return row.company_name
        if column == self.DUE_DATE:
            return row.due_date.toordinal()
        if column == self.STATUS:
            return row.status
        return None


class _DateTexts:
    """Dates as the locale writes them (``format_date``), each day formatted once
    (a page of invoices repeats few days), and amounts (``MoneyTexts``). Made
    anew when the language or the locale changes (``_forget_texts``)."""

    __slots__ = ("days", "locale", "money", "pattern")

    def __init__(self) -> None:
        self.locale = QLocale()
        self.pattern = date_pattern(self.locale)
        self.days: dict[date, str] = {}
        self.money = MoneyTexts(self.locale)

    def text(self, day: date) -> str:
        found = self.days.get(day)
        if found is None:
            found = self.days[day] = self.locale.toString(
                QDate(day.year, day.month, day.day), self.pattern
            )
        return found
