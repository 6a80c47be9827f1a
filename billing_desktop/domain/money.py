"""Exact money: ``Decimal`` amounts in one ISO-4217 currency.

Business rule (SPEC §2 "Money is exact"): amounts are ``Decimal`` in the
domain, integer minor units in the database, one currency per account,
rounding half-up to the minor unit at the line level; totals are sums of
rounded lines. No floats anywhere in money: a ``float`` (or ``bool``) given as
an amount or factor raises ``TypeError``.

"Half-up" is ``decimal.ROUND_HALF_UP``: ties round away from zero, so the
rounding is symmetric (``-x`` rounds to ``-(round(x))``) and a credit is the
exact negation of the matching charge.

Range: the database column is a signed 64-bit integer of minor units, so an
amount whose minor-unit value would exceed :data:`MAX_MINOR` in magnitude is
refused with ``ValidationError("amount_too_large")``; NaN and infinities with
``ValidationError("amount_invalid")``. Both are checked before any rounding,
so absurd inputs such as ``"1e400000000000000"`` fail fast and cleanly.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing_desktop.domain.currencies import CURRENCY_EXPONENTS, currency_exponent
from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = [
    "CURRENCY_EXPONENTS",
    "MAX_MINOR",
    "Money",
    "currency_exponent",
    "round_half_up",
    "sum_money",
]

# Enough digits for any realistic money product to be exact before rounding.
_PRECISION = 60

#: Largest magnitude of an amount in minor units: it must fit a signed 64-bit
#: integer column (``|minor| <= 2**63 - 1``).
MAX_MINOR = 2**63 - 1
# Decimal digits of MAX_MINOR (19): a value with ``adjusted() >= _MAX_MINOR_DIGITS`` is
# at least 10**19 > MAX_MINOR.
_MAX_MINOR_DIGITS = len(str(MAX_MINOR))


def round_half_up(value: Decimal, exponent: int) -> Decimal:
    """Round ``value`` half-up (ties away from zero) to ``exponent`` decimal places.

    SPEC §2: "rounding half-up to the cent at the line level".
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"value must be Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValidationError(
            "amount_not_finite",
            QT_TRANSLATE_NOOP("DomainError", "The amount {amount} is not a number."),
            amount=str(value),
        )
    quantum = Decimal(1).scaleb(-exponent)
    with decimal.localcontext() as ctx:
        ctx.prec = max(_PRECISION, value.adjusted() + exponent + 2)
        return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _to_decimal(value: object, what: str) -> Decimal:
    """Convert an exact number (``Decimal``, ``int``, ``str``) to ``Decimal``; refuse floats."""
    if isinstance(value, bool | float):
        raise TypeError(f"{what} must be Decimal, int or str, never {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValidationError(
                "amount_invalid",
                QT_TRANSLATE_NOOP("DomainError", "{amount} is not a valid amount."),
                amount=value,
            ) from None
    else:
        raise TypeError(f"{what} must be Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():  # NaN, sNaN, ±Infinity
        raise ValidationError(
            "amount_invalid",
            QT_TRANSLATE_NOOP("DomainError", "{amount} is not a valid amount."),
            amount=_display(result),
        )
    return result


def _display(value: Decimal) -> str:
    """``value`` as text for an error message, in short scientific form when it is huge."""
    if value.is_finite() and not value.is_zero() and value.adjusted() > 30:
        return f"{value:.6E}"
    return str(value)


def _too_large(value: Decimal) -> ValidationError:
    return ValidationError(
        "amount_too_large",
        QT_TRANSLATE_NOOP("DomainError", "The amount {amount} is too large."),
        amount=_display(value),
    )


def _to_minor_range(value: Decimal, exponent: int) -> Decimal:
    """Round finite ``value`` half-up to ``exponent`` places, refusing out-of-range amounts.

    The cheap exponent test (``Decimal.adjusted()``) comes first, so a value such
    as ``1E+400000000000000`` is refused without ever being expanded; the exact
    test on the rounded minor units then decides the values near the limit.
    """
    if value.is_zero():
        return Decimal(0).scaleb(-exponent)  # also normalises "0E+1000000" and "-0"
    if value.adjusted() + exponent >= _MAX_MINOR_DIGITS:
        raise _too_large(value)
    rounded = round_half_up(value, exponent)
    if abs(rounded.scaleb(exponent)) > MAX_MINOR:
        raise _too_large(value)
    return rounded


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency, always quantized to the currency's minor unit.

    ``Money(amount, currency)`` accepts ``Decimal``, ``int`` or ``str`` amounts
    and rounds them half-up to the minor unit (SPEC §2). An amount whose minor
    units would not fit a signed 64-bit integer (``|minor| > MAX_MINOR``) raises
    ``ValidationError("amount_too_large")``; garbage, NaN or infinity raise
    ``ValidationError("amount_invalid")``. Equality between
    different currencies is simply ``False``; ordering and arithmetic across
    currencies raise ``ValueError`` ("one currency per account").
    """

    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        # Explicit __init__ (kept by @dataclass) so that int and str amounts type-check.
        if not isinstance(currency, str):
            raise TypeError(f"currency must be str, not {type(currency).__name__}")
        currency = currency.strip().upper()
        exponent = currency_exponent(currency)
        amount = _to_minor_range(_to_decimal(amount, "amount"), exponent)
        if amount.is_zero():
            amount = abs(amount)  # no "-0.00"
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "amount", amount)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Money from integer minor units (how the database stores it): 1230 EUR → 12.30.

        ``|minor| > MAX_MINOR`` raises ``ValidationError("amount_too_large")``.
        """
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError(f"minor units must be int, not {type(minor).__name__}")
        if abs(minor) > MAX_MINOR:
            # Decimal(int) does not go through str(), so no int-digits limit applies; the
            # wide exponent range keeps scaleb from overflowing (the display may round).
            with decimal.localcontext() as ctx:
                ctx.Emin, ctx.Emax = decimal.MIN_EMIN, decimal.MAX_EMAX
                raise _too_large(Decimal(minor).scaleb(-currency_exponent(currency)))
        return cls(Decimal(minor).scaleb(-currency_exponent(currency)), currency)

    # -- views --------------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        """Minor-unit digits of this currency."""
        return currency_exponent(self.currency)

    @property
    def minor(self) -> int:
        """The amount in integer minor units (12.30 EUR → 1230)."""
        return int(self.amount.scaleb(self.exponent))

    @property
    def is_zero(self) -> bool:
        return self.amount.is_zero()

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def __str__(self) -> str:
        """Debug form such as ``EUR 12.30``; the UI formats money with ``QLocale``."""
        return f"{self.currency} {self.amount}"

    # -- arithmetic ---------------------------------------------------------------------

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: object) -> Money:
        """Multiply by an ``int`` or ``Decimal`` factor, rounding half-up to the minor unit."""
        if isinstance(factor, Money):
            return NotImplemented
        if isinstance(factor, bool | float):
            raise TypeError(f"money factor must be int or Decimal, never {type(factor).__name__}")
        if not isinstance(factor, int | Decimal):
            return NotImplemented
        exact = _to_decimal(factor, "factor")
        if exact.is_zero() or self.amount.is_zero():
            return Money.zero(self.currency)
        if self.amount.adjusted() + exact.adjusted() + self.exponent > _MAX_MINOR_DIGITS:
            # The product cannot fit: refuse it before computing it.
            raise ValidationError(
                "amount_too_large",
                QT_TRANSLATE_NOOP("DomainError", "The amount {amount} is too large."),
                amount=f"{self.amount} × {_display(exact)}",
            )
        with decimal.localcontext() as ctx:
            ctx.prec = _PRECISION
            ctx.Emin, ctx.Emax = decimal.MIN_EMIN, decimal.MAX_EMAX  # no under/overflow
            product = self.amount * exact
        return Money(product, self.currency)  # rounds half-up once, checks the range

    __rmul__ = __mul__

    def scaled(self, numerator: int, denominator: int) -> Money:
        """``self × numerator ÷ denominator`` rounded half-up to the minor unit, exactly.

        Computed on integer minor units, so no intermediate rounding happens
        (used for "amount × unused days ÷ days in period", SPEC §3).
        """
        for name, value in (("numerator", numerator), ("denominator", denominator)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be int, not {type(value).__name__}")
        if denominator == 0:
            raise ZeroDivisionError("denominator must not be zero")
        top = self.minor * numerator
        if denominator < 0:
            top, denominator = -top, -denominator
        quotient, remainder = divmod(abs(top), denominator)
        if 2 * remainder >= denominator:
            quotient += 1
        minor = quotient if top >= 0 else -quotient
        return Money.from_minor(minor, self.currency)

    # -- ordering (same currency only) --------------------------------------------------

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount >= other.amount


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Sum ``items`` in ``currency`` (zero when empty); another currency raises ``ValueError``.

    SPEC §2: "totals are sums of rounded lines" — each item is already rounded.
    """
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
