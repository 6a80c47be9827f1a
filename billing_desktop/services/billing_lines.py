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
    unit = plan.unit_price(currency, frequency)
    lines = [
        PeriodLine(
            "charge", f"{product.name} {plan.name}", licences, unit, unit * licences
        )
    ]
    for addon in addons:
        addon_unit = addon.unit_price(currency, frequency)
        quantity = licences if addon.per_licence else 1
        lines.append(PeriodLine("addon", addon.name, quantity, addon_unit, addon_unit * quantity))
    subtotal = sum_money((line.amount for line in lines), currency)
    vat_money = invoice_vat((line.amount for line in lines), vat.rate, currency)
    return PeriodBill(
        lines=tuple(lines),
        subtotal=subtotal,
        vat_rate=vat.rate,
        reverse_charge=vat.reverse_charge,
        vat=vat_money,
        total=subtotal + vat_money,
    )
