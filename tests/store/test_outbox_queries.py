"""The Emails view's queries: keyset pages newest first, status filters answered cheaply."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers import query_plan

from billing_desktop.store.bulk import bulk_insert
from billing_desktop.store.models import Email
from billing_desktop.store.outbox_queries import (
    due_count,
    outbox_count,
    outbox_counts,
    outbox_message,
    outbox_page,
    outbox_page_sql,
)

NOW = datetime(2026, 4, 26, 9, 0)


@pytest.fixture
def filled(db, make_account):
    """2 000 emails: 1 in 50 failed (half of them due), 1 in 10 queued, the rest sent."""
    account = make_account("Outbox Srl")
    rows = []
    for n in range(2000):
        status = "failed" if n % 50 == 7 else "queued" if n % 10 == 3 else "sent"
        created = NOW - timedelta(minutes=2000 - n)
        next_at = None
        if status == "failed":
            next_at = NOW + timedelta(minutes=1 if n % 100 == 7 else -1)
        rows.append(
            {
                "account_id": account if n % 3 else None, "kind": "trial_ended",
                "to_address": f"u{n}@x.example", "cc_addresses": "", "subject": f"Subject {n}",
                "body_text": f"Body {n}", "language": "en", "status": status,
                "created_at": created, "attempts": 1 if status != "queued" else 0,
                "next_attempt_at": next_at,
                "last_error": "Cannot connect" if status == "failed" else None,
            }
        )  # fmt: skip
    with db.engine.begin() as conn:
        bulk_insert(conn, Email.__table__, rows)
    return db


def _all_pages(reader, statuses, counts=None, limit=150) -> list[int]:
    ids: list[int] = []
    after = None
    while True:
        page = outbox_page(reader, statuses, after, limit, counts)
        ids.extend(r.id for r in page)
        if len(page) < limit:
            return ids
        after = page[-1].id


@pytest.mark.parametrize(
    "statuses", [None, ("sent",), ("queued",), ("failed",), ("queued", "failed"), ()]
)
def test_pages_match_one_sorted_query(filled, statuses) -> None:
    reader = filled.reader
    if statuses is None:
        expected = [r[0] for r in reader.rows("SELECT id FROM emails ORDER BY id DESC")]
    elif not statuses:
        expected = []
    else:
        marks = ", ".join(f":s{n}" for n in range(len(statuses)))
        expected = [
            r[0] for r in reader.rows(
                f"SELECT id FROM emails WHERE status IN ({marks}) ORDER BY id DESC",
                {f"s{n}": status for n, status in enumerate(statuses)},
            )
        ]
    counts = outbox_counts(reader)
    # both ways of answering a status filter give the same rows
    assert _all_pages(reader, statuses, counts) == expected
    assert _all_pages(reader, statuses, None) == expected
    assert outbox_count(reader, statuses) == len(expected)


def test_counts_and_due(filled) -> None:
    reader = filled.reader
    counts = outbox_counts(reader)
    assert counts == {"queued": 200, "sent": 1760, "failed": 40}
    # queued ones, and failed ones whose retry time has come (exactly now included)
    assert due_count(reader, NOW) == 200 + 20
    assert due_count(reader, NOW + timedelta(minutes=1)) == 240


@pytest.mark.sqlite_only
def test_a_common_status_walks_the_table_a_rare_one_uses_the_index(filled) -> None:
    reader = filled.reader
    counts = outbox_counts(reader)

    def plan(statuses) -> str:
        sql, params = outbox_page_sql(statuses, after_id=1500, limit=200, counts=counts)
        return " | ".join(query_plan(filled, sql, params, analyze=False))

    common = plan(("sent",))
    assert "TEMP B-TREE" not in common  # newest first straight from the primary key
    rare = plan(("failed",))
    assert "COVERING INDEX ix_emails_status_next_attempt_at" in rare
    everything = plan(None)
    assert "TEMP B-TREE" not in everything


def test_a_row_and_its_body(filled) -> None:
    reader = filled.reader
    newest = outbox_page(reader, None, None, 1)[0]
    assert newest.subject == "Subject 1999"
    assert newest.created_at == NOW - timedelta(minutes=1)
    message = outbox_message(reader, newest.id)
    assert message is not None
    assert (message.row, message.body_text) == (newest, "Body 1999")
    assert outbox_message(reader, 999_999) is None
    failed = outbox_page(reader, ("failed",), None, 1)[0]
    assert failed.last_error == "Cannot connect"
    assert failed.next_attempt_at is not None
    sent = outbox_page(reader, ("sent",), None, 1)[0]
    assert sent.next_attempt_at is None


def test_an_unknown_status_is_a_programming_error(filled) -> None:
    with pytest.raises(ValueError, match="unknown email status"):
        outbox_page(filled.reader, ("lost",))
