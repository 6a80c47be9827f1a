"""Migration 0003 (operator sign-in): a database at 0002 opens at head keeping its operators.

Runs on SQLite and, with a PostgreSQL server, on a throwaway database of its
own (the run's shared test database is never downgraded).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import inspect, text

from billing_desktop.config import target_from
from billing_desktop.store.database import HEAD_REVISION, _alembic_config, open_database

SIGN_IN_COLUMNS = {"failed_sign_ins", "last_failed_sign_in_at", "locked_until", "last_signed_in_at"}


@pytest.fixture
def location(engine: str, db_path) -> Iterator[str]:
    """Where the test's own database lives: an SQLite file or a new PostgreSQL database."""
    if engine == "sqlite":
        yield str(db_path)
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = make_url(os.environ["BILLING_DESKTOP_TEST_PG"])
    name = f"billing_migration_{os.getpid()}"
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


def _columns(db) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns("operators")}


def test_a_database_at_0002_is_upgraded_keeping_its_operators(location: str) -> None:
    from alembic import command

    db = open_database(target_from(location))
    with db.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0002_invoice_issue_date")
    assert not SIGN_IN_COLUMNS & _columns(db)
    with db.engine.begin() as conn:  # operators as release 0002 stored them
        conn.execute(
            text(
                "INSERT INTO operators (email, name, role, password_hash, active, "
                "created_at, version) VALUES "
                "('ada@billing-desk.example', 'Ada Rossi', 'admin', '$argon2id$v=19$x', "
                ":yes, :at, 3), "
                "('rep@billing-desk.example', 'Rep Uno', 'representative', NULL, :no, :at, 1)"
            ),
            {"yes": True, "no": False, "at": datetime(2026, 1, 5, 9, 0)},
        )
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "0002_invoice_issue_date"
        )
    db.dispose()

    db = open_database(target_from(location))
    try:
        assert db.reader.scalar("SELECT version_num FROM alembic_version") == HEAD_REVISION
        assert _columns(db) >= SIGN_IN_COLUMNS
        rows = db.reader.rows(
            "SELECT email, name, role, password_hash, active, version, failed_sign_ins, "
            "last_failed_sign_in_at, locked_until, last_signed_in_at FROM operators "
            "ORDER BY email"
        )
        assert rows == [
            ("ada@billing-desk.example", "Ada Rossi", "admin", "$argon2id$v=19$x", 1, 3,
             0, None, None, None),
            ("rep@billing-desk.example", "Rep Uno", "representative", None, 0, 1,
             0, None, None, None),
        ]  # fmt: skip
        # a new operator gets the defaults from the model as well as from the server
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO operators (email, name, role, active, created_at, version) "
                    "VALUES ('new@billing-desk.example', 'New', 'viewer', :yes, :at, 1)"
                ),
                {"yes": True, "at": datetime(2026, 1, 6)},
            )
        assert db.reader.scalar(
            "SELECT failed_sign_ins FROM operators WHERE email = 'new@billing-desk.example'"
        ) == 0
    finally:
        db.dispose()
