"""Invoices list queries: keyset paging visits every invoice once, in SQL order; filters."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from helpers import query_plan

from billing_desktop.store import invoice_queries
from billing_desktop.store.invoice_queries import InvoiceFilter, InvoiceSort
from billing_desktop.store.search import fold

TODAY = date(2026, 4, 26)
COMPANIES = ["Rossi S.r.l.", "Rossetti GmbH", "Müller AG", "Jansen B.V.", "Città Nuova"]


@dataclass(frozen=True)
class Made:
    """What the fixture wrote, to compute the expected answers in Python."""

    id: int
    number: str
    issue_date: date
    due_date: date
    status: str
    disputed: bool
    account_id: int
    account_number: str
    search_name: str


@pytest.fixture
def invoices(db, make_account) -> list[Made]:
    """130 invoices of 12 accounts (names shared, so company ties), numbered in issue
    order per yearly series; many ties on the due date and the status."""
    from billing_desktop.store.models import Invoice

    rng = random.Random(7)
    accounts = []
    for n in range(12):
        company = f"{COMPANIES[n % len(COMPANIES)]}"
        accounts.append((make_account(company), f"A-{900001 + n}", fold(company)))
    days = sorted(date(2024, 11, 1) + timedelta(days=rng.randrange(560)) for _ in range(130))
    made: list[Made] = []
    series: dict[int, int] = {}
    with db.transaction() as session:
        for day in days:
            series[day.year] = series.get(day.year, 0) + 1
            account_id, account_number, search_name = rng.choice(accounts)
            status = rng.choice(["open", "paid", "paid", "void"])
            due = day + timedelta(days=rng.choice([14, 30]))
            due = due.replace(day=1) if rng.random() < 0.5 else due  # ties
            disputed = rng.random() < 0.1
            invoice = Invoice(
                number=f"INV-{day.year}-{series[day.year]:06d}",
                account_id=account_id,
                kind="order",
                issue_date=day,
                due_date=due,
                period_start=day,
                period_end=day + timedelta(days=30),
                currency="EUR",
                subtotal_minor=1000,
                vat_rate_bp=2200,
                vat_minor=220,
                reverse_charge=False,
                credit_applied_minor=0,
                total_minor=1220,
                paid_minor=1220 if status == "paid" else 0,
                status=status,
                language="it",
                disputed_at=datetime(2026, 1, 1) if disputed else None,
            )
            session.add(invoice)
            session.flush()
            made.append(
                Made(
                    invoice.id,
                    invoice.number,
                    day,
                    due,
                    status,
                    disputed,
                    account_id,
                    account_number,
                    search_name,
                )
            )
    return made


def _key(m: Made, sort: InvoiceSort) -> tuple:
    return {
        InvoiceSort.NUMBER: (m.number, m.id),
        InvoiceSort.ACCOUNT: (m.account_number, m.issue_date, m.id),
        InvoiceSort.COMPANY: (m.search_name, m.account_id, m.issue_date, m.id),
        InvoiceSort.DUE_DATE: (m.due_date, m.id),
        InvoiceSort.STATUS: (m.status, m.due_date, m.id),
    }[sort]


def _matches(m: Made, flt: InvoiceFilter) -> bool:
    if flt.status is not None and m.status != flt.status:
        return False
    if flt.overdue_only and not (m.status == "open" and m.due_date < TODAY):
        return False
    if flt.date_from is not None and m.issue_date < flt.date_from:
        return False
    if flt.date_to is not None and m.issue_date > flt.date_to:
        return False
    if flt.account:
        term = flt.account.strip()
        prefix = f"A-{term}" if term.isdigit() else term.upper()
        if not (m.account_number.startswith(prefix) or m.search_name.startswith(fold(term))):
            return False
    return True


def _walk(db, flt, sort, descending, page=7):
    rows, after = [], None
    while True:
        chunk = invoice_queries.invoice_page(db.reader, flt, sort, descending, TODAY, after, page)
        rows += chunk
        if len(chunk) < page:
            return rows
        after = chunk[-1].sort_key


FILTERS = {
    "none": InvoiceFilter(),
    "open": InvoiceFilter(status="open"),
    "paid": InvoiceFilter(status="paid"),
    "void": InvoiceFilter(status="void"),
    "overdue": InvoiceFilter(overdue_only=True),
    "paid and overdue": InvoiceFilter(status="paid", overdue_only=True),
    "company prefix": InvoiceFilter(account="ross"),
    "account id": InvoiceFilter(account="A-90000"),
    "account digits": InvoiceFilter(account="900003"),
    "dates": InvoiceFilter(date_from=date(2025, 3, 1), date_to=date(2026, 1, 31)),
    "from": InvoiceFilter(date_from=date(2025, 12, 15)),
    "to": InvoiceFilter(date_to=date(2025, 2, 1)),
    "all": InvoiceFilter(
        status="open", account="ross", date_from=date(2025, 1, 1), date_to=date(2026, 6, 1)
    ),
}


@pytest.fixture(params=["narrow", "wide"])
def plan(request, monkeypatch):
    """Both plans: through the filter's index and sorted, or along the sort's index."""
    monkeypatch.setattr(invoice_queries, "NARROW_LIMIT", 10**9 if request.param == "narrow" else 0)
    return request.param


@pytest.mark.parametrize("sort", list(InvoiceSort))
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_paging_returns_every_match_once_in_order(db, invoices, plan, sort, descending):
    for name, flt in FILTERS.items():
        rows = _walk(db, flt, sort, descending)
        expected = sorted(
            (m for m in invoices if _matches(m, flt)),
            key=lambda m: _key(m, sort),
            reverse=descending,
        )
        assert [r.id for r in rows] == [m.id for m in expected], name
        assert invoice_queries.invoice_count(db.reader, flt, TODAY) == len(expected), name


def test_the_filters_narrow_the_result(db, invoices):
    everything = len(invoices)
    for name, flt in FILTERS.items():
        if name != "none":
            count = invoice_queries.invoice_count(db.reader, flt, TODAY)
            assert count < everything, name
    assert invoice_queries.invoice_count(db.reader, InvoiceFilter(), TODAY) == everything
    assert invoice_queries.invoice_count(db.reader, FILTERS["void"], TODAY) > 0
    assert invoice_queries.invoice_count(db.reader, FILTERS["paid and overdue"], TODAY) == 0


def test_row_values(db, invoices):
    rows = _walk(db, InvoiceFilter(), InvoiceSort.NUMBER, False, page=200)
    by_id = {m.id: m for m in invoices}
    for row in rows:
        m = by_id[row.id]
        assert (row.number, row.issue_date, row.due_date, row.status) == (
            m.number,
            m.issue_date,
            m.due_date,
            m.status,
        )
        assert row.account_number == m.account_number
        assert row.disputed == m.disputed
        assert row.overdue == (m.status == "open" and m.due_date < TODAY)
        assert row.total_minor == 1220
        assert row.due_minor == (1220 if m.status == "open" else 0)
        assert row.period_end == m.issue_date + timedelta(days=30)


def test_rows_by_id_keep_the_order_asked_for(db, invoices):
    ids = [invoices[5].id, invoices[0].id, 999_999, invoices[3].id]
    rows = invoice_queries.invoice_rows(db.reader, ids, TODAY)
    assert [r.id if r is not None else None for r in rows] == [ids[0], ids[1], None, ids[3]]
    assert invoice_queries.invoice_rows(db.reader, [], TODAY) == []


def test_a_cursor_of_the_wrong_shape_is_refused(db, invoices):
    with pytest.raises(ValueError):
        invoice_queries.invoice_page(
            db.reader, InvoiceFilter(), InvoiceSort.ACCOUNT, False, TODAY, ("A-1", 3)
        )


@pytest.mark.parametrize("sort", list(InvoiceSort))
@pytest.mark.parametrize("descending", [False, True])
def test_unfiltered_pages_read_an_index_in_order(db, invoices, sort, descending):
    """No sort of all invoices: the page walks an index (the engine's plan says so)."""
    first = invoice_queries.invoice_page(db.reader, InvoiceFilter(), sort, descending, TODAY)
    for after in (None, first[-1].sort_key):
        sql, params = invoice_queries.invoice_page_sql(
            db.reader, InvoiceFilter(), sort, descending, TODAY, after
        )
        plan = query_plan(db, sql, params)
        if db.target.is_sqlite:
            assert not any("TEMP B-TREE" in step for step in plan), plan
            assert not any(step.startswith("SCAN i") and "INDEX" not in step for step in plan)
        else:  # PostgreSQL: an index can answer (the planner's choice at scale is its own)
            assert not any("Seq Scan on invoices" in step for step in plan), plan


def test_invoice_numbers_carry_the_issue_year(db):
    """The date range is narrowed to invoice numbers by year: the series is the issue year."""
    from billing_desktop.services.invoicing import next_invoice_number

    with db.transaction() as session:
        assert next_invoice_number(session, date(2025, 12, 31)).startswith("INV-2025-")
        assert next_invoice_number(session, date(2026, 1, 1)).startswith("INV-2026-")
