"""The read-only table-model boilerplate shared by the tables of the application.

:class:`TableModel` is the Qt plumbing every read-only table needs: a fixed
set of columns whose titles (and tips) are ``QT_TRANSLATE_NOOP`` sources
translated in the subclass's own context (``CONTEXT``), so the strings keep
matching the .ts files, and :meth:`~TableModel.retranslate`.
:class:`RowTableModel` adds a list of row objects (plain service dataclasses),
one per table row (the account page's tabs, the outbox);
:class:`PagedTableModel` is the lazy window over an SQL result that the
accounts and invoices lists share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

__all__ = [
    "ALIGNMENT",
    "CENTER",
    "DISPLAY",
    "FOREGROUND",
    "LEFT",
    "RIGHT",
    "TOOLTIP",
    "PagedTableModel",
    "RowTableModel",
    "TableModel",
    "setup_list_table",
    "setup_row_table",
    "size_columns_to_samples",
]

_Index = QModelIndex | QPersistentModelIndex

# Roles as plain ints: data() runs for every visible cell and role on each paint.
DISPLAY = int(Qt.ItemDataRole.DisplayRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_HORIZONTAL = Qt.Orientation.Horizontal
_HEADER_ROLES = frozenset({DISPLAY, TOOLTIP, ALIGNMENT})

#: The roles ``QStyledItemDelegate`` asks for, in one ``multiData()`` request, for
#: each cell it paints (Qt 6's ``initStyleOption``), in its order.
_PAINT_REQUEST = tuple(
    int(role)
    for role in (
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.CheckStateRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.BackgroundRole,
    )
)
_PAINT_SIZE = len(_PAINT_REQUEST)
#: The places in that request of the roles the paged lists answer.
_PAINT_DISPLAY, _PAINT_ALIGNMENT, _PAINT_FOREGROUND = (
    _PAINT_REQUEST.index(role) for role in (DISPLAY, ALIGNMENT, FOREGROUND)
)

# Column alignments: text left, amounts right, short values centred.
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter
_SINGLE = QAbstractItemView.SelectionMode.SingleSelection


class TableModel(QAbstractTableModel):
    """A read-only table of ``COLUMN_COUNT`` columns with translated titles.

    Subclasses set ``CONTEXT`` (the translation context of ``HEADERS`` and
    ``HEADER_TIPS``), ``HEADERS`` (the column titles, ``QT_TRANSLATE_NOOP``
    sources), optionally ``HEADER_TIPS`` (column → tip source) and
    ``COLUMN_COUNT``, implement ``rowCount`` and ``data``, and may override
    :meth:`_alignment` and :meth:`_forget_texts`.
    """

    COLUMN_COUNT = 0
    #: the translation context of the column titles and tips
    CONTEXT = ""
    HEADERS: tuple[str, ...] = ()
    HEADER_TIPS: Mapping[int, str] = {}

    #: The row object behind a row (any column).
    ObjectRole = Qt.ItemDataRole.UserRole + 1

    _LEFT, _RIGHT, _CENTER = LEFT, RIGHT, CENTER
    _FLAGS = (
        Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
    )

    def _replace_rows(
        self, old_ids: Sequence[Any], new_ids: Sequence[Any], install: Callable[[], None]
    ) -> None:
        """Show new rows without a model reset (live refresh, issue 8).

        ``install`` puts the rows in place; ``old_ids``/``new_ids`` are the row
        keys (ids) before and after. As one layout change: a view keeps its
        scroll position, and its selection and current row follow their ids (a
        row that is gone drops out of the selection). Texts cached per row are
        forgotten (:meth:`_forget_row_texts`).
        """
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        keys = [
            old_ids[index.row()] if 0 <= index.row() < len(old_ids) else None
            for index in persistent
        ]
        install()
        self._forget_row_texts()
        where = {key: row for row, key in enumerate(new_ids)}
        moved = []
        for index, key in zip(persistent, keys, strict=True):
            row = where.get(key) if key is not None else None
            moved.append(self.index(row, index.column()) if row is not None else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _forget_row_texts(self) -> None:
        """Drop display texts cached per row (subclasses that cache them)."""
        texts = getattr(self, "_texts", None)
        if isinstance(texts, dict):
            texts.clear()

    def retranslate(self) -> None:
        """The language changed: the views ask again for titles and cells."""
        self._forget_texts()
        self.headerDataChanged.emit(_HORIZONTAL, 0, self.COLUMN_COUNT - 1)
        rows = self.rowCount()
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(rows - 1, self.COLUMN_COUNT - 1))

    def _forget_texts(self) -> None:
        """Drop the texts kept in the old language (nothing is kept here)."""

    def _alignment(self, column: int) -> Qt.AlignmentFlag | None:
        """The text alignment of a column (None: the view's default)."""
        return None

    def _title(self, section: int) -> str:
        return QCoreApplication.translate(self.CONTEXT, self.HEADERS[section])

    def _tip(self, section: int) -> str | None:
        source = self.HEADER_TIPS.get(section)
        return QCoreApplication.translate(self.CONTEXT, source) if source else None

    # -- Qt model API --------------------------------------------------------

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMN_COUNT

    # flags(): QAbstractTableModel's own answer is _FLAGS for a valid index (and no
    # Python call for every cell painted, which an override here would cost)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        # A header asks for a dozen roles of each section on every paint: the
        # ones no title answers go first.
        if role not in _HEADER_ROLES or orientation != _HORIZONTAL:
            return None
        if not 0 <= section < self.COLUMN_COUNT:
            return None
        if role == DISPLAY:
            return self._title(section)
        if role == TOOLTIP:
            return self._tip(section)
        if role == ALIGNMENT:
            return self._alignment(section)
        return None


class RowTableModel(TableModel):
    """A flat, read-only table: one row object per row, ``COLUMN_COUNT`` columns.

    Subclasses set ``CONTEXT``, ``HEADERS`` and ``COLUMN_COUNT`` (see
    :class:`TableModel`), implement ``data`` and may override :meth:`_alignment`.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    # -- rows ----------------------------------------------------------------

    def set_rows(self, rows: Iterable[Any]) -> None:
        """Show ``rows`` instead of the current ones (a model reset)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def refresh_rows(self, rows: Iterable[Any], key: Callable[[Any], Any] | None = None) -> None:
        """Show ``rows`` in place of the current ones without a reset: the views keep
        their scroll position and selection (rows matched by ``key``, default ``id``)."""
        new = list(rows)
        row_key = key or _row_id
        old_ids = [row_key(r) for r in self._rows]
        new_ids = [row_key(r) for r in new]

        def install() -> None:
            self._rows = new

        self._replace_rows(old_ids, new_ids, install)

    def rows(self) -> tuple[Any, ...]:
        return tuple(self._rows)

    def row_object(self, row: int) -> Any:
        return self._rows[row]

    def _row_at(self, index: _Index) -> Any:
        """The row object of ``index``, None when the index points at no row."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self._rows[index.row()]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)


class PagedTableModel(TableModel):
    """A lazy window over a sorted, filtered SQL result (the accounts and invoices lists).

    What those lists share: the header titles and tips translated once per
    language (a header asks for them hundreds of times), the SQL sort order
    (``_descending``), the page state (``_loaded``, ``_exhausted``) and the
    count of matching rows (:attr:`total`, ``totalChanged``). Subclasses read
    the pages and the count.
    """

    #: The value the column sorts by in SQL; None for a column that does not sort.
    SortRole = Qt.ItemDataRole.UserRole + 2

    PAGE_SIZE = 200

    _OBJECT = int(TableModel.ObjectRole)
    _SORT = int(SortRole)
    #: The roles data() answers; every other one is None at once.
    _DATA_ROLES = frozenset({DISPLAY, TOOLTIP, ALIGNMENT, FOREGROUND, _OBJECT, _SORT})

    #: Emitted after every count with the number of rows matching the filter.
    totalChanged = Signal(int)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._descending = False
        self._exhausted = True
        self._loaded = False
        self._total: int | None = None
        #: Translated header titles and tips; retranslate() drops them.
        self._titles: tuple[str, ...] | None = None
        self._tips: dict[int, str] = {}

    @property
    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    @property
    def total(self) -> int:
        """How many rows match the filter (loaded or not); 0 until counted."""
        return self._total or 0

    @property
    def total_known(self) -> bool:
        """False between ``refresh(count=False)`` and ``count_total()``."""
        return self._total is not None

    def _forget_texts(self) -> None:
        self._titles = None

    def _translate_headers(self) -> tuple[str, ...]:
        translate = QCoreApplication.translate
        self._titles = tuple(translate(self.CONTEXT, title) for title in self.HEADERS)
        self._tips = {
            column: translate(self.CONTEXT, source) for column, source in self.HEADER_TIPS.items()
        }
        return self._titles

    def _title(self, section: int) -> str:
        titles = self._titles
        return (titles if titles is not None else self._translate_headers())[section]

    def _tip(self, section: int) -> str | None:
        if self._titles is None:
            self._translate_headers()
        return self._tips.get(section)

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan) -> None:
        """Answer several roles of a cell in one call (Qt 6).

        A delegate painting a cell asks for its seven roles in one request
        (:data:`_PAINT_REQUEST`); of those the lists answer the display text,
        the alignment and the colour, all three from one look-up of the row
        (:meth:`_painted`) instead of seven Python ``data()`` calls from C++
        per painted cell. The delegate keeps its request from cell to cell, so
        each of the three is written every time (cleared when the cell has
        none); the four others these lists never answer. Any other request is
        answered role by role.
        """
        span = roleDataSpan
        if len(span) == _PAINT_SIZE:
            # Written out: this runs for every cell painted.
            display = span[_PAINT_DISPLAY]
            alignment = span[_PAINT_ALIGNMENT]
            foreground = span[_PAINT_FOREGROUND]
            if (
                display.role() == DISPLAY
                and alignment.role() == ALIGNMENT
                and foreground.role() == FOREGROUND
            ):
                text, align, color = self._painted(index)
                if text is None:
                    display.clearData()
                else:
                    display.setData(text)
                if align is None:
                    alignment.clearData()
                else:
                    alignment.setData(align)
                if color is None:
                    foreground.clearData()
                else:
                    foreground.setData(color)
                return
        data, roles = self.data, self._DATA_ROLES
        for n in range(len(span)):
            item = span[n]
            role = item.role()
            value = data(index, role) if role in roles else None
            if value is None:
                item.clearData()
            else:
                item.setData(value)

    def _painted(self, index: _Index) -> tuple[Any, Any, Any]:
        """The display text, alignment and colour of a cell (subclasses answer
        all three from one look-up of the row)."""
        data = self.data
        return data(index, DISPLAY), data(index, ALIGNMENT), data(index, FOREGROUND)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._loaded and not self._exhausted

    def refresh_in_place(self) -> None:
        """Read again the rows loaded so far (at least the first page), in place:
        changed rows show their new values, new rows appear where the sort puts
        them, deleted ones go; the views keep their scroll position and the
        selected rows (by id). Subclasses implement :meth:`_reread_loaded`."""
        if not self._loaded:
            return
        self._reread_loaded()
        if self._total is not None:
            self._total = None
            self.count_total()  # type: ignore[attr-defined]

    def _reread_loaded(self) -> None:
        raise NotImplementedError


def _row_id(row: Any) -> Any:
    return row.id


def reread_pages(
    read: Callable[[Any], list[Any]],
    at_least: int,
    page_size: int,
    cursor: Callable[[Any], Any],
) -> tuple[list[Any], bool]:
    """Pages from the start until ``at_least`` rows (or the end): the rows and
    whether the end was reached. ``read(after)`` reads the page after
    ``cursor(row)`` of the row before it (None: the first page)."""
    rows: list[Any] = []
    after = None
    while True:
        page = read(after)
        rows.extend(page)
        if len(page) < page_size:
            return rows, True
        if len(rows) >= at_least:
            return rows, False
        after = cursor(page[-1])


def setup_row_table(
    table: QTableView,
    model: QAbstractItemModel,
    row_padding: int = 10,
    *,
    selection_mode: QAbstractItemView.SelectionMode = _SINGLE,
) -> None:
    """The tables' look: whole rows, one selected, no grid, no editing.

    Everything that decides the headers' sizes is set before the model: each
    change afterwards would make the headers measure every section again.
    """
    rows = table.verticalHeader()
    rows.hide()
    # Fixed row heights: the view never measures rows, which keeps long
    # tables cheap to lay out.
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + row_padding)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection_mode)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.setShowGrid(False)
    table.setTabKeyNavigation(False)


def setup_list_table(
    table: QTableView,
    model: QAbstractItemModel,
    *,
    min_section_size: int = 48,
    selection_mode: QAbstractItemView.SelectionMode = _SINGLE,
) -> QHeaderView:
    """The look of a list view's long table (accounts, invoices, emails); its header.

    :func:`setup_row_table`, and columns the user can move and resize (none
    stretches unless the view says so) and scrolling by pixel.
    """
    header = table.horizontalHeader()
    header.setSectionsMovable(True)
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(min_section_size)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    setup_row_table(table, model, selection_mode=selection_mode)
    return header


def size_columns_to_samples(
    table: QTableView,
    samples: Mapping[int, str],
    padding: int,
    model: QAbstractItemModel | None = None,
) -> None:
    """Make each column of ``samples`` fit its sample text and its title, plus ``padding``.

    The titles come from ``model`` (the table's own model when None).
    """
    fm = table.fontMetrics()
    source = model if model is not None else table.model()
    header = table.horizontalHeader()
    for column, sample in samples.items():
        title = str(source.headerData(column, Qt.Orientation.Horizontal))
        width = max(fm.horizontalAdvance(sample), fm.horizontalAdvance(title)) + padding
        header.resizeSection(column, width)
