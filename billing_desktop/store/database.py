"""Opening a database safely: checks first, then migrations, then sessions.

Order matters so a bad file is never modified:

1. a SQLite file that exists is checked read-only (header, schema revision);
2. a schema newer than this application is refused;
3. only then is the file opened read-write, pragmas set and Alembic run.

A database already at head skips importing Alembic, which keeps cold start fast.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from billing_desktop.config import DatabaseTarget
from billing_desktop.store import errors
from billing_desktop.store.models import AppSetting

log = logging.getLogger("billing_desktop.store")

#: The Alembic revision this application's schema is at. A test checks it
#: equals the head of ``store/migrations/versions``.
HEAD_REVISION = "0001_initial"

#: execution option marking a connection whose transaction will write
WRITE_OPTION = "billing_desktop_write"
SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass
class Database:
    """An open, migrated database: engine plus a session factory."""

    target: DatabaseTarget
    engine: Engine
    sessions: sessionmaker[Session] = field(repr=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One user action = one transaction: commit on success, roll back on error.

        On SQLite the transaction takes the write lock at once (``BEGIN
        IMMEDIATE``) so what it reads cannot change before it writes; a
        concurrent writer waits up to the busy timeout instead of failing late.
        """
        with self.sessions.begin() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            yield session

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self.sessions() as session:
            row = session.get(AppSetting, key)
            return row.value if row is not None else default

    def is_demo(self) -> bool:
        return self.setting("database.kind") == "demo"

    def is_empty(self) -> bool:
        """True for a brand-new database that holds no accounts yet."""
        from billing_desktop.store.models import Account

        with self.sessions() as session:
            return session.scalar(select(Account.id).limit(1)) is None

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction starts
    # (SQLAlchemy's recipe for correct SQLite transactions).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(target: DatabaseTarget) -> Engine:
    """Create the engine for ``target`` with per-connection SQLite pragmas."""
    if target.is_sqlite:
        engine = create_engine(target.url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(target.url, pool_pre_ping=True)


def _check_sqlite_file(path: Path) -> str | None:
    """Inspect an existing SQLite file without changing it; return its revision.

    Raises :class:`errors.CorruptDatabase` for anything that is not a readable
    SQLite database.
    """
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except PermissionError as exc:
        raise errors.ReadOnlyDatabase(str(path), str(exc)) from exc
    if header != SQLITE_HEADER:
        raise errors.CorruptDatabase(str(path))
    uri = f"file:{path}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=5)
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


def known_revisions() -> set[str]:
    """Every revision this application's migrations know about."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return {rev.revision for rev in script.walk_revisions()}


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


def open_database(target: DatabaseTarget, *, create: bool = True) -> Database:
    """Open ``target``, creating and migrating it as needed.

    Raises a :class:`errors.DatabaseError` subclass with a clear message for an
    unwritable folder, a corrupt, locked, read-only or newer database.
    """
    revision: str | None = None
    if target.is_sqlite and target.path is not None:
        path = target.path
        if path.exists():
            if path.is_dir():
                raise errors.CorruptDatabase(str(path), "is a folder")
            revision = _check_sqlite_file(path)
            if not os.access(path, os.W_OK):
                raise errors.ReadOnlyDatabase(str(path))
        else:
            if not create:
                raise errors.DatabaseError(str(path), "file not found")
            folder = path.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise errors.UnwritableLocation(str(path), exc.strerror or str(exc)) from exc
            if not os.access(folder, os.W_OK | os.X_OK):
                raise errors.UnwritableLocation(str(path), "permission denied")
        if revision is not None and revision != HEAD_REVISION and revision not in known_revisions():
            raise errors.NewerSchema(str(path), revision=revision)

    engine = make_engine(target)
    try:
        if not target.is_sqlite:
            revision = _current_revision(engine)
            if revision is not None and revision != HEAD_REVISION and (
                revision not in known_revisions()
            ):
                raise errors.NewerSchema(target.display_name(), revision=revision)
        if revision != HEAD_REVISION:
            log.info("migrating %s from %s to %s", target.display_name(), revision, HEAD_REVISION)
            migrate(engine)
    except errors.DatabaseError:
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        text = str(exc.orig)
        if "locked" in text:
            raise errors.DatabaseLocked(target.display_name(), text) from exc
        if "readonly" in text or "read-only" in text:
            raise errors.ReadOnlyDatabase(target.display_name(), text) from exc
        if "unable to open" in text:
            raise errors.UnwritableLocation(target.display_name(), text) from exc
        if not target.is_sqlite:
            raise errors.ServerUnavailable(target.display_name(), text) from exc
        raise errors.DatabaseError(target.display_name(), text) from exc
    except SADatabaseError as exc:
        engine.dispose()
        raise errors.CorruptDatabase(target.display_name(), str(exc.orig)) from exc
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    return Database(target=target, engine=engine, sessions=sessions)
