"""The Subscriptions tab's read functions on the curated demo accounts (2026-04-26).

What a card says, and which actions it offers: an action is available exactly
when the write service would accept it (checked by calling the service).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest
from helpers import dump
from sqlalchemy import delete, select

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Frequency
from billing_desktop.domain.policies import CancellationChannel, Contract, SubscriptionStatus
from billing_desktop.services import cancellation as cx
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.errors import DomainError
from billing_desktop.services.invoicing import apply_payment
from billing_desktop.services.subscriptions_view import (
    CardActionCode,
    SubscriptionCard,
    discover_offers,
    subscription_cards,
)
from billing_desktop.store.models import Account, Invoice, LicenceAssignment
from billing_desktop.store.totals import refresh_account_totals

EDIT, CANCEL = CardActionCode.EDIT, CardActionCode.CANCEL
REACTIVATE, SUBSCRIBE = CardActionCode.REACTIVATE, CardActionCode.SUBSCRIBE


def cards_by_product(ctx, number: str) -> dict[str, SubscriptionCard]:
    return {c.product_code: c for c in subscription_cards(ctx, number)}


def offered(card: SubscriptionCard) -> set[CardActionCode]:
    return {a.code for a in card.actions if a.available}


def refusal(card: SubscriptionCard, code: CardActionCode) -> str:
    action = card.action(code)
    assert not action.available and action.reason is not None
    return action.reason.code


def test_a100002_active_v5_with_ten_licences_six_assigned(demo_ctx) -> None:
    [card] = subscription_cards(demo_ctx, "A-100002")
    assert card.product_name == "GoToAssist Remote Support v5"
    assert (card.plan_code, card.plan_name) == ("standard", "Standard")
    assert (card.licences, card.assigned, card.free) == (10, 6, 4)
    assert card.frequency is Frequency.MONTHLY
    assert card.contract is Contract.MONTH_TO_MONTH
    assert card.term_end is None and card.renewal_notice_deadline is None
    assert card.status is SubscriptionStatus.ACTIVE
    assert card.next_billing_date == date(2026, 5, 19)
    assert card.expires_on is None and card.ended_on is None and card.data_deletion_date is None
    assert card.addons == ("Mobile device support",)
    assert card.cancellation_channel is CancellationChannel.ONLINE
    assert offered(card) == {EDIT, CANCEL}
    assert refusal(card, REACTIVATE) == "not_cancellation_pending"
    assert refusal(card, SUBSCRIBE) == "not_an_ended_trial"
    assert not card.in_discover


def test_a100003_ended_trial_offers_only_subscribe_now(demo_ctx) -> None:
    cards = cards_by_product(demo_ctx, "A-100003")
    assert list(cards) == ["gotoassist_rs_v5", "goto_webinar"]  # catalog order
    ended, trial = cards["gotoassist_rs_v5"], cards["goto_webinar"]
    assert ended.status is SubscriptionStatus.TRIAL_EXPIRED
    assert ended.trial_end == ended.ended_on == date(2026, 4, 23)
    assert ended.next_billing_date is None and ended.expires_on is None
    assert offered(ended) == {SUBSCRIBE}
    assert refusal(ended, EDIT) == "trial_ended_subscribe"
    assert refusal(ended, CANCEL) == "not_cancellable"
    assert refusal(ended, REACTIVATE) == "not_cancellation_pending"

    assert trial.status is SubscriptionStatus.TRIAL
    assert trial.trial_end == date(2026, 5, 1)
    assert (trial.licences, trial.assigned) == (1, 1)
    assert trial.next_billing_date is None
    assert offered(trial) == {EDIT, CANCEL}  # editing a trial subscribes to it


def test_a100011_cancellation_pending_can_be_reactivated(demo_ctx) -> None:
    cards = cards_by_product(demo_ctx, "A-100011")
    pending = cards["goto_meeting"]
    assert pending.status is SubscriptionStatus.CANCELLATION_PENDING
    assert pending.cancellation_pending
    assert pending.expires_on == date(2026, 5, 7)
    assert pending.next_billing_date is None  # month-to-month: nothing more is billed
    assert pending.next_billing_after_reactivation == date(2026, 5, 7)
    assert offered(pending) == {REACTIVATE}
    assert refusal(pending, EDIT) == "cancellation_pending"
    assert refusal(pending, CANCEL) == "already_cancellation_pending"
    assert cards["gotoassist_rs_v5"].status is SubscriptionStatus.ACTIVE

    result = cx.reactivate(demo_ctx, pending.subscription_id, expected_version=pending.version)
    assert result.next_billing_date == pending.next_billing_after_reactivation
    after = cards_by_product(demo_ctx, "A-100011")["goto_meeting"]
    assert after.status is SubscriptionStatus.ACTIVE
    assert after.next_billing_date == date(2026, 5, 7)
    assert after.expires_on is None
    assert offered(after) == {EDIT, CANCEL}
    assert after.version > pending.version


def test_reactivation_is_refused_from_the_effective_end_on(demo_ctx) -> None:
    late = dataclasses.replace(demo_ctx, clock=FixedClock(date(2026, 5, 7)))
    pending = cards_by_product(late, "A-100011")["goto_meeting"]
    assert refusal(pending, REACTIVATE) == "reactivation_too_late"
    assert pending.action(REACTIVATE).reason.params["effective_end"] == date(2026, 5, 7)
    with pytest.raises(DomainError) as err:
        cx.reactivate(late, pending.subscription_id)
    assert err.value.code == "reactivation_too_late"
    day_before = dataclasses.replace(demo_ctx, clock=FixedClock(date(2026, 5, 6)))
    assert cards_by_product(day_before, "A-100011")["goto_meeting"].action(REACTIVATE).available


def test_a100018_cancelled_product_goes_to_discover(demo_ctx) -> None:
    cards = cards_by_product(demo_ctx, "A-100018")
    cancelled = cards["goto_meeting"]
    assert cancelled.status is SubscriptionStatus.CANCELLED and cancelled.in_discover
    assert cancelled.ended_on == date(2026, 3, 8)
    assert cancelled.data_deletion_date == date(2026, 6, 6)  # + 90 days
    assert offered(cancelled) == set()
    assert refusal(cancelled, EDIT) == "subscription_ended"
    assert not cards["gotoassist_rs_v4"].in_discover

    offers = {o.product_code: o for o in discover_offers(demo_ctx, "A-100018")}
    assert "gotoassist_rs_v4" not in offers  # live
    meeting = offers["goto_meeting"]
    assert meeting.cancelled and meeting.can_buy and meeting.blocked_reason is None
    assert meeting.item.ended_on == date(2026, 3, 8)
    assert meeting.item.data_deletion_date == date(2026, 6, 6)
    assert meeting.plan_names == ("Professional", "Business", "Enterprise")
    assert meeting.from_price == Money("12.00", "EUR")
    assert meeting.trial_days == 14
    never = offers["goto_webinar"]
    assert not never.cancelled and never.item.reason == "never_bought"


def test_a100005_fixed_term_and_a100019_inside_the_renewal_window(demo_ctx) -> None:
    [resolve] = subscription_cards(demo_ctx, "A-100005")
    assert resolve.contract is Contract.FIXED_TERM
    assert (resolve.term_months, resolve.term_start, resolve.term_end) == (
        24,
        date(2025, 2, 21),
        date(2027, 2, 21),
    )
    assert resolve.renewal_notice_deadline == date(2027, 1, 22)
    assert not resolve.renewal_window_passed
    assert resolve.next_billing_date == date(2026, 5, 21)
    assert resolve.cancellation_channel is CancellationChannel.SUPPORT
    assert resolve.addons == ("Third-party patch management",)

    [meeting] = subscription_cards(demo_ctx, "A-100019")
    assert meeting.term_end == date(2026, 5, 16)
    assert meeting.renewal_notice_deadline == date(2026, 4, 16)
    assert meeting.renewal_window_passed  # 2026-04-26 is less than 30 days before the end


def test_support_only_product_is_cancelled_by_support_staff_only(demo_ctx, as_role) -> None:
    [resolve] = subscription_cards(demo_ctx, "A-100005")
    assert resolve.action(CANCEL).available  # the local admin may run the assisted flow
    [for_rep] = subscription_cards(as_role("representative"), "A-100005")
    assert refusal(for_rep, CANCEL) == "cancel_contact_support"


def test_overdue_invoice_blocks_changes_and_purchases(demo_ctx) -> None:
    [meeting] = subscription_cards(demo_ctx, "A-100009")
    assert refusal(meeting, EDIT) == "overdue_invoice"
    assert refusal(meeting, CANCEL) == "overdue_invoice"
    offers = discover_offers(demo_ctx, "A-100009")
    assert offers and all(not o.can_buy for o in offers)
    assert {o.blocked_reason.code for o in offers} == {"overdue_invoice"}


def test_a_viewer_reads_the_cards_but_is_offered_nothing(as_role) -> None:
    viewer = as_role("viewer")
    pending = cards_by_product(viewer, "A-100011")["goto_meeting"]
    assert offered(pending) == set()
    assert refusal(pending, REACTIVATE) == "read_only_role"
    with pytest.raises(DomainError) as err:
        cx.reactivate(viewer, pending.subscription_id)
    assert err.value.code == "read_only_role"


def test_reading_writes_nothing(demo_ctx, db) -> None:
    before = dump(db)
    for number in ("A-100002", "A-100003", "A-100005", "A-100011", "A-100018"):
        subscription_cards(demo_ctx, number)
        discover_offers(demo_ctx, number)
    assert dump(db) == before


def test_unknown_account_is_not_found(demo_ctx) -> None:
    with pytest.raises(DomainError) as err:
        subscription_cards(demo_ctx, "A-999999")
    assert err.value.code == "not_found"


def test_availability_agrees_with_the_write_services(demo_ctx) -> None:
    """Reactivate and online cancel: offered exactly when the service accepts them."""
    with demo_ctx.db.sessions() as s:
        numbers = list(s.scalars(select(Account.account_number).order_by(Account.id)))
    checked = 0
    for number in numbers:
        for card in subscription_cards(demo_ctx, number):
            if card.cancellation_channel is CancellationChannel.ONLINE:
                action = card.action(CANCEL)
                try:
                    cx.cancel_online(demo_ctx, card.subscription_id, reason="other",
                                     reason_text="test")  # fmt: skip
                    accepted, code = True, None
                except DomainError as err:
                    accepted, code = False, err.code
                assert accepted == action.available, (number, card.product_code, code)
                if not accepted:
                    assert action.reason.code == code
                checked += 1
            # every cancelled one can now be reactivated, the others not
            card = next(
                c for c in subscription_cards(demo_ctx, number)
                if c.subscription_id == card.subscription_id
            )  # fmt: skip
            action = card.action(REACTIVATE)
            try:
                cx.reactivate(demo_ctx, card.subscription_id)
                accepted, code = True, None
            except DomainError as err:
                accepted, code = False, err.code
            assert accepted == action.available, (number, card.product_code, code)
            if not accepted:
                assert action.reason.code == code
    assert checked > 15


def test_termination_billed_blocks_reactivation(demo_ctx) -> None:
    """A-100005: assisted cancellation bills the remaining months on a termination invoice."""
    with demo_ctx.db.transaction() as s:
        account = s.scalar(select(Account).where(Account.account_number == "A-100005"))
        for inv in s.scalars(
            select(Invoice).where(Invoice.account_id == account.id, Invoice.status == "open")
        ):
            apply_payment(
                s, account, inv, Money.from_minor(inv.due_minor, inv.currency),
                datetime(2026, 4, 26, 9, 5), account.payment_methods[0],
            )  # fmt: skip
        s.flush()
        refresh_account_totals(s, account)
        [sub] = account.subscriptions
        s.execute(delete(LicenceAssignment).where(LicenceAssignment.subscription_id == sub.id))
        sanne = next(c.id for c in account.contacts if c.first_name == "Sanne")
        account_id, sub_id = account.id, sub.id
    verification = cx.verify_caller(
        demo_ctx, "A-100005", account_number="A-100005",
        billing_admin_email="sanne.devries@vanderberg-techniek.example", last4="5100",
        billing_address="Maliebaan 48", postal_code="3581 CR",
    )  # fmt: skip
    result = cx.assisted_cancel(
        demo_ctx, account_id, verification=verification, requester_contact_id=sanne,
        subscription_ids=[sub_id], reason="no_longer_needed", backup_confirmed=True,
    )  # fmt: skip
    [card] = subscription_cards(demo_ctx, "A-100005")
    assert card.status is SubscriptionStatus.CANCELLATION_PENDING
    assert card.expires_on == date(2027, 2, 21)
    assert card.next_billing_date is None  # the remaining months are already billed
    assert refusal(card, REACTIVATE) == "termination_billed"
    assert card.action(REACTIVATE).reason.params["invoice"] == result.termination_invoice_number
