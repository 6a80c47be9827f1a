"""Opening a database safely: checks first, then migrations, then sessions.

Order matters so a bad file is never modified:

1. a SQLite file that exists is checked read-only (header, schema revision);
2. a schema newer than this application is refused;
3. only then is the file opened read-write, pragmas set and Alembic run.

Start-up speed: a SQLite database already at the head revision is opened
without importing SQLAlchemy or Alembic. Lists and look-ups read through a
plain ``sqlite3`` connection (:class:`Reader`); the SQLAlchemy engine and
sessions, needed for writes, are created on first use (or warmed up in the
background by the application once its window is on screen).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from billing_desktop.config import DatabaseTarget
from billing_desktop.store import errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("billing_desktop.store")

#: The Alembic revision this application's schema is at. A test checks it
#: equals the head of ``store/migrations/versions``.
HEAD_REVISION = "0004_search_words"

#: execution option marking a connection whose transaction will write
WRITE_OPTION = "billing_desktop_write"
SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 5000


# --------------------------------------------------------------------------- reading


class Reader:
    """Runs read-only SQL written in the store (named ``:params``) and returns tuples.

    SQLite: one ``sqlite3`` connection per thread with ``query_only`` on, so a
    list query can never write. PostgreSQL: a pooled SQLAlchemy connection in a
    read-only transaction, its values turned into the forms SQLite returns
    (:func:`_stored_form`) so every query reads the same on both engines.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._local = threading.local()
        #: every thread's connection with the lock held while it is used, so
        #: :meth:`close` never closes a connection under a running query
        self._all: list[tuple[sqlite3.Connection, threading.Lock]] = []
        self._lock = threading.Lock()

    def _sqlite(self) -> tuple[sqlite3.Connection, threading.Lock]:
        held: tuple[sqlite3.Connection, threading.Lock] | None = getattr(self._local, "con", None)
        if held is None:
            path = self._database.target.path
            assert path is not None
            # mode=rw: a file that vanished is an error, never silently recreated empty
            con = sqlite3.connect(
                path.resolve().as_uri() + "?mode=rw",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
            con.isolation_level = None  # autocommit: every read sees the latest commit
            con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            con.execute("PRAGMA query_only = ON")
            held = (con, threading.Lock())
            self._local.con = held
            with self._lock:
                self._all.append(held)
        return held

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """All rows of ``sql``; a fault of the database raises its :class:`errors.DatabaseError`."""
        target = self._database.target
        with errors.translated_errors(
            target.display_name(), is_sqlite=target.is_sqlite, reading=True
        ):
            return self._rows(sql, params)

    def _rows(self, sql: str, params: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
        if self._database.target.is_sqlite:
            con, in_use = self._sqlite()
            with in_use:
                return con.execute(sql, _sqlite_params(params or {})).fetchall()
        from sqlalchemy import text

        with self._database.engine.connect() as conn:
            # read-only transactions: a list query can never write here either
            conn = conn.execution_options(postgresql_readonly=True)
            result = conn.execute(text(sql), dict(params or {}))
            return [tuple(map(_stored_form, row)) for row in result]

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def close(self) -> None:
        """Close every thread's connection, each once its running query (if any) ended."""
        with self._lock:
            for con, in_use in self._all:
                with in_use:
                    con.close()
            self._all.clear()
        self._local = threading.local()


def _stored_form(value: Any) -> Any:
    """A server's value in the form SQLite hands back, so the store's queries read
    the same on every engine: ISO text for dates and times (as SQLAlchemy stores
    them in SQLite), 0/1 for booleans, and whole numbers for sums and counts
    (PostgreSQL sums integers as ``numeric``)."""
    kind = type(value)
    if kind is datetime:
        return value.isoformat(sep=" ", timespec="microseconds")
    if kind is date:
        return value.isoformat()
    if kind is bool:
        return int(value)
    # (by name: ``decimal`` is not imported before the first paint)
    if kind.__name__ == "Decimal" and value == value.to_integral_value():
        return int(value)
    return value


def _sqlite_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Dates become the ISO text SQLAlchemy stores; everything else passes as is."""
    out = {}
    for key, value in params.items():
        if hasattr(value, "isoformat") and not isinstance(value, str):
            value = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        out[key] = value
    return out


# --------------------------------------------------------------------------- the database


class Database:
    """An open, migrated database: a reader for lists, SQLAlchemy sessions for changes."""

    def __init__(self, target: DatabaseTarget, engine: Engine | None = None) -> None:
        self.target = target
        self.reader = Reader(self)
        self._engine_lock = threading.Lock()
        #: (device, inode) of the SQLite file opened: a write must land in this file
        self._file_id = _file_identity(target.path) if target.path is not None else None
        if engine is not None:
            self.__dict__["engine"] = engine

    def __repr__(self) -> str:
        return f"Database({self.target.display_name()!r})"

    @cached_property
    def engine(self) -> Engine:
        with self._engine_lock:
            cached = self.__dict__.get("engine")
            return cached if cached is not None else make_engine(self.target)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(bind=self.engine, expire_on_commit=False)

    def warm_up(self) -> None:
        """Import the ORM and open the engine now, so the first change is instant."""
        import billing_desktop.store.models  # noqa: F401

        _ = self.sessions

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One user action = one transaction: commit on success, roll back on error.

        On SQLite the transaction takes the write lock at once (``BEGIN
        IMMEDIATE``) so what it reads cannot change before it writes; a
        concurrent writer waits up to the busy timeout instead of failing late.

        A fault of the database (disk full, locked beyond the busy timeout,
        read-only, the file gone) raises its :class:`errors.DatabaseError`
        with everything rolled back; after one that may leave a connection
        unusable, the next transaction reconnects.
        """
        try:
            with errors.translated_errors(
                self.target.display_name(), is_sqlite=self.target.is_sqlite
            ):
                self._check_file()
                with self.sessions.begin() as session:
                    session.connection(execution_options={WRITE_OPTION: True})
                    yield session
        except errors.RECONNECT_AFTER:
            self._reconnect()
            raise

    def _check_file(self) -> None:
        """Refuse to write when the SQLite file is gone: in WAL mode SQLite would go on
        writing into the deleted (or moved) file through the open connections, and
        the change would be lost. A file replaced meanwhile (restored from a copy)
        is reconnected to."""
        path = self.target.path
        if path is None:
            return
        try:
            identity = _file_identity(path)
        except OSError as exc:
            raise errors.MissingDatabase(str(path), exc.strerror or str(exc)) from exc
        if identity != self._file_id:
            self._reconnect()
            self._file_id = identity

    def _reconnect(self) -> None:
        """Close the pooled and the reader's connections; the next use opens new ones."""
        engine = self.__dict__.get("engine")
        if engine is not None:
            engine.dispose()
        self.reader.close()

    def setting(self, key: str, default: str | None = None) -> str | None:
        value = self.reader.scalar("SELECT value FROM app_settings WHERE key = :key", {"key": key})
        return default if value is None else str(value)

    def is_demo(self) -> bool:
        return self.setting("database.kind") == "demo"

    def is_empty(self) -> bool:
        """True for a brand-new database that holds no accounts yet."""
        return self.reader.scalar("SELECT id FROM accounts LIMIT 1") is None

    def dispose(self) -> None:
        self.reader.close()
        engine = self.__dict__.get("engine")
        if engine is not None:
            engine.dispose()


def _file_identity(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


# --------------------------------------------------------------------------- engine


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction starts
    # (SQLAlchemy's recipe for correct SQLite transactions).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if type(value) is str and "\x00" in value else value


def _drop_nul_characters(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    """PostgreSQL refuses a NUL character in text (a pasted one would make the write
    fail); it means nothing in any field, so it is dropped on the way. The
    parameters are one mapping, or a list of them (or of positional values)."""

    def clean(params: Any) -> Any:
        if isinstance(params, Mapping):
            return {key: _without_nul(value) for key, value in params.items()}
        if isinstance(params, list | tuple):
            return type(params)(clean(value) for value in params)
        return _without_nul(params)

    return statement, clean(parameters)


def make_engine(target: DatabaseTarget) -> Engine:
    """Create the engine for ``target`` with per-connection SQLite pragmas.

    Raises :class:`errors.DatabaseError` for a URL no installed driver serves.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        if target.is_sqlite:
            engine = create_engine(target.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        engine = create_engine(target.url, pool_pre_ping=True)
        event.listen(engine, "before_cursor_execute", _drop_nul_characters, retval=True)
        from billing_desktop.store.changes import install_change_notify

        install_change_notify(engine)  # open windows hear of other operators' changes
        return engine
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise errors.UnsupportedDatabase(target.display_name(), str(exc)) from exc


# --------------------------------------------------------------------------- checks


def _check_sqlite_file(path: Path) -> str | None:
    """Inspect an existing SQLite file without changing it; return its revision.

    Raises :class:`errors.CorruptDatabase` for anything that is not a readable
    Billing Desktop database.
    """
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except PermissionError as exc:
        raise errors.ReadOnlyDatabase(str(path), str(exc)) from exc
    if header != SQLITE_HEADER:
        raise errors.CorruptDatabase(str(path))
    uri = path.resolve().as_uri() + "?mode=ro"  # as_uri quotes '#', '?' and '%'
    try:
        con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise errors.CorruptDatabase(str(path), str(exc)) from exc
    try:
        tables = {
            row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "alembic_version" not in tables:
            if tables - {"sqlite_sequence"}:
                # Some other application's database: do not touch it.
                raise errors.CorruptDatabase(str(path), "unknown schema")
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise errors.DatabaseLocked(str(path), str(exc)) from exc
        raise errors.CorruptDatabase(str(path), str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise errors.CorruptDatabase(str(path), str(exc)) from exc
    finally:
        con.close()


_REVISION_LINE = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def known_revisions() -> set[str]:
    """Every revision this application's migrations know about (read from the files)."""
    found = set()
    for file in (MIGRATIONS_DIR / "versions").glob("*.py"):
        match = _REVISION_LINE.search(file.read_text(encoding="utf-8"))
        if match:
            found.add(match.group(1))
    return found


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head inside one transaction."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def _current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _refuse_newer(name: str, revision: str | None) -> None:
    if revision is not None and revision != HEAD_REVISION and revision not in known_revisions():
        raise errors.NewerSchema(name, revision=revision)


def _prepare_sqlite(target: DatabaseTarget, create: bool) -> str | None:
    """Checks on the file and its folder before anything is written; returns the revision."""
    path = target.path
    assert path is not None
    if path.exists():
        if path.is_dir():
            raise errors.CorruptDatabase(str(path), "is a folder")
        revision = _check_sqlite_file(path)
        if not os.access(path, os.W_OK):
            raise errors.ReadOnlyDatabase(str(path))
        _refuse_newer(str(path), revision)
        return revision
    if not create:
        raise errors.MissingDatabase(str(path), "file not found")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.UnwritableLocation(str(path), exc.strerror or str(exc)) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors.UnwritableLocation(str(path), "permission denied")
    return None


def open_database(target: DatabaseTarget, *, create: bool = True) -> Database:
    """Open ``target``, creating and migrating it as needed.

    Raises a :class:`errors.DatabaseError` subclass with a clear message for an
    unwritable folder, a corrupt, locked, read-only or newer database, or a
    server that cannot be reached.
    """
    revision = _prepare_sqlite(target, create) if target.is_sqlite else None
    if target.is_sqlite and revision == HEAD_REVISION:
        return Database(target)  # the fast path: no SQLAlchemy needed yet

    from sqlalchemy.exc import DatabaseError as SADatabaseError
    from sqlalchemy.exc import OperationalError

    engine = make_engine(target)
    try:
        if not target.is_sqlite:
            revision = _current_revision(engine)
            _refuse_newer(target.display_name(), revision)
        if revision != HEAD_REVISION:
            log.info("migrating %s from %s to %s", target.display_name(), revision, HEAD_REVISION)
            migrate(engine)
    except errors.DatabaseError:
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        raise _operational_error(target, exc) from exc
    except SADatabaseError as exc:
        engine.dispose()
        raise errors.CorruptDatabase(target.display_name(), str(exc.orig)) from exc
    return Database(target, engine)


def _operational_error(target: DatabaseTarget, exc: Exception) -> errors.DatabaseError:
    name = target.display_name()
    mapped = errors.from_driver_error(name, exc, is_sqlite=target.is_sqlite, opening=True)
    return mapped if mapped is not None else errors.DatabaseError(name, str(exc))
