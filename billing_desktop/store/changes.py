"""A cheap signal that another connection committed a change (live refresh, issue 8).

Open views read again when the database changed, not on a timer of their own:

* **SQLite**: ``PRAGMA data_version`` on a dedicated read connection changes
  whenever any *other* connection (another process, or this application's own
  write connection) commits. Polling it costs one tiny statement and reads no
  table.
* **PostgreSQL**: every committed write transaction sends ``NOTIFY
  billing_changes`` (:func:`install_change_notify` installs that on the
  engine); a dedicated psycopg connection ``LISTEN``\\s, and its socket becomes
  readable when a notification arrives (the UI watches it with a
  ``QSocketNotifier``; :meth:`ChangeSignal.poll` works without one too).

No import of SQLAlchemy or psycopg at module level: the main window imports
this at start-up.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from billing_desktop.store.database import Database

log = logging.getLogger("billing_desktop.store")

#: the PostgreSQL notification channel of committed writes
CHANNEL = "billing_changes"
#: ``Connection.info`` key: the transaction has written (a NOTIFY is due at commit)
_WROTE = "billing_desktop.wrote"
#: statements that never write (the rest mark the transaction as writing)
_READS = ("SELECT", "SHOW", "SET ", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE",
          "LISTEN", "NOTIFY", "EXPLAIN")  # fmt: skip


class ChangeSignal(Protocol):
    """A source of "something was committed" signals."""

    def poll(self) -> bool:
        """True when a change was committed since the last call (never blocks)."""

    def fileno(self) -> int | None:
        """A socket that becomes readable on a change (None: call :meth:`poll` on a timer)."""

    def close(self) -> None: ...


class SqliteChanges:
    """``PRAGMA data_version`` of a dedicated read-only connection."""

    def __init__(self, path: str) -> None:
        con = sqlite3.connect(path, timeout=5, check_same_thread=False)
        con.isolation_level = None  # autocommit: no snapshot is held between polls
        con.execute("PRAGMA query_only = ON")
        self._con: sqlite3.Connection | None = con
        self._version = self._read()

    def _read(self) -> int:
        assert self._con is not None
        return int(self._con.execute("PRAGMA data_version").fetchone()[0])

    def poll(self) -> bool:
        if self._con is None:
            return False
        try:
            version = self._read()
        except sqlite3.Error as exc:  # a locked or vanished file: try again next time
            log.debug("data_version not read: %s", exc)
            return False
        changed, self._version = version != self._version, version
        return changed

    def fileno(self) -> int | None:
        return None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


class PostgresChanges:
    """``LISTEN billing_changes`` on a dedicated autocommit psycopg connection."""

    def __init__(self, url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        parsed = make_url(url).set(drivername="postgresql")
        conninfo = parsed.render_as_string(hide_password=False)
        self._conn: Any = psycopg.connect(conninfo, autocommit=True)
        self._conn.execute(f"LISTEN {CHANNEL}")

    def poll(self) -> bool:
        if self._conn is None:
            return False
        pgconn = self._conn.pgconn
        try:
            pgconn.consume_input()
        except Exception as exc:  # the server went away: no more signals
            log.warning("change notifications lost: %s", exc)
            self.close()
            return False
        changed = False
        while pgconn.notifies() is not None:
            changed = True
        return changed

    def fileno(self) -> int | None:
        return self._conn.fileno() if self._conn is not None else None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def open_change_signal(db: Database) -> ChangeSignal:
    """The change signal of ``db``'s engine (its own dedicated connection)."""
    target = db.target
    if target.is_sqlite:
        assert target.path is not None
        return SqliteChanges(str(target.path))
    return PostgresChanges(target.url)


# --------------------------------------------------------------------------- NOTIFY


def install_change_notify(engine: Engine) -> None:
    """Send ``NOTIFY billing_changes`` with every committed write transaction of
    ``engine`` (PostgreSQL; nothing on SQLite, whose ``data_version`` needs no help).

    The notification is part of the transaction: PostgreSQL delivers it at
    commit, and not at all on rollback; several in one transaction arrive once.
    """
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import event

    if event.contains(engine, "commit", _notify_on_commit):
        return
    event.listen(engine, "before_cursor_execute", _note_write)
    event.listen(engine, "commit", _notify_on_commit)
    event.listen(engine, "rollback", _forget_write)


def _note_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not conn.info.get(_WROTE) and not statement.lstrip()[:10].upper().startswith(_READS):
        conn.info[_WROTE] = True


def _notify_on_commit(conn: Any) -> None:
    if conn.info.pop(_WROTE, False):
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(f"NOTIFY {CHANNEL}")
        finally:
            cursor.close()


def _forget_write(conn: Any) -> None:
    conn.info.pop(_WROTE, None)
