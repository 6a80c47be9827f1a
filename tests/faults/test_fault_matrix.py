"""The fault matrix (issue 9, item 2): every fault the user can meet, its message, and
the recovery once the fault is gone — at the service level, on a real SQLite file,
real sockets and a real SMTP server. The same faults in the widgets:
``tests/gui/test_fault_messages.py``.

==================  ======================================  ==============================
Fault               Message (``code``; "…" = see the test)  Recovery proven here
==================  ======================================  ==============================
DB file missing     ``missing``: "The database file …       file put back → the same write
(opening without    cannot be found: it was moved or        succeeds; nothing was written
create; vanished    deleted, or its drive is not            into the file while it was
mid-session)        connected. Nothing was changed; put     away
                    the file back and try again."
DB locked by        ``locked``: "The database … is locked   the other process ends its
another process     by another program; close it and try    transaction → the same call
beyond the busy     again." (+ Italian)                     succeeds; data unchanged
timeout
DB read-only        ``read_only``: "The database … is       permissions restored → opens,
(opening; a write   read-only; copy it to a writable        writes succeed (+ Italian)
mid-session)        folder or fix its permissions."
DB corrupt          ``corrupt``: "The file … is not a       backup copied back → opens
                    valid Billing Desktop database or is    with its rows; the damaged
                    damaged; it was left untouched."        file was not modified
                    (+ Italian)
Disk full           ``disk_full``: "The disk holding the    limit raised → the same
(max_page_count)    database … is full, so nothing was      dispute is saved; nothing
                    saved. Free some disk space and try     changed before
                    again."
Schema newer than   ``newer_schema``: "… was created by a   app "updated" → opens; the
the application     newer version of Billing Desktop …;     file was not modified
                    update the application …" (+ Italian)
SMTP server down    ``smtp_connection_refused``: "Nothing   server started → Retry now
                    answers at host:port. Check that the    sends every email (none lost)
                    mail server is running …" (+ Italian),  and the test email arrives
                    in the outbox too
SMTP refusing       ``smtp_refused``: "The server …         a server that accepts → the
(554 greeting,      answered 554 …" /                       failed emails are sent
535 login)          ``smtp_login_refused``: "… refused
                    the user name or password …"
SMTP slow           ``smtp_timeout``: "The server … did     a server that answers → sent
(never answers)     not answer within N seconds."
                    (+ Italian; smtplib said "closed the
                    connection")
PDF folder not      "Invoice … was not saved: the folder …  another folder → saved; no
writable            is not writable. Choose another folder  ``.part`` file left behind
                    and save again." (GUI test)
==================  ======================================  ==============================

Faults during a session (disk full, locked, read-only, vanished file) need
``store/database.py`` to wrap its transactions in ``errors.translated_errors``;
until it does those tests are expected failures (``support.needs_wiring``).
Opening faults reuse what ``tests/store/test_database.py`` proves (file
untouched) and add the translated text and the recovery.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from faults.support import (
    DiskLimit,
    LoginRefusingSmtpServer,
    QueryOnly,
    RefusingSmtpServer,
    SilentSmtpServer,
    checkpoint,
    moved_away,
    needs_wiring,
    short_busy_timeout,
    ui_language,
    unwritable,
    write_lock_held_by_another_process,
)
from helpers import dump, smtp_settings

from billing_desktop.config import target_from
from billing_desktop.services.accounts import AccountChanges, account_overview, update_account
from billing_desktop.services.invoices import dispute_invoice
from billing_desktop.services.smtp import deliver_outbox, outbox, retry_now, save_smtp_settings
from billing_desktop.services.smtp_check import SmtpFailure, send_test_email
from billing_desktop.services.smtp_errors import last_error_text
from billing_desktop.store import errors
from billing_desktop.store.database import HEAD_REVISION, open_database

ACCOUNT = "A-100005"
#: open on 2026-04-26 and disputable until 2026-05-06 (curated demo data)
INVOICE = "INV-2026-000065"


def _invoice_id(db) -> int:
    return int(db.reader.scalar("SELECT id FROM invoices WHERE number = :n", {"n": INVOICE}))


def _rename_city(ctx, city: str):
    ov = account_overview(ctx, ACCOUNT)
    return update_account(ctx, ov.id, AccountChanges(city=city), expected_version=ov.version)


def _italian(qapp, shipped_qm: Path, err: Exception) -> str:
    from billing_desktop.ui.errors import error_text

    with ui_language(qapp, shipped_qm, "it"):
        return error_text(err)


# =========================================================================== the database


# -- missing -------------------------------------------------------------------------


@needs_wiring
def test_missing_file_is_named_when_it_must_exist(db_path: Path) -> None:
    """``billing-desktop renew`` opens without creating: a missing file is said to be missing."""
    open_database(target_from(str(db_path))).dispose()
    with moved_away(db_path), pytest.raises(errors.MissingDatabase) as info:
        open_database(target_from(str(db_path)), create=False)
    assert str(info.value) == (
        f"The database file {db_path} cannot be found: it was moved or deleted, or its drive "
        "is not connected. Nothing was changed; put the file back and try again."
    )
    open_database(target_from(str(db_path)), create=False).dispose()  # back: it opens


@needs_wiring
def test_file_vanishing_during_a_session_refuses_the_write(demo_ctx, db_path: Path) -> None:
    """SQLite in WAL mode would write into the moved (or deleted) file through the open
    connection, and the change would be lost with it: the write is refused instead."""
    db = demo_ctx.db
    _rename_city(demo_ctx, "Milano")  # the write path is open and pooled
    checkpoint(db_path)
    before = dump(db)
    with moved_away(db_path) as away:
        digest = away.read_bytes()
        with pytest.raises(errors.MissingDatabase) as info:
            _rename_city(demo_ctx, "Torino")
        assert info.value.params["path"] == str(db_path)
        assert away.read_bytes() == digest  # nothing was written into the lost file
    assert dump(db) == before
    _rename_city(demo_ctx, "Torino")  # the file is back: the same action succeeds
    assert account_overview(demo_ctx, ACCOUNT).city == "Torino"


# -- locked --------------------------------------------------------------------------


@needs_wiring
def test_lock_held_by_another_process_beyond_the_busy_timeout(
    demo_ctx, db_path: Path, monkeypatch, qapp, shipped_qm: Path
) -> None:
    db = demo_ctx.db
    short_busy_timeout(monkeypatch, db)
    before = dump(db)
    with write_lock_held_by_another_process(db_path):
        with pytest.raises(errors.DatabaseLocked) as info:
            _rename_city(demo_ctx, "Torino")
        assert str(info.value) == (
            f"The database {db_path} is locked by another program; close it and try again."
        )
        assert _italian(qapp, shipped_qm, info.value) == (
            f"Il database {db_path} è bloccato da un altro programma: chiuda il programma "
            "e riprovi."
        )
    assert dump(db) == before
    assert _rename_city(demo_ctx, "Torino").city == "Torino"  # the lock is gone: retry works


# -- read-only -----------------------------------------------------------------------


def test_read_only_file_is_refused_at_opening_then_opens(
    db_path: Path, qapp, shipped_qm: Path
) -> None:
    open_database(target_from(str(db_path))).dispose()
    checkpoint(db_path)
    data = db_path.read_bytes()
    with unwritable(db_path):
        with pytest.raises(errors.ReadOnlyDatabase) as info:
            open_database(target_from(str(db_path)))
        assert str(info.value) == (
            f"The database {db_path} is read-only; copy it to a writable folder or fix "
            "its permissions."
        )
        assert _italian(qapp, shipped_qm, info.value) == (
            f"Il database {db_path} è di sola lettura: lo copi in una cartella scrivibile "
            "o ne corregga i permessi."
        )
    assert db_path.read_bytes() == data
    db = open_database(target_from(str(db_path)))  # permissions fixed: it opens and writes
    try:
        from billing_desktop.services.context import open_context

        assert open_context(db).operator.role == "admin"
    finally:
        db.dispose()


@needs_wiring
def test_write_refused_by_a_read_only_database_during_a_session(demo_ctx) -> None:
    db = demo_ctx.db
    before = dump(db)
    with QueryOnly(db) as read_only:
        read_only.on = True
        with pytest.raises(errors.ReadOnlyDatabase) as info:
            _rename_city(demo_ctx, "Torino")
        assert info.value.code == "read_only"
        assert dump(db) == before
        read_only.on = False
        assert _rename_city(demo_ctx, "Torino").city == "Torino"


# -- corrupt -------------------------------------------------------------------------


def test_corrupt_file_is_refused_untouched_and_its_backup_opens(
    db_path: Path, make_account, qapp, shipped_qm: Path
) -> None:
    make_account("Jansen B.V.")
    checkpoint(db_path)
    backup = db_path.with_name("backup.sqlite3")
    shutil.copyfile(db_path, backup)
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # a damaged schema page
    db_path.write_bytes(bytes(data))
    with pytest.raises(errors.CorruptDatabase) as info:
        open_database(target_from(str(db_path)))
    assert _italian(qapp, shipped_qm, info.value) == (
        f"Il file {db_path} non è un database di Billing Desktop valido o è danneggiato; "
        "non è stato modificato."
    )
    assert db_path.read_bytes() == bytes(data)
    shutil.copyfile(backup, db_path)  # the user restores the backup
    db = open_database(target_from(str(db_path)))
    try:
        assert db.reader.scalar("SELECT company_name FROM accounts") == "Jansen B.V."
    finally:
        db.dispose()


# -- disk full -----------------------------------------------------------------------


@needs_wiring
def test_disk_full_leaves_the_data_unchanged_and_a_retry_succeeds(demo_ctx) -> None:
    db = demo_ctx.db
    invoice = _invoice_id(db)
    note = "Il cliente contesta le licenze fatturate. " * 45  # 1 890 characters
    before = dump(db)
    with DiskLimit(db) as disk:
        disk.full = True
        with pytest.raises(errors.DiskFull) as info:
            dispute_invoice(demo_ctx, invoice, note)
        assert str(info.value) == (
            f"The disk holding the database {db.target.path} is full, so nothing was saved. "
            "Free some disk space and try again."
        )
        assert dump(db) == before
        disk.full = False  # space freed
        detail = dispute_invoice(demo_ctx, invoice, note)
    assert detail.disputed_at is not None
    assert db.reader.scalar(
        "SELECT dispute_note FROM invoices WHERE id = :i", {"i": invoice}
    ) == note.strip()


# -- newer schema --------------------------------------------------------------------


def test_newer_schema_is_refused_and_opens_once_the_application_is_current(
    db_path: Path, qapp, shipped_qm: Path
) -> None:
    open_database(target_from(str(db_path))).dispose()

    def set_revision(revision: str) -> None:
        con = sqlite3.connect(db_path)
        with con:
            con.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        con.close()
        checkpoint(db_path)

    set_revision("9999_from_the_future")
    data = db_path.read_bytes()
    with pytest.raises(errors.NewerSchema) as info:
        open_database(target_from(str(db_path)))
    assert _italian(qapp, shipped_qm, info.value).startswith(
        f"Il database {db_path} è stato creato da una versione più recente di Billing "
        "Desktop (schema 9999_from_the_future)"
    )
    assert db_path.read_bytes() == data
    set_revision(HEAD_REVISION)  # as if this application knew the revision now
    open_database(target_from(str(db_path))).dispose()


# -- how driver errors read ----------------------------------------------------------


@pytest.mark.parametrize(
    ("driver_error", "expected"),
    [
        (sqlite3.OperationalError("database or disk is full"), errors.DiskFull),
        (sqlite3.OperationalError("database is locked"), errors.DatabaseLocked),
        (sqlite3.OperationalError("attempt to write a readonly database"),
         errors.ReadOnlyDatabase),
        (sqlite3.OperationalError("unable to open database file"), errors.MissingDatabase),
        (sqlite3.DatabaseError("database disk image is malformed"), errors.CorruptDatabase),
        (sqlite3.DatabaseError("file is not a database"), errors.CorruptDatabase),
        (sqlite3.OperationalError("disk I/O error"), errors.DiskIOError),
        (sqlite3.IntegrityError("UNIQUE constraint failed: accounts.account_number"), None),
        (sqlite3.OperationalError("no such column: nonsense"), None),
        (ValueError("not a database error at all"), None),
    ],
)  # fmt: skip
def test_driver_errors_become_the_database_error_the_user_can_act_on(
    driver_error: Exception, expected: type | None
) -> None:
    """Faults of the file or the disk get their message; bugs (a constraint, an SQL
    mistake) stay errors for the crash handler and its log."""
    from sqlalchemy.exc import DBAPIError

    for exc in (driver_error, DBAPIError.instance("UPDATE x", {}, driver_error, Exception)):
        mapped = errors.from_driver_error("/data/billing.sqlite3", exc)
        assert type(mapped) is expected if expected else mapped is None
        if mapped is not None:
            assert mapped.params["path"] == "/data/billing.sqlite3"
            assert str(mapped) == mapped.message.format(**mapped.params)


def test_database_errors_are_domain_errors_that_survive_pickling() -> None:
    """The UI shows them like any refused action; a worker process can send them back."""
    import pickle

    from billing_desktop.domain.errors import DomainError

    err = errors.NewerSchema("/data/billing.sqlite3", revision="0099_x")
    assert isinstance(err, DomainError)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is errors.NewerSchema and copy.params == err.params
    assert str(copy) == str(err)


# =========================================================================== SMTP


@pytest.fixture
def queued(ctx, make_account) -> list[int]:
    """Two emails waiting in the outbox."""
    from billing_desktop.services.mail import EmailKind, queue_email
    from billing_desktop.store.models import Account, Contact

    account_id = make_account("Müller GmbH", country="DE", language="de")
    with ctx.db.transaction() as s:
        account = s.get(Account, account_id)
        s.add(Contact(
            account_id=account_id, first_name="Anna", last_name="Müller",
            email="anna@mueller.example", email_lower="anna@mueller.example",
            search_name="muller anna", roles="billing_admin", is_billing_contact=True,
        ))  # fmt: skip
        s.flush()
        s.refresh(account)
        params = {"product": "GoTo Meeting", "trial_end": ctx.clock.today()}
        ids = [
            queue_email(s, ctx, account, EmailKind.TRIAL_ENDED, params)
            for _ in range(2)
        ]
        s.flush()
        return [email.id for email in ids]


def _statuses(ctx) -> dict[int, tuple[str, str | None]]:
    return {e.id: (e.status, last_error_text(e.last_error) or None) for e in outbox(ctx)}


def _send_test(ctx, port: int, **changes) -> None:
    send_test_email(
        ctx, smtp_settings(port, **changes), "ops@billing-desk.example",
        subject="Test", body="Test\n",
    )  # fmt: skip


def _retry_and_deliver(ctx, ids: list[int]):
    retry_now(ctx, ids)
    return deliver_outbox(ctx)


def test_smtp_server_down_keeps_the_emails_then_sends_them(
    ctx, queued, smtp_server, qapp, shipped_qm: Path
) -> None:
    smtp_server.stop()
    save_smtp_settings(ctx, smtp_settings(smtp_server.port))
    summary = deliver_outbox(ctx)
    where = f"127.0.0.1:{smtp_server.port}"
    assert summary.error == (
        f"Nothing answers at {where}. Check that the mail server is running and that the "
        "server name and port are right."
    )
    assert _statuses(ctx) == dict.fromkeys(queued, ("failed", summary.error))
    with pytest.raises(SmtpFailure) as info:
        _send_test(ctx, smtp_server.port)
    assert _italian(qapp, shipped_qm, info.value) == (
        f"Nessuna risposta da {where}. Verifichi che il server di posta sia in esecuzione "
        "e che il nome del server e la porta siano corretti."
    )

    smtp_server.start()  # the server is back
    assert _retry_and_deliver(ctx, queued).sent == 2
    assert {status for status, _ in _statuses(ctx).values()} == {"sent"}
    assert len(smtp_server.handler.envelopes) == 2
    _send_test(ctx, smtp_server.port)
    assert len(smtp_server.handler.envelopes) == 3


def test_smtp_server_refusing_the_connection_then_a_server_that_accepts(
    ctx, queued, smtp_server
) -> None:
    with RefusingSmtpServer("554 5.7.1 No SMTP service here") as refusing:
        save_smtp_settings(ctx, smtp_settings(refusing.port))
        summary = deliver_outbox(ctx)
        where = f"127.0.0.1:{refusing.port}"
        assert summary.error == f"The server {where} answered 554 5.7.1 No SMTP service here."
        assert summary.failed == 2
        with pytest.raises(SmtpFailure) as info:
            _send_test(ctx, refusing.port)
        assert info.value.code == "smtp_refused"
        assert str(info.value) == summary.error
    save_smtp_settings(ctx, smtp_settings(smtp_server.port))
    assert _retry_and_deliver(ctx, queued).sent == 2


def test_smtp_login_refused_then_accepted(ctx, queued, smtp_server) -> None:
    with LoginRefusingSmtpServer() as server:
        save_smtp_settings(ctx, smtp_settings(server.port, username="billing", password="x"))
        summary = deliver_outbox(ctx)
        assert summary.error is not None
        assert summary.error.startswith(
            f"The server 127.0.0.1:{server.port} refused the user name or password (535"
        )
        assert summary.failed == 2 and server.handler.envelopes == []
        with pytest.raises(SmtpFailure) as info:
            _send_test(ctx, server.port, username="billing", password="x")
        assert info.value.code == "smtp_login_refused"
    save_smtp_settings(ctx, smtp_settings(smtp_server.port))  # a relay without login
    assert _retry_and_deliver(ctx, queued).sent == 2


def test_slow_smtp_server_times_out_with_a_clear_message(
    ctx, queued, smtp_server, qapp, shipped_qm: Path
) -> None:
    """A server that accepts the connection and never answers: the client gives up after
    the timeout, saying so (smtplib calls it "Connection unexpectedly closed")."""
    with SilentSmtpServer() as silent:
        save_smtp_settings(ctx, smtp_settings(silent.port, timeout=2))
        summary = deliver_outbox(ctx)
        where = f"127.0.0.1:{silent.port}"
        assert summary.error == f"The server {where} did not answer within 2 seconds."
        assert _statuses(ctx) == dict.fromkeys(queued, ("failed", summary.error))
        with pytest.raises(SmtpFailure) as info:
            _send_test(ctx, silent.port, timeout=2)
        assert info.value.code == "smtp_timeout"
        assert _italian(qapp, shipped_qm, info.value) == (
            f"Il server {where} non ha risposto entro 2 secondi."
        )
    save_smtp_settings(ctx, smtp_settings(smtp_server.port))
    assert _retry_and_deliver(ctx, queued).sent == 2


def test_smtp_timeout_is_always_set() -> None:
    """Every connection is opened with a timeout: a hanging server never blocks forever."""
    from billing_desktop.services.smtp import SmtpSettings, validate_smtp_settings
    from billing_desktop.services.smtp_check import TEST_TIMEOUT_SECONDS

    assert SmtpSettings().timeout == 30
    assert TEST_TIMEOUT_SECONDS == 15
    with pytest.raises(Exception, match="timeout must be from 1 to 600"):
        validate_smtp_settings(SmtpSettings(timeout=0))


# =========================================================================== the PDF


def test_pdf_into_a_folder_that_is_not_writable_leaves_nothing_then_saves(
    qapp, demo_ctx, tmp_path: Path
) -> None:
    """The writing step of "Save PDF…" (the GUI test shows its message)."""
    from billing_desktop.documents.translation import translator_for
    from billing_desktop.services.documents_data import invoice_document
    from billing_desktop.ui.account.invoices import _write_pdf
    from billing_desktop.ui.workers import TaskProgress

    doc = invoice_document(demo_ctx, _invoice_id(demo_ctx.db))
    translator = translator_for(doc.language)
    progress = TaskProgress(lambda *_a: None)
    folder = tmp_path / "invoices"
    folder.mkdir()
    with unwritable(folder):
        with pytest.raises(PermissionError):
            _write_pdf(doc, translator, folder / "invoice.pdf", progress)
        assert list(folder.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        _write_pdf(doc, translator, tmp_path / "no such folder" / "invoice.pdf", progress)
    saved = _write_pdf(doc, translator, folder / "invoice.pdf", progress)
    assert saved.read_bytes().startswith(b"%PDF")
    assert [p.name for p in folder.iterdir()] == ["invoice.pdf"]
