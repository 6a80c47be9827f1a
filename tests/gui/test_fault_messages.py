"""The fault matrix in the widgets (issue 9, item 2): the user reads one clear message
in a real message box or banner, keeps what they typed, the window keeps working, and
the same click succeeds once the fault is gone. The service-level matrix with the
table of every fault is ``tests/faults/test_fault_matrix.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from faults.support import (
    DiskLimit,
    QueryOnly,
    SilentSmtpServer,
    checkpoint,
    moved_away,
    needs_wiring,
    short_busy_timeout,
    ui_language,
    unwritable,
    write_lock_held_by_another_process,
)
from helpers import SENDER, account_id, answered_message_boxes, dump, shown_child, smtp_settings
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from billing_desktop.config import target_from
from billing_desktop.services.smtp import save_smtp_settings
from billing_desktop.store.database import open_database
from billing_desktop.ui.account.invoices import DisputeDialog, InvoicesTab
from billing_desktop.ui.account.page import AccountPage

ACCOUNT = "A-100005"
INVOICE = "INV-2026-000065"  # open, disputable until 2026-05-06, selected first


def _city(db) -> str:
    return db.reader.scalar("SELECT city FROM accounts WHERE account_number = :n", {"n": ACCOUNT})


def _click(qtbot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


# =========================================================================== the database


@needs_wiring
def test_disk_full_while_noting_a_dispute_keeps_the_note_and_saves_it_later(
    qtbot, demo_ctx
) -> None:
    db = demo_ctx.db
    tab = InvoicesTab(demo_ctx, account_id(db, ACCOUNT))
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    assert tab.current_invoice().number == INVOICE
    note = "Two licences were never used. " * 40
    before = dump(db)
    with DiskLimit(db) as disk:
        disk.full = True
        _click(qtbot, tab.dispute_button)
        dialog = shown_child(qtbot, tab, DisputeDialog)
        dialog.note_edit.setPlainText(note[:-30])
        qtbot.keyClicks(dialog.note_edit, note[-30:])
        with answered_message_boxes() as texts:
            _click(qtbot, dialog.ok_button)
            qtbot.waitUntil(lambda: bool(texts))
        assert texts == [
            f"The disk holding the database {db.target.path} is full, so nothing was saved. "
            "Free some disk space and try again."
        ]
        assert dump(db) == before
        assert tab.status_label.text() == ""

        disk.full = False  # space was freed: the same note goes through
        _click(qtbot, tab.dispute_button)
        again = shown_child(qtbot, tab, DisputeDialog)
        assert again.note() == note  # nothing the user typed was lost
        with qtbot.waitSignal(tab.account_changed):
            _click(qtbot, again.ok_button)
    assert tab.status_label.text() == f"The dispute was noted on invoice {INVOICE}."
    assert db.reader.scalar(
        "SELECT dispute_note FROM invoices WHERE number = :n", {"n": INVOICE}
    ) == note.strip()


@contextmanager
def _locked(demo_ctx, monkeypatch) -> Iterator[None]:
    short_busy_timeout(monkeypatch, demo_ctx.db)
    with write_lock_held_by_another_process(demo_ctx.db.target.path):
        yield


@contextmanager
def _read_only(demo_ctx, _monkeypatch) -> Iterator[None]:
    with QueryOnly(demo_ctx.db) as query_only:
        query_only.on = True
        yield
        query_only.on = False


@contextmanager
def _moved_away(demo_ctx, _monkeypatch) -> Iterator[None]:
    checkpoint(demo_ctx.db.target.path)
    with moved_away(demo_ctx.db.target.path):
        yield


@needs_wiring
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (_locked, "The database {path} is locked by another program; close it and try again."),
        (_read_only, "The database {path} is read-only; copy it to a writable folder or fix "
         "its permissions."),
        (_moved_away, "The database file {path} cannot be found: it was moved or deleted, or "
         "its drive is not connected. Nothing was changed; put the file back and try again."),
    ],
    ids=["locked", "read-only", "missing"],
)  # fmt: skip
def test_a_database_fault_while_saving_the_overview_keeps_the_edit(
    qtbot, demo_ctx, monkeypatch, fault, message: str
) -> None:
    db = demo_ctx.db
    page = AccountPage(demo_ctx, account_id(db, ACCOUNT))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    tab = page.overview_tab
    city = tab.edits["city"]
    city.setFocus()
    city.selectAll()
    qtbot.keyClicks(city, "Amersfoort")
    with fault(demo_ctx, monkeypatch), answered_message_boxes() as texts:
        _click(qtbot, tab.save_button)
        qtbot.waitUntil(lambda: bool(texts))
    assert texts == [message.format(path=db.target.path)]
    assert city.text() == "Amersfoort" and tab.save_button.isEnabled()  # the edit is kept
    assert _city(db) == "Utrecht"

    _click(qtbot, tab.save_button)  # the fault is gone: the same click saves
    assert _city(db) == "Amersfoort"
    assert not tab.save_button.isEnabled()


@needs_wiring
def test_the_locked_message_in_italian(qtbot, qapp, demo_ctx, monkeypatch, shipped_qm) -> None:
    db = demo_ctx.db
    with ui_language(qapp, shipped_qm, "it"):
        page = AccountPage(demo_ctx, account_id(db, ACCOUNT))
        qtbot.addWidget(page)
        page.show()
        qtbot.waitExposed(page)
        tab = page.overview_tab
        tab.edits["city"].setFocus()
        tab.edits["city"].selectAll()
        qtbot.keyClicks(tab.edits["city"], "Amersfoort")
        with _locked(demo_ctx, monkeypatch), answered_message_boxes() as texts:
            _click(qtbot, tab.save_button)
            qtbot.waitUntil(lambda: bool(texts))
        assert texts == [
            f"Il database {db.target.path} è bloccato da un altro programma: chiuda il "
            "programma e riprovi."
        ]
        _click(qtbot, tab.save_button)
        assert _city(db) == "Amersfoort"


# -- opening -------------------------------------------------------------------------


@pytest.fixture
def session(qtbot):
    from billing_desktop.app import GuiSession

    gui = GuiSession()
    yield gui
    if gui.window is not None:
        gui.window.close()
    gui.close()


def test_opening_faults_are_explained_in_italian_then_the_database_opens(
    qtbot, qapp, session, db_path: Path, shipped_qm
) -> None:
    """A read-only file and a schema of a newer release: one message box each, in the
    user's language, no window on a database that cannot be used; fixed, it opens."""
    import sqlite3

    open_database(target_from(str(db_path))).dispose()
    checkpoint(db_path)
    target = target_from(str(db_path))
    with ui_language(qapp, shipped_qm, "it"):
        with unwritable(db_path), answered_message_boxes() as texts:
            assert session.open(target) is False
        assert texts == [
            f"Il database {db_path} è di sola lettura: lo copi in una cartella scrivibile "
            "o ne corregga i permessi."
        ]
        con = sqlite3.connect(db_path)
        with con:
            con.execute("UPDATE alembic_version SET version_num = '0099_later_release'")
        con.close()
        with answered_message_boxes() as texts:
            assert session.open(target) is False
        assert len(texts) == 1 and texts[0].startswith(
            f"Il database {db_path} è stato creato da una versione più recente di Billing "
            "Desktop (schema 0099_later_release)"
        )
        assert session.window is None
        from billing_desktop.store.database import HEAD_REVISION

        con = sqlite3.connect(db_path)
        with con:
            con.execute("UPDATE alembic_version SET version_num = ?", (HEAD_REVISION,))
        con.close()
        assert session.open(target) is True  # the fault is gone: the window opens
        qtbot.addWidget(session.window)
        assert session.window.isVisible()


# =========================================================================== SMTP


def test_a_slow_mail_server_times_out_in_the_background_and_nothing_is_lost(
    qtbot, demo_ctx, smtp_server
) -> None:
    """Send pending now against a server that never answers: the window stays usable
    (the delivery runs in a worker), the banner says the server did not answer, every
    email stays in the outbox; with a server that answers, Retry now sends them."""
    from billing_desktop.services.mail import EmailKind, queue_email
    from billing_desktop.store.models import Account
    from billing_desktop.ui.views.emails_view import EmailsView

    with demo_ctx.db.transaction() as s:
        account = s.get(Account, account_id(demo_ctx.db, ACCOUNT))
        queue_email(s, demo_ctx, account, EmailKind.CANCELLATION_CONFIRMED, {
            "product": "GoTo Meeting", "expiry_date": demo_ctx.clock.today(),
        })  # fmt: skip
    view = EmailsView(demo_ctx)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    qtbot.waitExposed(view)
    with SilentSmtpServer() as silent:
        save_smtp_settings(demo_ctx, smtp_settings(silent.port, timeout=2))
        _click(qtbot, view.send_button)
        assert view.delivery_task is not None
        QTest.keyClick(view.table, Qt.Key.Key_Down)  # the window still takes input
        qtbot.waitUntil(lambda: view.delivery_task is None, timeout=20_000)
    assert view.banner_text() == (
        "The mail server could not be used, so 1 email(s) stay in the outbox and will be "
        f"tried again later. The server said: The server 127.0.0.1:{silent.port} did not "
        "answer within 2 seconds."
    )
    assert demo_ctx.db.reader.rows("SELECT status FROM emails") == [("failed",)]

    save_smtp_settings(demo_ctx, smtp_settings(smtp_server.port))
    view.table.selectAll()
    _click(qtbot, view.retry_button)
    qtbot.waitUntil(lambda: view.delivery_task is None, timeout=20_000)
    assert view.banner_text() == "1 email(s) sent."
    assert len(smtp_server.handler.envelopes) == 1


def test_the_test_email_to_a_silent_server_says_so_in_italian(
    qtbot, qapp, ctx, smtp_server, shipped_qm
) -> None:
    from billing_desktop.ui.dialogs.settings_dialog import SettingsDialog

    def retype(edit, text: str) -> None:
        edit.setFocus()
        edit.selectAll()
        QTest.keyClick(edit, Qt.Key.Key_Delete)
        qtbot.keyClicks(edit, text)

    with ui_language(qapp, shipped_qm, "it"), SilentSmtpServer() as silent:
        dialog = SettingsDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        page = dialog.smtp_page
        item = dialog.page_list.item(dialog.pages.index(page))
        qtbot.mouseClick(
            dialog.page_list.viewport(), Qt.MouseButton.LeftButton,
            pos=dialog.page_list.visualItemRect(item).center(),
        )  # fmt: skip
        assert dialog.current_page() is page
        retype(page.host_edit, "127.0.0.1")
        page.security_combo.setCurrentIndex(page.security_combo.findData("none"))
        retype(page.port_spin.lineEdit(), str(silent.port))
        retype(page.timeout_spin.lineEdit(), "2")
        retype(page.from_edit, SENDER)
        retype(page.test_address, "ops@billing-desk.example")
        _click(qtbot, page.test_button)
        qtbot.waitUntil(lambda: page.test_task is None, timeout=20_000)
        assert page.test_result.text() == (
            f"Il server 127.0.0.1:{silent.port} non ha risposto entro 2 secondi."
        )
        assert page.test_result.kind == "error"

        retype(page.port_spin.lineEdit(), str(smtp_server.port))  # a server that answers
        _click(qtbot, page.test_button)
        qtbot.waitUntil(lambda: page.test_task is None, timeout=20_000)
        assert page.test_result.kind == "success"
        assert len(smtp_server.handler.envelopes) == 1


# =========================================================================== the PDF


def test_saving_a_pdf_into_a_folder_that_is_not_writable(
    qtbot, demo_ctx, monkeypatch, tmp_path: Path
) -> None:
    locked_folder, good_folder = tmp_path / "locked", tmp_path / "good"
    locked_folder.mkdir()
    good_folder.mkdir()
    answers = [str(locked_folder / "invoice.pdf"), str(good_folder / "invoice.pdf")]
    offered: list[str] = []

    def ask(_parent, _title, suggested, filters):
        offered.append(str(Path(suggested).parent))
        return answers.pop(0), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    tab = InvoicesTab(demo_ctx, account_id(demo_ctx.db, ACCOUNT))
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    with unwritable(locked_folder):
        _click(qtbot, tab.save_pdf_button)
        qtbot.waitUntil(lambda: not tab.busy, timeout=20_000)
        box = shown_child(qtbot, tab, QMessageBox, "pdfSaveError")
        message = (
            f"Invoice {INVOICE} was not saved: the folder {locked_folder} is not writable. "
            "Choose another folder and save again."
        )
        assert box.text() == message
        assert tab.status_label.text() == message
        assert list(locked_folder.iterdir()) == []  # not even a part file
        box.button(QMessageBox.StandardButton.Ok).click()
    assert QSettings().value("invoices/save_dir") is None  # the failed folder is not kept

    assert tab.save_pdf_button.isEnabled()  # the tab keeps working: save elsewhere
    _click(qtbot, tab.save_pdf_button)
    qtbot.waitUntil(lambda: not tab.busy, timeout=20_000)
    saved = good_folder / "invoice.pdf"
    assert saved.read_bytes().startswith(b"%PDF")
    assert tab.status_label.text() == f"Invoice {INVOICE} was saved to {saved}."
    assert QSettings().value("invoices/save_dir") == str(good_folder)
    assert len(offered) == 2
