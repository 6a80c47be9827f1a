"""``make bench`` figures of the views (issue 4): invoices view, quick search, memory.

- :func:`invoices_first_paint`: the Invoices view built and painted with its
  first page, over the benchmark database's ~1.4 M invoices, against a
  minimal raw-``sqlite3`` table model and a bare ``QTableView`` showing the
  same first page (target ≤ 1.5x).
- :func:`quick_search_keystroke`: a keystroke in the quick search (Ctrl+K)
  until its results are painted, against the same keystroke in a bare line
  edit running the one hand-written indexed query that finds what was typed
  and painting it in a bare list (target ≤ 2x).
- :func:`invoices_memory`: peak RSS of a child process that scrolls the
  Invoices view to the last of the ~1.4 M invoices, minus the same child with
  the view empty (target ≤ +60 MB).

The child of the memory figure is this module: ``python -m bench.views
--child scroll|empty DB``.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import Figure, paired_medians

ROOT = Path(__file__).resolve().parent.parent

#: The first page of the Invoices view, written by hand: newest invoice first.
_RAW_FIRST_PAGE = (
    "SELECT i.number, i.issue_date, a.account_number, a.company_name, i.period_start, "
    "i.period_end, i.total_minor, "
    "CASE WHEN i.status = 'open' THEN i.total_minor - i.credit_applied_minor - i.paid_minor "
    "ELSE 0 END, i.due_date, i.status "
    "FROM invoices i JOIN accounts a ON a.id = i.account_id "
    "ORDER BY i.number DESC, i.id DESC LIMIT ?"
)


def _bare_table_model() -> Any:
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

    class BareModel(QAbstractTableModel):
        rows: list = []

        def rowCount(self, parent=QModelIndex()):  # noqa: B008
            return len(self.rows)

        def columnCount(self, parent=QModelIndex()):  # noqa: B008
            return 9

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole:
                return str(self.rows[index.row()][index.column()])
            return None

        def load(self, rows: list) -> None:
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()

    return BareModel()


def shape_like(bare: Any, table: Any) -> None:
    """Give the bare ``QTableView`` the cells ``table`` shows: its size, row height and
    column widths, one line of text per cell, no row numbers. Both then paint the
    same rows and columns (a bare view's defaults would show fewer, taller rows in
    narrower, wrapped columns: another amount of work, not a baseline)."""
    from PySide6.QtWidgets import QHeaderView

    rows = bare.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.verticalHeader().defaultSectionSize())
    bare.setWordWrap(False)
    columns = bare.horizontalHeader()
    for column in range(min(bare.model().columnCount(), table.model().columnCount())):
        columns.resizeSection(column, table.columnWidth(column))
    bare.resize(table.size())


def _painted_at(app: Any, table: Any, clock: Any = time.perf_counter) -> float:
    """Process events until ``table`` has painted its rows; the time it finished.

    The watcher, on the viewport's first Paint event, has the table paint it
    (``viewportEvent``: what the scroll area does with its viewport's paint
    events; the viewport's own ``event()`` would paint nothing) and notes the
    time right after, so what runs later in the same pass of the event loop
    (the view's deferred count) is not counted.
    """
    from PySide6.QtCore import QEvent, QObject

    model = table.model()

    class Watch(QObject):
        at: float | None = None

        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint and self.at is None:
                table.viewportEvent(event)  # the rows are painted here
                self.at = clock()
                if model.rowCount() <= 0:
                    raise RuntimeError("the table painted no rows")
                return True
            return False

    watch = Watch()
    table.viewport().installEventFilter(watch)
    while watch.at is None:
        app.processEvents()
    table.viewport().removeEventFilter(watch)
    return watch.at


def _context(db_path: Path) -> Any:
    from billing_desktop.config import target_from
    from billing_desktop.services.context import open_context
    from billing_desktop.store.database import open_database

    return open_context(open_database(target_from(str(db_path))))


def _invoice_count(db_path: Path) -> int:
    con = sqlite3.connect(db_path)
    try:
        return int(con.execute("SELECT max(id) FROM invoices").fetchone()[0] or 0)
    finally:
        con.close()


# --------------------------------------------------------------------------- (a) first paint


def invoices_first_paint(db_path: Path, repeat: int) -> Figure:
    """The Invoices view built, shown and painted with its first page vs the same
    first page through raw ``sqlite3`` into a bare model and a bare ``QTableView``
    of the same size (each built anew every time as well).

    The baseline reads as many rows as the view's first page holds. Each sample
    notes three moments (built, shown, painted) for the profile of a miss.
    """
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication, QTableView

    from billing_desktop.ui.views.invoices_view import InvoicesView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    ctx = _context(db_path)
    raw = sqlite3.connect(db_path)
    limit = 0
    shape: Any = None  # the view's table, as the baseline's is to be
    kept: list[Any] = []

    def ours(keep_shape: bool = False) -> tuple[float, float, float]:
        nonlocal shape, limit
        started = time.perf_counter()
        view = InvoicesView(ctx)
        built = time.perf_counter()
        view.resize(1280, 800)
        view.show()
        shown = time.perf_counter()
        painted = _painted_at(app, view.table)  # the view, its first page on screen
        limit = view.model.rowCount()
        view.close()
        if keep_shape:
            shape = view
        else:
            kept.append(view)
        return built - started, shown - started, painted - started

    def baseline() -> tuple[float, float, float]:
        started = time.perf_counter()
        model = _bare_table_model()
        table = QTableView()
        table.setModel(model)
        model.load(raw.execute(_RAW_FIRST_PAGE, (limit,)).fetchall())
        shape_like(table, shape.table)
        built = time.perf_counter()
        table.show()
        shown = time.perf_counter()
        painted = _painted_at(app, table)
        table.close()
        kept.append((table, model))
        return built - started, shown - started, painted - started

    def delete_kept() -> None:
        # deleteLater() alone would wait for an event loop that never runs here:
        # widgets left alive pile up and slow down every later widget (Qt walks
        # all of them, e.g. in topLevelWidgets()).
        for item in kept:
            (item[0] if isinstance(item, tuple) else item).deleteLater()
        kept.clear()
        app.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    ours(keep_shape=True)  # learn the table's shape and the page's rows
    for _ in range(2):  # warm both
        ours()
        baseline()
        delete_kept()
    samples_ours, samples_base = [], []
    for _ in range(repeat):  # interleaved, so machine noise hits both alike
        samples_base.append(baseline())
        samples_ours.append(ours())
        delete_kept()
    count = _invoice_count(db_path)
    figure = Figure(
        f"invoices view first paint ({count / 1e6:.1f} M invoices)",
        statistics.median(s[2] for s in samples_ours),
        statistics.median(s[2] for s in samples_base),
        target=1.5,
        key="invoices first paint",
        baseline_label="raw sqlite3 + bare model + bare QTableView",
        note=f"median of {repeat} each, interleaved: the view built, its first {limit} rows "
        "read and painted at 1280x800 (until the table's rows are painted) vs the same rows "
        "through raw sqlite3 into a bare model and a bare QTableView showing the same cells "
        "(the table's size, row height and column widths; no row numbers, no wrapping)",
    )
    if not figure.ok:
        lines = ["median ms      built   shown  painted (each from the start)"]
        for label, samples in (("ours", samples_ours), ("baseline", samples_base)):
            marks = [statistics.median(s[k] for s in samples) * 1000 for k in range(3)]
            lines.append(f"{label:10s} {marks[0]:7.2f} {marks[1]:7.2f} {marks[2]:8.2f}")
        lines.append("")
        lines.append(_profile(lambda: (ours(), delete_kept()), 20))
        figure = replace(figure, profile="\n".join(lines))
    shape.deleteLater()
    delete_kept()
    raw.close()
    ctx.db.dispose()
    return figure


def _profile(action: Any, runs: int, top: int = 14) -> str:
    """``action`` run ``runs`` times under cProfile: the functions taking most time
    (their own time; profiling makes everything slower, the shares are what counts)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        action()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    body = text[text.find("ncalls") :] if "ncalls" in text else text
    root = str(ROOT) + "/"
    return f"cProfile of {runs} runs of ours, by own time:\n" + body.replace(root, "").rstrip()


def invoices_page_repaint(db_path: Path, repeat: int) -> Figure:
    """The shown view's first page read again and repainted (what F5 or a sort back
    costs, measured like the accounts list's "first page painted") vs the same rows
    through raw ``sqlite3`` into the bare model, and the bare table repainted."""
    from PySide6.QtWidgets import QApplication, QTableView

    from billing_desktop.ui.views.invoices_view import InvoicesView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    ctx = _context(db_path)
    raw = sqlite3.connect(db_path)
    view = InvoicesView(ctx)
    view.resize(1280, 800)
    view.show()
    _painted_at(app, view.table)
    app.processEvents()  # the deferred count
    bare_model = _bare_table_model()
    bare = QTableView()
    bare.setModel(bare_model)
    shape_like(bare, view.table)
    bare.show()
    app.processEvents()
    limit = view.model.rowCount()

    def ours() -> None:
        view.model.refresh(count=False)
        view.table.viewport().repaint()

    def baseline() -> None:
        bare_model.load(raw.execute(_RAW_FIRST_PAGE, (limit,)).fetchall())
        bare.viewport().repaint()

    ours_t, base_t = paired_medians(ours, baseline, repeat)
    view.close()
    bare.close()
    raw.close()
    ctx.db.dispose()
    count = _invoice_count(db_path)
    return Figure(
        f"invoices first page read again and painted ({count / 1e6:.1f} M invoices)",
        ours_t,
        base_t,
        target=None,
        key="invoices page repaint",
        baseline_label="raw sqlite3 + bare model, repainted",
        note=f"median of {repeat} each, interleaved; the shown view's model reset (first page "
        "read again) + repaint vs raw sqlite3 into the bare model + repaint",
    )


# --------------------------------------------------------------------------- (b) quick search


def _search_samples(raw: sqlite3.Connection) -> list[tuple[str, str, tuple]]:
    """(typed text, the hand-written indexed query that finds it, its parameters)."""
    email = raw.execute("SELECT email_lower FROM contacts ORDER BY id LIMIT 1 OFFSET 5000")
    email_prefix = email.fetchone()[0][:8]
    number = raw.execute("SELECT account_number FROM accounts ORDER BY id LIMIT 1 OFFSET 50000")
    account_prefix = number.fetchone()[0][:-2]  # "A-1500" of A-150001: a hundred accounts
    hi = "\U0010ffff"
    return [
        (
            "ros",
            "SELECT id, account_number, company_name FROM accounts "
            "WHERE search_name >= ? AND search_name < ? ORDER BY search_name LIMIT 20",
            ("ros", "ros" + hi),
        ),
        (
            email_prefix,
            "SELECT a.id, a.account_number, a.company_name, c.email FROM contacts c "
            "JOIN accounts a ON a.id = c.account_id "
            "WHERE c.email_lower >= ? AND c.email_lower < ? ORDER BY c.email_lower LIMIT 20",
            (email_prefix, email_prefix + hi),
        ),
        (
            "INV-2026-00012",
            "SELECT a.id, a.account_number, a.company_name, i.number FROM invoices i "
            "JOIN accounts a ON a.id = i.account_id "
            "WHERE i.number >= ? AND i.number < ? ORDER BY i.number LIMIT 20",
            ("INV-2026-00012", "INV-2026-00012" + hi),
        ),
        (
            account_prefix,
            "SELECT id, account_number, company_name FROM accounts "
            "WHERE account_number >= ? AND account_number < ? ORDER BY account_number LIMIT 20",
            (account_prefix, account_prefix + hi),
        ),
    ]


def quick_search_keystroke(db_path: Path, repeat: int) -> Figure:
    """The last keystroke of four searches (company, email, invoice number, account ID)
    until the results are painted. Ours: the key into the quick search's line edit,
    its search (``services.accounts.quick_search``: every kind of match, ranked)
    and the repaint of its list. Baseline: the key into a bare ``QLineEdit``, the one
    indexed ``sqlite3`` query for the kind of thing typed, its rows into a
    ``QStringListModel`` and the repaint of a bare ``QListView``."""
    from PySide6.QtCore import QStringListModel
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit, QListView

    from billing_desktop.ui.quick_search import QuickSearchDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    ctx = _context(db_path)
    raw = sqlite3.connect(db_path)
    samples = _search_samples(raw)
    dialog = QuickSearchDialog(ctx)
    dialog.resize(620, 420)
    dialog.show()
    bare_edit = QLineEdit()
    bare_model = QStringListModel()
    bare_list = QListView()
    bare_list.setModel(bare_model)
    bare_list.resize(dialog.results.size())
    bare_edit.show()
    bare_list.show()
    app.processEvents()

    total_ours = total_base = 0.0
    found = []
    ours_times: list[float] = []
    base_times: list[float] = []
    for text, sql, params in samples:
        head, last = text[:-1], text[-1]

        def ours(head: str = head, last: str = last) -> None:
            dialog.edit.setText(head)
            dialog.search_now()
            started = time.perf_counter()
            QTest.keyClicks(dialog.edit, last)
            dialog.search_now()  # what the typing pause ends in
            dialog.results.viewport().repaint()
            ours_times.append(time.perf_counter() - started)

        def base(head: str = head, last: str = last, sql=sql, params=params) -> None:
            bare_edit.setText(head)
            started = time.perf_counter()
            QTest.keyClicks(bare_edit, last)
            rows = raw.execute(sql, params).fetchall()
            bare_model.setStringList([f"{r[1]}  {r[2]}\n{r[-1]}" for r in rows])
            bare_list.viewport().repaint()
            base_times.append(time.perf_counter() - started)

        ours_times.clear()
        base_times.clear()
        for _ in range(repeat + 1):  # interleaved; the callables time only the keystroke
            ours()
            base()
        ours_t = statistics.median(ours_times[1:])
        base_t = statistics.median(base_times[1:])
        total_ours += ours_t
        total_base += base_t
        found.append(f"{text!r} {dialog.model.rowCount()}")
    dialog.close()
    bare_edit.close()
    bare_list.close()
    raw.close()
    ctx.db.dispose()
    accounts = sqlite3.connect(db_path).execute("SELECT count(*) FROM accounts").fetchone()[0]
    return Figure(
        f"quick search keystroke to results painted ({accounts / 1000:.0f}k accounts)",
        total_ours / len(samples),
        total_base / len(samples),
        target=2.0,
        key="quick search",
        baseline_label="one indexed sqlite3 query + bare list",
        note=f"mean of the medians of {len(samples)} searches ({', '.join(found)} hits), "
        f"{repeat} keystrokes each; vs one hand-written indexed sqlite3 query + bare list",
    )


# --------------------------------------------------------------------------- (c) memory


def _child_memory(mode: str, db_path: Path) -> dict[str, Any]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="bench-config-")
    env["XDG_STATE_HOME"] = env["XDG_CONFIG_HOME"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.views", "--child", mode, str(db_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"memory child {mode} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def invoices_memory(db_path: Path) -> Figure:
    """Peak RSS after scrolling to the last invoice vs the same process with the view empty."""
    empty = _child_memory("empty", db_path)
    scrolled = _child_memory("scroll", db_path)
    base_mb = empty["peak_kb"] / 1024
    ours_mb = scrolled["peak_kb"] / 1024
    budget = 60.0
    return Figure(
        f"invoices view peak memory scrolled to the end ({scrolled['rows'] / 1e6:.1f} M rows)",
        ours_mb,
        base_mb,
        unit="MB",
        target=(base_mb + budget) / base_mb,
        target_text=f"≤ +{budget:.0f} MB",
        key="invoices memory",
        baseline_label="same process, view empty",
        note=f"+{ours_mb - base_mb:.0f} MB over the empty view (budget +{budget:.0f} MB); "
        f"{scrolled['pages']:,} pages fetched by scrolling in {scrolled['seconds']:.0f} s, "
        f"{scrolled['cached']:,} rows held",
    )


def _peak_rss_kb() -> int:
    """This process's peak resident set size in KiB.

    ``VmHWM`` belongs to the process image: unlike ``getrusage``'s ``ru_maxrss``,
    Linux does not carry the parent's peak over ``fork`` + ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(mode: str, db_path: Path) -> int:
    """The measured process: the Invoices view at 1280x800, empty or scrolled to the end."""
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from billing_desktop.store.invoice_queries import InvoiceFilter
    from billing_desktop.ui.views.invoices_view import InvoicesView

    ctx = _context(db_path)
    view = InvoicesView(ctx)
    view.resize(1280, 800)
    if mode == "empty":
        view.model.set_filter(InvoiceFilter(account="no such account"), count=False)
    view.show()
    app.processEvents()
    pages = 0
    started = time.perf_counter()
    table = view.table
    if mode == "scroll":
        while view.model.canFetchMore():
            table.scrollToBottom()  # the view asks the model for the next page
            app.processEvents()
            pages += 1
        table.scrollToBottom()
        table.viewport().repaint()
    seconds = time.perf_counter() - started
    peak_kb = _peak_rss_kb()
    print(
        json.dumps(
            {
                "mode": mode,
                "rows": view.model.rowCount(),
                "pages": pages,
                "seconds": seconds,
                "cached": view.model.cached_rows(),
                "peak_kb": peak_kb,
            }
        )
    )
    return 0


def cheap_figures(db_path: Path, repeat: int) -> list[Figure]:
    """The figures of this module measured in every round (all but the memory)."""
    return [
        invoices_first_paint(db_path, repeat * 3),
        invoices_page_repaint(db_path, repeat * 3),
        quick_search_keystroke(db_path, repeat * 3),
    ]


def figures(db_path: Path, repeat: int) -> list[Figure]:
    """All figures of this module."""
    return [*cheap_figures(db_path, repeat), invoices_memory(db_path)]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        sys.exit(_child(sys.argv[2], Path(sys.argv[3])))
    print("usage: python -m bench.views --child scroll|empty DB", file=sys.stderr)
    sys.exit(2)


__all__ = [
    "cheap_figures",
    "figures",
    "invoices_first_paint",
    "invoices_memory",
    "quick_search_keystroke",
]
