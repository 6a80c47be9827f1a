"""Loading the product catalog file into the database.

The catalog ships as ``resources/catalog.json`` (SPEC §2); the database keeps a
copy so subscriptions can reference plans. ``ensure_catalog`` is idempotent and
cheap when the stored copy is current, so it runs at every start.

"Current" means *same content*: the database keeps a SHA-256 digest of the
catalog it was last synced with (setting ``catalog.digest``). The catalog's
``version`` field is only the file *format* version (always 1) and says nothing
about prices or products, so it cannot be used to detect a changed file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_desktop.domain.catalog import Catalog
from billing_desktop.store.database import Database
from billing_desktop.store.models import Addon, AddonPrice, AppSetting, Plan, PlanPrice, Product

CATALOG_DIGEST_KEY = "catalog.digest"
#: written by earlier releases (the file format version); removed on the next sync
LEGACY_VERSION_KEY = "catalog.version"


@lru_cache(maxsize=1)
def shipped_catalog() -> Catalog:
    """The catalog file of this installation (parsed once per process)."""
    return Catalog.load()


def catalog_digest(catalog: Catalog) -> str:
    """SHA-256 (hex) of the catalog's canonical content.

    Computed from the parsed, validated :class:`Catalog` rather than the file
    bytes: every field of every product, plan, add-on and price (prices as
    their quantized decimal strings) is dumped with ``json.dumps(...,
    sort_keys=True)``. So re-indenting the file or reordering JSON keys does
    not force a sync, while any change of a price, flag, name, plan or product
    (including their order, which sets ``sort_order``/``rank``) does. It also
    works for catalogs built with ``Catalog.from_dict`` that have no file.
    """
    canonical = json.dumps(
        _canonical(catalog), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        # ``compare=False`` fields (the catalog's ``source`` path) are not content
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value) if f.compare}
    if isinstance(value, (tuple, list)):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def ensure_catalog(db: Database, catalog: Catalog | None = None) -> bool:
    """Bring the database's catalog in line with ``catalog``; True if anything was written.

    Compares the stored ``catalog.digest`` with the digest of ``catalog``'s
    content; an unchanged catalog costs one settings read and writes nothing.
    """
    catalog = catalog or shipped_catalog()
    digest = catalog_digest(catalog)
    if db.setting(CATALOG_DIGEST_KEY) == digest:
        return False
    with db.transaction() as session:
        setting = session.get(AppSetting, CATALOG_DIGEST_KEY)
        if setting is not None and setting.value == digest:
            return False  # another process synced it while we waited for the write lock
        sync_catalog(session, catalog)
        if setting is None:
            session.add(AppSetting(key=CATALOG_DIGEST_KEY, value=digest))
        else:
            setting.value = digest
        legacy = session.get(AppSetting, LEGACY_VERSION_KEY)
        if legacy is not None:
            session.delete(legacy)
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
