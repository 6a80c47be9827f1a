"""ISO-4217 currencies: how many minor-unit digits each has.

Apart from :mod:`billing_desktop.domain.money` (which re-exports these) so
that showing an amount needs no ``decimal`` arithmetic loaded: the accounts
list formats balances from integer minor units before the first paint.
"""

from __future__ import annotations

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = ["CURRENCY_EXPONENTS", "currency_exponent"]

#: Minor-unit exponent (digits after the decimal point) per ISO-4217 code.
CURRENCY_EXPONENTS: dict[str, int] = {
    # two decimals
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "DKK": 2, "NOK": 2,
    "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "BGN": 2, "CAD": 2, "AUD": 2,
    "NZD": 2, "MXN": 2, "BRL": 2, "INR": 2, "SGD": 2, "HKD": 2, "ZAR": 2,
    "TRY": 2, "ILS": 2, "CNY": 2,
    # no minor unit
    "JPY": 0, "KRW": 0, "ISK": 0,
    # three decimals
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}  # fmt: skip


def currency_exponent(code: str) -> int:
    """Number of minor-unit digits of ISO-4217 ``code`` (EUR → 2, JPY → 0, KWD → 3).

    Raises ``ValidationError("currency_unknown")`` for a code not in the table.
    """
    if not isinstance(code, str):
        raise TypeError(f"currency code must be str, not {type(code).__name__}")
    try:
        return CURRENCY_EXPONENTS[code.strip().upper()]
    except KeyError:
        raise ValidationError(
            "currency_unknown",
            QT_TRANSLATE_NOOP("DomainError", "Unknown currency code: {currency}."),
            currency=code,
        ) from None
