"""Several operators on one database (issue 8, "Concurrency"), on every engine.

* Optimistic locking: two operators who read the same version and both save →
  exactly one succeeds; the other gets :class:`ConflictError` naming the first
  operator and the time of their change, and nothing of theirs is written.
  The same for the seats of a subscription's contacts, the payment methods,
  an invoice and an operator's own identity; and as a real race, with four
  writers released at once.
* Four processes placing orders at once on different accounts of the curated
  demo: every order is there, invoice and order numbers are unique and
  gap-free, and the invoice series' counter follows the last number.

Roles (a viewer cannot write, a representative only on their own accounts)
are covered by ``test_permissions_matrix.py`` on every engine.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from helpers import (
    as_operator,
    assert_changed_by,
    exactly_one_won,
    on_another_instance,
    race,
    sub_id,
)

from billing_desktop.config import target_from
from billing_desktop.services import invoices, licences, payments
from billing_desktop.services.accounts import AccountChanges, account_overview, update_account
from billing_desktop.services.cart import CartChange
from billing_desktop.services.checkout import place_order
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.context import AppContext, local_operator
from billing_desktop.services.errors import ConflictError
from billing_desktop.services.operators import operator_identity, update_operator_identity
from billing_desktop.store.database import Database, open_database

TODAY = date(2026, 4, 26)
ALICE_AT = datetime(2026, 4, 26, 10, 15)
BOB_AT = datetime(2026, 4, 26, 10, 20)


@pytest.fixture
def alice(demo_ctx: AppContext) -> AppContext:
    """Support operator Alice Martin, whose clock says 10:15."""
    return as_operator(demo_ctx, "Alice Martin", ALICE_AT)


@pytest.fixture
def bob(demo_ctx: AppContext) -> Iterator[AppContext]:
    """Support operator Bob Keller, working on another instance of the application."""
    with on_another_instance(as_operator(demo_ctx, "Bob Keller", BOB_AT)) as other:
        yield other


def _audit_count(db: Database) -> int:
    return db.reader.scalar("SELECT count(*) FROM audit_entries")


# --------------------------------------------------------------------------- two operators


def test_two_operators_edit_the_same_account(alice: AppContext, bob: AppContext) -> None:
    seen_by_alice = account_overview(alice, "A-100005")
    seen_by_bob = account_overview(bob, "A-100005")
    assert seen_by_alice.version == seen_by_bob.version
    audited = _audit_count(bob.db)

    saved = update_account(
        alice, "A-100005", AccountChanges(city="Zeist"), expected_version=seen_by_alice.version
    )
    assert saved.city == "Zeist" and saved.version == seen_by_alice.version + 1
    with pytest.raises(ConflictError) as conflict:
        update_account(
            bob, "A-100005", AccountChanges(region="Gelderland"),
            expected_version=seen_by_bob.version,
        )  # fmt: skip
    assert_changed_by(conflict.value, "A-100005", "Alice Martin", ALICE_AT)

    stored = account_overview(bob, "A-100005")
    assert (stored.city, stored.region) == ("Zeist", seen_by_bob.region)  # Bob's change: none
    assert stored.version == saved.version
    assert _audit_count(bob.db) == audited + 1  # Alice's entry only


def test_two_operators_assign_the_seats_of_one_subscription(
    alice: AppContext, bob: AppContext
) -> None:
    """Contacts' seats: the subscription's version guards them, though only
    assignment rows change."""
    account = licences.licence_overview(bob, "A-100016")
    webinar = next(s for s in account.subscriptions if s.product_code == "goto_webinar")
    holders = {h.contact_id for h in webinar.holders}
    free = [c.contact_id for c in account.contacts if c.contact_id not in holders]
    assert len(free) >= 2 and webinar.free == 1  # both want the last free seat
    version = bob.db.reader.scalar(
        "SELECT version FROM subscriptions WHERE id = :s", {"s": webinar.subscription_id}
    )
    licences.assign_licences(alice, webinar.subscription_id, [free[0]], expected_version=version)
    seats = "SELECT subscription_id, contact_id FROM licence_assignments ORDER BY 1, 2"
    before = bob.db.reader.rows(seats)
    with pytest.raises(ConflictError) as conflict:
        licences.assign_licences(bob, webinar.subscription_id, [free[1]], expected_version=version)
    assert_changed_by(conflict.value, webinar.product_name, "Alice Martin", ALICE_AT)
    assert bob.db.reader.rows(seats) == before


def test_two_operators_change_the_payment_methods(alice: AppContext, bob: AppContext) -> None:
    card = payments.add_card(
        alice, "A-100001", number="5555 5555 5555 4444", exp_month=3, exp_year=2030,
        holder_name="Marta Rossi",
    )  # fmt: skip
    settings = payments.payment_settings(bob, "A-100001")
    methods = payments.list_payment_methods(bob, "A-100001")
    old_default = next(m for m in methods if m.is_default)

    payments.set_default_method(alice, "A-100001", card.id, expected_version=settings.version)
    with pytest.raises(ConflictError) as conflict:
        payments.set_default_method(
            bob, "A-100001", old_default.id, expected_version=settings.version
        )
    assert_changed_by(conflict.value, "A-100001", "Alice Martin", ALICE_AT)
    with pytest.raises(ConflictError):  # the autopay switch reads the same version
        payments.set_autopay(bob, "A-100001", False, expected_version=settings.version)
    methods = payments.list_payment_methods(bob, "A-100001")
    assert [m.id for m in methods if m.is_default] == [card.id]
    assert payments.payment_settings(bob, "A-100001").autopay


def test_two_operators_act_on_one_invoice(alice: AppContext, bob: AppContext) -> None:
    order = place_order(
        alice, "A-100016", idempotency_key="conflict-invoice", on_behalf_of_customer=False,
        items=[CartChange.change_licences(sub_id(alice.db, "A-100016", "goto_webinar"), 4)],
    )  # fmt: skip
    seen = invoices.invoice_detail(bob, order.invoice_id)
    invoices.dispute_invoice(alice, order.invoice_id, "Wrong seats", expected_version=seen.version)
    with pytest.raises(ConflictError) as conflict:
        invoices.void_invoice(
            bob, order.invoice_id, "Issued in error", expected_version=seen.version
        )
    assert_changed_by(conflict.value, order.invoice_number, "Alice Martin", ALICE_AT)
    assert invoices.invoice_detail(bob, order.invoice_id).status == "open"


def test_two_sessions_change_one_operator_identity(demo_ctx: AppContext) -> None:
    first = dataclasses.replace(demo_ctx, clock=FixedClock(ALICE_AT))
    with on_another_instance(demo_ctx) as second:
        seen = operator_identity(second)
        update_operator_identity(
            first, "Alice Martin", "alice.martin@example.com", expected_version=seen.version
        )
        with pytest.raises(ConflictError) as conflict:
            update_operator_identity(
                second, "Al Martin", "al@example.com", expected_version=seen.version
            )
        assert_changed_by(conflict.value, "Your operator identity", "Alice Martin", ALICE_AT)
        assert operator_identity(second).name == "Alice Martin"


def test_four_writers_at_once_exactly_one_wins(demo_ctx: AppContext) -> None:
    """A real race: four instances save the version they all read at the same moment."""
    version = account_overview(demo_ctx, "A-100002").version
    cities = ("Genova", "Verona", "Trieste", "Parma")

    def saving(city: str):
        def save(ctx: AppContext) -> object:
            return update_account(
                ctx, "A-100002", AccountChanges(city=city), expected_version=version
            )

        return save

    outcomes = race({city: (demo_ctx, saving(city)) for city in cities})
    winner, losers = exactly_one_won(outcomes)
    assert len(losers) == 3
    stored = account_overview(demo_ctx, "A-100002")
    assert (stored.city, stored.version) == (winner, version + 1)
    assert (
        demo_ctx.db.reader.scalar(
            "SELECT count(*) FROM audit_entries WHERE action = 'account.updated'"
        )
        == 1
    )


# --------------------------------------------------------------------------- four processes

#: (account, product whose licences each order raises by one)
ORDER_ACCOUNTS = (
    ("A-100002", "gotoassist_rs_v5"),
    ("A-100006", "goto_connect"),
    ("A-100010", "goto_meeting"),
    ("A-100016", "goto_meeting"),
)
ORDERS_EACH = 5


def _place_orders(url: str, account: str, product: str, count: int) -> list[tuple[str, str]]:
    """One process: open the database by its URL/path and place ``count`` orders."""
    db = open_database(target_from(url))
    try:
        ctx = AppContext(db=db, clock=FixedClock(TODAY), operator=local_operator(db), is_demo=True)
        sub = sub_id(db, account, product)
        seats = db.reader.scalar(
            "SELECT licence_count FROM subscriptions WHERE id = :s", {"s": sub}
        )
        placed = []
        for n in range(count):
            result = place_order(
                ctx, account, idempotency_key=f"{account}-{n}", on_behalf_of_customer=False,
                items=[CartChange.change_licences(sub, seats + n + 1)],
            )  # fmt: skip
            placed.append((result.order_number, result.invoice_number))
        return placed
    finally:
        db.dispose()


def _target_text(db: Database) -> str:
    return str(db.target.path) if db.target.is_sqlite else db.target.url


def test_four_processes_place_orders_at_once(demo_ctx: AppContext) -> None:
    db = demo_ctx.db
    invoices_before = db.reader.scalar("SELECT count(*) FROM invoices")
    orders_before = db.reader.scalar("SELECT count(*) FROM orders")
    url = _target_text(db)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(len(ORDER_ACCOUNTS)) as pool:
        results = pool.starmap(_place_orders, [(url, a, p, ORDERS_EACH) for a, p in ORDER_ACCOUNTS])
    placed = [pair for result in results for pair in result]
    assert len(placed) == len(ORDER_ACCOUNTS) * ORDERS_EACH

    # every order is there, with its invoice
    orders = db.reader.rows("SELECT number FROM orders ORDER BY number")
    assert len(orders) == orders_before + len(placed)
    assert {o for o, _ in placed} <= {number for (number,) in orders}
    assert db.reader.scalar("SELECT count(*) FROM invoices") == invoices_before + len(placed)
    for account, product in ORDER_ACCOUNTS:
        seats = db.reader.scalar(
            "SELECT licence_count FROM subscriptions WHERE id = :s",
            {"s": sub_id(db, account, product)},
        )
        assert db.reader.scalar(
            "SELECT count(*) FROM orders o JOIN accounts a ON a.id = o.account_id"
            " WHERE a.account_number = :a", {"a": account},
        ) >= ORDERS_EACH and seats >= ORDERS_EACH + 1  # fmt: skip

    # invoice numbers: unique, gap-free per series, the counter right after the last
    numbers = [n for (n,) in db.reader.rows("SELECT number FROM invoices")]
    assert len(set(numbers)) == len(numbers)
    series: dict[str, list[int]] = {}
    for number in numbers:
        prefix, _, serial = number.rpartition("-")
        series.setdefault(prefix, []).append(int(serial))
    counters = dict(db.reader.rows("SELECT prefix, next_number FROM invoice_series"))
    for prefix, serials in series.items():
        assert sorted(serials) == list(range(1, len(serials) + 1)), prefix
        assert counters[prefix] == len(serials) + 1, prefix
    # order numbers of the year: unique and gap-free too
    year = sorted(int(n.rpartition("-")[2]) for (n,) in orders if n.startswith("ORD-2026-"))
    assert year == list(range(1, len(year) + 1))
