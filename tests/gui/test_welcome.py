"""The Welcome page, and the app switching to the demo database from it."""

from __future__ import annotations

import sys
import types
from datetime import date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from billing_desktop import app as app_module
from billing_desktop import i18n
from billing_desktop.config import demo_target, target_from
from billing_desktop.store.models import Account, AppSetting
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.welcome import WelcomePage, remember_welcome_dismissed, welcome_wanted


@pytest.fixture
def page(qtbot) -> WelcomePage:
    widget = WelcomePage("/data/billing.sqlite3")
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_demo_button_emits_its_signal(qtbot, page) -> None:
    assert page.demo_button.text() == "Open the demo database"
    with qtbot.waitSignal(page.demo_requested):
        qtbot.mouseClick(page.demo_button, Qt.MouseButton.LeftButton)


def test_empty_button_emits_its_signal(qtbot, page) -> None:
    assert page.empty_button.text() == "Start with an empty database"
    with qtbot.waitSignal(page.empty_requested):
        qtbot.mouseClick(page.empty_button, Qt.MouseButton.LeftButton)


def test_page_names_the_database(page) -> None:
    assert "/data/billing.sqlite3" in page.location.text()
    assert page.demo_button.isDefault()


def test_welcome_is_wanted_only_for_a_new_empty_real_database(ctx, make_account) -> None:
    assert welcome_wanted(ctx)
    remember_welcome_dismissed(ctx)
    assert not welcome_wanted(ctx)


def test_no_welcome_for_a_database_with_accounts(ctx, make_account) -> None:
    make_account()
    assert not welcome_wanted(ctx)


def test_no_welcome_for_a_demo_database(ctx) -> None:
    from billing_desktop.services.context import open_context

    with ctx.db.transaction() as session:
        session.add(AppSetting(key="database.kind", value="demo"))
    assert not welcome_wanted(open_context(ctx.db))


def test_window_opens_on_welcome_and_start_empty_shows_accounts(qtbot, ctx) -> None:
    win = MainWindow(ctx, show_welcome=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.stack.currentWidget() is win.welcome
    assert win.current_view_key() is None
    with qtbot.waitSignal(win.demo_requested):
        qtbot.mouseClick(win.welcome.demo_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(win.welcome.empty_button, Qt.MouseButton.LeftButton)
    view = win.views["accounts"]
    assert win.stack.currentWidget() is view
    assert win.welcome is None
    assert view.empty_label.isVisible()
    assert "no accounts yet" in view.empty_label.text()
    assert not welcome_wanted(ctx)  # remembered: not shown again for this database


def test_choosing_accounts_in_the_navigation_leaves_the_welcome(qtbot, ctx) -> None:
    win = MainWindow(ctx, show_welcome=True)
    qtbot.addWidget(win)
    win.navigation.setCurrentRow(0)
    assert win.current_view_key() == "accounts"
    assert win.welcome is None


# -- the app's session: opening databases and switching to the demo -------------


@pytest.fixture
def fake_demo(monkeypatch) -> list[date]:
    """Stands in for services.demo.load_curated: one account, marked as demo."""
    calls: list[date] = []

    def load_curated(db, today: date) -> None:
        calls.append(today)
        with db.transaction() as session:
            session.add(
                Account(
                    account_number="A-100001",
                    company_name="Demo Customer",
                    search_name="demo customer",
                    country="IT",
                    language="it",
                    currency="EUR",
                    created_at=datetime(2026, 1, 1),
                )
            )
            session.add(AppSetting(key="database.kind", value="demo"))
            session.add(AppSetting(key="clock.today", value=today.isoformat()))

    # the real module with a quick load_curated (the renewal engine, loaded in
    # the background by the demo's clock, imports other names from it)
    import billing_desktop.services.demo as real

    module = types.ModuleType("billing_desktop.services.demo")
    module.__dict__.update(real.__dict__)
    module.load_curated = load_curated  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "billing_desktop.services.demo", module)
    return calls


@pytest.fixture
def session(qtbot):
    gui = app_module.GuiSession()
    yield gui
    if gui.window is not None:
        gui.window.close()
    gui.close()


def test_new_database_opens_on_welcome_then_switches_to_demo(
    qtbot, session, fake_demo, tmp_path: Path
) -> None:
    assert session.open(target_from(str(tmp_path / "new.sqlite3")))
    first = session.window
    qtbot.addWidget(first)
    assert first.welcome is not None
    assert first.stack.currentWidget() is first.welcome

    qtbot.mouseClick(first.welcome.demo_button, Qt.MouseButton.LeftButton)
    second = session.window
    qtbot.addWidget(second)
    assert second is not first
    assert fake_demo == [date.today()]
    assert session.db.target == demo_target()
    assert second.ctx.is_demo
    assert second.demo_badge.isVisible()
    assert "(simulated)" in second.date_label.text()
    assert second.welcome is None
    assert second.views["accounts"].model.rowCount() == 1  # counted after the first paint
    assert not first.isVisible()


def test_demo_flag_opens_the_demo_database_filled_once(
    qtbot, session, fake_demo, tmp_path: Path
) -> None:
    assert session.open(target_from(str(tmp_path / "ignored.sqlite3")), demo=True)
    qtbot.addWidget(session.window)
    assert session.db.target == demo_target()
    assert session.window.welcome is None
    session.window.close()
    session.close()
    assert session.open(target_from(str(tmp_path / "ignored.sqlite3")), demo=True)
    qtbot.addWidget(session.window)
    assert len(fake_demo) == 1  # already filled: not loaded again


def test_a_bad_database_gives_one_translated_message(
    qtbot, session, monkeypatch, tmp_path: Path
) -> None:
    bad = tmp_path / "not-a-database.sqlite3"
    bad.write_bytes(b"this is not SQLite")
    messages: list[str] = []
    monkeypatch.setattr(app_module, "show_error", lambda _parent, text: messages.append(text))
    assert not session.open(target_from(str(bad)))
    assert session.window is None
    assert len(messages) == 1
    assert str(bad) in messages[0]
    assert "not a valid Billing Desktop database" in messages[0]
    assert bad.read_bytes() == b"this is not SQLite"  # left untouched


def test_run_gui_returns_1_when_the_database_cannot_be_opened(
    qtbot, qapp, monkeypatch, tmp_path: Path
) -> None:
    import logging

    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"garbage")
    messages: list[str] = []
    monkeypatch.setattr(app_module, "show_error", lambda _parent, text: messages.append(text))
    # Keep pytest-qt's own Qt message capture and pytest's excepthook in place.
    monkeypatch.setattr(app_module, "install_qt_message_handler", lambda: None)
    monkeypatch.setattr(app_module, "install_excepthook", lambda _log_file: None)
    logger = logging.getLogger("billing_desktop")
    handlers, level = list(logger.handlers), logger.level
    try:
        assert app_module.run_gui(target_from(str(bad)), lang="en_US") == 1
    finally:
        i18n.uninstall(qapp)
        for handler in logger.handlers[:]:
            if handler not in handlers:
                logger.removeHandler(handler)
                handler.close()
        logger.setLevel(level)
    assert len(messages) == 1
    assert str(bad) in messages[0]
