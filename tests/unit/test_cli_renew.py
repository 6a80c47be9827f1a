"""``billing-desktop renew``: the renewal engine from the command line."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from billing_desktop.__main__ import main

TODAY = date(2026, 4, 26)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("billing-desktop: error: ")
    return lines[0]


def _settings(path: Path) -> dict[str, str]:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT key, value FROM app_settings").fetchall())
    finally:
        con.close()


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    """A demo database with the curated accounts, its clock on 2026-04-26."""
    from billing_desktop.config import target_from
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    path = tmp_path / "demo.sqlite3"
    db = open_database(target_from(str(path)))
    try:
        load_curated(db, TODAY)
    finally:
        db.dispose()
    return path


def test_renew_runs_to_a_date_and_moves_a_demo_clock(
    demo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["renew", "--db", str(demo_file), "--until", "2026-05-31"]) == 0
    captured = capsys.readouterr()
    [summary] = captured.out.splitlines()
    assert summary.startswith("Renewals through 2026-05-31: ")
    assert "1 trials expired" in summary and "1 cancellations ended" in summary
    assert "Running renewals" in captured.err  # the progress line
    settings = _settings(demo_file)
    assert settings["clock.today"] == "2026-05-31"
    assert settings["renewal.processed_through"] == "2026-05-31"

    assert main(["renew", "--db", str(demo_file), "--until", "2026-05-31"]) == 0
    assert capsys.readouterr().out.startswith("Renewals through 2026-05-31: 0 events;")


def test_renew_defaults_to_the_databases_today(
    demo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["renew", "--db", str(demo_file)]) == 0
    assert capsys.readouterr().out.startswith("Renewals through 2026-04-26: ")
    assert _settings(demo_file)["clock.today"] == "2026-04-26"


def test_a_bad_date_is_a_usage_error(demo_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["renew", "--db", str(demo_file), "--until", "2026-02-30"])
    assert exit_info.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err
    assert _settings(demo_file)["clock.today"] == "2026-04-26"


def test_a_corrupt_database_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("shopping list\n")
    assert main(["renew", "--db", str(path), "--until", "2026-05-01"]) == 1
    assert "not a valid Billing Desktop database" in _one_error_line(capsys.readouterr().err)
    assert path.read_text() == "shopping list\n"


def test_a_missing_database_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.sqlite3"
    assert main(["renew", "--db", str(path)]) == 1
    assert "cannot be found" in _one_error_line(capsys.readouterr().err)
    assert not path.exists()


def test_a_real_database_does_not_run_into_the_future(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "real.sqlite3"
    assert main(["migrate", "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["renew", "--db", str(path), "--until", "2999-01-01"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "only up to today" in line
    assert "renewal.processed_through" not in _settings(path)
    assert main(["renew", "--db", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"Renewals through {date.today().isoformat()}: ")
