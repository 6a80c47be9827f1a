"""The Emails view's reads: the outbox of every account, a page at a time (SPEC §4).

Thin use cases over :mod:`billing_desktop.store.outbox_queries` (plain SQL,
no ORM), so the list paints before SQLAlchemy is imported and stays as fast
at 100 000 emails as at 100. Changes go through :mod:`billing_desktop.services.smtp`
(``retry_now``, ``deliver_outbox``), which check the operator's role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.errors import NotFound
from billing_desktop.store import outbox_queries
from billing_desktop.store.outbox_queries import STATUSES, OutboxMessage, OutboxRow

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext

__all__ = [
    "STATUSES",
    "OutboxMessage",
    "OutboxRow",
    "count_due",
    "count_outbox",
    "outbox_message",
    "outbox_page",
    "outbox_status_counts",
    "smtp_configured",
]


def outbox_page(
    ctx: AppContext,
    statuses: Iterable[str] | None = None,
    *,
    after_id: int | None = None,
    limit: int = 200,
    counts: Mapping[str, int] | None = None,
) -> list[OutboxRow]:
    """Emails of every account, newest first, with one of ``statuses`` (None: all).

    Pass the last row's id as ``after_id`` for the next page, and the
    :func:`outbox_status_counts` of the first page as ``counts`` so a rare
    status is read from its index.
    """
    authorize(ctx, Action.VIEW)
    return outbox_queries.outbox_page(ctx.db.reader, statuses, after_id, limit, counts)


def outbox_status_counts(ctx: AppContext) -> dict[str, int]:
    """How many emails are queued, sent and failed."""
    authorize(ctx, Action.VIEW)
    return outbox_queries.outbox_counts(ctx.db.reader)


def count_outbox(ctx: AppContext, statuses: Iterable[str] | None = None) -> int:
    authorize(ctx, Action.VIEW)
    return outbox_queries.outbox_count(ctx.db.reader, statuses)


def outbox_message(ctx: AppContext, email_id: int) -> OutboxMessage:
    """One email with its rendered body; :class:`NotFound` if it was deleted meanwhile."""
    from billing_desktop.domain.text import QT_TRANSLATE_NOOP

    authorize(ctx, Action.VIEW)
    message = outbox_queries.outbox_message(ctx.db.reader, email_id)
    if message is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Email"), email_id)
    return message


def count_due(ctx: AppContext) -> int:
    """Emails the next delivery run would send (queued, or failed and due again)."""
    authorize(ctx, Action.VIEW)
    return outbox_queries.due_count(ctx.db.reader, ctx.clock.now())


def smtp_configured(ctx: AppContext) -> bool:
    """Whether a mail server is set up (without one, delivery leaves emails queued)."""
    from billing_desktop.services.smtp import load_smtp_settings

    return load_smtp_settings(ctx).configured
