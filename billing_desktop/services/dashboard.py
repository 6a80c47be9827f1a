"""The dashboard's figures (SPEC §4 "Dashboard"; issue 4 item 7), all computed in SQL.

:func:`dashboard` answers everything the Dashboard view shows with a handful
of aggregate queries (SQLAlchemy Core, so month arithmetic is portable:
``EXTRACT`` compiles to ``strftime`` on SQLite):

- **Recurring revenue per month**, per currency: the 12 calendar months up to
  and including the current one, then the 3 months after it.

  *Invoiced* is the subtotal (excluding VAT) of the non-void ``order`` and
  ``renewal`` invoices issued in the month — what subscriptions actually
  billed; manual and early-termination invoices are not recurring revenue.
  *Projected* is what the renewals still to come will bill: every renewal
  the engine will run (an active subscription with auto-renew or a fixed
  term; a pending cancellation for the periods that start before its
  effective end) at its next billing date and, for monthly billing, every
  month after that, priced like :func:`~billing_desktop.services.billing_lines.period_bill`
  prices a period (plan price × licences plus the active add-ons, in the
  account's currency, excluding VAT). A renewal due today or earlier in the
  current month but not yet run counts in the current month. The projection
  assumes the renewal run is up to date; a pending cancellation's last,
  shortened period is counted whole (the engine bills it pro rata).

  Currencies are never converted: each currency has its own series, and
  :attr:`Dashboard.currencies` lists them most common first (by accounts),
  which is what the view selects by default.

- **Licences bought vs assigned** per product, over paid live subscriptions
  (``active`` and ``cancellation_pending``; trials are not bought), in
  catalog order, every product of the catalog included.

- **Pending cancellations** (subscriptions in ``cancellation_pending``, by
  effective date) and **renewals in the next 30 days** (next billing dates up
  to today + 30, due ones not yet run included), each with a count of all of
  them and the first ``list_limit`` rows, with the amount one period bills.

Money is integer minor units of the row's currency throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.context import AppContext

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "LIST_LIMIT",
    "MONTHS_AHEAD",
    "MONTHS_BACK",
    "RENEWAL_DAYS",
    "Dashboard",
    "DashboardItem",
    "MonthRevenue",
    "ProductLicences",
    "dashboard",
    "month_starts",
]

#: Months of invoiced revenue shown, the current month included.
MONTHS_BACK = 12
#: Months of projected renewals shown after the current month.
MONTHS_AHEAD = 3
#: How far ahead the renewals list looks, in days.
RENEWAL_DAYS = 30
#: Rows of each list returned (the counts cover all of them).
LIST_LIMIT = 100

#: Invoice kinds that are recurring revenue (not ``manual``, not ``termination``).
RECURRING_KINDS = ("order", "renewal")


@dataclass(frozen=True, slots=True)
class MonthRevenue:
    """One month of one currency's recurring revenue, excluding VAT."""

    #: the first day of the month
    month: date
    #: subtotals of the recurring invoices issued in the month
    invoiced_minor: int
    #: what the renewals still to come in the month will bill
    projected_minor: int

    @property
    def total_minor(self) -> int:
        return self.invoiced_minor + self.projected_minor


@dataclass(frozen=True, slots=True)
class ProductLicences:
    """Licences of one product over all paid live subscriptions."""

    product_code: str
    product_name: str
    bought: int
    assigned: int


@dataclass(frozen=True, slots=True)
class DashboardItem:
    """One row of the dashboard's lists: a subscription and its date and amount."""

    account_id: int
    account_number: str
    company_name: str
    subscription_id: int
    product_name: str
    #: effective end (pending cancellations) or next billing date (renewals)
    date: date
    #: what one billing period of the subscription bills, excluding VAT
    amount_minor: int
    currency: str
    frequency: str  # monthly | annual


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the Dashboard view shows, as read on ``today``."""

    today: date
    #: currencies that have accounts, the most common first
    currencies: tuple[str, ...]
    #: per currency: ``MONTHS_BACK`` months up to the current one, then ``MONTHS_AHEAD``
    revenue: dict[str, tuple[MonthRevenue, ...]]
    licences: tuple[ProductLicences, ...]
    pending_cancellations: tuple[DashboardItem, ...]
    pending_cancellation_count: int
    renewals: tuple[DashboardItem, ...]
    renewal_count: int
    #: the last day the renewals list covers (today + ``RENEWAL_DAYS``)
    renewals_until: date

    @property
    def default_currency(self) -> str | None:
        return self.currencies[0] if self.currencies else None

    @property
    def current_month(self) -> date:
        return self.today.replace(day=1)


def month_starts(today: date, back: int = MONTHS_BACK, ahead: int = MONTHS_AHEAD) -> list[date]:
    """First days of the ``back`` months up to ``today``'s month, then ``ahead`` more."""
    current = today.year * 12 + today.month - 1
    return [_month_of_index(i) for i in range(current - back + 1, current + ahead + 1)]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_of_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


# --------------------------------------------------------------------------- the queries


def dashboard(
    ctx: AppContext,
    *,
    months_back: int = MONTHS_BACK,
    months_ahead: int = MONTHS_AHEAD,
    renewal_days: int = RENEWAL_DAYS,
    list_limit: int = LIST_LIMIT,
) -> Dashboard:
    """The dashboard's figures on the clock's today (any role may look)."""
    authorize(ctx, Action.VIEW)
    today = ctx.clock.today()
    until = today + timedelta(days=renewal_days)
    from billing_desktop.services.base import reading

    with reading(ctx) as session:
        conn = session.connection()
        currencies = _currencies(conn)
        revenue = _revenue(conn, today, months_back, months_ahead, currencies)
        licences = _licences(conn)
        cancellations, cancellation_count = _pending_cancellations(conn, list_limit)
        renewals, renewal_count = _renewals(conn, until, list_limit)
    return Dashboard(
        today=today,
        currencies=currencies,
        revenue=revenue,
        licences=licences,
        pending_cancellations=cancellations,
        pending_cancellation_count=cancellation_count,
        renewals=renewals,
        renewal_count=renewal_count,
        renewals_until=until,
    )


def _currencies(conn: Connection) -> tuple[str, ...]:
    from sqlalchemy import func, select

    from billing_desktop.store.models import Account

    n = func.count()
    stmt = (
        select(Account.currency, n).group_by(Account.currency).order_by(n.desc(), Account.currency)
    )
    return tuple(str(row[0]) for row in conn.execute(stmt))


def _month_expr(column: Any) -> Any:
    """``year * 12 + month - 1`` of a date column: whole months since year 0."""
    from sqlalchemy import extract

    return extract("year", column) * 12 + extract("month", column) - 1


def _period_amount(sub: Any, account: Any) -> tuple[Any, Any]:
    """The SQL amount of one billing period of ``sub`` and the plan-price table it needs.

    Plan unit price × licences plus each active add-on's unit price (× licences
    for a per-licence add-on), in the account's currency and the subscription's
    frequency — the lines of ``billing_lines.period_bill`` before VAT.
    """
    from sqlalchemy import and_, case, func, select
    from sqlalchemy.orm import aliased

    from billing_desktop.store.models import Addon, AddonPrice, PlanPrice, SubscriptionAddon

    plan_price = aliased(PlanPrice)
    addon_sum = (
        select(
            func.coalesce(
                func.sum(
                    AddonPrice.unit_price_minor
                    * case((Addon.per_licence.is_(True), sub.licence_count), else_=1)
                ),
                0,
            )
        )
        .select_from(SubscriptionAddon)
        .join(Addon, Addon.id == SubscriptionAddon.addon_id)
        .join(
            AddonPrice,
            and_(
                AddonPrice.addon_id == Addon.id,
                AddonPrice.currency == account.currency,
                AddonPrice.frequency == sub.frequency,
            ),
        )
        .where(SubscriptionAddon.subscription_id == sub.id, SubscriptionAddon.active.is_(True))
        .scalar_subquery()
    )
    amount = plan_price.unit_price_minor * sub.licence_count + addon_sum
    join = and_(
        plan_price.plan_id == sub.plan_id,
        plan_price.currency == account.currency,
        plan_price.frequency == sub.frequency,
    )
    return amount, (plan_price, join)


def _renewing(sub: Any) -> Any:
    """Subscriptions the engine will bill again at ``period_end`` (see ``renewal._find_events``)."""
    from sqlalchemy import and_, func, or_

    return and_(
        sub.period_end.is_not(None),
        or_(
            and_(
                sub.status == "active",
                or_(sub.auto_renew.is_(True), sub.contract == "fixed_term"),
            ),
            and_(
                sub.status == "cancellation_pending",
                sub.period_end < func.coalesce(sub.cancellation_effective, sub.period_end),
            ),
        ),
    )


def _revenue(
    conn: Connection, today: date, back: int, ahead: int, currencies: Sequence[str]
) -> dict[str, tuple[MonthRevenue, ...]]:
    from sqlalchemy import case, func, literal, or_, select, true, union_all

    from billing_desktop.store.models import Account, Invoice, Subscription

    months = month_starts(today, back, ahead)
    current = _month_index(today)
    first_index, last_index = current - back + 1, current + ahead
    invoiced: dict[tuple[str, int], int] = {}
    projected: dict[tuple[str, int], int] = {}

    # invoiced: one grouped scan of the months' recurring invoices
    month = _month_expr(Invoice.issue_date)
    stmt = (
        select(Invoice.currency, month, func.sum(Invoice.subtotal_minor))
        .where(
            Invoice.issue_date >= months[0],
            Invoice.issue_date < _month_of_index(current + 1),
            Invoice.status != "void",
            Invoice.kind.in_(RECURRING_KINDS),
        )
        .group_by(Invoice.currency, month)
    )
    for currency, index, total in conn.execute(stmt):
        invoiced[(str(currency), int(index))] = int(total or 0)

    # projected: each renewing subscription's billing dates in the window
    sub, account = Subscription, Account
    amount, (plan_price, price_join) = _period_amount(sub, account)
    ending = sub.status == "cancellation_pending"
    first_month = _month_expr(sub.period_end)
    step = case((sub.frequency == "annual", 12), else_=1)
    # only a pending cancellation has an end month (0: none), so the groups stay few
    end_month = case(
        (ending, _month_expr(func.coalesce(sub.cancellation_effective, sub.period_end))),
        else_=0,
    )
    # one row per (currency, first billing month, months between billings, end month):
    # the sum of what those subscriptions bill each time, a few dozen rows at most
    per_sub = (
        select(
            account.currency.label("currency"),
            first_month.label("first_month"),
            step.label("step"),
            end_month.label("end_month"),
            func.sum(amount).label("amount"),
        )
        .select_from(sub)
        .join(account, account.id == sub.account_id)
        .join(plan_price, price_join)
        .where(
            sub.status.in_(("active", "cancellation_pending")),
            sub.period_end >= _month_of_index(current),
            sub.period_end < _month_of_index(last_index + 1),
            _renewing(sub),
        )
        .group_by(account.currency, first_month, step, end_month)
        .subquery("per_sub")
    )
    steps = union_all(*(select(literal(k).label("k")) for k in range(ahead + 1))).subquery("steps")
    bill_month = per_sub.c.first_month + steps.c.k * per_sub.c.step
    stmt = (
        select(per_sub.c.currency, bill_month, func.sum(per_sub.c.amount))
        .select_from(per_sub.join(steps, true()))
        .where(
            bill_month <= last_index,
            # a pending cancellation bills only the periods starting before its end
            or_(per_sub.c.end_month == 0, steps.c.k == 0, bill_month < per_sub.c.end_month),
        )
        .group_by(per_sub.c.currency, bill_month)
    )
    for currency, index, total in conn.execute(stmt):
        projected[(str(currency), int(index))] = int(total or 0)

    result: dict[str, tuple[MonthRevenue, ...]] = {}
    found = {key[0] for key in (*invoiced, *projected)}
    for currency in (*currencies, *sorted(found - set(currencies))):
        result[currency] = tuple(
            MonthRevenue(
                month=_month_of_index(index),
                invoiced_minor=invoiced.get((currency, index), 0),
                projected_minor=projected.get((currency, index), 0) if index >= current else 0,
            )
            for index in range(first_index, last_index + 1)
        )
    return result


def _licences(conn: Connection) -> tuple[ProductLicences, ...]:
    from sqlalchemy import func, select

    from billing_desktop.store.models import LicenceAssignment, Product, Subscription

    paid = Subscription.status.in_(("active", "cancellation_pending"))
    bought = (
        select(Subscription.product_id, func.sum(Subscription.licence_count).label("n"))
        .where(paid)
        .group_by(Subscription.product_id)
        .subquery("bought")
    )
    assigned = (
        select(Subscription.product_id, func.count(LicenceAssignment.id).label("n"))
        .join(Subscription, Subscription.id == LicenceAssignment.subscription_id)
        .where(paid)
        .group_by(Subscription.product_id)
        .subquery("assigned")
    )
    stmt = (
        select(
            Product.code,
            Product.name,
            func.coalesce(bought.c.n, 0),
            func.coalesce(assigned.c.n, 0),
        )
        .outerjoin(bought, bought.c.product_id == Product.id)
        .outerjoin(assigned, assigned.c.product_id == Product.id)
        .order_by(Product.sort_order, Product.name)
    )
    return tuple(
        ProductLicences(str(code), str(name), int(n_bought), int(n_assigned))
        for code, name, n_bought, n_assigned in conn.execute(stmt)
    )


def _items(
    conn: Connection, where: Any, when: Any, limit: int
) -> tuple[tuple[DashboardItem, ...], int]:
    """The first ``limit`` subscriptions matching ``where`` by ``when``, and how many match."""
    from sqlalchemy import func, select

    from billing_desktop.store.models import Account, Product, Subscription

    sub, account = Subscription, Account
    # the first rows by date from the index alone, then their details (not the
    # details of every match, sorted)
    first = (
        select(sub.id.label("id"), when.label("day"))
        .where(where)
        .order_by(when, sub.account_id, sub.id)
        .limit(limit)
        .subquery("first")
    )
    amount, (plan_price, price_join) = _period_amount(sub, account)
    stmt = (
        select(
            account.id,
            account.account_number,
            account.company_name,
            sub.id,
            Product.name,
            first.c.day,
            amount,
            account.currency,
            sub.frequency,
        )
        .select_from(first)
        .join(sub, sub.id == first.c.id)
        .join(account, account.id == sub.account_id)
        .join(Product, Product.id == sub.product_id)
        .outerjoin(plan_price, price_join)
        .order_by(first.c.day, account.account_number, sub.id)
    )
    items = tuple(
        DashboardItem(
            account_id=int(aid),
            account_number=str(number),
            company_name=str(company),
            subscription_id=int(sid),
            product_name=str(product),
            date=_as_date(day),
            amount_minor=int(value or 0),
            currency=str(currency),
            frequency=str(frequency),
        )
        for aid, number, company, sid, product, day, value, currency, frequency in conn.execute(
            stmt
        )
    )
    count = conn.execute(select(func.count()).select_from(sub).where(where)).scalar_one()
    return items, int(count)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _pending_cancellations(conn: Connection, limit: int) -> tuple[tuple[DashboardItem, ...], int]:
    from sqlalchemy import func

    from billing_desktop.store.models import Subscription as S

    effective = func.coalesce(S.cancellation_effective, S.period_end)
    return _items(conn, S.status == "cancellation_pending", effective, limit)


def _renewals(conn: Connection, until: date, limit: int) -> tuple[tuple[DashboardItem, ...], int]:
    from sqlalchemy import and_

    from billing_desktop.store.models import Subscription as S

    live = S.status.in_(("active", "cancellation_pending"))  # the (status, period_end) index
    return _items(conn, and_(live, S.period_end <= until, _renewing(S)), S.period_end, limit)
