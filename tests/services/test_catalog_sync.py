"""The database's copy of the catalog follows the catalog file's content, not its format version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_desktop.domain.catalog import DEFAULT_CATALOG_PATH, Catalog
from billing_desktop.services.catalog import (
    CATALOG_DIGEST_KEY,
    catalog_digest,
    ensure_catalog,
)
from billing_desktop.store.models import Plan, PlanPrice, Product


def _changed_catalog(tmp_path: Path) -> Catalog:
    """A copy of the shipped catalog with one price raised and one product added."""
    data = json.loads(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    first_plan = data["products"][0]["plans"][0]
    currency = next(iter(first_plan["prices"]))
    first_plan["prices"][currency]["monthly"] = "987.65"
    extra = json.loads(json.dumps(data["products"][0]))
    extra["code"] = "extra_product"
    extra["name"] = "Extra Product"
    data["products"].append(extra)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return Catalog.load(path)


def _monthly_price(db, product_code: str, plan_code: str, currency: str) -> int | None:
    with db.sessions() as session:
        return session.scalar(
            select(PlanPrice.unit_price_minor)
            .join(Plan, Plan.id == PlanPrice.plan_id)
            .join(Product, Product.id == Plan.product_id)
            .where(
                Product.code == product_code,
                Plan.code == plan_code,
                PlanPrice.currency == currency,
                PlanPrice.frequency == "monthly",
            )
        )


def test_changed_catalog_reaches_an_existing_database(db, tmp_path: Path) -> None:
    shipped = Catalog.load()
    assert ensure_catalog(db, shipped) is True
    assert db.setting(CATALOG_DIGEST_KEY) == catalog_digest(shipped)

    changed = _changed_catalog(tmp_path)
    assert changed.version == shipped.version  # same file format, different content
    product = changed.products[0]
    plan = product.plans[0]
    currency = plan.prices[0].currency
    assert ensure_catalog(db, changed) is True

    assert _monthly_price(db, product.code, plan.code, currency) == 98765
    with db.sessions() as session:
        assert session.scalar(select(Product.id).where(Product.code == "extra_product"))
    assert db.setting(CATALOG_DIGEST_KEY) == catalog_digest(changed)


def test_unchanged_catalog_writes_nothing(db, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog.load()
    assert ensure_catalog(db, catalog) is True

    def no_write() -> None:
        raise AssertionError("ensure_catalog opened a write transaction for an unchanged catalog")

    monkeypatch.setattr(db, "transaction", no_write)
    assert ensure_catalog(db, catalog) is False
    # a second parse of the same file has the same content, hence the same digest
    assert ensure_catalog(db, Catalog.load(DEFAULT_CATALOG_PATH)) is False


def test_digest_ignores_file_layout_but_not_content(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    assert catalog_digest(Catalog.load(compact)) == catalog_digest(Catalog.load())
    assert catalog_digest(_changed_catalog(tmp_path)) != catalog_digest(Catalog.load())
