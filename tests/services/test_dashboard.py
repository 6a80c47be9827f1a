"""The dashboard's figures on the curated demo data, to the cent, against hand-computed values.

Prices (EUR, per licence per period) are the catalog's; a period's amount is
plan price × licences plus the active add-ons, excluding VAT. The curated
accounts are loaded for 2026-04-26 (``demo_ctx``).
"""

from __future__ import annotations

from datetime import date

import pytest

from billing_desktop.services.dashboard import dashboard, month_starts

# What one period of each live monthly EUR subscription bills (account: product plan,
# licences × unit price + add-ons):
MONTHLY_EUR = {
    "A-100002 v5": 10 * 3900 + 10 * 900,  # standard + mobile device support = 48 000
    "A-100004 v5": 4 * 3900,  # 15 600
    "A-100004 meeting": 8 * 1600,  # 12 800
    "A-100005 resolve": 8 * 5800 + 8 * 600,  # premium + patch management = 51 200
    "A-100006 connect": 25 * 3300 + 1200,  # business + call recording storage = 83 700
    "A-100007 v4": 3 * 2900,  # 8 700
    "A-100008 v4": 12 * 6900 + 12 * 800,  # enterprise + mobile device support = 92 400
    "A-100009 meeting": 6 * 1600,  # 9 600
    "A-100010 webinar": 2 * 8900 + 1500,  # standard + recording storage = 19 300
    "A-100011 v5": 3 * 2500,  # 7 500
    "A-100011 meeting": 4 * 1200,  # 4 800, cancellation pending, ends 2026-05-07
    "A-100014 meeting": 5 * 1200,  # 6 000
    "A-100014 v5": 2 * 2500,  # 5 000
    "A-100016 webinar": 3 * 17900,  # 53 700
    "A-100017 resolve": 3 * 4200,  # 12 600
    "A-100018 v4": 2 * 2900,  # 5 800
}
#: A-100019's annual GoTo Meeting business, 10 licences, renewing on 2026-05-16
A_100019_ANNUAL = 10 * 17300  # 173 000


@pytest.fixture
def board(demo_ctx):
    return dashboard(demo_ctx)


def by_month(board, currency: str) -> dict[date, tuple[int, int]]:
    return {m.month: (m.invoiced_minor, m.projected_minor) for m in board.revenue[currency]}


def test_months_are_twelve_back_and_three_ahead() -> None:
    months = month_starts(date(2026, 4, 26))
    assert months[0] == date(2025, 5, 1)
    assert months[11] == date(2026, 4, 1)
    assert months[-1] == date(2026, 7, 1)
    assert len(months) == 15
    assert month_starts(date(2026, 1, 31), 2, 1) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_currencies_most_common_first(board) -> None:
    # 17 EUR accounts; one GBP (A-100012), one USD (A-100013): ties by code
    assert board.currencies == ("EUR", "GBP", "USD")
    assert board.default_currency == "EUR"
    assert set(board.revenue) == {"EUR", "GBP", "USD"}


def test_eur_revenue_invoiced_and_projected(board) -> None:
    m = MONTHLY_EUR
    monthly_all = sum(m.values())  # 436 700
    assert monthly_all == 436_700
    april_invoiced = monthly_all - m["A-100008 v4"]  # A-100008's period started 2026-03-30
    # every monthly subscription but A-100011's cancelled meeting renews in each coming
    # month; A-100008's renewal is on 2026-04-30, still in April
    renewing = monthly_all - m["A-100011 meeting"]  # 431 900

    eur_months = by_month(board, "EUR")
    assert list(eur_months) == month_starts(date(2026, 4, 26))
    assert eur_months[date(2026, 4, 1)] == (april_invoiced, m["A-100008 v4"])
    assert eur_months[date(2026, 4, 1)] == (344_300, 92_400)
    assert eur_months[date(2026, 5, 1)] == (0, renewing + A_100019_ANNUAL)
    assert eur_months[date(2026, 5, 1)] == (0, 604_900)
    assert eur_months[date(2026, 6, 1)] == (0, 431_900)
    assert eur_months[date(2026, 7, 1)] == (0, 431_900)
    # March: every monthly subscription was billed (A-100008 on 2026-03-30); the
    # manual invoice of A-100009 (186.40, open) is not recurring revenue
    assert eur_months[date(2026, 3, 1)] == (monthly_all, 0)
    # December 2025: A-100015's two annual fixed terms renewed on 2025-12-12
    #   v5 premium 60 × 637.00 + mobile device support 60 × 97.00 = 44 040.00
    #   meeting enterprise 150 × 259.00 + conference room connector 205.00 = 39 055.00
    # plus the monthly ones billed then (see the invoices of the curated history)
    annual_december = 60 * 63700 + 60 * 9700 + 150 * 25900 + 20500
    assert annual_december == 8_309_500
    assert eur_months[date(2025, 12, 1)][0] == annual_december + 389_900
    # October 2025: A-100001 (v4 premium 3 × 486.00 + camera share 3 × 43.00) and
    # A-100016 (meeting enterprise 80 × 259.00) renewed their annual plans
    assert eur_months[date(2025, 10, 1)][0] == 3 * 48600 + 3 * 4300 + 80 * 25900 + 355_000
    # past months have no projection, future months no invoices
    assert all(p == 0 for day, (_i, p) in eur_months.items() if day < date(2026, 4, 1))
    assert all(i == 0 for day, (i, _p) in eur_months.items() if day > date(2026, 4, 1))
    assert [i for _d, (i, _p) in eur_months.items()][:11] == [
        320_700, 240_100, 240_100, 341_800, 345_400, 2_585_700,
        376_400, 8_699_400, 656_900, 421_000, 436_700,
    ]  # fmt: skip


def test_other_currencies_are_not_converted(board) -> None:
    # A-100012 (GBP): v5 standard 5 × 34.00 + camera share 5 × 4.00 = 190.00 a month,
    # last billed 2026-03-31, renewing on the 30th of each month
    gbp = by_month(board, "GBP")
    assert gbp[date(2026, 3, 1)] == (19_000, 0)
    assert gbp[date(2026, 4, 1)] == (0, 19_000)
    assert [p for _i, p in list(gbp.values())[-4:]] == [19_000] * 4
    # A-100013 (USD): v4 premium 4 × 540.00 + mobile device support 4 × 97.00, annual,
    # renewed 2026-04-05; the next renewal is in 2027
    usd = by_month(board, "USD")
    assert usd[date(2026, 4, 1)] == (4 * 54000 + 4 * 9700, 0)
    assert sum(i + p for i, p in usd.values()) == 254_800


def test_licences_bought_and_assigned_per_product(board) -> None:
    # bought: the licence counts of the curated active and pending subscriptions;
    # assigned: their "assigned" contacts (trials and ended ones left out)
    figures = {p.product_code: (p.bought, p.assigned) for p in board.licences}
    assert figures == {
        "gotoassist_rs_v4": (3 + 3 + 12 + 4 + 2, 16),
        "gotoassist_rs_v5": (10 + 4 + 3 + 5 + 2 + 60, 21),
        "logmein_resolve": (8 + 3, 8),
        "goto_connect": (25, 4),
        "goto_meeting": (8 + 6 + 15 + 4 + 5 + 150 + 80 + 10, 29),
        "goto_webinar": (2 + 3, 4),
    }
    assert [p.product_name for p in board.licences][:2] == [
        "GoToAssist Remote Support v4",
        "GoToAssist Remote Support v5",
    ]


def test_pending_cancellations(board) -> None:
    assert board.pending_cancellation_count == 1
    (item,) = board.pending_cancellations
    assert (item.account_number, item.product_name, item.date) == (
        "A-100011",
        "GoTo Meeting",
        date(2026, 5, 7),
    )
    assert (item.amount_minor, item.currency, item.frequency) == (4800, "EUR", "monthly")


def test_renewals_in_the_next_30_days(board) -> None:
    # every live renewing subscription with a billing date up to 2026-05-26: the 15
    # monthly EUR ones, A-100012 (GBP) and A-100019's annual plan; not the trial
    # (A-100003) nor the pending cancellation
    assert board.renewals_until == date(2026, 5, 26)
    assert board.renewal_count == 17
    rows = [(r.account_number, r.date, r.amount_minor, r.currency) for r in board.renewals]
    assert rows[:3] == [
        ("A-100008", date(2026, 4, 30), MONTHLY_EUR["A-100008 v4"], "EUR"),
        ("A-100012", date(2026, 4, 30), 19_000, "GBP"),
        ("A-100018", date(2026, 5, 7), MONTHLY_EUR["A-100018 v4"], "EUR"),
    ]
    assert ("A-100019", date(2026, 5, 16), A_100019_ANNUAL, "EUR") in rows
    assert rows[-1] == ("A-100004", date(2026, 5, 22), MONTHLY_EUR["A-100004 meeting"], "EUR")
    assert "A-100003" not in {r[0] for r in rows}
    assert [r.date for r in board.renewals] == sorted(r.date for r in board.renewals)
    eur_total = sum(r.amount_minor for r in board.renewals if r.currency == "EUR")
    assert eur_total == sum(MONTHLY_EUR.values()) - MONTHLY_EUR["A-100011 meeting"] + (
        A_100019_ANNUAL
    )


def test_lists_are_limited_but_counted(demo_ctx) -> None:
    board = dashboard(demo_ctx, list_limit=5)
    assert len(board.renewals) == 5
    assert board.renewal_count == 17


def test_a_pending_cancellation_bills_until_its_effective_end(demo_ctx) -> None:
    """A fixed term cancelled to end on 2026-06-21 still renews on 2026-05-21, not after."""
    from sqlalchemy import select

    from billing_desktop.store.models import Account, Product, Subscription

    with demo_ctx.db.transaction() as session:
        sub = session.scalar(
            select(Subscription)
            .join(Account, Account.id == Subscription.account_id)
            .join(Product, Product.id == Subscription.product_id)
            .where(Account.account_number == "A-100005", Product.code == "logmein_resolve")
        )
        assert sub.period_end == date(2026, 5, 21)
        sub.status = "cancellation_pending"
        sub.auto_renew = False
        sub.cancellation_effective = date(2026, 6, 21)

    board = dashboard(demo_ctx)
    eur_months = by_month(board, "EUR")
    resolve = MONTHLY_EUR["A-100005 resolve"]
    assert eur_months[date(2026, 5, 1)] == (0, 604_900)  # the 2026-05-21 period starts
    assert eur_months[date(2026, 6, 1)] == (0, 431_900 - resolve)
    assert eur_months[date(2026, 7, 1)] == (0, 431_900 - resolve)
    assert board.pending_cancellation_count == 2
    assert [c.account_number for c in board.pending_cancellations] == ["A-100011", "A-100005"]
    assert board.pending_cancellations[1].date == date(2026, 6, 21)
    assert "A-100005" in {r.account_number for r in board.renewals}


def test_void_invoices_are_not_revenue(demo_ctx) -> None:
    from sqlalchemy import select

    from billing_desktop.store.models import Invoice

    with demo_ctx.db.transaction() as session:
        invoice = session.scalar(
            select(Invoice).where(Invoice.status == "open", Invoice.kind == "renewal")
        )
        assert invoice.issue_date.month == 4 and invoice.subtotal_minor == 51_200
        invoice.status = "void"
    assert by_month(dashboard(demo_ctx), "EUR")[date(2026, 4, 1)][0] == 344_300 - 51_200


def test_any_role_may_look(as_role) -> None:
    assert dashboard(as_role("viewer")).renewal_count == 17


def test_an_empty_database(ctx) -> None:
    board = dashboard(ctx)
    assert board.currencies == ()
    assert board.default_currency is None
    assert board.revenue == {}
    assert board.pending_cancellation_count == board.renewal_count == 0
    assert all(p.bought == p.assigned == 0 for p in board.licences)
