"""Relative dates for data files (the demo dataset): ``today+16d``, ``today-1m``, ISO dates.

Demo data must stay meaningful whatever day the trainer resets the database
(SPEC §5 "Time"), so dates are written relative to the clock's ``today``.
"""

from __future__ import annotations

import datetime as _dt
import re
from datetime import date

from dateutil.relativedelta import relativedelta

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = ["parse_relative_date"]

_TERM = r"[+-]\d{1,5}[dwmy]"
_RELATIVE = re.compile(rf"today((?:{_TERM})*)")
_TERMS = re.compile(r"([+-])(\d{1,5})([dwmy])")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _invalid(text: object) -> ValidationError:
    return ValidationError(
        "date_invalid",
        QT_TRANSLATE_NOOP(
            "DomainError",
            "{text} is not a valid date (use YYYY-MM-DD, today, or today+/-N followed by d, w, m or y).",  # noqa: E501
        ),
        text=text,
    )


def parse_relative_date(text: str, today: date) -> date:
    """Parse ``today``, ``today±N{d|w|m|y}`` (terms may be chained: ``today+1m-2d``)
    or an ISO ``YYYY-MM-DD`` date. Case and surrounding spaces are ignored.

    Months and years use ``relativedelta`` (``today+1m`` on Jan 31 → Feb 28/29),
    like billing periods (SPEC §3). Anything else raises ``ValidationError("date_invalid")``.
    """
    if not isinstance(today, date) or isinstance(today, _dt.datetime):
        raise TypeError("today must be a datetime.date")
    if not isinstance(text, str):
        raise _invalid(text)
    cleaned = "".join(text.split()).lower()
    if _ISO.fullmatch(cleaned):
        try:
            return date.fromisoformat(cleaned)
        except ValueError:
            raise _invalid(text) from None
    match = _RELATIVE.fullmatch(cleaned)
    if match is None:
        raise _invalid(text)
    result = today
    try:
        for sign, count, unit in _TERMS.findall(match.group(1)):
            n = int(count) * (-1 if sign == "-" else 1)
            if unit == "d":
                result = result + _dt.timedelta(days=n)
            elif unit == "w":
                result = result + _dt.timedelta(weeks=n)
            elif unit == "m":
                result = result + relativedelta(months=n)
            else:
                result = result + relativedelta(years=n)
    except (OverflowError, ValueError):
        raise _invalid(text) from None
    return result
