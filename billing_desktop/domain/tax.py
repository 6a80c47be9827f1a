"""VAT: rates per country, VAT-number validation and the reverse-charge rule.

Business rule (SPEC §3 "Checkout"): "VAT numbers are validated per country
(python-stdnum). A valid EU VAT number of another EU country than the
seller's gives reverse charge (0 %); otherwise the billing country's rate
applies (rates in a data file)" — ``resources/vat_rates.json``.

Rounding (SPEC §2): VAT is rounded half-up to the minor unit *per invoice
line*; the invoice VAT is the sum of the rounded line VATs
(:func:`invoice_vat`), so it may differ from "subtotal × rate" by at most
half a minor unit per line.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumValidationError

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.money import Money, round_half_up
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = [
    "DEFAULT_RATES_PATH",
    "REVERSE_CHARGE_NOTE",
    "VatRates",
    "VatTreatment",
    "invoice_vat",
    "normalise_country",
    "validate_vat_number",
    "vat_amount",
    "vat_treatment",
]

#: Repository layout: ``<root>/resources/vat_rates.json``. An installed
#: application passes its own path to :meth:`VatRates.load`.
DEFAULT_RATES_PATH = Path(__file__).resolve().parents[2] / "resources" / "vat_rates.json"

#: Wording printed on an invoice under reverse charge (Art. 196 Directive 2006/112/EC).
REVERSE_CHARGE_NOTE = QT_TRANSLATE_NOOP(
    "Invoice",
    "Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive).",
)

# Greece is GR in ISO 3166 but EL in VAT numbers.
_VAT_PREFIX = {"GR": "EL"}
_COUNTRY_OF_PREFIX = {"EL": "GR"}
# Prefixes a billing country accepts besides its own (Northern Ireland "XI" for GB).
_EXTRA_PREFIXES = {"GB": ("XI",)}


def normalise_country(country: str) -> str:
    """Upper-case ISO 3166 code; the VAT prefix ``EL`` is read as Greece ``GR``."""
    if not isinstance(country, str):
        raise TypeError(f"country must be str, not {type(country).__name__}")
    code = country.strip().upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise ValidationError(
            "country_invalid",
            QT_TRANSLATE_NOOP("DomainError", "{country} is not a valid country code."),
            country=country,
        )
    return _COUNTRY_OF_PREFIX.get(code, code)


def _parse_rate(value: object, country: str) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError(
            f"VAT rate of {country} must be a string or Decimal, never {type(value).__name__}"
        )
    try:
        rate = Decimal(str(value))
    except decimal.InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or not Decimal(0) <= rate < Decimal(100):
        raise ValidationError(
            "vat_rates_invalid",
            QT_TRANSLATE_NOOP("DomainError", "The VAT rate {rate} for {country} is not valid."),
            rate=str(value),
            country=country,
        )
    return rate


@dataclass(frozen=True, slots=True)
class VatRates:
    """The VAT data file: seller country, EU member states and standard rates (percent)."""

    seller_country: str
    eu_countries: frozenset[str]
    rates: Mapping[str, Decimal] = field(hash=False)
    default_rate: Decimal = Decimal(0)
    source_note: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> VatRates:
        """Build from the parsed JSON document (see ``resources/vat_rates.json``)."""
        try:
            seller = normalise_country(data["seller_country"])
            eu = frozenset(normalise_country(c) for c in data["eu_countries"])
            rates = {
                normalise_country(c): _parse_rate(r, c) for c, r in dict(data["rates"]).items()
            }
            default = _parse_rate(data.get("default_rate", "0"), "default")
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValidationError(
                "vat_rates_invalid",
                QT_TRANSLATE_NOOP("DomainError", "The VAT rates file is not valid: {detail}."),
                detail=repr(exc),
            ) from exc
        problems = [f"no rate for {c}" for c in sorted(eu - rates.keys())]
        if seller not in eu:
            problems.append(f"seller country {seller} is not in the EU")
        if problems:
            raise ValidationError(
                "vat_rates_invalid",
                QT_TRANSLATE_NOOP("DomainError", "The VAT rates file is not valid: {detail}."),
                detail="; ".join(problems),
            )
        return cls(
            seller_country=seller,
            eu_countries=eu,
            rates=MappingProxyType(rates),
            default_rate=default,
            source_note=str(data.get("source_note", "")),
        )

    @classmethod
    def load(cls, path: Path | str | None = None) -> VatRates:
        """Read the rates file (default: ``DEFAULT_RATES_PATH`` in the repository)."""
        file = Path(path) if path is not None else DEFAULT_RATES_PATH
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError(
                "vat_rates_unreadable",
                QT_TRANSLATE_NOOP("DomainError", "The VAT rates file {path} cannot be read."),
                path=str(file),
            ) from exc
        return cls.from_mapping(data)

    def is_eu(self, country: str) -> bool:
        """Whether ``country`` is an EU member state."""
        return normalise_country(country) in self.eu_countries

    def rate_for(self, country: str) -> Decimal:
        """Standard rate (percent) of ``country``; ``default_rate`` when it has no entry."""
        return self.rates.get(normalise_country(country), self.default_rate)


# -- VAT numbers ---------------------------------------------------------------------------


def _error(code: str, country: str, number: str) -> ValidationError:
    messages = {
        "vat_invalid_format": QT_TRANSLATE_NOOP(
            "DomainError", "{number} is not a valid VAT number for {country}: check its format."
        ),
        "vat_invalid_checksum": QT_TRANSLATE_NOOP(
            "DomainError", "{number} is not a valid VAT number for {country}: check the digits."
        ),
        "vat_wrong_country": QT_TRANSLATE_NOOP(
            "DomainError",
            "The VAT number {number} belongs to another country than the billing country {country}.",  # noqa: E501
        ),
        "vat_unsupported_country": QT_TRANSLATE_NOOP(
            "DomainError", "VAT numbers of {country} cannot be validated."
        ),
    }
    return ValidationError(code, messages[code], country=country, number=number)


def _clean(number: str) -> str:
    return "".join(ch for ch in number.upper() if ch.isalnum())


def _is_country_prefix(prefix: str) -> bool:
    if prefix in _COUNTRY_OF_PREFIX or prefix.lower() in eu_vat.MEMBER_STATES:
        return True
    return get_cc_module(prefix.lower(), "vat") is not None


def _national_module(country: str) -> ModuleType | None:
    module: ModuleType | None = get_cc_module(country.lower(), "vat")
    return module


def validate_vat_number(country: str, number: str) -> str:
    """Validate ``number`` as a VAT number of billing ``country``; return it compact.

    SPEC §3: "VAT numbers are validated per country (python-stdnum)". EU
    numbers use ``stdnum.eu.vat`` (Greece with the ``EL`` prefix); other
    countries use ``stdnum.get_cc_module(cc, "vat")`` (e.g. GB, CH, NO). The
    country prefix is optional on input and always present in the result
    (``"de 136 695 976"`` → ``"DE136695976"``). Errors (``ValidationError``):
    ``vat_invalid_format``, ``vat_invalid_checksum``, ``vat_wrong_country``
    (the number carries another country's prefix), ``vat_unsupported_country``.
    """
    if not isinstance(number, str):
        raise TypeError(f"VAT number must be str, not {type(number).__name__}")
    cc = normalise_country(country)
    raw = _clean(number)
    if not raw:
        raise _error("vat_invalid_format", cc, number)

    eu = cc.lower() in eu_vat.MEMBER_STATES
    module = None if eu else _national_module(cc)
    if not eu and module is None:
        raise _error("vat_unsupported_country", cc, number)
    own_prefix = _VAT_PREFIX.get(cc, cc)
    accepted = {own_prefix, cc, *_EXTRA_PREFIXES.get(cc, ())}
    head = raw[:2]

    def check(candidate: str) -> str:
        if eu or (head == "XI" and "XI" in accepted):
            eu_vat.validate(candidate)
            compact: str = eu_vat.compact(candidate)
            return own_prefix + compact[2:] if compact[:2] == cc else compact
        assert module is not None
        module.validate(candidate)
        national: str = module.compact(candidate)
        return national if national.startswith(own_prefix) else own_prefix + national

    if head.isalpha() and head in accepted:
        candidate = (own_prefix + raw[2:]) if eu and head == cc else raw
    elif head.isalpha() and _is_country_prefix(head):
        # A foreign prefix — unless the national number itself starts with letters
        # that happen to look like one (then the own prefix makes it valid).
        try:
            return check(own_prefix + raw if eu else raw)
        except StdnumValidationError:
            raise _error("vat_wrong_country", cc, number) from None
    else:
        candidate = own_prefix + raw if eu else raw
    try:
        return check(candidate)
    except InvalidChecksum:
        raise _error("vat_invalid_checksum", cc, number) from None
    except StdnumValidationError:
        raise _error("vat_invalid_format", cc, number) from None


# -- treatment and amounts -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VatTreatment:
    """How VAT applies to an account: ``rate`` in percent, or reverse charge at 0 %."""

    country: str
    rate: Decimal
    reverse_charge: bool
    vat_number: str | None


def vat_treatment(billing_country: str, vat_number: str | None, rates: VatRates) -> VatTreatment:
    """Decide the VAT treatment of an account (SPEC §3).

    "A valid EU VAT number of another EU country than the seller's gives
    reverse charge (0 %); otherwise the billing country's rate applies."
    A given VAT number is always validated (an invalid one raises
    ``ValidationError`` rather than silently charging VAT); for a country whose
    numbers cannot be validated (e.g. US) the number is kept as entered and
    the country's rate applies. An empty number counts as none.
    """
    country = normalise_country(billing_country)
    rate = rates.rate_for(country)
    if vat_number is None or not vat_number.strip():
        return VatTreatment(country, rate, False, None)
    try:
        number = validate_vat_number(country, vat_number)
    except ValidationError as exc:
        if exc.code != "vat_unsupported_country":
            raise
        return VatTreatment(country, rate, False, vat_number.strip())
    if country in rates.eu_countries and country != rates.seller_country:
        return VatTreatment(country, Decimal(0), True, number)
    return VatTreatment(country, rate, False, number)


def vat_amount(net: Money, rate: Decimal) -> Money:
    """VAT on one line: ``net × rate ÷ 100`` rounded half-up to the minor unit.

    SPEC §2: rounding half-up at the line level (ties away from zero, so a
    credit line's VAT is the exact negation of the matching charge's VAT).
    ``rate`` is a percentage as ``Decimal`` (or ``int``/``str``); floats raise ``TypeError``.
    """
    if isinstance(rate, bool | float):
        raise TypeError(f"VAT rate must be Decimal, never {type(rate).__name__}")
    exact_rate = _parse_rate(rate, "rate") if not isinstance(rate, Decimal) else rate
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        exact = net.amount * exact_rate / 100
    return Money(round_half_up(exact, net.exponent), net.currency)


def invoice_vat(line_nets: Iterable[Money], rate: Decimal, currency: str) -> Money:
    """Invoice VAT = sum of the half-up-rounded VAT of each line (SPEC §2: "totals
    are sums of rounded lines"); not the VAT of the rounded subtotal."""
    total = Money.zero(currency)
    for net in line_nets:
        total = total + vat_amount(net, rate)
    return total
