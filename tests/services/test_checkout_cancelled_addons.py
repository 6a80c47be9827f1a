"""Checkout and an add-on that was cancelled (``subscription_addons.ends_on`` set).

A cancelled add-on stays usable (and ``active``) until ``ends_on``, the end of
its paid period (services/cancellation.py). Cart and checkout treat it as
cancelled: it is not part of a new billing period, it may be added again
(which clears ``ends_on``), and it is credited for the unused days only when it
is added again (otherwise it simply runs out, paid, at ``ends_on``).

A-100002 (clock on 2026-04-26): GoToAssist Remote Support v5 Standard, 10
licences (6 assigned), monthly, current period 2026-04-19 → 05-19 (30 days,
23 of them unused), with Mobile device support (9.00 per licence and month),
cancelled here to end on 2026-05-19. IT05482200010: reverse charge, no VAT.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from billing_desktop.domain.money import Money
from billing_desktop.services import renewal
from billing_desktop.services.cart import CartChange, add_to_cart
from billing_desktop.services.checkout import place_order, preview
from billing_desktop.services.errors import ValidationError

TODAY = date(2026, 4, 26)
ENDS = date(2026, 5, 19)
ADDED = "2025-08-19"  # when the curated add-on was added


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _sub_id(db) -> int:
    return db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id"
        " JOIN products p ON p.id = s.product_id"
        " WHERE a.account_number = 'A-100002' AND p.code = 'gotoassist_rs_v5'"
    )


def _addon(db, sub: int) -> tuple:
    return db.reader.rows(
        "SELECT sa.active, sa.added_on, sa.ends_on FROM subscription_addons sa"
        " JOIN addons a ON a.id = sa.addon_id"
        " WHERE sa.subscription_id = :s AND a.code = 'mobile_device_support'",
        {"s": sub},
    )[0]


def _lines(db, number: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT l.kind, l.description, l.quantity, l.unit_price_minor, l.amount_minor"
        " FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
        " WHERE i.number = :n ORDER BY l.position",
        {"n": number},
    )


@pytest.fixture
def cancelled(demo_ctx, db) -> int:
    """A-100002's Mobile device support, cancelled to end with the current period."""
    sub = _sub_id(db)
    with db.transaction() as session:
        from sqlalchemy import update

        from billing_desktop.store.models import SubscriptionAddon

        session.execute(
            update(SubscriptionAddon)
            .where(SubscriptionAddon.subscription_id == sub)
            .values(ends_on=ENDS)
        )
    assert _addon(db, sub) == (1, ADDED, ENDS.isoformat())
    return sub


def test_an_order_leaves_a_cancelled_addon_out_of_the_new_period(demo_ctx, db, cancelled):
    add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(cancelled, 8))
    shown = preview(demo_ctx, "A-100002")
    (item,) = shown.items
    # paid for the period and running out on 05-19: neither credited nor billed again;
    # credit for the plan only: 10 × 39.00 = 390.00 × 23 ÷ 30 = 299.00
    assert item.previous_charge == eur("390.00")
    assert item.proration_credit == eur("299.00")
    # new period 04-26 → 05-26 without the add-on: 8 × 39.00 = 312.00; net 13.00
    assert item.charge == eur("312.00")
    assert shown.total == eur("13.00")
    result = place_order(demo_ctx, "A-100002", idempotency_key="cancelled-addon")
    assert _lines(db, result.invoice_number) == [
        ("charge", "GoToAssist Remote Support v5 Standard", 8, 3900, 31200),
        ("proration_credit", "Credit for unused days: GoToAssist Remote Support v5 Standard",
         1, -29900, -29900),
    ]  # fmt: skip
    # still usable until its end, which stays
    assert _addon(db, cancelled) == (1, ADDED, ENDS.isoformat())


@pytest.mark.parametrize("bulk", [True, False])
def test_the_next_renewal_ends_it(demo_ctx, db, cancelled, monkeypatch, bulk) -> None:
    """After the order the period is 04-26 → 05-26: its renewal on 05-26 (after 05-19)
    bills the plan alone and sets the add-on inactive."""
    add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(cancelled, 8))
    place_order(demo_ctx, "A-100002", idempotency_key="cancelled-addon")
    monkeypatch.setattr(renewal, "BULK", bulk)
    renewal.advance(demo_ctx, date(2026, 5, 26))
    number = db.reader.scalar(
        "SELECT number FROM invoices WHERE kind = 'renewal' AND period_start = '2026-05-26'"
        " AND account_id = (SELECT id FROM accounts WHERE account_number = 'A-100002')"
    )
    # 8 × 39.00 = 312.00, reverse charge
    assert _lines(db, number) == [("charge", "GoToAssist Remote Support v5 Standard", 8, 3900,
                                   31200)]  # fmt: skip
    assert _addon(db, cancelled) == (0, ADDED, ENDS.isoformat())
    (after,) = db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'subscription.renewed'"
        " AND after_json LIKE '%addons_ended%'"
    )
    assert json.loads(after[0])["addons_ended"] == ["mobile_device_support"]


def test_a_cancelled_addon_can_be_added_again(demo_ctx, db, cancelled) -> None:
    # a running add-on cannot be added twice (A-100008's); a cancelled one can
    running = db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id"
        " WHERE a.account_number = 'A-100008'"
    )
    with pytest.raises(ValidationError) as twice:
        add_to_cart(demo_ctx, "A-100008", CartChange.add_addon(running, "mobile_device_support"))
    assert twice.value.code == "addon_already_active"
    cart = add_to_cart(
        demo_ctx, "A-100002", CartChange.add_addon(cancelled, "mobile_device_support")
    )
    assert cart.lines[0].added_addons == ("mobile_device_support",)
    shown = preview(demo_ctx, "A-100002")
    (item,) = shown.items
    # added again, so its unused days are credited with the plan's:
    # (10 × 39.00 + 10 × 9.00) = 480.00 × 23 ÷ 30 = 368.00
    assert item.previous_charge == eur("480.00")
    assert item.proration_credit == eur("368.00")
    # and it is part of the new period: 390.00 + 90.00 = 480.00; net 112.00
    assert item.charge == eur("480.00")
    assert shown.total == eur("112.00")
    result = place_order(demo_ctx, "A-100002", idempotency_key="addon-again")
    assert [line[:2] for line in _lines(db, result.invoice_number)] == [
        ("charge", "GoToAssist Remote Support v5 Standard"),
        ("addon", "Mobile device support"),
        ("proration_credit", "Credit for unused days: GoToAssist Remote Support v5 Standard"),
    ]
    # it goes on: no end date any more, added again today
    assert _addon(db, cancelled) == (1, TODAY.isoformat(), None)
