"""``make bench``: start-up, accounts list, demo generation, checkout, renewals and
the views (invoices view, quick search, memory: ``bench/views.py``) against
baselines.

Every figure is measured together with its baseline in the same run and
printed as ``NAME: ours …, baseline …, ratio …x, target <= …x``; the cheap
ones in several rounds (median round, range of the ratios). The figures go to
``bench/RESULTS.md`` as one table (``bench/report.py``; ``--no-write`` leaves
it alone). The exit status is 1 when a figure misses its target.

    python -m bench [--accounts N] [--fresh] [--generate N] [--repeat N]
                    [--rounds N] [--no-write]
                    [--only start|list|generate|order|renew|views ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from bench import report
from bench.common import Figure, combine, paired_medians

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TODAY = date(2026, 4, 26)


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _migrated_copy(source: Path, path: Path) -> bool:
    """``path``: a copy of the benchmark database ``source`` built at an older schema
    revision, migrated as a user's file would be. False if that failed."""
    from billing_desktop.config import target_from
    from billing_desktop.store.database import open_database

    work = path.with_name(f"{path.stem}.migrating-{os.getpid()}.sqlite3")
    print(f"migrating a copy of {source.name} to {path.name} …", file=sys.stderr)
    try:
        _copy_database(source, work)
        open_database(target_from(str(work))).dispose()  # checks, then runs Alembic
        con = sqlite3.connect(work)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
    except Exception as err:  # any failure: build the database anew
        print(f"could not migrate {source.name} ({err}); building it anew", file=sys.stderr)
        _remove_database(work)
        return False
    if path.exists():  # another run migrated it meanwhile
        _remove_database(work)
        return True
    work.rename(path)
    _remove_database(work)  # its -wal and -shm, if any
    return True


def big_database(accounts: int, fresh: bool) -> Path:
    """The benchmark database: built once (about 4 minutes at 100 000 accounts) and
    reused by later runs.

    Its name carries the schema revision. After a schema change the newest
    older one is copied and migrated instead of built again (the demo data
    are the same; ``--fresh`` builds anew, as after a change to the demo
    generator), and the older one is removed.
    """
    from billing_desktop.config import target_from
    from billing_desktop.services.demo import ConsoleProgress, build_demo_database
    from billing_desktop.store.database import HEAD_REVISION

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench-{accounts}-{HEAD_REVISION}.sqlite3"
    older = sorted(
        (
            p
            for p in OUT.glob(f"bench-{accounts}-*.sqlite3")
            if p != path and ".migrating" not in p.name
        ),
        key=lambda p: p.stat().st_mtime,
    )
    if fresh:
        for old in (path, *older):
            _remove_database(old)
        older = []
    if not path.exists() and older and _migrated_copy(older[-1], path):
        for old in older:
            _remove_database(old)
    if not path.exists():
        print(f"building {path.name} (once) …", file=sys.stderr)
        with ConsoleProgress(sys.stderr) as progress:
            summary = build_demo_database(
                target_from(str(path)), accounts=accounts, seed=1, today=TODAY, progress=progress
            )
        print(summary.describe(), file=sys.stderr)
    return path


def database_summary(path: Path) -> str:
    """What the benchmark database holds, in a few words."""
    con = sqlite3.connect(path)
    try:
        accounts, subscriptions, invoices = (
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("accounts", "subscriptions", "invoices")
        )
    finally:
        con.close()
    return (
        f"{path.name}: {accounts:,} accounts, {subscriptions:,} subscriptions, "
        f"{invoices:,} invoices"
    )


def _child_env() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="bench-config-")
    env["XDG_STATE_HOME"] = env["XDG_CONFIG_HOME"]
    return env


@dataclass(frozen=True)
class _Run:
    """One child process: when it painted and exited (seconds after it was started),
    the CPU time it used (user + system) and what it wrote to stderr."""

    painted: float
    exited: float
    cpu: float
    stderr: str


def _spawn(args: list[str], python_options: tuple[str, ...] = ()) -> _Run:
    """Run ``python [options] args``, a child that prints ``painted <time.monotonic()>``."""
    env = _child_env()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, *python_options, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    exited = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise RuntimeError(f"{args} failed: {result.stderr[-2000:]}")
    marks = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("painted ")]
    if not marks:
        raise RuntimeError(f"{args} never painted: {result.stderr[-2000:]}")
    return _Run(float(marks[0]) - started, exited, cpu, result.stderr)


def _compile_package() -> None:
    """Byte-compile the package first: an installed app starts from compiled modules,
    as the baseline's PySide6 does (the measuring processes may not write caches)."""
    import compileall

    compileall.compile_dir(str(ROOT / "billing_desktop"), quiet=1)
    compileall.compile_dir(str(ROOT / "bench"), quiet=1)


APP_CHILD = ["-m", "bench.child_app"]
BARE_CHILD = ["-m", "bench.child_bare"]


def cold_start(db_path: Path, repeat: int) -> Figure:
    """(a) process start to the accounts list painted, vs a bare PySide6 window.

    Wall time from the moment the parent starts the process to the moment the
    child has painted (the accounts table's rows; the bare window's label),
    median of ``repeat`` runs of each, interleaved. The time to the process's
    exit (ours saves the window's state and closes the database on the way)
    and the CPU time the processes used are noted as well.
    """
    _compile_package()
    ours, base = [], []
    _spawn([*APP_CHILD, str(db_path)])  # warm the OS file cache
    _spawn(BARE_CHILD)
    for _ in range(repeat):  # interleaved so machine noise hits both alike
        base.append(_spawn(BARE_CHILD))
        ours.append(_spawn([*APP_CHILD, str(db_path)]))

    def ms(values: list[float], pick: Any = statistics.median) -> str:
        return f"{pick(values) * 1000:.0f} ms"

    painted = [r.painted for r in ours], [r.painted for r in base]
    exited = [r.exited for r in ours], [r.exited for r in base]
    cpu = [r.cpu for r in ours], [r.cpu for r in base]
    figure = Figure(
        "cold start to accounts painted (100k)" if "100000" in db_path.name else "cold start",
        statistics.median(painted[0]),
        statistics.median(painted[1]),
        target=1.5,
        key="start",
        baseline_label="bare PySide6 window",
        note=f"process started → rows painted, median of {repeat} runs each, interleaved; "
        f"best runs {ms(painted[0], min)} vs {ms(painted[1], min)}; to the process's exit "
        f"{ms(exited[0])} vs {ms(exited[1])}; CPU time {ms(cpu[0])} vs {ms(cpu[1])} "
        f"({statistics.median(cpu[0]) / statistics.median(cpu[1]):.2f}x)",
    )
    if not figure.ok:
        figure = replace(figure, profile=import_profile(db_path))
    return figure


def _import_times(stderr: str) -> dict[str, int]:
    """Module → its own import time (µs) from ``python -X importtime``'s report."""
    times: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _cumulative, name = line[len("import time:") :].split("|", 2)
        times[name.strip()] = int(own)
    return times


def import_profile(db_path: Path, runs: int = 3) -> str:
    """What the application imports that the bare window does not, and its own
    import time (best of ``runs``): where a cold start's extra time goes."""
    best: dict[str, dict[str, int]] = {"ours": {}, "bare": {}}
    for _ in range(runs):
        for which, args in (("ours", [*APP_CHILD, str(db_path)]), ("bare", BARE_CHILD)):
            times = _import_times(_spawn(args, ("-X", "importtime")).stderr)
            for name, own in times.items():
                kept = best[which].get(name)
                best[which][name] = own if kept is None else min(kept, own)
    extra = {n: t for n, t in best["ours"].items() if n not in best["bare"]}
    shared = sum(t for n, t in best["ours"].items() if n in best["bare"])
    lines = [
        f"imports, best of {runs} runs: ours {sum(best['ours'].values()) / 1000:.0f} ms "
        f"(of which {shared / 1000:.0f} ms in modules the bare window imports too), "
        f"bare window {sum(best['bare'].values()) / 1000:.0f} ms;",
        f"{len(extra)} modules only ours imports, {sum(extra.values()) / 1000:.0f} ms; "
        "the largest (own time, ms):",
    ]
    for name, own in sorted(extra.items(), key=lambda item: -item[1])[:12]:
        lines.append(f"  {own / 1000:6.1f}  {name}")
    return "\n".join(lines)


def accounts_list(db_path: Path, repeat: int) -> list[Figure]:
    """(b) the accounts list on a filter change: first page and count, then the paint.

    Ours: the view's model reads the page and the count through the services
    and the table repaints. Baseline, in the same run: the very same SQL
    statements through a plain ``sqlite3`` connection, and the same rows shown
    by a bare ``QTableView`` over the simplest possible Qt model.
    """
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QApplication, QTableView

    from bench.views import shape_like
    from billing_desktop.config import target_from
    from billing_desktop.services.context import open_context
    from billing_desktop.store import queries
    from billing_desktop.store.database import _sqlite_params, open_database
    from billing_desktop.store.queries import AccountFilter, AccountSort
    from billing_desktop.ui.views.accounts_view import AccountsView

    class BareModel(QAbstractTableModel):
        rows: list = []

        def rowCount(self, parent=QModelIndex()):  # noqa: B008
            return len(self.rows)

        def columnCount(self, parent=QModelIndex()):  # noqa: B008
            return 8

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole:
                return str(self.rows[index.row()][index.column() + 1])
            return None

        def load(self, rows: list) -> None:
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    db = open_database(target_from(str(db_path)))
    ctx = open_context(db)
    today = ctx.clock.today()
    view = AccountsView(ctx)
    view.resize(1280, 800)
    view.show()
    app.processEvents()  # laid out: the table's row height and column widths are final
    bare_model = BareModel()
    bare = QTableView()
    bare.setModel(bare_model)
    shape_like(bare, view.table)  # the same cells as the view's table
    bare.show()
    app.processEvents()
    model = view.model
    raw = sqlite3.connect(db_path)

    figures = []
    for key, label, text in (
        ("accounts first page", "accounts first page", ""),
        ("filter keystroke", "filter keystroke 'ros'", "ros"),
    ):
        flt = AccountFilter(text=text)
        page_sql, page_params = queries.account_page_sql(
            flt, AccountSort.COMPANY, False, today, None, model.PAGE_SIZE
        )
        count_sql, count_params = queries.account_count_sql(flt, today)
        page_params, count_params = _sqlite_params(page_params), _sqlite_params(count_params)

        def load_ours(text: str = text) -> None:
            view.filter_edit.setText(text)
            view.apply_filter()  # what the debounce timer calls
            model.refresh()  # the same filter again: read it anew

        def paint_ours() -> None:
            load_ours()
            view.table.viewport().repaint()

        def load_raw(sql=page_sql, params=page_params, csql=count_sql, cparams=count_params):
            rows = raw.execute(sql, params).fetchall()
            raw.execute(csql, cparams).fetchall()
            return rows

        def paint_raw() -> None:
            bare_model.load(load_raw())
            bare.viewport().repaint()

        suffix = " (100k)" if "100000" in db_path.name else ""
        ours_load, raw_load = paired_medians(load_ours, load_raw, repeat)
        note = f"{model.rowCount()} rows of {model.total:,}"
        figures.append(
            Figure(
                f"{label} ready{suffix}",
                ours_load,
                raw_load,
                target=2.0,
                key=f"{key} ready",
                baseline_label="same SQL, raw sqlite3",
                note=f"{note}; services + model vs the same SQL through sqlite3, median of "
                f"{repeat} each, interleaved",
            )
        )
        ours_paint, raw_paint = paired_medians(paint_ours, paint_raw, repeat)
        figures.append(
            Figure(
                f"{label} painted{suffix}",
                ours_paint,
                raw_paint,
                target=2.0,
                key=f"{key} painted",
                baseline_label="same SQL + bare QTableView",
                note="model reset + repaint vs the same SQL into a bare model and a bare "
                "QTableView showing the same cells (size, row height, column widths), "
                f"repainted; median of {repeat} each, interleaved",
            )
        )
    view.close()
    bare.close()
    raw.close()
    db.dispose()
    return figures


def generation(accounts: int) -> Figure:
    """(c) demo generation rate vs raw sqlite3 inserting the same rows."""
    from billing_desktop.config import target_from
    from billing_desktop.services.demo import build_demo_database

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gen.sqlite3"
        started = time.perf_counter()
        build_demo_database(target_from(str(path)), accounts=accounts, seed=5, today=TODAY)
        ours = time.perf_counter() - started
        con = sqlite3.connect(path)
        tables = {}
        for table in (
            "accounts",
            "contacts",
            "payment_methods",
            "subscriptions",
            "invoices",
            "invoice_lines",
            "payments",
            "licence_assignments",
        ):
            tables[table] = con.execute(f"SELECT * FROM {table}").fetchall()
        schema = [
            row[0]
            for row in con.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index', 'trigger') "
                "AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                # the full-text index's own tables come with its virtual table
                "AND NOT (type = 'table' AND name GLOB '*_words_*')"
            )
        ]
        con.close()
        copy = Path(tmp) / "raw.sqlite3"
        started = time.perf_counter()
        raw = sqlite3.connect(copy)
        raw.execute("PRAGMA journal_mode=WAL")
        for sql in schema:
            raw.execute(sql)
        for table, rows in tables.items():
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                raw.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        raw.commit()
        raw.close()
        base = time.perf_counter() - started
    return Figure(
        f"demo generation ({accounts:,} accounts)",
        ours,
        base,
        key="generation",
        baseline_label="raw sqlite3, same rows",
        note=f"{accounts / ours:,.0f} accounts/s; baseline = raw sqlite3 inserting the same rows",
    )


ORDER_TABLES = (
    "orders",
    "invoices",
    "invoice_lines",
    "payments",
    "credits",
    "emails",
    "audit_entries",
)


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]


def _order_rows(
    con: sqlite3.Connection, marks: dict[str, int], sub_id: int, account_id: int, cart_id: int
) -> dict[str, list[dict]]:
    """Every row one ``place_order`` wrote: new rows (ids above ``marks``) and the updated ones."""

    def rows(sql: str, params: tuple, table: str) -> list[dict]:
        names = _columns(con, table)
        return [dict(zip(names, row, strict=True)) for row in con.execute(sql, params)]

    out = {
        t: rows(f"SELECT * FROM {t} WHERE id > ? ORDER BY id", (marks[t],), t) for t in ORDER_TABLES
    }
    out["subscriptions"] = rows(
        "SELECT * FROM subscriptions WHERE id = ?", (sub_id,), "subscriptions"
    )
    out["accounts"] = rows("SELECT * FROM accounts WHERE id = ?", (account_id,), "accounts")
    out["carts"] = rows("SELECT * FROM carts WHERE id = ?", (cart_id,), "carts")
    out["invoice_series"] = [
        dict(zip(("prefix", "next_number"), row, strict=True))
        for row in con.execute("SELECT prefix, next_number FROM invoice_series")
    ]
    return out


def _raw_order(con: sqlite3.Connection, written: dict[str, list[dict]], tag: str) -> float:
    """Write the rows of one order again with plain ``sqlite3`` in one transaction; the time.

    The statements and their values are prepared first; only the transaction is timed.
    """
    statements: list[tuple[str, tuple]] = []
    next_id = {
        table: con.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
        for table in ORDER_TABLES
    }
    new_ids: dict[str, dict[int, int]] = {table: {} for table in ORDER_TABLES}

    def insert(table: str, row: dict, **changes: object) -> None:
        new_ids[table][row["id"]] = next_id[table]
        values = row | changes | {"id": next_id[table]}
        next_id[table] += 1
        sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})"
        statements.append((sql, tuple(values.values())))

    def update(table: str, row: dict, key: str = "id") -> None:
        values = {k: v for k, v in row.items() if k != key}
        sql = f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in values)} WHERE {key} = ?"
        statements.append((sql, (*values.values(), row[key])))

    for row in written["subscriptions"]:
        update("subscriptions", row)
    for r in written["orders"]:
        insert("orders", r, number=f"RAW-{tag}", idempotency_key=f"raw-{tag}")
    for n, r in enumerate(written["invoices"]):
        order = new_ids["orders"].get(r["order_id"], r["order_id"])
        insert("invoices", r, number=f"RAW-INV-{tag}-{n}", order_id=order)
    for table in ("invoice_lines", "payments", "credits"):
        for r in written[table]:
            insert(table, r, invoice_id=new_ids["invoices"].get(r["invoice_id"], r["invoice_id"]))
    for table in ("emails", "audit_entries"):
        for r in written[table]:
            insert(table, r)
    for row in written["invoice_series"]:
        update("invoice_series", row, key="prefix")
    statements.append(("DELETE FROM cart_items WHERE cart_id = ?", (written["carts"][0]["id"],)))
    update("carts", written["carts"][0])
    for row in written["accounts"]:
        update("accounts", row)
    started = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    for sql, params in statements:
        con.execute(sql, params)
    con.execute("COMMIT")
    return time.perf_counter() - started


def place_order_figure(repeat: int) -> Figure:
    """(d) one checkout of a licence change vs a raw sqlite3 transaction writing the same rows.

    Ours: the whole ``place_order`` service call on a curated account (authorise,
    load, validate, subscription, order, invoice and lines, payment, email,
    audit), each with a fresh order token; the licence count alternates so
    every order is a real change. Baseline, right after each order on the
    same file: one plain ``sqlite3`` transaction writing the same rows again
    (values read back from what ours wrote; unique numbers changed).
    """
    from billing_desktop.config import target_from
    from billing_desktop.services.cart import CartChange, add_to_cart
    from billing_desktop.services.checkout import place_order
    from billing_desktop.services.clock import FixedClock
    from billing_desktop.services.context import AppContext, local_operator
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import BUSY_TIMEOUT_MS, open_database

    number = "A-100002"  # v5 Standard, 10 licences (6 assigned), card on file, Italy
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.sqlite3"
        db = open_database(target_from(str(path)))
        load_curated(db, TODAY)
        ctx = AppContext(
            db=db,
            clock=FixedClock(datetime.combine(TODAY, dt_time(10, 0))),
            operator=local_operator(db),
            is_demo=True,
        )
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA synchronous = NORMAL")
        account_id, sub_id = raw.execute(
            "SELECT a.id, s.id FROM accounts a JOIN subscriptions s ON s.account_id = a.id "
            "JOIN products p ON p.id = s.product_id "
            "WHERE a.account_number = ? AND p.code = 'gotoassist_rs_v5'",
            (number,),
        ).fetchone()
        ours: list[float] = []
        base: list[float] = []
        warmup = 2
        for i in range(warmup + repeat):
            add_to_cart(ctx, number, CartChange.change_licences(sub_id, 11 + i % 2))
            cart_id = raw.execute(
                "SELECT id FROM carts WHERE account_id = ?", (account_id,)
            ).fetchone()[0]
            marks = {
                t: raw.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0]
                for t in ORDER_TABLES
            }
            started = time.perf_counter()
            place_order(ctx, number, idempotency_key=f"bench-order-{i}")
            elapsed = time.perf_counter() - started
            written = _order_rows(raw, marks, sub_id, account_id, cart_id)
            raw_elapsed = _raw_order(raw, written, str(i))
            if i >= warmup:
                ours.append(elapsed)
                base.append(raw_elapsed)
        rows = sum(len(written[t]) for t in ORDER_TABLES)
        raw.close()
        db.dispose()
    return Figure(
        "place order (1 licence change)",
        statistics.median(ours),
        statistics.median(base),
        target=5.0,
        key="place order",
        baseline_label="same rows, one raw sqlite3 transaction",
        note=f"median of {repeat} orders on {number}, licences 11 ⇄ 12; {rows} rows inserted, "
        "4 updated, the cart emptied per order; baseline = the same rows in one raw sqlite3 "
        "transaction",
    )


RENEW_DAYS = 45  # from the database's date: ~100 000 renewals on 100 000 accounts


def _copy_database(source: Path, target: Path) -> None:
    """A copy of a closed SQLite database (with its write-ahead log, if one is left)."""
    for suffix in ("", "-wal", "-shm"):
        side = Path(f"{target}{suffix}")
        if side.exists():
            side.unlink()
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.exists() and wal.stat().st_size:
        shutil.copyfile(wal, Path(f"{target}-wal"))


def _raw_renewals(
    start: Path, renewed: Path, work: Path, repeat: int
) -> tuple[float, dict[str, int]]:
    """Raw sqlite3 writing what the run wrote: invoices, lines, payments, subscriptions.

    Median of ``repeat`` runs, each on a fresh copy of the starting database.
    """
    done = sqlite3.connect(renewed)
    before = sqlite3.connect(start)  # read only; a plain connection tidies its -wal on close
    rows: dict[str, list[tuple]] = {}
    for table in ("invoices", "invoice_lines", "payments"):
        first = before.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        rows[table] = done.execute(f"SELECT * FROM {table} WHERE id > ?", (first,)).fetchall()
    old = {
        sid: (start_, end)
        for sid, start_, end in before.execute(
            "SELECT id, period_start, period_end FROM subscriptions"
        )
    }
    subs = [  # the renewed ones: a new period
        (start_, end, version, sid)
        for sid, start_, end, version in done.execute(
            "SELECT id, period_start, period_end, version FROM subscriptions"
        )
        if old.get(sid) != (start_, end)
    ]
    done.close()
    before.close()
    samples = []
    for _ in range(repeat):
        _copy_database(start, work)
        raw = sqlite3.connect(work, isolation_level=None)
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA synchronous = NORMAL")
        started = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        for table, values in rows.items():
            if values:
                marks = ", ".join("?" for _ in values[0])
                raw.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        raw.executemany(
            "UPDATE subscriptions SET period_start = ?, period_end = ?, version = ? WHERE id = ?",
            subs,
        )
        raw.execute("COMMIT")
        samples.append(time.perf_counter() - started)
        raw.close()
    counts = {table: len(values) for table, values in rows.items()}
    counts["subscriptions"] = len(subs)
    return statistics.median(samples), counts


def renewal_run(db_path: Path, days: int = RENEW_DAYS) -> Figure:
    """(e) the renewal engine over ~100 000 renewals vs raw sqlite3 writing the same rows.

    Ours: ``renewal.advance`` from the database's date to ``days`` later on a
    copy of the benchmark database (every event of those days: renewals with
    invoices, payments, emails and audit entries, overdue invoices, trials,
    cancellations, terms, retention). Baseline: on another fresh copy, one
    plain ``sqlite3`` transaction inserting the same invoices, invoice lines
    and payments and updating the same subscriptions.
    """
    from datetime import timedelta

    from billing_desktop.config import target_from
    from billing_desktop.services import renewal
    from billing_desktop.services.clock import SIMULATED_KEY, FixedClock
    from billing_desktop.services.context import AppContext, local_operator
    from billing_desktop.store.database import open_database

    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        work = Path(tmp) / "renew.sqlite3"
        _copy_database(db_path, work)
        db = open_database(target_from(str(work)))
        stored = db.setting(SIMULATED_KEY)
        today = date.fromisoformat(stored) if stored else TODAY
        ctx = AppContext(db=db, clock=FixedClock(today), operator=local_operator(db), is_demo=True)
        started = time.perf_counter()
        summary = renewal.advance(ctx, today + timedelta(days=days))
        ours = time.perf_counter() - started
        db.dispose()
        base, counts = _raw_renewals(db_path, work, Path(tmp) / "raw.sqlite3", repeat=3)
    return Figure(
        "renewal run (100k subscriptions)",
        ours,
        base,
        target=5.0,
        key="renewal run",
        baseline_label="same rows, raw sqlite3",
        note=(
            f"{summary.renewed:,} renewals of {counts['subscriptions']:,} subscriptions, "
            f"{summary.events:,} events in {days} days from {today}; baseline (median of 3) = "
            f"raw sqlite3 inserting the same {counts['invoices']:,} invoices, "
            f"{counts['invoice_lines']:,} lines, {counts['payments']:,} payments and updating "
            "the subscriptions in one transaction"
        ),
    )


#: What each --only choice measures, and whether it is cheap enough for several rounds.
CHOICES = ("start", "list", "generate", "order", "renew", "views")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--generate", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=11, help="samples per round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of the cheap figures (start, list, order, views but memory); "
        "each figure reports its median round and the range",
    )
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
    parser.add_argument("--only", choices=CHOICES, action="append", help="run only these")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave bench/RESULTS.md as it is"
    )
    args = parser.parse_args()
    only = set(args.only or CHOICES)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rounds = max(1, args.rounds)
    needs_database = bool(only & {"start", "list", "renew", "views"})
    db_path = big_database(args.accounts, args.fresh) if needs_database else OUT
    run = report.run_summary(
        rounds, database_summary(db_path) if needs_database else "no big database"
    )
    measured: dict[str, list[Figure]] = {}

    def add(figures: list[Figure]) -> None:
        for figure in figures:
            measured.setdefault(figure.id, []).append(figure)

    from bench import views  # invoices view first paint and memory, quick search

    for n in range(rounds):  # the cheap figures, round after round
        print(f"round {n + 1} of {rounds} …", file=sys.stderr)
        if "start" in only:
            add([cold_start(db_path, args.repeat)])
        if "list" in only:
            add(accounts_list(db_path, args.repeat * 3))
        if "order" in only:
            add([place_order_figure(args.repeat * 3)])
        if "views" in only:
            add(views.cheap_figures(db_path, args.repeat))
    if "generate" in only:
        add([generation(args.generate)])
    if "renew" in only:
        add([renewal_run(db_path)])
    if "views" in only:
        add([views.invoices_memory(db_path)])
    figures = [combine(rounds_of) for rounds_of in measured.values()]
    run["summary"] += f", at the end {report.load_average()}"
    print()
    for figure in figures:
        print(figure.line())
    if not args.no_write:
        print(f"\nwritten: {report.write(figures, run)}")
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
