"""The simulated clock in a demo database's status bar (issue 7 item 2).

``+1 day``, ``+1 month``, ``To next event`` (its tooltip names the event and
its date) and *To date…*, a calendar that only offers days after today.
Each runs :func:`billing_desktop.services.time_travel.move_clock` in a worker
thread (:func:`billing_desktop.ui.workers.run_in_background`: progress and
Cancel), then shows :class:`~billing_desktop.ui.dialogs.clock_summary_dialog.ClockSummaryDialog`
— each line opens its account — and refreshes the window (the view shown,
the status bar's date) and the *Upcoming events* panel.

:func:`install_clock_control` adds the control, the panel (a dock with its
View menu toggle) and a View ▸ Simulated Clock menu, on a demo database only;
a real database gets nothing at all (and the service refuses simulated time).
The service layer is imported when first needed, never at window start-up.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.ui.formatting import format_date

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.services.time_travel import ClockSummary, NextEvent
    from billing_desktop.ui.dialogs.clock_summary_dialog import ClockSummaryDialog
    from billing_desktop.ui.upcoming_panel import UpcomingPanel
    from billing_desktop.ui.workers import BackgroundTask, TaskProgress

__all__ = ["ClockControl", "install_clock_control"]

log = logging.getLogger("billing_desktop.ui")

#: the upcoming-events panel's first height under the view (pixels)
PANEL_HEIGHT = 220


class _EngineProgress:
    """What the renewal engine is given: Cancel in, counts out; the label stays ours.

    (The engine's own stage text would replace the dialog's label.)
    """

    def __init__(self, progress: TaskProgress) -> None:
        self._progress = progress

    @property
    def cancelled(self) -> bool:
        return self._progress.cancelled

    def __call__(self, done: int, total: int) -> None:
        self._progress.update("", done, total)


def _read_state(ctx: AppContext) -> tuple[date, NextEvent | None, DomainError | None]:
    """Today, the next event, and why the operator may not move the clock (None: they may).

    Thread-safe: the first read runs in a worker; the GUI thread words the refusal.
    """
    from billing_desktop.services.auth import Action, authorize
    from billing_desktop.services.time_travel import next_event, simulated_today

    try:
        authorize(ctx, Action.MOVE_CLOCK)
    except DomainError as err:
        refusal: DomainError | None = err
    else:
        refusal = None
    return simulated_today(ctx), next_event(ctx), refusal


class ClockControl(QWidget):
    """The compact clock control of the status bar; ``window`` is the main window."""

    #: the clock moved (also after a cancelled move that did part of the way): the summary
    moved = Signal(object)

    def __init__(self, ctx: AppContext, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("clockControl")
        self._ctx = ctx
        self.main_window = window
        #: the upcoming-events panel refreshed after each move (set by ``install_clock_control``)
        self.panel: UpcomingPanel | None = None
        #: the move running, if any
        self.task: BackgroundTask[Any] | None = None
        #: the summary of the last move, while it is open
        self.summary_dialog: ClockSummaryDialog | None = None
        self._next: NextEvent | None = None
        self._next_known = False
        self._started = False
        #: why this operator may not move the clock (None: they may)
        self._refusal: str | None = None
        #: View ▸ Simulated Clock (set by ``install_clock_control``)
        self.menu: QMenu | None = None

        self.day_button = self._button("clockDayButton", lambda: self.move_by("day"))
        self.month_button = self._button("clockMonthButton", lambda: self.move_by("month"))
        self.next_button = self._button("clockNextButton", self.move_to_next_event)
        # the date picker: a calendar dropping down from a button; days before tomorrow
        # cannot be picked, a day clicked (or chosen with the arrows and Enter) moves there
        self.date_button = QToolButton(self)
        self.date_button.setObjectName("clockDateButton")
        self.date_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.date_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.date_menu = QMenu(self.date_button)
        self.calendar = QCalendarWidget(self.date_menu)
        self.calendar.setObjectName("clockCalendar")
        self.calendar.setGridVisible(False)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        picker = QWidgetAction(self.date_menu)
        picker.setDefaultWidget(self.calendar)
        self.date_menu.addAction(picker)
        self.date_menu.aboutToShow.connect(self._calendar_opens)
        self.date_button.setMenu(self.date_menu)
        self.calendar.clicked.connect(self._date_picked)
        self.calendar.activated.connect(self._date_picked)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(2)
        layout.addWidget(self.day_button)
        layout.addWidget(self.month_button)
        layout.addWidget(self.next_button)
        layout.addWidget(self.date_button)

        self._set_minimum(self.ctx.clock.today())
        self.retranslateUi()

    def _button(self, name: str, slot: Any) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setAutoRaise(False)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.clicked.connect(slot)
        return button

    @property
    def ctx(self) -> AppContext:
        """The window's context (it changes when the operator renames themselves)."""
        return getattr(self.main_window, "ctx", None) or self._ctx

    @property
    def busy(self) -> bool:
        return self.task is not None

    # -- state ---------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read today, the next event and whether this operator may move the clock."""
        self._show_state(_read_state(self.ctx))

    def _show_state(self, state: tuple[date, NextEvent | None, DomainError | None]) -> None:
        from billing_desktop.ui.errors import error_text

        today, self._next, refusal = state
        self._next_known = True
        self._set_minimum(today)
        self._refusal = error_text(refusal) if refusal is not None else None
        self._update_enabled()
        self.retranslateUi()

    def _set_minimum(self, today: date) -> None:
        from billing_desktop.services.time_travel import MAX_YEARS_AHEAD

        tomorrow = QDate(today.year, today.month, today.day).addDays(1)
        self.calendar.setMinimumDate(tomorrow)
        # one move goes at most this far (the service refuses more)
        self.calendar.setMaximumDate(tomorrow.addDays(-1).addYears(MAX_YEARS_AHEAD))
        if self.calendar.selectedDate() < tomorrow:
            self.calendar.setSelectedDate(tomorrow)

    def _update_enabled(self) -> None:
        allowed = not self.busy and self._refusal is None
        for widget in (self.day_button, self.month_button, self.date_button):
            widget.setEnabled(allowed)
        self.next_button.setEnabled(allowed and (self._next is not None or not self._next_known))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            # in a worker thread: the next event is found by the database layer, which
            # the window's start-up does not import
            from billing_desktop.ui.upcoming_panel import fetch_in_background

            self._started = True
            ctx = self.ctx
            fetch_in_background(self, lambda: _read_state(ctx), self._show_state)

    # -- moving --------------------------------------------------------------

    def move_by(self, step: str) -> None:
        """``+1 day`` (``step="day"``) or ``+1 month`` (``"month"``)."""
        from billing_desktop.services.time_travel import one_day_later, one_month_later

        target = one_day_later(self.ctx) if step == "day" else one_month_later(self.ctx)
        self.move_to(target)

    def move_to_next_event(self) -> None:
        from billing_desktop.services.time_travel import next_event

        found = next_event(self.ctx)
        if found is None:
            self.refresh()
            return
        self.move_to(found.date)

    def _calendar_opens(self) -> None:
        """The calendar opens on the first day it offers, keyboard-ready."""
        self.calendar.setSelectedDate(self.calendar.minimumDate())
        self.calendar.setFocus(Qt.FocusReason.PopupFocusReason)

    def _date_picked(self, picked: QDate) -> None:
        # once the click or key that picked it is over: the menu closes, then the move starts
        QTimer.singleShot(0, self, lambda: self._move_to_picked(picked))

    def _move_to_picked(self, picked: QDate) -> None:
        self.date_menu.close()
        if picked < self.calendar.minimumDate():
            return  # the calendar does not offer it; nothing to do
        self.move_to(date(picked.year(), picked.month(), picked.day()))

    def move_to(self, target: date) -> BackgroundTask[Any] | None:
        """Move the clock to ``target`` in a worker thread; the summary follows."""
        from billing_desktop.services.time_travel import move_clock
        from billing_desktop.ui.workers import run_in_background

        if self.busy:
            return None
        ctx = self.ctx
        #: the result also after Cancel (the work's return value is dropped then)
        outcome: dict[str, ClockSummary] = {}

        def work(progress: TaskProgress) -> ClockSummary:
            summary = move_clock(ctx, target, progress=_EngineProgress(progress))
            outcome["summary"] = summary
            return summary

        def cancelled() -> None:
            summary = outcome.get("summary")
            if summary is not None:
                self._finished(summary)

        self.task = run_in_background(
            self.main_window,
            work,
            title=self.tr("Simulated Clock"),
            label=self.tr("Moving the clock to {date} and running what is due…").format(
                date=format_date(target)
            ),
            on_result=self._finished,
            on_cancel=cancelled,
        )
        self.task.done.connect(self._task_over)
        self._update_enabled()
        return self.task

    def _task_over(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.deleteLater()
        self._after_move()

    def _after_move(self) -> None:
        """Whatever happened (moved, cancelled midway, refused): show the data as it is now."""
        window = self.main_window
        if hasattr(window, "refresh_current_view"):
            window.refresh_current_view()
        if self.panel is not None:
            self.panel.refresh()
        self.refresh()

    def _finished(self, summary: ClockSummary) -> None:
        from billing_desktop.ui.dialogs.clock_summary_dialog import ClockSummaryDialog

        old = self.summary_dialog
        if old is not None:
            old.close()
        dialog = ClockSummaryDialog(summary, self.main_window)
        dialog.account_activated.connect(self._open_account)
        dialog.destroyed.connect(lambda *_: self._forget_dialog(dialog))
        self.summary_dialog = dialog
        dialog.show()
        self.moved.emit(summary)

    def _forget_dialog(self, dialog: object) -> None:
        if self.summary_dialog is dialog:
            self.summary_dialog = None

    def _open_account(self, account_id: int) -> None:
        opener = getattr(self.main_window, "open_account", None)
        if opener is not None:
            opener(account_id)

    # -- texts ---------------------------------------------------------------

    def next_event_text(self) -> str:
        """The "To next event" tooltip: which event, on which date."""
        found = self._next
        if not self._next_known:
            return self.tr(
                "Move the clock to the next renewal, trial end, cancellation end or term end."
            )
        if found is None:
            return self.tr("Nothing lies ahead: no renewal, trial end, cancellation or term end.")
        first = found.events[0]
        values = {
            "date": format_date(found.date),
            "product": first.product or "",
            "company": first.company_name,
        }
        kind = str(first.kind)
        if kind == "renewal":
            text = self.tr("Move to {date}: {product} of {company} renews.")
        elif kind == "trial_expiry":
            text = self.tr("Move to {date}: the {product} trial of {company} ends.")
        elif kind == "cancellation_end":
            text = self.tr(
                "Move to {date}: the cancellation of {product} for {company} takes effect."
            )
        else:
            text = self.tr("Move to {date}: the {product} contract term of {company} ends.")
        text = text.format(**values)
        more = len(found.events) - 1
        if more:
            text += "\n" + self.tr("And %n more event(s) that day.", "", more)
        return text

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.day_button.setText(self.tr("+1 day"))
        self.day_button.setToolTip(
            self.tr("Move the simulated date one day forward and run what is due.")
        )
        self.month_button.setText(self.tr("+1 month"))
        self.month_button.setToolTip(
            self.tr("Move the simulated date one month forward and run what is due.")
        )
        self.next_button.setText(self.tr("To next event"))
        self.next_button.setToolTip(self.next_event_text())
        self.date_button.setText(self.tr("To date…"))
        self.date_button.setToolTip(
            self.tr("Pick a day after today: the simulated date moves there and runs what is due.")
        )
        self.calendar.setAccessibleName(self.tr("Day to move the clock to"))
        if self._refusal:
            for widget in (self.day_button, self.month_button, self.next_button, self.date_button):
                widget.setToolTip(self._refusal)
        self.setToolTip(
            self.tr("The simulated clock of this demo database: it only moves forward.")
        )


class _ClockMenu(QMenu):
    """View ▸ Simulated Clock: the control's moves, from the keyboard (Alt+V, C)."""

    def __init__(self, control: ClockControl, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("clockMenu")
        self.control = control
        self.day_action = QAction(self)
        self.day_action.triggered.connect(lambda: control.move_by("day"))
        self.month_action = QAction(self)
        self.month_action.triggered.connect(lambda: control.move_by("month"))
        self.next_action = QAction(self)
        self.next_action.triggered.connect(control.move_to_next_event)
        self.date_action = QAction(self)
        self.date_action.triggered.connect(self._pick_date)
        for action in (self.day_action, self.month_action, self.next_action, self.date_action):
            self.addAction(action)
        self.aboutToShow.connect(self._enable)
        self.retranslateUi()

    def _pick_date(self) -> None:
        self.control.date_button.showMenu()

    def _enable(self) -> None:
        c = self.control
        self.day_action.setEnabled(c.day_button.isEnabled())
        self.month_action.setEnabled(c.month_button.isEnabled())
        self.next_action.setEnabled(c.next_button.isEnabled())
        self.date_action.setEnabled(c.date_button.isEnabled())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Simulated &Clock"))
        self.day_action.setText(self.tr("Move Forward One &Day"))
        self.month_action.setText(self.tr("Move Forward One &Month"))
        self.next_action.setText(self.tr("Move to the &Next Event"))
        self.date_action.setText(self.tr("Move to a D&ate…"))


def install_clock_control(window: QMainWindow) -> ClockControl | None:
    """Add the simulated clock to ``window`` (a ``MainWindow``) if its database is a demo.

    In the status bar: the clock control, right of the date. A dock under
    the view: *Upcoming events* (toggled from View ▸ Upcoming Events, remembered
    with the window's layout). In the View menu: *Simulated Clock* with the
    same moves. View ▸ Refresh also refreshes the panel. A real database gets
    none of it; returns None then. A second call returns the control installed.
    """
    from billing_desktop.ui.upcoming_panel import UpcomingPanel

    ctx = window.ctx  # type: ignore[attr-defined]
    if not ctx.is_demo:
        return None
    installed = window.findChild(ClockControl)
    if installed is not None:  # once per window
        return installed
    control = ClockControl(ctx, window)
    window.statusBar().addPermanentWidget(control)

    panel = UpcomingPanel(ctx, window)
    # the window restored its layout before the dock existed: place it as it was saved,
    # else under the view, a table wide enough for its six columns
    if not window.restoreDockWidget(panel):
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel)
        window.resizeDocks([panel], [PANEL_HEIGHT], Qt.Orientation.Vertical)
    panel.account_activated.connect(control._open_account)
    control.panel = panel

    view_menu = getattr(window, "view_menu", None)
    if view_menu is not None:
        menu = _ClockMenu(control, window)
        view_menu.addSeparator()
        view_menu.addMenu(menu)
        view_menu.addAction(panel.toggleViewAction())
        control.menu = menu
    refresh_action = getattr(window, "refresh_action", None)
    if refresh_action is not None:
        refresh_action.triggered.connect(panel.refresh)
        refresh_action.triggered.connect(control.refresh)
    window.clock_control = control  # type: ignore[attr-defined]
    window.upcoming_panel = panel  # type: ignore[attr-defined]
    return control
