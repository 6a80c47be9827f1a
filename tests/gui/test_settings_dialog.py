"""The Settings dialog: language, database, mail server (with a test email), theme, operator."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SENDER, free_port
from PySide6.QtCore import QLocale, QPoint, Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QRadioButton

from billing_desktop import i18n
from billing_desktop.services.context import local_operator
from billing_desktop.services.smtp import SmtpSecurity, load_smtp_settings
from billing_desktop.ui import preferences
from billing_desktop.ui.dialogs.settings_dialog import LANGUAGE_NAMES, SettingsDialog
from billing_desktop.ui.theme import apply_theme, dark_palette, light_palette

# --------------------------------------------------------------------------- helpers


@pytest.fixture
def restore_app(qapp) -> Iterator[None]:
    """Put the language and the theme back whatever the test did."""
    yield
    i18n.uninstall(qapp)
    apply_theme(qapp, "system")


@pytest.fixture
def dialog(qtbot, ctx, restore_app) -> SettingsDialog:
    widget = SettingsDialog(ctx)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def go_to(qtbot, dialog: SettingsDialog, title: str) -> None:
    """Choose a page in the list with the keyboard."""
    dialog.page_list.setFocus()
    for _ in range(dialog.page_list.count()):
        if dialog.page_list.currentItem().text() == title:
            return
        QTest.keyClick(dialog.page_list, Qt.Key.Key_Down)
    raise AssertionError(f"no page {title!r}")


def retype(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def click(qtbot, button) -> None:
    """Click a button, or a radio button on its circle (its widget is wider than its text)."""
    if isinstance(button, QRadioButton):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    else:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# --------------------------------------------------------------------------- language


def _compile_italian(directory: Path) -> None:
    """A real ``billing_desktop_it.qm`` with two of the dialog's strings, built by lrelease."""
    lrelease = shutil.which("pyside6-lrelease") or str(Path(sys.executable).with_name(
        "pyside6-lrelease"
    ))
    ts = directory / "billing_desktop_it.ts"
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n'
        '<TS version="2.1" language="it_IT">\n'
        "<context><name>LanguagePage</name>"
        "<message><source>Language</source><translation>Lingua</translation></message>"
        "</context>\n"
        "<context><name>SettingsDialog</name>"
        "<message><source>Settings</source><translation>Impostazioni</translation></message>"
        "</context>\n</TS>\n",
        encoding="utf-8",
    )
    subprocess.run(
        [lrelease, str(ts), "-qm", str(directory / "billing_desktop_it.qm")],
        check=True, capture_output=True, timeout=60,
    )


def test_the_languages_are_listed_by_their_own_names(dialog) -> None:
    combo = dialog.language_page.combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "System language", "English", "Italiano", "Nederlands", "Español", "Deutsch", "Français",
    ]
    assert combo.currentText() == "System language"
    assert set(LANGUAGE_NAMES) == set(preferences.LANGUAGES)


def test_switching_the_language_retranslates_at_once_and_is_remembered(
    qtbot, dialog, tmp_path, monkeypatch
) -> None:
    _compile_italian(tmp_path)
    monkeypatch.setattr(i18n, "translations_dir", lambda: tmp_path)
    page = dialog.language_page
    assert page.heading.text() == "Language"
    assert dialog.cancel_button.text() == "Cancel"
    assert not dialog.apply_button.isEnabled()

    page.combo.setFocus()
    while page.combo.currentText() != "Italiano":
        QTest.keyClick(page.combo, Qt.Key.Key_Down)
    assert dialog.apply_button.isEnabled()
    assert page.heading.text() == "Language"  # nothing happens before Apply
    click(qtbot, dialog.apply_button)

    qtbot.waitUntil(lambda: page.heading.text() == "Lingua")
    assert dialog.windowTitle() == "Impostazioni"
    assert dialog.page_list.item(0).text() == "Lingua"
    assert dialog.cancel_button.text() == "Annulla"  # Qt's own Italian
    assert QLocale().language() == QLocale.Language.Italian
    assert not dialog.apply_button.isEnabled()
    # the next start uses it, unless --lang says otherwise
    assert preferences.saved_language() == "it"
    assert preferences.startup_language(None) == "it"
    assert preferences.startup_language("de") == "de"

    # back to the system language: forgotten, and the English texts return
    while page.combo.currentText() != "System language":
        QTest.keyClick(page.combo, Qt.Key.Key_Up)
    click(qtbot, dialog.apply_button)
    qtbot.waitUntil(lambda: page.heading.text() == "Language")
    assert preferences.saved_language() is None
    assert preferences.startup_language(None) is None


# --------------------------------------------------------------------------- theme


def _window_colour() -> str:
    return QApplication.palette().color(QPalette.ColorRole.Window).name()


def test_theme_palettes_apply_and_system_restores(qtbot, dialog) -> None:
    system_colour = _window_colour()
    system_style = QApplication.style().name()
    go_to(qtbot, dialog, "Theme")
    page = dialog.theme_page
    assert page.radios["system"].isChecked()

    click(qtbot, page.radios["dark"])
    click(qtbot, dialog.apply_button)
    assert _window_colour() == dark_palette().color(QPalette.ColorRole.Window).name()
    assert QApplication.palette().color(QPalette.ColorRole.Text).lightness() > 200
    assert QApplication.style().name().lower() == "fusion"
    qtbot.waitUntil(
        lambda: dialog.palette().color(QPalette.ColorRole.Window).name() == "#2b2d30"
    )
    assert preferences.saved_theme() == "dark"

    click(qtbot, page.radios["light"])
    click(qtbot, dialog.ok_button)
    assert not dialog.isVisible()
    assert _window_colour() == light_palette().color(QPalette.ColorRole.Window).name()
    assert preferences.saved_theme() == "light"

    again = SettingsDialog(dialog.ctx)
    qtbot.addWidget(again)
    assert again.theme_page.radios["light"].isChecked()
    again.theme_page.radios["system"].setChecked(True)
    assert again.apply()
    assert _window_colour() == system_colour
    assert QApplication.style().name() == system_style
    assert preferences.saved_theme() == "system"


def test_the_saved_theme_is_applied_at_start(qapp, restore_app) -> None:
    preferences.set_saved_theme("dark")
    assert preferences.apply_startup_theme(qapp) == "dark"
    assert _window_colour() == "#2b2d30"


# --------------------------------------------------------------------------- mail server


def _fill_smtp(qtbot, dialog: SettingsDialog, port: int) -> None:
    page = dialog.smtp_page
    retype(qtbot, page.host_edit, "127.0.0.1")
    page.security_combo.setCurrentIndex(page.security_combo.findData("none"))
    retype(qtbot, page.port_spin.lineEdit(), str(port))
    retype(qtbot, page.from_edit, SENDER)


def test_a_test_email_reaches_the_server_without_saving(qtbot, dialog, smtp_server) -> None:
    port, handler = smtp_server.port, smtp_server.handler
    go_to(qtbot, dialog, "Mail server")
    page = dialog.smtp_page
    _fill_smtp(qtbot, dialog, port)
    retype(qtbot, page.test_address, "ops@billing-desk.example")
    click(qtbot, page.test_button)
    assert page.test_task is not None
    qtbot.waitUntil(lambda: page.test_task is None, timeout=20_000)

    assert page.test_result.text() == (
        "The test email was sent to ops@billing-desk.example. Check that it arrived."
    )
    assert page.test_result.kind == "success"
    assert len(handler.envelopes) == 1
    msg = handler.messages[0]
    assert msg["Subject"] == "Billing Desktop test email"
    assert msg["From"] == SENDER
    assert f"127.0.0.1:{port}" in msg.get_content()
    assert load_smtp_settings(dialog.ctx).host == ""  # not saved until Apply/OK


def test_a_refused_test_email_shows_the_server_answer(qtbot, dialog, smtp_server) -> None:
    port, handler = smtp_server.port, smtp_server.handler
    go_to(qtbot, dialog, "Mail server")
    page = dialog.smtp_page
    _fill_smtp(qtbot, dialog, port)
    retype(qtbot, page.test_address, "refuse@billing-desk.example")
    QTest.keyClick(page.test_address, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.test_task is None, timeout=20_000)
    assert page.test_result.text() == (
        "The server refused the recipient refuse@billing-desk.example "
        "(550 5.1.1 No such user here)."
    )
    assert page.test_result.kind == "error"
    assert handler.envelopes == []


def test_a_test_email_to_a_server_that_is_down(qtbot, dialog) -> None:
    port = free_port()
    go_to(qtbot, dialog, "Mail server")
    page = dialog.smtp_page
    _fill_smtp(qtbot, dialog, port)
    retype(qtbot, page.test_address, "ops@billing-desk.example")
    click(qtbot, page.test_button)
    qtbot.waitUntil(lambda: page.test_task is None, timeout=20_000)
    assert page.test_result.text() == (
        f"Nothing answers at 127.0.0.1:{port}. Check that the mail server is running and "
        "that the server name and port are right."
    )


def test_smtp_settings_are_saved_and_bad_ones_are_shown_inline(qtbot, dialog) -> None:
    go_to(qtbot, dialog, "Mail server")
    page = dialog.smtp_page
    retype(qtbot, page.host_edit, "smtp.billing-desk.example")
    retype(qtbot, page.from_edit, "nobody")
    retype(qtbot, page.user_edit, "billing")
    retype(qtbot, page.password_edit, "s3cret")
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()  # refused: the dialog stays, on the page, saying why
    assert dialog.current_page() is page
    error = page.errors["from_address"]
    assert error.isVisible()
    assert error.text() == "The sender address nobody is not a valid email address."
    assert page.from_edit.hasFocus()
    assert load_smtp_settings(dialog.ctx).host == ""

    retype(qtbot, page.from_edit, SENDER)
    assert not error.isVisible()
    page.security_combo.setCurrentIndex(page.security_combo.findData("ssl"))
    assert page.port_spin.value() == 465  # the usual port follows the security
    click(qtbot, dialog.ok_button)
    assert not dialog.isVisible()
    saved = load_smtp_settings(dialog.ctx)
    assert (saved.host, saved.port, saved.security, saved.username, saved.password) == (
        "smtp.billing-desk.example", 465, SmtpSecurity.SSL, "billing", "s3cret",
    )
    assert saved.from_address == SENDER


def test_a_viewer_cannot_change_the_mail_server(qtbot, as_role, restore_app) -> None:
    dialog = SettingsDialog(as_role("viewer"))
    qtbot.addWidget(dialog)
    dialog.show()
    page = dialog.smtp_page
    assert not page.host_edit.isEnabled()
    assert not page.test_button.isEnabled()
    assert not page.note.isHidden()
    assert not page.is_dirty()


# --------------------------------------------------------------------------- database


def test_database_locations_are_checked_before_they_are_used(qtbot, dialog, tmp_path) -> None:
    go_to(qtbot, dialog, "Database")
    page = dialog.database_page
    assert page.current_value.text() == str(dialog.ctx.db.target.path)
    assert page.file_radio.isChecked()
    requests: list[str] = []
    dialog.database_change_requested.connect(requests.append)

    click(qtbot, page.server_radio)
    for url, message in [
        ("mysql://user@db.example/billing",
         "mysql databases are not supported. Use an SQLite file or a PostgreSQL server "
         "(postgresql://…)."),
        ("postgresql:///billing", "The URL needs a server name after //."),
        ("postgresql://db.example", "The URL needs a database name after the server (/database)."),
        ("postgresql://user:pw@db.example:notaport/billing",
         "This is not a database URL. Write it as "
         "postgresql://user:password@server:5432/database."),
    ]:
        retype(qtbot, page.url_edit, url)
        assert page.error.text() == message, url
        assert page.error.isVisible()
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert requests == []
    assert preferences.saved_database() is None

    click(qtbot, page.file_radio)
    retype(qtbot, page.file_edit, str(tmp_path / "missing" / "x.sqlite3"))
    assert page.error.text() == f"The folder {tmp_path / 'missing'} does not exist."
    retype(qtbot, page.file_edit, "relative.sqlite3")
    assert page.error.text() == "Enter the full path of the database file, not relative.sqlite3."

    click(qtbot, page.server_radio)
    retype(qtbot, page.url_edit, "postgresql+psycopg://billing:pw@db.example:5432/billing")
    assert not page.error.isVisible()
    click(qtbot, dialog.ok_button)
    assert not dialog.isVisible()
    assert requests == ["postgresql+psycopg://billing:pw@db.example:5432/billing"]
    assert preferences.saved_database() == requests[0]
    target = preferences.startup_database(None)
    assert target.server_url == requests[0]
    # --db on the command line still wins
    assert preferences.startup_database(str(tmp_path / "cli.sqlite3")).path == (
        tmp_path / "cli.sqlite3"
    )


def test_another_sqlite_file_is_requested_and_remembered(qtbot, dialog, tmp_path) -> None:
    go_to(qtbot, dialog, "Database")
    page = dialog.database_page
    new_file = tmp_path / "other.sqlite3"
    retype(qtbot, page.file_edit, str(new_file))
    assert not page.error.isVisible()
    with qtbot.waitSignal(dialog.database_change_requested) as blocker:
        click(qtbot, dialog.apply_button)
    assert blocker.args == [str(new_file)]
    assert page.current_value.text() == str(new_file)
    assert preferences.startup_database(None).path == new_file
    assert not dialog.apply_button.isEnabled()


# --------------------------------------------------------------------------- operator


def test_the_operator_identity_is_saved(qtbot, dialog) -> None:
    ctx = dialog.ctx
    go_to(qtbot, dialog, "Operator")
    page = dialog.operator_page
    assert page.name_edit.text() == ctx.operator.name
    assert page.role_value.text() == "Administrator"

    retype(qtbot, page.email_edit, "not an email")
    click(qtbot, dialog.apply_button)
    assert page.email_error.text() == "not an email is not a valid email address."
    assert page.email_edit.hasFocus()

    retype(qtbot, page.name_edit, "Giulia Bianchi")
    retype(qtbot, page.email_edit, "giulia.bianchi@billing-desk.example")
    with qtbot.waitSignal(dialog.operator_changed) as blocker:
        click(qtbot, dialog.ok_button)
    assert not dialog.isVisible()
    info = blocker.args[0]
    assert (info.id, info.name, info.email) == (
        ctx.operator.id, "Giulia Bianchi", "giulia.bianchi@billing-desk.example",
    )
    assert ctx.db.reader.rows(
        "SELECT name, email FROM operators WHERE id = :i", {"i": ctx.operator.id}
    ) == [("Giulia Bianchi", "giulia.bianchi@billing-desk.example")]
    assert dialog.ctx.operator == info
    assert local_operator(ctx.db) == info  # and at the next start


def test_cancel_forgets_what_was_not_applied(qtbot, dialog) -> None:
    ctx = dialog.ctx
    go_to(qtbot, dialog, "Operator")
    retype(qtbot, dialog.operator_page.name_edit, "Somebody Else")
    assert dialog.apply_button.isEnabled()
    click(qtbot, dialog.cancel_button)
    assert not dialog.isVisible()
    assert ctx.db.reader.scalar(
        "SELECT name FROM operators WHERE id = :i", {"i": ctx.operator.id}
    ) == ctx.operator.name


def test_pages_are_reachable_by_keyboard(qtbot, dialog) -> None:
    assert dialog.current_page() is dialog.language_page
    QTest.keyClick(dialog, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert dialog.current_page() is dialog.database_page
    QTest.keyClick(dialog, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(dialog, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert dialog.current_page() is dialog.operator_page
    # every field has a mnemonic on its label
    for label in dialog.smtp_page.labels.values():
        assert "&" in label.text() and label.buddy() is not None
