"""The shipped product catalog (resources/catalog.json) and its loader (SPEC §2)."""

from __future__ import annotations

import copy
import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billing_desktop.domain.catalog import (
    DEFAULT_CATALOG_PATH,
    Catalog,
    CatalogError,
    UnknownCatalogCodeError,
)
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Frequency

REQUIRED_PRODUCTS = {
    "gotoassist_rs_v4": "GoToAssist Remote Support v4",
    "gotoassist_rs_v5": "GoToAssist Remote Support v5",
    "logmein_resolve": "LogMeIn Resolve",
    "goto_connect": "GoTo Connect",
    "goto_meeting": "GoTo Meeting",
}
CURRENCIES = ("EUR", "USD", "GBP")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
def raw() -> dict[str, Any]:
    """A fresh, mutable copy of the shipped JSON, to break in one place."""
    return json.loads(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))


def _load(tmp_path: Path, data: object) -> Catalog:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return Catalog.load(path)


def _product(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(p for p in data["products"] if p["code"] == code)


# -- the shipped catalog ----------------------------------------------------------------


def test_default_path_is_the_shipped_resource() -> None:
    assert DEFAULT_CATALOG_PATH.is_file()
    assert DEFAULT_CATALOG_PATH.parts[-2:] == ("resources", "catalog.json")


def test_loads_with_required_products(catalog: Catalog) -> None:
    assert catalog.version == 1
    assert catalog.source == DEFAULT_CATALOG_PATH
    for code, name in REQUIRED_PRODUCTS.items():
        assert code in catalog
        assert catalog.product(code).name == name
    assert 5 <= len(catalog) <= 7
    assert set(catalog.currencies) == set(CURRENCIES)


def test_policy_flags(catalog: Catalog) -> None:
    for product in catalog:
        assert product.online_downgrade is False, product.code
        assert product.trial_days == 14
        assert set(product.cancel_roles) <= {"super_admin", "billing_admin", "product_admin"}
    # Support-only cancellation (article 002).
    assert catalog.product("logmein_resolve").online_cancellation is False
    assert catalog.product("goto_connect").online_cancellation is False
    for code in ("gotoassist_rs_v4", "gotoassist_rs_v5", "goto_meeting"):
        product = catalog.product(code)
        assert product.online_cancellation is True
        assert product.cancel_roles == ("super_admin", "billing_admin")
        assert product.cancel_requires_super_admin is False
    connect = catalog.product("goto_connect")
    assert connect.cancel_requires_super_admin is True
    assert connect.cancel_roles == ("super_admin",)
    assert connect.role_may_request_cancellation(["super_admin", "billing_admin"])
    assert not connect.role_may_request_cancellation("billing_admin")
    resolve = catalog.product("logmein_resolve")
    assert resolve.role_may_request_cancellation("billing_admin")
    assert not resolve.role_may_request_cancellation(["user", "product_admin"])


def test_tiers_and_addons_shape(catalog: Catalog) -> None:
    for product in catalog:
        assert 2 <= len(product.plans) <= 4, product.code
        assert 1 <= len(product.addons) <= 3, product.code
        ranks = [p.rank for p in product.plans]
        assert ranks == sorted(set(ranks))
        assert all(p.product_code == product.code for p in product.plans)
        assert all(a.product_code == product.code for a in product.addons)
        maxima = [p.max_licences for p in product.plans]
        assert maxima == sorted(maxima) and maxima[0] >= 1
        for plan in product.plans:
            assert plan.features and all(f.strip() for f in plan.features)


def test_prices_for_every_currency_and_frequency(catalog: Catalog) -> None:
    for product in catalog:
        for item in (*product.plans, *product.addons):
            for currency in CURRENCIES:
                monthly = item.unit_price(currency, "monthly")
                annual = item.unit_price(currency, "annual")
                assert isinstance(monthly, Money) and monthly.currency == currency
                assert monthly.amount > 0 and annual.amount > 0
                assert monthly.amount == monthly.amount.quantize(Decimal("0.01"))
                # An annual plan is a discount on twelve months, about 10-11 months' worth.
                assert annual.amount < 12 * monthly.amount, (product.code, item.code, currency)
                assert 10 * monthly.amount <= annual.amount <= 11 * monthly.amount


def test_higher_tiers_cost_more(catalog: Catalog) -> None:
    for product in catalog:
        for lower, higher in zip(product.plans, product.plans[1:], strict=False):
            for currency in CURRENCIES:
                for frequency in ("monthly", "annual"):
                    assert (
                        lower.unit_price(currency, frequency).amount
                        < higher.unit_price(currency, frequency).amount
                    )


def test_lookups(catalog: Catalog) -> None:
    v4 = catalog.product("gotoassist_rs_v4")
    lowest, highest = v4.lowest_plan, v4.highest_plan
    assert v4.plan(lowest.code) is lowest
    assert v4.higher_plans(lowest) == v4.plans[1:]
    assert v4.lower_plans(lowest) == ()
    assert v4.higher_plans(highest.code) == ()
    assert v4.lower_plans(highest) == v4.plans[:-1]
    middle = v4.plans[1]
    assert [p.rank for p in v4.higher_plans(middle)] == [p.rank for p in v4.plans[2:]]
    addon = v4.addons[0]
    assert v4.addon(addon.code) is addon and v4.has_addon(addon.code)
    assert not v4.has_plan("nope")


def test_unit_price_accepts_frequency_enum(catalog: Catalog) -> None:
    plan = catalog.product("gotoassist_rs_v5").lowest_plan
    assert plan.unit_price("EUR", Frequency.ANNUAL) == plan.unit_price("EUR", "annual")
    assert plan.price("USD").money(Frequency.MONTHLY) == plan.unit_price("USD", "monthly")


def test_unknown_codes_raise_clear_errors(catalog: Catalog) -> None:
    with pytest.raises(UnknownCatalogCodeError, match="unknown product 'gotoassist_rs_v9'"):
        catalog.product("gotoassist_rs_v9")
    v5 = catalog.product("gotoassist_rs_v5")
    with pytest.raises(KeyError, match="no plan 'ultimate'"):
        v5.plan("ultimate")
    with pytest.raises(KeyError, match="no add-on 'fax'"):
        v5.addon("fax")
    with pytest.raises(KeyError, match="no price in 'CHF'"):
        v5.lowest_plan.unit_price("CHF", "monthly")
    with pytest.raises(ValueError, match="frequency"):
        v5.lowest_plan.unit_price("EUR", "weekly")
    other = catalog.product("goto_meeting").lowest_plan
    with pytest.raises(ValueError, match="not a plan of"):
        v5.higher_plans(other)


def test_catalog_objects_are_immutable(catalog: Catalog) -> None:
    plan = catalog.product("goto_meeting").lowest_plan
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.max_licences = 1  # type: ignore[misc]
    assert isinstance(catalog.products, tuple) and isinstance(plan.prices, tuple)
    assert hash(plan) == hash(Catalog.load().product("goto_meeting").lowest_plan)


def test_from_dict_round_trip_equals_load(raw: dict[str, Any], catalog: Catalog) -> None:
    assert Catalog.from_dict(raw) == catalog


# -- broken copies ----------------------------------------------------------------------


def _duplicate_product(d: dict[str, Any]) -> None:
    d["products"].append(copy.deepcopy(_product(d, "goto_meeting")))


def _duplicate_plan(d: dict[str, Any]) -> None:
    plans = _product(d, "gotoassist_rs_v5")["plans"]
    plans[1]["code"] = plans[0]["code"]


def _duplicate_addon(d: dict[str, Any]) -> None:
    addons = _product(d, "gotoassist_rs_v4")["addons"]
    addons.append(copy.deepcopy(addons[0]))


def _missing_currency(d: dict[str, Any]) -> None:
    del _product(d, "goto_meeting")["plans"][1]["prices"]["USD"]


def _missing_frequency(d: dict[str, Any]) -> None:
    del _product(d, "logmein_resolve")["plans"][0]["prices"]["GBP"]["annual"]


def _missing_addon_currency(d: dict[str, Any]) -> None:
    del _product(d, "goto_connect")["addons"][0]["prices"]["EUR"]


def _non_increasing_rank(d: dict[str, Any]) -> None:
    plans = _product(d, "gotoassist_rs_v4")["plans"]
    plans[2]["rank"] = plans[1]["rank"]


def _negative_price(d: dict[str, Any]) -> None:
    _product(d, "goto_connect")["plans"][0]["prices"]["EUR"]["monthly"] = "-1.00"


def _float_price(d: dict[str, Any]) -> None:
    _product(d, "goto_connect")["plans"][0]["prices"]["EUR"]["monthly"] = 24.5


def _three_decimals(d: dict[str, Any]) -> None:
    _product(d, "goto_connect")["plans"][0]["prices"]["EUR"]["monthly"] = "24.005"


def _unknown_role(d: dict[str, Any]) -> None:
    _product(d, "goto_meeting")["cancel_roles"].append("owner")


def _super_admin_flag_inconsistent(d: dict[str, Any]) -> None:
    _product(d, "goto_connect")["cancel_roles"] = ["super_admin", "billing_admin"]


def _missing_flag(d: dict[str, Any]) -> None:
    del _product(d, "logmein_resolve")["online_cancellation"]


def _flag_not_bool(d: dict[str, Any]) -> None:
    _product(d, "logmein_resolve")["online_downgrade"] = 0


def _no_plans(d: dict[str, Any]) -> None:
    _product(d, "goto_meeting")["plans"] = []


def _zero_max_licences(d: dict[str, Any]) -> None:
    _product(d, "goto_meeting")["plans"][0]["max_licences"] = 0


def _unknown_currency(d: dict[str, Any]) -> None:
    for product in d["products"]:
        for item in (*product["plans"], *product["addons"]):
            item["prices"]["XXX"] = item["prices"]["EUR"]


def _newer_version(d: dict[str, Any]) -> None:
    d["version"] = 2


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_duplicate_product, r"product 'goto_meeting'.*duplicate product code"),
        (_duplicate_plan, r"product 'gotoassist_rs_v5', plan 'basic'.*duplicate plan code"),
        (_duplicate_addon, r"product 'gotoassist_rs_v4', add-on '\w+'.*duplicate add-on code"),
        (_missing_currency, r"product 'goto_meeting', plan 'business'.*missing USD"),
        (_missing_frequency, r"product 'logmein_resolve', plan 'standard'.*missing GBP annual"),
        (_missing_addon_currency, r"product 'goto_connect', add-on '\w+'.*missing EUR"),
        (_non_increasing_rank, r"product 'gotoassist_rs_v4', plan 'enterprise'.*rank"),
        (_negative_price, r"product 'goto_connect', plan 'phone_system'.*negative price"),
        (_float_price, r"plan 'phone_system'.*decimal string"),
        (_three_decimals, r"plan 'phone_system'.*more than 2 decimal places"),
        (_unknown_role, r"product 'goto_meeting'.*unknown role 'owner'"),
        (_super_admin_flag_inconsistent, r"product 'goto_connect'.*cancel_requires_super_admin"),
        (_missing_flag, r"product 'logmein_resolve'.*missing field 'online_cancellation'"),
        (_flag_not_bool, r"product 'logmein_resolve'.*'online_downgrade' must be true or false"),
        (_no_plans, r"product 'goto_meeting'.*at least one plan"),
        (_zero_max_licences, r"product 'goto_meeting', plan 'professional'.*max_licences"),
        (_unknown_currency, r"currency 'XXX'"),
        (_newer_version, r"unsupported catalog version 2"),
    ],
)
def test_broken_copy_is_refused_with_a_clear_message(
    tmp_path: Path, raw: dict[str, Any], breakage: Any, expected: str
) -> None:
    breakage(raw)
    with pytest.raises(CatalogError, match=expected) as info:
        _load(tmp_path, raw)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("catalog.json: ")


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not found"):
        Catalog.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "products": [', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"broken\.json: not valid JSON \(line 1"):
        Catalog.load(broken)
    with pytest.raises(CatalogError, match="no products"):
        _load(tmp_path, {"version": 1, "products": []})
    with pytest.raises(CatalogError, match="expected an object"):
        _load(tmp_path, [1, 2])
