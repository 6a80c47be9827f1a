"""The accounts list: a page of accounts, their count and the filters' choices.

Plain SQL through the store's reader (no ORM). Kept apart from
:mod:`billing_desktop.services.accounts` (the quick search, the account
page's overview and its edits; it re-exports everything here) so that the
main window's first paint imports only this much.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from billing_desktop.store import queries
from billing_desktop.store.queries import AccountFilter, AccountRow, AccountSort

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext

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
