"""Account data export: a zip of CSV files plus account.json that matches the database."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from billing_desktop.domain.money import Money
from billing_desktop.services.export import (
    EXPORT_TABLES,
    ExportFailed,
    export_account,
    export_file_name,
)
from billing_desktop.services.invoices import set_invoice_recipients
from billing_desktop.services.payments import record_payment

#: CSV file → SQL counting the account's rows in the database
COUNTS = {
    "contacts": "SELECT COUNT(*) FROM contacts WHERE account_id = :a",
    "subscriptions": "SELECT COUNT(*) FROM subscriptions WHERE account_id = :a",
    "invoices": "SELECT COUNT(*) FROM invoices WHERE account_id = :a",
    "invoice_lines": "SELECT COUNT(*) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
    "WHERE i.account_id = :a",
    "payments": "SELECT COUNT(*) FROM payments WHERE account_id = :a",
    "credits": "SELECT COUNT(*) FROM credits WHERE account_id = :a",
    "payment_methods": "SELECT COUNT(*) FROM payment_methods WHERE account_id = :a",
    "emails": "SELECT COUNT(*) FROM emails WHERE account_id = :a",
    "licence_assignments": "SELECT COUNT(*) FROM licence_assignments la JOIN subscriptions s "
    "ON s.id = la.subscription_id WHERE s.account_id = :a",
}


def _account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def _csv(archive: zipfile.ZipFile, name: str) -> tuple[list[str], list[dict[str, str]]]:
    text = archive.read(f"{name}.csv").decode("utf-8")
    assert not text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _no_floats(text: str) -> None:
    raise AssertionError(f"a float in the export: {text}")


def test_export_matches_the_database(demo_ctx, tmp_path: Path) -> None:
    """A-100009 after a payment that leaves 13.60 of credit: every table non-empty."""
    db = demo_ctx.db
    record_payment(demo_ctx, "A-100009", amount=Money("200.00", "EUR"))
    set_invoice_recipients(demo_ctx, "A-100009", ["contabilidad@martinezasesores.example"])
    account = _account_id(db, "A-100009")
    target = tmp_path / "martinez.zip"
    result = export_account(demo_ctx, "A-100009", target)
    assert result == target
    assert not list(tmp_path.glob(".*.part"))
    with zipfile.ZipFile(result) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == sorted(
            [f"{name}.csv" for name in EXPORT_TABLES] + ["account.json"]
        )
        for name, columns in EXPORT_TABLES.items():
            header, rows = _csv(archive, name)
            assert header == list(columns), name
            assert len(rows) == db.reader.scalar(COUNTS[name], {"a": account}), name
            assert rows, f"{name} should not be empty here"
        _, invoices = _csv(archive, "invoices")
        document = json.loads(archive.read("account.json").decode("utf-8"), parse_float=_no_floats)
    # CSV amounts are decimal strings next to their currency
    db_invoices = dict(
        db.reader.rows(
            "SELECT number, total_minor FROM invoices WHERE account_id = :a", {"a": account}
        )
    )
    assert {r["number"]: (r["total"], r["currency"]) for r in invoices} == {
        n: (f"{Decimal(t) / 100:.2f}", "EUR") for n, t in db_invoices.items()
    }
    overdue = next(r for r in invoices if r["number"] == "INV-2026-000036")
    assert (overdue["issue_date"], overdue["total"], overdue["paid"], overdue["status"]) == (
        "2026-03-09", "186.40", "186.40", "paid",
    )  # fmt: skip
    # the JSON document: everything, invoice totals equal the database's
    assert document["format"] == "billing-desktop/account-export"
    assert document["account"]["account_id"] == "A-100009"
    # 200.00 paid − 186.40 due = 13.60 credit
    assert document["account"]["credit_balance"] == {"amount": "13.60", "currency": "EUR"}
    assert document["account"]["invoice_recipients"] == ["contabilidad@martinezasesores.example"]
    json_totals = {inv["number"]: Decimal(inv["total"]["amount"]) for inv in document["invoices"]}
    assert json_totals == {n: Decimal(t) / 100 for n, t in db_invoices.items()}
    for inv in document["invoices"]:
        lines = sum(Decimal(line["total"]["amount"]) for line in inv["lines"])
        assert lines == Decimal(inv["subtotal"]["amount"]), inv["number"]
    assert len(document["payments"]) == db.reader.scalar(COUNTS["payments"], {"a": account})
    assert len(document["emails"]) == db.reader.scalar(COUNTS["emails"], {"a": account})
    assert {c["email"] for c in document["contacts"]} >= {"elena.martinez@martinezasesores.example"}
    # audited
    ((operator, after),) = db.reader.rows(
        "SELECT operator_id, after_json FROM audit_entries WHERE action = 'account.exported'"
    )
    assert operator == demo_ctx.operator.id
    assert json.loads(after)["counts"]["invoices"] == len(db_invoices)


def test_export_into_a_folder_names_the_file(demo_ctx, tmp_path: Path) -> None:
    result = export_account(demo_ctx, "A-100005", tmp_path)
    assert result == tmp_path / export_file_name("A-100005", demo_ctx.clock.today())
    assert result.name == "A-100005-export-2026-04-26.zip"
    with zipfile.ZipFile(result) as archive:
        _, assignments = _csv(archive, "licence_assignments")
        assert len(assignments) == 5
        _, methods = _csv(archive, "payment_methods")
        assert [(m["brand"], m["last4"]) for m in methods] == [("mastercard", "5100")]


def test_export_to_a_missing_folder_fails_cleanly(demo_ctx, tmp_path: Path) -> None:
    db = demo_ctx.db
    audit_before = db.reader.rows("SELECT * FROM audit_entries")
    with pytest.raises(ExportFailed) as err:
        export_account(demo_ctx, "A-100005", tmp_path / "missing" / "x.zip")
    assert err.value.code == "export_failed"
    assert db.reader.rows("SELECT * FROM audit_entries") == audit_before
    assert not (tmp_path / "missing").exists()


def test_every_role_may_export(as_role, tmp_path: Path) -> None:
    """Exporting is a read: a viewer may back up a customer's data (and it is audited)."""
    viewer = as_role("viewer")
    path = export_account(viewer, "A-100009", tmp_path / "v.zip")
    assert zipfile.is_zipfile(path)


def test_unknown_account_is_reported_not_exported(demo_ctx, tmp_path: Path) -> None:
    from billing_desktop.services.errors import NotFound

    with pytest.raises(NotFound):
        export_account(demo_ctx, "A-999999", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
