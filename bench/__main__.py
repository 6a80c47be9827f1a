"""``make bench``: start-up, accounts list and demo generation against baselines.

Every figure is measured together with its baseline in the same run and
printed as ``NAME: ours …, baseline …, ratio …x, target <= …x``.

    python -m bench [--accounts N] [--fresh] [--generate N]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import Figure, median_time

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TODAY = date(2026, 4, 26)


def big_database(accounts: int, fresh: bool) -> Path:
    """The benchmark database (built once, reused by later runs)."""
    from billing_desktop.config import target_from
    from billing_desktop.services.demo import ConsoleProgress, build_demo_database
    from billing_desktop.store.database import HEAD_REVISION

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench-{accounts}-{HEAD_REVISION}.sqlite3"
    if fresh and path.exists():
        path.unlink()
    if not path.exists():
        print(f"building {path.name} (once) …", file=sys.stderr)
        with ConsoleProgress(sys.stderr) as progress:
            summary = build_demo_database(
                target_from(str(path)), accounts=accounts, seed=1, today=TODAY, progress=progress
            )
        print(summary.describe(), file=sys.stderr)
    return path


def _spawn_time(args: list[str]) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="bench-config-")
    env["XDG_STATE_HOME"] = env["XDG_CONFIG_HOME"]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{args} failed: {result.stderr[-2000:]}")
    return elapsed


def _compile_package() -> None:
    """Byte-compile the package first: an installed app starts from compiled modules,
    as the baseline's PySide6 does (the measuring processes may not write caches)."""
    import compileall

    compileall.compile_dir(str(ROOT / "billing_desktop"), quiet=1)
    compileall.compile_dir(str(ROOT / "bench"), quiet=1)


def cold_start(db_path: Path, repeat: int) -> Figure:
    """(a) process start to the accounts list painted, vs a bare PySide6 window."""
    _compile_package()
    ours, base = [], []
    _spawn_time(["-m", "bench.child_app", str(db_path)])  # warm the OS file cache
    _spawn_time(["-m", "bench.child_bare"])
    for _ in range(repeat):  # interleaved so machine noise hits both alike
        base.append(_spawn_time(["-m", "bench.child_bare"]))
        ours.append(_spawn_time(["-m", "bench.child_app", str(db_path)]))
    return Figure(
        "cold start to accounts painted (100k)" if "100000" in db_path.name else "cold start",
        statistics.median(ours),
        statistics.median(base),
        target=1.5,
        note=f"median of {repeat}, vs bare PySide6 window",
    )


def accounts_list(db_path: Path, repeat: int) -> list[Figure]:
    """(b) the accounts list on a filter change: first page and count, then the paint.

    Ours: the view's model reads the page and the count through the services
    and the table repaints. Baseline, in the same run: the very same SQL
    statements through a plain ``sqlite3`` connection, and the same rows shown
    by a bare ``QTableView`` over the simplest possible Qt model.
    """
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QApplication, QTableView

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
    bare_model = BareModel()
    bare = QTableView()
    bare.setModel(bare_model)
    bare.resize(view.table.size())
    bare.show()
    app.processEvents()
    model = view.model
    raw = sqlite3.connect(db_path)

    figures = []
    for label, text in (("accounts first page", ""), ("filter keystroke 'ros'", "ros")):
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
        ours_load = median_time(load_ours, repeat)
        note = f"{model.rowCount()} rows of {model.total:,}"
        figures.append(
            Figure(
                f"{label} ready{suffix}",
                ours_load,
                median_time(load_raw, repeat),
                target=2.0,
                note=f"{note}; services + model vs the same SQL through sqlite3",
            )
        )
        figures.append(
            Figure(
                f"{label} painted{suffix}",
                median_time(paint_ours, repeat),
                median_time(paint_raw, repeat),
                target=2.0,
                note="model + paint vs the same SQL and a bare QTableView",
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
        for table in ("accounts", "contacts", "payment_methods", "subscriptions",
                      "invoices", "invoice_lines", "payments", "licence_assignments"):
            tables[table] = con.execute(f"SELECT * FROM {table}").fetchall()
        schema = [
            row[0]
            for row in con.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') "
                "AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
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
        note=f"{accounts / ours:,.0f} accounts/s; baseline = raw sqlite3 inserting the same rows",
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--generate", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
    parser.add_argument(
        "--only", choices=("start", "list", "generate"), action="append", help="run only these"
    )
    args = parser.parse_args()
    only = set(args.only or ("start", "list", "generate"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    figures = []
    if only & {"start", "list"}:
        db_path = big_database(args.accounts, args.fresh)
        if "start" in only:
            figures.append(cold_start(db_path, args.repeat))
        if "list" in only:
            figures += accounts_list(db_path, args.repeat * 3)
    if "generate" in only:
        figures.append(generation(args.generate))
    print()
    for figure in figures:
        print(figure.line())
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
