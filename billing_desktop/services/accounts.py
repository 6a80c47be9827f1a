"""Account use cases: listing and counting for the accounts view."""

from __future__ import annotations

from typing import Any

from billing_desktop.services.context import AppContext
from billing_desktop.store import queries
from billing_desktop.store.queries import AccountFilter, AccountRow, AccountSort

__all__ = [
    "AccountFilter",
    "AccountRow",
    "AccountSort",
    "count_accounts",
    "filter_choices",
    "list_accounts",
]


def list_accounts(
    ctx: AppContext,
    flt: AccountFilter,
    sort: AccountSort = AccountSort.COMPANY,
    descending: bool = False,
    after: tuple[Any, int] | None = None,
    limit: int = 200,
) -> list[AccountRow]:
    """A page of accounts matching ``flt``; pass the last row's ``(sort_key, id)`` to continue."""
    return queries.account_page(
        ctx.db.reader, flt, sort, descending, ctx.clock.today(), after=after, limit=limit
    )


def count_accounts(ctx: AppContext, flt: AccountFilter) -> int:
    return queries.account_count(ctx.db.reader, flt, ctx.clock.today())


def filter_choices(ctx: AppContext) -> tuple[list[str], list[tuple[int, str]]]:
    """Countries and representatives offered by the list's filters."""
    return queries.countries(ctx.db.reader), list(queries.representatives(ctx.db.reader))
