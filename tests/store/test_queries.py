"""Accounts list queries: keyset paging visits every row once, in SQL order."""

from __future__ import annotations

import random
from datetime import date

import pytest

from billing_desktop.store import queries
from billing_desktop.store.queries import AccountFilter, AccountSort
from billing_desktop.store.search import fold

TODAY = date(2026, 4, 26)


@pytest.fixture
def accounts(make_account, db):
    """120 accounts with many ties on every sortable column."""
    rng = random.Random(4)
    names = ["Città Nuova", "Rossi", "Müller", "Jansen", "García", "Dubois", "Smith", "O'Brien"]
    made = []
    for n in range(120):
        company = f"{rng.choice(names)} {rng.choice(['S.r.l.', 'GmbH', 'B.V.', 'Ltd'])} {n % 7}"
        due = date(2026, 4, rng.choice([1, 30])) if rng.random() < 0.3 else None
        made.append(
            make_account(
                company,
                type=rng.choice(["standard", "corporate"]),
                country=rng.choice(["IT", "NL", "DE"]),
                active_subscriptions=rng.randrange(3),
                outstanding_minor=rng.choice([0, 0, 1500, 99]),
                oldest_due_date=due,
            )
        )
    return made


def _walk(db, flt, sort, descending, page=7):
    rows, after = [], None
    while True:
        chunk = queries.account_page(db.reader, flt, sort, descending, TODAY, after, page)
        rows += chunk
        if len(chunk) < page:
            return rows
        after = (chunk[-1].sort_key, chunk[-1].id)


@pytest.mark.parametrize("sort", list(AccountSort))
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_paging_visits_every_account_once_in_order(db, accounts, sort, descending):
    rows = _walk(db, AccountFilter(), sort, descending)
    assert sorted(r.id for r in rows) == sorted(accounts)
    keys = [(r.sort_value(sort), r.id) for r in rows]
    assert keys == sorted(keys, reverse=descending)


def test_overdue_status_and_filter(db, accounts):
    rows = _walk(db, AccountFilter(overdue_only=True), AccountSort.COMPANY, False)
    assert rows
    assert {r.status for r in rows} == {"overdue"}
    everything = _walk(db, AccountFilter(), AccountSort.COMPANY, False)
    assert len([r for r in everything if r.status == "overdue"]) == len(rows)
    assert queries.account_count(db.reader, AccountFilter(overdue_only=True), TODAY) == len(rows)


def test_text_filter_matches_id_prefix_and_accent_free_name(db, accounts):
    rows = _walk(db, AccountFilter(text="citta"), AccountSort.COMPANY, False)
    assert rows and all("città" in r.company_name.lower() for r in rows)
    expected = [
        r for r in _walk(db, AccountFilter(), AccountSort.COMPANY, False)
        if "citta" in fold(r.company_name)
    ]
    assert [r.id for r in rows] == [r.id for r in expected]
    by_id = _walk(db, AccountFilter(text="a-90001"), AccountSort.ACCOUNT_ID, False)
    assert [r.account_number for r in by_id] == [f"A-90001{d}" for d in range(10)]


def test_like_wildcards_in_the_filter_are_literal(db, make_account):
    make_account("100% Service")
    make_account("1000 Service")
    rows = _walk(db, AccountFilter(text="100%"), AccountSort.COMPANY, False)
    assert [r.company_name for r in rows] == ["100% Service"]


def test_structured_filters_combine(db, accounts):
    flt = AccountFilter(type="corporate", country="NL")
    rows = _walk(db, flt, AccountSort.COMPANY, False)
    assert rows and all(r.type == "corporate" and r.country == "NL" for r in rows)
    assert queries.account_count(db.reader, flt, TODAY) == len(rows)
    assert queries.countries(db.reader) == ["DE", "IT", "NL"]
