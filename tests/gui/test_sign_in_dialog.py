"""The sign-in dialog of a shared database (issue 8 item 2), driven by keys and clicks.

The check runs in the thread pool; ``sleep`` is injected so a refusal's delay
is recorded instead of waited for, and one test holds the worker inside the
delay to show the dialog keeps answering meanwhile.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from helpers import when_modal
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog

from billing_desktop import i18n
from billing_desktop.services.signin import (
    FAILURE_DELAY_SECONDS,
    hash_password,
    needs_first_admin,
    verify_password,
)
from billing_desktop.store.models import Operator
from billing_desktop.ui.dialogs.sign_in_dialog import LAST_EMAIL_KEY, SignInDialog, ask_operator

NOW = datetime(2026, 4, 26, 9, 30)
EMAIL = "giulia.bianchi@billing-desk.example"
PASSWORD = "lantern orchard quietly 42"


class Sleeps(list):
    """An injected ``sleep``: records each delay (and the thread it ran on)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def __call__(self, seconds: float) -> None:
        self.threads.append(threading.current_thread())
        self.append(seconds)


@functools.cache
def hashed(password: str) -> str:
    """One real Argon2id hash per password for the whole module (hashing takes a moment)."""
    return hash_password(password)


def add_operator(db, *, active: bool = True) -> int:
    with db.transaction() as session:
        op = Operator(
            email=EMAIL, name="Giulia Bianchi", role="support", active=active,
            created_at=datetime(2026, 1, 5), password_hash=hashed(PASSWORD),
        )  # fmt: skip
        session.add(op)
        session.flush()
        return op.id


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def operator(db) -> int:
    return add_operator(db)


@pytest.fixture
def dialog(qtbot, db, operator, sleeps) -> SignInDialog:
    return shown(qtbot, SignInDialog(db, now=lambda: NOW, sleep=sleeps))


def shown(qtbot, dialog: SignInDialog) -> SignInDialog:
    """Show ``dialog`` as the active window (where the keyboard goes)."""
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def sign_in_with(qtbot, dialog: SignInDialog, email: str, password: str) -> None:
    type_into(qtbot, dialog.email_edit, email)
    type_into(qtbot, dialog.password_edit, password)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def refused(qtbot, dialog: SignInDialog) -> str:
    """Wait for the check to come back with a refusal; the message shown."""
    qtbot.waitUntil(lambda: not dialog.busy and dialog.message.isVisible())
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    return dialog.message.text()


# --------------------------------------------------------------------------- signing in


def test_the_dialog_asks_for_email_and_password(dialog) -> None:
    assert dialog.windowTitle() == "Sign In — Billing Desktop"
    assert dialog.ok_button.text() == "&Sign In"
    assert dialog.cancel_button.text() == "&Quit"  # before any window: quitting
    assert dialog.email_edit.isVisible() and dialog.password_edit.isVisible()
    assert not dialog.name_edit.isVisible() and not dialog.confirm_edit.isVisible()
    assert dialog.password_edit.echoMode() == dialog.password_edit.EchoMode.Password
    assert dialog.database_label.text().startswith("Database: ")
    assert not dialog.message.isVisible()


def test_the_right_password_signs_in(qtbot, dialog, db, operator, sleeps) -> None:
    with qtbot.waitSignal(dialog.accepted):
        sign_in_with(qtbot, dialog, EMAIL, PASSWORD)

    assert dialog.operator is not None
    assert (dialog.operator.id, dialog.operator.role) == (operator, "support")
    assert sleeps == []
    assert db.reader.scalar("SELECT action FROM audit_entries") == "sign_in"
    assert QSettings().value(LAST_EMAIL_KEY) == EMAIL


def test_a_wrong_password_is_refused_in_the_dialog_after_a_delay(
    qtbot, dialog, db, operator, sleeps
) -> None:
    sign_in_with(qtbot, dialog, EMAIL, "not the password at all")

    assert refused(qtbot, dialog) == "The email address or the password is not correct."
    assert sleeps == [FAILURE_DELAY_SECONDS]
    assert sleeps.threads[0] is not threading.main_thread()  # the GUI thread never waited
    # ready for another attempt: the password is cleared, the email kept
    assert dialog.password_edit.text() == ""
    assert dialog.email_edit.text() == EMAIL
    assert dialog.password_edit.isEnabled() and dialog.ok_button.isEnabled()
    assert dialog.password_edit.hasFocus()
    assert db.reader.scalar("SELECT failed_sign_ins FROM operators WHERE id = :i",
                            {"i": operator}) == 1  # fmt: skip

    # an unknown email reads exactly the same
    sign_in_with(qtbot, dialog, "nobody@billing-desk.example", PASSWORD)
    assert refused(qtbot, dialog) == "The email address or the password is not correct."
    # and the right password then signs in
    with qtbot.waitSignal(dialog.accepted):
        sign_in_with(qtbot, dialog, EMAIL, PASSWORD)


def test_the_dialog_keeps_answering_during_the_delay(qtbot, db, operator) -> None:
    release = threading.Event()
    waited: list[float] = []

    def slow_sleep(seconds: float) -> None:
        waited.append(seconds)
        release.wait(30)

    dialog = shown(qtbot, SignInDialog(db, now=lambda: NOW, sleep=slow_sleep))
    sign_in_with(qtbot, dialog, EMAIL, "not the password at all")

    # the worker is inside the delay; the dialog still repaints and reacts
    qtbot.waitUntil(lambda: waited == [FAILURE_DELAY_SECONDS])
    assert dialog.busy
    assert dialog.message.text() == "Signing in…"
    assert not dialog.ok_button.isEnabled() and not dialog.password_edit.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)  # a second click does nothing
    release.set()
    assert refused(qtbot, dialog) == "The email address or the password is not correct."
    assert waited == [FAILURE_DELAY_SECONDS]


def test_a_disabled_operator_is_told_so(qtbot, db, sleeps) -> None:
    add_operator(db, active=False)
    dialog = shown(qtbot, SignInDialog(db, now=lambda: NOW, sleep=sleeps))
    sign_in_with(qtbot, dialog, EMAIL, PASSWORD)
    assert refused(qtbot, dialog) == (
        "This operator has been disabled. Ask an administrator to enable it again."
    )
    assert sleeps == [FAILURE_DELAY_SECONDS]


def test_empty_fields_are_pointed_out_without_asking_the_database(qtbot, dialog, db) -> None:
    type_into(qtbot, dialog.email_edit, EMAIL)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "Enter your email address and password."
    assert dialog.password_edit.hasFocus()
    assert not dialog.busy
    assert db.reader.scalar("SELECT COUNT(*) FROM audit_entries") == 0


def test_the_last_email_is_offered_again(qtbot, db, operator, sleeps) -> None:
    QSettings().setValue(LAST_EMAIL_KEY, EMAIL)
    dialog = shown(qtbot, SignInDialog(db, now=lambda: NOW, sleep=sleeps))
    assert dialog.email_edit.text() == EMAIL
    assert dialog.password_edit.hasFocus()
    qtbot.keyClicks(dialog.password_edit, PASSWORD)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)


# --------------------------------------------------------------------------- first administrator


def test_a_new_database_sets_up_its_first_administrator(qtbot, db, sleeps) -> None:
    dialog = shown(qtbot, SignInDialog(db, now=lambda: NOW, sleep=sleeps))
    assert dialog.first_admin
    assert dialog.heading.text() == "Set up the first administrator"
    assert dialog.ok_button.text() == "Create &Administrator"
    assert dialog.name_edit.isVisible() and dialog.confirm_edit.isVisible()
    assert dialog.hint.text().startswith("At least 12 characters")

    type_into(qtbot, dialog.name_edit, "Ada Rossi")
    type_into(qtbot, dialog.email_edit, "ada@billing-desk.example")
    type_into(qtbot, dialog.password_edit, PASSWORD)
    type_into(qtbot, dialog.confirm_edit, PASSWORD + "!")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "The two passwords are not the same; type it again."
    assert dialog.confirm_edit.hasFocus() and dialog.confirm_edit.text() == ""

    # the service's password policy, in the dialog
    type_into(qtbot, dialog.password_edit, "short one")
    type_into(qtbot, dialog.confirm_edit, "short one")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert refused(qtbot, dialog) == "The password must have at least 12 characters."
    assert dialog.name_edit.text() == "Ada Rossi"  # the rest of the input is kept
    assert needs_first_admin(db)

    type_into(qtbot, dialog.password_edit, PASSWORD)
    type_into(qtbot, dialog.confirm_edit, PASSWORD)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert (dialog.operator.email, dialog.operator.role) == ("ada@billing-desk.example", "admin")
    assert not needs_first_admin(db)
    stored = db.reader.scalar("SELECT password_hash FROM operators")
    assert verify_password(stored, PASSWORD)


# --------------------------------------------------------------------------- ask_operator


def test_ask_operator_returns_who_signed_in(qtbot, db, operator) -> None:
    def fill(dialog: SignInDialog) -> None:
        dialog._sleep = lambda _s: None
        sign_in_with(qtbot, dialog, EMAIL, PASSWORD)

    when_modal(SignInDialog, fill)
    info = ask_operator(db)
    assert info is not None and info.id == operator


def test_ask_operator_returns_none_on_quit(qtbot, db, operator) -> None:
    when_modal(SignInDialog, lambda d: qtbot.mouseClick(d.cancel_button, Qt.MouseButton.LeftButton))
    assert ask_operator(db) is None
    assert db.reader.scalar("SELECT COUNT(*) FROM audit_entries") == 0


# --------------------------------------------------------------------------- language


@pytest.fixture
def italian(qapp, tmp_path: Path, monkeypatch) -> Iterator[None]:
    lrelease = shutil.which("pyside6-lrelease") or str(
        Path(sys.executable).with_name("pyside6-lrelease")
    )
    ts = tmp_path / "billing_desktop_it.ts"
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n'
        '<TS version="2.1" language="it_IT">\n'
        "<context><name>SignInDialog</name>"
        "<message><source>&amp;Sign In</source><translation>&amp;Accedi</translation></message>"
        "</context>\n"
        "<context><name>ServiceError</name>"
        "<message><source>The email address or the password is not correct.</source>"
        "<translation>L'indirizzo email o la password non sono corretti.</translation></message>"
        "</context>\n</TS>\n",
        encoding="utf-8",
    )
    subprocess.run(
        [lrelease, str(ts), "-qm", str(tmp_path / "billing_desktop_it.qm")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    monkeypatch.setattr(i18n, "translations_dir", lambda: tmp_path)
    i18n.install(qapp, "it")
    yield
    i18n.uninstall(qapp)


def test_the_refusal_is_in_the_users_language(qtbot, italian, db, operator, sleeps) -> None:
    dialog = shown(qtbot, SignInDialog(db, now=lambda: NOW, sleep=sleeps))
    assert dialog.ok_button.text() == "&Accedi"
    sign_in_with(qtbot, dialog, EMAIL, "not the password at all")
    assert refused(qtbot, dialog) == "L'indirizzo email o la password non sono corretti."
