"""Errors raised when a database cannot be opened or used, with user-facing text.

Messages are English source sentences marked for Qt's lupdate; the UI and the
command line translate them and fill in ``params``.

A :class:`DatabaseError` is a :class:`~billing_desktop.domain.errors.DomainError`:
every screen that shows a refused service call (``except DomainError`` →
``ui.errors.show_service_error``) shows a database fault the same way, keeping
the user's input, instead of the crash dialog.

The driver's own exceptions (``sqlite3.OperationalError: database or disk is
full``, SQLAlchemy's ``OperationalError`` around it, psycopg's errors) become
one of these classes through :func:`from_driver_error`, or the
:func:`translated_errors` block around a transaction or a read.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

log = logging.getLogger("billing_desktop.store")


def _rebuild(cls: type[DatabaseError], params: dict[str, object]) -> DatabaseError:
    params = dict(params)
    return cls(str(params.pop("path", "")), str(params.pop("detail", "")), **params)


class DatabaseError(DomainError):
    """A database problem the user must be told about, in one clear sentence."""

    code = "database_error"
    message = QT_TRANSLATE_NOOP("DatabaseError", "The database {path} cannot be used: {detail}")

    def __init__(self, path: str, detail: str = "", **params: object) -> None:
        super().__init__(
            type(self).code, type(self).message, {"path": path, "detail": detail, **params}
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(self.params)))


class UnwritableLocation(DatabaseError):
    code = "unwritable_location"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "Cannot create the database {path}: the folder is not writable ({detail}).",
    )


class CorruptDatabase(DatabaseError):
    code = "corrupt"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "The file {path} is not a valid Billing Desktop database or is damaged; "
        "it was left untouched.",
    )


class NewerSchema(DatabaseError):
    code = "newer_schema"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "The database {path} was created by a newer version of Billing Desktop "
        "(schema {revision}); update the application to open it. The file was left untouched.",
    )


class ReadOnlyDatabase(DatabaseError):
    code = "read_only"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "The database {path} is read-only; copy it to a writable folder or fix its permissions.",
    )


class DatabaseLocked(DatabaseError):
    code = "locked"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "The database {path} is locked by another program; close it and try again.",
    )


class DiskFull(DatabaseError):
    """SQLITE_FULL (or PostgreSQL's disk_full): a write needed space there was not."""

    code = "disk_full"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "The disk holding the database {path} is full, so nothing was saved. "
        "Free some disk space and try again.",
    )


class MissingDatabase(DatabaseError):
    """The file is gone: deleted, moved, or on a drive that is no longer connected."""

    code = "missing"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "The database file {path} cannot be found: it was moved or deleted, or its drive "
        "is not connected. Nothing was changed; put the file back and try again.",
    )


class DiskIOError(DatabaseError):
    """The operating system failed to read or write the file (a failing disk, a lost share)."""

    code = "io_error"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "The database {path} could not be read or written (a disk or network error); "
        "nothing was saved. Check the drive and try again.",
    )


class ServerUnavailable(DatabaseError):
    code = "server_unavailable"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError", "Cannot connect to the database server {path}: {detail}"
    )


class UnsupportedDatabase(DatabaseError):
    code = "unsupported"
    message = QT_TRANSLATE_NOOP(
        "DatabaseError",
        "{path} is not a database address Billing Desktop can use: {detail}",
    )


# --------------------------------------------------------------------------- driver errors

#: faults after which a pooled connection may stay unusable: the owner should
#: reconnect before the next attempt (a file opened read-only stays read-only)
RECONNECT_AFTER = (ReadOnlyDatabase, MissingDatabase, DiskIOError, CorruptDatabase)

#: PostgreSQL SQLSTATEs with a user-facing meaning (anything else is left alone)
_PG_STATES: dict[str, type[DatabaseError]] = {
    "53100": DiskFull,  # disk_full
    "55P03": DatabaseLocked,  # lock_not_available (lock_timeout)
    "57P01": ServerUnavailable,  # admin_shutdown
    "57P02": ServerUnavailable,  # crash_shutdown
    "57P03": ServerUnavailable,  # cannot_connect_now
}


def _sqlite_class(orig: sqlite3.Error, opening: bool) -> type[DatabaseError] | None:
    if isinstance(orig, sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return None  # a constraint or a misuse: a bug or a race, never the file's fault
    name = str(getattr(orig, "sqlite_errorname", "") or "")
    text = str(orig).lower()
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return DiskFull
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return DatabaseLocked
    if name == "SQLITE_READONLY_DBMOVED":
        return MissingDatabase
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return ReadOnlyDatabase
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return UnwritableLocation if opening else MissingDatabase
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (
        "malformed" in text or "not a database" in text
    ):
        return CorruptDatabase
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return DiskIOError
    if opening and isinstance(orig, sqlite3.OperationalError):
        return DatabaseError
    return None


def from_driver_error(
    name: str,
    exc: BaseException,
    *,
    is_sqlite: bool = True,
    opening: bool = False,
    reading: bool = False,
) -> DatabaseError | None:
    """The :class:`DatabaseError` a driver exception means for the user, or None.

    ``exc`` may be a ``sqlite3`` error, SQLAlchemy's wrapper of a driver error
    (its ``orig``) or a psycopg error. ``name`` is the database as the user
    knows it (the file path, the URL without password). ``opening``: the
    error came while opening the database (a failing ``CREATE`` of the file
    means its folder is not writable; any other operational error is still
    a reason not to open it). ``reading``: the error came from a read-only
    query, where "read-only" means the query tried to write (a bug).
    Constraint violations, SQL mistakes and unknown errors give None: they
    are bugs, for the crash handler.
    """
    if isinstance(exc, DatabaseError):
        return exc
    orig: Any = getattr(exc, "orig", None) or exc
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(orig, sqlite3.Error):
        cls = _sqlite_class(orig, opening)
        if cls is ReadOnlyDatabase and reading:
            return None
        return cls(name, detail) if cls is not None else None
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        cls = _PG_STATES.get(state)
        if cls is None and state.startswith("08"):  # connection_exception
            cls = ServerUnavailable
        if cls is not None:
            return cls(name, detail)
    if getattr(exc, "connection_invalidated", False):
        return ServerUnavailable(name, detail)
    if opening and not is_sqlite and type(exc).__name__ == "OperationalError":
        return ServerUnavailable(name, detail)
    return None


@contextmanager
def translated_errors(
    name: str, *, is_sqlite: bool = True, reading: bool = False
) -> Iterator[None]:
    """Turn a driver error raised in the block into its :class:`DatabaseError`.

    Put it around a write transaction (``Database.transaction``) and the
    reader's queries: a disk that filled up, a lock held by another program,
    a file that became read-only or vanished then reach the UI as a clear,
    translated message, with the transaction rolled back. Errors the user
    cannot act on (a constraint, an SQL mistake, a write tried through a
    ``reading`` connection) pass through unchanged.
    """
    try:
        yield
    except DomainError:
        raise
    except Exception as exc:
        mapped = from_driver_error(name, exc, is_sqlite=is_sqlite, reading=reading)
        if mapped is None:
            raise
        log.warning("database %s: %s (%s)", name, mapped.code, mapped.params.get("detail"))
        raise mapped from exc
