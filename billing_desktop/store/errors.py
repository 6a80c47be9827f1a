"""Errors raised when a database cannot be opened or used, with user-facing text.

Messages are English source sentences marked for Qt's lupdate; the UI and the
command line translate them and fill in ``params``.
"""

from __future__ import annotations

from billing_desktop.domain.text import QT_TRANSLATE_NOOP


class DatabaseError(Exception):
    """A database problem the user must be told about, in one clear sentence."""

    code = "database_error"
    message = QT_TRANSLATE_NOOP("DatabaseError", "The database {path} cannot be used: {detail}")

    def __init__(self, path: str, detail: str = "", **params: object) -> None:
        self.params: dict[str, object] = {"path": path, "detail": detail, **params}
        super().__init__(str(self))

    def __str__(self) -> str:
        return self.message.format(**self.params)


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
