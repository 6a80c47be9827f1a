"""The "Upcoming events" panel of a demo database (issue 7 item 2): what the next moves will do.

A dock listing the next events the renewal engine will process — date,
account, product, what happens and, for a renewal, the amount it will bill
(:func:`billing_desktop.services.time_travel.upcoming`). The clock control
refreshes it after every move; it also refreshes with View ▸ Refresh and when
it is shown again. Double-click or Enter on a row opens the account.

Loaded when first shown, in a worker thread (:func:`fetch_in_background`):
the services it asks import SQLAlchemy, which the window's start-up does not
pay for, and the window stays responsive meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.ui.formatting import format_date, format_money

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.services.time_travel import UpcomingItem

__all__ = [
    "EVENT_WORDS",
    "UpcomingEventsModel",
    "UpcomingPanel",
    "event_word",
    "fetch_in_background",
]

log = logging.getLogger("billing_desktop.ui")

#: rows listed (the next events, earliest first)
UPCOMING_LIMIT = 30

#: what each engine event is called in the panel (``EventKind`` values)
EVENT_WORDS = {
    "renewal": QT_TRANSLATE_NOOP("UpcomingPanel", "Renewal"),
    "term_renewal": QT_TRANSLATE_NOOP("UpcomingPanel", "Contract term ends and renews"),
    "cancellation_end": QT_TRANSLATE_NOOP("UpcomingPanel", "Cancellation takes effect"),
    "trial_expiry": QT_TRANSLATE_NOOP("UpcomingPanel", "Trial ends"),
    "trial_ending_notice": QT_TRANSLATE_NOOP("UpcomingPanel", "“Trial ending” email"),
    "invoice_overdue": QT_TRANSLATE_NOOP("UpcomingPanel", "Invoice falls overdue"),
    "data_retention": QT_TRANSLATE_NOOP("UpcomingPanel", "Data marked for deletion"),
}

_Index = QModelIndex | QPersistentModelIndex


class _Relay(QObject):
    """Carries a worker's result to the GUI thread (a queued signal); dies with its owner."""

    done = Signal(object)


class _Fetch(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            outcome: tuple[bool, Any] = (True, self._fn())
        except Exception as err:  # reported on the GUI thread
            outcome = (False, err)
        try:
            self._relay.done.emit(outcome)
        except RuntimeError:  # the owner was destroyed meanwhile: nobody is listening
            log.debug("background read dropped: its owner is gone")
        finally:
            self._fn = self._relay = None  # type: ignore[assignment]


def fetch_in_background(
    owner: QObject, fn: Callable[[], Any], on_done: Callable[[Any], None]
) -> None:
    """Run a quick read ``fn()`` in the thread pool; ``on_done(result)`` on the GUI thread.

    For reads that would import the database layer on the GUI thread (the
    first load of the clock control and the panel). No progress dialog: it
    takes a moment. A service refusal is logged; any other error is raised
    on the GUI thread (the crash handler shows it).
    """
    relay = _Relay(owner)

    def deliver(outcome: tuple[bool, Any]) -> None:
        relay.deleteLater()
        ok, value = outcome
        if ok:
            on_done(value)
        elif isinstance(value, DomainError):
            log.warning("background read refused: %s", value)
        else:
            raise value

    relay.done.connect(deliver, Qt.ConnectionType.QueuedConnection)
    QThreadPool.globalInstance().start(_Fetch(fn, relay))


def event_word(kind: str) -> str:
    """The translated name of an event kind ("renewal" → "Renewal")."""
    source = EVENT_WORDS.get(str(kind))
    return QCoreApplication.translate("UpcomingPanel", source) if source else str(kind)


class UpcomingEventsModel(QAbstractTableModel):
    """The upcoming events, one per row, in the engine's order."""

    DATE, EVENT, ACCOUNT, COMPANY, PRODUCT, AMOUNT = range(6)
    COLUMN_COUNT = 6
    ObjectRole = Qt.ItemDataRole.UserRole + 1
    AccountRole = Qt.ItemDataRole.UserRole + 2

    _HEADERS = (
        QT_TRANSLATE_NOOP("UpcomingPanel", "Date"),
        QT_TRANSLATE_NOOP("UpcomingPanel", "Event"),
        QT_TRANSLATE_NOOP("UpcomingPanel", "Account"),
        QT_TRANSLATE_NOOP("UpcomingPanel", "Company"),
        QT_TRANSLATE_NOOP("UpcomingPanel", "Product"),
        QT_TRANSLATE_NOOP("UpcomingPanel", "Amount"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[UpcomingItem] = []

    def set_rows(self, rows: list[UpcomingItem]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[UpcomingItem]:
        return list(self._rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < self.COLUMN_COUNT
        ):
            return QCoreApplication.translate("UpcomingPanel", self._HEADERS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        event = row.event
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.DATE:
                return format_date(event.date)
            if column == self.EVENT:
                if event.invoice_number:
                    return QCoreApplication.translate(
                        "UpcomingPanel", "Invoice {number} falls overdue"
                    ).format(number=event.invoice_number)
                return event_word(event.kind)
            if column == self.ACCOUNT:
                return event.account_number
            if column == self.COMPANY:
                return event.company_name
            if column == self.PRODUCT:
                return event.product or ""
            if column == self.AMOUNT:
                amount = row.amount
                return format_money(amount.minor, amount.currency) if amount else ""
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.AMOUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.AMOUNT and row.amount:
            return QCoreApplication.translate(
                "UpcomingPanel", "The renewal invoice's total as the subscription stands today"
            )
        if role == self.ObjectRole:
            return row
        if role == self.AccountRole:
            return event.account_id
        return None

    def retranslate(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.COLUMN_COUNT - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, self.COLUMN_COUNT - 1)
            )


class _EventsView(QTableView):
    """Enter opens the current row's account, as a double-click does."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class UpcomingPanel(QDockWidget):
    """The dock: a line saying from when, and the table of upcoming events."""

    #: a row was activated: the account's id
    account_activated = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("upcomingEventsDock")
        self.ctx = ctx
        #: set once the panel has data (or tried); reloads are explicit after that
        self.loaded = False
        self._today: date | None = None
        self.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea
            | Qt.DockWidgetArea.LeftDockWidgetArea
            | Qt.DockWidgetArea.BottomDockWidgetArea
        )
        body = QWidget(self)
        self.caption = QLabel(body)
        self.caption.setObjectName("upcomingCaption")
        self.caption.setWordWrap(True)
        self.model = UpcomingEventsModel(self)
        self.table = _EventsView(body)
        self.table.setObjectName("upcomingTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(UpcomingEventsModel.COMPANY, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.activated.connect(self._activated)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        self.setWidget(body)
        self.setFocusProxy(self.table)
        self.retranslateUi()

    # -- data ----------------------------------------------------------------

    def refresh(self) -> None:
        """Read the upcoming events again (after a move of the clock, a change, F5)."""
        from billing_desktop.services.time_travel import simulated_today, upcoming

        self.loaded = True
        try:
            rows, today = upcoming(self.ctx, limit=UPCOMING_LIMIT), simulated_today(self.ctx)
        except DomainError as err:
            log.warning("upcoming events not available: %s", err)
            rows, today = [], None
        self._show_rows((rows, today))

    def _show_rows(self, loaded: tuple[list[UpcomingItem], date | None]) -> None:
        rows, self._today = loaded
        self.model.set_rows(rows)
        self._caption()

    def _caption(self) -> None:
        today = self._today
        if today is None:
            self.caption.setText("")
        elif not self.model.rowCount():
            self.caption.setText(
                self.tr("Nothing is due after {date}.").format(date=format_date(today))
            )
        else:
            self.caption.setText(
                self.tr("What the next moves of the clock will do, after {date}:").format(
                    date=format_date(today)
                )
            )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loaded:
            self.loaded = True
            ctx = self.ctx

            def read() -> tuple[list[UpcomingItem], date]:
                from billing_desktop.services.time_travel import simulated_today, upcoming

                return upcoming(ctx, limit=UPCOMING_LIMIT), simulated_today(ctx)

            fetch_in_background(self, read, self._show_rows)

    def _activated(self, index: QModelIndex) -> None:
        account_id = index.data(UpcomingEventsModel.AccountRole)
        if isinstance(account_id, int):
            self.account_activated.emit(account_id)

    # -- language ------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Upcoming Events"))
        self.toggleViewAction().setText(self.tr("&Upcoming Events"))
        self.toggleViewAction().setStatusTip(
            self.tr("Show what the next moves of the simulated clock will do")
        )
        self.table.setAccessibleName(self.tr("Upcoming events"))
        self.model.retranslate()
        self._caption()
