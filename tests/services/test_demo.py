"""Demo databases: curated scenarios and generated accounts are consistent to the cent."""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_desktop.config import target_from
from billing_desktop.services.demo import (
    Cancelled,
    Progress,
    build_demo_database,
    generate_accounts,
    load_curated,
)
from billing_desktop.store.database import Database, open_database

TODAY = date(2026, 4, 26)


def _rows(source: Path | Database, sql: str) -> list[tuple]:
    """The rows of ``sql`` in an open database, or in a database file."""
    if isinstance(source, Database):
        return source.reader.rows(sql)
    con = sqlite3.connect(source)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _assert_books_balance(path: Path | Database) -> None:
    """Every invoice adds up, numbers are gap-free per year, accounts match invoices."""
    lines = dict(_rows(path, "SELECT invoice_id, SUM(amount_minor) FROM invoice_lines GROUP BY 1"))
    for inv_id, subtotal, vat, total, paid, status in _rows(
        path, "SELECT id, subtotal_minor, vat_minor, total_minor, paid_minor, status FROM invoices"
    ):
        assert lines[inv_id] == subtotal, inv_id
        assert subtotal + vat == total
        assert paid == (total if status == "paid" else 0)
    by_year: dict[str, list[int]] = defaultdict(list)
    for (number,) in _rows(path, "SELECT number FROM invoices"):
        match = re.fullmatch(r"INV-(\d{4})-(\d{6})", number)
        assert match, number
        by_year[match.group(1)].append(int(match.group(2)))
    series = dict(_rows(path, "SELECT prefix, next_number FROM invoice_series"))
    for year, numbers in by_year.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), year
        assert series[f"INV-{year}"] == len(numbers) + 1
    # numbers follow issue dates within a year
    ordered = _rows(path, "SELECT issue_date FROM invoices ORDER BY number")
    for year in by_year:
        dates = [d for (d,) in ordered if d.startswith(year)]
        assert dates == sorted(dates)
    due = dict(
        _rows(
            path,
            "SELECT account_id, SUM(total_minor - paid_minor - credit_applied_minor) "
            "FROM invoices WHERE status='open' GROUP BY 1",
        )
    )
    for account_id, outstanding in _rows(path, "SELECT id, outstanding_minor FROM accounts"):
        assert outstanding == due.get(account_id, 0), account_id
    paid = dict(_rows(path, "SELECT invoice_id, SUM(amount_minor) FROM payments GROUP BY 1"))
    for inv_id, total in _rows(path, "SELECT id, total_minor FROM invoices WHERE status='paid'"):
        assert paid.get(inv_id) == total


def test_curated_demo_is_marked_and_balanced(db) -> None:
    count = load_curated(db, TODAY)
    assert count >= 15
    assert db.is_demo()
    assert db.setting("clock.today") == TODAY.isoformat()
    _assert_books_balance(db)


def test_curated_demo_has_each_article_situation(db) -> None:
    load_curated(db, TODAY)
    subs = _rows(
        db,
        "SELECT p.code, s.status, s.licence_count, s.frequency, s.contract, a.language, "
        "(SELECT COUNT(*) FROM licence_assignments la WHERE la.subscription_id = s.id), "
        "(SELECT COUNT(*) FROM payment_methods pm WHERE pm.account_id = a.id), a.id "
        "FROM subscriptions s JOIN products p ON p.id = s.product_id "
        "JOIN accounts a ON a.id = s.account_id",
    )
    # article 000: a v4 annual plan, active, Italian
    assert any(s[0] == "gotoassist_rs_v4" and s[1] == "active" and s[3] == "annual" for s in subs)
    # article 001: v5 with 10 licences, some assigned
    assert any(s[0] == "gotoassist_rs_v5" and s[2] == 10 and 0 < s[6] < 10 for s in subs)
    # article 003: a v5 trial that ended without billing information
    assert any(s[0] == "gotoassist_rs_v5" and s[1] == "trial_expired" and s[7] == 0 for s in subs)
    # article 002: Resolve on a fixed term with assigned licences and an open invoice
    resolve = [s for s in subs if s[0] == "logmein_resolve" and s[4] == "fixed_term" and s[6]]
    assert resolve
    open_by_account = {
        a for (a,) in _rows(db, "SELECT account_id FROM invoices WHERE status='open'")
    }
    assert any(s[8] in open_by_account for s in resolve)
    # corporate accounts with their representative
    corporate = _rows(
        db,
        "SELECT a.account_number, o.name FROM accounts a JOIN operators o "
        "ON o.id = a.representative_id WHERE a.type='corporate'",
    )
    assert len(corporate) >= 2
    # an overdue invoice somewhere
    assert _rows(db, f"SELECT 1 FROM accounts WHERE oldest_due_date < '{TODAY}'")


def test_generation_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    dumps = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        path = tmp_path / f"{name}.sqlite3"
        summary = build_demo_database(target_from(str(path)), accounts=150, seed=seed, today=TODAY)
        assert summary.accounts == summary.curated + 150
        dumps.append(
            _rows(
                path,
                "SELECT a.account_number, a.company_name, a.postal_code, a.outstanding_minor, "
                "(SELECT group_concat(number || ':' || total_minor, ',') FROM invoices i "
                " WHERE i.account_id = a.id) FROM accounts a ORDER BY a.account_number",
            )
        )
        _assert_books_balance(path)
    assert dumps[0] == dumps[1]
    assert dumps[0] != dumps[2]


def test_generated_history_spans_three_years(tmp_path: Path) -> None:
    path = tmp_path / "hist.sqlite3"
    build_demo_database(target_from(str(path)), accounts=300, seed=3, today=TODAY)
    first, last = _rows(path, "SELECT MIN(issue_date), MAX(issue_date) FROM invoices")[0]
    assert first >= "2023-04-26"
    assert first < "2023-10-01"
    assert last == TODAY.isoformat() or last < TODAY.isoformat()
    statuses = dict(_rows(path, "SELECT status, COUNT(*) FROM subscriptions GROUP BY 1"))
    assert statuses["active"] > statuses.get("cancelled", 0) > 0
    # every account has exactly one billing contact
    assert _rows(
        path,
        "SELECT COUNT(*) FROM accounts a WHERE (SELECT COUNT(*) FROM contacts c "
        "WHERE c.account_id = a.id AND c.is_billing_contact) != 1",
    ) == [(0,)]


class _CancelAfter(Progress):
    def __init__(self, updates: int) -> None:
        self.left = updates
        self.seen: list[tuple[str, int, int]] = []

    def update(self, stage: str, done: int, total: int) -> None:
        self.seen.append((stage, done, total))
        self.left -= 1
        if self.left <= 0:
            self.cancelled = True


def test_cancelled_generation_writes_nothing(db) -> None:
    load_curated(db, TODAY)
    before = _rows(db, "SELECT COUNT(*) FROM accounts")[0][0]
    progress = _CancelAfter(1)
    with pytest.raises(Cancelled):
        generate_accounts(db, 5000, seed=1, today=TODAY, progress=progress, fresh_database=True)
    assert progress.seen[0][0] == "Generating accounts"
    assert _rows(db, "SELECT COUNT(*) FROM accounts")[0][0] == before
    assert _rows(db, "SELECT COUNT(*) FROM invoices WHERE account_id > 1000") == [(0,)]


def test_generation_refuses_to_renumber_invoices_of_a_database_it_did_not_build(db) -> None:
    load_curated(db, TODAY)
    numbers = _rows(db, "SELECT id, number FROM invoices ORDER BY id")
    with pytest.raises(ValueError, match="already holds invoices"):
        generate_accounts(db, 10, seed=1, today=TODAY)
    assert _rows(db, "SELECT id, number FROM invoices ORDER BY id") == numbers


def test_reopened_demo_database_keeps_its_clock(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    build_demo_database(target_from(str(path)), today=TODAY)
    db = open_database(target_from(str(path)))
    try:
        from billing_desktop.services.clock import clock_for

        clock = clock_for(db)
        assert clock.simulated
        assert clock.today() == TODAY
    finally:
        db.dispose()


@given(
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    months=st.integers(min_value=0, max_value=120),
)
def test_generator_month_arithmetic_matches_the_domain(anchor: date, months: int) -> None:
    from billing_desktop.domain.periods import add_months
    from billing_desktop.services.demo import add_months_fast

    assert add_months_fast(anchor, months) == add_months(anchor, months)


@pytest.mark.parametrize("seed", [1, 3])
def test_generated_subscriptions_are_consistent(tmp_path: Path, seed: int) -> None:
    """Statuses, contract terms, periods and end dates of generated data agree with each other."""
    from billing_desktop.domain.periods import term_end

    path = tmp_path / "consistent.sqlite3"
    build_demo_database(target_from(str(path)), accounts=400, seed=seed, today=TODAY)
    today = TODAY.isoformat()
    subs = _rows(
        path,
        "SELECT s.id, s.status, s.contract, s.term_months, s.term_start, s.term_end, "
        "s.period_start, s.period_end, s.ended_on, s.trial_end, s.cancellation_effective "
        "FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "WHERE a.account_number >= 'A-200001'",
    )
    assert len(subs) >= 400
    statuses = {s[1] for s in subs}
    assert {"active", "cancelled", "cancellation_pending", "trial", "trial_expired"} <= statuses
    assert any(s[2] == "fixed_term" for s in subs)
    for (
        sid,
        status,
        contract,
        months,
        t_start,
        t_end,
        p_start,
        p_end,
        ended,
        trial_end,
        effective,
    ) in subs:
        assert p_start is not None and p_end is not None and p_start < p_end, sid
        if contract == "fixed_term":
            assert status not in ("trial", "trial_expired"), sid
            assert months and t_start and t_end, sid
            assert t_end == term_end(date.fromisoformat(t_start), months).isoformat(), sid
            assert t_start <= p_start < p_end <= t_end, sid
        else:
            assert (months, t_start, t_end) == (None, None, None), sid
        if status in ("cancelled", "trial_expired"):
            assert ended is not None and ended <= today, sid
        else:
            assert ended is None, sid
        if status == "cancelled":
            assert contract == "month_to_month" or ended == t_end, sid
            assert ended == p_end, sid
        if status == "cancellation_pending":
            assert effective is not None and effective >= today, sid
            assert effective == (t_end if contract == "fixed_term" else p_end), sid
        else:
            assert effective is None, sid
        if status == "trial":
            assert trial_end is not None and trial_end > today, sid
        if status == "trial_expired":
            assert trial_end is not None and trial_end <= today, sid
    # no invoice of a cancelled subscription covers time after it ended
    late = _rows(
        path,
        "SELECT COUNT(*) FROM invoice_lines l JOIN subscriptions s ON s.id = l.subscription_id "
        "WHERE s.status = 'cancelled' AND l.period_end > s.ended_on",
    )
    assert late == [(0,)]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cancelled_build_leaves_no_file_and_a_retry_succeeds(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    path = folder / "demo.sqlite3"
    progress = _CancelAfter(1)
    with pytest.raises(Cancelled):
        build_demo_database(target_from(str(path)), accounts=5000, today=TODAY, progress=progress)
    assert progress.seen  # generation had started: curated data was already written somewhere
    assert _leftovers(folder) == []  # no demo file, no temporary file, no -wal/-shm

    summary = build_demo_database(target_from(str(path)), accounts=50, today=TODAY)
    assert summary.accounts == summary.curated + 50
    assert _leftovers(folder) == ["demo.sqlite3"]
    _assert_books_balance(path)


def test_failed_build_leaves_an_existing_empty_target_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import billing_desktop.services.demo as demo

    path = tmp_path / "empty.sqlite3"
    open_database(target_from(str(path))).dispose()  # a migrated database without accounts
    before = path.read_bytes()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("generation failed")

    monkeypatch.setattr(demo, "generate_accounts", broken)
    with pytest.raises(RuntimeError, match="generation failed"):
        build_demo_database(target_from(str(path)), accounts=10, today=TODAY)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == ["empty.sqlite3"]

    monkeypatch.undo()
    summary = build_demo_database(target_from(str(path)), accounts=10, today=TODAY)
    assert summary.accounts == summary.curated + 10
    assert _leftovers(tmp_path) == ["empty.sqlite3"]


def test_build_refuses_a_database_with_accounts_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "real.sqlite3"
    build_demo_database(target_from(str(path)), today=TODAY)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="already holds accounts"):
        build_demo_database(target_from(str(path)), accounts=10, today=TODAY)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == ["real.sqlite3"]


def test_rows_added_after_generation_get_new_ids(db, make_account) -> None:
    """The generator picks its own ids; the engine's id generators continue after them
    (PostgreSQL's sequences would otherwise hand out ids already taken)."""
    load_curated(db, TODAY)
    generate_accounts(db, 5, seed=1, today=TODAY, fresh_database=True)
    largest = db.reader.scalar("SELECT MAX(id) FROM accounts")
    assert make_account("After Generation Srl") == largest + 1
    from billing_desktop.services.context import local_operator

    operator = local_operator(db)  # a new operator row after the generated representatives
    assert operator.id == db.reader.scalar("SELECT MAX(id) FROM operators")
