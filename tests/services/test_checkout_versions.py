"""Checkout refuses an order whose subscriptions changed since its review (issue 8, item 3).

The review page ("Complete transaction") shows the exact invoice; the user
accepts those amounts by pressing Place order. If another operator changed one
of the subscriptions the order changes in between (licences, tier, billing
frequency, an add-on, a cancellation), placing the order as previewed would
price it on data the user never saw. The preview therefore carries the version
of every existing subscription the order changes
(``OrderPreview.subscription_versions``) and ``place_order`` refuses, on both
ways of placing — straight from the plan page (``items``) and through the
stored cart — with :class:`ConflictError` naming the other operator and the
time of their change; nothing is written and the cart is kept. After a fresh
preview the order goes through, priced on the current data.

The same for "Unassign all" of the assisted cancellation: the versions of the
subscriptions the checklist showed.

On every engine (the ``db`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

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

from billing_desktop.services import cancellation, licences
from billing_desktop.services.cart import CartChange, add_to_cart, get_cart
from billing_desktop.services.checkout import ExistingMethod, place_order, preview
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError, NotFound
from billing_desktop.store.database import Database

ALICE_AT = datetime(2026, 4, 26, 10, 15)
BOB_AT = datetime(2026, 4, 26, 10, 20)


@pytest.fixture
def alice(demo_ctx: AppContext) -> AppContext:
    """Support operator Alice Martin (10:15), who places the order she reviewed."""
    return as_operator(demo_ctx, "Alice Martin", ALICE_AT)


@pytest.fixture
def bob(demo_ctx: AppContext) -> Iterator[AppContext]:
    """Support operator Bob Keller (10:20), on another instance of the application."""
    with on_another_instance(as_operator(demo_ctx, "Bob Keller", BOB_AT)) as other:
        yield other


def _subscription(db: Database, sid: int) -> tuple:
    return db.reader.rows(
        "SELECT pl.code, s.licence_count, s.frequency, s.status, s.version"
        " FROM subscriptions s JOIN plans pl ON pl.id = s.plan_id WHERE s.id = :id",
        {"id": sid},
    )[0]


def _invoice_total(db: Database, number: str) -> int:
    return db.reader.scalar("SELECT total_minor FROM invoices WHERE number = :n", {"n": number})


# --------------------------------------------------------------------------- what Bob does

V5 = "GoToAssist Remote Support v5"
Change = Callable[[AppContext, int], object]


def _order(change: Callable[[int], CartChange]) -> Change:
    def run(ctx: AppContext, sid: int) -> object:
        return place_order(ctx, "A-100002", idempotency_key="bob", items=[change(sid)])

    return run


def _cancel(ctx: AppContext, sid: int) -> object:
    return cancellation.cancel_online(ctx, sid, reason="too_expensive")


BOB_CHANGES: dict[str, Change] = {
    "licences": _order(lambda sid: CartChange.change_licences(sid, 12)),
    "tier": _order(lambda sid: CartChange.change_tier(sid, "premium")),
    "frequency": _order(lambda sid: CartChange.change_frequency(sid, "annual")),
    "add-on": _order(lambda sid: CartChange.add_addon(sid, "camera_share")),
    "cancellation": _cancel,
}


# --------------------------------------------------------------------------- the direct path


@pytest.mark.parametrize("bob_does", list(BOB_CHANGES))
def test_checkout_from_the_plan_page_is_refused_when_the_subscription_changed(
    bob_does: str, alice: AppContext, bob: AppContext
) -> None:
    """A-100002 (v5 Standard, 10 licences, monthly): Alice reviews 10 → 8 licences; Bob
    changes the subscription; Alice's Place order is refused, naming Bob."""
    sid = sub_id(alice.db, "A-100002", "gotoassist_rs_v5")
    items = [CartChange.change_licences(sid, 8)]
    shown = preview(alice, "A-100002", items=items)
    assert shown.subscription_versions == {sid: _subscription(alice.db, sid)[4]}

    BOB_CHANGES[bob_does](bob, sid)
    after_bob = dump(alice.db)
    with pytest.raises(ConflictError) as conflict:
        place_order(
            alice, "A-100002", idempotency_key="alice", items=items,
            expected_subscription_versions=shown.subscription_versions,
        )  # fmt: skip
    assert_changed_by(conflict.value, V5, "Bob Keller", BOB_AT)
    assert dump(alice.db) == after_bob  # nothing of Alice's was written


def test_after_reading_again_the_order_is_placed_as_previewed(
    alice: AppContext, bob: AppContext
) -> None:
    sid = sub_id(alice.db, "A-100002", "gotoassist_rs_v5")
    items = [CartChange.change_licences(sid, 8)]
    stale = preview(alice, "A-100002", items=items)
    BOB_CHANGES["tier"](bob, sid)  # Standard → Premium
    with pytest.raises(ConflictError):
        place_order(alice, "A-100002", idempotency_key="alice", items=items,
                    expected_subscription_versions=stale.subscription_versions)  # fmt: skip

    fresh = preview(alice, "A-100002", items=items)  # the review page, read again
    assert fresh.items[0].plan_code == "premium" and fresh.total != stale.total
    result = place_order(alice, "A-100002", idempotency_key="alice", items=items,
                         expected_subscription_versions=fresh.subscription_versions)  # fmt: skip
    assert result.total == fresh.total  # the invoice is what the review showed
    assert _invoice_total(alice.db, result.invoice_number) == fresh.total.minor
    assert _subscription(alice.db, sid)[:3] == ("premium", 8, "monthly")
    # a retry of the same order token answers the first result (its own write moved
    # the version on: that is not a conflict)
    again = place_order(alice, "A-100002", idempotency_key="alice", items=items,
                        expected_subscription_versions=fresh.subscription_versions)  # fmt: skip
    assert again.order_number == result.order_number


def test_a_change_to_another_subscription_of_the_account_is_no_conflict(
    alice: AppContext, bob: AppContext
) -> None:
    """A-100004: Bob changes GoTo Meeting; Alice's order changes only the v5."""
    v5 = sub_id(alice.db, "A-100004", "gotoassist_rs_v5")
    meeting = sub_id(alice.db, "A-100004", "goto_meeting")
    items = [CartChange.change_licences(v5, 5)]
    shown = preview(alice, "A-100004", items=items)
    assert shown.subscription_versions == {v5: 1}
    place_order(bob, "A-100004", idempotency_key="bob",
                items=[CartChange.change_licences(meeting, 9)])  # fmt: skip
    result = place_order(alice, "A-100004", idempotency_key="alice", items=items,
                         expected_subscription_versions=shown.subscription_versions)  # fmt: skip
    assert [s.subscription_id for s in result.subscriptions] == [v5]
    assert _subscription(alice.db, v5)[1] == 5


def test_the_versions_are_those_of_the_existing_subscriptions_the_order_changes(
    alice: AppContext,
) -> None:
    """A-100003: an expired trial and a running trial (existing rows) are versioned;
    A-100018: a product bought again is a new subscription (nothing to check)."""
    expired = sub_id(alice.db, "A-100003", "gotoassist_rs_v5")
    trial = sub_id(alice.db, "A-100003", "goto_webinar")
    shown = preview(alice, "A-100003", items=[
        CartChange.subscribe(subscription_id=expired, licences=3),
        CartChange.subscribe(product="goto_webinar", plan="pro"),
    ])  # fmt: skip
    assert shown.subscription_versions == {expired: 1, trial: 1}
    again = preview(alice, "A-100018", items=[
        CartChange.subscribe(product="goto_meeting", plan="business", licences=2)
    ])  # fmt: skip
    assert again.subscription_versions == {}


def test_an_add_on_the_same_day_still_moves_the_version(alice: AppContext, bob: AppContext) -> None:
    """A-100007: after a tier change today, adding an add-on changes no column of the
    subscription; checked against the review, its version still moves on, so a review
    read before it is refused."""
    sid = sub_id(alice.db, "A-100007", "gotoassist_rs_v4")
    method = alice.db.reader.scalar(
        "SELECT m.id FROM payment_methods m JOIN accounts a ON a.id = m.account_id"
        " WHERE a.account_number = 'A-100007' ORDER BY m.id"
    )
    place_order(alice, "A-100007", idempotency_key="tier", payment=ExistingMethod(method),
                items=[CartChange.change_tier(sid, "premium")])  # fmt: skip
    addon = [CartChange.add_addon(sid, "camera_share")]
    seen_by_alice = preview(alice, "A-100007", items=addon)
    seen_by_bob = preview(bob, "A-100007", items=addon)
    version = _subscription(alice.db, sid)[4]
    place_order(bob, "A-100007", idempotency_key="bob", items=addon,
                expected_subscription_versions=seen_by_bob.subscription_versions)  # fmt: skip
    assert _subscription(alice.db, sid)[4] == version + 1
    before = dump(alice.db)
    with pytest.raises(ConflictError) as conflict:
        place_order(alice, "A-100007", idempotency_key="alice", items=addon,
                    expected_subscription_versions=seen_by_alice.subscription_versions)  # fmt: skip
    assert_changed_by(conflict.value, "GoToAssist Remote Support v4", "Bob Keller", BOB_AT)
    assert dump(alice.db) == before


def test_a_subscription_of_another_account_is_not_found(alice: AppContext) -> None:
    sid = sub_id(alice.db, "A-100002", "gotoassist_rs_v5")
    other = sub_id(alice.db, "A-100001", "gotoassist_rs_v4")
    before = dump(alice.db)
    with pytest.raises(NotFound):
        place_order(alice, "A-100002", idempotency_key="alice",
                    items=[CartChange.change_licences(sid, 8)],
                    expected_subscription_versions={sid: 1, other: 1})  # fmt: skip
    assert dump(alice.db) == before


# --------------------------------------------------------------------------- the cart path


def test_a_subscription_changed_after_it_was_put_in_the_cart_is_detected(
    alice: AppContext, bob: AppContext
) -> None:
    """The cart's version does not move when a subscription in it changes elsewhere: the
    review's subscription versions catch it. The cart is kept for a new review."""
    sid = sub_id(alice.db, "A-100002", "gotoassist_rs_v5")
    add_to_cart(alice, "A-100002", CartChange.change_licences(sid, 8))
    shown = preview(alice, "A-100002")  # the review of the stored cart
    assert shown.subscription_versions == {sid: 1}

    BOB_CHANGES["licences"](bob, sid)  # 10 → 12, straight from his plan page
    assert get_cart(alice, "A-100002").version == shown.cart_version  # the cart did not move
    after_bob = dump(alice.db)
    with pytest.raises(ConflictError) as conflict:
        place_order(
            alice, "A-100002", idempotency_key="alice", expected_cart_version=shown.cart_version,
            expected_subscription_versions=shown.subscription_versions,
        )  # fmt: skip
    assert_changed_by(conflict.value, V5, "Bob Keller", BOB_AT)
    assert dump(alice.db) == after_bob  # the cart still holds Alice's change

    fresh = preview(alice, "A-100002")
    assert fresh.items[0].previous_licences == 12
    result = place_order(
        alice, "A-100002", idempotency_key="alice", expected_cart_version=fresh.cart_version,
        expected_subscription_versions=fresh.subscription_versions,
    )  # fmt: skip
    assert result.total == fresh.total
    assert get_cart(alice, "A-100002").is_empty


# --------------------------------------------------------------------------- at the same moment


def test_two_operators_place_the_same_review_at_once_exactly_one_wins(
    alice: AppContext, bob: AppContext
) -> None:
    sid = sub_id(alice.db, "A-100002", "gotoassist_rs_v5")
    shown = preview(alice, "A-100002", items=[CartChange.change_licences(sid, 8)])
    version = _subscription(alice.db, sid)[4]
    orders = alice.db.reader.scalar("SELECT count(*) FROM orders")

    def placing(who: str, licences_wanted: int) -> Callable[[AppContext], object]:
        def write(ctx: AppContext) -> object:
            return place_order(
                ctx, "A-100002", idempotency_key=who,
                items=[CartChange.change_licences(sid, licences_wanted)],
                expected_subscription_versions=shown.subscription_versions,
            )  # fmt: skip

        return write

    outcomes = race({
        "Alice Martin": (alice, placing("Alice Martin", 8)),
        "Bob Keller": (bob, placing("Bob Keller", 9)),
    })  # fmt: skip
    winner, (loser,) = exactly_one_won(outcomes)
    assert loser.params["changed_by"] == winner
    assert alice.db.reader.scalar("SELECT count(*) FROM orders") == orders + 1
    wanted = 8 if winner == "Alice Martin" else 9
    assert _subscription(alice.db, sid)[1::3] == (wanted, version + 1)


# --------------------------------------------------------------------------- Unassign all


def _webinar(ctx: AppContext) -> tuple[int, int, list[int]]:
    """A-100016's GoTo Webinar (3 licences, 2 assigned): id, version, contacts without one."""
    sid = sub_id(ctx.db, "A-100016", "goto_webinar")
    overview = licences.licence_overview(ctx, "A-100016")
    (sub,) = [s for s in overview.subscriptions if s.subscription_id == sid]
    holders = {h.contact_id for h in sub.holders}
    free = [c.contact_id for c in overview.contacts if c.contact_id not in holders]
    return sid, sub.version, free


def test_unassign_all_is_refused_when_a_seat_was_assigned_meanwhile(
    alice: AppContext, bob: AppContext
) -> None:
    """Alice's checklist showed 2 seats; Bob assigns a third: "Unassign all" would take
    back a seat Alice never saw."""
    sid, version, free = _webinar(alice)
    licences.assign_licences(bob, sid, [free[0]], expected_version=version)
    after_bob = dump(alice.db)
    with pytest.raises(ConflictError) as conflict:
        licences.unassign_all(alice, "A-100016", [sid], expected_versions={sid: version})
    assert_changed_by(conflict.value, "GoTo Webinar", "Bob Keller", BOB_AT)
    assert dump(alice.db) == after_bob

    _sid, fresh, _free = _webinar(alice)  # the checklist, read again
    (done,) = licences.unassign_all(alice, "A-100016", [sid], expected_versions={sid: fresh})
    assert len(done.changed) == 3 and done.assigned_contact_ids == ()
    assert done.version == fresh + 1 == _webinar(alice)[1]


def test_unassign_all_checks_only_subscriptions_of_the_account(alice: AppContext) -> None:
    sid, version, _free = _webinar(alice)
    other = sub_id(alice.db, "A-100002", "gotoassist_rs_v5")
    before = dump(alice.db)
    with pytest.raises(NotFound):
        licences.unassign_all(alice, "A-100016", [sid], expected_versions={sid: version, other: 1})
    assert dump(alice.db) == before
