"""Optimistic locking on the writes the account tabs make (issue 8, "Concurrency"), on every engine.

Payment methods (set as default, remove, autopay), seats (assign, unassign) and
invoices (dispute, void): two operators read the same version, both write →
exactly one succeeds; the other gets :class:`ConflictError` naming the first
operator and the time of their change, and the database is exactly as the
first one left it. After reading again (a reload), the second operator's write
goes through on the fresh version — or meets the business rule the other
change made true (a removed card, a void invoice).

The same pairs also race for real: both writes released at once from two
instances of the application; one wins, the other is told who won.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from helpers import (
    as_operator,
    assert_changed_by,
    dump,
    exactly_one_won,
    on_another_instance,
    race,
    sub_id,
)

from billing_desktop.services import invoices, licences, payments
from billing_desktop.services.accounts import AccountChanges, update_account
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError, NotFound, PolicyViolation
from billing_desktop.store.database import Database

ALICE_AT = datetime(2026, 4, 26, 10, 15)
BOB_AT = datetime(2026, 4, 26, 10, 20)
VISA = "4012 8888 8888 1881"
MASTERCARD = "5555 5555 5555 4444"


@pytest.fixture
def alice(demo_ctx: AppContext) -> AppContext:
    """Support operator Alice Martin, whose clock says 10:15."""
    return as_operator(demo_ctx, "Alice Martin", ALICE_AT)


@pytest.fixture
def bob(demo_ctx: AppContext) -> Iterator[AppContext]:
    """Support operator Bob Keller, on another instance of the application (10:20)."""
    with on_another_instance(as_operator(demo_ctx, "Bob Keller", BOB_AT)) as other:
        yield other


# --------------------------------------------------------------------------- the cases


def _invoice(db: Database, number: str) -> int:
    return db.reader.scalar("SELECT id FROM invoices WHERE number = :n", {"n": number})


def _cards(ctx: AppContext) -> dict[str, int]:
    """A-100009 (one card, Visa •••• 7719, autopay off) gets two more cards."""
    added = {
        last4: payments.add_card(
            ctx, "A-100009", number=number, exp_month=3, exp_year=2030, holder_name="E M"
        ).id
        for last4, number in (("1881", VISA), ("4444", MASTERCARD))
    }
    (old,) = [m.id for m in payments.list_payment_methods(ctx, "A-100009") if m.is_default]
    return {"7719": old, **added}


def _seats(ctx: AppContext, account: str, product: str) -> dict[str, Any]:
    """The subscription, its holders and the account's contacts without a seat."""
    sid = sub_id(ctx.db, account, product)
    overview = licences.licence_overview(ctx, account)
    (sub,) = [s for s in overview.subscriptions if s.subscription_id == sid]
    holders = [h.contact_id for h in sub.holders]
    free = [c.contact_id for c in overview.contacts if c.contact_id not in holders]
    return {"sub": sid, "holders": holders, "free": free}


def _account_version(ctx: AppContext, state: dict[str, Any]) -> int:
    return payments.payment_settings(ctx, "A-100009").version


def _sub_version(ctx: AppContext, state: dict[str, Any]) -> int:
    overview = licences.licence_overview(ctx, state["account"])
    (sub,) = [s for s in overview.subscriptions if s.subscription_id == state["sub"]]
    return sub.version


def _invoice_version(ctx: AppContext, state: dict[str, Any]) -> int:
    return invoices.invoice_detail(ctx, state["invoice"]).version


Write = Callable[[AppContext, dict[str, Any], int], object]


def set_default(card: str) -> Write:
    def write(ctx: AppContext, state: dict[str, Any], version: int) -> object:
        return payments.set_default_method(
            ctx, "A-100009", state["cards"][card], expected_version=version
        )

    return write


def remove(card: str) -> Write:
    def write(ctx: AppContext, state: dict[str, Any], version: int) -> object:
        return payments.remove_method(
            ctx, "A-100009", state["cards"][card], expected_version=version
        )

    return write


def autopay_on(ctx: AppContext, state: dict[str, Any], version: int) -> object:
    return payments.set_autopay(ctx, "A-100009", True, expected_version=version)


def edit_city(ctx: AppContext, state: dict[str, Any], version: int) -> object:
    return update_account(ctx, "A-100009", AccountChanges(city="Toledo"), expected_version=version)


def assign(n: int) -> Write:
    def write(ctx: AppContext, state: dict[str, Any], version: int) -> object:
        return licences.assign_licences(
            ctx, state["sub"], [state["free"][n]], expected_version=version
        )

    return write


def unassign(n: int) -> Write:
    def write(ctx: AppContext, state: dict[str, Any], version: int) -> object:
        return licences.unassign_licences(
            ctx, state["sub"], [state["holders"][n]], expected_version=version
        )

    return write


def dispute(note: str) -> Write:
    def write(ctx: AppContext, state: dict[str, Any], version: int) -> object:
        return invoices.dispute_invoice(ctx, state["invoice"], note, expected_version=version)

    return write


def void(ctx: AppContext, state: dict[str, Any], version: int) -> object:
    return invoices.void_invoice(ctx, state["invoice"], "Issued twice", expected_version=version)


def _payment_state(ctx: AppContext) -> dict[str, Any]:
    return {"cards": _cards(ctx), "what": "A-100009"}


def _webinar_state(ctx: AppContext) -> dict[str, Any]:
    """A-100016's GoTo Webinar: 3 licences, 2 assigned, 3 contacts without one."""
    state = _seats(ctx, "A-100016", "goto_webinar")
    assert len(state["free"]) >= 2 and len(state["holders"]) == 2
    return {**state, "account": "A-100016", "what": "GoTo Webinar"}


def _invoice_state(ctx: AppContext) -> dict[str, Any]:
    """A-100005's INV-2026-000065: open, unpaid, issued 2026-04-21 (disputable)."""
    return {"invoice": _invoice(ctx.db, "INV-2026-000065"), "what": "INV-2026-000065"}


@dataclass(frozen=True)
class Case:
    state: Callable[[AppContext], dict[str, Any]]
    version: Callable[[AppContext, dict[str, Any]], int]
    first: Write
    second: Write
    #: what the second write meets on fresh data, if not success
    retried: type[Exception] | None = None


CASES = {
    # Payment methods tab: the account's version guards the methods and autopay
    "default-vs-default": Case(_payment_state, _account_version, set_default("1881"),
                               set_default("4444")),
    "remove-vs-default": Case(_payment_state, _account_version, remove("1881"),
                              set_default("1881"), retried=NotFound),
    "default-vs-remove": Case(_payment_state, _account_version, set_default("4444"),
                              remove("1881")),
    "remove-vs-remove": Case(_payment_state, _account_version, remove("1881"), remove("4444")),
    "autopay-vs-default": Case(_payment_state, _account_version, autopay_on,
                               set_default("1881")),
    "default-vs-autopay": Case(_payment_state, _account_version, set_default("1881"),
                               autopay_on),
    "account-edit-vs-remove": Case(_payment_state, _account_version, edit_city,
                                   remove("7719")),
    # Users & licences tab: the subscription's version guards its seats
    "assign-vs-assign": Case(_webinar_state, _sub_version, assign(0), assign(1),
                             retried=PolicyViolation),  # the last free seat went to Alice's
    "unassign-vs-assign": Case(_webinar_state, _sub_version, unassign(0), assign(1)),
    "assign-vs-unassign": Case(_webinar_state, _sub_version, assign(0), unassign(1)),
    "unassign-vs-unassign": Case(_webinar_state, _sub_version, unassign(0), unassign(1)),
    # Invoices tab: the invoice's version guards dispute and void
    "dispute-vs-void": Case(_invoice_state, _invoice_version, dispute("Wrong seats"), void),
    "void-vs-dispute": Case(_invoice_state, _invoice_version, void, dispute("Wrong seats"),
                            retried=PolicyViolation),  # a void invoice cannot be disputed
    "dispute-vs-dispute": Case(_invoice_state, _invoice_version, dispute("Wrong seats"),
                               dispute("Not ordered")),
}  # fmt: skip


# --------------------------------------------------------------------------- one after the other


@pytest.mark.parametrize("name", list(CASES))
def test_two_operators_one_version_the_second_is_told(
    name: str, alice: AppContext, bob: AppContext
) -> None:
    case = CASES[name]
    state = case.state(alice)
    seen_by_alice = case.version(alice, state)
    seen_by_bob = case.version(bob, state)
    assert seen_by_alice == seen_by_bob

    before = dump(bob.db)
    case.first(alice, state, seen_by_alice)
    after_alice = dump(bob.db)
    assert after_alice != before  # Alice's write did something
    assert case.version(bob, state) == seen_by_bob + 1

    with pytest.raises(ConflictError) as conflict:
        case.second(bob, state, seen_by_bob)
    assert_changed_by(conflict.value, state["what"], "Alice Martin", ALICE_AT)
    assert dump(bob.db) == after_alice  # nothing of Bob's was written

    # Bob reloads: the fresh version, and his write is judged on the current data
    fresh = case.version(bob, state)
    if case.retried is None:
        case.second(bob, state, fresh)
        assert dump(bob.db) != after_alice
        assert case.version(bob, state) == fresh + 1
    else:
        with pytest.raises(case.retried):
            case.second(bob, state, fresh)
        assert dump(bob.db) == after_alice


def test_assign_then_assign_on_the_returned_version(alice: AppContext) -> None:
    """The tab unassigns, then assigns, on one subscription: the second call sends the
    version the first one returned, and the read model shows the version after both."""
    state = _webinar_state(alice)
    version = _sub_version(alice, state)
    done = licences.unassign_licences(
        alice, state["sub"], [state["holders"][0]], expected_version=version
    )
    assert done.version == version + 1
    done = licences.assign_licences(
        alice, state["sub"], state["free"][:2], expected_version=done.version
    )
    assert done.version == version + 2 and done.free == 0
    assert _sub_version(alice, state) == version + 2
    # a no-op call writes nothing and leaves the version where it was
    again = licences.assign_licences(
        alice, state["sub"], state["free"][:1], expected_version=done.version
    )
    assert (again.changed, again.version) == ((), version + 2)


def test_a_stale_version_is_refused_even_for_a_no_op(alice: AppContext, bob: AppContext) -> None:
    """Bob's screen is stale: even a call that would change nothing is told so."""
    state = _payment_state(alice)
    version = _account_version(bob, state)
    payments.set_default_method(alice, "A-100009", state["cards"]["1881"], expected_version=version)
    before = dump(bob.db)
    with pytest.raises(ConflictError):  # 1881 is the default now: Bob would not know
        payments.set_default_method(
            bob, "A-100009", state["cards"]["1881"], expected_version=version
        )
    assert dump(bob.db) == before


# --------------------------------------------------------------------------- at the same moment

RACED = ("default-vs-remove", "autopay-vs-default", "unassign-vs-assign", "dispute-vs-void")


@pytest.mark.parametrize("name", RACED)
def test_two_operators_race_exactly_one_wins(name: str, alice: AppContext, bob: AppContext) -> None:
    case = CASES[name]
    state = case.state(alice)
    version = case.version(bob, state)
    audited = bob.db.reader.scalar("SELECT count(*) FROM audit_entries")
    outcomes = race({
        "Alice Martin": (alice, lambda ctx: case.first(ctx, state, version)),
        "Bob Keller": (bob, lambda ctx: case.second(ctx, state, version)),
    })  # fmt: skip
    winner, (loser,) = exactly_one_won(outcomes)
    assert_changed_by(
        loser, state["what"], winner, ALICE_AT if winner == "Alice Martin" else BOB_AT
    )
    assert case.version(bob, state) == version + 1
    assert bob.db.reader.scalar("SELECT count(*) FROM audit_entries") == audited + 1
