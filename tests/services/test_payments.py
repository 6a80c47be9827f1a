"""Payment methods (no full card number anywhere), autopay and "Pay balance"."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import table_names

from billing_desktop.domain.money import Money
from billing_desktop.services.accounts import AccountFilter, list_accounts
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.errors import (
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.services.payments import (
    add_bank_account,
    add_card,
    list_payment_methods,
    record_payment,
    remove_method,
    set_autopay,
    set_default_method,
)

TABLES = (
    "payment_methods",
    "payments",
    "credits",
    "invoices",
    "accounts",
    "emails",
    "audit_entries",
)
VISA = "4012 8888 8888 1881"  # a Luhn-valid Visa test number
VISA_DIGITS = VISA.replace(" ", "")
MASTERCARD = "5555-5555-5555-4444"


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _dump(db, tables=TABLES):
    return {t: db.reader.rows(f"SELECT * FROM {t} ORDER BY 1") for t in tables}


def _account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def _methods(db, number: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT kind, brand, last4, exp_month, exp_year, holder_name, iban_country, is_default "
        "FROM payment_methods WHERE account_id = :a ORDER BY id",
        {"a": _account_id(db, number)},
    )


def _status(ctx, number: str) -> str:
    (row,) = list_accounts(ctx, AccountFilter(text=number))
    return row.status


def _all_text(db) -> str:
    """Every text value of every table, joined (for "appears nowhere")."""
    chunks = []
    for table in table_names(db):
        for row in db.reader.rows(f"SELECT * FROM {table}"):
            chunks.extend(str(v) for v in row if v is not None)
    return "\n".join(chunks)


def _file_bytes(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            data += side.read_bytes()
    return data


# --------------------------------------------------------------------------- cards


def test_add_card_keeps_only_brand_last4_expiry_holder_and_address(demo_ctx, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    db = demo_ctx.db
    info = add_card(
        demo_ctx,
        "A-100002",
        number=VISA,
        exp_month=4,  # valid through the end of April 2026 (today 2026-04-26)
        exp_year=2026,
        holder_name="  Francesca Ferretti ",
        billing_line1="Via dell'Indipendenza 42",
        billing_postal_code="40121",
        billing_city="Bologna",
        billing_country="it",
    )
    assert (info.kind, info.brand, info.last4, info.exp_month, info.exp_year) == (
        "card", "visa", "1881", 4, 2026,
    )  # fmt: skip
    assert info.summary == "Visa •••• 1881"
    assert info.is_default is False  # the Mastercard 5454 stays the default
    assert info.expired is False
    assert _methods(db, "A-100002") == [
        ("card", "mastercard", "5454", 11, 2028, "Francesca Ferretti", None, 1),
        ("card", "visa", "1881", 4, 2026, "Francesca Ferretti", None, 0),
    ]
    assert db.reader.rows(
        "SELECT billing_line1, billing_postal_code, billing_city, billing_country "
        "FROM payment_methods WHERE id = :i",
        {"i": info.id},
    ) == [("Via dell'Indipendenza 42", "40121", "Bologna", "IT")]
    # the full number appears nowhere: not in any column, not in the file, not in logs
    text = _all_text(db)
    for form in (VISA, VISA_DIGITS, VISA_DIGITS[:12]):
        assert form not in text
        if db.target.is_sqlite:
            assert form.encode() not in _file_bytes(Path(db.target.path))
        assert form not in caplog.text
    (after,) = db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'payment_method.added'"
    )
    assert json.loads(after[0])["last4"] == "1881"


def test_first_card_becomes_default_with_the_account_address(demo_ctx) -> None:
    """A-100003 has no payment method (expired trial, no billing information)."""
    info = add_card(
        demo_ctx,
        "A-100003",
        number=MASTERCARD,
        exp_month=12,
        exp_year=30,  # two-digit year = 2030
        holder_name="Antonio Greco",
    )
    assert (info.brand, info.last4, info.exp_year, info.is_default) == (
        "mastercard", "4444", 2030, True,
    )  # fmt: skip
    account = demo_ctx.db.reader.rows(
        "SELECT address_line1, postal_code, city, country FROM accounts "
        "WHERE account_number = 'A-100003'"
    )[0]
    assert (
        info.billing_line1,
        info.billing_postal_code,
        info.billing_city,
        info.billing_country,
    ) == account
    assert [m.last4 for m in list_payment_methods(demo_ctx, "A-100003")] == ["4444"]


@pytest.mark.parametrize(
    ("number", "month", "year", "code"),
    [
        ("4012 8888 8888 1882", 12, 2030, "card_invalid_number"),  # Luhn fails
        (VISA, 3, 2026, "card_expired"),  # March 2026 is before April 2026
        (VISA, 13, 2030, "card_invalid_expiry"),
        ("1234", 12, 2030, "card_invalid_number"),
    ],
)
def test_invalid_or_expired_card_is_refused_and_nothing_stored(
    demo_ctx, caplog, number: str, month: int, year: int, code: str
) -> None:
    caplog.set_level(logging.DEBUG)
    db = demo_ctx.db
    snapshot = _dump(db)
    with pytest.raises(ValidationError) as err:
        add_card(
            demo_ctx,
            "A-100002",
            number=number,
            exp_month=month,
            exp_year=year,
            holder_name="Francesca Ferretti",
        )
    assert err.value.code == code
    digits = number.replace(" ", "")
    for text in (str(err.value), repr(err.value), repr(err.value.params), caplog.text):
        assert digits not in text and number not in text
    assert _dump(db) == snapshot


def test_holder_name_and_country_are_checked(demo_ctx) -> None:
    db = demo_ctx.db
    snapshot = _dump(db)
    with pytest.raises(ValidationError, match="name of the account holder"):
        add_card(demo_ctx, "A-100002", number=VISA, exp_month=1, exp_year=2030, holder_name=" ")
    with pytest.raises(ValidationError) as err:
        add_card(
            demo_ctx, "A-100002", number=VISA, exp_month=1, exp_year=2030,
            holder_name="F F", billing_line1="Via Roma 1", billing_country="Italy",
        )  # fmt: skip
    assert err.value.code == "country_invalid"
    assert _dump(db) == snapshot


def test_make_default_moves_the_single_default(demo_ctx) -> None:
    db = demo_ctx.db
    info = add_card(
        demo_ctx, "A-100002", number=VISA, exp_month=1, exp_year=2031,
        holder_name="F F", make_default=True,
    )  # fmt: skip
    assert info.is_default
    assert [m[7] for m in _methods(db, "A-100002")] == [0, 1]
    old = db.reader.scalar(
        "SELECT id FROM payment_methods WHERE last4 = '5454' AND account_id = :a",
        {"a": _account_id(db, "A-100002")},
    )
    assert set_default_method(demo_ctx, "A-100002", old).is_default
    assert [m[7] for m in _methods(db, "A-100002")] == [1, 0]
    assert [m.last4 for m in list_payment_methods(demo_ctx, "A-100002")] == ["5454", "1881"]


def test_an_expired_card_cannot_become_default(demo_ctx) -> None:
    db = demo_ctx.db
    info = add_card(
        demo_ctx, "A-100002", number=VISA, exp_month=4, exp_year=2026, holder_name="F F"
    )
    later = dataclasses.replace(demo_ctx, clock=FixedClock(date(2026, 5, 1)))
    snapshot = _dump(db)
    with pytest.raises(PolicyViolation) as err:
        set_default_method(later, "A-100002", info.id)
    assert err.value.code == "card_expired"
    assert _dump(db) == snapshot
    assert [m.expired for m in list_payment_methods(later, "A-100002")] == [False, True]


# --------------------------------------------------------------------------- bank accounts


def test_bank_account_keeps_country_and_last4(demo_ctx) -> None:
    db = demo_ctx.db
    info = add_bank_account(
        demo_ctx, "A-100005", iban="NL91 ABNA 0417 1643 00", holder_name="De Vries B.V."
    )
    assert (info.kind, info.iban_country, info.last4, info.is_default) == (
        "bank_account", "NL", "4300", False,
    )  # fmt: skip
    assert info.summary == "Bank account •••• 4300"
    assert "0417164300" not in _all_text(db)


@pytest.mark.parametrize(
    ("iban", "code"),
    [
        ("NL91ABNA0417164301", "iban_invalid_checksum"),
        ("not an iban", "iban_invalid_format"),
    ],
)
def test_invalid_iban_is_refused(demo_ctx, iban: str, code: str) -> None:
    snapshot = _dump(demo_ctx.db)
    with pytest.raises(ValidationError) as err:
        add_bank_account(demo_ctx, "A-100005", iban=iban, holder_name="X")
    assert err.value.code == code
    assert iban.replace(" ", "") not in str(err.value)
    assert _dump(demo_ctx.db) == snapshot


# --------------------------------------------------------------------------- removing, autopay


def test_only_method_of_an_autopay_account_cannot_be_removed(demo_ctx) -> None:
    """A-100002: autopay on, one Mastercard, an active paid v5 plan."""
    db = demo_ctx.db
    only = db.reader.scalar(
        "SELECT id FROM payment_methods WHERE account_id = :a",
        {"a": _account_id(db, "A-100002")},
    )
    snapshot = _dump(db)
    with pytest.raises(PolicyViolation) as err:
        remove_method(demo_ctx, "A-100002", only)
    assert err.value.code == "last_autopay_method"
    assert "Mastercard •••• 5454" in str(err.value)
    assert _dump(db) == snapshot
    # with a second card the default can go; the other card becomes the default
    added = add_card(
        demo_ctx, "A-100002", number=VISA, exp_month=1, exp_year=2031, holder_name="F F"
    )
    left = remove_method(demo_ctx, "A-100002", only)
    assert [(m.id, m.is_default) for m in left] == [(added.id, True)]
    (before,) = db.reader.rows(
        "SELECT before_json FROM audit_entries WHERE action = 'payment_method.removed'"
    )
    assert json.loads(before[0])["last4"] == "5454"


def test_only_method_can_be_removed_when_autopay_is_off(demo_ctx) -> None:
    """A-100009 has autopay off: its only card may be removed."""
    db = demo_ctx.db
    only = db.reader.scalar(
        "SELECT id FROM payment_methods WHERE account_id = :a",
        {"a": _account_id(db, "A-100009")},
    )
    assert remove_method(demo_ctx, "A-100009", only) == ()
    assert _methods(db, "A-100009") == []
    with pytest.raises(NotFound):
        remove_method(demo_ctx, "A-100009", only)


def test_autopay_on_off_and_corporate_pays_by_invoice(demo_ctx) -> None:
    db = demo_ctx.db
    state = set_autopay(demo_ctx, "A-100009", True)
    assert (state.autopay, state.changed) == (True, True)
    assert db.reader.scalar("SELECT autopay FROM accounts WHERE account_number='A-100009'") == 1
    assert set_autopay(demo_ctx, "A-100009", True).changed is False
    assert set_autopay(demo_ctx, "A-100009", False).autopay is False
    snapshot = _dump(db)
    with pytest.raises(PolicyViolation) as err:
        set_autopay(demo_ctx, "A-100015", True)
    assert err.value.code == "corporate_pays_by_invoice"
    with pytest.raises(PolicyViolation) as err:
        set_autopay(demo_ctx, "A-100003", True)  # no card or bank account on file
    assert err.value.code == "autopay_needs_method"
    assert _dump(db) == snapshot


# --------------------------------------------------------------------------- Pay balance


def test_pay_balance_clears_the_overdue_invoice(demo_ctx) -> None:
    """A-100009: INV-2026-000036 of 186.40 fell due on 2026-04-08, 18 days ago."""
    db = demo_ctx.db
    assert _status(demo_ctx, "A-100009") == "overdue"
    result = record_payment(demo_ctx, "A-100009")  # default: the whole balance
    assert result.amount == eur("186.40")
    assert [(a.invoice_number, a.amount, a.settled) for a in result.applied] == [
        ("INV-2026-000036", eur("186.40"), True)
    ]
    assert result.credit_created == eur("0.00")
    assert result.outstanding == eur("0.00")
    assert result.method_summary == "Visa •••• 7719"  # the default card on file
    assert _status(demo_ctx, "A-100009") == "active"
    assert db.reader.rows(
        "SELECT status, paid_minor FROM invoices WHERE number = 'INV-2026-000036'"
    ) == [("paid", 18640)]
    assert db.reader.rows(
        "SELECT i.number, p.amount_minor, p.currency, p.method_summary, p.received_at "
        "FROM payments p JOIN invoices i ON i.id = p.invoice_id "
        "WHERE i.number = 'INV-2026-000036'"
    ) == [("INV-2026-000036", 18640, "EUR", "Visa •••• 7719", "2026-04-26 09:00:00.000000")]
    assert db.reader.rows(
        "SELECT outstanding_minor, oldest_due_date, credit_balance_minor FROM accounts "
        "WHERE account_number = 'A-100009'"
    ) == [(0, None, 0)]
    ((kind, to, subject, body),) = db.reader.rows(
        "SELECT kind, to_address, subject, body_text FROM emails WHERE id = :i",
        {"i": result.email_id},
    )
    assert kind == "payment_received"
    assert to == "elena.martinez@martinezasesores.example"
    assert "186.40" in subject and "INV-2026-000036" in body
    ((before, after),) = db.reader.rows(
        "SELECT before_json, after_json FROM audit_entries WHERE action = 'payment.recorded'"
    )
    assert json.loads(before)["outstanding"] == "186.40"
    assert json.loads(after)["applied"] == {"INV-2026-000036": "186.40"}


def test_overpayment_becomes_account_credit(demo_ctx) -> None:
    db = demo_ctx.db
    result = record_payment(demo_ctx, "A-100009", amount=eur("200.00"), reference="TRF-77")
    # 200.00 − 186.40 due = 13.60 credit
    assert result.credit_created == eur("13.60")
    assert result.credit_balance == eur("13.60")
    assert result.outstanding == eur("0.00")
    account = _account_id(db, "A-100009")
    assert db.reader.rows(
        "SELECT invoice_id IS NULL, amount_minor, reference FROM payments "
        "WHERE account_id = :a AND received_at >= '2026-04-26' ORDER BY id",
        {"a": account},
    ) == [(0, 18640, "TRF-77"), (1, 1360, "TRF-77")]
    assert db.reader.rows(
        "SELECT invoice_id, amount_minor, reason FROM credits WHERE account_id = :a",
        {"a": account},
    ) == [(None, 1360, "Overpayment TRF-77")]
    assert (
        db.reader.scalar("SELECT credit_balance_minor FROM accounts WHERE id = :a", {"a": account})
        == 1360
    )
    # books: Σ invoices − Σ payments = outstanding − credit = 0 − 13.60
    invoices = db.reader.scalar(
        "SELECT SUM(total_minor) FROM invoices WHERE account_id = :a AND status != 'void'",
        {"a": account},
    )
    payments = db.reader.scalar(
        "SELECT SUM(amount_minor) FROM payments WHERE account_id = :a", {"a": account}
    )
    assert invoices - payments == 0 - 1360


def test_payment_email_gets_values_not_english_words(demo_ctx) -> None:
    """The "payment received" email of a Spanish account gets the invoices paid (a list)
    and the part that became account credit (Money), never English prose to paste in."""
    from billing_desktop.services.mail import EmailKind, PlainRenderer

    seen: list[tuple[str, str, dict]] = []

    class Recording(PlainRenderer):
        def email(self, kind, language, params):
            seen.append((kind, language, dict(params)))
            return super().email(kind, language, params)

    ctx = dataclasses.replace(demo_ctx, renderer=Recording())
    # 200.00 pays INV-2026-000036 (186.40); 200.00 − 186.40 = 13.60 becomes credit
    record_payment(ctx, "A-100009", amount=eur("200.00"))
    # nothing is due any more: all of 50.00 becomes account credit
    record_payment(ctx, "A-100009", amount=eur("50.00"))
    paid, credit_only = seen
    assert paid[:2] == credit_only[:2] == (EmailKind.PAYMENT_RECEIVED, "es")
    assert {k: paid[2][k] for k in ("amount", "invoice_numbers", "to_credit")} == {
        "amount": eur("200.00"), "invoice_numbers": ["INV-2026-000036"],
        "to_credit": eur("13.60"),
    }  # fmt: skip
    assert {k: credit_only[2][k] for k in ("amount", "invoice_numbers", "to_credit")} == {
        "amount": eur("50.00"), "invoice_numbers": [], "to_credit": eur("50.00"),
    }  # fmt: skip
    bodies = demo_ctx.db.reader.rows(
        "SELECT body_text FROM emails WHERE kind = 'payment_received' ORDER BY id"
    )
    # the words come from the template (translated there), not from the values
    assert all("for account credit" not in body and " for ." not in body for (body,) in bodies)


def test_partial_payment_leaves_the_invoice_open(demo_ctx) -> None:
    result = record_payment(demo_ctx, "A-100009", amount=eur("100.00"))
    assert [(a.amount, a.settled) for a in result.applied] == [(eur("100.00"), False)]
    # 186.40 − 100.00 = 86.40 still due, still past its due date
    assert result.outstanding == eur("86.40")
    assert _status(demo_ctx, "A-100009") == "overdue"
    record_payment(demo_ctx, "A-100009")
    assert _status(demo_ctx, "A-100009") == "active"


def test_oldest_invoice_is_paid_first(demo_ctx, make_account) -> None:
    """Two open invoices of 10.00 (issued 2026-04-01) and 20.00 (2026-04-20); pay 15.00."""
    from billing_desktop.services.invoicing import DraftLine, figures_for_account, issue_invoice
    from billing_desktop.store.models import Account

    db = demo_ctx.db
    account_id = make_account(country="US", currency="USD", autopay=False)
    numbers = []
    with db.transaction() as session:
        account = session.get(Account, account_id)
        for amount, day in (("10.00", 1), ("20.00", 20)):
            usd = Money(amount, "USD")
            figures = figures_for_account(account, [DraftLine("manual", "Consulting", 1, usd, usd)])
            invoice = issue_invoice(
                session, account, figures, kind="manual",
                issued_at=datetime(2026, 4, day, 9, 0), charge=False,
            )  # fmt: skip
            numbers.append(invoice.number)
    result = record_payment(demo_ctx, account_id, amount=Money("15.00", "USD"))
    # 10.00 settles the older one, the remaining 5.00 goes to the newer one
    assert [(a.invoice_number, a.amount, a.settled) for a in result.applied] == [
        (numbers[0], Money("10.00", "USD"), True),
        (numbers[1], Money("5.00", "USD"), False),
    ]
    assert result.outstanding == Money("15.00", "USD")
    assert result.method_summary == "bank transfer"  # no method on file


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_zero_or_negative_payment_is_refused(demo_ctx, amount: str) -> None:
    snapshot = _dump(demo_ctx.db)
    with pytest.raises(ValidationError) as err:
        record_payment(demo_ctx, "A-100009", amount=eur(amount))
    assert err.value.code == "payment_not_positive"
    assert _dump(demo_ctx.db) == snapshot


def test_payment_in_another_currency_or_with_nothing_due_is_refused(demo_ctx) -> None:
    snapshot = _dump(demo_ctx.db)
    with pytest.raises(ValidationError) as err:
        record_payment(demo_ctx, "A-100009", amount=Money("186.40", "USD"))
    assert err.value.code == "payment_currency_mismatch"
    with pytest.raises(PolicyViolation) as err:
        record_payment(demo_ctx, "A-100002")  # everything paid by autopay
    assert err.value.code == "nothing_due"
    assert _dump(demo_ctx.db) == snapshot


def test_payment_with_a_method_of_another_account_is_refused(demo_ctx) -> None:
    db = demo_ctx.db
    foreign = db.reader.scalar(
        "SELECT id FROM payment_methods WHERE account_id = :a",
        {"a": _account_id(db, "A-100002")},
    )
    snapshot = _dump(db)
    with pytest.raises(NotFound):
        record_payment(demo_ctx, "A-100009", method_id=foreign)
    assert _dump(db) == snapshot


# --------------------------------------------------------------------------- permissions


def test_viewer_is_refused_for_every_write(as_role, demo_ctx) -> None:
    db = demo_ctx.db
    viewer = as_role("viewer")
    method = db.reader.scalar(
        "SELECT id FROM payment_methods WHERE account_id = :a",
        {"a": _account_id(db, "A-100009")},
    )
    snapshot = _dump(db)
    calls = [
        lambda: add_card(
            viewer, "A-100009", number=VISA, exp_month=1, exp_year=2031, holder_name="E M"
        ),
        lambda: add_bank_account(viewer, "A-100009", iban="NL91ABNA0417164300", holder_name="E M"),
        lambda: set_default_method(viewer, "A-100009", method),
        lambda: remove_method(viewer, "A-100009", method),
        lambda: set_autopay(viewer, "A-100009", True),
        lambda: record_payment(viewer, "A-100009"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert _dump(db) == snapshot
    assert len(list_payment_methods(viewer, "A-100009")) == 1


def test_representative_works_only_on_assigned_corporate_accounts(as_role, demo_ctx) -> None:
    """A-100015 belongs to representative Chiara Lombardi."""
    db = demo_ctx.db
    rep_email = db.reader.scalar(
        "SELECT o.email FROM operators o JOIN accounts a ON a.representative_id = o.id "
        "WHERE a.account_number = 'A-100015'"
    )
    own = as_role("representative", rep_email)
    other = as_role("representative", "someone.else@operators.example")
    snapshot = _dump(db)
    with pytest.raises(PermissionDenied):
        set_autopay(other, "A-100015", False)
    with pytest.raises(PermissionDenied):
        record_payment(own, "A-100009", amount=eur("1.00"))
    assert _dump(db) == snapshot
    assert set_autopay(own, "A-100015", False).changed is False
