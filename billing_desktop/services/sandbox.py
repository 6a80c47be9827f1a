"""The trainer's sandbox (issue 7): fresh demo databases, reset, named snapshots.

A demo database is an SQLite file marked ``database.kind = demo``. Here:

* :func:`new_demo_database` writes the curated dataset into a new file (or
  over an existing *demo* file); it never writes to a file that is not a demo
  database.
* :func:`reset_demo` gives the open demo database back exactly the content it
  started with: the curated dataset rebuilt for the demo's start date
  (``demo.start_date``, see :func:`billing_desktop.services.demo.mark_demo`).
  The loader is deterministic, so rows, ids and timestamps are those of a
  freshly built demo; the simulated date is back at the start.
* :func:`save_snapshot` / :func:`restore_snapshot` copy the whole database
  with SQLite's online backup API (``sqlite3.Connection.backup``) into
  ``<demo>.snapshots/<slug>.sqlite3`` and back; ``index.json`` in that folder
  lists the snapshots (name, when taken, simulated date).

Both reset and restore write into the *open* database through the backup API,
which copies all pages in one write transaction under SQLite's own locking, so
other connections never see half of it. Nothing stale is read afterwards:
SQLite checks at the start of every read transaction whether the file changed
(WAL index, change counter, schema cookie) and drops its cache if so, and the
reader's connections run every statement as its own transaction. Those
per-thread reader connections are therefore kept open — another thread may be
reading with one (a background refresh), and closing a connection under a
running statement crashes the process. The engine's pooled connections are
dropped before and after (they are idle: a change in progress, i.e. a
checked-out connection, makes the swap refuse instead of waiting). The GUI
then re-opens its window on the file.

Nothing here writes an audit entry: a reset or restore replaces the whole
content, so an entry in the database would be lost or would make the result
differ from the dataset it restores. Each is logged instead.

Who may: :attr:`Action.MANAGE_DEMO` — administrators and trainers, in a demo
database only; listing snapshots is a read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from billing_desktop.config import DatabaseTarget, target_from
from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.errors import NotFound, PermissionDenied, ServiceError

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.store.database import Database

__all__ = [
    "DemoDatabase",
    "NotADemoDatabase",
    "PreparedReset",
    "SandboxBusy",
    "SnapshotExists",
    "SnapshotInfo",
    "apply_reset",
    "delete_snapshot",
    "demo_start_date",
    "dump_content",
    "list_snapshots",
    "may_manage_demo",
    "new_demo_database",
    "prepare_reset",
    "reset_demo",
    "restore_snapshot",
    "save_snapshot",
    "snapshot_folder",
]

log = logging.getLogger("billing_desktop.sandbox")

SNAPSHOT_FOLDER_SUFFIX = ".snapshots"
SNAPSHOT_SUFFIX = ".sqlite3"
INDEX_NAME = "index.json"
INDEX_VERSION = 1
MAX_NAME_LENGTH = 80
#: seconds a reset or restore waits for another connection's write to finish
BUSY_TIMEOUT_S = 5.0
_SQLITE_HEADER = b"SQLite format 3\x00"
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SIDE_FILES = ("-wal", "-shm", "-journal")


# --------------------------------------------------------------------------- errors


class NotADemoDatabase(PermissionDenied):
    """The database (or file) is not a demo database: nothing was changed."""

    def __init__(self, database: str) -> None:
        super().__init__(
            "not_a_demo",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{database} is not a demo database. Resets, snapshots and new demo data "
                "are only for demo databases; it was left unchanged.",
            ),
            database=database,
        )


class SandboxBusy(ServiceError):
    """Another change to the demo database is in progress; nothing was replaced."""

    def __init__(self, database: str) -> None:
        super().__init__(
            "demo_busy",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The demo database {database} is busy with another change. Wait until it "
                "has finished and try again; nothing was replaced.",
            ),
            database=database,
        )


class SnapshotExists(ServiceError):
    """A snapshot of that name exists (``replace=True`` overwrites it)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            "snapshot_exists",
            QT_TRANSLATE_NOOP("ServiceError", "A snapshot named “{name}” already exists."),
            name=name,
        )


def _needs_file(database: str) -> ValidationError:
    return ValidationError(
        "demo_needs_file",
        QT_TRANSLATE_NOOP(
            "ServiceError",
            "Demo databases and snapshots need a database file; {database} is on a server.",
        ),
        database=database,
    )


def _unusable_snapshot(name: str) -> ValidationError:
    return ValidationError(
        "snapshot_unusable",
        QT_TRANSLATE_NOOP(
            "ServiceError",
            "The snapshot “{name}” cannot be restored: its file is missing, damaged or from "
            "another version of Billing Desktop. The demo database was left unchanged.",
        ),
        name=name,
    )


#: the "what" of NotFound for a snapshot, translated by the UI
SNAPSHOT_WORD = QT_TRANSLATE_NOOP("ServiceError", "Snapshot")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DemoDatabase:
    """A demo database just (re)built: where it is and the date it starts on."""

    path: Path
    start_date: date


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One saved state of a demo database."""

    name: str
    #: the file's name inside :func:`snapshot_folder`
    file: str
    #: when it was saved (the computer's clock)
    created_at: datetime
    #: the demo's simulated date at that moment
    simulated_date: date | None


# --------------------------------------------------------------------------- sqlite helpers


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    con.isolation_level = None  # no implicit transactions: the backup API needs none open
    return con


def _abort_when_busy(database: str) -> Any:
    """A backup progress callback that gives up (instead of retrying forever) when locked."""

    def progress(status: int, _remaining: int, _total: int) -> None:
        if status in (_SQLITE_BUSY, _SQLITE_LOCKED):
            raise SandboxBusy(database)

    return progress


def _backup(source: Path, destination: Path, *, self_contained: bool = False) -> None:
    """Copy every page of ``source`` into ``destination`` in one step (one transaction).

    ``self_contained``: leave the destination in rollback-journal mode, a single
    file without ``-wal``/``-shm`` (snapshots). Otherwise the destination keeps
    its journal mode (the open demo database stays in WAL mode).
    """
    src = _connect(source)
    try:
        src.execute("PRAGMA query_only = ON")
        dst = _connect(destination)
        try:
            src.backup(dst, progress=_abort_when_busy(str(destination)))
            if self_contained:
                dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _remove_side_files(path: Path) -> None:
    for suffix in _SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def _file_kind(path: Path) -> str | None:
    """``"demo"``, ``"other"`` (anything else, unreadable included) or None if absent.

    Read-only: a file that is not a demo database is never opened for writing.
    """
    if not path.exists():
        return None
    if not path.is_file():
        return "other"
    try:
        with path.open("rb") as fh:
            if fh.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
                return "other"
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=1.0)
        try:
            row = con.execute(
                "SELECT value FROM app_settings WHERE key = 'database.kind'"
            ).fetchone()
        finally:
            con.close()
    except (OSError, sqlite3.Error):
        return "other"
    return "demo" if row and row[0] == "demo" else "other"


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the file so it can be copied or moved on its own."""
    con = _connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def _build_curated_file(path: Path, today: date) -> None:
    """Create ``path`` (a new file) holding the curated demo dataset for ``today``."""
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    db = open_database(DatabaseTarget(path))
    try:
        load_curated(db, today)
    finally:
        db.dispose()
    _checkpoint(path)


@contextlib.contextmanager
def _curated_build(folder: Path, today: date) -> Iterator[Path]:
    """A freshly built curated demo database in a temporary file inside ``folder``."""
    with tempfile.TemporaryDirectory(prefix=".demo-build-", dir=folder) as tmp:
        path = Path(tmp) / "demo.sqlite3"
        _build_curated_file(path, today)
        yield path


def _require_idle(db: Database) -> None:
    """Refuse while one of the database's pooled connections is in use (a change running)."""
    engine = db.__dict__.get("engine")  # only if the write path was opened
    checked_out = getattr(getattr(engine, "pool", None), "checkedout", None)
    if checked_out is not None and checked_out() > 0:
        raise SandboxBusy(db.target.display_name())


def _drop_pooled_connections(db: Database) -> None:
    """Close the engine's idle pooled connections (checked-out ones are left alone)."""
    engine = db.__dict__.get("engine")
    if engine is not None:
        engine.dispose()


def _swap_in(db: Database, source: Path) -> None:
    """Make the open database's content that of ``source`` (backup API, one transaction).

    See the module docstring for why every connection then reads the new content.
    """
    path = db.target.path
    assert path is not None
    _require_idle(db)
    _drop_pooled_connections(db)
    try:
        _backup(source, path)
    finally:
        _drop_pooled_connections(db)


# --------------------------------------------------------------------------- checks


def _demo_file(ctx: AppContext) -> Path:
    """The open demo database's file, after the permission check; refuses anything else."""
    from billing_desktop.services.auth import Action, authorize

    authorize(ctx, Action.MANAGE_DEMO)
    return _checked_demo_file(ctx.db)


def may_manage_demo(ctx: AppContext) -> bool:
    """Whether the operator may reset this database and save or restore its snapshots."""
    from billing_desktop.services.auth import Action, authorize

    try:
        authorize(ctx, Action.MANAGE_DEMO)
    except PermissionDenied:
        return False
    return True


def _checked_demo_file(db: Database) -> Path:
    path = db.target.path
    if path is None:
        raise _needs_file(db.target.display_name())
    # ctx.is_demo was read when the database was opened: ask the file itself too.
    if not db.is_demo():
        raise NotADemoDatabase(path.name)
    return path


def _as_target(path_or_target: DatabaseTarget | Path | str) -> DatabaseTarget:
    if isinstance(path_or_target, DatabaseTarget):
        return path_or_target
    return target_from(str(path_or_target))


# --------------------------------------------------------------------------- new / reset


def new_demo_database(path_or_target: DatabaseTarget | Path | str, today: date) -> DemoDatabase:
    """Write a fresh curated demo database, starting on ``today``, to a file.

    A new file is built beside the target under a temporary name and moved into
    place when complete. An existing *demo* database is overwritten through the
    backup API (safe even if it is open somewhere). Any other existing file —
    a real database, empty or not, or not a database at all — is refused with
    :class:`NotADemoDatabase` and left untouched; so is a server database.
    Location problems raise :class:`billing_desktop.store.errors.DatabaseError`.
    """
    from billing_desktop.store import errors

    target = _as_target(path_or_target)
    if target.path is None:
        raise _needs_file(target.display_name())
    path = target.path
    kind = _file_kind(path)
    if kind == "other":
        raise NotADemoDatabase(path.name)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.UnwritableLocation(str(path), exc.strerror or str(exc)) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors.UnwritableLocation(str(path), "permission denied")
    with _curated_build(folder, today) as built:
        if kind == "demo":
            _backup(built, path)
        else:
            _remove_side_files(built)
            _remove_side_files(path)  # stale ones would be applied to the new file
            os.replace(built, path)
    log.info("new demo database %s starting %s", path, today)
    return DemoDatabase(path=path, start_date=today)


def demo_start_date(db: Database) -> date:
    """The date the demo's curated dataset was built for (where a reset takes it back).

    Recorded as ``demo.start_date``; a demo built before that was recorded is
    dated from its first curated account, created three years (1,095 days)
    before the build date.
    """
    from billing_desktop.services.demo import START_KEY

    stored = db.setting(START_KEY)
    if stored:
        return date.fromisoformat(stored)
    created = db.reader.scalar("SELECT created_at FROM accounts WHERE account_number = 'A-100001'")
    if created:
        return datetime.fromisoformat(str(created)).date() + timedelta(days=3 * 365)
    from billing_desktop.services.clock import SIMULATED_KEY

    simulated = db.setting(SIMULATED_KEY)
    return date.fromisoformat(simulated) if simulated else date.today()


@dataclass
class PreparedReset:
    """A freshly built curated demo file, waiting to replace the open demo's content.

    Made by :func:`prepare_reset` (slow: builds the dataset; any thread), used by
    :func:`apply_reset` (fast: one backup; on the thread that reads the database,
    the GUI thread in the application), then :meth:`discard`-ed.
    """

    database: Path
    start_date: date
    folder: tempfile.TemporaryDirectory[str] = field(repr=False)

    def discard(self) -> None:
        """Delete the built file (also done when the object is garbage-collected)."""
        self.folder.cleanup()


def prepare_reset(ctx: AppContext) -> PreparedReset:
    """Check and build what :func:`reset_demo` restores; the open database is not touched."""
    path = _demo_file(ctx)
    start = demo_start_date(ctx.db)
    _require_idle(ctx.db)
    folder = tempfile.TemporaryDirectory(prefix=".demo-build-", dir=path.parent)
    try:
        built = Path(folder.name) / "demo.sqlite3"
        _build_curated_file(built, start)
    except BaseException:
        folder.cleanup()
        raise
    return PreparedReset(database=built, start_date=start, folder=folder)


def apply_reset(ctx: AppContext, prepared: PreparedReset) -> DemoDatabase:
    """Replace the open demo database's content with ``prepared`` (see :func:`reset_demo`)."""
    path = _demo_file(ctx)
    _swap_in(ctx.db, prepared.database)
    log.info(
        "demo database %s reset to its start (%s) by %s",
        path, prepared.start_date, ctx.operator.email,
    )  # fmt: skip
    return DemoDatabase(path=path, start_date=prepared.start_date)


def reset_demo(ctx: AppContext) -> DemoDatabase:
    """Give the open demo database back its curated dataset, as on the day it started.

    Everything done since — orders, cancellations, payments, emails, clock
    moves, operators created in it — is replaced by a freshly built curated
    dataset for the demo's start date (:func:`demo_start_date`): the same rows,
    ids included, and the simulated date back at the start. Snapshots are kept.

    Needs :attr:`Action.MANAGE_DEMO` (admin, trainer) on a demo database; refuses
    while another change is running (:class:`SandboxBusy`). The acting operator
    may not exist afterwards (the local operator is created again when the
    database is next opened, as for any fresh demo): re-open the context.
    The same in two steps: :func:`prepare_reset` and :func:`apply_reset`.
    """
    prepared = prepare_reset(ctx)
    try:
        return apply_reset(ctx, prepared)
    finally:
        prepared.discard()


# --------------------------------------------------------------------------- snapshots


def snapshot_folder(path: Path) -> Path:
    """Where the snapshots of the demo database file ``path`` are kept."""
    return path.with_name(path.name + SNAPSHOT_FOLDER_SUFFIX)


def _clean_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise ValidationError(
            "snapshot_name_required",
            QT_TRANSLATE_NOOP("ServiceError", "Give the snapshot a name."),
        )
    if len(clean) > MAX_NAME_LENGTH:
        raise ValidationError(
            "snapshot_name_too_long",
            QT_TRANSLATE_NOOP("ServiceError", "A snapshot name can have at most {max} characters."),
            max=MAX_NAME_LENGTH,
        )
    return clean


def _same_name(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _slug(name: str, taken: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    base = base or "snapshot"
    slug, n = base, 2
    while f"{slug}{SNAPSHOT_SUFFIX}".casefold() in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _read_index(folder: Path) -> list[SnapshotInfo]:
    """The snapshots listed in the index whose file exists (oldest first).

    An unreadable index does not lose the snapshots: they are listed from their
    files (named after the file, dated by its modification time).
    """
    index = folder / INDEX_NAME
    entries: list[SnapshotInfo] = []
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
        for raw in data["snapshots"]:
            simulated = raw.get("simulated_date")
            entries.append(
                SnapshotInfo(
                    name=str(raw["name"]),
                    file=Path(str(raw["file"])).name,  # never a path outside the folder
                    created_at=datetime.fromisoformat(raw["created_at"]),
                    simulated_date=date.fromisoformat(simulated) if simulated else None,
                )
            )
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("snapshot index %s is unreadable; listing the files", index)
        entries = [
            SnapshotInfo(
                name=file.stem,
                file=file.name,
                created_at=datetime.fromtimestamp(file.stat().st_mtime).replace(microsecond=0),
                simulated_date=_simulated_date_of(file),
            )
            for file in sorted(folder.glob(f"*{SNAPSHOT_SUFFIX}"), key=_modified)
        ]
    return [e for e in entries if (folder / e.file).is_file()]


def _modified(file: Path) -> tuple[float, str]:
    return file.stat().st_mtime, file.name


def _write_index(folder: Path, entries: list[SnapshotInfo]) -> None:
    data = {
        "version": INDEX_VERSION,
        "snapshots": [
            {
                "name": e.name,
                "file": e.file,
                "created_at": e.created_at.isoformat(),
                "simulated_date": e.simulated_date.isoformat() if e.simulated_date else None,
            }
            for e in entries
        ],
    }
    temp = folder / f".{INDEX_NAME}.tmp"
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temp, folder / INDEX_NAME)


def _simulated_date_of(file: Path) -> date | None:
    from billing_desktop.services.clock import SIMULATED_KEY

    try:
        con = sqlite3.connect(file.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            row = con.execute(
                "SELECT value FROM app_settings WHERE key = ?", (SIMULATED_KEY,)
            ).fetchone()
        finally:
            con.close()
        return date.fromisoformat(row[0]) if row and row[0] else None
    except (sqlite3.Error, ValueError):
        return None


def list_snapshots(ctx: AppContext) -> list[SnapshotInfo]:
    """The open demo database's snapshots, newest first (a read: every role)."""
    if not ctx.is_demo:
        raise NotADemoDatabase(ctx.db.target.display_name())
    path = _checked_demo_file(ctx.db)
    return list(reversed(_read_index(snapshot_folder(path))))  # the index is oldest first


def save_snapshot(ctx: AppContext, name: str, *, replace: bool = False) -> SnapshotInfo:
    """Save the demo database's current state as ``name`` (backup API; the database is unchanged).

    Names are compared without regard to case; an existing one raises
    :class:`SnapshotExists` unless ``replace``. The snapshot is written under a
    temporary name and moved into place when complete.
    """
    path = _demo_file(ctx)
    clean = _clean_name(name)
    folder = snapshot_folder(path)
    folder.mkdir(exist_ok=True)
    entries = _read_index(folder)
    old = next((e for e in entries if _same_name(e.name, clean)), None)
    if old is not None and not replace:
        raise SnapshotExists(old.name)
    others = [e for e in entries if e is not old]
    file = (
        old.file
        if old is not None
        else (_slug(clean, {e.file.casefold() for e in entries}) + SNAPSHOT_SUFFIX)
    )
    from billing_desktop.services.clock import SIMULATED_KEY

    simulated = ctx.db.setting(SIMULATED_KEY)
    temp = folder / f".{file}.saving"
    _remove_side_files(temp)
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    try:
        _backup(path, temp, self_contained=True)
        os.replace(temp, folder / file)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        _remove_side_files(temp)
        raise
    info = SnapshotInfo(
        name=clean,
        file=file,
        created_at=datetime.now().replace(microsecond=0),
        simulated_date=date.fromisoformat(simulated) if simulated else None,
    )
    _write_index(folder, [*others, info])
    log.info("snapshot %r of %s saved by %s", clean, path, ctx.operator.email)
    return info


def _find(folder: Path, name: str) -> tuple[list[SnapshotInfo], SnapshotInfo]:
    entries = _read_index(folder)
    found = next((e for e in entries if _same_name(e.name, name)), None)
    if found is None:
        raise NotFound(SNAPSHOT_WORD, name)
    return entries, found


def _usable_snapshot(file: Path) -> bool:
    """A snapshot file is restored only if it is intact, of this schema and a demo."""
    from billing_desktop.store.database import HEAD_REVISION

    try:
        with file.open("rb") as fh:
            if fh.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
                return False
        con = sqlite3.connect(file.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            if con.execute("PRAGMA quick_check").fetchone() != ("ok",):
                return False
            revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
            kind = con.execute(
                "SELECT value FROM app_settings WHERE key = 'database.kind'"
            ).fetchone()
        finally:
            con.close()
    except (OSError, sqlite3.Error):
        return False
    return revision == (HEAD_REVISION,) and kind == ("demo",)


def restore_snapshot(ctx: AppContext, name: str) -> SnapshotInfo:
    """Put the demo database back in the state saved as ``name``.

    The snapshot's pages are copied into the open database with the backup API
    while no change is running (:class:`SandboxBusy` otherwise); every later
    read, on any connection, sees the restored content (module docstring). A
    damaged or incompatible snapshot is refused and the database left as it
    was. The snapshot itself is kept.
    """
    path = _demo_file(ctx)
    _entries, info = _find(snapshot_folder(path), name)
    file = snapshot_folder(path) / info.file
    if not _usable_snapshot(file):
        raise _unusable_snapshot(info.name)
    _swap_in(ctx.db, file)
    log.info("snapshot %r restored into %s by %s", info.name, path, ctx.operator.email)
    return info


def delete_snapshot(ctx: AppContext, name: str) -> None:
    """Delete the snapshot ``name`` (its file and its index entry)."""
    path = _demo_file(ctx)
    folder = snapshot_folder(path)
    entries, info = _find(folder, name)
    _write_index(folder, [e for e in entries if e is not info])
    with contextlib.suppress(FileNotFoundError):
        (folder / info.file).unlink()
    _remove_side_files(folder / info.file)
    log.info("snapshot %r of %s deleted by %s", info.name, path, ctx.operator.email)


# --------------------------------------------------------------------------- comparing content


def dump_content(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows ordered by primary key (rowid for tables without one).

    Nothing is left out — catalog, settings, the schema revision. Two databases
    with equal dumps hold the same data, ids included. Read with a separate
    read-only connection, so it shows what is committed in the file.
    """
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        dump: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables:
            info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
            keys = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
            columns = keys or [row[1] for row in info]
            order = ", ".join(f'"{c}"' for c in columns)
            dump[table] = con.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
        return dump
    finally:
        con.close()
