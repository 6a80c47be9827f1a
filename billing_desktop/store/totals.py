"""Per-account figures kept on the account row so big lists sort and filter in SQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from billing_desktop.store.bulk import Prepared
from billing_desktop.store.models import Account, Invoice, Subscription

LIVE_STATUSES = ("trial", "active", "cancellation_pending")

_ACCOUNT = bindparam("account_id")

#: outstanding balance, oldest due date (open invoices) and live subscriptions, in one
#: statement (built once, compiled once)
TOTALS = select(
    select(
        func.coalesce(
            func.sum(Invoice.total_minor - Invoice.credit_applied_minor - Invoice.paid_minor), 0
        )
    )
    .where(Invoice.account_id == _ACCOUNT, Invoice.status == "open")
    .scalar_subquery(),
    select(func.min(Invoice.due_date))
    .where(Invoice.account_id == _ACCOUNT, Invoice.status == "open")
    .scalar_subquery(),
    select(func.count())
    .select_from(Subscription)
    .where(
        Subscription.account_id == _ACCOUNT,
        # not ``in_``: its list is expanded at every execution
        or_(*(Subscription.status == status for status in LIVE_STATUSES)),
    )
    .scalar_subquery(),
)


_TOTALS = Prepared(TOTALS)


def account_totals(conn: Connection, account_id: int) -> tuple[int, date | None, int]:
    """``(outstanding_minor, oldest_due_date, active_subscriptions)`` of an account as the
    invoices and subscriptions now stand (in ``conn``'s transaction)."""
    due, oldest, live = _TOTALS.first(conn, {"account_id": account_id})  # type: ignore[misc]
    return int(due), oldest, int(live or 0)


def refresh_account_totals(session: Session, account: Account) -> None:
    """Recompute outstanding balance, oldest due date and live subscriptions of ``account``."""
    session.flush()  # the invoices and subscriptions as the session has them
    account.outstanding_minor, account.oldest_due_date, account.active_subscriptions = (
        account_totals(session.connection(), account.id)
    )
