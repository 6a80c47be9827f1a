"""What the list views share: a filter bar over a long lazy table, a count and an empty state.

:class:`ListView` is the Accounts and Invoices views' common part:

* the hint over an empty table (:attr:`~ListView.empty_label`, created the
  first time the table is empty), kept over the table's viewport as it is
  resized; its text comes from the view's ``_empty_text()`` and its links go
  to ``_on_empty_link()``;
* the first-paint deferral: the first page is painted first, and the view's
  ``_finish_setup()`` (the count, what the first paint does not need) runs
  right after it;
* the count label (``_count_text()``) and the empty state follow the model's
  ``totalChanged``; Enter in the filter applies it and goes to the first row;
* ``changeEvent(LanguageChange)`` → :meth:`~ListView.retranslateUi`, which
  calls the view's ``_retranslate_widgets()`` and retranslates the model.

Subclasses create ``self.model`` (a
:class:`~billing_desktop.ui.models.table.PagedTableModel`), ``self.table``
and ``self.count_label``, set :attr:`~ListView.EMPTY_LABEL_NAME` and define
``apply_filter``, ``_finish_setup``, ``_count_text``, ``_empty_text``,
``_on_empty_link`` and ``_retranslate_widgets``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    from PySide6.QtGui import QPaintEvent

__all__ = ["ListView"]

#: Space between the empty-state hint and the table's edges (pixels).
_EMPTY_MARGIN = 24


class ListView(QWidget):
    """A filtered, lazily loaded table with a count, an empty-state hint and a deferred setup."""

    #: the object name of the empty-state hint
    EMPTY_LABEL_NAME = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Created when the table is first empty (most starts never need it).
        self._empty_label: QLabel | None = None
        # What the first paint does not need comes right after it.
        self._painted = False
        self._deferred_done = False

    # -- first paint ---------------------------------------------------------

    def _after_first_paint(self) -> None:
        if not self.isVisible():  # closed (or hidden) meanwhile: when shown again
            self._painted = False
            return
        self._finish_setup()

    # -- count and empty state -----------------------------------------------

    def _on_return(self) -> None:
        self.apply_filter()
        if self.model.rowCount() > 0:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
            self.table.selectRow(0)

    def _on_total_changed(self, _total: int) -> None:
        self.count_label.setText(self._count_text())
        self._update_empty_state()

    def _empty_geometry(self) -> Any:
        m = _EMPTY_MARGIN
        return self.table.viewport().rect().adjusted(m, m, -m, -m)

    @property
    def empty_label(self) -> QLabel:
        """The hint shown over an empty table (created the first time it is needed)."""
        if self._empty_label is None:
            from PySide6.QtGui import QPalette

            viewport = self.table.viewport()
            label = QLabel(viewport)
            label.setObjectName(self.EMPTY_LABEL_NAME)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(
                Qt.TextInteractionFlag.LinksAccessibleByMouse
                | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
            )
            palette = label.palette()
            palette.setColor(
                QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
            )
            label.setPalette(palette)
            label.linkActivated.connect(self._on_empty_link)
            label.hide()
            label.setGeometry(self._empty_geometry())
            viewport.installEventFilter(self)
            self._empty_label = label
        return self._empty_label

    def _update_empty_state(self) -> None:
        empty = self.model.rowCount() == 0
        if not empty and self._empty_label is None:
            return
        label = self.empty_label
        if empty:
            label.setText(self._empty_text())
            label.setGeometry(self._empty_geometry())
        label.setVisible(empty)

    # -- Qt events -----------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Resize
            and self._empty_label is not None
            and watched is self._empty_label.parent()
        ):
            self._empty_label.setGeometry(self._empty_geometry())
        return super().eventFilter(watched, event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            # Children (the table) paint in this same pass; the rest comes next.
            self._painted = True
            QTimer.singleShot(0, self, self._after_first_paint)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self._retranslate_widgets()
        self.model.retranslate()
        self._update_empty_state()
