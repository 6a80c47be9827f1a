"""Making faults happen on purpose: a full disk, a lock held by another process, a
read-only or vanished file, mail servers that are down, refuse or never answer.

Shared by ``tests/faults`` and the GUI fault tests (``from faults.support import …``).
Each helper undoes its fault when its block ends, so a test can show that a
retry succeeds once the fault is gone.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def database_faults_wired() -> bool:
    """Whether ``store/database.py`` turns driver errors into ``DatabaseError`` (the
    ``errors.translated_errors`` block around its transactions and reads), so a
    disk that filled up mid-session reaches the user as a clear message.

    Until it does, the tests of faults during a session are expected to fail
    (``xfail(not wired, strict=True)``); they pass, unchanged, once it does.
    """
    from billing_desktop.store import database

    return "translated_errors(" in inspect.getsource(database)


WIRED = database_faults_wired()
#: marks a test of a fault during a session (see :func:`database_faults_wired`)
needs_wiring = pytest.mark.xfail(
    not WIRED,
    reason="store/database.py does not yet wrap transactions in errors.translated_errors "
    "(see the fault-matrix report)",
    strict=True,
)


# --------------------------------------------------------------------------- the database


class DiskLimit:
    """``PRAGMA max_page_count`` on every connection the engine hands out: while
    :attr:`full`, the database cannot grow by a single page (SQLite then fails
    the write with SQLITE_FULL, "database or disk is full", as on a full disk)."""

    #: SQLite's largest max_page_count
    NO_LIMIT = 4294967294

    def __init__(self, db: Any) -> None:
        self.db = db
        self.full = False

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if self.full:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")
        else:
            dbapi_connection.execute(f"PRAGMA max_page_count = {self.NO_LIMIT}")

    def __enter__(self) -> DiskLimit:
        from sqlalchemy import event

        event.listen(self.db.engine, "checkout", self._checkout)
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.db.engine, "checkout", self._checkout)
        self.db.engine.dispose()  # no connection keeps a limit


class QueryOnly:
    """Every connection the engine hands out refuses writes while :attr:`on` (SQLite's
    SQLITE_READONLY, "attempt to write a readonly database", as for a file that became
    read-only under the application: a remounted share, changed permissions)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.on = False

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA query_only = {'ON' if self.on else 'OFF'}")

    def __enter__(self) -> QueryOnly:
        from sqlalchemy import event

        event.listen(self.db.engine, "checkout", self._checkout)
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.db.engine, "checkout", self._checkout)
        self.db.engine.dispose()


def short_busy_timeout(monkeypatch: pytest.MonkeyPatch, db: Any, ms: int = 100) -> None:
    """Give up on a held lock after ``ms`` instead of 5 s: new connections read
    ``BUSY_TIMEOUT_MS`` when they open, so the open ones are closed."""
    from billing_desktop.store import database

    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", ms)
    db.engine.dispose()
    db.reader.close()


_LOCKER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
con.close()
print("released", flush=True)
"""


@contextlib.contextmanager
def write_lock_held_by_another_process(path: Path) -> Iterator[None]:
    """Another program holds the database's write lock (an open write transaction)
    until the block ends; its own change is rolled back."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "locked"
        yield
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "released"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def _chattr(flag: str, path: Path) -> bool:
    tool = shutil.which("chattr")
    if tool is None:
        return False
    return subprocess.run([tool, flag, str(path)], capture_output=True).returncode == 0


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """``path`` (a file or a folder) cannot be written until the block ends.

    Permission bits for an ordinary user; for root, who ignores them, the
    immutable attribute (``chattr +i``). Skips the test where neither works.
    """
    mode = path.stat().st_mode
    immutable = False
    if os.geteuid() == 0:
        immutable = _chattr("+i", path)
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        if os.access(path, os.W_OK):
            pytest.skip(f"cannot make {path} read-only here")
        yield
    finally:
        if immutable:
            _chattr("-i", path)
        path.chmod(mode)


@contextlib.contextmanager
def moved_away(path: Path) -> Iterator[Path]:
    """The database file is gone (moved: a disconnected drive looks the same) until
    the block ends, when it is put back."""
    hidden = path.with_name(path.name + ".away")
    os.replace(path, hidden)
    try:
        yield hidden
    finally:
        os.replace(hidden, path)


def checkpoint(path: Path) -> None:
    """Write the WAL into the main file, so the file alone holds every row."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


# --------------------------------------------------------------------------- mail servers


class _TcpServer:
    """A TCP server on 127.0.0.1 that handles each connection with :meth:`handle`."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port: int = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> _TcpServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(5)


class SilentSmtpServer(_TcpServer):
    """Accepts connections and never says a word: a server that hangs (overloaded,
    a firewall swallowing the traffic). Only a timeout gets the client out."""

    def handle(self, conn: socket.socket) -> None:
        pass


class RefusingSmtpServer(_TcpServer):
    """Greets every client with ``reply`` (e.g. "554 5.7.1 …") and hangs up."""

    def __init__(self, reply: str = "554 5.7.1 No SMTP service here") -> None:
        super().__init__()
        self.reply = reply

    def handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(self.reply.encode() + b"\r\n")
            conn.close()


class LoginRefusingSmtpServer:
    """A real SMTP server (aiosmtpd) that refuses every user name and password (535)."""

    def __init__(self) -> None:
        from helpers import SmtpCollector, free_port

        self.port = free_port()
        self.handler = SmtpCollector()
        self._controller: Any = None

    def __enter__(self) -> LoginRefusingSmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        def refuse(*_args: object) -> AuthResult:
            return AuthResult(success=False, handled=False)

        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port,
            authenticator=refuse, auth_require_tls=False,
        )  # fmt: skip
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()


# --------------------------------------------------------------------------- translations


@contextlib.contextmanager
def ui_language(qapp: Any, qm_folder: Path, language: str) -> Iterator[None]:
    """The application speaks ``language`` with the shipped translations until the block ends."""
    from PySide6.QtCore import QLocale

    from billing_desktop import i18n

    previous, locale = i18n.translations_dir, QLocale()
    i18n.translations_dir = lambda: qm_folder  # type: ignore[assignment]
    try:
        i18n.install(qapp, language)
        yield
    finally:
        i18n.uninstall(qapp)
        i18n.translations_dir = previous  # type: ignore[assignment]
        QLocale.setDefault(locale)
