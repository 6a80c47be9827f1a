"""Helpers shared by test modules: ``from helpers import dump, free_port``.

The fixtures built on them are in ``conftest.py`` (``smtp_server``).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
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
    from billing_desktop.store.search import is_word_index

    # the word-search index's own tables (SQLite's FTS5) mirror the names: not data
    return sorted(name for (name,) in db.reader.rows(sql) if not is_word_index(name))


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
    (statistics must not tempt the planner into a scan). PostgreSQL: ``EXPLAIN`` with
    sequential scans priced out, so a line still saying "Seq Scan" means no index can answer.
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


def account_id(db: Any, number: str) -> int:
    """The id of the account numbered ``number``."""
    sql = "SELECT id FROM accounts WHERE account_number = :n"
    return int(db.reader.scalar(sql, {"n": number}))


# --------------------------------------------------------------------------- several operators


def create_operator(ctx: Any, name: str, role: str = "support") -> Any:
    """A new active operator ``name`` (email: first name@operators.example): ``OperatorInfo``."""
    from billing_desktop.services.context import OperatorInfo
    from billing_desktop.store.models import Operator

    with ctx.db.transaction() as session:
        op = Operator(
            email=f"{name.split()[0].lower()}@operators.example", name=name, role=role,
            active=True, created_at=datetime(2026, 1, 1, 9, 0),
        )  # fmt: skip
        session.add(op)
        session.flush()
        return OperatorInfo(op.id, op.email, op.name, op.role)


def as_operator(ctx: Any, name: str, at: datetime, role: str = "support") -> Any:
    """``ctx`` for a new operator ``name`` whose clock says ``at`` (the same database)."""
    from billing_desktop.services.clock import FixedClock

    return dataclasses.replace(ctx, operator=create_operator(ctx, name, role), clock=FixedClock(at))


@contextmanager
def on_another_instance(ctx: Any) -> Iterator[Any]:
    """``ctx`` on its own connection to the same database, as another instance of the
    application has; the connection is closed at the end of the block."""
    from billing_desktop.store.database import open_database

    other = open_database(ctx.db.target)
    try:
        yield dataclasses.replace(ctx, db=other)
    finally:
        other.dispose()


def assert_changed_by(err: Any, what: str, name: str, at: datetime) -> None:
    """``err`` is the ``ConflictError`` that says ``what`` was changed by ``name`` at ``at``."""
    assert err.code == "changed_elsewhere"
    assert (err.params["changed_by"], err.params["changed_at"]) == (name, at)
    assert err.params["what"] == what
    assert str(err) == (
        f"{what} was changed by {name} at {at} — reload to see the current data. "
        "Your input is kept."
    )


def race(writes: dict[str, tuple[Any, Callable[[Any], object]]]) -> dict[str, object]:
    """Release every ``name: (ctx, write)`` at the same moment, each ``write(ctx)`` on its
    own connection (another instance of the application): ``{name: result or exception}``."""
    start = threading.Barrier(len(writes))
    outcomes: dict[str, object] = {}

    def run(name: str, ctx: Any, write: Callable[[Any], object]) -> None:
        with on_another_instance(ctx) as mine:
            start.wait()
            try:
                outcomes[name] = write(mine)
            except Exception as err:  # the outcome is what is checked
                outcomes[name] = err

    threads = [
        threading.Thread(target=run, args=(name, ctx, write))
        for name, (ctx, write) in writes.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def exactly_one_won(outcomes: dict[str, object]) -> tuple[str, list[Any]]:
    """The name of the one write of :func:`race` that succeeded, and the ``ConflictError``
    each of the others got."""
    from billing_desktop.services.errors import ConflictError

    winners = [name for name, out in outcomes.items() if not isinstance(out, Exception)]
    assert len(winners) == 1, outcomes
    losers = [out for out in outcomes.values() if isinstance(out, Exception)]
    assert all(isinstance(err, ConflictError) for err in losers), losers
    return winners[0], losers


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


# --------------------------------------------------------------------------- widgets


@contextmanager
def answered_message_boxes(*answers: str) -> Iterator[list[str]]:
    """The texts of the modal message boxes the block opens, each closed with OK
    (``show_service_error`` and the start-up error run their own event loop).

    With ``answers``, the first box is closed with the button labelled ``answers[0]``
    (its text without the ``&`` of its shortcut), the next with ``answers[1]``…, any
    further ones with the last answer."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    texts: list[str] = []
    active = [True]

    def button(box: QMessageBox) -> Any:
        if not answers:
            return box.button(QMessageBox.StandardButton.Ok)
        wanted = answers[min(len(texts), len(answers) - 1)]
        return next((b for b in box.buttons() if b.text().replace("&", "") == wanted), None)

    def answer() -> None:
        if not active[0]:
            return
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible():
            chosen = button(box)
            if chosen is not None:
                texts.append(box.text())
                chosen.click()
        QTimer.singleShot(10, answer)

    QTimer.singleShot(0, answer)
    try:
        yield texts
    finally:
        active[0] = False


def when_modal(cls: type, act: Callable[[Any], None]) -> None:
    """Run ``act(dialog)`` once a visible modal dialog of class ``cls`` is up (from inside
    its ``exec`` loop, so call this before the code that opens it)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def check() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, cls) and dialog.isVisible():
            act(dialog)
        else:
            QTimer.singleShot(10, check)

    QTimer.singleShot(0, check)


def shown_child(qtbot: Any, parent: Any, cls: type, name: str | None = None) -> Any:
    """The visible child of ``parent`` of class ``cls`` (and object name ``name``), once one
    is shown: a non-blocking dialog the widget opened."""
    found: list = []

    def visible() -> bool:
        children = parent.findChildren(cls, name) if name else parent.findChildren(cls)
        found[:] = [w for w in children if w.isVisible()]
        return bool(found)

    qtbot.waitUntil(visible)
    return found[0]
