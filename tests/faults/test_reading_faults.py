"""Reads through ORM sessions (``services.base.reading``) meet the faults of the fault
matrix — a database locked by another program, a damaged file, a file gone — and say
so in the user's words (the ``DatabaseError`` family), never as a raw sqlite3 or
SQLAlchemy error for the crash dialog. Once the fault is gone the same reads work.

One read of each kind: every service module that reads through ``reading``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faults.support import checkpoint, moved_away, short_busy_timeout
from helpers import sub_id

from billing_desktop.services.cancellation import assisted_options, cancellation_preview
from billing_desktop.services.cart import CartChange, get_cart
from billing_desktop.services.checkout import preview
from billing_desktop.services.customer_view import billing_center
from billing_desktop.services.invoices import invoice_detail, list_invoices
from billing_desktop.services.licences import licence_overview
from billing_desktop.services.operator_admin import list_corporate_accounts, list_operators
from billing_desktop.services.payments import list_payment_methods, payment_settings
from billing_desktop.services.subscriptions_view import discover_offers, subscription_cards
from billing_desktop.store import errors

pytestmark = pytest.mark.sqlite_only

ACCOUNT = "A-100005"
#: an open invoice of the curated demo data
INVOICE = "INV-2026-000065"


def reads(ctx: Any) -> dict[str, Callable[[], object]]:
    """One read of each kind, by what the operator would be looking at."""
    resolve = sub_id(ctx.db, ACCOUNT, "logmein_resolve")
    return {
        "cart": lambda: get_cart(ctx, ACCOUNT),
        "checkout preview": lambda: preview(
            ctx, ACCOUNT, items=[CartChange.change_licences(resolve, 20)]
        ),
        "licences": lambda: licence_overview(ctx, ACCOUNT),
        "operators": lambda: list_operators(ctx),
        "corporate accounts": lambda: list_corporate_accounts(ctx),
        "cancellation preview": lambda: cancellation_preview(ctx, resolve),
        "assisted cancellation": lambda: assisted_options(ctx, ACCOUNT),
        "invoices": lambda: list_invoices(ctx, ACCOUNT, "all"),
        "invoice": lambda: invoice_detail(ctx, INVOICE),
        "payment methods": lambda: list_payment_methods(ctx, ACCOUNT),
        "payment settings": lambda: payment_settings(ctx, ACCOUNT),
        "subscription cards": lambda: subscription_cards(ctx, ACCOUNT),
        "billing center": lambda: billing_center(ctx, ACCOUNT),
    }


def outcomes(each: dict[str, Callable[[], object]]) -> dict[str, str]:
    """Each read's outcome: "ok", or the class of the error it raised."""
    found = {}
    for name, read in each.items():
        try:
            read()
        except Exception as err:
            found[name] = type(err).__name__
        else:
            found[name] = "ok"
    return found


# --------------------------------------------------------------------------- faults

_EXCLUSIVE_LOCKER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA locking_mode = EXCLUSIVE")
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
con.close()
"""


@contextlib.contextmanager
def locked_by_another_process(path: Path) -> Iterator[None]:
    """Another program holds the database exclusively (not even reading is possible)
    until the block ends: a backup tool, a DB browser, an application in exclusive mode."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _EXCLUSIVE_LOCKER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "locked"
        yield
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the locker reads the end of its input: it lets go
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@contextlib.contextmanager
def damaged(path: Path, db: Any) -> Iterator[None]:
    """The file's schema page is damaged until the block ends (then the backup is put back)."""
    db.engine.dispose()  # every connection opens the damaged file
    checkpoint(path)
    original = path.read_bytes()
    data = bytearray(original)
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))
    try:
        yield
    finally:
        path.write_bytes(original)
        db.engine.dispose()


def test_every_read_works_without_a_fault(demo_ctx) -> None:
    found = outcomes(reads(demo_ctx))
    assert found == dict.fromkeys(found, "ok")


def test_a_database_locked_by_another_program(demo_ctx, db_path, monkeypatch) -> None:
    each = reads(demo_ctx)
    short_busy_timeout(monkeypatch, demo_ctx.db)
    with locked_by_another_process(db_path):
        found = outcomes(each)
        with pytest.raises(errors.DatabaseLocked) as info:
            get_cart(demo_ctx, ACCOUNT)
    assert found == dict.fromkeys(found, "DatabaseLocked")
    assert str(info.value) == (
        f"The database {db_path} is locked by another program; close it and try again."
    )
    assert set(outcomes(each).values()) == {"ok"}  # the lock is gone: reads work


def test_a_damaged_database(demo_ctx, db_path) -> None:
    each = reads(demo_ctx)
    with damaged(db_path, demo_ctx.db):
        found = outcomes(each)
        with pytest.raises(errors.CorruptDatabase) as info:
            licence_overview(demo_ctx, ACCOUNT)
    assert found == dict.fromkeys(found, "CorruptDatabase")
    assert str(info.value) == (
        f"The file {db_path} is not a valid Billing Desktop database or is damaged; "
        "it was left untouched."
    )
    assert set(outcomes(each).values()) == {"ok"}  # the backup is back: reads work


def test_a_database_file_that_vanished(demo_ctx, db_path) -> None:
    """The pooled connections could still read the lost file, and a new one would
    create an empty database at its path: the read is refused instead."""
    each = reads(demo_ctx)
    assert set(outcomes(each).values()) == {"ok"}  # connections open and pooled
    with moved_away(db_path):
        found = outcomes(each)
        with pytest.raises(errors.MissingDatabase) as info:
            list_invoices(demo_ctx, ACCOUNT, "all")
        assert not db_path.exists()  # nothing created in its place
    assert found == dict.fromkeys(found, "MissingDatabase")
    assert info.value.params["path"] == str(db_path)
    assert str(info.value).startswith(f"The database file {db_path} cannot be found")
    assert set(outcomes(each).values()) == {"ok"}  # put back: reads work


def test_discover_offers_reads_through_renewal(demo_ctx, db_path) -> None:
    """Subscriptions tab ▸ Discover asks the renewal engine what the account could buy."""
    demo_ctx.db.warm_up()
    with damaged(db_path, demo_ctx.db), pytest.raises(errors.CorruptDatabase):
        discover_offers(demo_ctx, ACCOUNT)
