"""Quick search queries: every key finds its account, ranked, once, and only through indexes."""

from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest
from helpers import query_plan
from sqlalchemy.exc import DBAPIError

from billing_desktop.store import queries
from billing_desktop.store.models import Contact, Invoice
from billing_desktop.store.queries import SearchMatch
from billing_desktop.store.search import fold


def _contact(db, account_id: int, first: str, last: str, email: str) -> None:
    with db.transaction() as session:
        session.add(
            Contact(
                account_id=account_id, first_name=first, last_name=last, email=email,
                email_lower=email.lower(), search_name=fold(f"{last} {first}"), roles="user",
            )
        )  # fmt: skip


def _invoice(db, account_id: int, number: str) -> None:
    with db.transaction() as session:
        session.add(
            Invoice(
                number=number, account_id=account_id, issue_date=date(2026, 4, 1),
                due_date=date(2026, 4, 15), currency="EUR", subtotal_minor=1000,
                total_minor=1000, language="it",
            )
        )  # fmt: skip


@pytest.fixture
def accounts(db, make_account) -> dict[str, int]:
    """A few accounts whose keys overlap, so ranking and de-duplication matter."""
    ids = {
        "rossi": make_account("Rossi Impianti S.r.l."),  # A-900001
        "citta": make_account("Città Nuova S.p.A."),  # A-900002
        "vdb": make_account("Van der Berg Techniek B.V."),  # A-900003
        "percent": make_account("100% Service Srl"),  # A-900004
        "other": make_account("Ferretti Informatica"),  # A-900005
    }
    _contact(db, ids["rossi"], "Marco", "Rossi", "Marco.Rossi@rossi-impianti.example")
    _contact(db, ids["rossi"], "Giulia", "Bianchi", "giulia.bianchi@rossi-impianti.example")
    _contact(db, ids["vdb"], "Sanne", "de Vries", "sanne.devries@vanderberg.example")
    _contact(db, ids["vdb"], "Pieter", "van der Berg", "pieter@vanderberg.example")
    _contact(db, ids["other"], "Anna", "Rossi", "anna.rossi@ferretti.example")
    _contact(db, ids["citta"], "Zoë", "Müller", "zoe.mueller@citta.example")
    _invoice(db, ids["citta"], "INV-2026-000042")
    _invoice(db, ids["citta"], "INV-2026-000043")
    _invoice(db, ids["other"], "INV-2026-000420")
    return ids


def _search(db, text: str, limit: int = 20):
    return queries.quick_search(db.reader, text, limit)


def _numbers(hits) -> list[str]:
    return [h.account_number for h in hits]


def test_account_number_prefix_exact_and_digits(db, accounts) -> None:
    hits = _search(db, "a-90000")
    assert _numbers(hits) == [f"A-90000{n}" for n in range(1, 6)]
    assert {h.matched for h in hits} == {SearchMatch.ACCOUNT_ID}
    exact = _search(db, "A-900003")
    assert [(h.account_number, h.matched, h.matched_text) for h in exact] == [
        ("A-900003", SearchMatch.ACCOUNT_ID, "A-900003")
    ]
    assert exact[0].rank == queries.RANK_EXACT_ACCOUNT
    # digits alone are an account number without its "A-"
    assert _numbers(_search(db, "900004")) == ["A-900004"]


def test_company_prefix_is_accent_and_case_free(db, accounts) -> None:
    hits = _search(db, "CITTA nu")
    assert [(h.account_id, h.matched, h.matched_text) for h in hits] == [
        (accounts["citta"], SearchMatch.COMPANY, "Città Nuova S.p.A.")
    ]
    assert _numbers(_search(db, "città")) == ["A-900002"]


def test_like_wildcards_are_literal(db, accounts) -> None:
    assert _numbers(_search(db, "100%")) == ["A-900004"]
    assert _search(db, "1_0") == []
    assert _search(db, "%") == []


def test_contact_email_prefix_and_exact(db, accounts) -> None:
    hits = _search(db, "sanne.dev")
    assert [(h.account_id, h.matched, h.matched_text) for h in hits] == [
        (accounts["vdb"], SearchMatch.CONTACT_EMAIL, "sanne.devries@vanderberg.example")
    ]
    exact = _search(db, "marco.rossi@ROSSI-impianti.example")
    assert exact[0].matched is SearchMatch.CONTACT_EMAIL
    assert exact[0].matched_text == "Marco.Rossi@rossi-impianti.example"
    assert exact[0].rank == queries.RANK_EXACT_EMAIL


def test_contact_name_in_either_order_and_partly_typed(db, accounts) -> None:
    for text in ("de vries", "De Vries sanne", "sanne de vries", "sanne de v", "Sanne DE"):
        hits = _search(db, text)
        assert (hits[0].account_id, hits[0].matched, hits[0].matched_text) == (
            accounts["vdb"], SearchMatch.CONTACT_NAME, "Sanne de Vries",
        ), text  # fmt: skip
    assert _numbers(_search(db, "pieter van der")) == ["A-900003"]
    assert _numbers(_search(db, "zoe muller")) == ["A-900002"]
    assert _search(db, "sanne smit") == []


def test_invoice_number_exact_first_then_prefix(db, accounts, make_account) -> None:
    exact = _search(db, "inv-2026-000420")
    assert [(h.account_number, h.matched, h.matched_text) for h in exact] == [
        ("A-900005", SearchMatch.INVOICE_NUMBER, "INV-2026-000420")
    ]
    assert exact[0].rank == queries.RANK_EXACT_INVOICE
    # two invoices of the same account: the account once
    prefix = _search(db, "INV-2026-000")
    assert [(h.account_number, h.matched_text) for h in prefix] == [
        ("A-900002", "INV-2026-000042"),
        ("A-900005", "INV-2026-000420"),
    ]
    assert {h.rank for h in prefix} == {queries.RANK_INVOICE_PREFIX}
    # an exact invoice number comes before a company whose name starts the same
    make_account("INV-2026-000420 Holding")
    ranked = _search(db, "INV-2026-000420")
    assert [h.matched for h in ranked] == [SearchMatch.INVOICE_NUMBER, SearchMatch.COMPANY]


def test_one_hit_per_account_best_first(db, accounts) -> None:
    hits = _search(db, "rossi")
    # Rossi Impianti matches as company and through Marco Rossi: listed once, as company
    assert [(h.account_id, h.matched) for h in hits] == [
        (accounts["rossi"], SearchMatch.COMPANY),
        (accounts["other"], SearchMatch.CONTACT_NAME),
    ]
    assert len({h.account_id for h in _search(db, "a")}) == len(_search(db, "a"))


def test_limit_and_empty_text(db, accounts) -> None:
    assert len(_search(db, "a-9", limit=3)) == 3
    assert _search(db, "   ") == []
    assert queries.quick_search_sql("  ") is None


PLAN_TERMS = [
    "A-900003", "900003", "citta", "sanne.dev", "sanne de v", "pieter van der berg",
    "INV-2026-000042", "a", "x" * 300,
]  # fmt: skip


@pytest.mark.parametrize("text", PLAN_TERMS)
def test_every_arm_is_an_index_search(db, accounts, text) -> None:
    sql, params = queries.quick_search_sql(text)
    plan = query_plan(db, sql, params)
    indexes = ("ix_accounts_search_name", "ix_contacts_email_lower", "ix_contacts_search_name")
    if not db.target.is_sqlite:
        # PostgreSQL: no arm needs a sequential scan, and the search indexes answer
        assert not any("Seq Scan" in line for line in plan), plan
        searched = " ".join(plan)
        for index in indexes:
            assert index in searched, plan
        return
    tables = ("accounts", "contacts", "invoices")
    touching = [line for line in plan if re.search(rf"\b({'|'.join(tables)})\b", line)]
    assert touching, plan
    for line in touching:
        assert not line.startswith("SCAN"), plan
        assert "INDEX" in line, plan
    searched = " ".join(touching)
    for index in indexes:
        assert index in searched, plan
    # the final join reads the accounts it found by primary key
    assert any("SEARCH acc USING INTEGER PRIMARY KEY" in line for line in plan), plan


def test_search_runs_through_the_read_only_reader(db, accounts) -> None:
    """The search is a plain read: the reader's connection refuses writes."""
    assert _numbers(_search(db, "A-900001")) == ["A-900001"]
    with pytest.raises((sqlite3.OperationalError, DBAPIError)):
        db.reader.rows("DELETE FROM accounts")
    assert _numbers(_search(db, "A-900001")) == ["A-900001"]
