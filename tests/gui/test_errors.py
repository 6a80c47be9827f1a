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


def test_words_the_service_marked_are_translated_too(qapp) -> None:
    """The sentence and the noun it names ("Account") both follow the UI language."""
    from PySide6.QtCore import QTranslator

    class Italian(QTranslator):
        WORDS = {
            "{what} {key} was not found; it may have been deleted.": (
                "{what} {key} non trovato; potrebbe essere stato eliminato."
            ),
            "Account": "Account cliente",
        }

        def translate(self, context, source, disambiguation=None, n=-1):
            # None: no translation here (an empty string would be one)
            return self.WORDS.get(source) if context == "ServiceError" else None

        def isEmpty(self) -> bool:
            return False

    translator = Italian()
    qapp.installTranslator(translator)
    try:
        text = error_text(NotFound("Account", "A-999999"))
    finally:
        qapp.removeTranslator(translator)
    assert text == "Account cliente A-999999 non trovato; potrebbe essere stato eliminato."
