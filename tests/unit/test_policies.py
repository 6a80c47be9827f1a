"""Policies: who may act, what blocks a change, what cancelling still costs (SPEC §3, §6)."""

from __future__ import annotations

import calendar
import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_desktop.domain.errors import PolicyViolation, ValidationError
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Frequency, Period, iter_periods, period_at, term_end
from billing_desktop.domain.policies import (
    CANCELLATION_REASONS,
    CancellationChannel,
    CancellationOutcome,
    ContactRole,
    Contract,
    Decision,
    OperatorRole,
    ProductPolicy,
    PurchaseChannel,
    SubscriptionStatus,
    blocks_plan_change,
    cancellation_channel,
    cancellation_outcome,
    check_licence_count,
    data_deletion_date,
    dispute_deadline,
    licence_count_bounds,
    may_change_plan_online,
    may_dispute,
    may_request_cancellation,
    operator_may_modify,
    renewal_notice_deadline,
    renewal_window_passed,
    tier_change,
)

SA, BA, PA, U = (
    ContactRole.SUPER_ADMIN,
    ContactRole.BILLING_ADMIN,
    ContactRole.PRODUCT_ADMIN,
    ContactRole.USER,
)
MEETING = ProductPolicy(code="meeting", online_cancellation=True)
RESOLVE = ProductPolicy(code="resolve", online_cancellation=False)
CONNECT = ProductPolicy(
    code="connect",
    online_cancellation=False,
    cancel_roles=frozenset({SA}),
    requires_super_admin_to_cancel=True,
)
SELF, REP = PurchaseChannel.SELF_SERVICE, PurchaseChannel.REPRESENTATIVE


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_enum_values_are_the_domain_words() -> None:
    assert [r.value for r in ContactRole] == [
        "super_admin",
        "billing_admin",
        "product_admin",
        "user",
    ]
    assert [r.value for r in OperatorRole] == [
        "admin",
        "support",
        "representative",
        "trainer",
        "viewer",
    ]
    assert [s.value for s in SubscriptionStatus] == [
        "trial", "trial_expired", "active", "cancellation_pending", "cancelled",
    ]  # fmt: skip
    assert [c.value for c in Contract] == ["month_to_month", "fixed_term"]
    assert {c.value for c in PurchaseChannel} == {"self_service", "representative"}


def test_decision_require() -> None:
    Decision.allow().require()
    refused = Decision.refuse("x_code", "Hello {name}", name="Ann")
    assert refused.text == "Hello Ann"
    with pytest.raises(PolicyViolation) as info:
        refused.require()
    assert (info.value.code, info.value.params, str(info.value)) == (
        "x_code",
        {"name": "Ann"},
        "Hello Ann",
    )


# -- cancellation -------------------------------------------------------------------------


def test_cancellation_channel() -> None:
    assert cancellation_channel(MEETING) is CancellationChannel.ONLINE
    assert cancellation_channel(RESOLVE) is CancellationChannel.SUPPORT
    assert cancellation_channel(CONNECT) is CancellationChannel.SUPPORT


@pytest.mark.parametrize(
    ("policy", "roles", "channel", "authorised", "allowed", "code"),
    [
        # GoTo Connect: a super admin, whatever else
        (CONNECT, {SA}, SELF, False, True, "ok"),
        (CONNECT, {SA}, REP, False, True, "ok"),
        (CONNECT, {BA}, SELF, True, False, "cancel_requires_super_admin"),
        (CONNECT, {PA, BA}, REP, True, False, "cancel_requires_super_admin"),
        # bought through a representative: product admin or authorised billing admin
        (RESOLVE, {PA}, REP, False, True, "ok"),
        (RESOLVE, {BA}, REP, True, True, "ok"),
        (RESOLVE, {BA}, REP, False, False, "cancel_requires_product_admin"),
        (RESOLVE, {SA}, REP, False, False, "cancel_requires_product_admin"),
        (RESOLVE, {U}, REP, True, False, "cancel_requires_product_admin"),
        # all others: super admin or billing admin
        (RESOLVE, {SA}, SELF, False, True, "ok"),
        (MEETING, {BA}, SELF, False, True, "ok"),
        (MEETING, {PA}, SELF, False, False, "cancel_requires_admin"),
        (MEETING, {U}, SELF, True, False, "cancel_requires_admin"),
        (MEETING, set(), SELF, False, False, "cancel_requires_admin"),
    ],
)
def test_may_request_cancellation(
    policy: ProductPolicy,
    roles: set[ContactRole],
    channel: PurchaseChannel,
    authorised: bool,
    allowed: bool,
    code: str,
) -> None:
    decision = may_request_cancellation(policy, frozenset(roles), channel, authorised)
    assert (decision.allowed, decision.code) == (allowed, code)
    assert bool(decision.message) is not allowed


def test_cancel_roles_from_the_catalog_apply_to_other_products() -> None:
    only_super = ProductPolicy(code="x", cancel_roles=frozenset({SA}))
    assert not may_request_cancellation(only_super, frozenset({BA}), SELF, False).allowed
    assert may_request_cancellation(only_super, frozenset({SA}), SELF, False).allowed


def test_cancellation_reasons() -> None:
    codes = [code for code, _ in CANCELLATION_REASONS]
    assert len(codes) == len(set(codes))
    assert {"too_expensive", "missing_features", "switching_provider", "no_longer_needed",
            "temporary_project", "other"} <= set(codes)  # fmt: skip
    assert codes[-1] == "other"
    assert all(label and label[0].isupper() for _, label in CANCELLATION_REASONS)


def test_monthly_month_to_month_cancelled_mid_month() -> None:
    # €40.00/month, period Apr 11 – May 11, cancelled Apr 26: the whole month stays billed,
    # active until May 11, no refund, nothing more to bill.
    period = Period(date(2026, 4, 11), date(2026, 5, 11))
    outcome = cancellation_outcome(
        contract=Contract.MONTH_TO_MONTH,
        frequency=Frequency.MONTHLY,
        current_period=period,
        period_amount=eur("40.00"),
        on=date(2026, 4, 26),
    )
    assert outcome.effective_end == date(2026, 5, 11)
    assert outcome.amount_still_billed == eur("40.00")
    assert outcome.months_billed == 1
    assert outcome.refund == eur("0.00")
    assert outcome.additional_charge == eur("0.00")
    assert outcome.data_deletion_date == date(2026, 8, 9)  # May 11 + 90 days


def test_annual_month_to_month_runs_out_and_bills_nothing_more() -> None:
    period = Period(date(2026, 1, 15), date(2027, 1, 15))
    outcome = cancellation_outcome(
        contract=Contract.MONTH_TO_MONTH,
        frequency=Frequency.ANNUAL,
        current_period=period,
        period_amount=eur("480.00"),
        on=date(2026, 4, 26),
    )
    assert outcome.effective_end == date(2027, 1, 15)
    assert outcome.additional_charge == eur("0.00")
    assert outcome.refund == eur("0.00")


def test_fixed_term_15_months_cancelled_with_3_months_to_go() -> None:
    # 15-month agreement from 2025-01-01 (ends 2026-04-01), €100.00/month, cancelled 2026-01-15:
    # remaining months = January (current, already invoiced), February, March = 3
    # still billed = 3 × 100.00 = 300.00; not yet invoiced = 2 × 100.00 = 200.00
    start = date(2025, 1, 1)
    end = term_end(start, 15)
    outcome = cancellation_outcome(
        contract=Contract.FIXED_TERM,
        frequency=Frequency.MONTHLY,
        current_period=Period(date(2026, 1, 1), date(2026, 2, 1)),
        period_amount=eur("100.00"),
        on=date(2026, 1, 15),
        term_end=end,
    )
    assert outcome.effective_end == date(2026, 4, 1)  # the original end date
    assert outcome.months_billed == 3
    assert outcome.amount_still_billed == eur("300.00")
    assert outcome.additional_charge == eur("200.00")
    assert outcome.refund == eur("0.00")


def test_fixed_term_billed_annually() -> None:
    # 24-month term from 2025-03-01 billed yearly at €1,200.00; cancelled 2025-06-10:
    # the current year (to 2026-03-01) is paid; 12 more months follow → 1200 × 12/12 = 1200.00
    outcome = cancellation_outcome(
        contract=Contract.FIXED_TERM,
        frequency=Frequency.ANNUAL,
        current_period=Period(date(2025, 3, 1), date(2026, 3, 1)),
        period_amount=eur("1200.00"),
        on=date(2025, 6, 10),
        term_end=date(2027, 3, 1),
    )
    assert outcome.months_billed == 24
    assert outcome.additional_charge == eur("1200.00")
    assert outcome.amount_still_billed == eur("2400.00")
    assert outcome.effective_end == date(2027, 3, 1)


def annual_term_from_2025_04_20(on: date, **extra: object) -> CancellationOutcome:
    # 12-month fixed term from 2025-04-20 (ends 2026-04-20), billed yearly at €1,200.00.
    return cancellation_outcome(
        contract=Contract.FIXED_TERM,
        frequency=Frequency.ANNUAL,
        current_period=Period(date(2025, 4, 20), date(2026, 4, 20)),
        period_amount=eur("1200.00"),
        on=on,
        term_end=date(2026, 4, 20),
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "extra",
    [{}, {"term_months": 12}, {"term_start": date(2025, 4, 20)}],
    ids=["defaults", "term_months", "term_start"],
)
def test_fixed_term_cancelled_after_the_renewal_window_renews_first(
    extra: dict[str, object],
) -> None:
    # "A fixed-term agreement renews for another term unless cancelled at least 30 days
    # before its end": cancelled 2026-03-31 (deadline 2026-03-21) → it renews to 2027-04-20
    # and the next term is billed too; no refund.
    outcome = annual_term_from_2025_04_20(date(2026, 3, 31), **extra)
    assert outcome.renewed
    assert outcome.effective_end == date(2027, 4, 20)
    assert outcome.additional_charge == eur("1200.00")
    assert outcome.amount_still_billed == eur("2400.00")
    assert outcome.months_billed == 24
    assert outcome.refund == eur("0.00")
    assert outcome.data_deletion_date == date(2027, 7, 19)


@pytest.mark.parametrize("on", [date(2025, 6, 1), date(2026, 3, 20), date(2026, 3, 21)])
def test_fixed_term_cancelled_in_time_does_not_renew(on: date) -> None:
    assert renewal_notice_deadline(date(2026, 4, 20)) == date(2026, 3, 21)
    outcome = annual_term_from_2025_04_20(on)
    assert not outcome.renewed
    assert outcome.effective_end == date(2026, 4, 20)
    assert outcome.additional_charge == eur("0.00")
    assert outcome.amount_still_billed == eur("1200.00")
    assert outcome.months_billed == 12


def test_renewal_length_is_the_term_length() -> None:
    # 15-month term from 2025-01-01 (ends 2026-04-01), €100.00/month, cancelled 2026-03-15
    # (deadline 2026-03-02): March is paid; it renews for 15 more months → 1500.00.
    def cancel(**extra: object) -> CancellationOutcome:
        return cancellation_outcome(
            contract=Contract.FIXED_TERM,
            frequency=Frequency.MONTHLY,
            current_period=Period(date(2026, 3, 1), date(2026, 4, 1)),
            period_amount=eur("100.00"),
            on=date(2026, 3, 15),
            term_end=date(2026, 4, 1),
            **extra,  # type: ignore[arg-type]
        )

    for outcome in (cancel(term_start=date(2025, 1, 1)), cancel(term_months=15)):
        assert outcome.renewed
        assert outcome.effective_end == date(2027, 7, 1)
        assert outcome.additional_charge == eur("1500.00")
        assert outcome.months_billed == 16
    default = cancel()  # without term_start or term_months a term is 12 months
    assert default.effective_end == date(2027, 4, 1)
    assert default.additional_charge == eur("1200.00")


def test_renewal_of_a_month_end_term_stays_anchored_at_term_start() -> None:
    # 3-month term from 2025-01-31 (ends 2025-04-30), €10.00/month, cancelled 2025-04-10:
    # renews to 2025-07-31; April, May, June (to Jul 31) follow the current period.
    outcome = cancellation_outcome(
        contract=Contract.FIXED_TERM,
        frequency=Frequency.MONTHLY,
        current_period=Period(date(2025, 3, 31), date(2025, 4, 30)),
        period_amount=eur("10.00"),
        on=date(2025, 4, 10),
        term_end=date(2025, 4, 30),
        term_start=date(2025, 1, 31),
    )
    assert outcome.renewed
    assert outcome.effective_end == date(2025, 7, 31)
    assert outcome.months_billed == 4
    assert outcome.additional_charge == eur("30.00")


def test_cancellation_outcome_term_errors() -> None:
    common: dict[str, object] = {
        "contract": Contract.FIXED_TERM,
        "frequency": Frequency.MONTHLY,
        "current_period": Period(date(2026, 3, 1), date(2026, 4, 1)),
        "period_amount": eur("1"),
        "on": date(2026, 3, 15),
        "term_end": date(2026, 4, 1),
    }
    with pytest.raises(ValidationError) as info:
        cancellation_outcome(**common, term_months=0)  # type: ignore[arg-type]
    assert info.value.code == "term_too_short"
    with pytest.raises(TypeError):
        cancellation_outcome(**common, term_months=12.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        cancellation_outcome(**common, term_start=date(2026, 4, 1))  # type: ignore[arg-type]
    assert info.value.code == "period_empty"


@st.composite
def fixed_terms(draw: st.DrawFn) -> tuple[date, int, Frequency, date]:
    """A fixed term (start, months, billing frequency) and a day within it."""
    year, month = draw(st.integers(1990, 2090)), draw(st.integers(1, 12))
    day = min(draw(st.integers(1, 31)), calendar.monthrange(year, month)[1])
    start = date(year, month, day)
    freq = draw(st.sampled_from([Frequency.MONTHLY, Frequency.ANNUAL]))
    months = draw(st.sampled_from([12, 24, 36]) if freq is Frequency.ANNUAL else st.integers(2, 48))
    end = term_end(start, months)
    on = start + timedelta(days=draw(st.integers(0, (end - start).days - 1)))
    return start, months, freq, on


@settings(deadline=None)
@given(fixed_terms(), st.integers(1, 10**6))
def test_cancellation_outcome_with_and_without_term_start_agree(
    term: tuple[date, int, Frequency, date], minor: int
) -> None:
    start, months, freq, on = term
    end = term_end(start, months)
    period = period_at(start, freq, on)
    amount = Money.from_minor(minor, "EUR")

    def cancel(**extra: object) -> CancellationOutcome:
        return cancellation_outcome(
            contract=Contract.FIXED_TERM,
            frequency=freq,
            current_period=period,
            period_amount=amount,
            on=on,
            term_end=end,
            **extra,  # type: ignore[arg-type]
        )

    anchored = cancel(term_start=start)
    # Oracle: renewal iff cancelled less than 30 days before the end; the billed months are
    # the periods (anchored at the term start) of the term(s) that have not ended by `on`.
    renewed = on > end - timedelta(days=30)
    total = months * (2 if renewed else 1)
    periods = list(itertools.islice(iter_periods(start, freq), total // freq.months))
    billed = freq.months * sum(1 for p in periods if p.end > on)
    assert anchored.renewed is renewed
    assert anchored.effective_end == term_end(start, total)
    assert anchored.months_billed == billed
    assert anchored.amount_still_billed == amount.scaled(billed, freq.months)
    assert anchored.refund.is_zero
    # Without term_start (term_months given) the same months and amounts are billed.
    counted_back = cancel(term_months=months)
    assert counted_back.renewed is renewed
    assert counted_back.months_billed == anchored.months_billed
    assert counted_back.additional_charge == anchored.additional_charge
    assert counted_back.amount_still_billed == anchored.amount_still_billed
    if start.day <= 28:  # the renewed end is counted from term_end: equal unless clipped
        assert counted_back.effective_end == anchored.effective_end


def test_cancellation_outcome_input_errors() -> None:
    period = Period(date(2026, 4, 11), date(2026, 5, 11))
    with pytest.raises(ValidationError) as info:
        cancellation_outcome(
            contract=Contract.MONTH_TO_MONTH,
            frequency=Frequency.MONTHLY,
            current_period=period,
            period_amount=eur("1"),
            on=date(2026, 5, 11),
        )
    assert info.value.code == "date_outside_period"
    with pytest.raises(ValidationError) as info:
        cancellation_outcome(
            contract=Contract.FIXED_TERM,
            frequency=Frequency.MONTHLY,
            current_period=period,
            period_amount=eur("1"),
            on=date(2026, 4, 26),
        )
    assert info.value.code == "term_end_missing"


# -- checkout -----------------------------------------------------------------------------


def test_only_the_billing_contact_changes_plans_online() -> None:
    assert may_change_plan_online(True, "Ann Lee", "ann@example.com").allowed
    decision = may_change_plan_online(False, "Ann Lee", "ann@example.com")
    assert not decision.allowed and decision.code == "not_billing_contact"
    assert decision.text == (
        "Contact your billing admin (Ann Lee, ann@example.com) to make product or licensing changes"
    )


@pytest.mark.parametrize(
    ("current", "new", "online_downgrade", "actor", "allowed", "code"),
    [
        (1, 2, False, None, True, "tier_upgrade"),
        (2, 3, False, OperatorRole.REPRESENTATIVE, True, "tier_upgrade"),
        (2, 2, False, OperatorRole.SUPPORT, False, "tier_unchanged"),
        (3, 1, False, None, False, "downgrade_requires_customer_care"),
        (3, 1, False, OperatorRole.VIEWER, False, "downgrade_requires_customer_care"),
        # SPEC §6: every role that makes account changes may downgrade (which accounts and
        # databases it may change is operator_may_modify's decision).
        (3, 1, False, OperatorRole.REPRESENTATIVE, True, "tier_downgrade"),
        (3, 1, False, OperatorRole.TRAINER, True, "tier_downgrade"),
        (3, 1, False, OperatorRole.SUPPORT, True, "tier_downgrade"),
        (3, 1, False, OperatorRole.ADMIN, True, "tier_downgrade"),
        (3, 1, False, "trainer", True, "tier_downgrade"),
        (3, 1, True, None, True, "tier_downgrade"),
    ],
)
def test_tier_change(
    current: int,
    new: int,
    online_downgrade: bool,
    actor: OperatorRole | None,
    allowed: bool,
    code: str,
) -> None:
    decision = tier_change(current, new, online_downgrade, actor)
    assert (decision.allowed, decision.code) == (allowed, code)
    if code == "downgrade_requires_customer_care":
        assert decision.text == "To move to a lower plan, contact Customer Care"


def test_licence_count_bounds() -> None:
    assert licence_count_bounds(0, 50) == (1, 50)
    assert licence_count_bounds(7, 50) == (7, 50)
    assert licence_count_bounds(3, None) == (3, None)


@pytest.mark.parametrize(
    ("n", "assigned", "maximum", "code"),
    [
        (7, 7, 50, "ok"),
        (50, 0, 50, "ok"),
        (1, 0, None, "ok"),
        (0, 0, 50, "licences_below_one"),
        (-3, 0, 50, "licences_below_one"),
        (6, 7, 50, "licences_below_assigned"),
        (51, 0, 50, "licences_above_maximum"),
    ],
)
def test_check_licence_count(n: int, assigned: int, maximum: int | None, code: str) -> None:
    decision = check_licence_count(n, assigned, maximum)
    assert decision.code == code
    assert decision.allowed is (code == "ok")


def test_licences_below_assigned_names_the_assigned_count() -> None:
    decision = check_licence_count(5, 8, 100)
    assert decision.params["assigned"] == 8
    assert "8 licences are assigned" in decision.text
    with pytest.raises(PolicyViolation) as info:
        decision.require()
    assert info.value.code == "licences_below_assigned"


def test_blocks_plan_change() -> None:
    assert blocks_plan_change(False, False).allowed
    assert blocks_plan_change(True, False).code == "overdue_invoice"
    assert blocks_plan_change(False, True).code == "account_expired"
    assert blocks_plan_change(True, True).code == "account_expired"
    assert not blocks_plan_change(True, False).allowed


# -- dates --------------------------------------------------------------------------------


def test_renewal_notice_window() -> None:
    end = date(2026, 6, 30)
    assert renewal_notice_deadline(end) == date(2026, 5, 31)  # 30 days before
    assert not renewal_window_passed(end, date(2026, 5, 31))  # exactly 30 days before: in time
    assert renewal_window_passed(end, date(2026, 6, 1))


def test_dispute_window() -> None:
    issued = date(2026, 4, 11)
    assert dispute_deadline(issued) == date(2026, 4, 26)
    assert may_dispute(issued, date(2026, 4, 26)).allowed
    late = may_dispute(issued, date(2026, 4, 27))
    assert not late.allowed and late.code == "dispute_window_closed"
    assert late.params["deadline"] == date(2026, 4, 26)


def test_data_deletion_date() -> None:
    assert data_deletion_date(date(2026, 5, 11)) == date(2026, 8, 9)
    assert data_deletion_date(date(2026, 12, 1)) == date(2027, 3, 1)


# -- operators ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "corporate", "assigned", "demo", "allowed", "code"),
    [
        (OperatorRole.ADMIN, True, False, False, True, "ok"),
        (OperatorRole.SUPPORT, False, False, False, True, "ok"),
        (OperatorRole.REPRESENTATIVE, True, True, False, True, "ok"),
        (OperatorRole.REPRESENTATIVE, True, False, False, False, "not_assigned_representative"),
        (OperatorRole.REPRESENTATIVE, False, True, True, False, "not_assigned_representative"),
        (OperatorRole.TRAINER, False, False, True, True, "ok"),
        (OperatorRole.TRAINER, True, True, False, False, "trainer_demo_only"),
        (OperatorRole.VIEWER, True, True, True, False, "read_only_role"),
    ],
)
def test_operator_may_modify(
    role: OperatorRole, corporate: bool, assigned: bool, demo: bool, allowed: bool, code: str
) -> None:
    decision = operator_may_modify(role, corporate, assigned, demo)
    assert (decision.allowed, decision.code) == (allowed, code)
