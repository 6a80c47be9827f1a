"""File ▸ New Demo Database…, Reset Demo Database…, Snapshots… and the DEMO banner.

Each test builds its demo database with the real curated dataset, drives the
real widgets (actions, buttons, message boxes, the file and name dialogs) and
checks what the window shows and what the database holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import shown_child
from PySide6.QtCore import QEvent, Qt, QThreadPool
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolBar,
    QWidget,
)

from billing_desktop import app as app_module
from billing_desktop.config import DatabaseTarget, demo_target, target_from
from billing_desktop.services.clock import set_simulated_date
from billing_desktop.services.context import AppContext, OperatorInfo, open_context
from billing_desktop.services.payments import record_payment
from billing_desktop.services.sandbox import (
    dump_content,
    list_snapshots,
    new_demo_database,
    save_snapshot,
)
from billing_desktop.store.database import open_database
from billing_desktop.ui import sandbox_menu as menu_module
from billing_desktop.ui.dialogs.snapshots_dialog import SnapshotsDialog, SnapshotsModel
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.models.accounts_model import AccountsTableModel
from billing_desktop.ui.sandbox_menu import DemoBanner, SandboxMenu, install_sandbox_menu

START = date(2026, 4, 26)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    path = tmp_path / "course" / "demo.sqlite3"
    new_demo_database(path, START)
    return path


@pytest.fixture
def fresh_dump(tmp_path: Path) -> dict:
    path = tmp_path / "fresh" / "demo.sqlite3"
    new_demo_database(path, START)
    return dump_content(path)


def _settle() -> None:
    """Close the windows and let their background reads finish before a database closes.

    (A demo window's panels read in the thread pool; closing a connection under a
    running statement would crash the test process.)
    """
    for widget in QApplication.topLevelWidgets():
        widget.close()
    QThreadPool.globalInstance().waitForDone(10_000)


@pytest.fixture(autouse=True)
def _settled(db) -> Iterator[None]:
    """Torn down before the ``db`` fixture closes its database."""
    yield
    _settle()


@pytest.fixture
def demo(demo_path: Path) -> Iterator[AppContext]:
    db = open_database(DatabaseTarget(demo_path))
    yield open_context(db)
    _settle()
    db.dispose()


def _window(qtbot, ctx: AppContext) -> MainWindow:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    install_sandbox_menu(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.views["accounts"].model.total_known)
    return win


@pytest.fixture
def errors(monkeypatch) -> list:
    """Service errors shown (the real message box would block the test)."""
    shown: list = []
    record = lambda _parent, err: shown.append(err)  # noqa: E731
    monkeypatch.setattr(menu_module, "show_service_error", record)
    monkeypatch.setattr("billing_desktop.ui.dialogs.snapshots_dialog.show_service_error", record)
    monkeypatch.setattr("billing_desktop.ui.workers.show_service_error", record, raising=False)
    return shown


def _click(qtbot, box: QWidget, name: str) -> None:
    qtbot.mouseClick(box.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def _cancel(qtbot, box: QMessageBox) -> None:
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)


def _menu_texts(win: MainWindow) -> list[str]:
    return [a.text() for a in win.file_menu.actions() if a.isVisible() and not a.isSeparator()]


def _status(win: MainWindow, account: str) -> str:
    model: AccountsTableModel = win.views["accounts"].model
    for row in range(model.rowCount()):
        if model.index(row, model.ID).data() == account:
            return model.index(row, model.STATUS).data()
    raise AssertionError(f"{account} is not listed")


# --------------------------------------------------------------------------- demo or real


def test_a_real_database_offers_only_a_new_demo_database(qtbot, ctx, make_account) -> None:
    make_account("Acme Software")
    win = _window(qtbot, ctx)
    menu = win.sandbox_menu
    assert _menu_texts(win) == [
        "Open &Demo Database", "&New Demo Database…", "&Settings…", "&Quit",
    ]  # fmt: skip
    assert menu.reset_demo_action is None and menu.snapshots_action is None
    assert menu.banner is None and win.findChild(DemoBanner) is None
    assert "(demo)" not in win.windowTitle()
    assert win.demo_badge.isHidden()
    assert install_sandbox_menu(win) is menu  # installing twice adds nothing
    assert len(_menu_texts(win)) == 4


def test_a_demo_database_is_unmistakable(qtbot, demo) -> None:
    win = _window(qtbot, demo)
    assert _menu_texts(win) == [
        "&New Demo Database…", "&Reset Demo Database…", "Sna&pshots…", "&Settings…", "&Quit",
    ]  # fmt: skip
    assert win.windowTitle() == "demo.sqlite3 (demo)"
    assert win.demo_badge.isVisible() and win.demo_badge.text() == "DEMO"
    assert win.date_label.text() == f"Today: {format_date(START)} (simulated)"
    banner = win.sandbox_menu.banner
    assert banner is not None and banner.isVisible()
    assert win.toolBarArea(banner) == Qt.ToolBarArea.TopToolBarArea
    # right under the menu bar, across the window, above the views
    assert banner.geometry().top() == win.menuBar().geometry().bottom() + 1
    assert banner.width() == win.width()
    assert banner.geometry().bottom() < win.centralWidget().geometry().top()
    assert banner.title.text() == "DEMO DATABASE"
    assert "simulated date" in banner.text.text()
    assert not banner.toggleViewAction().isVisible() and not banner.isMovable()
    menu = win.sandbox_menu
    buttons = [a for a in banner.actions() if a in (menu.snapshots_action, menu.reset_demo_action)]
    assert [banner.widgetForAction(a).text() for a in buttons] == ["Snapshots…", "Reset…"]


def test_the_banner_comes_before_other_tool_bars(qtbot, demo) -> None:
    win = MainWindow(demo)
    qtbot.addWidget(win)
    other = QToolBar("Presentation", win)
    other.setObjectName("otherToolBar")
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, other)
    install_sandbox_menu(win)
    win.show()
    qtbot.waitExposed(win)
    banner = win.sandbox_menu.banner
    assert banner.geometry().top() == win.menuBar().geometry().bottom() + 1
    assert other.geometry().top() > banner.geometry().top()


def test_the_sandbox_texts_follow_a_language_change(qtbot, demo) -> None:
    win = _window(qtbot, demo)
    menu = win.sandbox_menu
    menu.new_demo_action.setText("stale")
    menu.banner.title.setText("stale")
    QApplication.sendEvent(win, QEvent(QEvent.Type.LanguageChange))
    QApplication.sendEvent(menu.banner, QEvent(QEvent.Type.LanguageChange))
    assert menu.new_demo_action.text() == "&New Demo Database…"
    assert menu.banner.title.text() == "DEMO DATABASE"


# --------------------------------------------------------------------------- reset


def test_reset_asks_first_and_restores_the_curated_data(qtbot, demo, demo_path, fresh_dump) -> None:
    record_payment(demo, "A-100009", reference="BT-1")
    set_simulated_date(demo, START + timedelta(days=31))
    win = _window(qtbot, demo)
    menu: SandboxMenu = win.sandbox_menu
    requests: list[str] = []
    menu.open_requested.connect(requests.append)

    menu.reset_demo_action.trigger()
    box = shown_child(qtbot, win, QMessageBox, "resetDemoConfirmation")
    assert box.text() == ("Reset the demo database “demo.sqlite3” to the curated demo accounts?")
    detail = box.informativeText()
    assert "orders, cancellations" in detail and "Snapshots are kept." in detail
    assert (
        f"The simulated date goes back from {format_date(START + timedelta(days=31))} "
        f"to {format_date(START)}." in detail
    )
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    _cancel(qtbot, box)
    qtbot.waitUntil(lambda: menu._question is None)
    assert dump_content(demo_path) != fresh_dump and requests == []

    # From the banner this time.
    qtbot.mouseClick(menu.banner.widgetForAction(menu.reset_demo_action), Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, win, QMessageBox, "resetDemoConfirmation")
    with qtbot.waitSignals([menu.content_replaced, menu.open_requested], timeout=10_000):
        _click(qtbot, box, "confirmReset")
    assert requests == [str(demo_path)]
    assert dump_content(demo_path) == fresh_dump


def test_reset_is_refused_for_a_viewer(qtbot, demo, demo_path, errors) -> None:
    from billing_desktop.store.models import Operator

    with demo.db.transaction() as session:
        op = Operator(
            email="viewer@operators.example", name="Viewer", role="viewer", active=True,
            created_at=datetime(2026, 1, 1, 9),
        )  # fmt: skip
        session.add(op)
        session.flush()
        viewer = OperatorInfo(op.id, op.email, op.name, op.role)
    before = dump_content(demo_path)
    win = _window(qtbot, dataclasses.replace(demo, operator=viewer))
    win.sandbox_menu.reset_demo_action.trigger()
    assert [e.code for e in errors] == ["role_not_allowed"]
    assert win.sandbox_menu._question is None  # no question asked when the answer is no
    assert dump_content(demo_path) == before


@pytest.fixture
def session(qtbot) -> Iterator[app_module.GuiSession]:
    gui = app_module.GuiSession()
    yield gui
    _settle()
    gui.close()


def test_after_a_reset_the_session_shows_the_restored_data(
    qtbot, session, demo_path, fresh_dump
) -> None:
    """With the application's own session: the window is re-opened on the reset file."""
    assert session.open(target_from(str(demo_path)))
    first = session.window  # the session closes and deletes it when it opens the next
    install_sandbox_menu(first)
    qtbot.waitUntil(lambda: first.views["accounts"].model.total_known)
    assert _status(first, "A-100009") == "Overdue"
    record_payment(first.ctx, "A-100009", reference="BT-1")
    set_simulated_date(first.ctx, START + timedelta(days=3))
    first.refresh_current_view()
    qtbot.waitUntil(lambda: _status(first, "A-100009") == "Active")

    first.sandbox_menu.reset_demo_action.trigger()
    box = shown_child(qtbot, first, QMessageBox, "resetDemoConfirmation")
    _click(qtbot, box, "confirmReset")
    qtbot.waitUntil(lambda: session.window is not first, timeout=10_000)
    second = session.window
    qtbot.waitUntil(lambda: second.views["accounts"].model.total_known)
    assert _status(second, "A-100009") == "Overdue"
    assert second.date_label.text() == f"Today: {format_date(START)} (simulated)"
    assert "(demo)" in second.windowTitle() and second.demo_badge.isVisible()
    # The curated dataset, plus the local operator the new window signed in with
    # (created again, as when any fresh demo database is first opened).
    now = dump_content(demo_path)
    assert {t: rows for t, rows in now.items() if t != "operators"} == {
        t: rows for t, rows in fresh_dump.items() if t != "operators"
    }
    curated_operators = fresh_dump["operators"]
    assert now["operators"][: len(curated_operators)] == curated_operators
    [local] = now["operators"][len(curated_operators) :]
    assert local[0] == second.ctx.operator.id and second.ctx.operator.role == "admin"


# --------------------------------------------------------------------------- snapshots


def _snapshots_dialog(qtbot, win: MainWindow) -> SnapshotsDialog:
    qtbot.mouseClick(
        win.sandbox_menu.banner.widgetForAction(win.sandbox_menu.snapshots_action),
        Qt.MouseButton.LeftButton,
    )
    return shown_child(qtbot, win, SnapshotsDialog, "snapshotsDialog")


def _rows(dialog: SnapshotsDialog) -> list[tuple[str, str, str]]:
    model = dialog.model
    return [
        tuple(model.index(r, c).data() for c in range(model.columnCount()))
        for r in range(model.rowCount())
    ]


def test_snapshots_save_restore_and_delete(qtbot, demo, demo_path) -> None:
    win = _window(qtbot, demo)
    menu: SandboxMenu = win.sandbox_menu
    requests: list[str] = []
    menu.open_requested.connect(requests.append)
    dialog = _snapshots_dialog(qtbot, win)
    assert dialog.empty_label.isVisible() and not dialog.table.isVisible()
    assert not dialog.restore_button.isEnabled() and not dialog.delete_button.isEnabled()

    # Save Current State…: a name box with a suggestion, then the list shows it.
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, dialog, QInputDialog, "snapshotNameInput")
    assert box.textValue() == f"State on {format_date(START)}"
    edit = box.findChild(QLineEdit)
    edit.selectAll()
    qtbot.keyClicks(edit, "Before the payment")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1)
    saved_state = dump_content(demo_path)
    [(name, taken, simulated)] = _rows(dialog)
    assert (name, simulated) == ("Before the payment", format_date(START))
    assert taken.startswith(format_date(date.today()))
    assert dialog.status_label.text() == "Saved the snapshot “Before the payment”."
    assert dialog.restore_button.isEnabled()

    # Work on, then restore: asked first, Cancel changes nothing.
    record_payment(demo, "A-100009", reference="BT-1")
    set_simulated_date(demo, START + timedelta(days=10))
    changed = dump_content(demo_path)
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, dialog, QMessageBox, "restoreSnapshotConfirmation")
    assert box.text() == "Return the demo database to the snapshot “Before the payment”?"
    assert f"The simulated date goes back to {format_date(START)}." in box.informativeText()
    _cancel(qtbot, box)
    qtbot.waitUntil(lambda: dialog._question is None)
    assert dump_content(demo_path) == changed
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, dialog, QMessageBox, "restoreSnapshotConfirmation")
    with qtbot.waitSignals([dialog.restored, menu.open_requested], timeout=10_000):
        _click(qtbot, box, "confirmRestore")
    assert requests == [str(demo_path)]
    assert dump_content(demo_path) == saved_state
    qtbot.waitUntil(lambda: not dialog.isVisible())

    # Delete, from a new dialog: asked first; the database does not change.
    dialog = _snapshots_dialog(qtbot, win)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, dialog, QMessageBox, "deleteSnapshotConfirmation")
    assert box.text() == "Delete the snapshot “Before the payment”?"
    _click(qtbot, box, "confirmDelete")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0)
    assert list_snapshots(demo) == []
    assert dump_content(demo_path) == saved_state
    assert dialog.empty_label.isVisible()


def test_saving_under_an_existing_name_asks_to_replace(qtbot, demo) -> None:
    save_snapshot(demo, "Scene")
    set_simulated_date(demo, START + timedelta(days=5))
    win = _window(qtbot, demo)
    dialog = _snapshots_dialog(qtbot, win)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    name_box = shown_child(qtbot, dialog, QInputDialog, "snapshotNameInput")
    edit = name_box.findChild(QLineEdit)
    edit.selectAll()
    qtbot.keyClicks(edit, "scene")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    box = shown_child(qtbot, dialog, QMessageBox, "replaceSnapshotConfirmation")
    assert box.text() == (
        "A snapshot named “Scene” already exists. Replace it with the current state?"
    )
    _click(qtbot, box, "confirmReplace")
    qtbot.waitUntil(lambda: _rows(dialog)[0][2] == format_date(START + timedelta(days=5)))
    assert [s.name for s in list_snapshots(demo)] == ["scene"]


def test_keyboard_delete_and_enter_on_the_list(qtbot, demo) -> None:
    save_snapshot(demo, "First")
    save_snapshot(demo, "Second")
    win = _window(qtbot, demo)
    dialog = _snapshots_dialog(qtbot, win)
    assert [r[0] for r in _rows(dialog)] == ["Second", "First"]  # newest first
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Down)
    assert dialog.selected().name == "First"
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    box = shown_child(qtbot, dialog, QMessageBox, "deleteSnapshotConfirmation")
    assert box.text() == "Delete the snapshot “First”?"
    _cancel(qtbot, box)
    qtbot.waitUntil(lambda: dialog._question is None)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    box = shown_child(qtbot, dialog, QMessageBox, "restoreSnapshotConfirmation")
    assert "“First”" in box.text()
    _cancel(qtbot, box)


def test_a_viewer_sees_the_snapshots_but_cannot_change_them(qtbot, demo) -> None:
    from billing_desktop.store.models import Operator

    save_snapshot(demo, "Scene")
    with demo.db.transaction() as session:
        op = Operator(
            email="v@operators.example", name="V", role="viewer", active=True,
            created_at=datetime(2026, 1, 1, 9),
        )  # fmt: skip
        session.add(op)
        session.flush()
        viewer = OperatorInfo(op.id, op.email, op.name, op.role)
    dialog = SnapshotsDialog(dataclasses.replace(demo, operator=viewer))
    qtbot.addWidget(dialog)
    dialog.show()
    assert [r[0] for r in _rows(dialog)] == ["Scene"]
    assert not dialog.save_button.isEnabled()
    assert not dialog.restore_button.isEnabled() and not dialog.delete_button.isEnabled()
    assert "Only administrators and trainers" in dialog.status_label.text()


def test_snapshots_model_passes_the_model_tester(qtmodeltester, demo) -> None:
    save_snapshot(demo, "One")
    set_simulated_date(demo, START + timedelta(days=1))
    save_snapshot(demo, "Two")
    model = SnapshotsModel()
    model.set_rows(list_snapshots(demo))
    qtmodeltester.check(model)
    assert model.index(0, model.NAME).data(model.SortRole) == "two"
    assert model.index(0, model.SIMULATED).data(model.SortRole) == "2026-04-27"


# --------------------------------------------------------------------------- new demo database


def _choose_file(qtbot, win: MainWindow, path: Path) -> QFileDialog:
    win.sandbox_menu.new_demo_action.trigger()
    dialog = shown_child(qtbot, win, QFileDialog, "newDemoFileDialog")
    edit = dialog.findChild(QLineEdit, "fileNameEdit")
    edit.setText(str(path))  # pasted: typing would race the dialog's path completer
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    return dialog


def test_new_demo_database_from_a_real_database(
    qtbot, ctx, make_account, db_path, tmp_path
) -> None:
    make_account("Acme Software")
    win = _window(qtbot, ctx)
    before = dump_content(db_path)
    requested: list[str] = []
    win.database_change_requested.connect(requested.append)  # what GuiSession answers
    win.sandbox_menu.new_demo_action.trigger()
    dialog = shown_child(qtbot, win, QFileDialog, "newDemoFileDialog")
    assert dialog.selectedFiles()[0].endswith("demo.sqlite3")  # the standard demo file
    assert dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    dialog.reject()
    qtbot.waitUntil(lambda: win.sandbox_menu._question is None)

    target = tmp_path / "training" / "monday.sqlite3"
    target.parent.mkdir()
    _choose_file(qtbot, win, target)
    qtbot.waitUntil(lambda: requested == [str(target)], timeout=10_000)
    expected = tmp_path / "expected.sqlite3"
    new_demo_database(expected, date.today())  # the demo starts on the real today
    assert dump_content(target) == dump_content(expected)
    assert dump_content(db_path) == before  # the open real database was not touched


def test_new_demo_database_never_over_the_open_real_file(
    qtbot, ctx, make_account, db_path, errors
) -> None:
    make_account("Acme Software")
    win = _window(qtbot, ctx)
    before = db_path.read_bytes()
    requested: list[str] = []
    win.sandbox_menu.open_requested.connect(requested.append)
    _choose_file(qtbot, win, db_path)
    qtbot.waitUntil(lambda: bool(errors))
    assert [e.code for e in errors] == ["not_a_demo"]
    assert db_path.read_bytes() == before and requested == []


def test_new_demo_database_over_another_file_asks_first(
    qtbot, ctx, make_account, tmp_path, errors
) -> None:
    make_account("Acme Software")
    win = _window(qtbot, ctx)
    other = tmp_path / "notes.sqlite3"
    other.write_text("my notes", encoding="utf-8")
    _choose_file(qtbot, win, other)
    box = shown_child(qtbot, win, QMessageBox, "replaceDemoConfirmation")
    assert box.text() == "“notes.sqlite3” already exists. Replace it with a new demo database?"
    _click(qtbot, box, "confirmReplaceDemo")
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert [e.code for e in errors] == ["not_a_demo"]  # the service refused: not a demo
    assert other.read_text(encoding="utf-8") == "my notes"


def test_new_demo_database_on_the_open_demo_is_a_reset(qtbot, demo, demo_path) -> None:
    win = _window(qtbot, demo)
    _choose_file(qtbot, win, demo_path)
    shown_child(qtbot, win, QMessageBox, "resetDemoConfirmation")


def test_the_standard_demo_file_is_offered(qtbot, ctx, make_account) -> None:
    make_account("Acme Software")
    win = _window(qtbot, ctx)
    win.sandbox_menu.new_demo_action.trigger()
    dialog = shown_child(qtbot, win, QFileDialog, "newDemoFileDialog")
    assert Path(dialog.selectedFiles()[0]).name == demo_target().path.name
    dialog.reject()


def test_the_banner_survives_a_layout_saved_on_a_real_database(
    qtbot, ctx, make_account, demo
) -> None:
    """The window installs its tools itself and then restores the saved layout."""
    make_account("Acme Software")
    real = MainWindow(ctx)
    qtbot.addWidget(real)
    with qtbot.waitSignal(real.tools_installed):
        real.show()
    real.close()  # saves a layout without any banner

    win = MainWindow(demo)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.tools_installed):
        win.show()
    banner = win.sandbox_menu.banner
    assert banner.isVisible()
    assert banner.geometry().top() == win.menuBar().geometry().bottom() + 1
    win.close()  # and one with the banner, restored the same
    again = MainWindow(demo)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.tools_installed):
        again.show()
    assert again.sandbox_menu.banner.isVisible()
    assert again.sandbox_menu.banner.geometry().top() == again.menuBar().geometry().bottom() + 1
