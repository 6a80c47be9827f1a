"""Per-account figures kept on the account row so big lists sort and filter in SQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing_desktop.store.models import Account, Invoice, Subscription

LIVE_STATUSES = ("trial", "active", "cancellation_pending")


def refresh_account_totals(session: Session, account: Account) -> None:
    """Recompute outstanding balance, oldest due date and live subscriptions of ``account``."""
    due, oldest = session.execute(
        select(
            func.coalesce(
                func.sum(
                    Invoice.total_minor - Invoice.credit_applied_minor - Invoice.paid_minor
                ),
                0,
            ),
            func.min(Invoice.due_date),
        ).where(Invoice.account_id == account.id, Invoice.status == "open")
    ).one()
    live = session.scalar(
        select(func.count())
        .select_from(Subscription)
        .where(Subscription.account_id == account.id, Subscription.status.in_(LIVE_STATUSES))
    )
    account.outstanding_minor = int(due)
    account.oldest_due_date = oldest
    account.active_subscriptions = int(live or 0)
