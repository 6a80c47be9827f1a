"""What one billing period of a subscription costs, line by line.

Shared by the demo builders and (later) the renewal engine so a period is
always priced the same way: plan line = unit price × licences, add-on lines per
licence or once, VAT per line rounded half-up and summed (SPEC §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_desktop.domain.catalog import Addon, Plan, Product
from billing_desktop.domain.money import Money, sum_money
from billing_desktop.domain.tax import VatTreatment, invoice_vat


@dataclass(frozen=True, slots=True)
class PeriodLine:
    kind: str  # "charge" | "addon"
    description: str
    quantity: int
    unit_price: Money
    amount: Money


@dataclass(frozen=True, slots=True)
class PeriodBill:
    """Lines, subtotal, VAT and total of one period under one VAT treatment."""

    lines: tuple[PeriodLine, ...]
    subtotal: Money
    vat_rate: Decimal
    reverse_charge: bool
    vat: Money
    total: Money

    @property
    def vat_rate_bp(self) -> int:
        """VAT rate in hundredths of a percent, as the database stores it."""
        return int(self.vat_rate * 100)


_ZEROS: dict[str, Money] = {}


def zero(currency: str) -> Money:
    """``Money.zero(currency)`` (kept: money is immutable)."""
    found = _ZEROS.get(currency)
    if found is None:
        found = _ZEROS[currency] = Money.zero(currency)
    return found


def sum_amounts(amounts: Sequence[Money], currency: str) -> Money:
    """:func:`~billing_desktop.domain.money.sum_money` of ``amounts``: their exact sum (every
    amount is already rounded), computed at once instead of one addition at a time."""
    if all(a.currency == currency for a in amounts):
        return Money(sum((a.amount for a in amounts), Decimal(0)), currency)
    return sum_money(amounts, currency)  # raises for the other currency


#: (plan or add-on, currency, frequency) → (the item, its unit price); the item is kept
#: with its price so that its id cannot be reused while the entry exists
_UNIT_PRICES: dict[tuple[int, str, str], tuple[Plan | Addon, Money]] = {}


def unit_price(item: Plan | Addon, currency: str, frequency: str) -> Money:
    """``item.unit_price(currency, frequency)`` (catalog items are immutable: kept)."""
    key = (id(item), currency, frequency)
    found = _UNIT_PRICES.get(key)
    if found is None or found[0] is not item:
        if len(_UNIT_PRICES) > 4096:
            _UNIT_PRICES.clear()
        found = _UNIT_PRICES[key] = (item, item.unit_price(currency, frequency))
    return found[1]


def lines_vat(amounts: Sequence[Money], rate: Decimal, currency: str) -> Money:
    """:func:`~billing_desktop.domain.tax.invoice_vat` of the line amounts: the VAT of each
    line rounded half-up, summed (SPEC §2); at a zero rate (reverse charge, or lines priced
    net) simply nothing."""
    if not rate:
        return zero(currency)
    return invoice_vat(amounts, rate, currency)


def period_bill(
    product: Product,
    plan: Plan,
    addons: Sequence[Addon],
    licences: int,
    currency: str,
    frequency: str,
    vat: VatTreatment,
) -> PeriodBill:
    """Price one full billing period of a subscription configuration."""
    unit = unit_price(plan, currency, frequency)
    lines = [
        PeriodLine(
            "charge", f"{product.name} {plan.name}", licences, unit, unit * licences
        )
    ]
    for addon in addons:
        addon_unit = unit_price(addon, currency, frequency)
        quantity = licences if addon.per_licence else 1
        lines.append(PeriodLine("addon", addon.name, quantity, addon_unit, addon_unit * quantity))
    amounts = [line.amount for line in lines]
    subtotal = sum_amounts(amounts, currency)
    vat_money = lines_vat(amounts, vat.rate, currency)
    return PeriodBill(
        lines=tuple(lines),
        subtotal=subtotal,
        vat_rate=vat.rate,
        reverse_charge=vat.reverse_charge,
        vat=vat_money,
        total=subtotal + vat_money if vat.rate else subtotal,
    )
