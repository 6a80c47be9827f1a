"""Values as a customer document writes them in its language (money, dates, numbers).

Money reuses :func:`billing_desktop.ui.formatting.format_money` (QtCore only,
no widgets): integer minor units, never a float, in the locale's currency
pattern ("1.234,56 €", "€1,234.56"). Dates on documents carry a four-digit
year ("26/04/2026"): the locale's short format with its ``yy`` widened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from PySide6.QtCore import QLocale, QTime

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.ui.formatting import format_date as ui_format_date
from billing_desktop.ui.formatting import format_money

__all__ = [
    "country_name",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_money",
    "format_percent",
    "format_period",
    "format_value",
    "format_values",
]

_NBSP = "\u00a0"
#: languages whose CLDR percent pattern puts a space before the sign ("22 %")
_SPACED_PERCENT = frozenset({"de", "fr", "es", "sv", "nb", "no", "da", "fi", "cs", "sk", "pl"})


def format_date(d: date, locale: QLocale) -> str:
    """``d`` in the locale's short date order with a four-digit year: "26/04/2026"."""
    return ui_format_date(d, locale)


def format_datetime(moment: datetime, locale: QLocale) -> str:
    """Date as :func:`format_date` and the time in the locale's short format."""
    time_text = locale.toString(
        QTime(moment.hour, moment.minute, moment.second), QLocale.FormatType.ShortFormat
    )
    return f"{format_date(moment.date(), locale)} {time_text}"


def format_period(period: Period, locale: QLocale) -> str:
    """A billing period as an inclusive range: first day – last day of service."""
    return f"{format_date(period.start, locale)} – {format_date(period.last_day, locale)}"


def format_decimal(value: Decimal, locale: QLocale) -> str:
    """An exact decimal with the locale's grouping and decimal point (no float on the way)."""
    sign, _digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN / infinity: nothing sensible to localise
        return str(value)
    text = f"{abs(value):f}"
    whole, _, fraction = text.partition(".")
    out = locale.toString(int(whole))
    if fraction:
        out = f"{out}{locale.decimalPoint()}{fraction}"
    return f"{locale.negativeSign()}{out}" if sign and value != 0 else out


def format_percent(rate: Decimal, locale: QLocale) -> str:
    """A percentage such as a VAT rate: "22%" (it, en), "19 %" (de), "21,5%"."""
    number = format_decimal(rate.normalize(), locale)  # 22.00 → "22", 21.50 → "21,5"
    space = _NBSP if QLocale.languageToCode(locale.language()) in _SPACED_PERCENT else ""
    return f"{number}{space}{locale.percent()}"


def country_name(code: str, locale: QLocale) -> str:
    """The name of country ``code`` ("IT") for a reader using ``locale``.

    The reader's own language where Qt knows it for that country (a German
    reader: "Italien"), else the country's own name ("Italia"), else the code.
    """
    code = (code or "").strip().upper()
    territory = QLocale.codeToTerritory(code) if code else QLocale.Country.AnyTerritory
    if territory == QLocale.Country.AnyTerritory:
        return code
    own = QLocale(locale.language(), territory)
    if own.territory() == territory and own.language() == locale.language():
        name = own.nativeTerritoryName()
        if name:
            return name
    native = QLocale(QLocale.Language.AnyLanguage, territory).nativeTerritoryName()
    return native or QLocale.territoryToString(territory) or code


def format_value(value: Any, locale: QLocale) -> str:
    """Any template value as text for ``locale``."""
    if isinstance(value, Money):
        return format_money(value.minor, value.currency, locale)
    if isinstance(value, datetime):
        return format_datetime(value, locale)
    if isinstance(value, date):
        return format_date(value, locale)
    if isinstance(value, Period):
        return format_period(value, locale)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return locale.toString(value)
    if isinstance(value, Decimal):
        return format_decimal(value, locale)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v, locale) for v in value)
    if value is None:
        return ""
    return str(value)


def format_values(params: Mapping[str, Any], locale: QLocale) -> dict[str, str]:
    """Every value of ``params`` formatted with :func:`format_value`."""
    return {key: format_value(value, locale) for key, value in params.items()}
