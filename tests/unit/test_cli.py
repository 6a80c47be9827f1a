"""The command line: sub-commands, exit codes and one-line errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from billing_desktop.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("billing-desktop: error: ")
    return lines[0]


def test_demo_builds_curated_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "curated" in out
    con = sqlite3.connect(path)
    try:
        kind = con.execute("SELECT value FROM app_settings WHERE key='database.kind'").fetchone()
        accounts = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
    finally:
        con.close()
    assert kind == ("demo",)
    assert accounts >= 15


def test_demo_refuses_a_database_with_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["demo", "--db", str(path)]) == 1
    assert "already holds accounts" in _one_error_line(capsys.readouterr().err)


def test_demo_on_a_corrupt_file_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("shopping list\n")
    assert main(["demo", "--db", str(path)]) == 1
    assert "not a valid Billing Desktop database" in _one_error_line(capsys.readouterr().err)
    assert path.read_text() == "shopping list\n"


def test_migrate_creates_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.sqlite3"
    assert main(["migrate", "--db", str(path)]) == 0
    assert "schema at" in capsys.readouterr().out
    assert path.exists()


def test_migrate_refuses_newer_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "future.sqlite3"
    assert main(["migrate", "--db", str(path)]) == 0
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num='9000_later'")
    con.commit()
    con.close()
    capsys.readouterr()
    assert main(["migrate", "--db", str(path)]) == 1
    assert "newer version" in _one_error_line(capsys.readouterr().err)


def test_migrate_uses_environment_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("BILLING_DESKTOP_DB", str(path))
    assert main(["migrate"]) == 0
    assert str(path) in capsys.readouterr().out


def test_bad_account_count_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--db", "x.sqlite3", "--accounts", "-5"])
    assert info.value.code == 2


@pytest.mark.parametrize("entry", [["-m", "billing_desktop"], ["main.py"]])
def test_entry_points_show_help(entry: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, *entry, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0
    assert "--demo" in result.stdout and "--lang" in result.stdout and "--db" in result.stdout
