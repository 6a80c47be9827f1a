"""The Users & licences tab: who holds the seats of each live subscription (SPEC §4).

A grid: one row per contact (name, email, roles; the billing contact marked),
one column of checkboxes per live subscription. Ticking and clearing boxes
only *stages* changes — highlighted cells and a live free-seat count per
subscription — until **Apply** sends them, one service call per
subscription and direction (:func:`~billing_desktop.services.licences.unassign_licences`
first, so freed seats can be given to others, then
:func:`~billing_desktop.services.licences.assign_licences`). **Revert**
forgets them.

The rule "never more contacts than licences" belongs to the service. The
grid only helps: an empty box cannot be ticked once no seat is free, while
"Assign all users" stages everyone and shows how many seats are missing; the
service then refuses with its own message and the staged state stays, so the
operator can untick a few and try again.

Each call sends the version of the subscription the grid showed (optimistic
locking, issue 8): if another operator changed that subscription meanwhile,
the service's "changed by … at … — reload" message is shown, nothing of that
subscription is written, and the grid reads the seats again — the other
operator's change appears, the staged ticks that still make a difference and
the current cell stay.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.activity import Requester, account_requesters
from billing_desktop.services.context import AppContext
from billing_desktop.services.licences import (
    AccountLicences,
    ContactSeats,
    SubscriptionSeats,
    assign_licences,
    licence_overview,
    unassign_licences,
)
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.models.table import setup_row_table
from billing_desktop.ui.words import role_word, roles_text, translated_word

__all__ = ["CheckCellDelegate", "LicencesModel", "LicencesTab", "role_word", "roles_text"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex

#: Translation context of the constant words below.
_CONTEXT = "LicencesTab"

#: Statuses of the subscriptions shown here (live ones only).
STATUS_WORDS = {
    "trial": QT_TRANSLATE_NOOP("LicencesTab", "Trial"),
    "active": QT_TRANSLATE_NOOP("LicencesTab", "Active"),
    "cancellation_pending": QT_TRANSLATE_NOOP("LicencesTab", "Cancellation pending"),
}

_OVER_COLOR = QColor(176, 0, 32)


def _word(table: dict[str, str], value: str) -> str:
    return translated_word(_CONTEXT, table, value)


def _checked(value: Any) -> bool:
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    try:
        return int(value) == Qt.CheckState.Checked.value
    except (TypeError, ValueError):
        return False


class LicencesModel(QAbstractTableModel):
    """Contacts × live subscriptions; a checkable cell per seat, with staged changes.

    The model keeps the service's overview (the *base*) and the cells the user
    changed (the *staged* wishes); everything shown is base + staged. Nothing
    is written here: :meth:`pending` tells the tab what to send.
    """

    NAME, EMAIL, ROLES = range(3)
    FIRST_SUBSCRIPTION = 3

    #: The :class:`ContactSeats` of a row (any column).
    ObjectRole = Qt.ItemDataRole.UserRole + 1
    #: The subscription id of a column (header data and cells).
    SubscriptionRole = Qt.ItemDataRole.UserRole + 2

    HEADERS = (
        QT_TRANSLATE_NOOP("LicencesModel", "Contact"),
        QT_TRANSLATE_NOOP("LicencesModel", "Email"),
        QT_TRANSLATE_NOOP("LicencesModel", "Roles"),
    )

    #: Emitted whenever the staged changes (and so the free seats) change.
    stagingChanged = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._contacts: tuple[ContactSeats, ...] = ()
        self._subs: tuple[SubscriptionSeats, ...] = ()
        self._billing_contact_id: int | None = None
        self._base: dict[int, frozenset[int]] = {}
        #: (contact id, subscription id) → wanted; only cells differing from base
        self._staged: dict[tuple[int, int], bool] = {}
        self._staged_brush = QColor(255, 193, 7, 90)

    # -- state ---------------------------------------------------------------

    def set_overview(
        self, overview: AccountLicences, billing_contact_id: int | None = None
    ) -> None:
        """Show ``overview``; staged wishes that still make a difference are kept."""
        self.beginResetModel()
        self._contacts = overview.contacts
        self._subs = overview.subscriptions
        self._billing_contact_id = billing_contact_id
        self._base = {
            s.subscription_id: frozenset(h.contact_id for h in s.holders) for s in self._subs
        }
        contacts = {c.contact_id for c in self._contacts}
        self._staged = {
            (cid, sid): wanted
            for (cid, sid), wanted in self._staged.items()
            if cid in contacts and sid in self._base and (cid in self._base[sid]) != wanted
        }
        self.endResetModel()
        self.stagingChanged.emit()

    @property
    def subscriptions(self) -> tuple[SubscriptionSeats, ...]:
        return self._subs

    @property
    def contacts(self) -> tuple[ContactSeats, ...]:
        return self._contacts

    def subscription(self, column: int) -> SubscriptionSeats | None:
        number = column - self.FIRST_SUBSCRIPTION
        return self._subs[number] if 0 <= number < len(self._subs) else None

    def column_of(self, subscription_id: int) -> int:
        for n, sub in enumerate(self._subs):
            if sub.subscription_id == subscription_id:
                return self.FIRST_SUBSCRIPTION + n
        raise KeyError(subscription_id)

    def holds(self, contact_id: int, subscription_id: int) -> bool:
        """Whether the contact holds (or will hold, once applied) a seat."""
        staged = self._staged.get((contact_id, subscription_id))
        if staged is not None:
            return staged
        return contact_id in self._base.get(subscription_id, frozenset())

    def is_staged(self, contact_id: int, subscription_id: int) -> bool:
        return (contact_id, subscription_id) in self._staged

    def assigned(self, subscription_id: int) -> int:
        """Seats taken once the staged changes are applied."""
        count = len(self._base.get(subscription_id, ()))
        for (_cid, sid), wanted in self._staged.items():
            if sid == subscription_id:
                count += 1 if wanted else -1
        return count

    def free(self, subscription_id: int) -> int:
        """Free seats once the staged changes are applied (negative: too many)."""
        sub = self._sub(subscription_id)
        return (sub.licences if sub else 0) - self.assigned(subscription_id)

    def staged_count(self) -> int:
        return len(self._staged)

    def has_changes(self) -> bool:
        return bool(self._staged)

    def pending(self) -> dict[int, tuple[list[int], list[int]]]:
        """Per subscription (grid order): contacts to assign and to unassign (row order)."""
        out: dict[int, tuple[list[int], list[int]]] = {}
        for sub in self._subs:
            sid = sub.subscription_id
            add = [c.contact_id for c in self._contacts if self._staged.get((c.contact_id, sid))]
            remove = [
                c.contact_id
                for c in self._contacts
                if self._staged.get((c.contact_id, sid)) is False
            ]
            if add or remove:
                out[sid] = (add, remove)
        return out

    # -- staging -------------------------------------------------------------

    def stage(self, contact_id: int, subscription_id: int, wanted: bool) -> None:
        """Wish ``wanted`` for one cell (no seat check: see :meth:`setData`)."""
        self._stage_many([contact_id], subscription_id, wanted)

    def stage_all(self, subscription_id: int, wanted: bool) -> None:
        """Every contact assigned (or unassigned); the service decides if seats suffice."""
        self._stage_many([c.contact_id for c in self._contacts], subscription_id, wanted)

    def revert(self) -> None:
        """Forget every staged change."""
        if not self._staged:
            return
        self._staged.clear()
        self._changed_columns(range(self.FIRST_SUBSCRIPTION, self.columnCount()))

    def _stage_many(self, contact_ids: Sequence[int], subscription_id: int, wanted: bool) -> None:
        base = self._base.get(subscription_id)
        if base is None:
            return
        changed = False
        for cid in contact_ids:
            key = (cid, subscription_id)
            if self.holds(cid, subscription_id) == wanted:
                continue
            changed = True
            if (cid in base) == wanted:
                self._staged.pop(key, None)
            else:
                self._staged[key] = wanted
        if changed:
            self._changed_columns([self.column_of(subscription_id)])

    def _changed_columns(self, columns: Iterable[int]) -> None:
        """A column's cells and header changed (its free seats enable or disable boxes)."""
        last_row = len(self._contacts) - 1
        for column in columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, column, column)
            if last_row >= 0:
                self.dataChanged.emit(self.index(0, column), self.index(last_row, column))
        self.stagingChanged.emit()

    def retranslate(self) -> None:
        columns = self.columnCount()
        if columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, columns - 1)
        if self._contacts and columns:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._contacts) - 1, columns - 1)
            )

    def _sub(self, subscription_id: int) -> SubscriptionSeats | None:
        return next((s for s in self._subs if s.subscription_id == subscription_id), None)

    # -- texts ---------------------------------------------------------------

    def contact_name(self, contact: ContactSeats) -> str:
        if contact.contact_id == self._billing_contact_id:
            return self.tr("{name} (billing contact)").format(name=contact.name)
        return contact.name

    def seats_text(self, sub: SubscriptionSeats) -> str:
        """ "4 of 10 free", or how many seats are missing once staged changes apply."""
        free = self.free(sub.subscription_id)
        if free < 0:
            return self.tr("%n too many for {licences} licences", "", -free).format(
                licences=QLocale().toString(sub.licences)
            )
        return self.tr("%n of {licences} free", "", free).format(
            licences=QLocale().toString(sub.licences)
        )

    def subscription_title(self, sub: SubscriptionSeats) -> str:
        return self.tr("{product} ({plan})").format(product=sub.product_name, plan=sub.plan_name)

    def _header_tip(self, sub: SubscriptionSeats) -> str:
        tip = self.tr("{product}, {plan} plan, {status}: {assigned} of {licences} assigned")
        return tip.format(
            product=sub.product_name,
            plan=sub.plan_name,
            status=_word(STATUS_WORDS, sub.status),
            assigned=QLocale().toString(self.assigned(sub.subscription_id)),
            licences=QLocale().toString(sub.licences),
        )

    def _cell_tip(self, contact: ContactSeats, sub: SubscriptionSeats) -> str | None:
        sid = sub.subscription_id
        staged = self._staged.get((contact.contact_id, sid))
        if staged is True:
            return self.tr("{name} gets a licence of {product} when you apply.").format(
                name=contact.name, product=sub.product_name
            )
        if staged is False:
            return self.tr("{name} loses the licence of {product} when you apply.").format(
                name=contact.name, product=sub.product_name
            )
        if not self.holds(contact.contact_id, sid) and self.free(sid) <= 0:
            return self.tr(
                "No licence of {product} is free. Buy more licences or unassign someone first."
            ).format(product=sub.product_name)
        return None

    # -- Qt model API --------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._contacts)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.FIRST_SUBSCRIPTION + len(self._subs)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        sub = self.subscription(index.column())
        if sub is None:
            return base | Qt.ItemFlag.ItemIsEnabled
        contact = self._contacts[index.row()]
        sid = sub.subscription_id
        if not self.holds(contact.contact_id, sid) and self.free(sid) <= 0:
            return base  # no seat free: the box cannot be ticked (the service agrees)
        return base | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.columnCount():
            return None
        sub = self.subscription(section)
        if sub is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return QCoreApplication.translate("LicencesModel", self.HEADERS[section])
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.tr("{product}\n{seats}").format(
                product=sub.product_name, seats=self.seats_text(sub)
            )
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._header_tip(sub)
        if role == Qt.ItemDataRole.ForegroundRole and self.free(sub.subscription_id) < 0:
            return _OVER_COLOR
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == self.SubscriptionRole:
            return sub.subscription_id
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._contacts):
            return None
        contact = self._contacts[index.row()]
        column = index.column()
        if role == self.ObjectRole:
            return contact
        sub = self.subscription(column)
        if sub is None:
            return self._contact_data(contact, column, role)
        sid = sub.subscription_id
        if role == Qt.ItemDataRole.CheckStateRole:
            held = self.holds(contact.contact_id, sid)
            return Qt.CheckState.Checked if held else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.BackgroundRole and self.is_staged(contact.contact_id, sid):
            return self._staged_brush
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._cell_tip(contact, sub)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == self.SubscriptionRole:
            return sid
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.tr("{name}: licence of {product}").format(
                name=contact.name, product=sub.product_name
            )
        return None

    def _contact_data(self, contact: ContactSeats, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NAME:
                return self.contact_name(contact)
            if column == self.EMAIL:
                return contact.email
            return roles_text(contact.roles)
        if role == Qt.ItemDataRole.ToolTipRole and column in (self.NAME, self.EMAIL):
            return f"{contact.name} <{contact.email}>"
        if (
            role == Qt.ItemDataRole.FontRole
            and column == self.NAME
            and contact.contact_id == self._billing_contact_id
        ):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        sub = self.subscription(index.column())
        if sub is None or not 0 <= index.row() < len(self._contacts):
            return False
        if not self.flags(index) & Qt.ItemFlag.ItemIsUserCheckable:
            return False
        self.stage(self._contacts[index.row()].contact_id, sub.subscription_id, _checked(value))
        return True


class CheckCellDelegate(QStyledItemDelegate):
    """Draws a cell's check box in the middle of the cell; a click anywhere in it toggles.

    Qt's own delegate puts the box at the left edge, lost under a wide header.
    Space (or Select) toggles the current cell from the keyboard.
    """

    def _style(self, option: QStyleOptionViewItem) -> QStyle:
        widget = option.widget  # type: ignore[attr-defined]
        return widget.style() if widget is not None else QApplication.style()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        checkable = bool(opt.features & QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator)
        state = opt.checkState
        widget = opt.widget  # type: ignore[attr-defined]
        style = self._style(opt)
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        if not checkable:
            return
        check = QStyleOptionViewItem(opt)
        size = check.rect.size()
        size.setWidth(style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, opt, widget))
        size.setHeight(style.pixelMetric(QStyle.PixelMetric.PM_IndicatorHeight, opt, widget))
        check.rect = QStyle.alignedRect(
            opt.direction, Qt.AlignmentFlag.AlignCenter, size, option.rect
        )
        check.state &= ~(
            QStyle.StateFlag.State_HasFocus | QStyle.StateFlag.State_On | QStyle.StateFlag.State_Off
        )
        on = state == Qt.CheckState.Checked
        check.state |= QStyle.StateFlag.State_On if on else QStyle.StateFlag.State_Off
        style.drawPrimitive(
            QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck, check, painter, widget
        )

    def editorEvent(
        self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: _Index
    ) -> bool:
        flags = model.flags(index)
        if not (flags & Qt.ItemFlag.ItemIsUserCheckable) or not (flags & Qt.ItemFlag.ItemIsEnabled):
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonDblClick:
            return True  # the press and release already toggled
        if kind == QEvent.Type.MouseButtonRelease:
            assert isinstance(event, QMouseEvent)
            if event.button() != Qt.MouseButton.LeftButton or not option.rect.contains(
                event.position().toPoint()
            ):
                return False
        elif kind == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() not in (Qt.Key.Key_Space, Qt.Key.Key_Select):
                return False
        else:
            return False
        checked = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        new = Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked
        return bool(model.setData(index, new, Qt.ItemDataRole.CheckStateRole))


class _BulkRow:
    """The line of one subscription under the grid: its seats and the bulk actions."""

    def __init__(self, parent: QWidget, sub: SubscriptionSeats) -> None:
        self.subscription_id = sub.subscription_id
        self.title = QLabel(parent)
        self.seats = QLabel(parent)
        self.assign_all = QPushButton(parent)
        self.unassign_all = QPushButton(parent)
        self.assign_all.setObjectName(f"assignAll{sub.subscription_id}")
        self.unassign_all.setObjectName(f"unassignAll{sub.subscription_id}")

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.title, self.seats, self.assign_all, self.unassign_all)


class LicencesTab(QWidget):
    """Assign and unassign the seats of an account's live subscriptions, in bulk."""

    #: Emitted after changes were written (some may have been, even if others failed).
    account_changed = Signal()

    def __init__(self, ctx: AppContext, account_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("licencesTab")
        self._ctx = ctx
        self._account_id = account_id
        self._requesters: tuple[Requester, ...] = ()
        self._bulk_rows: list[_BulkRow] = []
        self._just_applied = False

        self.model = LicencesModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("licencesTable")
        self._setup_table()

        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("licencesEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()

        self.bulk_frame = QFrame(self)
        self.bulk_frame.setObjectName("licencesBulk")
        self.bulk_layout = QGridLayout(self.bulk_frame)
        self.bulk_layout.setContentsMargins(0, 0, 0, 0)
        self.bulk_layout.setHorizontalSpacing(12)
        self.bulk_layout.setVerticalSpacing(4)
        self.bulk_layout.setColumnStretch(4, 1)

        self.pending_label = QLabel(self)
        self.pending_label.setObjectName("licencesPending")
        self.requester_label = QLabel(self)
        self.requester_combo = QComboBox(self)
        self.requester_combo.setObjectName("licencesRequester")
        self.requester_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.requester_label.setBuddy(self.requester_combo)
        self.revert_button = QPushButton(self)
        self.revert_button.setObjectName("licencesRevert")
        self.apply_button = QPushButton(self)
        self.apply_button.setObjectName("licencesApply")
        self.apply_button.setDefault(True)

        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(self.pending_label, 1)
        actions.addWidget(self.requester_label)
        actions.addWidget(self.requester_combo)
        actions.addSpacing(12)
        actions.addWidget(self.revert_button)
        actions.addWidget(self.apply_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.bulk_frame)
        layout.addLayout(actions)
        self.setFocusProxy(self.table)

        self.model.stagingChanged.connect(self._update_state)
        self.revert_button.clicked.connect(self.revert)
        self.apply_button.clicked.connect(self.apply)

        self._retranslate_widgets()
        self.reload()

    # -- setup ---------------------------------------------------------------

    def _setup_table(self) -> None:
        table = self.table
        setup_row_table(table, self.model, row_padding=12)
        # one cell selected: a contact's licence of one subscription
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self._check_delegate = CheckCellDelegate(table)
        table.setItemDelegate(self._check_delegate)
        table.horizontalHeader().setMinimumSectionSize(60)
        self.model.modelReset.connect(self._size_columns)

    def _size_columns(self) -> None:
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        fm = self.table.fontMetrics()
        for column in range(self.model.FIRST_SUBSCRIPTION, self.model.columnCount()):
            sub = self.model.subscription(column)
            if sub is None:
                continue
            # wide enough for the product name and the seat count, whatever is staged
            # (at worst every contact ticked on top of the seats taken: "N too many")
            licences = QLocale().toString(sub.licences)
            text = max(
                sub.product_name,
                LicencesModel.tr("%n of {licences} free", "", sub.licences).format(
                    licences=licences
                ),
                LicencesModel.tr(
                    "%n too many for {licences} licences", "", max(self.model.rowCount(), 1)
                ).format(licences=licences),
                key=fm.horizontalAdvance,
            )
            header.resizeSection(column, max(fm.horizontalAdvance(text) + 32, 120))
        header.setSectionResizeMode(self.model.NAME, QHeaderView.ResizeMode.Interactive)

    # -- loading -------------------------------------------------------------

    def reload(self) -> None:
        """Read the seats again; staged changes that still make a difference are kept."""
        try:
            overview = licence_overview(self._ctx, self._account_id)
            requesters = account_requesters(self._ctx, self._account_id)
        except DomainError as err:
            show_service_error(self, err)
            return
        self._requesters = requesters
        billing = next((r.contact_id for r in requesters if r.is_billing_contact), None)
        self._fill_requesters()
        current = self._current_cell()
        scroll = (
            self.table.horizontalScrollBar().value(),
            self.table.verticalScrollBar().value(),
        )
        self.model.set_overview(overview, billing)
        self._restore_current_cell(current)
        self.table.horizontalScrollBar().setValue(scroll[0])
        self.table.verticalScrollBar().setValue(scroll[1])
        self._build_bulk_rows()
        self._update_state()

    def _current_cell(self) -> tuple[int, int | None, int] | None:
        """The current cell as (contact id, subscription id or None, column)."""
        index = self.table.currentIndex()
        contact = index.data(LicencesModel.ObjectRole) if index.isValid() else None
        if not isinstance(contact, ContactSeats):
            return None
        sub = self.model.subscription(index.column())
        return contact.contact_id, sub.subscription_id if sub else None, index.column()

    def _restore_current_cell(self, cell: tuple[int, int | None, int] | None) -> None:
        """Make the same contact's cell of the same column current again (if still shown)."""
        if cell is None:
            return
        contact_id, subscription_id, column = cell
        model = self.model
        row = next((n for n, c in enumerate(model.contacts) if c.contact_id == contact_id), None)
        if row is None:
            return
        if subscription_id is not None:
            try:
                column = model.column_of(subscription_id)
            except KeyError:
                return
        index = model.index(row, column)
        if index.isValid():
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _fill_requesters(self) -> None:
        combo = self.requester_combo
        current = combo.currentData()
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem(self.tr("Not recorded"), None)
            for person in self._requesters:
                combo.addItem(self._requester_text(person), person.contact_id)
            index = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(index, 0))
        finally:
            combo.blockSignals(False)

    def _requester_text(self, person: Requester) -> str:
        if person.is_billing_contact:
            return self.tr("{name} (billing contact)").format(name=person.name)
        return person.name

    def _build_bulk_rows(self) -> None:
        for row in self._bulk_rows:
            for widget in row.widgets():
                self.bulk_layout.removeWidget(widget)
                widget.deleteLater()
        self._bulk_rows = []
        for n, sub in enumerate(self.model.subscriptions):
            row = _BulkRow(self.bulk_frame, sub)
            sid = sub.subscription_id
            row.assign_all.clicked.connect(lambda _c=False, s=sid: self.assign_all(s))
            row.unassign_all.clicked.connect(lambda _c=False, s=sid: self.unassign_all(s))
            for column, widget in enumerate(row.widgets()):
                self.bulk_layout.addWidget(widget, n, column)
            self._bulk_rows.append(row)
        self._retranslate_bulk_rows()
        # keyboard order: the grid, each subscription's buttons, then the apply bar
        chain: list[QWidget] = [self.table]
        for row in self._bulk_rows:
            chain.extend((row.assign_all, row.unassign_all))
        chain.extend((self.requester_combo, self.revert_button, self.apply_button))
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        has_subs = bool(self.model.subscriptions)
        self.empty_label.setVisible(not has_subs)
        self.bulk_frame.setVisible(has_subs)

    # -- actions -------------------------------------------------------------

    def assign_all(self, subscription_id: int) -> None:
        """Stage a seat for every contact (beyond the free seats the service will refuse)."""
        self._just_applied = False
        self.model.stage_all(subscription_id, True)

    def unassign_all(self, subscription_id: int) -> None:
        self._just_applied = False
        self.model.stage_all(subscription_id, False)

    def revert(self) -> None:
        """Forget the staged changes."""
        self.model.revert()

    def apply(self) -> None:
        """Send the staged changes: per subscription, unassign first, then assign.

        Each call is its own transaction and sends the subscription's version
        the grid shows: when another operator changed the subscription since,
        the service refuses ("changed by … at … — reload"). On a refusal the
        message is shown, what was already written stays written, the grid
        reads the seats again (the other operator's change appears) and the
        rest stays staged.
        """
        pending = self.model.pending()
        if not pending:
            return
        requester = self.requester_combo.currentData()
        versions = {s.subscription_id: s.version for s in self.model.subscriptions}
        wrote = False
        failed = False
        try:
            for sid, (add, remove) in pending.items():
                version = versions[sid]
                if remove:
                    done = unassign_licences(
                        self._ctx, sid, remove, requested_by=requester, expected_version=version
                    )
                    version = done.version
                    wrote = True
                if add:
                    assign_licences(
                        self._ctx, sid, add, requested_by=requester, expected_version=version
                    )
                    wrote = True
        except DomainError as err:
            failed = True
            show_service_error(self, err)
        self.reload()
        self._just_applied = not failed
        self._update_state()
        if wrote:
            self.account_changed.emit()

    # -- state ---------------------------------------------------------------

    def _update_state(self) -> None:
        model = self.model
        count = model.staged_count()
        if count:
            self._just_applied = False
            self.pending_label.setText(self.tr("%n change(s) not applied yet", "", count))
        elif self._just_applied:
            self.pending_label.setText(self.tr("Changes applied."))
        else:
            self.pending_label.setText("")
        self.apply_button.setEnabled(bool(count))
        self.revert_button.setEnabled(bool(count))
        for row in self._bulk_rows:
            sub = next(
                (s for s in model.subscriptions if s.subscription_id == row.subscription_id), None
            )
            if sub is None:
                continue
            holders = [model.holds(c.contact_id, sub.subscription_id) for c in model.contacts]
            row.seats.setText(model.seats_text(sub))
            palette = row.seats.palette()
            color = (
                _OVER_COLOR
                if model.free(sub.subscription_id) < 0
                else self.palette().color(QPalette.ColorRole.WindowText)
            )
            palette.setColor(QPalette.ColorRole.WindowText, color)
            row.seats.setPalette(palette)
            row.assign_all.setEnabled(not all(holders))
            row.unassign_all.setEnabled(any(holders))

    # -- translation ---------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self._retranslate_widgets()
        self._fill_requesters()
        self._retranslate_bulk_rows()
        self.model.retranslate()
        self._update_state()

    def _retranslate_widgets(self) -> None:
        self.requester_label.setText(self.tr("Re&quested by:"))
        self.requester_combo.setToolTip(
            self.tr("The contact who asked for the change, recorded in the activity")
        )
        self.revert_button.setText(self.tr("&Revert"))
        self.revert_button.setToolTip(self.tr("Forget the changes not applied yet"))
        self.apply_button.setText(self.tr("&Apply"))
        self.apply_button.setToolTip(self.tr("Assign and unassign the licences as ticked"))
        self.empty_label.setText(
            self.tr(
                "This account has no subscription in trial or active, so there are no "
                "licences to assign."
            )
        )
        self.table.setAccessibleName(self.tr("Licences of each contact"))

    def _retranslate_bulk_rows(self) -> None:
        for row in self._bulk_rows:
            sub = next(
                (s for s in self.model.subscriptions if s.subscription_id == row.subscription_id),
                None,
            )
            if sub is None:
                continue
            row.title.setText(self.model.subscription_title(sub))
            row.assign_all.setText(self.tr("Assign all users"))
            row.assign_all.setToolTip(
                self.tr("Tick every contact for {product}").format(product=sub.product_name)
            )
            row.assign_all.setAccessibleName(
                self.tr("Assign all users to {product}").format(product=sub.product_name)
            )
            row.unassign_all.setText(self.tr("Unassign all"))
            row.unassign_all.setToolTip(
                self.tr("Clear every contact for {product}").format(product=sub.product_name)
            )
            row.unassign_all.setAccessibleName(
                self.tr("Unassign all users from {product}").format(product=sub.product_name)
            )
