"""At start-up the database chosen in Settings has vanished (a USB stick, a network
share, deleted): nothing is created in its place, the user chooses what to open."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import answered_message_boxes, when_modal
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QLineEdit

from billing_desktop import app as app_module
from billing_desktop import i18n
from billing_desktop.config import APP_NAME, ORG_NAME, default_target, target_from
from billing_desktop.store.database import open_database
from billing_desktop.ui import preferences

OPEN_DEFAULT = "Open the default database"
CHOOSE = "Choose another file…"
QUIT = "Quit"


@pytest.fixture
def session(qtbot) -> Iterator[app_module.GuiSession]:
    gui = app_module.GuiSession()
    yield gui
    if gui.window is not None:
        gui.window.close()
    gui.close()


@pytest.fixture
def stick(tmp_path: Path) -> Path:
    """The database chosen in Settings, on a USB stick that is not plugged in (its
    folder is gone too)."""
    path = tmp_path / "usb" / "billing.sqlite3"
    preferences.set_saved_database(str(path))
    return path


def existing_database(path: Path) -> Path:
    open_database(target_from(str(path))).dispose()
    return path


def missing_text(path: Path) -> str:
    return f"The database {path} cannot be found."


def test_the_default_database_opens_and_nothing_is_created_at_the_missing_path(
    qtbot, session, stick: Path
) -> None:
    with answered_message_boxes(OPEN_DEFAULT) as texts:
        assert session.open_at_start(preferences.startup_database(None))
    qtbot.addWidget(session.window)
    assert texts == [missing_text(stick)]
    assert not stick.exists() and not stick.parent.exists()
    assert session.db.target == default_target()
    assert default_target().path.exists()  # the default one, created as on a first start
    assert session.window.isVisible()
    # looked for again at the next start (the stick may be plugged in by then)
    assert preferences.saved_database() == str(stick)


def test_another_file_is_chosen_and_remembered(qtbot, session, stick: Path, tmp_path: Path) -> None:
    other = existing_database(tmp_path / "copy" / "billing.sqlite3")

    def choose(dialog: QFileDialog) -> None:
        assert dialog.objectName() == "missingDatabaseFileDialog"
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        edit.setText(str(other))  # pasted: typing would race the dialog's path completer
        QTest.keyClick(edit, Qt.Key.Key_Return)

    when_modal(QFileDialog, choose)
    with answered_message_boxes(CHOOSE) as texts:
        assert session.open_at_start(preferences.startup_database(None))
    qtbot.addWidget(session.window)
    assert texts == [missing_text(stick)]
    assert session.db.target.path == other
    assert preferences.saved_database() == str(other)
    assert preferences.startup_database(None).path == other  # the next start opens it
    assert not stick.parent.exists()


def test_cancelling_the_file_dialog_asks_again_then_quit(qtbot, session, stick: Path) -> None:
    when_modal(QFileDialog, lambda dialog: dialog.reject())
    with answered_message_boxes(CHOOSE, QUIT) as texts:
        assert not session.open_at_start(preferences.startup_database(None))
    assert texts == [missing_text(stick)] * 2
    assert session.window is None and session.db is None
    assert not stick.parent.exists()
    assert not default_target().path.exists()
    assert preferences.saved_database() == str(stick)


@pytest.fixture
def logger() -> Iterator[None]:
    """``run_gui`` adds its log handlers: removed afterwards."""
    log = logging.getLogger("billing_desktop")
    handlers, level = list(log.handlers), log.level
    yield
    for handler in log.handlers[:]:
        if handler not in handlers:
            log.removeHandler(handler)
            handler.close()
    log.setLevel(level)


def test_run_gui_tells_in_the_users_language_and_quits(
    qtbot, qapp, logger, monkeypatch, tmp_path: Path
) -> None:
    """The whole start: ``billing-desktop`` with the saved database gone, answered Quit.
    The message comes through the translations installed at start (the pseudo
    language here stands for the user's)."""
    QCoreApplication.setOrganizationName(ORG_NAME)  # what run_gui sets: its QSettings
    QCoreApplication.setApplicationName(APP_NAME)
    stick = tmp_path / "share" / "billing.sqlite3"
    preferences.set_saved_database(str(stick))
    monkeypatch.setattr(app_module, "install_qt_message_handler", lambda: None)
    monkeypatch.setattr(app_module, "install_excepthook", lambda _log_file: None)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # the test process keeps collecting
    try:
        with answered_message_boxes(i18n.pseudo_text("&Quit").replace("&", "")) as texts:
            code = app_module.run_gui(preferences.startup_database(None), lang="pseudo")
    finally:
        i18n.uninstall(qapp)
    assert code == 1
    assert texts == [i18n.pseudo_text("The database {path} cannot be found.").format(path=stick)]
    assert not stick.parent.exists()
    assert not default_target().path.exists()


@pytest.mark.parametrize("saved", [None, "default", "existing"])
def test_no_question_when_nothing_is_missing(qtbot, session, tmp_path: Path, saved) -> None:
    """The first start creates the default database (even when chosen in Settings);
    a saved file that is there opens."""
    target = default_target()
    if saved == "default":
        preferences.set_saved_database(str(target.path))
    elif saved == "existing":
        target = target_from(str(existing_database(tmp_path / "mine.sqlite3")))
        preferences.set_saved_database(str(target.path))
    with answered_message_boxes() as texts:
        assert session.open_at_start(preferences.startup_database(None))
    qtbot.addWidget(session.window)
    assert texts == []
    assert session.db.target == target
    assert target.path.exists()


def test_a_new_file_chosen_in_settings_is_still_created(qtbot, session, tmp_path: Path) -> None:
    """Settings saves the choice, then switches to it: a new file there is a new
    database (only a start-up finds the saved one missing)."""
    assert session.open_at_start(default_target())
    qtbot.addWidget(session.window)
    new = tmp_path / "new.sqlite3"
    preferences.set_saved_database(str(new))
    with answered_message_boxes() as texts:
        assert session.open_location(str(new))
    qtbot.addWidget(session.window)
    assert texts == []
    assert session.db.target.path == new and new.exists()
