"""Loading the product catalog file into the database.

The catalog ships as ``resources/catalog.json`` (SPEC §2); the database keeps a
copy so subscriptions can reference plans. ``ensure_catalog`` is idempotent and
cheap when the stored copy is current, so it runs at every start.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_desktop.domain.catalog import Catalog
from billing_desktop.store.database import Database
from billing_desktop.store.models import Addon, AddonPrice, AppSetting, Plan, PlanPrice, Product

CATALOG_VERSION_KEY = "catalog.version"


@lru_cache(maxsize=1)
def shipped_catalog() -> Catalog:
    """The catalog file of this installation (parsed once per process)."""
    return Catalog.load()


def ensure_catalog(db: Database, catalog: Catalog | None = None) -> bool:
    """Bring the database's catalog in line with the file; True if anything changed."""
    catalog = catalog or shipped_catalog()
    version = str(catalog.version)
    if db.setting(CATALOG_VERSION_KEY) == version:
        return False
    with db.transaction() as session:
        sync_catalog(session, catalog)
        setting = session.get(AppSetting, CATALOG_VERSION_KEY)
        if setting is None:
            session.add(AppSetting(key=CATALOG_VERSION_KEY, value=version))
        else:
            setting.value = version
    return True


def sync_catalog(session: Session, catalog: Catalog) -> None:
    """Insert or update every product, plan, add-on and price of ``catalog`` by code.

    Nothing is deleted: subscriptions may still reference a retired plan.
    """
    existing = {p.code: p for p in session.scalars(select(Product))}
    for order, item in enumerate(catalog):
        product = existing.get(item.code)
        if product is None:
            product = Product(code=item.code)
            session.add(product)
        product.name = item.name
        product.family = item.family
        product.description = item.description
        product.online_cancellation = item.online_cancellation
        product.online_downgrade = item.online_downgrade
        product.cancel_roles = ",".join(item.cancel_roles)
        product.cancel_requires_super_admin = item.cancel_requires_super_admin
        product.trial_days = item.trial_days
        product.sort_order = order
        plans = {p.code: p for p in product.plans}
        for plan_item in item.plans:
            plan = plans.get(plan_item.code)
            if plan is None:
                plan = Plan(code=plan_item.code)
                product.plans.append(plan)
            plan.name = plan_item.name
            plan.rank = plan_item.rank
            plan.max_licences = plan_item.max_licences
            _sync_prices(plan.prices, plan_item.prices, PlanPrice)
        addons = {a.code: a for a in product.addons}
        for addon_item in item.addons:
            addon = addons.get(addon_item.code)
            if addon is None:
                addon = Addon(code=addon_item.code)
                product.addons.append(addon)
            addon.name = addon_item.name
            addon.per_licence = addon_item.per_licence
            _sync_prices(addon.prices, addon_item.prices, AddonPrice)
    session.flush()


def _sync_prices(rows: list, prices: tuple, model: type) -> None:  # type: ignore[type-arg]
    by_key = {(r.currency, r.frequency): r for r in rows}
    for price in prices:
        for frequency in ("monthly", "annual"):
            minor = price.money(frequency).minor
            row = by_key.get((price.currency, frequency))
            if row is None:
                rows.append(
                    model(currency=price.currency, frequency=frequency, unit_price_minor=minor)
                )
            else:
                row.unit_price_minor = minor
