"""Quick search (Ctrl+K): find an account by ID, company, contact or invoice number (SPEC §4).

One line edit; results appear as the user types (one query per typing pause,
answered by index range scans in ``services.accounts.quick_search``). The
keyboard never leaves the line edit: Up/Down move the selection in the list,
Enter opens the selected account (the first one if none is selected), Esc
closes. Enter right after typing searches at once instead of waiting for the pause.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.accounts import SearchHit, SearchMatch, quick_search
from billing_desktop.services.context import AppContext
from billing_desktop.ui.errors import show_service_error

__all__ = ["QuickSearchDialog", "QuickSearchModel", "match_text"]

log = logging.getLogger("billing_desktop.ui")

#: Typing pause before the search runs, in milliseconds.
SEARCH_DELAY_MS = 100
RESULT_LIMIT = 20

_CONTEXT = "QuickSearch"

#: What a hit matched on, as a sentence with the matched text.
MATCH_TEMPLATES = {
    SearchMatch.ACCOUNT_ID: QT_TRANSLATE_NOOP("QuickSearch", "Account ID {text}"),
    SearchMatch.COMPANY: QT_TRANSLATE_NOOP("QuickSearch", "Company name {text}"),
    SearchMatch.CONTACT_NAME: QT_TRANSLATE_NOOP("QuickSearch", "Contact {text}"),
    SearchMatch.CONTACT_EMAIL: QT_TRANSLATE_NOOP("QuickSearch", "Contact email {text}"),
    SearchMatch.INVOICE_NUMBER: QT_TRANSLATE_NOOP("QuickSearch", "Invoice {text}"),
}

_Index = QModelIndex | QPersistentModelIndex


def match_text(hit: SearchHit) -> str:
    """What the hit matched, translated: "Contact email sanne.devries@…"."""
    template = QCoreApplication.translate(_CONTEXT, MATCH_TEMPLATES[hit.matched])
    return template.format(text=hit.matched_text)


class QuickSearchModel(QAbstractListModel):
    """The accounts found, best first: two lines each (account and what matched)."""

    ObjectRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            first = QCoreApplication.translate("QuickSearch", "{account}  {company}").format(
                account=hit.account_number, company=hit.company_name
            )
            return f"{first}\n{match_text(hit)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return match_text(hit)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return QCoreApplication.translate(
                "QuickSearch", "{account}, {company}, {match}"
            ).format(account=hit.account_number, company=hit.company_name, match=match_text(hit))
        if role == self.ObjectRole:
            return hit
        return None

    def retranslate(self) -> None:
        if self._hits:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._hits) - 1, 0))


class _HitDelegate(QStyledItemDelegate):
    """Two lines per hit: the account in bold, what matched in a quieter colour."""

    PADDING = 6

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # the bold and plain fonts of the last font the view painted with
        self._font_key: QFont | None = None
        self._font_pair: tuple[QFont, QFont] | None = None

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        if self._font_pair is None or self._font_key != option.font:
            bold = QFont(option.font)
            bold.setBold(True)
            self._font_key = QFont(option.font)
            self._font_pair = (bold, QFont(option.font))
        return self._font_pair

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> Any:
        size = super().sizeHint(option, index)
        bold, plain = self._fonts(option)
        height = QFontMetrics(bold).height() + QFontMetrics(plain).height() + 2 * self.PADDING
        size.setHeight(height)
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        hit = index.data(QuickSearchModel.ObjectRole)
        if not isinstance(hit, SearchHit):
            super().paint(painter, option, index)
            return
        # The background (selection, hover, focus) is all the style draws; the
        # texts are ours, so the model is not asked for its other roles.
        opt = QStyleOptionViewItem(option)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Normal
        main = opt.palette.color(
            group,
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text,
        )
        muted = main if selected else opt.palette.color(group, QPalette.ColorRole.PlaceholderText)
        bold, plain = self._fonts(opt)
        rect = opt.rect.adjusted(self.PADDING + 2, self.PADDING, -self.PADDING, -self.PADDING)
        first = QCoreApplication.translate("QuickSearch", "{account}  {company}").format(
            account=hit.account_number, company=hit.company_name
        )
        painter.save()
        painter.setFont(bold)
        painter.setPen(main)
        line = painter.fontMetrics().height()
        top = rect.adjusted(0, 0, 0, -(rect.height() - line))
        elided = painter.fontMetrics().elidedText(first, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(
            top, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
        )
        painter.setFont(plain)
        painter.setPen(muted)
        bottom = rect.adjusted(0, line, 0, 0)
        elided = painter.fontMetrics().elidedText(
            match_text(hit), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(
            bottom, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), elided
        )
        painter.restore()


class QuickSearchDialog(QDialog):
    """A small window over the main window: type, pick with the arrows, Enter opens."""

    #: The user chose an account; carries its id.
    account_chosen = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quickSearch")
        self._ctx = ctx
        self._searched: str | None = None
        self.setModal(True)

        self.edit = QLineEdit(self)
        self.edit.setObjectName("quickSearchEdit")
        self.edit.setClearButtonEnabled(True)
        font = self.edit.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.edit.setFont(font)
        self.model = QuickSearchModel(self)
        self.results = QListView(self)
        self.results.setObjectName("quickSearchResults")
        self.results.setModel(self.model)
        self.results.setItemDelegate(_HitDelegate(self.results))
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setUniformItemSizes(True)
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay in the line edit
        self.status_label = QLabel(self)
        self.status_label.setObjectName("quickSearchStatus")
        self.status_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.edit)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status_label)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.search_now)
        self.edit.textChanged.connect(self._on_text_changed)
        self.edit.returnPressed.connect(self.open_selected)
        self.edit.installEventFilter(self)
        self.results.activated.connect(self._open_index)
        self.results.clicked.connect(self._open_index)

        self.resize(620, 420)
        self.retranslateUi()

    # -- behaviour ---------------------------------------------------------------

    def start(self) -> None:
        """Show the dialog over its parent with the previous text selected (typing replaces it)."""
        parent = self.parentWidget()
        if parent is not None:
            top = parent.mapToGlobal(parent.rect().topLeft())
            width = min(max(560, parent.width() // 2), parent.width() - 40)
            self.resize(width, self.height())
            self.move(top.x() + (parent.width() - width) // 2, top.y() + 60)
        self.show()
        self.activateWindow()
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def _on_text_changed(self, _text: str) -> None:
        self._debounce.start()

    def search_now(self) -> None:
        """Run the search for the current text now (the typing pause ends here)."""
        self._debounce.stop()
        text = self.edit.text().strip()
        if text == self._searched:
            return
        self._searched = text
        try:
            hits = quick_search(self._ctx, text, RESULT_LIMIT) if text else []
        except DomainError as err:
            show_service_error(self, err)
            hits = []
        self.model.set_hits(hits)
        if hits:
            self.results.setCurrentIndex(self.model.index(0, 0))
        self._update_status()

    def _update_status(self) -> None:
        text = self.edit.text().strip()
        count = self.model.rowCount()
        if not text:
            status = self.tr(
                "Type an account ID, a company name, a contact's name or email, or an invoice "
                "number."
            )
        elif count == 0:
            status = self.tr("No account matches “{text}”.").format(text=text)
        elif count >= RESULT_LIMIT:
            status = self.tr(
                "The first %n accounts found. Type more to narrow the search.", "", count
            )
        else:
            status = self.tr("%n account(s) found. Enter opens the selected one.", "", count)
        self.status_label.setText(status)

    def move_selection(self, step: int) -> None:
        count = self.model.rowCount()
        if count == 0:
            return
        row = self.results.currentIndex().row()
        row = 0 if row < 0 else max(0, min(count - 1, row + step))
        index = self.model.index(row, 0)
        self.results.setCurrentIndex(index)
        self.results.scrollTo(index)

    def selected_hit(self) -> SearchHit | None:
        index = self.results.currentIndex()
        if not index.isValid():
            return None
        hit = self.model.data(index, QuickSearchModel.ObjectRole)
        return hit if isinstance(hit, SearchHit) else None

    def open_selected(self) -> None:
        """Enter: open the selected account (searching first if the pause has not ended)."""
        if self._debounce.isActive() or self._searched != self.edit.text().strip():
            self.search_now()
        hit = self.selected_hit()
        if hit is None:
            return
        self.accept()
        parent = self.parentWidget()
        if parent is not None:
            parent.activateWindow()  # the keyboard goes back to the window, on the account
        self.account_chosen.emit(hit.account_id)

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.results.setCurrentIndex(index)
            self.open_selected()

    # -- Qt events ---------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            steps = {
                Qt.Key.Key_Down: 1,
                Qt.Key.Key_Up: -1,
                Qt.Key.Key_PageDown: 5,
                Qt.Key.Key_PageUp: -5,
            }
            step = steps.get(Qt.Key(event.key()))
            if step is not None:
                if self._debounce.isActive():
                    self.search_now()
                self.move_selection(step)
                return True
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Find Account"))
        self.edit.setPlaceholderText(
            self.tr("Account ID, company, contact name or email, invoice number")
        )
        self.edit.setAccessibleName(self.tr("Find account"))
        self.results.setAccessibleName(self.tr("Accounts found"))
        self.model.retranslate()
        self._update_status()
