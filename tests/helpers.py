"""Helpers shared by test modules: ``from helpers import dump, free_port``.

The fixtures built on them are in ``conftest.py`` (``smtp_server``).
"""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

#: The sender address of the test mail server settings.
SENDER = "billing@billing-desk.example"


# --------------------------------------------------------------------------- the database


def table_names(db: Any) -> list[str]:
    """The names of the database's tables, sorted (on every engine)."""
    if db.target.is_sqlite:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return sorted(name for (name,) in db.reader.rows(sql))


def dump(db: Any, where: dict[str, str] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (``where``: a condition per table name to leave some
    rows out): a refused or abandoned action leaves this unchanged."""
    where = where or {}
    out = {}
    for name in table_names(db):
        sql = f'SELECT * FROM "{name}"'
        if name in where:
            sql += f" WHERE {where[name]}"
        out[name] = sorted(db.reader.rows(sql), key=repr)
    return out


def query_plan(
    db: Any, sql: str, params: dict[str, Any] | None = None, *, analyze: bool = True
) -> list[str]:
    """The lines of the engine's plan for ``sql``.

    SQLite: ``EXPLAIN QUERY PLAN``, after ``ANALYZE`` unless ``analyze`` is False
    (statistics must not tempt the planner into a scan). PostgreSQL: ``EXPLAIN`` with sequential scans
    priced out, so a line still saying "Seq Scan" means no index can answer.
    """
    params = dict(params or {})
    if db.target.is_sqlite:
        import sqlite3

        from billing_desktop.store.database import _sqlite_params

        con = sqlite3.connect(db.target.path)
        try:
            if analyze:
                con.execute("ANALYZE")
            rows = con.execute("EXPLAIN QUERY PLAN " + sql, _sqlite_params(params))
            return [row[3] for row in rows]
        finally:
            con.close()
    from sqlalchemy import text

    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        lines = [row[0] for row in conn.execute(text("EXPLAIN " + sql), params)]
        conn.rollback()
    return lines


def count(db: Any, table: str) -> int:
    """How many rows ``table`` has."""
    return db.reader.scalar(f'SELECT COUNT(*) FROM "{table}"')


def sub_id(db: Any, account: str, product: str) -> int:
    """The id of the subscription of account ``account`` (its number) to product ``product``."""
    return db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "JOIN products p ON p.id = s.product_id WHERE a.account_number = :a AND p.code = :p",
        {"a": account, "p": product},
    )


# --------------------------------------------------------------------------- a real SMTP server


def free_port() -> int:
    """A local port nothing listens on (for a server, or for "the server is down")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpCollector:
    """aiosmtpd handler keeping every message; refuses recipients at ``refuse@…``."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=default_policy) for e in self.envelopes]

    @property
    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


class SmtpServer:
    """An aiosmtpd server on one fixed local port; ``stop()`` and ``start()`` it again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = SmtpCollector()
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def smtp_settings(port: int, **changes: Any) -> Any:
    """``SmtpSettings`` for the local test server (no TLS, :data:`SENDER`), with ``changes``."""
    from billing_desktop.services.smtp import SmtpSecurity, SmtpSettings

    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "security": SmtpSecurity.NONE,
        "from_address": SENDER, "timeout": 5,
    }  # fmt: skip
    values.update(changes)
    return SmtpSettings(**values)
