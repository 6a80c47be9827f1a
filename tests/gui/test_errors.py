"""Service errors become one translated, formatted sentence."""

from __future__ import annotations

from datetime import date

from billing_desktop.domain.errors import PolicyViolation
from billing_desktop.domain.money import Money
from billing_desktop.services.errors import NotFound
from billing_desktop.ui.errors import error_text


def test_values_are_formatted_for_the_ui_locale(qapp) -> None:
    err = PolicyViolation(
        "example",
        "Pay {amount} by {day} first.",
        amount=Money("1234.50", "EUR"),
        day=date(2026, 4, 26),
    )
    assert error_text(err) == "Pay €1,234.50 by 4/26/2026 first."


def test_service_error_text(qapp) -> None:
    text = error_text(NotFound("Account", "A-999999"))
    assert text == "Account A-999999 was not found; it may have been deleted."


def test_whole_numbers_keep_their_format_spec(qapp) -> None:
    err = PolicyViolation(
        "card_expired", "The card expired in {month:02d}/{year}.", month=3, year=2025
    )
    assert error_text(err) == "The card expired in 03/2025."
