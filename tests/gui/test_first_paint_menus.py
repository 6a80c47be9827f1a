"""The menus' items and shortcuts come right after the first paint, or on first use."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from billing_desktop.ui.main_window import MainWindow


def _shown(qtbot, ctx) -> MainWindow:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    return win


def test_the_shortcuts_work_once_the_window_is_shown(qtbot, ctx, make_account) -> None:
    make_account("Acme Software")
    win = _shown(qtbot, ctx)
    view = win.views["accounts"]
    # Nothing asks for a menu here: the keys alone must find their actions.
    qtbot.waitUntil(lambda: view.count_label.text() == "1 account(s)")
    make_account("Bergmann Logistik")
    qtbot.keyClick(view.table, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: view.count_label.text() == "2 account(s)")
    qtbot.keyClick(view.table, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not win.isVisible())


def test_the_menu_bar_shows_its_menus_filled(qtbot, ctx) -> None:
    win = _shown(qtbot, ctx)
    bar = win.menuBar()
    assert [a.text() for a in bar.actions()] == ["&File", "&View", "&Help"]
    file_menu = bar.actions()[0].menu()
    qtbot.waitUntil(lambda: len(file_menu.actions()) > 0)
    texts = [a.text() for a in file_menu.actions() if not a.isSeparator()]
    assert texts[0] == "Open &Demo Database" and texts[-1] == "&Quit"


def test_a_menu_asked_for_before_the_first_paint_is_complete(qtbot, ctx) -> None:
    win = MainWindow(ctx)  # never shown
    qtbot.addWidget(win)
    texts = [a.text() for a in win.file_menu.actions() if not a.isSeparator()]
    assert texts == ["Open &Demo Database", "&Settings…", "&Quit"]
    assert win.settings_action.shortcut() == QKeySequence("Ctrl+,")
    assert win.view_actions["accounts"].isChecked()  # the view shown
    assert [a.text() for a in win.menuBar().actions()] == ["&File", "&View", "&Help"]
