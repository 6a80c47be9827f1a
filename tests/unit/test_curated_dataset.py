"""The curated demo dataset (resources/demo/curated.json) and the generator's name tables.

Trainers demonstrate every flow of the help articles with the curated accounts,
so the data must be consistent with the catalog and the rules whatever day the
demo database is reset on (all dates are relative to the clock's ``today``).
Each required situation is asserted by its data, not by names or scenario text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

from billing_desktop.domain.catalog import ROLES, Catalog, Product
from billing_desktop.domain.dates import parse_relative_date
from billing_desktop.domain.policies import CANCELLATION_REASONS

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
CURATED = RESOURCES / "demo" / "curated.json"
NAMES = RESOURCES / "demo" / "names.json"

SELLER_COUNTRY = "IE"  # SPEC §3: reverse charge for EU customers of another country
LANGUAGES = {"it", "nl", "es", "de", "fr", "en"}
STATUSES = {"trial", "trial_expired", "active", "cancellation_pending", "cancelled"}
REASON_CODES = {code for code, _label in CANCELLATION_REASONS}
EU_COUNTRIES = {c.upper() for c in eu_vat.MEMBER_STATES if c != "xi"} - {"EL"} | {"GR"}

# The demo must hold whatever day it is loaded on: today, and awkward calendar days.
TODAYS = [
    date.today(),
    date(2026, 1, 31),
    date(2026, 2, 28),
    date(2026, 3, 31),
    date(2028, 2, 29),
    date(2026, 12, 31),
]

Account = dict[str, Any]
Sub = dict[str, Any]


@cache
def _curated() -> dict[str, Any]:
    return json.loads(CURATED.read_text(encoding="utf-8"))


@cache
def _catalog() -> Catalog:
    return Catalog.load()


def _accounts() -> list[Account]:
    return _curated()["accounts"]


def _d(text: str, today: date) -> date:
    return parse_relative_date(text, today)


def _months(sub: Sub) -> int:
    return 12 if sub["frequency"] == "annual" else 1


def _periods_started(sub: Sub, today: date) -> int:
    """How many billing periods (repeating from the anchor) have started by ``today``."""
    anchor = _d(sub["anchor"], today)
    k = 0
    while anchor + relativedelta(months=_months(sub) * k) <= today:
        k += 1
    return k


def _current_period_start(sub: Sub, today: date) -> date:
    k = _periods_started(sub, today)
    return _d(sub["anchor"], today) + relativedelta(months=_months(sub) * (k - 1))


def _product(sub: Sub) -> Product:
    return _catalog().product(sub["product"])


def _billing_contact(account: Account) -> dict[str, Any]:
    (contact,) = [c for c in account["contacts"] if c["billing_contact"]]
    return contact


def _subs(pred: Callable[[Account, Sub], bool]) -> list[tuple[Account, Sub]]:
    return [(a, s) for a in _accounts() for s in a["subscriptions"] if pred(a, s)]


def _money(text: str) -> Decimal:
    assert isinstance(text, str) and re.fullmatch(r"\d+\.\d{2}", text), text
    return Decimal(text)


def _ids(values: list[Account]) -> list[str]:
    return [a["account_id"] for a in values]


# -- structure and consistency ---------------------------------------------------------------


def test_top_level() -> None:
    data = _curated()
    assert data["version"] == 1
    reps = data["representatives"]
    assert reps and len({r["email"] for r in reps}) == len(reps)
    assert all(r["name"].strip() and r["email"].endswith(".example") for r in reps)
    accounts = _accounts()
    assert 15 <= len(accounts) <= 22
    ids = _ids(accounts)
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"A-\d{6}", i) for i in ids)
    assert len({a["company"] for a in accounts}) == len(accounts)
    all_emails = [c["email"] for a in accounts for c in a["contacts"]]
    assert len(set(all_emails)) == len(all_emails)


@pytest.mark.parametrize("account", _accounts(), ids=lambda a: a["account_id"])
def test_account_is_consistent(account: Account) -> None:
    catalog = _catalog()
    reps = {r["email"] for r in _curated()["representatives"]}
    assert account["type"] in {"standard", "corporate"}
    assert account["language"] in LANGUAGES
    assert account["currency"] in catalog.currencies
    assert re.fullmatch(r"[A-Z]{2}", account["country"])
    assert account["scenario"].strip() and len(account["scenario"]) < 400
    address = account["address"]
    assert {"line1", "line2", "postal_code", "city", "region"} <= set(address)
    assert address["line1"] and address["postal_code"] and address["city"]
    assert _money(account["credit_balance"]) >= 0

    # Corporate accounts: managed by a representative, paying by invoice (SPEC §3).
    if account["type"] == "corporate":
        assert account["representative"] in reps
        assert account["payment_terms_days"] == 30
    else:
        assert account["representative"] is None
        assert account["payment_terms_days"] is None
        assert account["po_number"] is None
    assert (account["po_number"] is None) == (account["po_expiry"] is None)

    # VAT number: valid for the account's country per python-stdnum.
    number = account["vat_number"]
    if number is not None:
        if account["country"] == "GB":
            assert gb_vat.is_valid(number), number
        else:
            assert account["country"] in EU_COUNTRIES
            assert eu_vat.is_valid(number), number
            prefix = "EL" if account["country"] == "GR" else account["country"]
            assert number.startswith(prefix)

    # Contacts: unique keys, known roles, exactly one billing contact who is a billing admin.
    keys = [c["key"] for c in account["contacts"]]
    assert len(set(keys)) == len(keys)
    for contact in account["contacts"]:
        assert contact["roles"] and set(contact["roles"]) <= ROLES, contact
        assert contact["language"] in LANGUAGES
        assert contact["first_name"].strip() and contact["last_name"].strip()
        assert re.fullmatch(r"[a-z.]+@[a-z0-9.-]+\.example", contact["email"]), contact["email"]
        if contact["cancel_authorised"]:
            assert "billing_admin" in contact["roles"]
    assert "billing_admin" in _billing_contact(account)["roles"]

    # Payment methods: one default; invoice only for corporate accounts.
    methods = account["payment_methods"]
    if methods:
        assert sum(m["default"] for m in methods) == 1
    for m in methods:
        assert m["kind"] in {"card", "bank_account", "invoice"}
        assert {"line1", "postal_code", "city", "country"} <= set(m["billing_address"])
        if m["kind"] == "card":
            assert m["brand"] in {"visa", "mastercard", "amex"}
            assert re.fullmatch(r"\d{4}", m["last4"])
            assert 1 <= m["exp_month"] <= 12 and m["exp_year"] >= 2027
        elif m["kind"] == "bank_account":
            assert re.fullmatch(r"\d{4}", m["last4"]) and m["iban_country"]
        else:
            assert account["type"] == "corporate"
    if account["type"] == "corporate":
        assert any(m["kind"] == "invoice" for m in methods)

    # Subscriptions.
    sub_keys = [s["key"] for s in account["subscriptions"]]
    assert len(set(sub_keys)) == len(sub_keys)
    products = [s["product"] for s in account["subscriptions"]]
    assert len(set(products)) == len(products), "one subscription per product"
    for sub in account["subscriptions"]:
        product = catalog.product(sub["product"])
        plan = product.plan(sub["plan"])
        for code in sub["addons"]:
            product.addon(code)
        assert len(set(sub["addons"])) == len(sub["addons"])
        assert 1 <= sub["licences"] <= plan.max_licences
        assert len(set(sub["assigned"])) == len(sub["assigned"]) <= sub["licences"]
        assert set(sub["assigned"]) <= set(keys)
        assert sub["status"] in STATUSES
        assert sub["frequency"] in {"monthly", "annual"}
        assert sub["channel"] in {"self_service", "representative"}
        if sub["channel"] == "representative":
            assert account["type"] == "corporate"
        if sub["contract"] == "fixed_term":
            assert sub["term_months"] >= 12 and sub["term_start"]
            assert sub["term_months"] % _months(sub) == 0
        else:
            assert sub["contract"] == "month_to_month"
            assert sub["term_months"] is None and sub["term_start"] is None
        if sub["status"] in {"cancellation_pending", "cancelled"}:
            assert sub["cancel_reason"] in REASON_CODES and sub["auto_renew"] is False
        else:
            assert sub["cancel_reason"] is None
        assert 0 <= sub["unpaid_periods"] <= sub["paid_periods"]
        if sub["status"] in {"trial", "trial_expired", "cancelled"}:
            assert sub["unpaid_periods"] == 0

    for invoice in account["extra_invoices"]:
        assert invoice["status"] in {"open", "paid"}
        assert invoice["due_days"] >= 0 and invoice["description"].strip()
        assert _money(invoice["amount"]) > 0


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_dates_parse_and_make_sense(today: date) -> None:
    for account in _accounts():
        if account["po_expiry"]:
            assert _d(account["po_expiry"], today) > today
        for invoice in account["extra_invoices"]:
            assert _d(invoice["issue"], today) <= today
        for sub in account["subscriptions"]:
            where = (account["account_id"], sub["key"])
            anchor = _d(sub["anchor"], today)
            assert anchor <= today, where
            if sub["term_start"]:
                start = _d(sub["term_start"], today)
                assert start <= anchor
                # The fixed term has not ended yet (it would have renewed or ended).
                assert start + relativedelta(months=sub["term_months"]) > today, where
            started = _periods_started(sub, today)
            if sub["status"] in {"trial", "trial_expired"}:
                trial_end = _d(sub["trial_end"], today)
                assert trial_end - anchor == timedelta(days=_product(sub).trial_days), where
                assert (trial_end > today) == (sub["status"] == "trial"), where
                assert sub["paid_periods"] == 0 and sub["auto_renew"] is False
            else:
                assert sub["trial_end"] is None, where
            if sub["status"] in {"active", "cancellation_pending"}:
                # Invoices exist for past periods up to the current one, never the future.
                assert 1 <= sub["paid_periods"] <= started, (where, started)
            if sub["status"] == "cancelled":
                end = anchor + relativedelta(months=_months(sub) * sub["paid_periods"])
                assert end <= today, where
                assert sub["assigned"] == []


# -- the required scenarios (a)-(m), by data ------------------------------------------------


def _today() -> date:
    return date.today()


def test_a_v4_annual_to_cancel_online_in_italian() -> None:
    found = _subs(
        lambda a, s: (
            a["language"] == "it"
            and a["type"] == "standard"
            and s["product"] == "gotoassist_rs_v4"
            and s["frequency"] == "annual"
            and s["status"] == "active"
            and s["auto_renew"]
            and _product(s).online_cancellation
        )
    )
    assert found


def test_b_v5_ten_licences_some_assigned_monthly_in_italian() -> None:
    found = _subs(
        lambda a, s: (
            a["language"] == "it"
            and s["product"] == "gotoassist_rs_v5"
            and s["status"] == "active"
            and s["frequency"] == "monthly"
            and s["licences"] == 10
            and 0 < len(s["assigned"]) < 10
        )
    )
    assert found


def test_c_v5_trial_ended_without_billing_info_in_italian() -> None:
    found = _subs(
        lambda a, s: (
            a["language"] == "it"
            and s["product"] == "gotoassist_rs_v5"
            and s["status"] == "trial_expired"
            and not a["payment_methods"]
        )
    )
    assert found
    for account, _sub in found:
        assert account["vat_number"] is None  # checkout asks for it


def test_d_resolve_fixed_term_with_open_invoice_in_dutch() -> None:
    today = _today()

    def fits(a: Account, s: Sub) -> bool:
        if not (
            a["language"] == "nl"
            and s["product"] == "logmein_resolve"
            and s["status"] == "active"
            and s["contract"] == "fixed_term"
            and s["channel"] == "self_service"
            and s["unpaid_periods"] == 1
            and s["assigned"]
        ):
            return False
        start = _d(s["term_start"], today)
        months_ago = relativedelta(today, start)
        roles = {r for c in a["contacts"] for r in c["roles"]}
        cards = [m for m in a["payment_methods"] if m["kind"] == "card"]
        return (
            s["term_months"] == 24
            and 13 <= months_ago.years * 12 + months_ago.months <= 15
            # The open invoice is the current period's, issued less than a week ago.
            and (today - _current_period_start(s, today)).days < 7
            and {"billing_admin", "super_admin"} <= roles
            and bool(cards)
            and all(cards[0]["billing_address"][k] for k in ("line1", "postal_code", "city"))
        )

    assert _subs(fits)
    assert not _catalog().product("logmein_resolve").online_cancellation


def test_e_v4_upgrade_and_downgrade_in_spanish() -> None:
    def v4(a: Account, s: Sub) -> bool:
        return (
            a["language"] == "es" and s["product"] == "gotoassist_rs_v4" and s["status"] == "active"
        )

    product = _catalog().product("gotoassist_rs_v4")
    upgrade = _subs(
        lambda a, s: (
            v4(a, s) and s["frequency"] == "monthly" and bool(product.higher_plans(s["plan"]))
        )
    )
    downgrade = _subs(lambda a, s: v4(a, s) and s["plan"] == product.highest_plan.code)
    assert upgrade and downgrade
    assert {a["account_id"] for a, _ in upgrade}.isdisjoint(a["account_id"] for a, _ in downgrade)


def test_f_goto_connect_needs_super_admin() -> None:
    found = _subs(lambda a, s: s["product"] == "goto_connect" and s["status"] == "active")
    assert any(
        "super_admin" not in _billing_contact(a)["roles"]
        and any("super_admin" in c["roles"] for c in a["contacts"])
        for a, _ in found
    ), "a Connect account whose billing admin is not the super admin"
    assert _catalog().product("goto_connect").cancel_requires_super_admin


def test_g_cancellation_pending() -> None:
    assert _subs(lambda a, s: s["status"] == "cancellation_pending" and not s["auto_renew"])


def test_h_overdue_invoice() -> None:
    for today in TODAYS:
        overdue = [
            a
            for a in _accounts()
            for inv in a["extra_invoices"]
            if inv["status"] == "open"
            and _d(inv["issue"], today) + timedelta(days=inv["due_days"]) < today
        ]
        assert overdue, today
        assert all(a["subscriptions"] for a in overdue)


def test_i_two_corporate_accounts() -> None:
    today = _today()
    corporate = [a for a in _accounts() if a["type"] == "corporate"]
    assert len(corporate) >= 2
    for account in corporate:
        assert account["representative"] and account["payment_terms_days"] == 30
        assert [m["kind"] for m in account["payment_methods"]] == ["invoice"]
        assert account["autopay"] is False
    assert len({a["representative"] for a in corporate}) >= 2
    assert any(a["po_number"] and _d(a["po_expiry"], today) > today for a in corporate)
    assert any(
        any(s["channel"] == "representative" for s in a["subscriptions"])
        and any("product_admin" in c["roles"] for c in a["contacts"])
        for a in corporate
    )


def test_j_requester_is_a_plain_user() -> None:
    found = [
        a
        for a in _accounts()
        if a["type"] == "standard"
        and a["subscriptions"]
        and any(c["roles"] == ["user"] and not c["billing_contact"] for c in a["contacts"])
        and "super_admin" not in _billing_contact(a)["roles"]
    ]
    assert found


def test_k_countries_and_currencies() -> None:
    by_country = {(a["country"], a["language"], a["currency"]) for a in _accounts()}
    assert ("DE", "de", "EUR") in by_country
    assert ("FR", "fr", "EUR") in by_country
    assert ("GB", "en", "GBP") in by_country
    assert ("US", "en", "USD") in by_country
    for account in _accounts():
        if account["country"] == "US":
            assert account["vat_number"] is None


def test_l_reverse_charge_vat_number() -> None:
    found = [
        a
        for a in _accounts()
        if a["vat_number"]
        and a["country"] in EU_COUNTRIES
        and a["country"] != SELLER_COUNTRY
        and eu_vat.is_valid(a["vat_number"])
    ]
    assert found
    # And the contrast: a customer in the seller's own country pays local VAT.
    assert any(a["country"] == SELLER_COUNTRY and a["vat_number"] for a in _accounts())


def test_m_account_credit() -> None:
    assert any(_money(a["credit_balance"]) > 0 for a in _accounts())


def test_demo_covers_every_product_and_status() -> None:
    products = {s["product"] for a in _accounts() for s in a["subscriptions"]}
    assert products == set(_catalog().product_codes)
    statuses = {s["status"] for a in _accounts() for s in a["subscriptions"]}
    assert statuses == STATUSES


# -- names.json for the large random demo database --------------------------------------------

NAME_COUNTRIES = ("IT", "NL", "ES", "DE", "FR", "GB", "US", "IE", "BE", "AT")
PLACEHOLDERS = {"last", "last2", "first", "city", "word"}


def test_names_tables() -> None:
    data = json.loads(NAMES.read_text(encoding="utf-8"))
    assert data["version"] == 1
    countries = data["countries"]
    assert set(NAME_COUNTRIES) <= set(countries)
    currencies = set(_catalog().currencies)
    for code in NAME_COUNTRIES:
        table = countries[code]
        assert table["weight"] > 0
        assert table["language"] in LANGUAGES
        assert table["currency"] in currencies
        assert table["address_format"] in {"{street} {number}", "{number} {street}"}
        for key, minimum in (("first_names", 40), ("last_names", 40), ("cities", 15)):
            values = table[key]
            assert len(values) >= minimum, (code, key)
        for key in ("first_names", "last_names"):
            assert len(set(table[key])) == len(table[key]), (code, key)
        streets = [table["streets"], *table.get("streets_by_language", {}).values()]
        assert all(len(set(s)) >= 10 for s in streets), code
        assert len(table["company_words"]) >= 10
        assert len(table["company_patterns"]) >= 4
        for pattern in table["company_patterns"]:
            used = set(re.findall(r"{(\w+)}", pattern))
            assert used and used <= PLACEHOLDERS, pattern
        for city in table["cities"]:
            assert city["name"] and city["region"] and city["postal_codes"]
            for postal in city["postal_codes"]:
                assert re.fullmatch(r"[A-Z0-9#? ]{4,8}", postal), (code, postal)
            if "language" in city:
                assert city["language"] in table.get("streets_by_language", {})
    assert currencies == {countries[c]["currency"] for c in NAME_COUNTRIES}
