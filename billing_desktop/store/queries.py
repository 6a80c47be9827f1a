"""Read queries for the accounts list, answered by SQL indexes (SPEC §4); the quick
search is in :mod:`billing_desktop.store.search_queries`.

These are plain SQL run through :class:`~billing_desktop.store.database.Reader`
and return plain rows ("Core rows, not ORM objects, for grids"): the accounts
list of a 100 000-account database paints before SQLAlchemy is even imported.

The accounts list is read in pages with keyset pagination: a page is
``ORDER BY <sort key>, id LIMIT n`` continuing after the last row seen, so the
first page costs the same at any database size, and sorting and filtering
happen in SQL, never over all rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from billing_desktop.store.database import Reader
from billing_desktop.store.search import (
    fold,
    like_escape,
)


class AccountSort(StrEnum):
    """Sortable columns of the accounts list."""

    ACCOUNT_ID = "account_id"
    COMPANY = "company"
    TYPE = "type"
    COUNTRY = "country"
    REPRESENTATIVE = "representative"
    ACTIVE_SUBSCRIPTIONS = "active_subscriptions"
    BALANCE = "balance"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """What the accounts list shows: free text plus structured filters."""

    text: str = ""
    type: str | None = None  # "standard" | "corporate"
    country: str | None = None
    representative_id: int | None = None
    overdue_only: bool = False


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One row of the accounts list, plain values only."""

    id: int
    account_number: str
    company_name: str
    type: str
    country: str
    representative: str | None
    active_subscriptions: int
    outstanding_minor: int
    currency: str
    status: str  # active | expired | closed | overdue
    #: the value of the list's sort key for this row: the keyset cursor
    sort_key: Any = None

    def sort_value(self, sort: AccountSort) -> Any:
        """The value of this row's sort key, used as the keyset cursor."""
        return {
            AccountSort.ACCOUNT_ID: self.account_number,
            AccountSort.COMPANY: fold(self.company_name),
            AccountSort.TYPE: self.type,
            AccountSort.COUNTRY: self.country,
            AccountSort.REPRESENTATIVE: self.representative or "",
            AccountSort.ACTIVE_SUBSCRIPTIONS: self.active_subscriptions,
            AccountSort.BALANCE: self.outstanding_minor,
            AccountSort.STATUS: self.status,
        }[sort]


_STATUS_SQL = (
    "CASE WHEN a.oldest_due_date IS NOT NULL AND a.oldest_due_date < :today "
    "THEN 'overdue' ELSE a.status END"
)

_SORT_SQL = {
    AccountSort.ACCOUNT_ID: "a.account_number",
    AccountSort.COMPANY: "a.search_name",
    AccountSort.TYPE: "a.type",
    AccountSort.COUNTRY: "a.country",
    AccountSort.REPRESENTATIVE: "COALESCE(o.name, '')",
    AccountSort.ACTIVE_SUBSCRIPTIONS: "a.active_subscriptions",
    AccountSort.BALANCE: "a.outstanding_minor",
    AccountSort.STATUS: _STATUS_SQL,
}


def _where(flt: AccountFilter, today: date) -> tuple[list[str], dict[str, Any]]:
    conditions: list[str] = []
    params: dict[str, Any] = {"today": today}
    term = flt.text.strip()
    if term:
        conditions.append(
            "(a.account_number LIKE :id_prefix ESCAPE '\\' "
            "OR a.search_name LIKE :name_part ESCAPE '\\')"
        )
        params["id_prefix"] = like_escape(term.upper()) + "%"
        params["name_part"] = "%" + like_escape(fold(term)) + "%"
    if flt.type:
        conditions.append("a.type = :type")
        params["type"] = flt.type
    if flt.country:
        conditions.append("a.country = :country")
        params["country"] = flt.country
    if flt.representative_id is not None:
        conditions.append("a.representative_id = :rep")
        params["rep"] = flt.representative_id
    if flt.overdue_only:
        conditions.append("a.oldest_due_date < :today")
    return conditions, params


def account_page_sql(
    flt: AccountFilter,
    sort: AccountSort,
    descending: bool,
    today: date,
    after: tuple[Any, int] | None = None,
    limit: int = 200,
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one page of the accounts list."""
    key = _SORT_SQL[sort]
    conditions, params = _where(flt, today)
    if after is not None:
        conditions.append(f"({key}, a.id) {'<' if descending else '>'} (:after_key, :after_id)")
        params["after_key"], params["after_id"] = after
    direction = "DESC" if descending else "ASC"
    sql = (
        "SELECT a.id, a.account_number, a.company_name, a.type, a.country, o.name, "
        "a.active_subscriptions, a.outstanding_minor, a.currency, "
        f"{_STATUS_SQL}, {key} "
        "FROM accounts a LEFT JOIN operators o ON o.id = a.representative_id"
        + (" WHERE " + " AND ".join(conditions) if conditions else "")
        + f" ORDER BY {key} {direction}, a.id {direction} LIMIT :limit"
    )
    params["limit"] = limit
    return sql, params


def account_count_sql(flt: AccountFilter, today: date) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters counting the accounts that match ``flt``."""
    conditions, params = _where(flt, today)
    sql = "SELECT COUNT(*) FROM accounts a" + (
        " WHERE " + " AND ".join(conditions) if conditions else ""
    )
    return sql, params


def account_page(
    reader: Reader,
    flt: AccountFilter,
    sort: AccountSort,
    descending: bool,
    today: date,
    after: tuple[Any, int] | None = None,
    limit: int = 200,
) -> list[AccountRow]:
    """One page of the accounts list, continuing after the ``(sort key, id)`` cursor."""
    sql, params = account_page_sql(flt, sort, descending, today, after, limit)
    return [AccountRow(*row) for row in reader.rows(sql, params)]


def account_count(reader: Reader, flt: AccountFilter, today: date) -> int:
    """How many accounts match ``flt`` (shown next to the filter)."""
    sql, params = account_count_sql(flt, today)
    return int(reader.scalar(sql, params) or 0)


def representatives(reader: Reader) -> Sequence[tuple[int, str]]:
    """Operators who can be assigned corporate accounts, for filter menus."""
    rows = reader.rows(
        "SELECT id, name FROM operators WHERE role = 'representative' AND active ORDER BY name"
    )
    return [(int(r[0]), str(r[1])) for r in rows]


def countries(reader: Reader) -> list[str]:
    """Countries that have accounts, for the country filter (an index-only scan)."""
    return [str(r[0]) for r in reader.rows("SELECT DISTINCT country FROM accounts ORDER BY 1")]
