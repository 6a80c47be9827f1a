"""Every description and add-on name of the shipped catalog is marked for translation."""

from __future__ import annotations

import json

from billing_desktop.config import resources_dir
from billing_desktop.domain.catalog_texts import CATALOG_TEXTS


def test_catalog_texts_match_the_shipped_catalog() -> None:
    catalog = json.loads((resources_dir() / "catalog.json").read_text(encoding="utf-8"))
    shown = set()
    for product in catalog["products"]:
        if product.get("description"):
            shown.add(product["description"])
        shown.update(addon["name"] for addon in product.get("addons", []))
    assert shown == set(CATALOG_TEXTS)
