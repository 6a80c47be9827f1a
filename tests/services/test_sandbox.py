"""The trainer's sandbox: new demo databases, reset, snapshots (issue 7 items 1 and 5).

Acceptance: "Reset restores the curated dataset byte-identical in content after
any sequence of actions" — every table's rows, ordered by primary key, ids,
timestamps, settings and the schema revision included, equal those of a
freshly built curated demo database for the same start date.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from billing_desktop.config import DatabaseTarget, target_from
from billing_desktop.domain.errors import DomainError, ValidationError
from billing_desktop.services import cancellation, cart, checkout, licences, payments
from billing_desktop.services.cart import CartChange
from billing_desktop.services.clock import clock_for, set_simulated_date
from billing_desktop.services.context import AppContext, OperatorInfo, open_context
from billing_desktop.services.demo import START_KEY, load_curated
from billing_desktop.services.errors import NotFound, PermissionDenied
from billing_desktop.services.operators import update_operator_identity
from billing_desktop.services.sandbox import (
    NotADemoDatabase,
    SandboxBusy,
    SnapshotExists,
    apply_reset,
    delete_snapshot,
    demo_start_date,
    dump_content,
    list_snapshots,
    new_demo_database,
    prepare_reset,
    reset_demo,
    restore_snapshot,
    save_snapshot,
    snapshot_folder,
)
from billing_desktop.store.database import Database, open_database

START = date(2026, 4, 26)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    path = tmp_path / "trainer" / "demo.sqlite3"
    new_demo_database(path, START)
    return path


@pytest.fixture
def sandbox(demo_path: Path) -> Iterator[AppContext]:
    """The demo database opened as the application does (local admin, simulated clock)."""
    db = open_database(DatabaseTarget(demo_path))
    try:
        yield open_context(db)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def curated_dump(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    """A freshly built curated demo database for START, built the plain way."""
    path = tmp_path_factory.mktemp("curated") / "fresh.sqlite3"
    db = open_database(target_from(str(path)))
    try:
        load_curated(db, START)
    finally:
        db.dispose()
    return dump_content(path)


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes.

    Not the ``-shm`` files: SQLite's shared-memory index, which every reader
    writes its read marks into.
    """
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith("-shm")
    }


def _sub(ctx: AppContext, account: str, product: str) -> int:
    return ctx.db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id"
        " JOIN products p ON p.id = s.product_id"
        " WHERE a.account_number = :a AND p.code = :p",
        {"a": account, "p": product},
    )


def _contact(ctx: AppContext, email: str) -> int:
    return ctx.db.reader.scalar("SELECT id FROM contacts WHERE email = :e", {"e": email})


def _licences(ctx: AppContext, account: str, product: str) -> int:
    return ctx.db.reader.scalar(
        "SELECT licence_count FROM subscriptions WHERE id = :id",
        {"id": _sub(ctx, account, product)},
    )


_keys = iter(range(10**6))


def _order(account: str, product: str, licences_: int) -> Callable[[AppContext], object]:
    def run(ctx: AppContext) -> object:
        sub = _sub(ctx, account, product)
        cart.add_to_cart(
            ctx, account, CartChange.change_licences(sub, licences_), on_behalf_of_customer=False
        )
        return checkout.place_order(
            ctx, account, idempotency_key=f"sandbox-{next(_keys)}", on_behalf_of_customer=False
        )

    return run


def _clock(days: int) -> Callable[[AppContext], object]:
    return lambda ctx: set_simulated_date(ctx, ctx.clock.today() + timedelta(days=days))


#: Things a trainer does in a demo; each may also be refused by a business rule.
STEPS: dict[str, Callable[[AppContext], object]] = {
    "order_more_licences": _order("A-100002", "gotoassist_rs_v5", 12),
    "order_corporate": _order("A-100016", "goto_webinar", 4),
    "cancel_online": lambda c: cancellation.cancel_online(
        c, _sub(c, "A-100001", "gotoassist_rs_v4"), reason="too_expensive"
    ),
    "reactivate": lambda c: cancellation.reactivate(c, _sub(c, "A-100011", "goto_meeting")),
    "add_card": lambda c: payments.add_card(
        c,
        "A-100007",
        number="5555 5555 5555 4444",
        exp_month=3,
        exp_year=2030,
        holder_name="Lucía García",
    ),
    "pay_balance": lambda c: payments.record_payment(c, "A-100009", reference="BT-7"),
    "unassign_seats": lambda c: licences.unassign_all(c, "A-100005"),
    "clock_one_day": _clock(1),
    "clock_one_month": _clock(31),
    "rename_operator": lambda c: update_operator_identity(c, "Trainer Tess", "tess@example.org"),
}


def _run(ctx: AppContext, step: str) -> None:
    # a business rule may say no: the sequence goes on, as a trainer's would
    with contextlib.suppress(DomainError):
        STEPS[step](ctx)


# --------------------------------------------------------------------------- new demo database


def test_new_demo_database_holds_the_curated_dataset(demo_path: Path, curated_dump) -> None:
    assert dump_content(demo_path) == curated_dump
    settings = dict(curated_dump["app_settings"])
    assert settings["database.kind"] == "demo"
    assert settings["clock.today"] == settings[START_KEY] == START.isoformat()
    assert not list(demo_path.parent.glob(".demo-build-*"))  # the build folder is gone
    db = open_database(DatabaseTarget(demo_path))
    try:
        assert db.is_demo() and demo_start_date(db) == START
    finally:
        db.dispose()


def test_new_demo_database_over_an_existing_demo_starts_it_afresh(
    sandbox: AppContext, demo_path: Path, curated_dump
) -> None:
    _run(sandbox, "order_more_licences")
    _run(sandbox, "clock_one_month")
    assert dump_content(demo_path) != curated_dump
    new_demo_database(str(demo_path), START)  # written through SQLite: safe while open
    assert dump_content(demo_path) == curated_dump
    assert _licences(sandbox, "A-100002", "gotoassist_rs_v5") == 10  # the open one sees it
    assert sandbox.clock.today() == START


@pytest.mark.sqlite_only
def test_new_demo_database_refuses_a_real_database_and_other_files(tmp_path: Path, db) -> None:
    real = db.target.path
    before = _files(real.parent)
    with pytest.raises(NotADemoDatabase) as refused:
        new_demo_database(db.target, START)
    assert refused.value.code == "not_a_demo" and "billing.sqlite3" in str(refused.value)
    other = tmp_path / "notes.sqlite3"
    other.write_text("not a database", encoding="utf-8")
    with pytest.raises(NotADemoDatabase):
        new_demo_database(other, START)
    assert other.read_text(encoding="utf-8") == "not a database"
    assert _files(real.parent) == {**before, "notes.sqlite3": _files(tmp_path)["notes.sqlite3"]}
    with pytest.raises(ValidationError) as server:
        new_demo_database(DatabaseTarget(None, "postgresql://u:secret@host/db"), START)
    assert server.value.code == "demo_needs_file" and "secret" not in str(server.value)


# --------------------------------------------------------------------------- reset


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_reset_after_a_sequence_of_actions_gives_the_curated_dataset_back(
    seed: int, sandbox: AppContext, demo_path: Path, curated_dump
) -> None:
    """Orders, cancellations, payments, clock moves, snapshots saved and restored, in
    an order drawn from the seed (hypothesis-free, reproducible), then a reset."""
    rng = random.Random(seed)
    ctx = sandbox
    pool = list(STEPS)
    sequence = [rng.choice(pool) for _ in range(8)] + ["clock_one_month"]
    for index, step in enumerate(sequence):
        _run(ctx, step)
        if index == 2:
            save_snapshot(ctx, f"Scene {seed}")
        if index == 5:
            restore_snapshot(ctx, f"Scene {seed}")
            ctx = open_context(ctx.db)
    assert dump_content(demo_path) != curated_dump  # something really happened
    assert ctx.clock.today() > START

    result = reset_demo(ctx)

    assert result.start_date == START and result.path == demo_path
    assert dump_content(demo_path) == curated_dump
    assert clock_for(ctx.db).today() == START
    assert [s.name for s in list_snapshots(ctx)] == [f"Scene {seed}"]  # snapshots are kept


def test_reset_twice_and_work_on_afterwards(sandbox: AppContext, demo_path: Path, curated_dump):
    reset_demo(sandbox)
    reset_demo(sandbox)
    assert dump_content(demo_path) == curated_dump
    # Re-opened as the application does: the local operator comes back and works.
    ctx = open_context(sandbox.db)
    _run(ctx, "order_more_licences")
    assert _licences(ctx, "A-100002", "gotoassist_rs_v5") == 12
    reset_demo(ctx)
    assert dump_content(demo_path) == curated_dump


def test_reset_in_two_steps_builds_first_and_swaps_after(
    sandbox: AppContext, demo_path: Path, curated_dump
) -> None:
    """prepare_reset (slow, any thread) leaves the database alone; apply_reset swaps."""
    _run(sandbox, "order_more_licences")
    changed = dump_content(demo_path)
    prepared = prepare_reset(sandbox)
    assert dump_content(demo_path) == changed
    assert prepared.database.parent.parent == demo_path.parent  # same disk as the demo
    assert dump_content(prepared.database) == curated_dump
    assert apply_reset(sandbox, prepared).start_date == START
    assert dump_content(demo_path) == curated_dump
    prepared.discard()
    assert not prepared.database.exists()
    assert not list(demo_path.parent.glob(".demo-build-*"))


def test_reset_of_an_older_demo_without_a_start_date(sandbox: AppContext, demo_path: Path):
    """A demo built before the start date was recorded is dated from its curated accounts."""
    from billing_desktop.store.models import AppSetting

    _run(sandbox, "clock_one_month")
    with sandbox.db.transaction() as session:
        session.delete(session.get(AppSetting, START_KEY))
    assert demo_start_date(sandbox.db) == START
    reset_demo(sandbox)
    assert sandbox.db.setting(START_KEY) == START.isoformat()
    assert clock_for(sandbox.db).today() == START


# --------------------------------------------------------------------------- snapshots


def test_snapshot_round_trip(sandbox: AppContext, demo_path: Path) -> None:
    ctx = sandbox
    _run(ctx, "order_corporate")
    _run(ctx, "clock_one_day")
    saved_state = dump_content(demo_path)
    before = datetime.now().replace(microsecond=0)
    info = save_snapshot(ctx, "  Before the   cancellation ")
    assert info.name == "Before the cancellation"
    assert info.simulated_date == START + timedelta(days=1)
    assert before <= info.created_at <= datetime.now()
    assert dump_content(demo_path) == saved_state  # saving changes nothing

    _run(ctx, "cancel_online")
    _run(ctx, "clock_one_month")
    _run(ctx, "add_card")
    assert dump_content(demo_path) != saved_state

    restored = restore_snapshot(ctx, "before the CANCELLATION")  # any case
    assert restored == info
    assert dump_content(demo_path) == saved_state
    assert ctx.clock.today() == START + timedelta(days=1)
    # the snapshot is kept: the scene can be played again
    _run(ctx, "cancel_online")
    restore_snapshot(ctx, info.name)
    assert dump_content(demo_path) == saved_state


def test_snapshot_files_and_index(sandbox: AppContext, demo_path: Path) -> None:
    ctx = sandbox
    first = save_snapshot(ctx, "Scène 1: trial ends")
    _run(ctx, "clock_one_month")
    second = save_snapshot(ctx, "scene-1-trial-ends")  # the same slug: another file
    folder = snapshot_folder(demo_path)
    assert folder == demo_path.with_name("demo.sqlite3.snapshots")
    assert first.file == "scene-1-trial-ends.sqlite3"
    assert second.file == "scene-1-trial-ends-2.sqlite3"
    assert sorted(p.name for p in folder.iterdir()) == [
        "index.json", "scene-1-trial-ends-2.sqlite3", "scene-1-trial-ends.sqlite3",
    ]  # fmt: skip
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["simulated_date"]) for s in index["snapshots"]] == [
        ("Scène 1: trial ends", "2026-04-26"),
        ("scene-1-trial-ends", "2026-05-27"),
    ]
    # Each snapshot is one self-contained file (rollback journal, no -wal beside it).
    with (folder / first.file).open("rb") as fh:
        header = fh.read(20)
    assert header[18:20] == b"\x01\x01"
    # Newest first.
    assert list_snapshots(ctx) == [second, first]


def test_snapshot_names(sandbox: AppContext) -> None:
    with pytest.raises(ValidationError) as empty:
        save_snapshot(sandbox, "   ")
    assert empty.value.code == "snapshot_name_required"
    with pytest.raises(ValidationError) as long:
        save_snapshot(sandbox, "x" * 81)
    assert long.value.code == "snapshot_name_too_long" and long.value.params["max"] == 80
    save_snapshot(sandbox, "Scene")
    _run(sandbox, "clock_one_month")
    with pytest.raises(SnapshotExists) as exists:
        save_snapshot(sandbox, "SCENE")
    assert exists.value.params["name"] == "Scene"
    replaced = save_snapshot(sandbox, "scene", replace=True)
    [only] = list_snapshots(sandbox)
    assert only == replaced and only.simulated_date == START + timedelta(days=31)
    assert len(list(snapshot_folder(sandbox.db.target.path).glob("*.sqlite3"))) == 1
    with pytest.raises(NotFound):
        restore_snapshot(sandbox, "nothing like it")


def test_delete_snapshot(sandbox: AppContext, demo_path: Path) -> None:
    save_snapshot(sandbox, "Keep")
    save_snapshot(sandbox, "Drop")
    before = dump_content(demo_path)
    delete_snapshot(sandbox, "drop")
    assert [s.name for s in list_snapshots(sandbox)] == ["Keep"]
    assert not (snapshot_folder(demo_path) / "drop.sqlite3").exists()
    assert dump_content(demo_path) == before
    with pytest.raises(NotFound):
        delete_snapshot(sandbox, "Drop")


def test_a_damaged_snapshot_is_refused_and_changes_nothing(sandbox, demo_path) -> None:
    info = save_snapshot(sandbox, "Scene")
    _run(sandbox, "clock_one_month")
    file = snapshot_folder(demo_path) / info.file
    data = bytearray(file.read_bytes())
    data[5000:9000] = b"\xff" * 4000  # inside the pages, header intact
    file.write_bytes(bytes(data))
    before = dump_content(demo_path)
    with pytest.raises(ValidationError) as refused:
        restore_snapshot(sandbox, "Scene")
    assert refused.value.code == "snapshot_unusable"
    assert dump_content(demo_path) == before


def test_an_unreadable_index_still_lists_the_snapshot_files(sandbox, demo_path) -> None:
    save_snapshot(sandbox, "Scene one")
    _run(sandbox, "clock_one_day")
    (snapshot_folder(demo_path) / "index.json").write_text("{ broken", encoding="utf-8")
    [entry] = list_snapshots(sandbox)
    assert entry.name == "scene-one" and entry.simulated_date == START
    restore_snapshot(sandbox, "scene-one")
    assert sandbox.clock.today() == START


# --------------------------------------------------------------------------- nothing stale


def test_after_a_restore_every_connection_reads_the_restored_content(
    sandbox: AppContext, demo_path: Path
) -> None:
    """The reader's per-thread connections (this thread's and a worker thread's), the
    engine's pooled connections and an outside connection were all used before the
    restore, their caches warm; after it, none of them serves the old content. The
    reader's connections are the same ones: nothing had to be re-opened."""
    from sqlalchemy import select

    from billing_desktop.store.models import Subscription

    ctx = sandbox
    sub = _sub(ctx, "A-100002", "gotoassist_rs_v5")
    save_snapshot(ctx, "Ten licences")
    _run(ctx, "order_more_licences")
    _run(ctx, "clock_one_month")
    outside = sqlite3.connect(demo_path, isolation_level=None)
    sql = "SELECT licence_count FROM subscriptions WHERE id = :id"

    worker = ThreadPoolExecutor(max_workers=1)  # one thread: its reader connection persists
    try:

        def worker_read() -> tuple[int, str | None]:
            return ctx.db.reader.scalar(sql, {"id": sub}), ctx.db.setting("clock.today")

        def session_read() -> int | None:
            with ctx.db.sessions() as session:
                return session.scalar(
                    select(Subscription.licence_count).where(Subscription.id == sub)
                )

        assert worker.submit(worker_read).result() == (12, "2026-05-27")
        assert session_read() == 12
        assert outside.execute(sql, {"id": sub}).fetchone() == (12,)
        assert ctx.clock.today() == date(2026, 5, 27)
        reader = ctx.db.reader._sqlite()[0]
        worker_reader = worker.submit(ctx.db.reader._sqlite).result()

        restore_snapshot(ctx, "Ten licences")

        assert _licences(ctx, "A-100002", "gotoassist_rs_v5") == 10
        assert worker.submit(worker_read).result() == (10, "2026-04-26")
        assert session_read() == 10
        assert outside.execute(sql, {"id": sub}).fetchone() == (10,)
        assert ctx.clock.today() == START
        assert clock_for(ctx.db).today() == START
        assert ctx.db.reader._sqlite()[0] is reader  # kept open, and not stale
        assert worker.submit(ctx.db.reader._sqlite).result() is worker_reader
        # the write path works on the restored content
        _run(ctx, "order_more_licences")
        assert worker.submit(worker_read).result()[0] == 12
    finally:
        worker.shutdown()
        outside.close()
    with sqlite3.connect(demo_path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # still WAL
    con.close()


def test_reads_on_other_threads_during_a_restore_see_one_state_or_the_other(
    sandbox: AppContext,
) -> None:
    """A background refresh reading while the restore runs: no crash, never a mixture."""
    ctx = sandbox
    sub = _sub(ctx, "A-100002", "gotoassist_rs_v5")
    save_snapshot(ctx, "Ten licences")
    _run(ctx, "order_more_licences")
    _run(ctx, "clock_one_month")
    sql = (
        "SELECT (SELECT licence_count FROM subscriptions WHERE id = :id),"
        " (SELECT value FROM app_settings WHERE key = 'clock.today')"
    )
    seen: set[tuple] = set()
    stop = threading.Event()

    def read_on() -> None:
        while not stop.is_set():
            seen.add(ctx.db.reader.rows(sql, {"id": sub})[0])

    readers = [threading.Thread(target=read_on) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(3):
            restore_snapshot(ctx, "Ten licences")
            _run(ctx, "order_more_licences")
            _run(ctx, "clock_one_month")
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert seen <= {(10, "2026-04-26"), (12, "2026-04-26"), (12, "2026-05-27")}
    assert (10, "2026-04-26") in seen and (12, "2026-05-27") in seen


def test_a_restore_or_reset_during_a_change_is_refused(sandbox: AppContext, demo_path) -> None:
    save_snapshot(sandbox, "Scene")
    _run(sandbox, "clock_one_day")
    before = dump_content(demo_path)
    with sandbox.db.transaction():  # a change in progress (on this or another thread)
        with pytest.raises(SandboxBusy) as busy:
            restore_snapshot(sandbox, "Scene")
        with pytest.raises(SandboxBusy):
            reset_demo(sandbox)
    assert busy.value.code == "demo_busy"
    assert dump_content(demo_path) == before


def test_a_restore_waits_for_no_one_elses_lock_forever(
    sandbox: AppContext, demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the write lock: the restore gives up with SandboxBusy."""
    import billing_desktop.services.sandbox as module

    save_snapshot(sandbox, "Scene")
    other = sqlite3.connect(demo_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(module, "BUSY_TIMEOUT_S", 0.05)
    try:
        with pytest.raises(SandboxBusy):
            restore_snapshot(sandbox, "Scene")
    finally:
        other.execute("ROLLBACK")
        other.close()
    restore_snapshot(sandbox, "Scene")  # free again


# --------------------------------------------------------------------------- refusals


def _with_role(ctx: AppContext, role: str, *, is_demo: bool = True) -> AppContext:
    from billing_desktop.store.models import Operator

    with ctx.db.transaction() as session:
        op = Operator(
            email=f"{role}@operators.example", name=role.title(), role=role, active=True,
            created_at=datetime(2026, 1, 1, 9, 0),
        )  # fmt: skip
        session.add(op)
        session.flush()
        info = OperatorInfo(op.id, op.email, op.name, op.role)
    return dataclasses.replace(ctx, operator=info, is_demo=is_demo)


SANDBOX_WRITES: dict[str, Callable[[AppContext], object]] = {
    "reset": reset_demo,
    "save": lambda c: save_snapshot(c, "Another"),
    "restore": lambda c: restore_snapshot(c, "Scene"),
    "delete": lambda c: delete_snapshot(c, "Scene"),
}


@pytest.mark.parametrize("role", ["support", "representative", "viewer"])
@pytest.mark.parametrize("write", list(SANDBOX_WRITES))
def test_roles_that_may_not_are_refused_and_nothing_changes(
    role: str, write: str, sandbox: AppContext, demo_path: Path
) -> None:
    save_snapshot(sandbox, "Scene")
    _run(sandbox, "clock_one_day")
    ctx = _with_role(sandbox, role)
    db_before, files_before = dump_content(demo_path), _files(snapshot_folder(demo_path))
    with pytest.raises(PermissionDenied) as refused:
        SANDBOX_WRITES[write](ctx)
    assert refused.value.code == "role_not_allowed"
    assert dump_content(demo_path) == db_before
    assert _files(snapshot_folder(demo_path)) == files_before
    assert [s.name for s in list_snapshots(ctx)] == ["Scene"]  # reading is fine


@pytest.mark.parametrize("role", ["admin", "trainer"])
def test_trainers_and_admins_may(role: str, sandbox: AppContext, demo_path, curated_dump):
    ctx = _with_role(sandbox, role) if role != "admin" else sandbox
    save_snapshot(ctx, "Scene")
    _run(ctx, "clock_one_day")
    restore_snapshot(ctx, "Scene")
    delete_snapshot(ctx, "Scene")
    reset_demo(ctx)
    assert dump_content(demo_path) == curated_dump


def _real_copy(demo_path: Path, tmp_path: Path) -> Database:
    """The curated data as a *real* database (not marked demo), with a snapshot folder."""
    import shutil

    from billing_desktop.store.models import AppSetting

    path = tmp_path / "real" / "billing.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(demo_path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(demo_path, path)
    shutil.copytree(snapshot_folder(demo_path), snapshot_folder(path))
    db = open_database(DatabaseTarget(path))
    with db.transaction() as session:
        for key in ("database.kind", "clock.today", START_KEY):
            session.delete(session.get(AppSetting, key))
    return db


@pytest.mark.parametrize("role", ["admin", "trainer"])
@pytest.mark.parametrize("write", list(SANDBOX_WRITES))
def test_a_real_database_is_refused_and_left_unchanged(
    role: str, write: str, sandbox: AppContext, demo_path: Path, tmp_path: Path
) -> None:
    save_snapshot(sandbox, "Scene")
    real = _real_copy(demo_path, tmp_path)
    try:
        ctx = open_context(real)
        assert not ctx.is_demo
        if role != "admin":
            ctx = _with_role(ctx, role, is_demo=False)
        path = real.target.path
        db_before, files_before = dump_content(path), _files(path.parent)
        with pytest.raises(PermissionDenied) as refused:
            SANDBOX_WRITES[write](ctx)
        expected = "sandbox_demo_only" if role == "admin" else "trainer_demo_only"
        assert refused.value.code == expected
        with pytest.raises(NotADemoDatabase):
            list_snapshots(ctx)
        # A context that wrongly believes it is on a demo: the file itself is asked.
        with pytest.raises(NotADemoDatabase):
            SANDBOX_WRITES[write](dataclasses.replace(ctx, is_demo=True))
        assert dump_content(path) == db_before
        assert _files(path.parent) == files_before
    finally:
        real.dispose()


def test_refusals_are_translatable_sentences() -> None:
    err = NotADemoDatabase("billing.sqlite3")
    assert str(err).startswith("billing.sqlite3 is not a demo database.")
    assert isinstance(err, PermissionDenied)
    assert "{database}" in err.message


def test_threads_do_not_matter_for_the_check(sandbox: AppContext) -> None:
    """A transaction open on another thread also makes a restore refuse."""
    save_snapshot(sandbox, "Scene")
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        with sandbox.db.transaction():
            started.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert started.wait(10)
        with pytest.raises(SandboxBusy):
            restore_snapshot(sandbox, "Scene")
    finally:
        release.set()
        thread.join()
    restore_snapshot(sandbox, "Scene")
