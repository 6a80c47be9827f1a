"""Migration 0004 (words of names): down and up on both engines, keeping the index complete.

Runs on SQLite and, with a PostgreSQL server, on a throwaway database of its
own (the run's shared test database is never downgraded).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import text

from billing_desktop.config import target_from
from billing_desktop.store import search_queries as queries
from billing_desktop.store.database import HEAD_REVISION, _alembic_config, open_database
from billing_desktop.store.models import Account, Contact
from billing_desktop.store.search import fold

BEFORE = "0003_operator_sign_in"


@pytest.fixture
def location(engine: str, db_path) -> Iterator[str]:
    """Where the test's own database lives: an SQLite file or a new PostgreSQL database."""
    if engine == "sqlite":
        yield str(db_path)
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = make_url(os.environ["BILLING_DESKTOP_TEST_PG"])
    name = f"billing_words_migration_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _add_account(db, number: str, company: str, contact: tuple[str, str]) -> None:
    """An account and its contact, written with plain Core inserts (as release 0003 could)."""
    with db.engine.begin() as conn:
        account_id = conn.execute(
            Account.__table__.insert().returning(Account.__table__.c.id),
            {
                "account_number": number, "company_name": company, "search_name": fold(company),
                "type": "standard", "status": "active", "country": "IT", "language": "it",
                "currency": "EUR", "created_at": datetime(2025, 1, 1, 9, 0), "version": 1,
            },
        ).scalar_one()  # fmt: skip
        first, last = contact
        conn.execute(
            Contact.__table__.insert(),
            {
                "account_id": account_id, "first_name": first, "last_name": last,
                "email": f"{first}@example.com", "email_lower": f"{first.lower()}@example.com",
                "search_name": fold(f"{last} {first}"), "roles": "user", "version": 1,
            },
        )  # fmt: skip


def _word_objects(db) -> set[str]:
    """The word tables, triggers (SQLite) and indexes (PostgreSQL) in the database."""
    if db.target.is_sqlite:
        sql = "SELECT name FROM sqlite_master WHERE name LIKE '%words%'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%search_words'"
    return {name for (name,) in db.reader.rows(sql)}


def _numbers(db, typed: str) -> list[str]:
    return [hit.account_number for hit in queries.quick_search(db.reader, typed)]


def test_a_database_at_0003_gets_its_names_indexed_and_goes_back(location: str) -> None:
    from alembic import command

    db = open_database(target_from(location))
    _add_account(db, "A-100001", "Van Dijk Techniek B.V.", ("Sanne", "de Vries"))
    assert _numbers(db, "techniek") == _numbers(db, "vries") == ["A-100001"]
    head_objects = _word_objects(db)
    if db.target.is_sqlite:
        assert {"accounts_words", "contacts_words"} <= head_objects
        assert {f"{t}_words_{e}" for t in ("accounts", "contacts")
                for e in ("insert", "delete", "update")} <= head_objects  # fmt: skip
    else:
        assert head_objects == {"ix_accounts_search_words", "ix_contacts_search_words"}

    with db.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), BEFORE)
    assert db.reader.scalar("SELECT version_num FROM alembic_version") == BEFORE
    assert _word_objects(db) == set()
    # rows written by release 0003: nothing indexes their words yet
    _add_account(db, "A-100002", "Rossi Impianti S.r.l.", ("Giulia", "Bianchi Neri"))
    db.dispose()

    db = open_database(target_from(location))
    try:
        assert db.reader.scalar("SELECT version_num FROM alembic_version") == HEAD_REVISION
        assert _word_objects(db) == head_objects
        assert _numbers(db, "techniek") == ["A-100001"]
        assert _numbers(db, "impianti") == ["A-100002"]
        assert _numbers(db, "neri") == ["A-100002"]  # a contact's word
        # and the triggers work again after the upgrade
        _add_account(db, "A-100003", "Officine Meccaniche Zanetti", ("Luca", "Conti"))
        assert _numbers(db, "meccan") == ["A-100003"]
        if db.target.is_sqlite:
            with db.engine.begin() as conn:
                for table in ("accounts", "contacts"):
                    conn.execute(
                        text(
                            f"INSERT INTO {table}_words ({table}_words, rank) "
                            "VALUES ('integrity-check', 1)"
                        )
                    )
                    indexed = conn.execute(text(f"SELECT COUNT(*) FROM {table}_words_docsize"))
                    rows = conn.execute(text(f"SELECT COUNT(*) FROM {table}"))
                    assert indexed.scalar() == rows.scalar() == 3
    finally:
        db.dispose()


@pytest.mark.sqlite_only
def test_only_name_changes_write_to_the_word_index(db_path) -> None:
    """Balances change on every order: those updates must not touch the FTS tables
    (the triggers fire on insert, delete and an update of the name, nothing else)."""
    db = open_database(target_from(str(db_path)))
    try:
        _add_account(db, "A-100001", "Van Dijk Techniek B.V.", ("Sanne", "de Vries"))
    finally:
        db.dispose()
    con = sqlite3.connect(db_path, isolation_level=None)
    try:

        def rows_written(sql: str) -> int:
            before = con.total_changes  # counts the rows triggers write too
            con.execute(sql)
            return con.total_changes - before

        assert rows_written("UPDATE accounts SET outstanding_minor = 500, version = 2") == 1
        assert rows_written("UPDATE accounts SET search_name = search_name") == 1
        assert rows_written("UPDATE contacts SET roles = 'billing_admin'") == 1
        assert rows_written("UPDATE accounts SET search_name = 'van dijk montage b.v.'") > 1
        assert rows_written("UPDATE contacts SET search_name = 'de vries anna'") > 1
    finally:
        con.close()
    db = open_database(target_from(str(db_path)))
    try:
        assert _numbers(db, "montage") == _numbers(db, "anna") == ["A-100001"]
        assert _numbers(db, "techniek") == []
    finally:
        db.dispose()
