"""Crash injection: kill a child process (SIGKILL) in the middle of a billing action, then
prove the SQLite file holds every committed transaction whole and nothing of the others.

The actions (each in one or more variants, all on the curated demo accounts loaded for
2026-04-26 with a clock stopped at 09:00):

=============  ==================  ===========================================================
action         variant             what runs in the child
=============  ==================  ===========================================================
place order    new card            ``place_order(items=…)`` on A-100003 with a new card: a new
                                   payment method, two subscriptions, order, invoice paid by
                                   card (payment), email, audit
place order    cart                ``place_order`` of A-100002's stored cart (10 → 7 licences):
                                   a credit note, the cart emptied
cancellation   online              ``cancel_online`` of A-100001's GoToAssist v4
assisted       termination         ``assisted_cancel`` of A-100005's LogMeIn Resolve (verified
                                   caller, balance settled, licences unassigned beforehand): an
                                   early-termination invoice
renewal        bulk / per event    ``advance`` to 2026-06-30 on the bulk path (raw ``sqlite3``
                                   ``executemany``) or the per-event ORM path, in chunks of
                                   :data:`RENEWAL_CHUNK` events (one transaction each);
                                   A-100010's renewal fails (no prices in its currency), so
                                   the per-event path also rolls a chunk back and replays it
                                   with a savepoint per event
=============  ==================  ===========================================================

Kill points, chosen from a seed per trial:

* ``sql``: before the N-th SQL statement of the action on *any* connection. Every
  ``sqlite3`` connection the child opens (SQLAlchemy's, the store's reader, and so the raw
  connection under :class:`~billing_desktop.store.bulk.Prepared` and the renewal bulk path,
  which bypass SQLAlchemy's events) gets ``set_trace_callback``; the callback counts
  statements (one per row of an ``executemany``, and ``COMMIT`` itself) and kills the
  process from inside it;
* ``sa``: before the N-th statement SQLAlchemy executes (``before_cursor_execute``);
* ``timer``: the runner kills the child after a random delay within the action's duration
  (plus 15 %).

N goes up to one more than the reference run's statements: that point kills the child
right after the action returned (committed, not yet reported).

What "entirely present or entirely absent" means is checked three ways after each kill:

1. **Commit points.** A reference run of the same variant (same template, no kill)
   records the whole database (a digest per table) after each of its write commits. The
   crashed database must be exactly the state after the commits the child completed (the
   child counts them in shared memory; a kill inside ``commit()`` allows the state just
   before or just after it). Anything else is a partial write (or a lost commit); the
   report names each table and the commit point it matches, if any.
2. **Rows of the action.** For an action on one account, every table's rows belonging to
   that account (account, subscriptions and their add-ons — the licences —, cart, payment
   methods, orders, invoices and their lines, payments, credits, emails, audit entries)
   plus ``invoice_series`` and ``app_settings`` must all be as before the action or all as
   after it. The rows each action changes (the others must stay as they were):

   - place order, new card: the account (totals, autopay, version), the new payment
     method, the subscriptions (plan, licences, period, status), the order, its invoice
     and lines, the card payment, the confirmation email, the audit entries, the series;
   - place order, cart: the same without a payment method and payment, plus the credit
     note and the emptied cart (``carts``, ``cart_items``);
   - cancellation: the subscription (status, auto-renew, cancellation fields, version),
     the confirmation email, the audit entry;
   - assisted: the subscription, the early-termination invoice and its lines, the account
     totals, the series, the confirmation email, the audit entry.

   For the renewal run: every renewal invoice issued has its lines, its
   ``subscription.renewed`` audit entry and its *renewal invoice* email, and the
   subscription has moved on to the period audited last.
3. **Invariants.** ``PRAGMA integrity_check`` is ``ok``, no foreign key is broken, invoice
   numbers are gap-free per series (1 … ``next_number`` − 1), every invoice's lines add up
   to its subtotal, and the outbox (``emails``) holds exactly the emails of the committed
   transactions.

Then the same action runs again in a fresh child, without a kill: it must succeed (or be
refused as "already done" when the crashed run had committed), and the database must then
equal the reference run's final state (for the renewal run: apart from the ``renewal.run``
audit entry, which records where the interrupted run had got to).

Process model: a *runner* (``python crash_harness.py run …``, a fresh single-threaded
interpreter with the application imported once) prepares the template and reference runs
and forks one child per run, so a trial costs the action, not an interpreter start-up.
:func:`run_trials` drives runners from the test suite and ``tools/stress.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import mmap
import os
import random
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

TODAY = date(2026, 4, 26)
NOW = datetime(2026, 4, 26, 9, 0)
#: the renewal run advances the demo's clock to this date (about 50 events)
RENEWAL_TO = date(2026, 6, 30)
#: events per renewal transaction in the trials (the default would do them all in one)
RENEWAL_CHUNK = 5
ORDER_KEY = "crash-order"
#: its renewals fail (see :func:`_prepare_data`)
FAILING_ACCOUNT = "A-100010"
TEST_CARD = "5555 5555 5555 4444"

ACTIONS = ("place order", "cancellation", "assisted", "renewal")
VARIANTS: dict[str, tuple[str, ...]] = {
    "place order": ("new card", "cart"),
    "cancellation": ("online",),
    "assisted": ("termination",),
    "renewal": ("bulk", "per event"),
}
#: refusals a rerun may give when the crashed run had committed (the action is done)
DONE_CODES: dict[str, tuple[str, ...]] = {
    "cancellation": ("already_cancellation_pending",),
    "assisted": ("already_cancellation_pending",),
}
MODES = ("sql", "sa", "timer")
MODE_WEIGHTS = (5, 2, 3)
#: a child that takes longer than this is killed and reported
CHILD_TIMEOUT = 120.0

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def variant_key(action: str, name: str) -> str:
    return f"{action}/{name}"


ALL_VARIANTS = tuple(variant_key(a, n) for a in ACTIONS for n in VARIANTS[a])
#: a deliberately broken action (the order's confirmation email queued in a second
#: transaction): the harness's own test proves the checks catch it
SPLIT_ORDER = "self-test/split order"


# --------------------------------------------------------------------------- digests


def connect(path: Path | str) -> sqlite3.Connection:
    """A plain connection for checking (opening it recovers the WAL of a killed writer)."""
    return _ORIGINAL_CONNECT(str(path), timeout=30, isolation_level=None)


_ORIGINAL_CONNECT = sqlite3.connect


def tables(con: sqlite3.Connection) -> list[str]:
    rows = con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return sorted(name for (name,) in rows)


def table_rows(con: sqlite3.Connection, table: str, where: str = "") -> list[tuple[Any, ...]]:
    sql = f'SELECT * FROM "{table}"' + (f" WHERE {where}" if where else "")
    return sorted(con.execute(sql).fetchall(), key=repr)


def _digest(rows: list[tuple[Any, ...]]) -> str:
    return hashlib.sha1(repr(rows).encode()).hexdigest()[:16]


#: rows left out when comparing a renewal rerun with the reference (see module docstring)
RUN_ENTRIES = "action <> 'renewal.run'"


def digests(con: sqlite3.Connection, skip_run_entries: bool = False) -> dict[str, str]:
    """A digest of every table's rows (sorted: independent of storage order)."""
    out = {}
    for table in tables(con):
        where = RUN_ENTRIES if skip_run_entries and table == "audit_entries" else ""
        out[table] = _digest(table_rows(con, table, where))
    return out


def outbox(con: sqlite3.Connection) -> list[list[Any]]:
    """The emails table as the report shows it: id, account, kind, subject."""
    rows = con.execute("SELECT id, account_id, kind, subject FROM emails ORDER BY id")
    return [list(row) for row in rows]


# --------------------------------------------------------------------------- rows of an action

_OF_SUBS = "subscription_id IN (SELECT id FROM subscriptions WHERE account_id = :a)"
#: per table: the rows that belong to account ``:a``
ACCOUNT_ROWS = {
    "accounts": "id = :a",
    "carts": "account_id = :a",
    "cart_items": "cart_id IN (SELECT id FROM carts WHERE account_id = :a)",
    "payment_methods": "account_id = :a",
    "subscriptions": "account_id = :a",
    "subscription_addons": _OF_SUBS,
    "licence_assignments": _OF_SUBS,
    "orders": "account_id = :a",
    "invoices": "account_id = :a",
    "invoice_lines": "invoice_id IN (SELECT id FROM invoices WHERE account_id = :a)",
    "payments": "account_id = :a",
    "credits": "account_id = :a",
    "emails": "account_id = :a",
    "audit_entries": "account_id = :a",
}
GLOBAL_ROWS = ("invoice_series", "app_settings")


def account_parts(con: sqlite3.Connection, account_id: int) -> dict[str, str]:
    """A digest per part of one account's data (what an action on the account may change)."""
    out = {}
    for table, where in ACCOUNT_ROWS.items():
        rows = sorted(
            con.execute(f"SELECT * FROM {table} WHERE {where}", {"a": account_id}), key=repr
        )
        out[table] = _digest(rows)
    for table in GLOBAL_ROWS:
        out[table] = _digest(table_rows(con, table))
    return out


def check_account_parts(
    now: dict[str, str], before: dict[str, str], after: dict[str, str]
) -> str | None:
    """None if the action's rows are all as before or all as after; else what is mixed."""
    changed = [name for name in after if after[name] != before[name]]
    untouched = [
        name for name in after if after[name] == before[name] and now[name] != before[name]
    ]
    states = {name: "after" if now[name] == after[name] else "before"
              if now[name] == before[name] else "neither" for name in changed}  # fmt: skip
    if untouched:
        return f"rows the action never changes were changed: {', '.join(untouched)}"
    if len(set(states.values())) > 1 or "neither" in states.values():
        described = ", ".join(f"{name} {state}" for name, state in states.items())
        return f"the action's rows are partly written: {described}"
    return None


def renewal_problems(con: sqlite3.Connection, first_ids: dict[str, int]) -> list[str]:
    """Each renewal event whole: invoice, lines, audit entry, email, subscription moved on."""
    problems = []
    new_invoices = dict(
        con.execute(
            "SELECT number, id FROM invoices WHERE kind = 'renewal' AND id >= ?",
            (first_ids["invoices"],),
        ).fetchall()
    )
    audits = con.execute(
        "SELECT action, after_json FROM audit_entries WHERE id >= ? AND action IN "
        "('subscription.renewed', 'subscription.period_advanced') ORDER BY id",
        (first_ids["audit_entries"],),
    ).fetchall()
    audited: set[str] = set()
    last_period: dict[int, str] = {}
    for action, after_json in audits:
        after = json.loads(after_json)
        if action == "subscription.renewed":
            audited.add(after["invoice"])
        last_period[after["subscription_id"]] = after["period_start"]
    if set(new_invoices) != audited:
        problems.append(
            "renewal invoices without their audit entry or the reverse: "
            f"{sorted(set(new_invoices) ^ audited)}"
        )
    subjects = [
        subject for (subject,) in con.execute(
            "SELECT subject FROM emails WHERE kind = 'renewal_invoice' AND id >= ?",
            (first_ids["emails"],),
        )
    ]  # fmt: skip
    emailed = {word for subject in subjects for word in subject.split() if word.startswith("INV-")}
    if len(subjects) != len(new_invoices) or emailed != set(new_invoices):
        problems.append(
            f"{len(new_invoices)} renewal invoices but {len(subjects)} renewal emails "
            f"(differing: {sorted(emailed ^ set(new_invoices))})"
        )
    for number, invoice_id in new_invoices.items():
        (lines,) = con.execute(
            "SELECT count(*) FROM invoice_lines WHERE invoice_id = ?", (invoice_id,)
        ).fetchone()
        if not lines:
            problems.append(f"renewal invoice {number} has no lines")
    for sub_id, start in last_period.items():
        row = con.execute(
            "SELECT period_start FROM subscriptions WHERE id = ?", (sub_id,)
        ).fetchone()
        if row is None or row[0] != start:
            problems.append(
                f"subscription {sub_id} is at period {row and row[0]}, its last audit says {start}"
            )
    return problems


# --------------------------------------------------------------------------- invariants


def invariant_problems(con: sqlite3.Connection) -> list[str]:
    """What must hold in every committed state of any billing database."""
    problems = []
    result = [row[0] for row in con.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        problems.append(f"integrity_check: {result[:5]}")
    broken = con.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        problems.append(f"foreign keys broken: {broken[:5]}")
    series = dict(con.execute("SELECT prefix, next_number FROM invoice_series"))
    numbers: dict[str, list[int]] = {}
    for (number,) in con.execute("SELECT number FROM invoices"):
        prefix, _, n = number.rpartition("-")
        numbers.setdefault(prefix, []).append(int(n))
    for prefix in sorted(set(series) | set(numbers)):
        taken = sorted(numbers.get(prefix, []))
        following = series.get(prefix)
        if following is None:
            problems.append(f"invoice numbers {prefix}-… have no series row")
        elif taken != list(range(1, following)):
            missing = sorted(set(range(1, following)) - set(taken))
            extra = sorted(set(taken) - set(range(1, following)))
            problems.append(
                f"series {prefix}: next_number {following}, numbers missing {missing[:10]}, "
                f"beyond or repeated {extra[:10] or len(taken) - len(set(taken))}"
            )
    unbalanced = con.execute(
        "SELECT i.number, i.subtotal_minor, coalesce(sum(l.amount_minor), 0) FROM invoices i "
        "LEFT JOIN invoice_lines l ON l.invoice_id = i.id GROUP BY i.id "
        "HAVING i.subtotal_minor <> coalesce(sum(l.amount_minor), 0)"
    ).fetchall()
    if unbalanced:
        problems.append(f"invoices whose lines do not add up to the subtotal: {unbalanced[:5]}")
    return problems


# --------------------------------------------------------------------------- the child

#: shared with the runner (anonymous shared memory): transaction state, write commits,
#: statements traced, the child's pid
_STATE = struct.Struct("<iiii")
TX_NONE, TX_WRITE, TX_READ, TX_COMMITTING = 0, 1, 2, 3
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class _Child:
    """Hooks of one child process: counting statements, killing, recording commit points.

    The transaction state is kept per connection (a pooled connection's reset, or another
    connection's statements, must not hide an open write transaction); the runner sees the
    most telling one: committing, else writing, else none.
    """

    def __init__(self, shared: mmap.mmap, kill_sql: int, kill_sa: int, record: bool) -> None:
        self.shared = shared
        self.kill_sql = kill_sql
        self.kill_sa = kill_sa
        self.record = record
        self.counting = False
        #: transaction state per connection (id) that is not TX_NONE
        self.open: dict[int, int] = {}
        self.commits = 0
        self.statements = 0
        self.sa_statements = 0
        self.autocommit_writes = 0
        self.states: list[dict[str, str]] = []
        self.outboxes: list[list[list[Any]]] = []
        self.path = ""
        self.pid = os.getpid()

    @property
    def tx(self) -> int:
        states = set(self.open.values())
        for state in (TX_COMMITTING, TX_WRITE):
            if state in states:
                return state
        return TX_NONE

    def set_tx(self, con: sqlite3.Connection, state: int) -> None:
        if state == TX_NONE:
            self.open.pop(id(con), None)
        else:
            self.open[id(con)] = state

    def publish(self) -> None:
        _STATE.pack_into(self.shared, 0, self.tx, self.commits, self.statements, self.pid)

    def trace(self, con: sqlite3.Connection, sql: str) -> None:
        if not self.counting:
            return
        self.statements += 1
        if self.statements == self.kill_sql:
            os.kill(os.getpid(), signal.SIGKILL)  # before the statement runs
        head = sql.lstrip()[:16].upper()
        state = self.open.get(id(con), TX_NONE)
        if head.startswith("BEGIN"):
            write = "IMMEDIATE" in head or "EXCLUSIVE" in head
            self.set_tx(con, TX_WRITE if write else TX_READ)
        elif head.startswith(_WRITES):
            if state == TX_READ:
                self.set_tx(con, TX_WRITE)
            elif state == TX_NONE:
                self.autocommit_writes += 1
        self.publish()

    def sa_hook(self, *_args: Any) -> None:
        if not self.counting:
            return
        self.sa_statements += 1
        if self.sa_statements == self.kill_sa:
            os.kill(os.getpid(), signal.SIGKILL)

    def committing(self, con: sqlite3.Connection) -> bool:
        """Before ``con`` commits: True if its transaction wrote (or holds the write lock)."""
        wrote = self.open.get(id(con)) == TX_WRITE
        if wrote:
            self.set_tx(con, TX_COMMITTING)
            self.publish()
        return wrote

    def committed(self, con: sqlite3.Connection, wrote: bool) -> None:
        if wrote:
            self.commits += 1
            if self.record:
                with contextlib.closing(connect(self.path)) as check:
                    self.states.append(digests(check))
                    self.outboxes.append(outbox(check))
        self.set_tx(con, TX_NONE)
        self.publish()

    def rolled_back(self, con: sqlite3.Connection) -> None:
        self.set_tx(con, TX_NONE)
        self.publish()

    def install(self) -> None:
        child = self

        class Traced(sqlite3.Connection):
            def commit(self) -> None:
                wrote = child.committing(self)
                super().commit()
                child.committed(self, wrote)

            def rollback(self) -> None:
                super().rollback()
                child.rolled_back(self)

        def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            kwargs.setdefault("factory", Traced)
            con = _ORIGINAL_CONNECT(*args, **kwargs)
            con.set_trace_callback(lambda sql: child.trace(con, sql))
            return con

        sqlite3.connect = traced_connect  # the store's reader
        sqlite3.dbapi2.connect = traced_connect  # SQLAlchemy's pysqlite driver

        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self.sa_hook)


def _context(path: Path) -> Any:
    from billing_desktop.config import target_from
    from billing_desktop.services.clock import FixedClock
    from billing_desktop.services.context import AppContext, local_operator
    from billing_desktop.store.database import open_database

    db = open_database(target_from(str(path)))
    return AppContext(db=db, clock=FixedClock(NOW), operator=local_operator(db), is_demo=True)


def _action(key: str, ctx: Any, setup: dict[str, Any]) -> Callable[[], Any]:
    """The call a trial of variant ``key`` makes (prepared, not run)."""
    from billing_desktop.services import cancellation as cx
    from billing_desktop.services import renewal
    from billing_desktop.services.cart import CartChange
    from billing_desktop.services.checkout import NewCard, place_order

    if key == "place order/new card":
        items = [
            CartChange.subscribe(subscription_id=setup["a100003_v5"], licences=2),
            CartChange.subscribe(product="goto_webinar"),
        ]
        card = NewCard(TEST_CARD, 12, 2030, holder_name="Antonio Greco")
        return lambda: place_order(
            ctx, "A-100003", idempotency_key=ORDER_KEY, items=items, payment=card
        )
    if key == SPLIT_ORDER:
        from sqlalchemy import text

        order = _action("place order/new card", ctx, setup)

        def split() -> None:
            order()
            with ctx.db.transaction() as session:
                session.execute(
                    text(
                        "INSERT INTO emails (account_id, kind, to_address, cc_addresses, "
                        "subject, body_text, language, status, created_at, attempts) VALUES "
                        "(:a, 'order_placed', 'x@example.com', '', 'Your order', '', 'en', "
                        "'queued', :now, 0)"
                    ),
                    {"a": setup["accounts"]["A-100003"], "now": NOW},
                )

        return split
    if key == "place order/cart":
        return lambda: place_order(ctx, "A-100002", idempotency_key=ORDER_KEY)
    if key == "cancellation/online":
        return lambda: cx.cancel_online(ctx, setup["a100001_v4"], reason="too_expensive")
    if key == "assisted/termination":
        return lambda: cx.assisted_cancel(
            ctx, "A-100005", verification=setup["a100005_token"],
            requester_contact_id=setup["a100005_sanne"], subscription_ids=[setup["a100005_sub"]],
            reason="no_longer_needed", backup_confirmed=True,
        )  # fmt: skip
    if key.startswith("renewal/"):
        renewal.BULK = key == "renewal/bulk"
        renewal.CHUNK_EVENTS = renewal.PER_EVENT_CHUNK = RENEWAL_CHUNK
        renewal.CHUNK_SECONDS = 1e9  # chunks by count only: the same commit points every run
        return lambda: renewal.advance(ctx, RENEWAL_TO)
    raise ValueError(f"unknown variant {key!r}")


@dataclasses.dataclass
class ChildRun:
    """What the runner learnt about one child."""

    outcome: str  # "ok", "refused:<code>", "error:<text>", "killed", "hung"
    killed: bool
    tx: int
    commits: int
    statements: int
    report: dict[str, Any]
    seconds: float


def run_child(
    path: Path,
    key: str,
    setup: dict[str, Any],
    *,
    kill_sql: int = 0,
    kill_sa: int = 0,
    kill_after: float | None = None,
    record: bool = False,
) -> ChildRun:
    """Fork a child that runs variant ``key`` on ``path``; kill it as asked; wait for it."""
    shared = mmap.mmap(-1, _STATE.size)
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # ---- the child
        code = 0
        try:
            os.close(read_end)
            code = _child_main(path, key, setup, shared, write_end, kill_sql, kill_sa, record)
        except BaseException:
            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)
    # ---- the runner
    os.close(write_end)
    data = b""
    started = time.monotonic()
    ready_at: float | None = None
    killed_by_us = False
    hung = False
    while True:
        timeout = CHILD_TIMEOUT - (time.monotonic() - started)
        if ready_at is not None and kill_after is not None and not killed_by_us:
            timeout = min(timeout, max(ready_at + kill_after - time.monotonic(), 0))
        readable, _, _ = select.select([read_end], [], [], max(timeout, 0))
        if not readable:
            if ready_at is not None and kill_after is not None and not killed_by_us:
                os.kill(pid, signal.SIGKILL)
                killed_by_us = True
                continue
            os.kill(pid, signal.SIGKILL)
            hung = True
            break
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        data += chunk
        if ready_at is None and data.startswith(b"R"):
            ready_at = time.monotonic()
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    tx, commits, statements, marked_by = _STATE.unpack_from(shared, 0)
    shared.close()
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    report: dict[str, Any] = {}
    text = data[1:].decode() if data.startswith(b"R") else data.decode()
    if text.strip():
        report = json.loads(text)
    if hung:
        outcome = "hung"
    elif killed and marked_by != pid:
        # killed before it published anything (it wrote nothing then): checked as a
        # kill before the first statement
        outcome = "killed before it started"
        tx, commits, statements = 0, 0, 0
    elif killed:
        outcome = "killed"
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and "outcome" in report:
        outcome = report["outcome"]
    else:
        outcome = f"error:child exit status {status}"
    done = report.get("seconds", 0.0)
    return ChildRun(outcome, killed and not hung, tx, commits, statements, report, done)


def _child_main(
    path: Path,
    key: str,
    setup: dict[str, Any],
    shared: mmap.mmap,
    out: int,
    kill_sql: int,
    kill_sa: int,
    record: bool,
) -> int:
    from billing_desktop.domain.errors import DomainError

    child = _Child(shared, kill_sql, kill_sa, record)
    child.path = str(path)
    child.install()
    ctx = _context(path)
    ctx.db.warm_up()
    with ctx.db.engine.connect():
        pass  # the pool keeps the connection: the action starts on an open database
    call = _action(key, ctx, setup)
    if record:
        with contextlib.closing(connect(path)) as con:
            child.states.append(digests(con))
            child.outboxes.append(outbox(con))
    child.counting = True
    child.publish()
    os.write(out, b"R")
    started = time.perf_counter()
    try:
        call()
        outcome = "ok"
    except DomainError as err:
        outcome = f"refused:{err.code}"
    if kill_sql > child.statements or kill_sa > child.sa_statements:
        os.kill(os.getpid(), signal.SIGKILL)  # a point after the last statement: right after
    seconds = time.perf_counter() - started
    child.counting = False
    ctx.db.dispose()
    report = {
        "outcome": outcome,
        "seconds": seconds,
        "statements": child.statements,
        "sa_statements": child.sa_statements,
        "commits": child.commits,
        "autocommit_writes": child.autocommit_writes,
    }
    if record:
        report["states"] = child.states
        report["outboxes"] = child.outboxes
    payload = json.dumps(report).encode()
    while payload:
        payload = payload[os.write(out, payload) :]
    return 0


# --------------------------------------------------------------------------- the template


def _prepare_data(path: Path) -> dict[str, Any]:
    """The curated demo accounts and what the trials' actions need beforehand."""
    from sqlalchemy import delete, select, text

    from billing_desktop.config import target_from
    from billing_desktop.domain.money import Money
    from billing_desktop.services import cancellation as cx
    from billing_desktop.services.cart import CartChange, add_to_cart
    from billing_desktop.services.clock import FixedClock
    from billing_desktop.services.context import AppContext, local_operator
    from billing_desktop.services.demo import load_curated
    from billing_desktop.services.invoicing import apply_payment
    from billing_desktop.store.database import open_database
    from billing_desktop.store.models import Account, Invoice, LicenceAssignment
    from billing_desktop.store.totals import refresh_account_totals

    db = open_database(target_from(str(path)))
    try:
        load_curated(db, TODAY)
        ctx = AppContext(db=db, clock=FixedClock(NOW), operator=local_operator(db), is_demo=True)

        def sub(account: str, product: str) -> int:
            return db.reader.scalar(
                "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
                "JOIN products p ON p.id = s.product_id "
                "WHERE a.account_number = :a AND p.code = :p",
                {"a": account, "p": product},
            )

        setup: dict[str, Any] = {
            "a100003_v5": sub("A-100003", "gotoassist_rs_v5"),
            "a100001_v4": sub("A-100001", "gotoassist_rs_v4"),
            "a100005_sub": sub("A-100005", "logmein_resolve"),
        }
        # place order/cart: A-100002 goes from 10 to 7 licences (a credit note)
        add_to_cart(
            ctx, "A-100002", CartChange.change_licences(sub("A-100002", "gotoassist_rs_v5"), 7)
        )
        # assisted: every precondition holds (balance settled, licences unassigned, verified)
        with db.transaction() as s:
            account = s.scalar(select(Account).where(Account.account_number == "A-100005"))
            for invoice in s.scalars(
                select(Invoice).where(Invoice.account_id == account.id, Invoice.status == "open")
            ):
                apply_payment(
                    s, account, invoice, Money.from_minor(invoice.due_minor, invoice.currency),
                    datetime(2026, 4, 26, 8, 55), account.payment_methods[0],
                )  # fmt: skip
            s.flush()
            refresh_account_totals(s, account)
            s.execute(
                delete(LicenceAssignment).where(
                    LicenceAssignment.subscription_id == setup["a100005_sub"]
                )
            )
            setup["a100005_sanne"] = next(c.id for c in account.contacts if c.first_name == "Sanne")
        verified = cx.verify_caller(
            ctx, "A-100005", account_number="A-100005",
            billing_admin_email="sanne.devries@vanderberg-techniek.example", last4="5100",
            billing_address="Maliebaan 48", postal_code="3581CR",
        )  # fmt: skip
        if not verified.verified:
            raise RuntimeError("the template's caller verification failed")
        setup["a100005_token"] = verified.token
        # renewal: one account bills in a currency the catalog has no price for, so its
        # renewals fail: the per-event path rolls that chunk back and replays it with a
        # savepoint per event (the bulk path leaves the event out)
        with db.transaction() as s:
            s.execute(
                text("UPDATE accounts SET currency = 'CHF' WHERE account_number = :n"),
                {"n": FAILING_ACCOUNT},
            )
        setup["accounts"] = dict(db.reader.rows("SELECT account_number, id FROM accounts"))
    finally:
        db.dispose()
    with contextlib.closing(connect(path)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return setup


def _account_of(key: str) -> str | None:
    return {
        "place order/new card": "A-100003",
        SPLIT_ORDER: "A-100003",
        "place order/cart": "A-100002",
        "cancellation/online": "A-100001",
        "assisted/termination": "A-100005",
    }.get(key)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def _forked(call: Callable[[], Any]) -> Any:
    """``call()`` in a forked child (the runner's state stays as it was); its JSON result."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_end)
            payload = json.dumps(call()).encode()
            while payload:
                payload = payload[os.write(write_end, payload) :]
        except BaseException:
            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"a forked step failed (status {status})")
    return json.loads(data)


def warm_up(folder: Path, setup: dict[str, Any]) -> None:
    """Run every variant once in the runner itself (on a scratch copy), so the children it
    forks start with SQLAlchemy's mappers configured and statements compiled, as the
    reference's did: the same statements, the same timing."""
    template = folder / "template.sqlite3"
    for key in ALL_VARIANTS:
        scratch = folder / f"warm-{os.getpid()}.sqlite3"
        _remove(scratch)
        shutil.copyfile(template, scratch)
        ctx = _context(scratch)
        try:
            _action(key, ctx, setup)()
        finally:
            ctx.db.dispose()
            _remove(scratch)


def prepare(folder: Path) -> dict[str, Any]:
    """Build ``folder/template.sqlite3`` and run every variant without a kill (the
    reference: statements, duration, commit points); saved as ``folder/reference.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "template.sqlite3"
    _remove(template)
    setup = _forked(lambda: _prepare_data(template))
    warm_up(folder, setup)
    with contextlib.closing(connect(template)) as con:
        problems = invariant_problems(con)
        if problems:
            raise RuntimeError(f"the template itself is inconsistent: {problems}")
        first_ids = {
            table: con.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
            for table in ("invoices", "audit_entries", "emails")
        }
    reference: dict[str, Any] = {"setup": setup, "first_ids": first_ids, "variants": {}}
    for key in (*ALL_VARIANTS, SPLIT_ORDER):
        work = folder / "reference.sqlite3"
        timed = []
        for _ in range(3):
            _remove(work)
            shutil.copyfile(template, work)
            timed.append(run_child(work, key, setup))
        _remove(work)
        shutil.copyfile(template, work)
        recorded = run_child(work, key, setup, record=True)
        for run in (*timed, recorded):
            if run.outcome != "ok":
                raise RuntimeError(f"reference run of {key} failed: {run.outcome}")
            if run.report["autocommit_writes"]:
                raise RuntimeError(f"{key} writes outside a transaction: no crash-safe unit")
        timed.sort(key=lambda run: run.seconds)
        timed = timed[1]  # the median of three
        entry = {
            "seconds": timed.seconds,
            "statements": timed.report["statements"],
            "sa_statements": timed.report["sa_statements"],
            "commits": recorded.report["commits"],
            "states": recorded.report["states"],
            "outboxes": recorded.report["outboxes"],
        }
        if (timed.report["statements"], timed.report["commits"]) != (
            recorded.report["statements"],
            recorded.report["commits"],
        ):
            raise RuntimeError(f"{key}: two reference runs differ (not deterministic)")
        with contextlib.closing(connect(work)) as con:
            entry["final_skip_run"] = digests(con, skip_run_entries=True)
            number = _account_of(key)
            if number is not None:
                entry["parts_after"] = account_parts(con, setup["accounts"][number])
        if number is not None:
            with contextlib.closing(connect(template)) as con:
                entry["parts_before"] = account_parts(con, setup["accounts"][number])
        reference["variants"][key] = entry
        _remove(work)
    (folder / "reference.json").write_text(json.dumps(reference), encoding="utf-8")
    return reference


# --------------------------------------------------------------------------- one trial


def trial_seed(base: int, index: int) -> str:
    return f"{base}-{index}"


def _diagnose(now: dict[str, str], states: list[dict[str, str]], expected: list[int]) -> str:
    """Which tables differ from the expected commit point, and which point each matches."""
    want = states[expected[0]]
    parts = []
    for table in sorted(now):
        if now[table] != want.get(table):
            matches = [i for i, s in enumerate(states) if s.get(table) == now[table]]
            where = f"matches commit point {matches}" if matches else "matches no commit point"
            parts.append(f"{table} ({where})")
    return (
        f"the database is not the state after {expected} of the reference's commits: "
        + "; ".join(parts)
    )


def run_trial(folder: Path, reference: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """One trial: copy the template, run and kill a child, check, rerun, check again.

    ``spec["seed"]`` (``"<base>-<index>"``) decides everything: the action (round robin
    by index), its variant, the kill mode and point; ``spec`` may fix ``variant``,
    ``mode`` and ``point`` (a statement number, or seconds for a timer).
    """
    seed = spec["seed"]
    rng = random.Random(seed)
    index = int(seed.rsplit("-", 1)[1])
    action = ACTIONS[index % len(ACTIONS)]
    key = variant_key(action, rng.choice(VARIANTS[action]))
    mode = rng.choices(MODES, MODE_WEIGHTS)[0]
    key = spec.get("variant", key)
    action = key.split("/", 1)[0]
    mode = spec.get("mode", mode)
    ref = reference["variants"][key]
    setup = reference["setup"]
    kill: dict[str, Any] = {}
    if mode == "sql":
        # one more point than statements: killed right after the action returned
        kill["kill_sql"] = spec.get("point") or rng.randint(1, ref["statements"] + 1)
        point = f"before SQL statement {kill['kill_sql']} of {ref['statements']}"
    elif mode == "sa":
        kill["kill_sa"] = spec.get("point") or rng.randint(1, ref["sa_statements"] + 1)
        point = f"before SQLAlchemy statement {kill['kill_sa']} of {ref['sa_statements']}"
    else:
        kill["kill_after"] = spec.get("point") or rng.uniform(0, ref["seconds"] * 1.15)
        point = f"after {kill['kill_after'] * 1000:.1f} ms of {ref['seconds'] * 1000:.1f} ms"
    path = folder / f"trial-{os.getpid()}.sqlite3"
    _remove(path)
    shutil.copyfile(folder / "template.sqlite3", path)
    result: dict[str, Any] = {
        "seed": seed, "action": action, "variant": key, "mode": mode, "point": point,
        "killed": False, "mid_transaction": False, "partial": [], "problems": [], "notes": [],
    }  # fmt: skip
    crashed = run_child(path, key, setup, **kill)
    result["killed"] = crashed.killed
    result["outcome"] = crashed.outcome
    if crashed.outcome == "killed before it started":
        result["notes"].append("killed before the action started: the database must be as before")
    if crashed.outcome == "hung" or crashed.outcome.startswith("error"):
        result["problems"].append(f"the child did not run: {crashed.outcome}")
        return result
    # ---- the crashed database
    states = ref["states"]
    if crashed.killed:
        result["mid_transaction"] = crashed.tx in (TX_WRITE, TX_COMMITTING)
        expected = [crashed.commits]
        if crashed.tx == TX_COMMITTING and mode == "timer":
            expected.append(crashed.commits + 1)  # killed inside commit(): either is whole
    else:
        expected = [len(states) - 1]
    expected = [i for i in expected if i < len(states)]
    result["child"] = {
        "tx": crashed.tx,
        "commits": crashed.commits,
        "statements": crashed.statements,
    }
    with contextlib.closing(connect(path)) as con:
        problems = invariant_problems(con)
        if problems:
            result["problems"] += [f"after the kill: {p}" for p in problems]
        now = digests(con)
        matched = next((i for i in expected if states[i] == now), None)
        if matched is None and crashed.killed and mode == "timer":
            # The runner read the child's counters after its death; should they ever lag
            # (seen once in some 3 000 trials, not reproduced), a whole later commit point
            # is still no partial write and no lost commit: noted, not failed.
            later = range(expected[-1] + 1 if expected else 0, len(states))
            matched = next((i for i in later if states[i] == now), None)
            if matched is not None:
                result["notes"].append(
                    f"the database holds {matched} whole commits, the child had counted "
                    f"{crashed.commits}"
                )
        if matched is None:
            result["partial"].append(_diagnose(now, states, expected or [len(states) - 1]))
        else:
            result["state"] = matched
        mails = outbox(con)
        if matched is not None and mails != ref["outboxes"][matched]:
            result["partial"].append("the outbox differs from the committed actions' emails")
        elif matched is None and mails not in ref["outboxes"]:
            result["partial"].append(
                "the outbox holds emails of uncommitted actions (or lost committed ones)"
            )
        number = _account_of(key)
        if number is not None:
            mixed = check_account_parts(
                account_parts(con, setup["accounts"][number]), ref["parts_before"],
                ref["parts_after"],
            )  # fmt: skip
            if mixed:
                result["partial"].append(mixed)
        else:
            result["partial"] += renewal_problems(con, reference["first_ids"])
    if result["partial"] or result["problems"]:
        kept = folder / f"failed-{seed}-killed.sqlite3"  # the database as the kill left it
        shutil.copyfile(path, kept)
        result["kept"] = str(kept)
    # ---- the same action again
    done_before = result.get("state", 0) == len(states) - 1 and len(states) > 1
    rerun = run_child(path, key, setup)
    result["rerun"] = rerun.outcome
    refused_ok = (
        done_before
        and rerun.outcome.startswith("refused:")
        and rerun.outcome.split(":", 1)[1] in DONE_CODES.get(action, ())
    )
    if rerun.outcome != "ok" and not refused_ok:
        result["problems"].append(f"the rerun after the crash failed: {rerun.outcome}")
    with contextlib.closing(connect(path)) as con:
        problems = invariant_problems(con)
        if problems:
            result["problems"] += [f"after the rerun: {p}" for p in problems]
        if action == "renewal":
            final, want = digests(con, skip_run_entries=True), ref["final_skip_run"]
        else:
            final, want = digests(con), states[-1]
        if final != want:
            differ = sorted(t for t in final if final[t] != want.get(t))
            result["problems"].append(
                f"after the rerun the database differs from an uninterrupted run in: {differ}"
            )
    if result["partial"] or result["problems"]:
        shutil.copyfile(path, folder / f"failed-{seed}-rerun.sqlite3")
    _remove(path)
    return result


# --------------------------------------------------------------------------- driving


def describe_failure(result: dict[str, Any]) -> str:
    what = "; ".join(result["partial"] + result["problems"])
    child = result.get("child")
    seen = (
        f"; the child had done {child['commits']} commits and {child['statements']} "
        f"statements (transaction state {child['tx']})"
        if child
        else ""
    )
    return (
        f"seed {result['seed']} ({result['variant']}, {result['mode']} kill {result['point']}): "
        f"{what}{seen}"
    )


def _runner_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="crash-injection runner (one process)")
    parser.add_argument("command", choices=("prepare", "run"))
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--seeds", nargs="*", default=[])
    args = parser.parse_args(argv)
    # everything the children need, imported once before forking
    import billing_desktop.services.cancellation
    import billing_desktop.services.checkout
    import billing_desktop.services.renewal
    import billing_desktop.store.models  # noqa: F401

    if args.command == "prepare":
        prepare(args.folder)
        return 0
    reference = json.loads((args.folder / "reference.json").read_text(encoding="utf-8"))
    warm_up(args.folder, reference["setup"])
    for item in args.seeds:
        spec = json.loads(item) if item.startswith("{") else {"seed": item}
        try:
            result = run_trial(args.folder, reference, spec)
        except Exception:
            result = {"seed": spec["seed"], "error": traceback.format_exc()}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


def _runner(command: str, folder: Path, seeds: Iterable[str] = ()) -> subprocess.Popen[str]:
    """A runner process; its stderr (children's tracebacks) goes to ``folder/runner.log``."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with (folder / "runner.log").open("a", encoding="utf-8") as log:
        return subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), command, "--folder", str(folder),
             "--seeds", *seeds],
            stdout=subprocess.PIPE, stderr=log, text=True, cwd=str(ROOT), env=env,
        )  # fmt: skip


def _log_tail(folder: Path) -> str:
    try:
        return (folder / "runner.log").read_text(encoding="utf-8")[-4000:]
    except OSError:
        return ""


def prepare_in_runner(folder: Path) -> dict[str, Any]:
    """:func:`prepare` in a runner process; the reference it wrote."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = _runner("prepare", folder)
    proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"preparing the crash-injection template failed:\n{_log_tail(folder)}")
    return json.loads((folder / "reference.json").read_text(encoding="utf-8"))


def run_trials(
    folder: Path,
    trials: int,
    *,
    base_seed: int = 1,
    jobs: int = 2,
    specs: list[dict[str, Any]] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run trials in ``jobs`` runner processes (the template is prepared first); yield every
    result as it arrives. ``specs`` runs these trials (see :func:`run_trial`) instead."""
    if not (folder / "reference.json").exists():
        prepare_in_runner(folder)
    if specs is not None:
        wanted = [json.dumps(spec) for spec in specs]
    else:
        wanted = [trial_seed(base_seed, i) for i in range(trials)]
    jobs = max(1, min(jobs, len(wanted)))
    procs = []
    for j in range(jobs):
        work = folder / f"job{j}"
        work.mkdir(exist_ok=True)
        for name in ("template.sqlite3", "reference.json"):
            if not (work / name).exists():
                os.link(folder / name, work / name)
        procs.append(_runner("run", work, wanted[j::jobs]))
    streams = {p.stdout.fileno(): p for p in procs if p.stdout is not None}
    buffers = dict.fromkeys(streams, "")
    while streams:
        readable, _, _ = select.select(list(streams), [], [])
        for fd in readable:
            chunk = os.read(fd, 65536).decode()
            if not chunk:
                proc = streams.pop(fd)
                proc.wait()
                if proc.returncode != 0:
                    work = Path(proc.args[proc.args.index("--folder") + 1])
                    raise RuntimeError(f"a crash-injection runner failed:\n{_log_tail(work)}")
                continue
            buffers[fd] += chunk
            *lines, buffers[fd] = buffers[fd].split("\n")
            for line in lines:
                if line.strip():
                    yield json.loads(line)
    for proc in procs:
        if proc.stdout is not None:
            proc.stdout.close()


@dataclasses.dataclass
class Summary:
    trials: int = 0
    per_action: dict[str, int] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(ACTIONS, 0)
    )
    killed: int = 0
    mid_transaction: int = 0
    partial: int = 0
    integrity_failures: int = 0
    other_failures: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    #: oddities of the harness itself that are no failure (see :func:`run_trial`)
    notes: list[str] = dataclasses.field(default_factory=list)

    def add(self, result: dict[str, Any]) -> None:
        self.trials += 1
        if "error" in result:
            self.other_failures += 1
            self.failures.append(f"seed {result['seed']}: harness error\n{result['error']}")
            return
        self.per_action[result["action"]] += 1
        self.killed += bool(result["killed"])
        self.mid_transaction += bool(result["mid_transaction"])
        if result["partial"]:
            self.partial += 1
        if any("integrity" in p for p in result["problems"]):
            self.integrity_failures += 1
        elif result["problems"]:
            self.other_failures += 1
        if result["partial"] or result["problems"]:
            self.failures.append(describe_failure(result))
        self.notes += [f"seed {result['seed']}: {note}" for note in result.get("notes", ())]

    @property
    def ok(self) -> bool:
        return not (self.partial or self.integrity_failures or self.other_failures)

    def line(self) -> str:
        actions = ", ".join(f"{a} {n}" for a, n in self.per_action.items())
        integrity = (
            "integrity ok"
            if not self.integrity_failures
            else (f"integrity FAILED in {self.integrity_failures}")
        )
        text = (
            f"stress: {self.trials} trials ({actions}), {self.mid_transaction} killed "
            f"mid-transaction, {self.partial} partial writes, {integrity}"
        )
        if self.other_failures:
            text += f", {self.other_failures} other failures"
        return text


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(_runner_main(sys.argv[1:]))
