"""Checkout refuses an order whose account data changed since its review (team mode).

The review page ("Complete transaction") prices the order on the account's own
data too: its country and VAT number (VAT rate or reverse charge), currency,
type (corporate: invoiced on terms), the account credit applied and the payment
terms. The preview carries them (``OrderPreview.account_terms``) and
``place_order(expected_account_terms=...)`` refuses, on both ways of placing,
with :class:`ConflictError` naming the account, the other operator and the time
of their change when one of them changed since; nothing is written. The
account's ``version`` is not compared: another order, a payment that leaves the
credit alone or a new address do not refuse. After a fresh preview the order
goes through, priced to the cent as the new review shows.

On every engine (the ``db`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

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
from sqlalchemy.orm.exc import StaleDataError

from billing_desktop.domain.money import Money
from billing_desktop.services import payments
from billing_desktop.services.accounts import AccountChanges, account_overview, update_account
from billing_desktop.services.cart import CartChange, OrderData, add_to_cart, get_cart
from billing_desktop.services.checkout import (
    AccountTerms,
    ExistingMethod,
    OrderPreview,
    _FlushedVersion,
    place_order,
    preview,
)
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError, DomainError

TODAY = date(2026, 4, 26)
ALICE_AT = datetime(2026, 4, 26, 10, 15)
BOB_AT = datetime(2026, 4, 26, 10, 20)
EUR = "EUR"


@pytest.fixture
def alice(demo_ctx: AppContext) -> AppContext:
    """Support operator Alice Martin (10:15), who places the order she reviewed."""
    return as_operator(demo_ctx, "Alice Martin", ALICE_AT)


@pytest.fixture
def bob(demo_ctx: AppContext) -> Iterator[AppContext]:
    """Support operator Bob Keller (10:20), on another instance of the application."""
    with on_another_instance(as_operator(demo_ctx, "Bob Keller", BOB_AT)) as other:
        yield other


def _place(ctx: AppContext, shown: OrderPreview, key: str, **kwargs: object) -> object:
    """Place the order ``shown`` as the wizard does: with the review's versions and terms."""
    return place_order(
        ctx, shown.account_number, idempotency_key=key,
        expected_subscription_versions=shown.subscription_versions,
        expected_account_terms=shown.account_terms, **kwargs,
    )  # fmt: skip


def _invoice(ctx: AppContext, number: str) -> tuple:
    return ctx.db.reader.rows(
        "SELECT subtotal_minor, vat_rate_bp, vat_minor, reverse_charge, vat_number,"
        " total_minor, credit_applied_minor, paid_minor, status FROM invoices WHERE number = :n",
        {"n": number},
    )[0]


def _credit(ctx: AppContext, account: str) -> int:
    return ctx.db.reader.scalar(
        "SELECT credit_balance_minor FROM accounts WHERE account_number = :a", {"a": account}
    )


def _account_version(ctx: AppContext, account: str) -> int:
    return ctx.db.reader.scalar(
        "SELECT version FROM accounts WHERE account_number = :a", {"a": account}
    )


# --------------------------------------------------------------------------- what Bob does

AccountChange = Callable[[AppContext], object]


def _edit(**changes: str) -> AccountChange:
    """Bob saves the account's Overview."""

    def run(ctx: AppContext) -> object:
        seen = account_overview(ctx, "A-100002")
        return update_account(
            ctx, "A-100002", AccountChanges(**changes), expected_version=seen.version
        )

    return run


def _overpay(ctx: AppContext) -> object:
    """Bob records a payment of € 50.00 on an account that owes nothing: account credit."""
    return payments.record_payment(ctx, "A-100002", amount=Money("50.00", EUR), reference="Wire")


#: Bob's change → what Alice's review shows when she reads it again (A-100002, 10 → 12
#: licences of v5 Standard: € 208.00 net): VAT rate, VAT, total, credit applied, amount due
BOB_CHANGES: dict[str, tuple[AccountChange, tuple[str, str, str, str, str]]] = {
    # IT company without a VAT number: Italian VAT instead of reverse charge
    "VAT number": (_edit(vat_number=""), ("22", "45.76", "253.76", "0.00", "253.76")),
    # moved to Ireland, the seller's country: Irish VAT
    "country": (
        _edit(country="IE", vat_number="IE6361963I"),
        ("23", "47.84", "255.84", "0.00", "255.84"),
    ),
    # € 50.00 of account credit is applied to the order
    "credit": (_overpay, ("0", "0.00", "208.00", "50.00", "158.00")),
}


def _alices_order(ctx: AppContext) -> list[CartChange]:
    return [CartChange.change_licences(sub_id(ctx.db, "A-100002", "gotoassist_rs_v5"), 12)]


# --------------------------------------------------------------------------- the terms


def test_the_preview_carries_the_account_data_it_was_priced_on(alice: AppContext) -> None:
    a2 = preview(alice, "A-100002", items=_alices_order(alice))
    assert a2.account_terms == AccountTerms("IT", "IT05482200010", EUR, "standard", 0, None)
    assert a2.reverse_charge and a2.vat_number == "IT05482200010"
    gbp = preview(alice, "A-100012", items=[
        CartChange.change_licences(sub_id(alice.db, "A-100012", "gotoassist_rs_v5"), 6)
    ])  # fmt: skip
    assert gbp.account_terms == AccountTerms("GB", "GB196809412", "GBP", "standard", 4500, None)
    assert gbp.credit_applied == Money("45.00", "GBP")
    corporate = preview(alice, "A-100015", on_behalf_of_customer=False, items=[
        CartChange.change_licences(sub_id(alice.db, "A-100015", "goto_meeting"), 160)
    ])  # fmt: skip
    assert corporate.account_terms == AccountTerms(
        "IT", "IT09010470632", EUR, "corporate", 0, 30
    )
    assert corporate.invoiced_on_terms


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize("bob_does", list(BOB_CHANGES))
def test_the_order_is_refused_when_the_account_changed_and_placed_after_reading_again(
    bob_does: str, alice: AppContext, bob: AppContext
) -> None:
    """A-100002 (IT, reverse charge, no credit): Alice reviews 10 → 12 licences at
    € 208.00; Bob changes the account; Alice's Place order is refused, naming Bob, and
    nothing is written. Read again, the review shows the new figures and the invoice
    holds exactly those."""
    items = _alices_order(alice)
    stale = preview(alice, "A-100002", items=items)
    assert (stale.total, stale.amount_due) == (Money("208.00", EUR), Money("208.00", EUR))
    change, (rate, vat, total, credit, due) = BOB_CHANGES[bob_does]
    change(bob)
    after_bob = dump(alice.db)
    with pytest.raises(ConflictError) as conflict:
        _place(alice, stale, "alice", items=items)
    assert_changed_by(conflict.value, "A-100002", "Bob Keller", BOB_AT)
    assert dump(alice.db) == after_bob  # nothing of Alice's was written

    fresh = preview(alice, "A-100002", items=items)  # the review page, read again
    assert fresh.account_terms != stale.account_terms
    assert fresh.subtotal == Money("208.00", EUR)
    assert (fresh.vat_rate, fresh.vat, fresh.total, fresh.credit_applied, fresh.amount_due) == (
        int(rate), Money(vat, EUR), Money(total, EUR), Money(credit, EUR), Money(due, EUR)
    )  # fmt: skip
    result = _place(alice, fresh, "alice", items=items)
    assert (result.total, result.credit_applied, result.amount_due, result.amount_paid) == (
        fresh.total, fresh.credit_applied, fresh.amount_due, fresh.amount_due
    )  # fmt: skip
    assert _invoice(alice, result.invoice_number) == (
        20800, int(rate) * 100, Money(vat, EUR).minor, rate == "0", fresh.vat_number,
        Money(total, EUR).minor, Money(credit, EUR).minor, Money(due, EUR).minor, "paid",
    )  # fmt: skip
    assert _credit(alice, "A-100002") == 0  # Bob's credit, if any, went into the order


def test_through_the_cart_the_order_is_refused_and_the_cart_kept(
    alice: AppContext, bob: AppContext
) -> None:
    """Neither the cart's version nor the subscription's moves when Bob removes the VAT
    number: the review's account terms catch it."""
    sid = sub_id(alice.db, "A-100002", "gotoassist_rs_v5")
    add_to_cart(alice, "A-100002", CartChange.change_licences(sid, 12))
    stale = preview(alice, "A-100002")
    BOB_CHANGES["VAT number"][0](bob)
    assert get_cart(alice, "A-100002").version == stale.cart_version
    after_bob = dump(alice.db)
    with pytest.raises(ConflictError) as conflict:
        _place(alice, stale, "alice", expected_cart_version=stale.cart_version)
    assert_changed_by(conflict.value, "A-100002", "Bob Keller", BOB_AT)
    assert dump(alice.db) == after_bob  # the cart still holds Alice's change

    fresh = preview(alice, "A-100002")
    assert (fresh.vat, fresh.total) == (Money("45.76", EUR), Money("253.76", EUR))
    result = _place(alice, fresh, "alice", expected_cart_version=fresh.cart_version)
    assert result.total == fresh.total and result.vat_rate == 22 and not result.reverse_charge
    assert get_cart(alice, "A-100002").items == ()


def test_a_corporate_account_made_standard_is_refused(alice: AppContext, bob: AppContext) -> None:
    """A-100015 (corporate, invoiced net 30): Bob makes it a standard account, charged by
    card; Alice's back-office order, reviewed as invoiced on terms, is refused."""
    items = [CartChange.change_licences(sub_id(alice.db, "A-100015", "goto_meeting"), 160)]
    shown = preview(alice, "A-100015", on_behalf_of_customer=False, items=items)
    seen = account_overview(bob, "A-100015")
    update_account(bob, "A-100015", AccountChanges(type="standard"), expected_version=seen.version)
    after_bob = dump(alice.db)
    with pytest.raises(ConflictError) as conflict:
        _place(alice, shown, "alice", items=items, on_behalf_of_customer=False)
    assert_changed_by(conflict.value, "A-100015", "Bob Keller", BOB_AT)
    assert dump(alice.db) == after_bob


# --------------------------------------------------------------------------- not refused


def _order_on_another_subscription(ctx: AppContext) -> object:
    """Bob orders more GoTo Meeting licences on A-100004, paid by card (no credit)."""
    meeting = sub_id(ctx.db, "A-100004", "goto_meeting")
    return place_order(
        ctx, "A-100004", idempotency_key="bob", items=[CartChange.change_licences(meeting, 9)]
    )


def _new_address(ctx: AppContext) -> object:
    seen = account_overview(ctx, "A-100004")
    changes = AccountChanges(
        company_name="Conti Logistica Group S.r.l.", address_line1="Via Roma 1", city="Torino"
    )
    return update_account(ctx, "A-100004", changes, expected_version=seen.version)


UNRELATED: dict[str, AccountChange] = {
    "another order": _order_on_another_subscription,
    "address": _new_address,
}


@pytest.mark.parametrize("bob_does", list(UNRELATED))
def test_a_change_that_does_not_touch_the_prices_is_no_conflict(
    bob_does: str, alice: AppContext, bob: AppContext
) -> None:
    """A-100004: the account's version moves, its terms do not: Alice's order goes
    through, priced exactly as she reviewed it."""
    v5 = sub_id(alice.db, "A-100004", "gotoassist_rs_v5")
    items = [CartChange.change_licences(v5, 6)]
    shown = preview(alice, "A-100004", items=items)
    version = _account_version(alice, "A-100004")
    UNRELATED[bob_does](bob)
    assert _account_version(alice, "A-100004") > version
    assert _credit(alice, "A-100004") == 0
    result = _place(alice, shown, "alice", items=items)
    assert (result.total, result.amount_due) == (shown.total, shown.amount_due)
    assert _invoice(alice, result.invoice_number)[5] == shown.total.minor


def test_a_repeated_order_token_still_answers_the_first_result(
    alice: AppContext, bob: AppContext
) -> None:
    """Alice's order went through; Bob then removes the VAT number; Alice's retry with the
    same token (a lost answer) is her first order, not a conflict."""
    items = _alices_order(alice)
    shown = preview(alice, "A-100002", items=items)
    first = _place(alice, shown, "alice", items=items)
    BOB_CHANGES["VAT number"][0](bob)
    before = dump(alice.db)
    again = _place(alice, shown, "alice", items=items)
    assert again == first
    assert dump(alice.db) == before


def test_without_the_terms_nothing_is_checked(alice: AppContext, bob: AppContext) -> None:
    """``expected_account_terms=None`` (callers that have no review) keeps the old
    behaviour: the order is priced on the current data."""
    items = _alices_order(alice)
    preview(alice, "A-100002", items=items)
    BOB_CHANGES["VAT number"][0](bob)
    result = place_order(alice, "A-100002", idempotency_key="alice", items=items)
    assert result.total == Money("253.76", EUR)


# --------------------------------------------------------------------------- at the same time


def test_placing_and_changing_the_account_at_once_exactly_one_wins(
    alice: AppContext, bob: AppContext
) -> None:
    """Alice places the order she reviewed while Bob removes the VAT number he read: one
    of them wins, the other is told who; an order placed is reverse charged as reviewed."""
    items = _alices_order(alice)
    shown = preview(alice, "A-100002", items=items)
    seen = account_overview(bob, "A-100002")
    orders = alice.db.reader.scalar("SELECT count(*) FROM orders")

    def remove_vat_number(ctx: AppContext) -> object:
        return update_account(
            ctx, "A-100002", AccountChanges(vat_number=""), expected_version=seen.version
        )

    outcomes = race({
        "Alice Martin": (alice, lambda ctx: _place(ctx, shown, "alice", items=items)),
        "Bob Keller": (bob, remove_vat_number),
    })  # fmt: skip
    winner, (loser,) = exactly_one_won(outcomes)
    assert loser.params["changed_by"] == winner
    vat_number = alice.db.reader.scalar(
        "SELECT vat_number FROM accounts WHERE account_number = 'A-100002'"
    )
    placed = alice.db.reader.scalar("SELECT count(*) FROM orders") - orders
    if winner == "Alice Martin":
        assert (placed, vat_number) == (1, "IT05482200010")
        result = outcomes["Alice Martin"]
        assert _invoice(alice, result.invoice_number)[2:4] == (0, True)  # type: ignore[attr-defined]
    else:
        assert (placed, vat_number) == (0, None)


def test_the_account_row_is_checked_even_when_the_order_leaves_it_alone(
    alice: AppContext,
) -> None:
    """The lock-step guard for an order that changes no column of the account (a zero
    total): at the version read nothing is written; at an older one it is a lost race."""
    before = dump(alice.db)
    with alice.db.transaction() as session:
        conn = session.connection()
        account = OrderData(conn, "A-100002", TODAY).account
        _FlushedVersion(account).write(conn, guard=True)
    assert dump(alice.db) == before
    with pytest.raises(StaleDataError), alice.db.transaction() as session:
        conn = session.connection()
        account = OrderData(conn, "A-100002", TODAY).account
        account.version -= 1  # read before another operator's change
        _FlushedVersion(account).write(conn, guard=True)
    assert dump(alice.db) == before


def test_the_card_charged_is_the_one_the_review_showed(alice: AppContext, bob: AppContext) -> None:
    """Bob adds a new card and makes it the default after Alice's review showed the card
    on file: the order charges the card her review named (the wizard passes its id), and
    a card removed since is refused with nothing written."""
    items = _alices_order(alice)
    shown = preview(alice, "A-100002", items=items)
    assert shown.payment_method_id_on_file is not None
    shown_card = shown.payment_method_on_file
    new = payments.add_card(
        bob, "A-100002", number="5555555555554444", exp_month=12, exp_year=2030,
        holder_name="Bob's customer", make_default=True,
    )  # fmt: skip
    assert new.id != shown.payment_method_id_on_file
    result = _place(
        alice, shown, "alice", items=items,
        payment=ExistingMethod(shown.payment_method_id_on_file),
    )  # fmt: skip
    charged = alice.db.reader.rows(
        "SELECT payment_method_id FROM payments WHERE invoice_id = "
        "(SELECT id FROM invoices WHERE number = :n)",
        {"n": result.invoice_number},
    )
    assert charged == [(shown.payment_method_id_on_file,)]
    more = [CartChange.change_licences(sub_id(alice.db, "A-100002", "gotoassist_rs_v5"), 13)]
    again = preview(alice, "A-100002", items=more)
    assert again.payment_method_on_file != shown_card  # the new default, from now on
    payments.remove_method(bob, "A-100002", again.payment_method_id_on_file)
    before = dump(alice.db)
    with pytest.raises(DomainError):
        _place(
            alice, again, "alice-2", items=more,
            payment=ExistingMethod(again.payment_method_id_on_file),
        )  # fmt: skip
    assert dump(alice.db) == before
