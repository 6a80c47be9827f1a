"""Opening databases: migrations, pragmas, and refusing what must not be touched."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm.exc import StaleDataError

from billing_desktop.config import target_from
from billing_desktop.store import errors
from billing_desktop.store.database import HEAD_REVISION, known_revisions, open_database
from billing_desktop.store.models import Account, Base


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_head_revision_constant_matches_migrations() -> None:
    from alembic.script import ScriptDirectory

    from billing_desktop.store.database import MIGRATIONS_DIR

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_heads() == [HEAD_REVISION]
    assert HEAD_REVISION in known_revisions()


def test_empty_database_is_migrated_to_head(db_path: Path) -> None:
    db = open_database(target_from(str(db_path)))
    try:
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert revision == HEAD_REVISION
        assert set(Base.metadata.tables) <= tables
        assert db.is_empty()
    finally:
        db.dispose()


def test_migrated_schema_matches_models(db) -> None:
    """Alembic's autogenerate finds nothing to add: models and migrations agree, on
    every engine (the word-search index is the migrations' own, not the models')."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from billing_desktop.store.search import is_word_index

    options = {"include_name": lambda name, _type, _parent: not is_word_index(name)}
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=options), Base.metadata)
    assert diff == []


def test_a_database_of_the_first_release_is_upgraded_keeping_its_data(db, make_account) -> None:
    """A 0001 database (the first release) opens at head with its rows and the new
    index, on every engine: the migrations go down and up on SQLite and PostgreSQL."""
    from alembic import command
    from sqlalchemy import inspect

    from billing_desktop.store.database import _alembic_config

    def indexes() -> set[str]:
        with db.engine.connect() as conn:
            return {index["name"] for index in inspect(conn).get_indexes("invoices")}

    make_account("Acme Software")
    with db.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0001_initial")
    assert db.reader.scalar("SELECT version_num FROM alembic_version") == "0001_initial"
    assert "ix_invoices_issue_date" not in indexes()
    target = db.target
    db.dispose()

    db = open_database(target)
    try:
        assert db.reader.scalar("SELECT version_num FROM alembic_version") == HEAD_REVISION
        assert "ix_invoices_issue_date" in indexes()
        assert db.reader.scalar("SELECT company_name FROM accounts") == "Acme Software"
    finally:
        db.dispose()


@pytest.mark.sqlite_only
def test_every_connection_has_wal_foreign_keys_and_busy_timeout(db) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_foreign_keys_are_enforced(db) -> None:
    from sqlalchemy.exc import IntegrityError

    from billing_desktop.store.models import Contact

    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(
            Contact(
                account_id=424242, first_name="A", last_name="B", email="a@b.example",
                email_lower="a@b.example", search_name="b a", roles="user",
            )
        )


def test_reopening_at_head_keeps_data(db, make_account) -> None:
    make_account("Rossi Impianti S.r.l.")
    db = open_database(db.target)
    try:
        assert not db.is_empty()
    finally:
        db.dispose()


def test_newer_schema_is_refused_and_file_untouched(db_path: Path) -> None:
    open_database(target_from(str(db_path))).dispose()
    con = sqlite3.connect(db_path)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = _digest(db_path)
    with pytest.raises(errors.NewerSchema) as info:
        open_database(target_from(str(db_path)))
    assert "newer version of Billing Desktop" in str(info.value)
    assert "9999_from_the_future" in str(info.value)
    assert _digest(db_path) == before


def test_corrupt_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is a spreadsheet, not a database\n" * 100)
    before = _digest(path)
    with pytest.raises(errors.CorruptDatabase) as info:
        open_database(target_from(str(path)))
    assert "not a valid Billing Desktop database" in str(info.value)
    assert _digest(path) == before
    assert not (tmp_path / "broken.sqlite3-wal").exists()


def test_damaged_sqlite_file_is_refused_and_untouched(db_path: Path, make_account) -> None:
    make_account("Jansen B.V.")
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # smash the schema page after the header
    db_path.write_bytes(bytes(data))
    before = _digest(db_path)
    with pytest.raises(errors.CorruptDatabase):
        open_database(target_from(str(db_path)))
    assert _digest(db_path) == before


def test_other_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    before = _digest(path)
    with pytest.raises(errors.CorruptDatabase):
        open_database(target_from(str(path)))
    assert _digest(path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_gives_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(errors.UnwritableLocation) as info:
            open_database(target_from(str(folder / "billing.sqlite3")))
        assert "not writable" in str(info.value)
    finally:
        folder.chmod(0o700)


def test_folder_that_cannot_be_created_gives_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(errors.UnwritableLocation) as info:
        open_database(target_from(str(blocker / "sub" / "billing.sqlite3")))
    assert "Cannot create the database" in str(info.value)


def test_concurrent_edit_is_detected_by_version(db, make_account) -> None:
    """Two operators load the same account; the second save gets StaleDataError."""
    account_id = make_account("Müller GmbH")
    first = db.sessions()
    second = db.sessions()
    try:
        a1 = first.get(Account, account_id)
        first.commit()  # both screens show version 1, no transaction held open
        a2 = second.get(Account, account_id)
        second.commit()
        a1.city = "Berlin"
        first.commit()
        a2.city = "München"
        with pytest.raises(StaleDataError):
            second.commit()
    finally:
        first.close()
        second.close()
    with db.sessions() as session:
        account = session.get(Account, account_id)
        assert account.city == "Berlin"
        assert account.version == 2


def test_one_billing_contact_per_account(db, make_account) -> None:
    from sqlalchemy.exc import IntegrityError

    from billing_desktop.store.models import Contact

    account_id = make_account()

    def contact(email: str) -> Contact:
        return Contact(
            account_id=account_id, first_name="X", last_name="Y", email=email,
            email_lower=email, search_name="y x", roles="billing_admin", is_billing_contact=True,
        )

    with db.transaction() as session:
        session.add(contact("one@x.example"))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(contact("two@x.example"))


def test_money_columns_are_64_bit_integers(db) -> None:
    """Every *_minor column is a 64-bit integer: no float ever stores an amount,
    and totals beyond 21 million (a 32-bit limit in cents) fit on every engine."""
    from sqlalchemy import BigInteger

    columns = [
        (table.name, column)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name.endswith("_minor")
    ]
    assert len(columns) >= 14
    for table_name, column in columns:
        assert isinstance(column.type, BigInteger), f"{table_name}.{column.name}"


def test_transaction_rolls_back_on_error(db, make_account) -> None:
    account_id = make_account("Atomic S.A.")
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.get(Account, account_id).company_name = "Half written"
        raise RuntimeError("crash in the middle")
    with db.sessions() as session:
        assert session.get(Account, account_id).company_name == "Atomic S.A."


@pytest.mark.sqlite_only
def test_write_transaction_takes_the_lock_at_once(db, db_path: Path) -> None:
    """A service transaction holds the write lock from its first statement."""
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
        other = sqlite3.connect(db_path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    other = sqlite3.connect(db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    other.rollback()
    other.close()


@pytest.mark.parametrize("name", ["other#app.sqlite3", "q?x.sqlite3", "pct%41.sqlite3"])
def test_odd_file_names_are_opened_as_themselves(tmp_path: Path, name: str) -> None:
    """A path with URI characters is never confused with another file."""
    path = tmp_path / name
    db = open_database(target_from(str(path)))
    db.dispose()
    assert path.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        name
    ]
    # and a foreign database under such a name is still refused untouched
    foreign = tmp_path / ("foreign-" + name)
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    before = _digest(foreign)
    with pytest.raises(errors.CorruptDatabase):
        open_database(target_from(str(foreign)))
    assert _digest(foreign) == before


def test_unknown_database_url_is_a_clear_error() -> None:
    with pytest.raises(errors.UnsupportedDatabase) as info:
        open_database(target_from("nosuchdriver://somewhere/db"))
    assert "not a database address" in str(info.value)


def test_opening_at_head_does_not_import_sqlalchemy(db_path: Path) -> None:
    """Start-up on an existing database reads through sqlite3 only (fast cold start)."""
    import subprocess
    import sys

    from billing_desktop.services.context import open_context

    first = open_database(target_from(str(db_path)))
    open_context(first)  # the first run creates the local operator (a write)
    first.dispose()
    script = (
        "import sys\n"
        "from billing_desktop.config import target_from\n"
        "from billing_desktop.store.database import open_database\n"
        "from billing_desktop.services.context import open_context\n"
        "from billing_desktop.services.accounts import list_accounts, AccountFilter\n"
        f"db = open_database(target_from({str(db_path)!r}))\n"
        "ctx = open_context(db)\n"
        "list_accounts(ctx, AccountFilter())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_closing_waits_for_a_query_running_in_another_thread(db) -> None:
    """A panel may still be reading in the background when the window closes its
    database: the reader closes that thread's connection only after the query."""
    import threading

    started, results = threading.Event(), []

    def long_read() -> None:
        started.set()
        results.append(
            db.reader.scalar(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)"
                " SELECT count(*) FROM n"
            )
        )

    worker = threading.Thread(target=long_read)
    worker.start()
    started.wait()
    db.reader.close()  # would crash the process if it closed the connection mid-query
    worker.join()
    assert results == [400000]


def test_a_postgresql_url_uses_the_shipped_driver() -> None:
    """``postgresql://`` (SQLAlchemy's default driver is psycopg2) opens with psycopg 3."""
    target = target_from("postgresql://billing:secret@db.example:5432/billing")
    assert target.url == "postgresql+psycopg://billing:secret@db.example:5432/billing"
    assert "secret" not in target.display_name()
    assert target_from("postgresql+psycopg://h/db").url == "postgresql+psycopg://h/db"


def test_a_server_nobody_answers_on_is_a_clear_error() -> None:
    from helpers import free_port

    url = f"postgresql://billing:secret@127.0.0.1:{free_port()}/billing?connect_timeout=2"
    with pytest.raises(errors.ServerUnavailable) as info:
        open_database(target_from(url))
    text = str(info.value)
    assert text.startswith("Cannot connect to the database server postgresql+psycopg://billing:***@")
    assert "secret" not in text


def test_a_nul_character_in_a_text_is_no_failure(db, make_account) -> None:
    """A NUL pasted into a field: SQLite keeps it, PostgreSQL (which refuses NUL in
    text) gets the text without it; the write succeeds on both."""
    account_id = make_account("Nul\x00 Impianti")
    stored = db.reader.scalar("SELECT company_name FROM accounts WHERE id = :i", {"i": account_id})
    assert stored == ("Nul\x00 Impianti" if db.target.is_sqlite else "Nul Impianti")
