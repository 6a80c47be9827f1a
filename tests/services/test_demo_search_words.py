"""The demo data (curated and bulk-generated) land in the word indexes of the quick search."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from billing_desktop.services.demo import generate_accounts, load_curated
from billing_desktop.store import search_queries as queries
from billing_desktop.store.search import split_words

TODAY = date(2026, 4, 26)


def _longest_word(name: str) -> str:
    return max(split_words(name), key=len)


def test_generated_accounts_and_contacts_are_found_by_their_words(db) -> None:
    load_curated(db, TODAY)
    generate_accounts(db, 30, seed=3, today=TODAY, fresh_database=True)
    accounts = db.reader.rows("SELECT id, company_name FROM accounts")
    contacts = db.reader.rows("SELECT account_id, first_name, last_name FROM contacts")
    assert len(accounts) > 40 and len(contacts) > len(accounts)

    if db.target.is_sqlite:  # every row is in its FTS5 table, and nothing else
        with db.engine.begin() as conn:
            for table, rows in (("accounts", accounts), ("contacts", contacts)):
                conn.execute(
                    text(
                        f"INSERT INTO {table}_words ({table}_words, rank) "
                        "VALUES ('integrity-check', 1)"
                    )
                )
                indexed = conn.execute(text(f"SELECT COUNT(*) FROM {table}_words_docsize"))
                assert indexed.scalar() == len(rows)

    def found(word: str) -> set[int]:
        return {hit.account_id for hit in queries.quick_search(db.reader, word, limit=100_000)}

    for account_id, company in accounts:
        assert account_id in found(_longest_word(company)), company
    for account_id, first, last in contacts:
        assert account_id in found(_longest_word(f"{first} {last}")), (first, last)
