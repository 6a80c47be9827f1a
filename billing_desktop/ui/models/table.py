"""The read-only table-model boilerplate shared by the account page's tabs.

:class:`RowTableModel` holds a list of row objects (plain service
dataclasses), one per table row, and a fixed set of columns whose titles are
``QT_TRANSLATE_NOOP`` sources translated in the subclass's own context
(``CONTEXT``), so the strings keep matching the .ts files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

__all__ = ["RowTableModel", "setup_row_table"]

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole


class RowTableModel(QAbstractTableModel):
    """A flat, read-only table: one row object per row, ``COLUMN_COUNT`` columns.

    Subclasses set ``CONTEXT`` (the translation context of ``HEADERS``),
    ``HEADERS`` (the column titles, ``QT_TRANSLATE_NOOP`` sources) and
    ``COLUMN_COUNT``, implement ``data`` and may override :meth:`_alignment`.
    """

    COLUMN_COUNT = 0
    #: the translation context of the column titles
    CONTEXT = ""
    HEADERS: tuple[str, ...] = ()

    #: The row object behind a row (any column).
    ObjectRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    # -- rows ----------------------------------------------------------------

    def set_rows(self, rows: Iterable[Any]) -> None:
        """Show ``rows`` instead of the current ones (a model reset)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> tuple[Any, ...]:
        return tuple(self._rows)

    def row_object(self, row: int) -> Any:
        return self._rows[row]

    def _row_at(self, index: _Index) -> Any:
        """The row object of ``index``, None when the index points at no row."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self._rows[index.row()]

    def retranslate(self) -> None:
        """The language changed: the views ask again for titles and cells."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.COLUMN_COUNT - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, self.COLUMN_COUNT - 1)
            )

    def _alignment(self, column: int) -> Qt.AlignmentFlag | None:
        """The text alignment of a column (None: the view's default)."""
        return None

    # -- Qt model API --------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.COLUMN_COUNT:
            return None
        if role == _DISPLAY:
            return QCoreApplication.translate(self.CONTEXT, self.HEADERS[section])
        if role == _ALIGN:
            return self._alignment(section)
        return None


def setup_row_table(table: QTableView, model: QAbstractItemModel, row_padding: int = 10) -> None:
    """The account tabs' table look: whole rows, one selected, no grid, no editing."""
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + row_padding)
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.setShowGrid(False)
    table.setTabKeyNavigation(False)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
