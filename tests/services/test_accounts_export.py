"""CSV export of the accounts list: the filtered, sorted rows, page by page, cancellable."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from billing_desktop.services.accounts import AccountFilter, AccountSort, list_accounts
from billing_desktop.services.export import (
    ACCOUNT_LIST_COLUMNS,
    ExportCancelled,
    ExportFailed,
    export_accounts_csv,
)


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    text = raw.decode("utf-8")
    assert "\r\n" in text
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == ACCOUNT_LIST_COLUMNS
    return list(reader)


def rep_id(db, email: str) -> int:
    return int(db.reader.scalar("SELECT id FROM operators WHERE email = :e", {"e": email}))


def test_csv_holds_the_filtered_rows_from_the_database(demo_ctx, tmp_path: Path) -> None:
    db = demo_ctx.db
    rep = db.reader.scalar(
        "SELECT representative_id FROM accounts WHERE account_number = 'A-100015'"
    )
    flt = AccountFilter(representative_id=rep)
    result = export_accounts_csv(demo_ctx, tmp_path / "reps.csv", flt)
    rows = read_csv(result.path)
    expected = db.reader.rows(
        "SELECT a.account_number, a.company_name, a.type, a.country, o.name, "
        "a.active_subscriptions, a.outstanding_minor, a.currency FROM accounts a "
        "JOIN operators o ON o.id = a.representative_id WHERE a.representative_id = :r "
        "ORDER BY a.search_name",
        {"r": rep},
    )
    assert result.rows == len(expected) == len(rows) >= 1
    for row, (number, company, kind, country, name, active, minor, currency) in zip(
        rows, expected, strict=True
    ):
        assert row["account_id"] == number
        assert row["company_name"] == company
        assert row["type"] == kind == "corporate"
        assert row["country"] == country
        assert row["representative"] == name
        assert row["active_subscriptions"] == str(active)
        assert row["balance"] == f"{minor // 100}.{minor % 100:02d}"
        assert row["currency"] == currency
        assert row["status"] in {"active", "overdue"}


def test_csv_follows_the_sort_and_writes_exact_amounts(demo_ctx, tmp_path: Path) -> None:
    path = tmp_path / "by-balance.csv"
    export_accounts_csv(demo_ctx, path, AccountFilter(), AccountSort.BALANCE, descending=True)
    rows = read_csv(path)
    listed = list_accounts(demo_ctx, AccountFilter(), AccountSort.BALANCE, True, limit=1000)
    assert [r["account_id"] for r in rows] == [r.account_number for r in listed]
    assert len(rows) == 19
    by_number = {r["account_id"]: r for r in rows}
    # A-100009's open manual invoice of 186.40 (its only open invoice)
    assert by_number["A-100009"]["balance"] == "186.40"
    assert by_number["A-100001"]["balance"] == "0.00"
    assert by_number["A-100012"]["currency"] == "GBP"
    assert by_number["A-100015"]["representative"]
    assert by_number["A-100001"]["representative"] == ""


def test_export_reads_page_by_page_with_progress(demo_ctx, tmp_path: Path, monkeypatch) -> None:
    from billing_desktop.services import accounts

    limits: list[int] = []
    original = accounts.list_accounts

    def spy(*args, **kwargs):
        limits.append(kwargs["limit"])
        return original(*args, **kwargs)

    monkeypatch.setattr(accounts, "list_accounts", spy)
    reports: list[tuple[int, int]] = []
    result = export_accounts_csv(
        demo_ctx, tmp_path / "paged.csv", AccountFilter(), page_size=5, progress=lambda d, t: (
            reports.append((d, t))
        ),
    )  # fmt: skip
    assert result.rows == 19
    assert limits == [5, 5, 5, 5]  # never more than a page at a time
    assert reports == [(0, 19), (5, 19), (10, 19), (15, 19), (19, 19)]
    names = [r["company_name"] for r in read_csv(result.path)]
    everything = list_accounts(demo_ctx, AccountFilter(), limit=1000)
    assert names == [r.company_name for r in everything]


def test_cancelling_leaves_no_file(demo_ctx, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"  # the database lives in tmp_path itself
    tmp_path.mkdir()
    path = tmp_path / "cancelled.csv"
    pages = []

    def cancelled() -> bool:
        pages.append(1)
        return len(pages) > 2  # after two pages

    with pytest.raises(ExportCancelled):
        export_accounts_csv(demo_ctx, path, AccountFilter(), page_size=5, cancelled=cancelled)
    assert list(tmp_path.iterdir()) == []
    # an existing file is not touched by a cancelled export
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportCancelled):
        export_accounts_csv(demo_ctx, path, AccountFilter(), cancelled=lambda: True)
    assert path.read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["cancelled.csv"]
    assert (
        demo_ctx.db.reader.scalar(
            "SELECT COUNT(*) FROM audit_entries WHERE action = 'accounts.exported'"
        )
        == 0
    )


def test_an_error_midway_leaves_no_file(demo_ctx, tmp_path: Path, monkeypatch) -> None:
    from billing_desktop.services import accounts

    calls = []
    original = accounts.list_accounts

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(accounts, "list_accounts", failing)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError):
        export_accounts_csv(demo_ctx, out / "x.csv", AccountFilter(), page_size=5)
    assert list(out.iterdir()) == []


def test_a_missing_folder_is_a_clear_error(demo_ctx, tmp_path: Path) -> None:
    with pytest.raises(ExportFailed) as caught:
        export_accounts_csv(demo_ctx, tmp_path / "nowhere" / "a.csv", AccountFilter())
    assert caught.value.code == "export_failed"


def test_the_export_is_audited(demo_ctx, tmp_path: Path) -> None:
    flt = AccountFilter(type="corporate", overdue_only=False)
    export_accounts_csv(demo_ctx, tmp_path / "a.csv", flt, AccountSort.COUNTRY)
    (after,) = demo_ctx.db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'accounts.exported'"
    )
    values = json.loads(after[0])
    assert values["rows"] == 2
    assert values["filter"]["type"] == "corporate"
    assert values["sort"] == "country"
    assert values["file"] == str(tmp_path / "a.csv")


def test_an_empty_result_writes_the_header_only(demo_ctx, tmp_path: Path) -> None:
    result = export_accounts_csv(demo_ctx, tmp_path / "none.csv", AccountFilter(text="zzzz"))
    assert result.rows == 0
    assert read_csv(result.path) == []
