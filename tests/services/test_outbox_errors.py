"""Why an email was not sent: stored as a key and its values, shown in the operator's language.

A delivery that fails stores the reason in ``emails.last_error`` in a form
the Emails view and the account's Emails tab translate when they show it, in
whatever language the application speaks then (``smtp_errors.last_error_text``);
a row written by an older version (plain English) still shows as it is, and
the account export writes the English sentence. A fault of the database
while a delivery reads the due emails is the usual translated message, and
nothing is sent.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from faults.support import LoginRefusingSmtpServer, SilentSmtpServer, checkpoint, ui_language
from helpers import SENDER, free_port, smtp_settings

from billing_desktop.services.export import export_account
from billing_desktop.services.mail import EmailKind, queue_email
from billing_desktop.services.smtp import deliver_outbox, outbox, retry_now, save_smtp_settings
from billing_desktop.services.smtp_check import smtp_failure
from billing_desktop.services.smtp_errors import (
    last_error_text,
    stored_error,
    stored_failure,
)
from billing_desktop.store import errors

ADDRESS = "anna.bianchi@rossi.example"
OLD_TEXT = "Cannot connect to smtp.example.test:587: Connection refused."
REFUSED = "refuse@rossi.example"


# --------------------------------------------------------------------------- data


@pytest.fixture
def account(ctx, make_account) -> tuple[int, str]:
    """An Italian account with a billing contact: (id, account number)."""
    from billing_desktop.store.models import Account, Contact

    acc_id = make_account("Rossi S.r.l.", language="it")
    with ctx.db.transaction() as session:
        acc = session.get(Account, acc_id)
        session.add(
            Contact(
                account=acc, first_name="Anna", last_name="Bianchi", email=ADDRESS,
                email_lower=ADDRESS, search_name="bianchi anna", roles="billing_admin",
                is_billing_contact=True,
            )
        )  # fmt: skip
        number = acc.account_number
    return acc_id, number


def queue(ctx, account_id: int, to: str | None = None) -> int:
    from billing_desktop.store.models import Account

    with ctx.db.transaction() as session:
        email = queue_email(
            session,
            ctx,
            session.get(Account, account_id),
            EmailKind.CANCELLATION_CONFIRMED,
            {"product": "GoTo Meeting", "expiry_date": ctx.clock.today()},
            to_address=to,
        )
        session.flush()
        return email.id


def last_errors(ctx) -> dict[int, str | None]:
    return dict(ctx.db.reader.rows("SELECT id, last_error FROM emails ORDER BY id"))


def shown(stored: str | None) -> str:
    """What the Emails view shows for ``stored`` in the application's language now."""
    from PySide6.QtCore import QCoreApplication

    return last_error_text(stored, QCoreApplication.translate)


@contextmanager
def italian(qapp, shipped_qm: Path) -> Iterator[None]:
    with ui_language(qapp, shipped_qm, "it"):
        yield


# --------------------------------------------------------------------------- the failures


@contextmanager
def timing_out(ctx, account_id: int) -> Iterator[tuple[str, str, str]]:
    with SilentSmtpServer() as silent:
        save_smtp_settings(ctx, smtp_settings(silent.port, timeout=2))
        server = f"127.0.0.1:{silent.port}"
        yield (
            "smtp_timeout",
            f"The server {server} did not answer within 2 seconds.",
            f"Il server {server} non ha risposto entro 2 secondi.",
        )


@contextmanager
def refusing_the_login(ctx, account_id: int) -> Iterator[tuple[str, str, str]]:
    with LoginRefusingSmtpServer() as refusing:
        save_smtp_settings(ctx, smtp_settings(refusing.port, username="billing", password="x"))
        server = f"127.0.0.1:{refusing.port}"
        reply = "535 5.7.8 Authentication credentials invalid"
        yield (
            "smtp_login_refused",
            f"The server {server} refused the user name or password ({reply}).",
            f"Il server {server} ha rifiutato il nome utente o la password ({reply}).",
        )


@contextmanager
def refusing_the_recipient(ctx, account_id: int) -> Iterator[tuple[str, str, str]]:
    from helpers import SmtpServer

    server = SmtpServer()  # refuses every address at refuse@…
    server.start()
    try:
        save_smtp_settings(ctx, smtp_settings(server.port))
        yield (
            "smtp_recipient_refused",
            f"The server refused the recipient {REFUSED} (550 5.1.1 No such user here).",
            f"Il server ha rifiutato il destinatario {REFUSED} (550 5.1.1 No such user here).",
        )
    finally:
        server.stop()


@contextmanager
def refusing_the_connection(ctx, account_id: int) -> Iterator[tuple[str, str, str]]:
    port = free_port()  # nothing listens there
    save_smtp_settings(ctx, smtp_settings(port))
    server = f"127.0.0.1:{port}"
    yield (
        "smtp_connection_refused",
        f"Nothing answers at {server}. Check that the mail server is running and that the "
        "server name and port are right.",
        f"Nessuna risposta da {server}. Verifichi che il server di posta sia in esecuzione e "
        "che il nome del server e la porta siano corretti.",
    )


FAILURES = {
    "timeout": timing_out,
    "login refused": refusing_the_login,
    "recipient refused": refusing_the_recipient,
    "connection refused": refusing_the_connection,
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_delivery_is_shown_in_the_language_of_the_moment(
    ctx, account, qapp, shipped_qm, failure: str
) -> None:
    account_id, _number = account
    email_id = queue(ctx, account_id, to=REFUSED if failure == "recipient refused" else None)
    with FAILURES[failure](ctx, account_id) as (key, english, italian_text):
        summary = deliver_outbox(ctx)
    assert (summary.sent, summary.failed) == (0, 1)

    stored = last_errors(ctx)[email_id]
    assert json.loads(stored)["key"] == key  # a key and values, not a sentence
    [row] = outbox(ctx, status="failed")
    assert row.last_error == stored
    assert shown(stored) == last_error_text(stored) == english
    with italian(qapp, shipped_qm):
        assert shown(row.last_error) == italian_text
    assert shown(stored) == english  # back in English: English again

    retry_now(ctx, [email_id])  # pending again: the reason is kept, still translatable
    with italian(qapp, shipped_qm):
        assert shown(last_errors(ctx)[email_id]) == italian_text


def test_a_server_level_failure_is_the_summary_of_the_run(ctx, account) -> None:
    account_id, _number = account
    first, second = queue(ctx, account_id), queue(ctx, account_id)
    with refusing_the_connection(ctx, account_id) as (key, english, _it):
        summary = deliver_outbox(ctx)
    assert summary.failure is not None and summary.failure.code == key
    assert summary.error == english
    stored = last_errors(ctx)
    assert stored[first] == stored[second] == stored_error(summary.failure)


def test_an_email_without_address_has_a_reason_too(ctx, make_account, smtp_server) -> None:
    """The one reason that is not the server's: no recipient address at all."""
    save_smtp_settings(ctx, smtp_settings(smtp_server.port))
    email_id = queue(ctx, make_account("No Contacts S.r.l."))  # no billing contact
    assert deliver_outbox(ctx).failed == 1
    stored = last_errors(ctx)[email_id]
    assert json.loads(stored)["key"] == "smtp_no_recipient"
    assert last_error_text(stored) == shown(stored) == "The email has no recipient address."


# --------------------------------------------------------------------------- older rows


def test_an_older_versions_plain_text_shows_as_it_is(ctx, account, qapp, shipped_qm) -> None:
    from billing_desktop.store.models import Email

    account_id, _number = account
    email_id = queue(ctx, account_id)
    with ctx.db.transaction() as session:
        email = session.get(Email, email_id)
        email.status, email.attempts, email.last_error = "failed", 1, OLD_TEXT
    [row] = outbox(ctx, status="failed")
    assert last_error_text(row.last_error) == shown(row.last_error) == OLD_TEXT
    with italian(qapp, shipped_qm):
        assert shown(row.last_error) == OLD_TEXT
    assert last_error_text(None) == last_error_text("") == ""


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("{not json", "{not json"),
        ('{"key": 3, "params": {}}', '{"key": 3, "params": {}}'),
        ('["smtp_timeout"]', '["smtp_timeout"]'),
        # a reason only a newer version knows: its English words
        ('{"key":"smtp_quota","params":{"n":1},"text":"Quota exceeded."}', "Quota exceeded."),
        ('{"key":"smtp_quota","params":{}}', "smtp_quota"),
    ],
)
def test_anything_else_in_last_error_is_shown_rather_than_lost(stored, expected) -> None:
    assert last_error_text(stored) == expected


def test_a_broken_translation_falls_back_to_english() -> None:
    failure = smtp_failure(ConnectionRefusedError(111, "refused"), smtp_settings(25))
    stored = stored_error(failure)
    assert stored_failure(stored) is not None
    assert last_error_text(stored, lambda _context, _text: "Rotto {nessuno}") == str(failure)
    reworded = "Da {server} nessuna risposta."
    assert last_error_text(stored, lambda _context, _text: reworded) == (
        "Da 127.0.0.1:25 nessuna risposta."
    )


# --------------------------------------------------------------------------- the export


def test_the_export_writes_the_english_sentence(
    ctx, account, tmp_path: Path, qapp, shipped_qm
) -> None:
    from billing_desktop.store.models import Email

    account_id, number = account
    failed, old = queue(ctx, account_id), queue(ctx, account_id)
    with refusing_the_connection(ctx, account_id) as (_key, english, _it):
        deliver_outbox(ctx)
    with ctx.db.transaction() as session:
        session.get(Email, old).last_error = OLD_TEXT
    with italian(qapp, shipped_qm):  # the screen's language does not matter
        target = export_account(ctx, number, tmp_path / "rossi.zip")
    with zipfile.ZipFile(target) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("emails.csv").decode("utf-8"))))
        document = json.loads(archive.read("account.json").decode("utf-8"))
    assert {int(r["id"]): r["last_error"] for r in rows} == {failed: english, old: OLD_TEXT}
    assert {e["id"]: e["last_error"] for e in document["emails"]} == {
        failed: english,
        old: OLD_TEXT,
    }


# --------------------------------------------------------------------------- database faults


def _error_text(qapp, shipped_qm: Path, err: Exception) -> tuple[str, str]:
    from billing_desktop.ui.errors import error_text

    english = error_text(err)
    with italian(qapp, shipped_qm):
        return english, error_text(err)


@pytest.fixture
def due(ctx, account, smtp_server) -> int:
    """One queued email and a mail server that would accept it."""
    account_id, _number = account
    email_id = queue(ctx, account_id)
    save_smtp_settings(ctx, smtp_settings(smtp_server.port))
    return email_id


@pytest.mark.sqlite_only
def test_a_vanished_database_file_stops_the_delivery_before_anything_is_sent(
    ctx, due, smtp_server, qapp, shipped_qm
) -> None:
    """Moved away (or its drive unplugged) while the application runs: the open
    connections would go on reading the moved file and the email would go out, but
    its being sent could not be recorded. Nothing is sent; the file back, it goes."""
    from faults.support import moved_away

    path = ctx.db.target.path
    with moved_away(path), pytest.raises(errors.MissingDatabase) as info:
        deliver_outbox(ctx)
    assert smtp_server.handler.envelopes == []
    assert not path.with_name(path.name + ".away").exists()
    english, italian_text = _error_text(qapp, shipped_qm, info.value)
    assert english == (
        f"The database file {path} cannot be found: it was moved or deleted, or its drive is "
        "not connected. Nothing was changed; put the file back and try again."
    )
    assert italian_text.startswith(f"Impossibile trovare il file di database {path}: ")

    assert deliver_outbox(ctx).sent == 1  # the file is back
    assert ctx.db.reader.scalar("SELECT status FROM emails WHERE id = :i", {"i": due}) == "sent"
    assert len(smtp_server.handler.envelopes) == 1


def _pages(path: Path, table: str) -> tuple[int, list[int]]:
    con = sqlite3.connect(path)
    try:
        size = con.execute("PRAGMA page_size").fetchone()[0]
        pages = [
            r[0]
            for r in con.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = ?", (table,))
        ]
    finally:
        con.close()
    return size, pages


@pytest.mark.sqlite_only
def test_a_damaged_outbox_stops_the_delivery_with_the_usual_message(
    ctx, due, smtp_server, qapp, shipped_qm
) -> None:
    """The pages of the emails table are damaged on disk (the accounts and the settings
    read fine): the delivery says the database is damaged and sends nothing; once the
    pages are repaired (a backup) it goes."""
    db, path = ctx.db, ctx.db.target.path
    db.dispose()  # no connection keeps pages in memory
    checkpoint(path)  # every row in the main file
    size, pages = _pages(path, "emails")
    saved: dict[int, bytes] = {}
    with path.open("r+b") as fh:
        for page in pages:
            fh.seek((page - 1) * size)
            saved[page] = fh.read(size)
            fh.seek((page - 1) * size)
            fh.write(b"\xff" * size)

    with pytest.raises(errors.CorruptDatabase) as info:
        deliver_outbox(ctx)
    assert smtp_server.handler.envelopes == []
    english, italian_text = _error_text(qapp, shipped_qm, info.value)
    assert english == (
        f"The file {path} is not a valid Billing Desktop database or is damaged; "
        "it was left untouched."
    )
    assert italian_text.startswith(f"Il file {path} non è un database di Billing Desktop valido")

    db.dispose()
    with path.open("r+b") as fh:  # the backup's pages
        for page, data in saved.items():
            fh.seek((page - 1) * size)
            fh.write(data)
    assert deliver_outbox(ctx).sent == 1
    assert len(smtp_server.handler.envelopes) == 1
    assert smtp_server.handler.envelopes[0].mail_from == SENDER
