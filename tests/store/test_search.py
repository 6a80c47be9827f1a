"""Quick search queries: every key finds its account, ranked, once, and only through indexes."""

from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest
from helpers import query_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError

from billing_desktop.store import search_queries as queries
from billing_desktop.store.models import Contact, Invoice
from billing_desktop.store.search import fold, split_words
from billing_desktop.store.search_queries import SearchMatch


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
    "INV-2026-000042", "a", "x" * 300, "techniek", "berg techn", 'NEAR("techn*")',
]  # fmt: skip


def _dialect(db) -> str:
    return queries.SQLITE if db.target.is_sqlite else queries.POSTGRESQL


def _has_word_arm(text: str) -> bool:
    return max(map(len, split_words(text)), default=0) >= queries.MIN_WORD_LETTERS


@pytest.mark.parametrize("text", PLAN_TERMS)
def test_every_arm_is_an_index_search(db, accounts, text) -> None:
    sql, params = queries.quick_search_sql(text, dialect=_dialect(db))
    plan = query_plan(db, sql, params)
    indexes = ["ix_accounts_search_name", "ix_contacts_email_lower", "ix_contacts_search_name"]
    if not db.target.is_sqlite:
        # PostgreSQL: no arm needs a sequential scan, and the search indexes answer
        if _has_word_arm(text):
            indexes += ["ix_accounts_search_words", "ix_contacts_search_words"]
        assert not any("Seq Scan" in line for line in plan), plan
        searched = " ".join(plan)
        for index in indexes:
            assert index in searched, plan
        if _has_word_arm(text):  # the GIN indexes, not a filter over another index
            for index in indexes[-2:]:
                assert any(f"Bitmap Index Scan on {index}" in line for line in plan), plan
        return
    # SQLite: every table is searched through an index; the only scans are of the
    # arms' own results and of the FTS5 tables (a MATCH lookup in their index)
    for line in plan:
        if line.startswith("SCAN "):
            assert re.fullmatch(r"SCAN (arm\d+|hits|best|\(subquery-\d+\))", line) or (
                re.fullmatch(r"SCAN (accounts|contacts)_words VIRTUAL TABLE INDEX \d+:M\d*", line)
            ), plan
    tables = ("accounts", "contacts", "invoices")
    touching = [line for line in plan if re.search(rf"\b({'|'.join(tables)})\b", line)]
    assert touching, plan
    for line in touching:
        assert "INDEX" in line or "INTEGER PRIMARY KEY" in line, plan
    searched = " ".join(touching)
    for index in indexes:
        assert index in searched, plan
    words_used = [line for line in plan if "_words VIRTUAL TABLE" in line]
    if _has_word_arm(text):
        assert len(words_used) == 2, plan  # company and contact words
        assert any("SEARCH a USING INTEGER PRIMARY KEY" in line for line in plan), plan
        assert any("SEARCH c USING INTEGER PRIMARY KEY" in line for line in plan), plan
    else:
        assert words_used == [], plan  # a short word alone is left to the prefix arms
    # the final join reads the accounts it found by primary key
    assert any("SEARCH acc USING INTEGER PRIMARY KEY" in line for line in plan), plan


def test_search_runs_through_the_read_only_reader(db, accounts) -> None:
    """The search is a plain read: the reader's connection refuses writes."""
    assert _numbers(_search(db, "A-900001")) == ["A-900001"]
    with pytest.raises((sqlite3.OperationalError, DBAPIError)):
        db.reader.rows("DELETE FROM accounts")
    assert _numbers(_search(db, "A-900001")) == ["A-900001"]


# --------------------------------------------------------------------------- words inside names


def _found(db, text: str) -> list[tuple[str, SearchMatch, str]]:
    return [(h.account_number, h.matched, h.matched_text) for h in _search(db, text)]


def _check_word_indexes(db) -> None:
    """SQLite: FTS5's own check of each word table against the rows it indexes."""
    if db.target.is_sqlite:
        with db.transaction() as session:
            for table in ("accounts_words", "contacts_words"):
                session.execute(
                    sql_text(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
                )


def test_a_word_inside_a_company_name_is_found(db, accounts) -> None:
    assert _found(db, "techniek") == [
        ("A-900003", SearchMatch.COMPANY, "Van der Berg Techniek B.V.")
    ]
    assert _search(db, "techniek")[0].rank == queries.RANK_COMPANY_WORD
    assert _found(db, "impianti") == [("A-900001", SearchMatch.COMPANY, "Rossi Impianti S.r.l.")]
    # a word is found from its first letters, anywhere in the name
    assert _numbers(_search(db, "techn")) == ["A-900003"]
    assert _numbers(_search(db, "inform")) == ["A-900005"]
    assert _search(db, "echniek") == []  # the start of a word, not any part of it


def test_every_typed_word_must_start_a_word_of_the_name(db, accounts) -> None:
    for text in ("berg techn", "techn berg", "TECHNIEK van", "b.v. techniek"):
        assert _numbers(_search(db, text)) == ["A-900003"], text
    assert _search(db, "berg impianti") == []
    assert _search(db, "techniek zzz") == []


def test_words_are_accent_and_case_free(db, accounts, make_account) -> None:
    make_account("Société Générale d'Électricité")  # A-900006
    for text in ("ELECTRICITE", "électricité", "generale soc", "GÉNÉR électr"):
        assert _numbers(_search(db, text)) == ["A-900006"], text
    assert _numbers(_search(db, "NUÒVA")) == ["A-900002"]  # Città Nuova


def test_a_word_of_a_contact_name_is_found(db, accounts) -> None:
    # "vries" is inside "de Vries" (stored as "de vries sanne")
    assert _found(db, "vries") == [("A-900003", SearchMatch.CONTACT_NAME, "Sanne de Vries")]
    assert _search(db, "vries")[0].rank == queries.RANK_CONTACT_WORD
    assert _numbers(_search(db, "vries sanne")) == ["A-900003"]
    assert _numbers(_search(db, "MÜLL zo")) == ["A-900002"]
    # a first name alone (when no email starts with it)
    _contact(db, accounts["other"], "Federica", "Lombardi", "amministrazione@ferretti.example")
    assert _found(db, "federica") == [("A-900005", SearchMatch.CONTACT_NAME, "Federica Lombardi")]


def test_prefixes_come_before_words(db, accounts, make_account) -> None:
    make_account("Techniek Holland B.V.")  # A-900006: the name starts with the word
    hits = _search(db, "techniek")
    assert [(h.account_number, h.rank) for h in hits] == [
        ("A-900006", queries.RANK_COMPANY_PREFIX),
        ("A-900003", queries.RANK_COMPANY_WORD),
    ]
    # an exact account number or invoice number still comes first
    make_account("Bureau A-900001 Consult")  # A-900007
    assert [(h.account_number, h.rank) for h in _search(db, "A-900001")] == [
        ("A-900001", queries.RANK_EXACT_ACCOUNT),
        ("A-900007", queries.RANK_COMPANY_WORD),
    ]
    # one hit per account: its best one (Rossi Impianti is a company prefix, not a word)
    rossi = [h for h in _search(db, "rossi") if h.account_number == "A-900001"]
    assert [(h.matched, h.rank) for h in rossi] == [
        (SearchMatch.COMPANY, queries.RANK_COMPANY_PREFIX)
    ]


def test_a_short_word_alone_is_left_to_the_prefix_arms(db, accounts) -> None:
    assert _search(db, "ve") == []  # "Berg", "Vries": no word search under three letters
    assert queries.quick_search_sql("ve")[1].get("words") is None
    assert _numbers(_search(db, "berg ve")) == []  # with a longer word, every word counts
    assert _numbers(_search(db, "van d tech")) == ["A-900003"]


VDB = ["A-900003"]  # Van der Berg Techniek B.V.

#: FTS5 and tsquery syntax typed into the box, and what it finds: the typed words.
FULL_TEXT_SYNTAX = [
    ('"techn', VDB), ('techn"', VDB), ('"techn"', VDB), ("techn*", VDB), ("*techn", VDB),
    ("-techn", VDB), ("techn-", VDB), ("techn:*", VDB), ("^techn", VDB), ("+techn", VDB),
    ("!techn", VDB), ("(techn)", VDB), ("{techn}", VDB), ("[techn]", VDB), ("'techn'", VDB),
    ("techn\\", VDB), ("techn & van", VDB), ("techn | van", VDB), ("techn <-> van", VDB),
    ("techn <2> van", []), ("NEAR(techn van)", []), ("techn AND van", []),
    ("techn OR impianti", []), ("NOT techn", []), ("techn NOT van", []),
    ("search_name:techn", []), ("techn; DROP TABLE accounts; --", []),
    ('"', []), ('""', []), ("((", []), (")", []), ("NEAR", []), ("''", []), ("\\", []),
    ("*", []), (":", []), ("&", []), ("|", []), ("!", []), ("-", []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), FULL_TEXT_SYNTAX)
def test_full_text_syntax_typed_is_literal(db, accounts, text, expected) -> None:
    """Characters and keywords of FTS5 and tsquery syntax are text: never an error,
    never an operator (OR, NOT, "-" and NEAR neither widen nor negate the search:
    "and", "not", "near" are words that must be found too)."""
    assert _numbers(_search(db, text)) == expected
    assert db.reader.scalar("SELECT COUNT(*) FROM accounts") == len(accounts)


def test_like_wildcards_are_literal_in_words(db, accounts, make_account) -> None:
    make_account("Servizi Integrati Srl")  # A-900006
    assert _search(db, "serv_zi") == []  # "_" is no wildcard: "serv" and "zi" both needed
    assert _search(db, "integr%ti") == []
    assert _numbers(_search(db, "integr%")) == ["A-900006"]
    assert _numbers(_search(db, "100% serv")) == ["A-900004"]


def _one_query(db, text: str, limit: int) -> list[tuple]:
    """The rows of the single query uniting every arm."""
    built = queries.quick_search_sql(text, limit, _dialect(db), queries.ALL_ARMS)
    return [] if built is None else [tuple(row) for row in db.reader.rows(*built)]


def _as_rows(hits) -> list[tuple]:
    return [
        (h.account_id, h.account_number, h.company_name, h.matched.value, h.matched_text, h.rank)
        for h in hits
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 20])
@pytest.mark.parametrize("text", ["techniek", "rossi", "van", "berg techn", "a-9", "inv"])
def test_words_are_looked_for_only_when_prefixes_found_too_few(
    db, accounts, make_account, text, limit
) -> None:
    """Two steps (prefixes, then words if needed) give the one query's hits."""
    make_account("Techniek Holland B.V.")
    make_account("Vandenberg Rossi Bouw")
    hits = queries.quick_search(db.reader, text, limit)
    assert _as_rows(hits) == _one_query(db, text, limit)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.lists(
            st.sampled_from(
                ['"', "*", "-", ":", "&", "|", "!", "(", ")", "'", "\\", "%", "_", "^", "+",
                 "<->", "NEAR", "AND", "OR", "NOT", "techn", "van", "ri", " ", "\x00", "é"]
            ),
            max_size=12,
        ).map("".join),
    ),
    limit=st.integers(min_value=1, max_value=6),
)  # fmt: skip
def test_any_text_is_searched_without_error(db, accounts, text: str, limit: int) -> None:
    hits = queries.quick_search(db.reader, text, limit)
    assert len({h.account_id for h in hits}) == len(hits) <= limit
    assert {h.account_id for h in hits} <= set(accounts.values())
    assert [h.rank for h in hits] == sorted(h.rank for h in hits)
    assert _as_rows(hits) == _one_query(db, text, limit)


def test_word_indexes_follow_inserts_renames_and_deletes(db, ctx, accounts, make_account) -> None:
    from billing_desktop.services.accounts import AccountChanges, account_overview, update_account

    added = make_account("Officine Meccaniche Zanetti S.p.A.")  # A-900006
    assert _numbers(_search(db, "meccan")) == ["A-900006"]
    overview = account_overview(ctx, added)
    update_account(
        ctx, added, AccountChanges(company_name="Zanetti Carpenteria Srl"),
        expected_version=overview.version,
    )  # fmt: skip
    assert _search(db, "meccan") == []
    assert _found(db, "carpent") == [("A-900006", SearchMatch.COMPANY, "Zanetti Carpenteria Srl")]
    # a balance update (as every order makes) leaves the words alone
    with db.transaction() as session:
        session.execute(
            sql_text("UPDATE accounts SET outstanding_minor = 4200 WHERE id = :id"), {"id": added}
        )
    assert _numbers(_search(db, "carpent")) == ["A-900006"]
    # contacts: added, renamed, deleted
    _contact(db, added, "Lucia", "Zanetti Ferraris", "lucia@zanetti.example")
    assert _found(db, "ferraris") == [
        ("A-900006", SearchMatch.CONTACT_NAME, "Lucia Zanetti Ferraris")
    ]
    with db.transaction() as session:
        session.execute(
            sql_text(
                "UPDATE contacts SET last_name = 'Zanetti Moretti', "
                "search_name = 'zanetti moretti lucia' WHERE account_id = :id"
            ),
            {"id": added},
        )
    assert _search(db, "ferraris") == []
    assert _numbers(_search(db, "moretti")) == ["A-900006"]
    _check_word_indexes(db)
    # an account and its contact deleted
    gone = make_account("Officine Bassi Srl")
    _contact(db, gone, "Paolo", "Bassetti", "paolo@bassi.example")
    assert _numbers(_search(db, "offic")) == _numbers(_search(db, "bassett")) == ["A-900007"]
    with db.transaction() as session:
        session.execute(sql_text("DELETE FROM contacts WHERE account_id = :id"), {"id": gone})
        session.execute(sql_text("DELETE FROM accounts WHERE id = :id"), {"id": gone})
    assert _search(db, "offic") == []
    assert _search(db, "bassett") == []
    _check_word_indexes(db)
    if db.target.is_sqlite:
        for table in ("accounts", "contacts"):
            indexed = db.reader.scalar(f"SELECT COUNT(*) FROM {table}_words_docsize")
            assert indexed == db.reader.scalar(f"SELECT COUNT(*) FROM {table}")
