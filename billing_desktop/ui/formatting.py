"""Money and dates in the user's locale, for display only.

Money is formatted from integer minor units without ever going through a
float (DESIGN "What to avoid"): the whole units are grouped with
``QLocale.toString(int)``, the minor digits are appended after the locale's
decimal point, and the result is dropped into the locale's own currency
pattern, learned from ``QLocale.toCurrencyString(±1, symbol)`` on an *int* —
so symbol placement, spacing and the negative form (``-1 €``, ``(€1)``) are
exactly what Qt's CLDR data says for that locale.
"""

from __future__ import annotations

import logging
import re
from datetime import date

from PySide6.QtCore import QDate, QLocale

from billing_desktop.domain.currencies import currency_exponent
from billing_desktop.domain.errors import ValidationError

__all__ = ["ROOT_SYMBOLS", "MoneyTexts", "currency_symbol", "format_date", "format_money"]

log = logging.getLogger("billing_desktop.ui")

_ISO = QLocale.CurrencySymbolFormat.CurrencyIsoCode
_SYMBOL = QLocale.CurrencySymbolFormat.CurrencySymbol
# Stands in for the symbol while the digits are substituted, so a symbol that
# happens to contain the digit "1" is never touched.
_PLACEHOLDER = "\x00"
_NBSP = "\u00a0"


#: Symbols from CLDR's root locale: understood everywhere, never ambiguous
#: ("$" alone could be any dollar, so the root writes "US$", "CA$").
#: Currencies not listed are written with their ISO code, as CLDR does.
ROOT_SYMBOLS = {
    "AUD": "A$", "BRL": "R$", "CAD": "CA$", "CNY": "CN¥", "EUR": "€", "GBP": "£",
    "HKD": "HK$", "ILS": "₪", "INR": "₹", "JPY": "JP¥", "KRW": "₩", "MXN": "MX$",
    "NZD": "NZ$", "PHP": "₱", "TWD": "NT$", "USD": "US$", "VND": "₫",
}  # fmt: skip


def currency_symbol(currency: str, locale: QLocale | None = None) -> str:
    """The symbol to show for ``currency`` to a reader using ``locale``.

    The locale's own currency uses its own symbol ("$" in the US, "kr" in
    Sweden); any other currency uses CLDR's root symbol ("€", "US$") or its
    ISO code ("CHF", "SEK").
    """
    loc = locale if locale is not None else QLocale()
    code = currency.strip().upper()
    if loc.currencySymbol(_ISO) == code:
        own = loc.currencySymbol(_SYMBOL)
        if own:
            return own
    return ROOT_SYMBOLS.get(code, code)


def _exponent(currency: str) -> int:
    try:
        return currency_exponent(currency)
    except ValidationError:
        # A display must not crash on bad data; two decimals is the common case.
        log.warning("unknown currency %r shown with two decimals", currency)
        return 2


def format_money(minor: int, currency: str, locale: QLocale | None = None) -> str:
    """``minor`` units of ``currency`` as the locale writes money: "1.234,56 €", "€1,234.56".

    Integers only: ``minor`` must be an ``int`` (a float raises ``TypeError``) that
    fits in 64 bits, as every stored amount does.
    """
    if not isinstance(minor, int) or isinstance(minor, bool):
        raise TypeError(f"minor units must be int, not {type(minor).__name__}")
    if not -(2**63) <= minor < 2**63:
        # The database stores 64-bit integers; nothing larger can be a real amount.
        raise OverflowError(f"{minor} minor units do not fit in 64 bits")
    loc = locale if locale is not None else QLocale()
    exponent = _exponent(currency)
    units, fraction = divmod(abs(minor), 10**exponent)
    digits = loc.toString(units)
    if exponent:
        fraction_text = loc.toString(fraction).rjust(exponent, loc.zeroDigit())
        digits = f"{digits}{loc.decimalPoint()}{fraction_text}"
    one = loc.toString(1)
    pattern = loc.toCurrencyString(-1 if minor < 0 else 1, _PLACEHOLDER)
    symbol = currency_symbol(currency, loc)
    # CLDR currency spacing: letters ("CHF", "JPY") never touch the digits.
    if symbol[-1].isalpha() and _PLACEHOLDER + one in pattern:
        symbol = symbol + _NBSP
    if symbol[0].isalpha() and one + _PLACEHOLDER in pattern:
        symbol = _NBSP + symbol
    return pattern.replace(one, digits, 1).replace(_PLACEHOLDER, symbol)


class MoneyTexts:
    """:func:`format_money` for one locale, for a table that shows many amounts.

    What depends only on the locale and the currency (its symbol and spacing,
    the positive and negative patterns, the decimal point, the minor digits'
    texts) is worked out once per currency; each amount then costs one
    ``QLocale.toString`` for its grouped whole units. The texts are exactly
    :func:`format_money`'s (a test compares them).
    """

    __slots__ = ("_currencies", "locale")

    def __init__(self, locale: QLocale | None = None) -> None:
        self.locale = locale if locale is not None else QLocale()
        #: currency → (exponent, minor digits' texts, positive and negative pattern
        #: as the text before and after the digits)
        self._currencies: dict[str, tuple[int, list[str], tuple[str, str], tuple[str, str]]] = {}

    def _parts(self, currency: str) -> tuple[int, list[str], tuple[str, str], tuple[str, str]]:
        loc = self.locale
        exponent = _exponent(currency)
        point, zero = loc.decimalPoint(), loc.zeroDigit()
        minors = [
            point + loc.toString(n).rjust(exponent, zero) for n in range(10**exponent)
        ] if exponent else [""]  # fmt: skip
        one = loc.toString(1)
        symbol = currency_symbol(currency, loc)
        patterns = []
        for sign in (1, -1):
            pattern = loc.toCurrencyString(sign, _PLACEHOLDER)
            spaced = symbol
            if spaced[-1].isalpha() and _PLACEHOLDER + one in pattern:
                spaced = spaced + _NBSP
            if spaced[0].isalpha() and one + _PLACEHOLDER in pattern:
                spaced = _NBSP + spaced
            before, _, after = pattern.partition(one)
            patterns.append(
                (before.replace(_PLACEHOLDER, spaced), after.replace(_PLACEHOLDER, spaced))
            )
        parts = (exponent, minors, patterns[0], patterns[1])
        self._currencies[currency] = parts
        return parts

    def text(self, minor: int, currency: str) -> str:
        """``minor`` units of ``currency``, as :func:`format_money` writes them."""
        if type(minor) is not int or not -(2**63) <= minor < 2**63:
            return format_money(minor, currency, self.locale)  # raises as it does
        parts = self._currencies.get(currency)
        if parts is None:
            parts = self._parts(currency)
        exponent, minors, positive, negative = parts
        units, fraction = divmod(abs(minor), 10**exponent)
        before, after = negative if minor < 0 else positive
        return f"{before}{self.locale.toString(units)}{minors[fraction]}{after}"


_TWO_DIGIT_YEAR = re.compile(r"(?<!y)yy(?!y)")


def date_pattern(locale: QLocale) -> str:
    """The locale's short date order with a four-digit year (billing dates span years)."""
    return _TWO_DIGIT_YEAR.sub("yyyy", locale.dateFormat(QLocale.FormatType.ShortFormat))


def format_date(d: date, locale: QLocale | None = None) -> str:
    """``d`` in the locale's short date order with a four-digit year ("26/04/2026")."""
    loc = locale if locale is not None else QLocale()
    return loc.toString(QDate(d.year, d.month, d.day), date_pattern(loc))
