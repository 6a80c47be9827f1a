"""Crash injection (issue 9 item 1): a process killed with SIGKILL in the middle of placing
an order, a cancellation, an assisted cancellation or a renewal run leaves every action
entirely written or not at all, invoice numbers gap-free and the outbox exact, and the
same action then succeeds (how: ``crash_harness.py``).

``make stress`` runs 1 000 trials (``tools/stress.py``); these are a few dozen, with a
fixed seed: a failure names the trial's seed, and ``python tools/stress.py --replay SEED``
runs that trial again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import crash_harness as harness
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the harness forks and kills (POSIX)"),
]

#: trials per action in the normal test run
PER_ACTION = 8
SEED = 20260426


@pytest.fixture(scope="module")
def crash_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template database and the reference runs, prepared once for the module."""
    folder = tmp_path_factory.mktemp("crash")
    harness.prepare_in_runner(folder)
    return folder


@pytest.fixture(scope="module")
def trials(crash_folder: Path) -> list[dict[str, Any]]:
    count = PER_ACTION * len(harness.ACTIONS)
    return list(harness.run_trials(crash_folder, count, base_seed=SEED, jobs=2))


def _failures(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for result in results:
        if "error" in result:
            out.append(f"seed {result['seed']}: {result['error']}")
        elif result["partial"] or result["problems"]:
            out.append(harness.describe_failure(result))
    return out


@pytest.mark.parametrize("action", harness.ACTIONS)
def test_a_killed_action_is_entirely_present_or_entirely_absent(
    trials: list[dict[str, Any]], action: str
) -> None:
    results = [r for r in trials if r.get("action") == action or "error" in r]
    assert len(results) >= PER_ACTION
    failures = _failures(results)
    assert not failures, "\n".join(failures)
    # every trial's rerun either did the action or found it done
    assert all(r["rerun"] == "ok" or r["rerun"].startswith("refused:") for r in results)


def test_kills_land_inside_transactions(trials: list[dict[str, Any]]) -> None:
    """The statement-count kills (deterministic for the seed) hit open write transactions
    of every action: the trials test what they claim to."""
    by_statement = [r for r in trials if r["mode"] == "sql"]
    assert {r["action"] for r in by_statement if r["mid_transaction"]} == set(harness.ACTIONS)
    assert {r["variant"] for r in trials} == set(harness.ALL_VARIANTS)


def test_the_harness_catches_an_action_split_over_two_transactions(crash_folder: Path) -> None:
    """A deliberately broken order (its confirmation email queued in a second transaction),
    killed around its two commits: a kill between them is reported as a partial write, a
    kill before the first commit or after the second is not."""
    reference = json.loads((crash_folder / "reference.json").read_text("utf-8"))
    # the order's own statements end with its COMMIT; then BEGIN, INSERT, COMMIT
    order = reference["variants"]["place order/new card"]["statements"]
    specs = [
        {"seed": f"{SEED}-{n}", "variant": harness.SPLIT_ORDER, "mode": "sql", "point": n}
        for n in (1, order // 2, order, order + 1, order + 2, order + 3, order + 4)
    ]
    results = list(harness.run_trials(crash_folder, 0, specs=specs, jobs=2))
    assert not [r for r in results if "error" in r]
    between = [r for r in results if r.get("state") == 1 and r["killed"]]
    assert between, "no kill landed between the two transactions"
    for result in between:
        assert any("partly written" in p and "emails neither" in p for p in result["partial"])
    assert not [r for r in results if r.get("state") in (0, 2) and r["partial"]]
    assert {r.get("state") for r in results} == {0, 1, 2}


def test_the_checks_see_gaps_orphans_and_half_written_rows(
    crash_folder: Path, tmp_path: Path
) -> None:
    path = tmp_path / "damaged.sqlite3"
    shutil.copyfile(crash_folder / "template.sqlite3", path)
    reference = json.loads((crash_folder / "reference.json").read_text("utf-8"))
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        assert harness.invariant_problems(con) == []
        first_ids = reference["first_ids"]
        assert harness.renewal_problems(con, first_ids) == []
        # a number taken but its invoice not written: a gap
        con.execute("UPDATE invoice_series SET next_number = next_number + 1")
        # an invoice line lost
        con.execute("DELETE FROM invoice_lines WHERE id = (SELECT max(id) FROM invoice_lines)")
        problems = harness.invariant_problems(con)
        assert any(p.startswith("series INV-2026: next_number") for p in problems), problems
        assert any("do not add up" in p for p in problems), problems
        # a renewal invoice without its audit entry and its email
        con.execute(
            "INSERT INTO invoices (id, number, account_id, kind, issue_date, due_date, currency,"
            " subtotal_minor, vat_rate_bp, vat_minor, reverse_charge, credit_applied_minor,"
            " total_minor, paid_minor, status, language, version) VALUES (?, 'INV-2026-999999',"
            " 1, 'renewal', '2026-05-01', '2026-05-15', 'EUR', 0, 0, 0, 0, 0, 0, 0, 'open', 'en',"
            " 1)",
            (first_ids["invoices"],),
        )
        renewal = harness.renewal_problems(con, first_ids)
        assert any("without their audit entry" in p for p in renewal), renewal
        assert any("renewal emails" in p for p in renewal), renewal
        assert any("has no lines" in p for p in renewal), renewal

    parts = reference["variants"]["place order/new card"]
    before, after = parts["parts_before"], parts["parts_after"]
    assert harness.check_account_parts(before, before, after) is None
    assert harness.check_account_parts(after, before, after) is None
    mixed = dict(after, emails=before["emails"])
    assert "emails before" in harness.check_account_parts(mixed, before, after)
