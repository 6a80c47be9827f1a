"""Read queries for lists and search, answered by SQL indexes (SPEC §4).

The accounts list is read in pages with keyset pagination: a page is
``ORDER BY <sort key>, id LIMIT n`` continuing after the last row seen, so the
first page of a 100 000-account database costs the same as of a 10-account one,
and sorting and filtering happen in SQL, never over all rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session

from billing_desktop.store.models import Account, Operator
from billing_desktop.store.search import fold, like_escape


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


def _status_expr(today: date) -> ColumnElement[str]:
    return case(
        (
            and_(Account.oldest_due_date.is_not(None), Account.oldest_due_date < today),
            "overdue",
        ),
        else_=Account.status,
    )


def _sort_expr(sort: AccountSort, today: date) -> ColumnElement[Any]:
    return {
        AccountSort.ACCOUNT_ID: Account.account_number,
        AccountSort.COMPANY: Account.search_name,
        AccountSort.TYPE: Account.type,
        AccountSort.COUNTRY: Account.country,
        AccountSort.REPRESENTATIVE: func.coalesce(Operator.name, ""),
        AccountSort.ACTIVE_SUBSCRIPTIONS: Account.active_subscriptions,
        AccountSort.BALANCE: Account.outstanding_minor,
        AccountSort.STATUS: _status_expr(today),
    }[sort]


def _filtered(flt: AccountFilter, today: date) -> Select[Any]:
    stmt = select(
        Account.id,
        Account.account_number,
        Account.company_name,
        Account.type,
        Account.country,
        Operator.name,
        Account.active_subscriptions,
        Account.outstanding_minor,
        Account.currency,
        _status_expr(today),
    ).outerjoin(Operator, Operator.id == Account.representative_id)
    conditions: list[ColumnElement[bool]] = []
    term = flt.text.strip()
    if term:
        folded = like_escape(fold(term))
        conditions.append(
            or_(
                Account.account_number.like(like_escape(term.upper()) + "%", escape="\\"),
                Account.search_name.like("%" + folded + "%", escape="\\"),
            )
        )
    if flt.type:
        conditions.append(Account.type == flt.type)
    if flt.country:
        conditions.append(Account.country == flt.country)
    if flt.representative_id is not None:
        conditions.append(Account.representative_id == flt.representative_id)
    if flt.overdue_only:
        conditions.append(Account.oldest_due_date < today)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return stmt


def account_page(
    session: Session,
    flt: AccountFilter,
    sort: AccountSort,
    descending: bool,
    today: date,
    after: tuple[Any, int] | None = None,
    limit: int = 200,
) -> list[AccountRow]:
    """One page of the accounts list, continuing after the ``(sort value, id)`` cursor."""
    key = _sort_expr(sort, today)
    stmt = _filtered(flt, today)
    if after is not None:
        cursor = tuple_(key, Account.id)
        bound = tuple_(*after)
        stmt = stmt.where(cursor < bound if descending else cursor > bound)
    if descending:
        stmt = stmt.order_by(key.desc(), Account.id.desc())
    else:
        stmt = stmt.order_by(key.asc(), Account.id.asc())
    rows = session.execute(stmt.limit(limit)).all()
    return [AccountRow(*row) for row in rows]


def account_count(session: Session, flt: AccountFilter, today: date) -> int:
    """How many accounts match ``flt`` (shown next to the filter)."""
    sub = _filtered(flt, today).with_only_columns(Account.id).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def representatives(session: Session) -> Sequence[tuple[int, str]]:
    """Operators who can be assigned corporate accounts, for filter menus."""
    rows = session.execute(
        select(Operator.id, Operator.name)
        .where(Operator.role == "representative", Operator.active.is_(True))
        .order_by(Operator.name)
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def countries(session: Session) -> list[str]:
    """Countries that have accounts, for the country filter."""
    return [
        str(c)
        for c in session.scalars(select(Account.country).distinct().order_by(Account.country))
    ]
