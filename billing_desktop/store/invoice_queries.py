"""Read queries of the Invoices view (all accounts), answered by SQL indexes (SPEC §4).

Plain SQL through :class:`~billing_desktop.store.database.Reader`, like
:mod:`billing_desktop.store.queries`: plain rows, no ORM, so the view paints
before SQLAlchemy is imported. Pages are read with keyset pagination — ``ORDER
BY <sort key…>, id LIMIT n`` continuing after the last row seen — so page *n*
costs what page 1 costs, at 1 000 000 invoices as at 100.

Sorts offered, each read in order from an index of the initial migration:

- ``NUMBER``: the unique index on ``invoices.number``. Numbers are taken from
  a gap-free yearly series when the invoice is issued, so this is also the
  order of issue;
- ``ACCOUNT`` / ``COMPANY``: the accounts' unique account number index or
  ``ix_accounts_search_name``, joined to ``ix_invoices_account_id_issue_date``
  (within an account, oldest invoice first);
- ``DUE_DATE``: ``ix_invoices_status_due_date``, one index range per status,
  merged by SQLite (``UNION ALL`` … ``ORDER BY`` is a merge of ordered arms);
- ``STATUS``: ``ix_invoices_status_due_date`` (open before paid before void,
  each by due date, so overdue invoices come first).

The issue date, the service period and the amounts have no index, so they
are not offered as sorts (a sort on them reads every invoice).

Filters: the status and "overdue" use ``ix_invoices_status_due_date``, the
account (ID or company name prefix) the accounts' indexes and
``ix_invoices_account_id_issue_date``. A filter may match a handful of
invoices or nearly all of them, and the two need opposite plans: a small set
is read through the filter's index and sorted, a big one by walking the sort
index and skipping what does not match. :func:`invoice_page_sql` counts the
filter's rows up to :data:`NARROW_LIMIT` (an index range read, capped) and
tells SQLite which plan to use (``+column`` keeps an index out of a plan).
The issue date range has no index of its own; with the number sort it is
narrowed to the numbers of the years it spans (the series of an invoice is
its issue year, see ``services.invoicing.next_invoice_number``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from operator import itemgetter
from typing import Any

from billing_desktop.store.database import Reader
from billing_desktop.store.search import fold, prefix_upper_bound

__all__ = [
    "INVOICE_STATUSES",
    "NARROW_LIMIT",
    "InvoiceFilter",
    "InvoiceListRow",
    "InvoiceSort",
    "invoice_count",
    "invoice_count_sql",
    "invoice_page",
    "invoice_page_sql",
    "invoice_rows",
]

#: The values of ``invoices.status`` (its CHECK constraint), in sort order.
INVOICE_STATUSES = ("open", "paid", "void")

#: A filter matching fewer invoices than this is read through its own index and
#: sorted; a bigger one walks the sort's index instead (see the module docstring).
NARROW_LIMIT = 10_000

#: The prefix of every invoice number: ``INV-<issue year>-<number in the year>``.
_NUMBER_PREFIX = "INV-"


class InvoiceSort(StrEnum):
    """Sortable columns of the invoices list (each read from an index)."""

    NUMBER = "number"
    ACCOUNT = "account"
    COMPANY = "company"
    DUE_DATE = "due_date"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    """What the invoices list shows."""

    #: issued on or after this day
    date_from: date | None = None
    #: issued on or before this day
    date_to: date | None = None
    #: one of :data:`INVOICE_STATUSES`, None for all
    status: str | None = None
    #: only open invoices past their due date
    overdue_only: bool = False
    #: the start of an account ID ("A-1000", or just the digits) or of a company name
    account: str = ""

    def is_default(self) -> bool:
        return self == InvoiceFilter()


# --------------------------------------------------------------------------- SQL pieces

_DUE = "i.total_minor - i.credit_applied_minor - i.paid_minor"

_ROW_COLUMNS = (
    "i.id, i.number, i.issue_date, i.account_id, a.account_number, a.company_name, "
    "i.period_start, i.period_end, i.currency, i.total_minor, "
    f"CASE WHEN i.status = 'open' AND {_DUE} > 0 THEN {_DUE} ELSE 0 END, "
    "i.due_date, i.status, "
    "CASE WHEN i.disputed_at IS NULL THEN 0 ELSE 1 END, "
    "CASE WHEN i.status = 'open' AND i.due_date < :today THEN 1 ELSE 0 END"
)
_ROW_WIDTH = 15

#: The columns of each sort's keyset cursor, most significant first; all end with the id.
_SORT_COLUMNS: dict[InvoiceSort, tuple[str, ...]] = {
    InvoiceSort.NUMBER: ("i.number", "i.id"),
    InvoiceSort.ACCOUNT: ("a.account_number", "i.issue_date", "i.id"),
    InvoiceSort.COMPANY: ("a.search_name", "a.id", "i.issue_date", "i.id"),
    InvoiceSort.DUE_DATE: ("i.due_date", "i.id"),
    InvoiceSort.STATUS: ("i.status", "i.due_date", "i.id"),
}

#: Sorts whose index starts at the accounts table: accounts drive the join.
_ACCOUNT_FIRST = frozenset({InvoiceSort.ACCOUNT, InvoiceSort.COMPANY})
#: Sorts read from ``ix_invoices_status_due_date``, which also answers the status filter.
_STATUS_INDEXED = frozenset({InvoiceSort.DUE_DATE, InvoiceSort.STATUS})


#: ISO text → date, for the few thousand days a database's invoices fall on.
_DAYS: dict[str, date] = {}


def _day(value: Any) -> Any:
    """A stored date as a ``date`` (SQLite hands back ISO text, other engines dates).

    A page's invoices share a handful of days: each is parsed once.
    """
    if value.__class__ is not str:
        return value
    day = _DAYS.get(value)
    if day is None:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        day = _DAYS[value] = date.fromisoformat(value[:10])
    return day


def _field(position: int, doc: str) -> Any:
    return property(itemgetter(position), doc=doc)


def _date_field(position: int, doc: str) -> Any:
    def read(row: tuple[Any, ...]) -> Any:
        value = row[position]
        return None if value is None else _day(value)

    return property(read, doc=doc)


class InvoiceListRow(tuple):
    """One row of the invoices list: the query's columns as the database returned
    them, read by name; the dates become ``date`` objects as they are read.

    Made by wrapping the database's tuple (``InvoiceListRow(values)``), not
    field by field: a page makes 200 rows and the first paint waits for them,
    while only the rows on screen are ever read field by field (and the list
    keeps their texts). Plain values only, read-only, compared as tuples.
    """

    __slots__ = ()

    id: int = _field(0, "the invoice's id")
    number: str = _field(1, "the invoice number, INV-<year>-<number>")
    issue_date: date = _date_field(2, "the day the invoice was issued")
    account_id: int = _field(3, "the account's id")
    account_number: str = _field(4, "the account ID (A-100001)")
    company_name: str = _field(5, "the account's company")
    period_start: date | None = _date_field(6, "the first day of service, if any")
    period_end: date | None = _date_field(7, "the day after the last day of service, if any")
    currency: str = _field(8, "the invoice's currency (ISO code)")
    total_minor: int = _field(9, "the total in minor units")
    due_minor: int = _field(10, "what is still to pay (0 unless the invoice is open)")
    due_date: date = _date_field(11, "the due date")
    status: str = _field(12, "open, paid or void")
    disputed: int = _field(13, "1 when the customer disputed the invoice, else 0")
    overdue: int = _field(14, "1 when open and past its due date, else 0")

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """The row's values of the list's sort key, ending with the id: the keyset
        cursor (empty for rows read by id)."""
        return self[_ROW_WIDTH:]

    def __repr__(self) -> str:
        return f"InvoiceListRow(id={self[0]!r}, number={self[1]!r}, status={self[12]!r})"


def _account_ids_sql(term: str, params: dict[str, Any]) -> str:
    """The ids of accounts whose account ID or folded company name starts with ``term``."""
    upper = term.upper()
    id_prefix = f"A-{term}" if term.isdigit() else upper
    folded = fold(term)
    params["acc_id_lo"], params["acc_id_hi"] = id_prefix, prefix_upper_bound(id_prefix)
    params["acc_name_lo"], params["acc_name_hi"] = folded, prefix_upper_bound(folded)
    return (
        "SELECT id FROM accounts WHERE account_number >= :acc_id_lo "
        "AND account_number < :acc_id_hi "
        "UNION SELECT id FROM accounts WHERE search_name >= :acc_name_lo "
        "AND search_name < :acc_name_hi"
    )


@dataclass(frozen=True, slots=True)
class _Where:
    """The filter as SQL terms and the parameters they use."""

    #: the statuses the filter allows, in sort order (empty: nothing matches)
    statuses: tuple[str, ...]
    overdue_only: bool
    #: the ids of the accounts the account filter names (a subquery), or None
    account_ids: str | None
    #: terms no index answers (the issue date range)
    date_terms: tuple[str, ...]
    params: dict[str, Any]

    def status_terms(self, plus: str = "") -> list[str]:
        """The status and overdue terms (``ix_invoices_status_due_date``)."""
        if not self.statuses:
            return ["0 = 1"]
        terms = []
        if len(self.statuses) == 1:
            terms.append(f"{plus}i.status = :status")
        if self.overdue_only:
            terms.append(f"{plus}i.due_date < :today")
        return terms

    def account_terms(self, plus: str = "", column: str = "i.account_id") -> list[str]:
        """The account term (``ix_invoices_account_id_issue_date`` on ``i.account_id``)."""
        return [] if self.account_ids is None else [f"{plus}{column} IN ({self.account_ids})"]


def _where(flt: InvoiceFilter, today: date) -> _Where:
    params: dict[str, Any] = {"today": today}
    statuses = INVOICE_STATUSES
    if flt.status is not None:
        statuses = tuple(s for s in INVOICE_STATUSES if s == flt.status)
    if flt.overdue_only:
        statuses = tuple(s for s in statuses if s == "open")
    if len(statuses) == 1:
        params["status"] = statuses[0]
    term = " ".join(flt.account.split())
    account_ids = _account_ids_sql(term, params) if term else None
    dates: list[str] = []
    if flt.date_from is not None:
        dates.append("i.issue_date >= :date_from")
        params["date_from"] = flt.date_from
    if flt.date_to is not None:
        dates.append("i.issue_date <= :date_to")
        params["date_to"] = flt.date_to
    return _Where(statuses, flt.overdue_only, account_ids, tuple(dates), params)


def _hints(reader: Reader) -> bool:
    """Whether the plan hints below apply: they are SQLite's (``+column``, ``CROSS JOIN``)."""
    database = getattr(reader, "_database", None)
    target = getattr(database, "target", None)
    return bool(getattr(target, "is_sqlite", True))


#: The indexes of the initial migration that the filters use.
STATUS_INDEX = "ix_invoices_status_due_date"
ACCOUNT_INDEX = "ix_invoices_account_id_issue_date"


def _narrow_index(reader: Reader, where: _Where, sort: InvoiceSort) -> str | None:
    """The index through which the filter leads to fewer than :data:`NARROW_LIMIT`
    invoices ("" when nothing can match), None when no filter is that narrow.

    Each candidate is counted up to the limit from its index (a capped range
    read, about a millisecond at 1 000 000 invoices). A status filter with the
    status or due-date sort is no candidate: one index serves both.
    """
    if not where.statuses:
        return ""  # nothing matches: no need to walk any index
    candidates: list[tuple[str, list[str]]] = []
    if sort not in _STATUS_INDEXED and (len(where.statuses) == 1 or where.overdue_only):
        candidates.append((STATUS_INDEX, where.status_terms()))
    if where.account_ids is not None:
        # The index goes on to the issue date: a date range narrows the same read.
        candidates.append((ACCOUNT_INDEX, where.account_terms() + list(where.date_terms)))
    for index, terms in candidates:
        sql = (
            "SELECT COUNT(*) FROM (SELECT 1 FROM invoices i WHERE "
            f"{' AND '.join(terms)} LIMIT {NARROW_LIMIT}) AS capped"
        )
        if int(reader.scalar(sql, where.params) or 0) < NARROW_LIMIT:
            return index
    return None


def _after_params(after: Sequence[Any], columns: Sequence[str]) -> dict[str, Any]:
    if len(after) != len(columns):
        raise ValueError(f"the cursor needs {len(columns)} values, got {len(after)}")
    return {f"after{n}": value for n, value in enumerate(after)}


def _keyset(columns: Sequence[str], descending: bool, first: int = 0, seek: bool = True) -> str:
    """``(c1, c2, …) > (:after0, :after1, …)`` from column ``first`` on, with a seek term.

    Row values spanning two tables give SQLite no range to seek: the first
    column alone does (and costs nothing where the row value already seeks).
    """
    op = "<" if descending else ">"
    names = [f":after{n}" for n in range(first, len(columns))]
    term = f"({', '.join(columns[first:])}) {op} ({', '.join(names)})"
    return f"{columns[first]} {op}= {names[0]} AND {term}" if seek else term


def _number_range(flt: InvoiceFilter, params: dict[str, Any]) -> list[str]:
    """The issue date range as a range of invoice numbers (their series is the issue year)."""
    terms = []
    if flt.date_from is not None:
        params["number_lo"] = f"{_NUMBER_PREFIX}{flt.date_from.year:04d}-"
        terms.append("i.number >= :number_lo")
    if flt.date_to is not None:
        params["number_hi"] = f"{_NUMBER_PREFIX}{flt.date_to.year + 1:04d}-"
        terms.append("i.number < :number_hi")
    return terms


def _order_by(columns: Sequence[str], descending: bool, plus: str = "") -> str:
    direction = " DESC" if descending else ""
    return ", ".join(f"{plus}{c}{direction}" for c in columns)


def invoice_page_sql(
    reader: Reader,
    flt: InvoiceFilter,
    sort: InvoiceSort,
    descending: bool,
    today: date,
    after: Sequence[Any] | None = None,
    limit: int = 200,
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one page of the invoices list.

    ``after`` is the previous page's last ``sort_key``. Takes the reader to
    choose the plan (see the module docstring): it may count a filter's
    invoices up to :data:`NARROW_LIMIT` first.
    """
    columns = _SORT_COLUMNS[sort]
    where = _where(flt, today)
    params = dict(where.params)
    params["limit"] = limit
    if after is not None:
        params.update(_after_params(after, columns))
    hints = _hints(reader)
    plus = "+" if hints else ""
    join = "CROSS JOIN" if hints else "JOIN"
    select = f"SELECT {_ROW_COLUMNS}, {', '.join(columns)} FROM "
    invoices_first = f"invoices i {join} accounts a ON a.id = i.account_id"

    narrow = _narrow_index(reader, where, sort)
    if narrow is not None:
        # Few invoices: read them through the filter's index and sort them, the
        # sort key only; then read the page's rows by id.
        terms = where.status_terms() + where.account_terms() + list(where.date_terms)
        if after is not None:
            terms.append(_keyset(columns, descending, seek=False))
        indexed = f" INDEXED BY {narrow}" if narrow and hints else ""
        source = f"invoices i{indexed}"
        if sort in _ACCOUNT_FIRST:
            source += f" {join} accounts a ON a.id = i.account_id"
        order = _order_by(columns, descending, plus)
        page = (
            f"SELECT i.id AS page_id FROM {source} WHERE {' AND '.join(terms)} "
            f"ORDER BY {order} LIMIT :limit"
        )
        sql = (
            f"{select}({page}) AS page {join} invoices i ON i.id = page.page_id "
            f"{join} accounts a ON a.id = i.account_id ORDER BY {order}"
        )
        return sql, params

    if sort in _STATUS_INDEXED:
        source = invoices_first
        if hints:
            source = (
                f"invoices i INDEXED BY {STATUS_INDEX} {join} accounts a ON a.id = i.account_id"
            )
        return _status_arms_sql(select + source, where, sort, descending, after, params, plus)

    if sort in _ACCOUNT_FIRST:
        # The accounts in the sort's order, each one's invoices from its index.
        source = f"accounts a {join} invoices i ON i.account_id = a.id"
        terms = where.account_terms(plus, column="a.id")
    else:  # the number
        source = invoices_first
        terms = where.account_terms(plus) + _number_range(flt, params)
    terms = where.status_terms(plus) + terms + list(where.date_terms)
    if after is not None:
        terms.append(_keyset(columns, descending))
    sql = (
        select
        + source
        + (" WHERE " + " AND ".join(terms) if terms else "")
        + f" ORDER BY {_order_by(columns, descending)} LIMIT :limit"
    )
    return sql, params


def _status_arms_sql(
    select: str,
    where: _Where,
    sort: InvoiceSort,
    descending: bool,
    after: Sequence[Any] | None,
    params: dict[str, Any],
    plus: str,
) -> tuple[str, dict[str, Any]]:
    """The status and due-date sorts: one arm per status, each read in due-date order
    from ``ix_invoices_status_due_date``; the compound's ORDER BY merges the arms
    (SQLite runs ``UNION ALL … ORDER BY`` as a merge, sorting nothing)."""
    columns = _SORT_COLUMNS[sort]
    statuses = list(where.statuses)
    if descending:
        statuses.reverse()
    arms = []
    for n, status in enumerate(statuses):
        terms = [f"i.status = :arm{n}"]
        params[f"arm{n}"] = status
        if where.overdue_only:
            terms.append("i.due_date < :today")
        terms += where.account_terms(plus) + list(where.date_terms)
        if after is not None:
            if sort == InvoiceSort.STATUS:
                passed = status < after[0] if not descending else status > after[0]
                if passed:
                    continue  # the cursor is past this status
                if status == after[0]:  # continue within the cursor's status
                    terms.append(_keyset(columns, descending, first=1, seek=False))
            else:
                terms.append(_keyset(columns, descending, seek=False))
        arms.append(f"{select} WHERE {' AND '.join(terms)}")
    if not arms:
        return f"{select} WHERE 0 = 1 LIMIT :limit", params
    positions = [str(_ROW_WIDTH + 1 + n) for n in range(len(columns))]
    sql = " UNION ALL ".join(arms) + f" ORDER BY {_order_by(positions, descending)} LIMIT :limit"
    return sql, params


def invoice_page(
    reader: Reader,
    flt: InvoiceFilter,
    sort: InvoiceSort,
    descending: bool,
    today: date,
    after: Sequence[Any] | None = None,
    limit: int = 200,
) -> list[InvoiceListRow]:
    """One page of the invoices list, continuing after the ``after`` cursor."""
    sql, params = invoice_page_sql(reader, flt, sort, descending, today, after, limit)
    return list(map(InvoiceListRow, reader.rows(sql, params)))


def invoice_count_sql(flt: InvoiceFilter, today: date) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters counting the invoices that match ``flt``."""
    where = _where(flt, today)
    terms = where.status_terms() + where.account_terms() + list(where.date_terms)
    sql = "SELECT COUNT(*) FROM invoices i" + (" WHERE " + " AND ".join(terms) if terms else "")
    return sql, dict(where.params)


def invoice_count(reader: Reader, flt: InvoiceFilter, today: date) -> int:
    """How many invoices match ``flt`` (shown next to the filters)."""
    sql, params = invoice_count_sql(flt, today)
    return int(reader.scalar(sql, params) or 0)


def invoice_rows(reader: Reader, ids: Sequence[int], today: date) -> list[InvoiceListRow | None]:
    """The rows of the invoices ``ids``, in that order (None for an invoice gone since).

    Read by primary key: what the list shows again for rows it had let go of.
    """
    if not ids:
        return []
    marks = ", ".join(f":id{n}" for n in range(len(ids)))
    params: dict[str, Any] = {f"id{n}": int(value) for n, value in enumerate(ids)}
    params["today"] = today
    sql = (
        f"SELECT {_ROW_COLUMNS} FROM invoices i JOIN accounts a ON a.id = i.account_id "
        f"WHERE i.id IN ({marks})"
    )
    found = {row[0]: row for row in map(InvoiceListRow, reader.rows(sql, params))}
    return [found.get(int(value)) for value in ids]
