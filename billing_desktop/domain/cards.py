"""Payment-card and bank-account validation that keeps only a safe summary.

Business rule (SPEC §3 "Checkout"): "Card numbers are validated (Luhn, expiry
in the future) and never stored: keep brand, last four digits, expiry."
:func:`validate_card` returns a :class:`CardSummary` and nothing else; neither
the summary nor any error raised here contains the full number.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidFormat
from stdnum.exceptions import ValidationError as StdnumValidationError

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = [
    "BankAccountSummary",
    "CardBrand",
    "CardSummary",
    "card_brand",
    "validate_card",
    "validate_iban",
]

# Country code, two check digits, up to 30 alphanumerics (ISO 13616), before any checksum.
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")

#: Latest expiry year accepted, relative to today (cards are issued for ≤ 20 years).
MAX_YEARS_AHEAD = 20


class CardBrand(StrEnum):
    """Card networks recognised from the number's prefix (IIN ranges)."""

    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    MAESTRO = "maestro"
    JCB = "jcb"
    DINERS = "diners"


# (brand, inclusive prefix ranges as (low, high) of equal digit count, allowed lengths).
# Checked in order; the more specific ranges come first.
_BRAND_RULES: tuple[tuple[CardBrand, tuple[tuple[str, str], ...], frozenset[int]], ...] = (
    (CardBrand.AMEX, (("34", "34"), ("37", "37")), frozenset({15})),
    (CardBrand.DINERS, (("300", "305"), ("36", "36"), ("38", "39")), frozenset(range(14, 20))),
    (CardBrand.JCB, (("3528", "3589"),), frozenset(range(16, 20))),
    (CardBrand.VISA, (("4", "4"),), frozenset({13, 16, 19})),
    (CardBrand.MASTERCARD, (("51", "55"), ("2221", "2720")), frozenset({16})),
    (
        CardBrand.DISCOVER,
        (("6011", "6011"), ("644", "649"), ("65", "65")),
        frozenset(range(16, 20)),
    ),
    (
        CardBrand.MAESTRO,
        (("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("5893", "5893"),
         ("6304", "6304"), ("6759", "6759"), ("6761", "6763")),
        frozenset(range(12, 20)),
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CardSummary:
    """What may be kept of a card: brand, last four digits and expiry (SPEC §3)."""

    brand: CardBrand
    last4: str
    exp_month: int
    exp_year: int

    def expires_before(self, day: date) -> bool:
        """Whether the card is no longer valid on ``day`` (valid through its expiry month)."""
        return (self.exp_year, self.exp_month) < (day.year, day.month)


@dataclass(frozen=True, slots=True)
class BankAccountSummary:
    """What may be kept of a bank account: its country and the last four characters."""

    country: str
    last4: str


def _invalid_number() -> ValidationError:
    return ValidationError(
        "card_invalid_number",
        QT_TRANSLATE_NOOP("DomainError", "The card number is not valid. Check the digits."),
    )


def card_brand(digits: str) -> CardBrand | None:
    """The brand whose IIN range and length match ``digits`` (digits only), else ``None``."""
    for brand, ranges, lengths in _BRAND_RULES:
        for low, high in ranges:
            if low <= digits[: len(low)] <= high and len(digits) in lengths:
                return brand
    return None


def _matches_any_prefix(digits: str) -> bool:
    return any(
        low <= digits[: len(low)] <= high for _, ranges, _ in _BRAND_RULES for low, high in ranges
    )


def _check_expiry(exp_month: int, exp_year: int, today: date) -> tuple[int, int]:
    invalid = ValidationError(
        "card_invalid_expiry",
        QT_TRANSLATE_NOOP("DomainError", "The expiry date {month}/{year} is not valid."),
        month=exp_month,
        year=exp_year,
    )
    for value in (exp_month, exp_year):
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid
    if not 1 <= exp_month <= 12:
        raise invalid
    year = exp_year + 2000 if 0 <= exp_year <= 99 else exp_year
    if not 2000 <= year <= today.year + MAX_YEARS_AHEAD:
        raise invalid
    if (year, exp_month) < (today.year, today.month):
        raise ValidationError(
            "card_expired",
            QT_TRANSLATE_NOOP("DomainError", "The card expired in {month:02d}/{year}."),
            month=exp_month,
            year=year,
        )
    return exp_month, year


def validate_card(number: str, exp_month: int, exp_year: int, today: date) -> CardSummary:
    """Validate a card and return only its :class:`CardSummary` (SPEC §3).

    Spaces and dashes are ignored; the number must be 12–19 digits, pass the
    Luhn check (``card_invalid_number``) and belong to a known brand with a
    length valid for that brand (``card_unknown_brand`` /
    ``card_invalid_number``). The card is valid through the last day of its
    expiry month (``card_expired``); a month outside 1–12 or an implausible
    year is ``card_invalid_expiry``. Two-digit years mean 20YY.
    """
    if not isinstance(number, str):
        raise TypeError(f"card number must be str, not {type(number).__name__}")
    if not isinstance(today, date) or isinstance(today, _dt.datetime):
        raise TypeError("today must be a datetime.date")
    digits = "".join(ch for ch in number if ch not in " -\t")
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19):
        raise _invalid_number()
    if not luhn.is_valid(digits):
        raise _invalid_number()
    brand = card_brand(digits)
    if brand is None:
        if _matches_any_prefix(digits):
            raise _invalid_number()  # known network, impossible length
        raise ValidationError(
            "card_unknown_brand",
            QT_TRANSLATE_NOOP("DomainError", "This card type is not accepted."),
        )
    month, year = _check_expiry(exp_month, exp_year, today)
    return CardSummary(brand=brand, last4=digits[-4:], exp_month=month, exp_year=year)


def validate_iban(iban: str) -> BankAccountSummary:
    """Validate an IBAN (``stdnum.iban``: country format and check digits) and summarise it.

    Errors: ``iban_invalid_checksum`` and ``iban_invalid_format``; the IBAN
    itself is never part of the error.
    """
    if not isinstance(iban, str):
        raise TypeError(f"IBAN must be str, not {type(iban).__name__}")
    try:
        if not _IBAN_SHAPE.fullmatch(std_iban.compact(iban)):
            raise InvalidFormat()
        compact: str = std_iban.validate(iban)
    except InvalidChecksum:
        raise ValidationError(
            "iban_invalid_checksum",
            QT_TRANSLATE_NOOP("DomainError", "The IBAN is not valid. Check the digits."),
        ) from None
    except StdnumValidationError:
        raise ValidationError(
            "iban_invalid_format",
            QT_TRANSLATE_NOOP("DomainError", "The IBAN does not have a valid format."),
        ) from None
    return BankAccountSummary(country=compact[:2], last4=compact[-4:])
