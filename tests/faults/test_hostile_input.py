"""Hostile input at every service entry point that takes user values (issue 9, item 3).

Each call gets values a user (or a paste) can produce at their worst: empty and
10 000-character strings, NUL and other control characters, RTL text and emoji,
SQL and LIKE metacharacters, numbers that are negative, huge, ``NaN`` or
``Infinity`` as text, malformed card, IBAN and VAT numbers, dates in year 1 and
year 9999. The rule (:func:`refused_or_done`): the service either does its job
or refuses with a :class:`DomainError` whose message the UI translates — and a
refused call writes nothing (every table is compared before and after). Any
other exception fails the test.

Hypothesis runs a few dozen examples per entry point (``deadline=None``: a
service call is a database transaction); the examples share one copy of the
curated demo database per test, so an accepted value is the next example's
starting point.

Known limits, reported rather than tested here: ids outside the 64-bit range
raise ``OverflowError`` in the SQLite driver (ids come from the UI's own rows,
never from typing); on PostgreSQL a NUL character in any text raises
``DataError`` (SQLite stores it) — see the report of issue 9.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from faults.support import checkpoint
from helpers import dump
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from billing_desktop.config import target_from
from billing_desktop.domain.errors import DomainError, ValidationError
from billing_desktop.domain.money import Money
from billing_desktop.services import (
    accounts,
    cancellation,
    cart,
    checkout,
    invoice_list,
    invoices,
    licences,
    operators,
    payments,
    smtp,
    time_travel,
)
from billing_desktop.services.cart import CartChange
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.context import AppContext, local_operator
from billing_desktop.store.database import open_database
from billing_desktop.store.invoice_queries import InvoiceFilter, InvoiceSort
from billing_desktop.store.queries import AccountFilter, AccountSort

TODAY = date(2026, 4, 26)

HOSTILE_STRINGS = [
    "", " ", "\t\r\n", "x" * 10_000, "é" * 10_000, "\x00", "a\x00b", "\x07\x1b[31m",
    "'; DROP TABLE accounts; --", "' OR '1'='1", '"', "`", "%", "_", "%_%", "\\", "\\%",
    "[a-z]*", "-1", "-0", "0", "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf",
    "1e999", "-1e999", "9" * 40, "0x1F", "١٢٣", "１２３", "\u202eevil\u202c", "مرحبا",
    "שלום עולם", "😀😀😀", "👨‍👩‍👧‍👦", "\ufeff", "\u200b", "Ω≈ç√∫", "A-100005", "INV-2026-000065",
    "null", "None", "<script>alert(1)</script>", "{0}", "{path}", "%s%n", "NL", "IT",
    "NL123456789B01", "IT07664550212", "DE89370400440532013000", "4111111111111111",
]  # fmt: skip

#: text as a user (or a paste) can produce it: no lone surrogates (Qt never hands those over)
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)
hostile_int = st.one_of(
    st.sampled_from([-(2**63), -1, 0, 1, 2, 13, 10**6, 2**31, 2**63 - 1]),
    st.integers(-(2**63), 2**63 - 1),
)
hostile_amount = st.one_of(
    st.sampled_from(
        ["NaN", "sNaN", "Infinity", "-Infinity", "-1", "0", "-0.00", "0.001", "0.005", "1e30",
         "1e-30", "99999999999999999.99", "abc", "", " 1 ", "1,5", "١٢", "1_000"]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
far_dates = st.one_of(
    st.sampled_from([date(1, 1, 1), date(1900, 1, 1), date(9999, 12, 31), TODAY]), st.dates()
)

HOSTILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- the harness


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The curated demo database (2026-04-26), built once for the module."""
    from billing_desktop.services.demo import load_curated

    path = tmp_path_factory.mktemp("hostile") / "demo.sqlite3"
    db = open_database(target_from(str(path)))
    load_curated(db, TODAY)
    db.dispose()
    checkpoint(path)
    return path


@pytest.fixture
def hctx(demo_file: Path, tmp_path: Path, qapp):
    """A context on this test's own copy of the demo database (admin, demo clock)."""
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_file, path)
    db = open_database(target_from(str(path)))
    yield AppContext(db=db, clock=FixedClock(TODAY), operator=local_operator(db), is_demo=True)
    db.dispose()


def refused_or_done(db: Any, call: Any) -> Any:
    """Run ``call``: its result, or None when it was refused with a translatable
    message; a refusal must leave every table as it was. Anything else fails."""
    from billing_desktop.ui.errors import error_text

    before = dump(db)
    try:
        return call()
    except DomainError as err:
        assert err.code, repr(err)
        assert err.message and error_text(err), repr(err)
        assert dump(db) == before, f"{err.code}: refused, yet something was written"
        return None


def _id(db: Any, sql: str, **params: Any) -> int:
    value = db.reader.scalar(sql, params)
    assert value is not None, sql
    return int(value)


def account_id(db: Any, number: str) -> int:
    return _id(db, "SELECT id FROM accounts WHERE account_number = :n", n=number)


def subscription_id(db: Any, number: str, product: str) -> int:
    return _id(
        db,
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "JOIN products p ON p.id = s.product_id WHERE a.account_number = :n AND p.code = :p",
        n=number, p=product,
    )  # fmt: skip


def invoice_id(db: Any, number: str) -> int:
    return _id(db, "SELECT id FROM invoices WHERE number = :n", n=number)


# --------------------------------------------------------------------------- accounts


@HOSTILE
@given(field=st.sampled_from(accounts.EDITABLE_FIELDS), value=hostile_text)
@example(field="type", value="")
@example(field="company_name", value="x" * 10_000)
@example(field="vat_number", value="'; DROP TABLE accounts; --")
def test_account_edit(hctx, field: str, value: str) -> None:
    """Every Overview field: refused with a message naming the field, or saved as typed."""
    aid = account_id(hctx.db, "A-100005")
    shown = accounts.account_overview(hctx, aid)
    changes = accounts.AccountChanges(**{field: value})
    errors = accounts.change_errors(shown, changes)  # what the Overview says as one types
    saved = refused_or_done(
        hctx.db,
        lambda: accounts.update_account(hctx, aid, changes, expected_version=shown.version),
    )
    if saved is None:
        return
    assert field not in errors  # the form and the service agree
    kept = saved.value(field)
    if field in ("address_line1", "address_line2", "postal_code", "city", "region"):
        assert kept == value.strip()
    elif field == "company_name":
        assert kept == " ".join(value.split())


@HOSTILE
@given(values=st.fixed_dictionaries(dict.fromkeys(accounts.EDITABLE_FIELDS, hostile_text)))
def test_account_edit_of_every_field_at_once(hctx, values: dict[str, str]) -> None:
    aid = account_id(hctx.db, "A-100002")
    version = accounts.account_overview(hctx, aid).version
    refused_or_done(
        hctx.db,
        lambda: accounts.update_account(
            hctx, aid, accounts.AccountChanges(**values), expected_version=version
        ),
    )


@HOSTILE
@given(key=st.one_of(hostile_text, hostile_int))
def test_account_lookup_by_any_key(hctx, key: str | int) -> None:
    refused_or_done(hctx.db, lambda: accounts.account_overview(hctx, key))


# --------------------------------------------------------------------------- search and lists


@HOSTILE
@given(text=hostile_text, limit=st.sampled_from([-1, 0, 1, 20, 10**6]))
def test_quick_search_and_the_list_filters_read_without_failing(
    hctx, text: str, limit: int
) -> None:
    before = dump(hctx.db)
    hits = accounts.quick_search(hctx, text, limit)
    assert len(hits) <= max(limit, 0)
    for flt in (
        AccountFilter(text=text),
        AccountFilter(country=text or None),
        AccountFilter(type=text or None),
        AccountFilter(text=text, overdue_only=True),
    ):
        rows = refused_or_done(hctx.db, lambda flt=flt: accounts.list_accounts(hctx, flt))
        count = refused_or_done(hctx.db, lambda flt=flt: accounts.count_accounts(hctx, flt))
        if rows is not None and count is not None:
            assert len(rows) == min(count, 200)
    for inv_flt in (InvoiceFilter(account=text), InvoiceFilter(status=text or None)):
        refused_or_done(
            hctx.db,
            lambda f=inv_flt: invoice_list.invoice_page(hctx, f, InvoiceSort.NUMBER, False),
        )
        refused_or_done(hctx.db, lambda f=inv_flt: invoice_list.count_invoices(hctx, f))
    assert dump(hctx.db) == before  # a search never writes


@HOSTILE
@given(date_from=st.none() | far_dates, date_to=st.none() | far_dates)
def test_invoice_list_dates_far_in_the_past_or_future(hctx, date_from, date_to) -> None:
    flt = InvoiceFilter(date_from=date_from, date_to=date_to)
    rows = refused_or_done(
        hctx.db, lambda: invoice_list.invoice_page(hctx, flt, InvoiceSort.DUE_DATE, True)
    )
    count = refused_or_done(hctx.db, lambda: invoice_list.count_invoices(hctx, flt))
    if rows is not None and count is not None:
        assert len(rows) == min(count, 200)
        assert all(
            (date_from is None or r.issue_date >= date_from)
            and (date_to is None or r.issue_date <= date_to)
            for r in rows
        )


def test_sql_and_like_metacharacters_match_literally(hctx) -> None:
    """"%" and "_" are characters to find, not wildcards; quotes are just quotes."""
    db = hctx.db
    aid = account_id(db, "A-100001")
    version = accounts.account_overview(hctx, aid).version
    accounts.update_account(
        hctx, aid, accounts.AccountChanges(company_name="100% O'Brien_Partners"),
        expected_version=version,
    )  # fmt: skip
    hits = [h.account_number for h in accounts.quick_search(hctx, "100% O'Brien_")]
    assert hits == ["A-100001"]
    # "%" and "_" are no wildcards: "1%" is not "1 and then anything"
    assert accounts.quick_search(hctx, "1%") == []
    assert accounts.quick_search(hctx, "1__%") == []
    # (the word search reads letters and digits only: "100%%" is the word "100")
    assert [h.account_number for h in accounts.quick_search(hctx, "100%%")] == ["A-100001"]
    assert [r.account_number for r in accounts.list_accounts(hctx, AccountFilter(text="_"))] == [
        "A-100001"
    ]
    assert accounts.count_accounts(hctx, AccountFilter(text="%")) == 1
    assert accounts.count_accounts(hctx, AccountFilter(text="'; DROP TABLE accounts; --")) == 0
    assert invoice_list.count_invoices(hctx, InvoiceFilter(account="%")) == 0
    assert accounts.count_accounts(hctx, AccountFilter()) == 19  # nothing was dropped


# --------------------------------------------------------------------------- payment methods


@HOSTILE
@given(
    number=hostile_text | st.sampled_from(["4111 1111 1111 1111", "4111-1111-1111-1112",
                                           "5555555555554444", "378282246310005"]),
    month=hostile_int,
    year=st.one_of(hostile_int, st.integers(2000, 2100)),
    holder=hostile_text,
    address=st.tuples(hostile_text, hostile_text, hostile_text, hostile_text),
)  # fmt: skip
@example(number="4111111111111111", month=12, year=2030, holder="x" * 10_000,
         address=("", "", "", ""))  # fmt: skip
@example(number="4111111111111111", month=12, year=9999, holder="Anna", address=("", "", "", ""))
def test_add_card(hctx, number, month, year, holder, address) -> None:
    line1, postal, city, country = address
    aid = account_id(hctx.db, "A-100005")
    info = refused_or_done(
        hctx.db,
        lambda: payments.add_card(
            hctx, aid, number=number, exp_month=month, exp_year=year, holder_name=holder,
            billing_line1=line1, billing_postal_code=postal, billing_city=city,
            billing_country=country,
        ),
    )  # fmt: skip
    if info is not None:
        digits = "".join(ch for ch in number if ch.isdigit())
        assert digits not in repr(dump(hctx.db))  # never stored whole


@HOSTILE
@given(
    iban=hostile_text | st.sampled_from(["NL91 ABNA 0417 1643 00", "NL91ABNA0417164301",
                                         "DE89 3704 0044 0532 0130 00", "XX00"]),
    holder=hostile_text,
)  # fmt: skip
def test_add_bank_account(hctx, iban: str, holder: str) -> None:
    aid = account_id(hctx.db, "A-100005")
    refused_or_done(
        hctx.db, lambda: payments.add_bank_account(hctx, aid, iban=iban, holder_name=holder)
    )


@HOSTILE
@given(method_id=hostile_int, action=st.sampled_from(["default", "remove", "pay"]))
def test_payment_method_ids(hctx, method_id: int, action: str) -> None:
    aid = account_id(hctx.db, "A-100002")
    calls = {
        "default": lambda: payments.set_default_method(hctx, aid, method_id),
        "remove": lambda: payments.remove_method(hctx, aid, method_id),
        "pay": lambda: payments.record_payment(hctx, aid, method_id=method_id),
    }
    refused_or_done(hctx.db, calls[action])


@HOSTILE
@given(amount=hostile_amount, currency=st.sampled_from(["EUR", "", "eur", "XXX", "\x00", "€"]),
       reference=hostile_text)  # fmt: skip
def test_record_payment_amounts(hctx, amount: str, currency: str, reference: str) -> None:
    aid = account_id(hctx.db, "A-100009")  # one overdue invoice, a card on file
    result = refused_or_done(
        hctx.db,
        lambda: payments.record_payment(
            hctx, aid, amount=Money(amount, currency), reference=reference
        ),
    )
    if result is not None:
        assert Decimal(amount.strip()) > 0


# --------------------------------------------------------------------------- VAT numbers


@HOSTILE
@given(country=st.sampled_from(["NL", "IT", "DE", "FR", "GB", "US", "ES"]), number=hostile_text)
@example(country="IT", number="IT07664550213")
@example(country="NL", number="NL" + "9" * 40)
def test_vat_numbers_on_the_account_and_at_checkout(hctx, country: str, number: str) -> None:
    aid = account_id(hctx.db, "A-100005")
    ov = accounts.account_overview(hctx, aid)
    refused_or_done(
        hctx.db,
        lambda: accounts.update_account(
            hctx, aid, accounts.AccountChanges(country=country, vat_number=number),
            expected_version=ov.version,
        ),
    )  # fmt: skip
    v5 = subscription_id(hctx.db, "A-100003", "gotoassist_rs_v5")
    refused_or_done(
        hctx.db,
        lambda: checkout.preview(
            hctx, "A-100003", items=[CartChange.subscribe(subscription_id=v5)], vat_number=number
        ),
    )


# --------------------------------------------------------------------------- cart and checkout


cart_changes = st.builds(
    CartChange,
    kind=st.sampled_from([*cart.CartItemKind, "upgrade", ""]),
    subscription_id=st.none() | hostile_int,
    product=st.none() | st.sampled_from(["goto_meeting", "goto_webinar", "gotoassist_rs_v5"])
    | hostile_text,
    plan=st.none() | st.sampled_from(["standard", "premium", "business"]) | hostile_text,
    licences=st.none() | hostile_int,
    frequency=st.none() | st.sampled_from(["monthly", "annual"]) | hostile_text,
    addon=st.none() | hostile_text,
)


@HOSTILE
@given(change=cart_changes, licences_=hostile_int)
@example(change=CartChange.subscribe(product="goto_meeting", licences=-1), licences_=0)
@example(change=CartChange.subscribe(product="goto_meeting", licences=2**63 - 1),
         licences_=10**6)  # fmt: skip
def test_cart_quantities_and_items(hctx, change: CartChange, licences_: int) -> None:
    v5 = subscription_id(hctx.db, "A-100002", "gotoassist_rs_v5")
    refused_or_done(hctx.db, lambda: cart.add_to_cart(hctx, "A-100002", change))
    fewer_or_more = CartChange.change_licences(v5, licences_)
    refused_or_done(hctx.db, lambda: cart.add_to_cart(hctx, "A-100002", fewer_or_more))
    refused_or_done(hctx.db, lambda: cart.remove_from_cart(hctx, "A-100002", licences_))
    view = cart.get_cart(hctx, "A-100002")
    assert all(
        line.licences is None or 1 <= line.licences <= 10**6 for line in view.items
    )


payment_inputs = st.one_of(
    st.none(),
    hostile_int,
    st.builds(checkout.ExistingMethod, hostile_int),
    st.builds(checkout.NewCard, number=hostile_text | st.just("5555 5555 5555 4444"),
              exp_month=hostile_int, exp_year=hostile_int | st.just(2030),
              holder_name=hostile_text, billing_country=hostile_text),
    st.builds(checkout.NewBankAccount, iban=hostile_text | st.just("NL91ABNA0417164300"),
              holder_name=hostile_text),
)  # fmt: skip


@HOSTILE
@given(
    licences_=hostile_int,
    payment=payment_inputs,
    vat=st.none() | hostile_text,
    key=hostile_text,
)
@example(licences_=3, payment=None, vat=None, key="x" * 10_000)
def test_checkout_preview_and_place_order(hctx, licences_, payment, vat, key) -> None:
    v5 = subscription_id(hctx.db, "A-100002", "gotoassist_rs_v5")
    items = [CartChange.change_licences(v5, licences_)]
    refused_or_done(
        hctx.db, lambda: checkout.preview(hctx, "A-100002", items=items, vat_number=vat)
    )
    result = refused_or_done(
        hctx.db,
        lambda: checkout.place_order(
            hctx, "A-100002", idempotency_key=key, items=items, payment=payment, vat_number=vat
        ),
    )
    if result is not None:
        assert 1 <= licences_ <= 10**6


# --------------------------------------------------------------------------- cancellation


@HOSTILE
@given(reason=st.sampled_from(["too_expensive", "other", "", "OTHER"]) | hostile_text,
       text=hostile_text)  # fmt: skip
@example(reason="other", text="x" * 10_000)
@example(reason="other", text="\x00")
def test_cancellation_reason_and_comment(hctx, reason: str, text: str) -> None:
    try:
        code, clean = cancellation.check_reason(reason, text)
    except ValidationError:
        code = None
    sub = subscription_id(hctx.db, "A-100002", "gotoassist_rs_v5")  # cancelled once at most
    result = refused_or_done(
        hctx.db, lambda: cancellation.cancel_online(hctx, sub, reason=reason, reason_text=text)
    )
    if result is not None:
        assert code is not None and clean == text.strip()


@HOSTILE
@given(values=st.tuples(hostile_text, hostile_text, hostile_text, hostile_text, hostile_text))
@example(values=("A-100005", "sanne.devries@vanderberg-techniek.example", "%", "_", "'"))
def test_caller_verification(hctx, values: tuple[str, ...]) -> None:
    number, email, last4, address, postal = values
    refused_or_done(
        hctx.db,
        lambda: cancellation.verify_caller(
            hctx, "A-100005", account_number=number, billing_admin_email=email, last4=last4,
            billing_address=address, postal_code=postal,
        ),
    )  # fmt: skip


# --------------------------------------------------------------------------- invoices


@HOSTILE
@given(note=hostile_text)
@example(note="x" * 2001)
def test_dispute_note_and_void_reason(hctx, note: str) -> None:
    inv = invoice_id(hctx.db, "INV-2026-000065")
    detail = refused_or_done(hctx.db, lambda: invoices.dispute_invoice(hctx, inv, note))
    if detail is not None:
        assert note.strip() in (detail.dispute_note or "")
    refused_or_done(hctx.db, lambda: invoices.void_invoice(hctx, inv, note))


@HOSTILE
@given(emails=st.lists(hostile_text | st.sampled_from(["ap@x.example", "AP@X.EXAMPLE"]),
                       max_size=8))  # fmt: skip
def test_invoice_recipients(hctx, emails: list[str]) -> None:
    refused_or_done(hctx.db, lambda: invoices.set_invoice_recipients(hctx, "A-100005", emails))


@HOSTILE
@given(status=hostile_text, key=st.one_of(hostile_text, hostile_int))
def test_invoice_lookups(hctx, status: str, key) -> None:
    refused_or_done(hctx.db, lambda: invoices.list_invoices(hctx, "A-100005", status))
    refused_or_done(hctx.db, lambda: invoices.invoice_detail(hctx, key))


# --------------------------------------------------------------------------- licences


@HOSTILE
@given(contact_ids=st.lists(hostile_int, max_size=5))
def test_licence_assignment_ids(hctx, contact_ids: list[int]) -> None:
    v5 = subscription_id(hctx.db, "A-100002", "gotoassist_rs_v5")
    refused_or_done(hctx.db, lambda: licences.assign_licences(hctx, v5, contact_ids))
    refused_or_done(hctx.db, lambda: licences.unassign_licences(hctx, v5, contact_ids))


# --------------------------------------------------------------------------- operators, mail


@HOSTILE
@given(name=hostile_text, email=hostile_text | st.just("ops@billing-desk.example"))
def test_operator_identity(hctx, name: str, email: str) -> None:
    refused_or_done(hctx.db, lambda: operators.update_operator_identity(hctx, name, email))


@HOSTILE
@given(
    host=hostile_text | st.just("smtp.example.test"),
    port=hostile_int,
    sender=hostile_text | st.just("billing@billing-desk.example"),
    user=hostile_text,
    timeout=hostile_int,
    security=st.sampled_from(["none", "starttls", "ssl", "tls", ""]),
)
def test_mail_server_settings(hctx, host, port, sender, user, timeout, security) -> None:
    settings_ = smtp.SmtpSettings(
        host=host, port=port, security=security, username=user, password="pw",
        from_address=sender, timeout=timeout,
    )  # fmt: skip
    refused_or_done(hctx.db, lambda: smtp.save_smtp_settings(hctx, settings_))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=hostile_text | st.sampled_from(["../../../etc/passwd", "..", "/tmp/x", "C:\\x",
                                             "CON", "nul", ".hidden"]))  # fmt: skip
def test_snapshot_names(hctx, name: str) -> None:
    """A trainer's snapshot name is a label: the file it goes to stays in the snapshot
    folder whatever the name holds (slashes, dots, reserved names)."""
    from billing_desktop.services import sandbox

    folder = sandbox.snapshot_folder(hctx.db.target.path)
    before = sorted(folder.iterdir()) if folder.exists() else []
    info = refused_or_done(hctx.db, lambda: sandbox.save_snapshot(hctx, name, replace=True))
    after = sorted(folder.iterdir()) if folder.exists() else []
    if info is None:
        assert after == before
        return
    assert info.name == " ".join(name.split())
    saved = folder / info.file
    assert saved.parent == folder and saved.exists()
    assert set(after) - set(before) <= {saved, *folder.glob("*.json")}


# --------------------------------------------------------------------------- dates


@HOSTILE
@given(to_date=far_dates.filter(
    lambda d: d <= TODAY or d > TODAY + timedelta(days=3653)
))  # fmt: skip
@example(to_date=date(9999, 12, 31))
@example(to_date=date(1, 1, 1))
@example(to_date=date(2036, 4, 27))
def test_the_demo_clock_refuses_dates_in_the_past_or_decades_ahead(hctx, to_date: date) -> None:
    assert refused_or_done(hctx.db, lambda: time_travel.move_clock(hctx, to_date)) is None


def test_the_demo_clock_still_moves_a_day(hctx) -> None:
    summary = refused_or_done(
        hctx.db, lambda: time_travel.move_clock(hctx, TODAY + timedelta(days=1))
    )
    assert summary is not None and summary.clock == TODAY + timedelta(days=1)


@HOSTILE
@given(today=far_dates)
def test_lists_on_a_clock_far_in_the_past_or_future(hctx, today: date) -> None:
    from dataclasses import replace

    ctx = replace(hctx, clock=FixedClock(today))
    refused_or_done(
        hctx.db, lambda: accounts.list_accounts(ctx, AccountFilter(), AccountSort.COMPANY)
    )
    refused_or_done(hctx.db, lambda: accounts.account_overview(ctx, "A-100005"))
    refused_or_done(hctx.db, lambda: invoices.list_invoices(ctx, "A-100005", "all"))
