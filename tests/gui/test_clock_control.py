"""The simulated clock in the status bar and the upcoming-events panel (issue 7 item 2).

A real main window on the curated demo (loaded for 2026-04-26) with the
application's own context: the simulated clock read from the database, the
local administrator. Moves run in the worker thread as in the application.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QTableView, QTreeWidgetItem

from billing_desktop.services.context import AppContext, open_context
from billing_desktop.ui.clock_control import ClockControl, install_clock_control
from billing_desktop.ui.dialogs.clock_summary_dialog import ClockSummaryDialog
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.upcoming_panel import UpcomingPanel

TODAY = date(2026, 4, 26)

# the calendar drops down from a menu: the headless platform cannot raise nor grab
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing)")


@pytest.fixture
def app_ctx(db: Any) -> AppContext:
    from billing_desktop.services.demo import load_curated

    load_curated(db, TODAY)
    return open_context(db)


def _window(qtbot: Any, ctx: AppContext) -> tuple[MainWindow, ClockControl | None]:
    """The main window as the application shows it; it installs the clock itself."""
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.tools_installed):
        win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.views["accounts"].model.total_known)
    control = win.clock_control
    assert install_clock_control(win) is control  # installed once
    return win, control


@pytest.fixture
def demo(qtbot: Any, app_ctx: AppContext) -> Iterator[tuple[MainWindow, ClockControl]]:
    win, control = _window(qtbot, app_ctx)
    assert control is not None
    qtbot.waitUntil(lambda: control._next_known and control.panel.model.rowCount() > 0)
    yield win, control
    if control.summary_dialog is not None:
        control.summary_dialog.close()


def _id(ctx: AppContext, number: str) -> int:
    return ctx.db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def _group(dialog: ClockSummaryDialog, key: str) -> QTreeWidgetItem:
    tree = dialog.tree
    for i in range(tree.topLevelItemCount()):
        if tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == key:
            return tree.topLevelItem(i)
    raise AssertionError(f"no group {key}")


def _rows(group: QTreeWidgetItem) -> list[list[str]]:
    return [[group.child(r).text(c) for c in range(4)] for r in range(group.childCount())]


def _move(qtbot: Any, control: ClockControl, button: Any) -> ClockSummaryDialog:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert control.busy  # in the worker thread; the controls wait
    assert not control.month_button.isEnabled()
    qtbot.waitUntil(lambda: not control.busy and control.summary_dialog is not None, timeout=20000)
    dialog = control.summary_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_the_control_sits_in_the_status_bar_of_a_demo(demo) -> None:
    win, control = demo
    assert win.statusBar().findChild(ClockControl) is control
    assert len(win.findChildren(ClockControl)) == len(win.findChildren(UpcomingPanel)) == 1
    assert [control.day_button.text(), control.month_button.text(), control.next_button.text()] == [
        "+1 day",
        "+1 month",
        "To next event",
    ]
    # "to next event" says where it goes: the renewals of 2026-04-30, not the notice of the 28th
    tip = control.next_button.toolTip()
    assert tip.startswith(
        "Move to 4/30/2026: GoToAssist Remote Support v4 of Distribuciones Navarro S.A. renews."
    )
    assert "1 more event" in tip
    # the picker offers only days after today
    assert control.calendar.minimumDate() == QDate(2026, 4, 27)
    assert control.date_button.text() == "To date…"
    # View ▸ Simulated Clock, and the panel's toggle
    texts = [a.text() for a in win.view_menu.actions()]
    assert "Simulated &Clock" in texts and "&Upcoming Events" in texts


def test_plus_one_month_shows_what_happened_and_opens_the_accounts(qtbot, demo, app_ctx) -> None:
    win, control = demo
    dialog = _move(qtbot, control, control.month_button)

    assert dialog.heading.text() == "The clock moved from 4/26/2026 to 5/26/2026."
    groups = [
        dialog.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
        for i in range(dialog.tree.topLevelItemCount())
    ]
    assert groups == [
        "renewed", "trial_expired", "cancelled", "invoiced", "emailed", "term_renewed", "overdue",
    ]  # fmt: skip
    renewed = _group(dialog, "renewed")
    assert renewed.text(0) == "17 subscription(s) renewed"
    assert _rows(renewed)[0] == [
        "4/30/2026",
        "A-100008",
        "Distribuciones Navarro S.A.",
        "GoToAssist Remote Support v4 renewed until 5/30/2026",
    ]
    invoiced = _group(dialog, "invoiced")
    assert invoiced.text(0) == "17 invoice(s) issued, €6,074.30 and £228.00 in all"
    assert _rows(invoiced)[3][3] == "Invoice INV-2026-000070 for GoTo Meeting: €96.00, open"
    assert _rows(_group(dialog, "trial_expired")) == [
        [
            "5/1/2026",
            "A-100003",
            "Studio Tecnico Greco & Associati",
            "The GoTo Webinar trial ended without a purchase",
        ]
    ]
    assert _rows(_group(dialog, "cancelled"))[0][1:] == [
        "A-100011",
        "Lefèvre Conseil SARL",
        "GoTo Meeting ended: its cancellation took effect",
    ]
    assert _rows(_group(dialog, "overdue"))[1] == [
        "5/23/2026",
        "A-100009",
        "Martínez Asesores S.L.",
        "1 invoice(s) fell overdue",
    ]
    emailed = _group(dialog, "emailed")
    assert emailed.childCount() == 19
    assert _rows(emailed)[0][3] == (
        "“Trial ending soon” email about GoTo Webinar to antonio.greco@studiogreco.example"
    )

    # the window shows the new date, the panel what comes next, the picker starts after it
    assert win.date_label.text() == "Today: 5/26/2026 (simulated)"
    assert control.panel.model.index(0, 0).data() == "5/30/2026"
    assert control.calendar.minimumDate() == QDate(2026, 5, 27)
    assert control.month_button.isEnabled()

    # Enter on a line opens its account …
    line = _group(dialog, "trial_expired").child(0)
    dialog.tree.setCurrentItem(line)
    dialog.tree.setFocus()
    qtbot.keyClick(dialog.tree, Qt.Key.Key_Return)
    assert win.account_page is not None
    assert win.account_page.account_id == _id(app_ctx, "A-100003")
    assert win.account_page.company_label.text() == "Studio Tecnico Greco & Associati"
    assert dialog.isVisible()  # Enter opened the account, it did not close the summary
    # … and so does a double-click; the summary stays open for the next one
    line = _group(dialog, "cancelled").child(0)
    dialog.tree.scrollToItem(line)
    rect = dialog.tree.visualItemRect(line)
    qtbot.mouseClick(dialog.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.account_page.account_id == _id(app_ctx, "A-100003")  # a click only selects
    qtbot.mouseDClick(dialog.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.account_page.account_id == _id(app_ctx, "A-100011")
    assert dialog.isVisible()
    # a group title opens nothing
    dialog._activated(_group(dialog, "renewed"))
    assert win.account_page.account_id == _id(app_ctx, "A-100011")


def test_to_next_event_and_the_date_picker(qtbot, demo, app_ctx) -> None:
    win, control = demo
    dialog = _move(qtbot, control, control.next_button)
    assert dialog.heading.text() == "The clock moved from 4/26/2026 to 4/30/2026."
    assert app_ctx.db.setting("clock.today") == "2026-04-30"
    assert "5/1/2026" in control.next_button.toolTip()  # the trial of A-100003 ends next
    assert "trial of Studio Tecnico Greco & Associati ends" in control.next_button.toolTip()
    dialog.close()

    # the calendar opens on tomorrow, offers nothing earlier; arrows and Enter pick a day
    seen: dict[str, Any] = {}

    def pick_with_keys() -> None:
        calendar = control.calendar
        seen["open"] = control.date_menu.isVisible()
        seen["first"] = calendar.selectedDate()
        view = calendar.findChild(QTableView)
        calendar.setSelectedDate(QDate(2026, 4, 30))  # today: not offered
        seen["today"] = calendar.selectedDate()
        qtbot.keyClick(view, Qt.Key.Key_Down)  # a week later: 5/8
        qtbot.keyClick(view, Qt.Key.Key_Right)  # 5/9
        qtbot.keyClick(view, Qt.Key.Key_Return)

    QTimer.singleShot(0, pick_with_keys)
    qtbot.keyClick(control.date_button, Qt.Key.Key_Space)  # the menu's own event loop
    assert seen == {
        "open": True,
        "first": QDate(2026, 5, 1),
        "today": QDate(2026, 5, 1),
    }
    qtbot.waitUntil(lambda: not control.busy and control.summary_dialog is not None)
    dialog = control.summary_dialog
    assert dialog.heading.text() == "The clock moved from 4/30/2026 to 5/9/2026."
    assert app_ctx.db.setting("clock.today") == "2026-05-09"
    assert win.date_label.text() == "Today: 5/9/2026 (simulated)"
    assert not control.date_menu.isVisible()
    dialog.close()

    # … or a click on a day
    def pick_with_mouse() -> None:
        control.calendar.clicked.emit(QDate(2026, 5, 12))

    QTimer.singleShot(0, pick_with_mouse)
    qtbot.mouseClick(control.date_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not control.busy and control.summary_dialog is not None)
    assert app_ctx.db.setting("clock.today") == "2026-05-12"
    assert control.calendar.minimumDate() == QDate(2026, 5, 13)
    # one move goes at most ten years ahead, as the service allows
    assert control.calendar.maximumDate() == QDate(2036, 5, 12)


def test_cancel_keeps_what_was_done(qtbot, demo, app_ctx, monkeypatch) -> None:
    """Cancel in the progress dialog: the engine stops between two events, the summary
    lists what was done, the clock stays on the last day fully done."""
    import threading

    from PySide6.QtWidgets import QProgressDialog, QPushButton

    from billing_desktop.services import renewal, time_travel

    monkeypatch.setattr(renewal, "BULK", False)
    monkeypatch.setattr(renewal, "PER_EVENT_CHUNK", 1)  # one event per transaction
    reached, proceed = threading.Event(), threading.Event()
    real_advance = time_travel.advance

    class Paused:
        """Holds the worker after two events until the test has pressed Cancel."""

        def __init__(self, progress: Any) -> None:
            self._progress = progress

        @property
        def cancelled(self) -> bool:
            return self._progress.cancelled

        def __call__(self, done: int, total: int) -> None:
            self._progress(done, total)
            if done >= 2:
                reached.set()
                proceed.wait(10)

    def paused_advance(ctx: Any, to_date: date, **kw: Any) -> Any:
        return real_advance(ctx, to_date, **{**kw, "progress": Paused(kw["progress"])})

    monkeypatch.setattr(time_travel, "advance", paused_advance)
    win, control = demo
    qtbot.mouseClick(control.month_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(reached.is_set)
    progress = win.findChild(QProgressDialog)
    qtbot.waitUntil(progress.isVisible)  # shown once the move takes a while
    assert progress.labelText() == "Moving the clock to 5/26/2026 and running what is due…"
    qtbot.mouseClick(progress.findChild(QPushButton), Qt.MouseButton.LeftButton)
    proceed.set()
    qtbot.waitUntil(lambda: not control.busy and control.summary_dialog is not None)
    dialog = control.summary_dialog
    assert dialog.heading.text() == (
        "Cancelled: the clock stopped on 4/29/2026 instead of 5/26/2026. "
        "What happened until then is kept."
    )
    assert dialog.totals.text() == "2 event(s) processed."
    assert _rows(_group(dialog, "renewed")) == [
        [
            "4/30/2026",
            "A-100008",
            "Distribuciones Navarro S.A.",
            "GoToAssist Remote Support v4 renewed until 5/30/2026",
        ]
    ]
    assert app_ctx.db.setting("clock.today") == "2026-04-29"
    assert win.date_label.text() == "Today: 4/29/2026 (simulated)"
    assert control.month_button.isEnabled()
    # the panel and the next move go on from there
    assert control.panel.model.index(0, 2).data() == "A-100012"
    assert "4/30/2026" in control.next_button.toolTip()


def test_nothing_due_says_so(qtbot, demo) -> None:
    _win, control = demo
    dialog = _move(qtbot, control, control.day_button)  # 2026-04-27: nothing happens
    assert dialog.tree.topLevelItemCount() == 0
    assert dialog.totals.text() == "Nothing was due between 4/26/2026 and 4/27/2026."


def test_upcoming_panel_lists_what_comes_and_opens_accounts(
    qtbot, demo, app_ctx, qtmodeltester
) -> None:
    win, control = demo
    panel = win.findChild(UpcomingPanel)
    assert panel is control.panel and panel.isVisible()
    qtmodeltester.check(panel.model)
    model = panel.model
    first = [[model.index(r, c).data() for c in range(6)] for r in range(3)]
    assert first == [
        ["4/28/2026", "“Trial ending” email", "A-100003", "Studio Tecnico Greco & Associati",
         "GoTo Webinar", ""],
        ["4/30/2026", "Renewal", "A-100008", "Distribuciones Navarro S.A.",
         "GoToAssist Remote Support v4", "€924.00"],
        ["4/30/2026", "Renewal", "A-100012", "Whitmore Digital Ltd",
         "GoToAssist Remote Support v5", "£228.00"],
    ]  # fmt: skip
    assert model.index(4, 1).data() == "Invoice INV-2026-000065 falls overdue"
    assert panel.caption.text() == "What the next moves of the clock will do, after 4/26/2026:"
    # Enter on a row opens the account
    panel.table.setCurrentIndex(model.index(1, 2))
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert win.account_page is not None
    assert win.account_page.account_id == _id(app_ctx, "A-100008")
    # the View menu hides and shows it
    panel.toggleViewAction().trigger()
    assert not panel.isVisible()
    panel.toggleViewAction().trigger()
    assert panel.isVisible()


def test_the_panel_is_remembered_with_the_window_layout(qtbot, demo, app_ctx) -> None:
    win, control = demo
    control.panel.toggleViewAction().trigger()
    assert not control.panel.isVisible()
    win.save_settings()
    again, control = _window(qtbot, app_ctx)
    assert control is not None and not control.panel.isVisible()
    assert not control.panel.loaded  # nothing read for a hidden panel
    control.panel.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: control.panel.model.rowCount() > 0)
    assert again.dockWidgetArea(control.panel) == Qt.DockWidgetArea.BottomDockWidgetArea


def test_a_role_that_may_not_move_the_clock_sees_it_disabled(qtbot, app_ctx) -> None:
    import dataclasses

    from billing_desktop.services.context import OperatorInfo
    from billing_desktop.store.models import Operator

    with app_ctx.db.transaction() as session:
        op = Operator(
            email="v@example.com",
            name="Viewer",
            role="viewer",
            active=True,
            created_at=datetime(2026, 1, 1, 9, 0),
        )
        session.add(op)
        session.flush()
        viewer = OperatorInfo(op.id, op.email, op.name, op.role)
    ctx = dataclasses.replace(app_ctx, operator=viewer)
    _win, control = _window(qtbot, ctx)
    assert control is not None
    qtbot.waitUntil(lambda: control._next_known)
    for button in (control.day_button, control.month_button, control.next_button):
        assert not button.isEnabled()
        assert button.toolTip() == "Your role (viewer) does not allow this action."
    assert not control.date_button.isEnabled()
    # the panel still shows what is coming
    qtbot.waitUntil(lambda: control.panel.model.rowCount() > 0)


def test_a_real_database_has_no_clock(qtbot, ctx) -> None:
    assert not ctx.is_demo
    win, control = _window(qtbot, ctx)
    assert control is None
    assert win.statusBar().findChildren(ClockControl) == []
    assert win.findChildren(ClockControl) == []
    assert [d for d in win.findChildren(QDockWidget) if isinstance(d, UpcomingPanel)] == []
    texts = [a.text() for a in win.view_menu.actions()]
    assert "Simulated &Clock" not in texts and "&Upcoming Events" not in texts
    assert win.clock_control is None


def test_long_groups_list_their_first_lines(qtbot, app_ctx, monkeypatch) -> None:
    from billing_desktop.services.time_travel import move_clock
    from billing_desktop.ui.dialogs import clock_summary_dialog

    monkeypatch.setattr(clock_summary_dialog, "LINES_PER_GROUP", 5)
    dialog = ClockSummaryDialog(move_clock(app_ctx, date(2026, 5, 26)))
    qtbot.addWidget(dialog)
    renewed = _group(dialog, "renewed")
    assert renewed.text(0) == "17 subscription(s) renewed"
    assert renewed.childCount() == 6
    assert renewed.child(5).text(3) == "… and 12 more"
    assert renewed.child(5) not in dialog.account_lines()
    assert len(dialog.account_lines()) == 5 + 1 + 1 + 5 + 5 + 1 + 2  # 2 overdue lines


def test_everything_follows_a_language_switch(qtbot, demo, tmp_path) -> None:
    """LanguageChange: the control, the panel and an open summary retranslate."""
    import subprocess
    import sys
    from pathlib import Path

    from PySide6.QtCore import QCoreApplication, QTranslator

    lrelease = Path(sys.executable).with_name("pyside6-lrelease")
    if not lrelease.exists():
        pytest.skip("pyside6-lrelease is not available")
    texts = {
        "ClockControl": {"+1 day": "+1 dag", "To next event": "Naar volgende gebeurtenis"},
        "UpcomingPanel": {"Renewal": "Verlenging", "Upcoming Events": "Komende gebeurtenissen"},
        "ClockSummaryDialog": {
            "The clock moved from {start} to {end}.": "De klok ging van {start} naar {end}."
        },
    }
    body = "".join(
        f"<context><name>{context}</name>"
        + "".join(
            f"<message><source>{source}</source><translation>{target}</translation></message>"
            for source, target in messages.items()
        )
        + "</context>"
        for context, messages in texts.items()
    )
    ts = tmp_path / "nl.ts"
    ts.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.1" language="nl">'
        f"{body}</TS>",
        encoding="utf-8",
    )
    qm = tmp_path / "nl.qm"
    subprocess.run([str(lrelease), "-silent", str(ts), "-qm", str(qm)], check=True)

    _win, control = demo
    dialog = _move(qtbot, control, control.day_button)
    translator = QTranslator()
    assert translator.load(str(qm))
    QCoreApplication.installTranslator(translator)
    try:
        qtbot.waitUntil(lambda: control.day_button.text() == "+1 dag")
        assert control.next_button.text() == "Naar volgende gebeurtenis"
        assert control.panel.windowTitle() == "Komende gebeurtenissen"
        assert control.panel.model.index(1, 1).data() == "Verlenging"  # 4/30 renewal
        assert dialog.heading.text() == "De klok ging van 4/26/2026 naar 4/27/2026."
    finally:
        QCoreApplication.removeTranslator(translator)
    qtbot.waitUntil(lambda: control.day_button.text() == "+1 day")
