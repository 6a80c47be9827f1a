"""The main window: navigation, menus, status bar, remembered state, language switch."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QLocale, Qt, QTranslator
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from billing_desktop import __version__
from billing_desktop.services.clock import SystemClock
from billing_desktop.services.context import AppContext
from billing_desktop.store.models import AppSetting
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.views.accounts_view import AccountsView

TODAY = date(2026, 4, 26)


@pytest.fixture
def window(qtbot, ctx, make_account) -> MainWindow:
    make_account("Acme Software")
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    # The count (and the filter choices) come right after the first paint.
    qtbot.waitUntil(lambda: win.views["accounts"].model.total_known)
    return win


def mark_demo(db) -> None:
    with db.transaction() as session:
        session.add(AppSetting(key="database.kind", value="demo"))


def test_navigation_lists_the_views_and_settings(window) -> None:
    texts = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert texts == ["Accounts", "Invoices", "Emails", "Dashboard", "Settings"]
    assert window.current_view_key() == "accounts"
    assert isinstance(window.stack.currentWidget(), AccountsView)
    assert window.navigation.currentRow() == 0
    # Only the first view is built at start; the others when first shown.
    assert set(window.views) == {"accounts"}


@pytest.mark.parametrize(
    ("row", "key", "name"),
    [
        (1, "invoices", "invoicesView"),
        (2, "emails", "emailsView"),
        (3, "dashboard", "dashboardView"),
    ],
)
def test_every_navigation_entry_shows_its_view(qtbot, window, row, key, name) -> None:
    rect = window.navigation.visualItemRect(window.navigation.item(row))
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_view_key() == key
    assert window.stack.currentWidget().objectName() == name
    assert window.view_actions[key].isChecked()
    # Ctrl+1 goes back to the accounts.
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_view_key() == "accounts"


def test_settings_entry_opens_the_settings_dialog_and_keeps_the_view(qtbot, window) -> None:
    from billing_desktop.ui.dialogs.settings_dialog import SettingsDialog

    rect = window.navigation.visualItemRect(window.navigation.item(4))
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None and dialog.isVisible()
    assert window.current_view_key() == "accounts"
    assert window.navigation.currentRow() == 0
    dialog.reject()
    assert not dialog.isVisible()
    assert window._settings_dialog is None  # a fresh dialog (fresh values) next time


def test_status_bar_shows_operator_database_and_simulated_date(window, ctx, db_path) -> None:
    assert window.database_label.text() == f"Database: {db_path.name}"
    assert window.database_label.toolTip() == str(db_path)
    assert window.operator_label.text() == f"Operator: {ctx.operator.name} (Administrator)"
    # The fixture's FixedClock counts as simulated.
    assert window.date_label.text() == f"Today: {format_date(TODAY)} (simulated)"
    assert window.date_label.text() == "Today: 4/26/2026 (simulated)"
    assert window.demo_badge.isHidden()
    assert window.windowTitle() == db_path.name


def test_system_clock_is_not_marked_simulated(qtbot, db) -> None:
    from billing_desktop.services.context import local_operator

    ctx = AppContext(db=db, clock=SystemClock(), operator=local_operator(db))
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    assert win.date_label.text() == f"Today: {format_date(date.today())}"
    assert "simulated" not in win.date_label.text()


def test_demo_database_shows_a_badge(qtbot, ctx) -> None:
    from billing_desktop.services.context import open_context

    mark_demo(ctx.db)
    ctx = open_context(ctx.db)
    assert ctx.is_demo
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.demo_badge.isVisible()
    assert win.demo_badge.text() == "DEMO"
    assert "(demo)" in win.windowTitle()
    assert not win.open_demo_action.isVisible()  # already in the demo


def test_menus_and_shortcuts(window) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&View", "&Help"]
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    assert window.view_actions["accounts"].shortcut() == QKeySequence("Ctrl+1")
    assert window.open_demo_action.isVisible()


def test_quit_closes_the_window(qtbot, window) -> None:
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_about_names_version_and_database(window, db_path, monkeypatch) -> None:
    text = window.about_text()
    assert __version__ in text
    assert str(db_path) in text
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _p, title, body: shown.append((title, body)))
    window.about_action.trigger()
    assert shown == [("About Billing Desktop", text)]


def test_geometry_and_navigation_are_remembered(qtbot, ctx, window) -> None:
    window.resize(700, 500)  # the offscreen screen is 800×600
    size = (window.width(), window.height())  # width may be held at the minimum
    assert size[1] == 500
    window.navigation_action.setChecked(False)
    window.close()
    again = MainWindow(ctx)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == size
    assert not again.navigation_action.isChecked()
    assert again.current_view_key() == "accounts"


def test_first_start_uses_1280_by_800(qtbot, ctx) -> None:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    screen = QApplication.primaryScreen().availableGeometry()
    assert win.width() == min(1280, int(screen.width() * 0.95))
    assert win.height() == min(800, int(screen.height() * 0.95))


def test_refresh_reloads_the_current_view(window, make_account) -> None:
    view = window.views["accounts"]
    assert view.model.total == 1
    make_account("Bergmann Logistik")
    window.refresh_action.trigger()
    assert view.model.total == 2


def test_empty_state_link_asks_for_the_demo(qtbot, ctx) -> None:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.demo_requested):
        win.views["accounts"].empty_label.linkActivated.emit("#demo")
    with qtbot.waitSignal(win.demo_requested):
        win.open_demo_action.trigger()


class _Bracketing(QTranslator):
    """A pseudo-translation: every string comes back in brackets."""

    def isEmpty(self) -> bool:
        # Installing an empty translator sends no LanguageChange.
        return False

    def translate(self, context, source, disambiguation=None, n=-1):
        return f"[{source}]"


def test_language_switch_retranslates_everything(qtbot, qapp, window) -> None:
    translator = _Bracketing()
    qapp.installTranslator(translator)
    try:
        view = window.views["accounts"]
        qtbot.waitUntil(lambda: window.navigation.item(0).text() == "[Accounts]")
        assert window.file_menu.title() == "[&File]"
        assert window.date_label.text().startswith("[Today:")
        assert view.filter_edit.placeholderText() == "[Filter by account ID or company name]"
        assert view.overdue_check.text() == "[Overdue only]"
        assert view.count_label.text() == "[1 account(s)]"
        assert view.model.headerData(1, Qt.Orientation.Horizontal) == "[Company]"
        assert view.model.index(0, 2).data() == "[Standard]"
    finally:
        qapp.removeTranslator(translator)
    qtbot.waitUntil(lambda: window.navigation.item(0).text() == "Accounts")


def test_language_change_event_calls_retranslate(qtbot, window, monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(window, "retranslateUi", lambda: calls.append("window"))
    QCoreApplication.sendEvent(window, QEvent(QEvent.Type.LanguageChange))
    assert calls == ["window"]


def test_i18n_install_sets_locale_and_qt_translations(qtbot, qapp, window) -> None:
    from billing_desktop import i18n
    from billing_desktop.ui.formatting import format_money

    try:
        locale = i18n.install(qapp, "it")
        assert locale.name() == "it_IT"
        assert QLocale().name() == "it_IT"
        # Qt's own strings come from qtbase_it; the app has no .qm yet, which is fine.
        assert any(path.endswith("qtbase_it.qm") for path in i18n.installed_files())
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Annulla"
        assert format_money(123_456_789, "EUR") == "1.234.567,89\u00a0€"
        # The status bar follows the new locale's date format.
        qtbot.waitUntil(lambda: "26/04/2026" in window.date_label.text())
        i18n.install(qapp, "de_DE")  # a runtime switch replaces the translators
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Abbrechen"
        assert len([p for p in i18n.installed_files() if "qtbase_" in p]) == 1
    finally:
        i18n.uninstall(qapp)
    assert i18n.installed_files() == []
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


def test_i18n_unknown_language_falls_back_to_the_system(qapp) -> None:
    from billing_desktop import i18n

    try:
        chosen = i18n.install(qapp, "xx-nonsense").name()
        system = QLocale.system()
        assert chosen == ("en_US" if system.language() == QLocale.Language.C else system.name())
    finally:
        i18n.uninstall(qapp)
