"""The product catalog: products, ordered plan tiers, add-ons, prices and policy flags.

The catalog ships as ``resources/catalog.json`` (SPEC §2) and is the single
source of what can be sold, at which price and under which rules (online
cancellation, online downgrade, who may cancel).  It is loaded here, in pure
Python, so that the store can copy it into the database and the services and
tests can use it without Qt or a database.

Everything is validated on load: a broken catalog would otherwise surface much
later as a wrong invoice or a flow offering an action the rules forbid, so a
bad file is refused up front with a :class:`CatalogError` (a ``ValueError``)
naming the product, plan or add-on at fault.

Prices are exact decimal strings in the file (JSON numbers are refused, as they
would be read as floats) and are handed out as :class:`Money`.  A plan price is
per licence per month (``monthly``) or per licence per year (``annual``); an
add-on price is per licence when ``per_licence`` is true, otherwise per account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from billing_desktop.domain.money import CURRENCY_EXPONENTS, Money

__all__ = [
    "DEFAULT_CATALOG_PATH",
    "FREQUENCIES",
    "ROLES",
    "Addon",
    "Catalog",
    "CatalogError",
    "Plan",
    "Price",
    "Product",
    "UnknownCatalogCodeError",
]

#: Where the shipped catalog lives: ``<repo>/resources/catalog.json``.
DEFAULT_CATALOG_PATH = Path(__file__).resolve().parents[2] / "resources" / "catalog.json"

#: Billing frequencies a price exists for, in the order the UI offers them.
FREQUENCIES: tuple[str, ...] = ("monthly", "annual")

#: Contact roles (SPEC §2); ``cancel_roles`` may only name these.
ROLES: frozenset[str] = frozenset({"super_admin", "billing_admin", "product_admin", "user"})

#: Catalog file format understood by this module.
SUPPORTED_VERSION = 1

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class CatalogError(ValueError):
    """The catalog file is missing, unreadable or breaks a rule; the message says where."""


class UnknownCatalogCodeError(KeyError):
    """A product, plan, add-on or price that the catalog does not have was asked for.

    A ``KeyError`` so that callers can treat it like a missing mapping key, with a
    readable message (``KeyError`` would otherwise print the message in quotes).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown catalog code"


def _frequency_key(frequency: object) -> str:
    """Return ``"monthly"`` or ``"annual"`` for a string or a str-valued enum member.

    Accepting an enum's ``.value`` lets callers pass a ``Frequency`` enum from the
    periods module as well as the plain strings stored in the database.
    """
    key = getattr(frequency, "value", frequency)
    if key not in FREQUENCIES:
        raise ValueError(f"unknown billing frequency {frequency!r}; expected 'monthly' or 'annual'")
    return str(key)


@dataclass(frozen=True, slots=True)
class Price:
    """The list price in one currency: per month and per year (``Decimal``, 2 places)."""

    currency: str
    monthly: Decimal
    annual: Decimal

    def amount(self, frequency: object) -> Decimal:
        """The decimal amount for ``"monthly"`` or ``"annual"``."""
        return self.monthly if _frequency_key(frequency) == "monthly" else self.annual

    def money(self, frequency: object) -> Money:
        """The amount for ``frequency`` as :class:`Money` in this price's currency."""
        return Money(self.amount(frequency), self.currency)


class _Priced:
    """Price lookups shared by plans and add-ons (both carry ``prices`` per currency)."""

    __slots__ = ()

    code: str
    product_code: str
    prices: tuple[Price, ...]

    @property
    def currencies(self) -> tuple[str, ...]:
        """Currencies this item has a price in, in file order."""
        return tuple(p.currency for p in self.prices)

    def price(self, currency: str) -> Price:
        """The :class:`Price` in ``currency``; unknown currencies raise a clear error."""
        for p in self.prices:
            if p.currency == currency:
                return p
        raise UnknownCatalogCodeError(
            f"{self.product_code}/{self.code} has no price in {currency!r} "
            f"(available: {', '.join(self.currencies)})"
        )

    def unit_price(self, currency: str, frequency: object) -> Money:
        """The list price of one unit for one billing period (a month or a year)."""
        return self.price(currency).money(frequency)


@dataclass(frozen=True, slots=True)
class Plan(_Priced):
    """A plan tier of a product; ``rank`` orders tiers (higher rank = higher tier)."""

    product_code: str
    code: str
    name: str
    rank: int
    max_licences: int
    features: tuple[str, ...]
    prices: tuple[Price, ...]


@dataclass(frozen=True, slots=True)
class Addon(_Priced):
    """An add-on; priced per licence of the subscription, or once per account."""

    product_code: str
    code: str
    name: str
    per_licence: bool
    prices: tuple[Price, ...]


@dataclass(frozen=True, slots=True)
class Product:
    """A product with its ordered plan tiers, add-ons and policy flags.

    ``online_cancellation`` is false where cancellation goes through support
    (Resolve, Connect); ``online_downgrade`` is false everywhere because a lower
    tier needs Customer Care; ``cancel_roles`` are the contact roles that may ask
    for cancellation and ``cancel_requires_super_admin`` marks products (Connect)
    where only a super admin may.
    """

    code: str
    name: str
    family: str
    description: str
    online_cancellation: bool
    online_downgrade: bool
    cancel_roles: tuple[str, ...]
    cancel_requires_super_admin: bool
    trial_days: int
    plans: tuple[Plan, ...]
    addons: tuple[Addon, ...]

    def plan(self, code: str) -> Plan:
        """The plan tier with ``code``."""
        for p in self.plans:
            if p.code == code:
                return p
        raise UnknownCatalogCodeError(
            f"product {self.code!r} has no plan {code!r} "
            f"(plans: {', '.join(p.code for p in self.plans)})"
        )

    def addon(self, code: str) -> Addon:
        """The add-on with ``code``."""
        for a in self.addons:
            if a.code == code:
                return a
        raise UnknownCatalogCodeError(
            f"product {self.code!r} has no add-on {code!r} "
            f"(add-ons: {', '.join(a.code for a in self.addons) or 'none'})"
        )

    def has_plan(self, code: str) -> bool:
        return any(p.code == code for p in self.plans)

    def has_addon(self, code: str) -> bool:
        return any(a.code == code for a in self.addons)

    @property
    def lowest_plan(self) -> Plan:
        """The entry tier (what a trial converts to unless the customer picks another)."""
        return self.plans[0]

    @property
    def highest_plan(self) -> Plan:
        return self.plans[-1]

    def _own_plan(self, plan: Plan | str) -> Plan:
        """Resolve a plan or plan code, refusing a plan of another product."""
        if isinstance(plan, str):
            return self.plan(plan)
        if plan.product_code != self.code:
            raise ValueError(f"plan {plan.product_code}/{plan.code} is not a plan of {self.code!r}")
        return self.plan(plan.code)

    def higher_plans(self, plan: Plan | str) -> tuple[Plan, ...]:
        """Tiers above ``plan``, lowest first: what checkout may offer online (an upgrade)."""
        rank = self._own_plan(plan).rank
        return tuple(p for p in self.plans if p.rank > rank)

    def lower_plans(self, plan: Plan | str) -> tuple[Plan, ...]:
        """Tiers below ``plan``, lowest first: a downgrade, which only support may perform."""
        rank = self._own_plan(plan).rank
        return tuple(p for p in self.plans if p.rank < rank)

    def role_may_request_cancellation(self, roles: str | Iterable[str]) -> bool:
        """Whether a contact with ``roles`` may ask to cancel, by this product's flags alone.

        The channel rule (bought through a representative needs a product admin or an
        authorised billing admin) depends on the subscription and lives in the policies.
        """
        held = {roles} if isinstance(roles, str) else set(roles)
        if self.cancel_requires_super_admin:
            return "super_admin" in held
        return bool(held & set(self.cancel_roles))


@dataclass(frozen=True, slots=True)
class Catalog:
    """The whole catalog: products in file order, with lookups by code."""

    version: int
    products: tuple[Product, ...]
    source: Path | None = field(default=None, compare=False)

    @classmethod
    def load(cls, path: Path | str | None = None) -> Catalog:
        """Read and validate the catalog file (default: the shipped ``resources/catalog.json``)."""
        path = Path(path) if path is not None else DEFAULT_CATALOG_PATH
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CatalogError(f"catalog file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogError(f"cannot read catalog file {path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(
                f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        return cls.from_dict(data, source=path)

    @classmethod
    def from_dict(cls, data: object, source: Path | None = None) -> Catalog:
        """Build and validate a catalog from already-parsed JSON data."""
        return _Parser(source.name if source else "catalog").catalog(data, source)

    def product(self, code: str) -> Product:
        """The product with ``code``."""
        for p in self.products:
            if p.code == code:
                return p
        raise UnknownCatalogCodeError(
            f"unknown product {code!r} (catalog has: {', '.join(self.product_codes)})"
        )

    def has_product(self, code: str) -> bool:
        return any(p.code == code for p in self.products)

    @property
    def product_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.products)

    @property
    def currencies(self) -> tuple[str, ...]:
        """Currencies every plan and add-on is priced in (validated to be the same set)."""
        return self.products[0].plans[0].currencies

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products)

    def __len__(self) -> int:
        return len(self.products)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.has_product(code)


class _Parser:
    """Turns raw JSON into catalog objects, failing with the exact place of a problem."""

    def __init__(self, file_label: str) -> None:
        self.file_label = file_label

    def fail(self, where: str, problem: str) -> CatalogError:
        prefix = f"{self.file_label}: {where}" if where else self.file_label
        return CatalogError(f"{prefix}: {problem}")

    # -- typed field readers -------------------------------------------------------------

    def _get(self, obj: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in obj:
            raise self.fail(where, f"missing field {key!r}")
        return obj[key]

    def _str(self, obj: Mapping[str, Any], key: str, where: str, *, empty_ok: bool = False) -> str:
        value = self._get(obj, key, where)
        if not isinstance(value, str) or (not empty_ok and not value.strip()):
            raise self.fail(where, f"{key!r} must be a non-empty string, got {value!r}")
        return value

    def _code(self, obj: Mapping[str, Any], where: str) -> str:
        value = self._str(obj, "code", where)
        if not _CODE_RE.match(value):
            raise self.fail(where, f"code {value!r} must be lower-case letters, digits and '_'")
        return value

    def _bool(self, obj: Mapping[str, Any], key: str, where: str) -> bool:
        value = self._get(obj, key, where)
        if type(value) is not bool:
            raise self.fail(where, f"{key!r} must be true or false, got {value!r}")
        return value

    def _int(self, obj: Mapping[str, Any], key: str, where: str, minimum: int) -> int:
        value = self._get(obj, key, where)
        if type(value) is not int or value < minimum:
            raise self.fail(where, f"{key!r} must be a whole number >= {minimum}, got {value!r}")
        return value

    def _list(self, obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = self._get(obj, key, where)
        if not isinstance(value, list):
            raise self.fail(where, f"{key!r} must be a list")
        return value

    def _object(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {type(value).__name__}")
        return value

    # -- structure ----------------------------------------------------------------------

    def catalog(self, data: object, source: Path | None) -> Catalog:
        root = self._object(data, "")
        version = self._get(root, "version", "")
        if version != SUPPORTED_VERSION or type(version) is not int:
            raise self.fail(
                "",
                f"unsupported catalog version {version!r} "
                f"(this application reads version {SUPPORTED_VERSION})",
            )
        raw_products = self._list(root, "products", "")
        if not raw_products:
            raise self.fail("", "the catalog has no products")
        products: list[Product] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_products):
            product = self.product(raw, f"product #{index + 1}")
            if product.code in seen:
                raise self.fail(f"product {product.code!r}", "duplicate product code")
            seen.add(product.code)
            products.append(product)
        self._check_currencies(products)
        return Catalog(version=version, products=tuple(products), source=source)

    def product(self, raw: object, where: str) -> Product:
        obj = self._object(raw, where)
        code = self._code(obj, where)
        where = f"product {code!r}"
        roles_raw = self._list(obj, "cancel_roles", where)
        if not roles_raw:
            raise self.fail(where, "'cancel_roles' must name at least one role")
        roles: list[str] = []
        for role in roles_raw:
            if role not in ROLES:
                raise self.fail(
                    where,
                    f"unknown role {role!r} in 'cancel_roles' (known: {', '.join(sorted(ROLES))})",
                )
            if role in roles:
                raise self.fail(where, f"role {role!r} listed twice in 'cancel_roles'")
            roles.append(role)
        requires_super = self._bool(obj, "cancel_requires_super_admin", where)
        if requires_super and roles != ["super_admin"]:
            raise self.fail(
                where,
                "'cancel_requires_super_admin' is true, so 'cancel_roles' "
                "must be exactly ['super_admin']",
            )

        plans: list[Plan] = []
        for index, raw_plan in enumerate(self._list(obj, "plans", where)):
            plan = self.plan(raw_plan, code, f"{where}, plan #{index + 1}")
            if any(p.code == plan.code for p in plans):
                raise self.fail(f"{where}, plan {plan.code!r}", "duplicate plan code")
            if plans and plan.rank <= plans[-1].rank:
                raise self.fail(
                    f"{where}, plan {plan.code!r}",
                    f"rank {plan.rank} does not increase after plan "
                    f"{plans[-1].code!r} (rank {plans[-1].rank}); list tiers lowest "
                    "first with increasing ranks",
                )
            plans.append(plan)
        if not plans:
            raise self.fail(where, "a product needs at least one plan")

        addons: list[Addon] = []
        for index, raw_addon in enumerate(self._list(obj, "addons", where)):
            addon = self.addon(raw_addon, code, f"{where}, add-on #{index + 1}")
            if any(a.code == addon.code for a in addons):
                raise self.fail(f"{where}, add-on {addon.code!r}", "duplicate add-on code")
            addons.append(addon)

        return Product(
            code=code,
            name=self._str(obj, "name", where),
            family=self._str(obj, "family", where),
            description=self._str(obj, "description", where, empty_ok=True),
            online_cancellation=self._bool(obj, "online_cancellation", where),
            online_downgrade=self._bool(obj, "online_downgrade", where),
            cancel_roles=tuple(roles),
            cancel_requires_super_admin=requires_super,
            trial_days=self._int(obj, "trial_days", where, 0),
            plans=tuple(plans),
            addons=tuple(addons),
        )

    def plan(self, raw: object, product_code: str, where: str) -> Plan:
        obj = self._object(raw, where)
        code = self._code(obj, where)
        where = f"product {product_code!r}, plan {code!r}"
        features = self._list(obj, "features", where)
        if not all(isinstance(f, str) and f.strip() for f in features):
            raise self.fail(where, "'features' must be a list of non-empty strings")
        return Plan(
            product_code=product_code,
            code=code,
            name=self._str(obj, "name", where),
            rank=self._int(obj, "rank", where, 1),
            max_licences=self._int(obj, "max_licences", where, 1),
            features=tuple(features),
            prices=self.prices(self._get(obj, "prices", where), where),
        )

    def addon(self, raw: object, product_code: str, where: str) -> Addon:
        obj = self._object(raw, where)
        code = self._code(obj, where)
        where = f"product {product_code!r}, add-on {code!r}"
        return Addon(
            product_code=product_code,
            code=code,
            name=self._str(obj, "name", where),
            per_licence=self._bool(obj, "per_licence", where),
            prices=self.prices(self._get(obj, "prices", where), where),
        )

    def prices(self, raw: object, where: str) -> tuple[Price, ...]:
        obj = self._object(raw, f"{where}, prices")
        if not obj:
            raise self.fail(where, "no prices")
        out: list[Price] = []
        for currency, per_frequency in obj.items():
            if not _CURRENCY_RE.match(currency) or currency not in CURRENCY_EXPONENTS:
                raise self.fail(where, f"currency {currency!r} is not a supported ISO-4217 code")
            here = f"{where}, {currency} price"
            table = self._object(per_frequency, here)
            for key in table:
                if key not in FREQUENCIES:
                    raise self.fail(here, f"unknown frequency {key!r} (expected monthly, annual)")
            amounts = {}
            for frequency in FREQUENCIES:
                if frequency not in table:
                    raise self.fail(where, f"missing {currency} {frequency} price")
                amounts[frequency] = self.amount(
                    table[frequency], CURRENCY_EXPONENTS[currency], f"{here} ({frequency})"
                )
            out.append(Price(currency, amounts["monthly"], amounts["annual"]))
        return tuple(out)

    def amount(self, raw: object, exponent: int, where: str) -> Decimal:
        if not isinstance(raw, str):
            raise self.fail(where, f"price must be a decimal string such as '25.00', got {raw!r}")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise self.fail(where, f"{raw!r} is not a decimal amount") from None
        if not value.is_finite():
            raise self.fail(where, f"{raw!r} is not a decimal amount")
        if value < 0:
            raise self.fail(where, f"negative price {raw}")
        places = value.as_tuple().exponent
        if isinstance(places, int) and places < -exponent:
            raise self.fail(where, f"price {raw} has more than {exponent} decimal places")
        return value.quantize(Decimal(1).scaleb(-exponent))

    def _check_currencies(self, products: list[Product]) -> None:
        """Every plan and add-on must be priced in every currency the catalog sells in.

        Otherwise an account in that currency could reach a checkout with no price.
        """
        required: list[str] = []
        for product in products:
            for item in (*product.plans, *product.addons):
                required.extend(c for c in item.currencies if c not in required)
        for product in products:
            for item in product.plans:
                missing = [c for c in required if c not in item.currencies]
                if missing:
                    raise self.fail(
                        f"product {product.code!r}, plan {item.code!r}",
                        f"missing {', '.join(missing)} price",
                    )
            for item in product.addons:
                missing = [c for c in required if c not in item.currencies]
                if missing:
                    raise self.fail(
                        f"product {product.code!r}, add-on {item.code!r}",
                        f"missing {', '.join(missing)} price",
                    )
