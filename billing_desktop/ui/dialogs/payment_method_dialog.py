"""Add a card or a bank account to an account (SPEC §3: card numbers are never stored).

The number is checked as it is typed with the domain's own rules
(``domain.cards.validate_card`` / ``card_brand`` / ``validate_iban``), so the
dialog and the service can never disagree. OK stays disabled until the input
is valid. On OK the dialog hands the number to ``services.payments.add_card``
(or ``add_bank_account``), which keeps brand, last four and expiry only, and
then empties the field — with ``setText("")``, which also drops the field's
undo history. Nothing else holds the number: the dialog keeps only the
service's :class:`~billing_desktop.services.payments.PaymentMethodInfo`, and
:attr:`PaymentMethodDialog.method_added` carries only that.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QRegularExpression,
    Qt,
    Signal,
)
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.cards import (
    MAX_YEARS_AHEAD,
    CardBrand,
    card_brand,
    validate_card,
    validate_iban,
)
from billing_desktop.domain.errors import DomainError, ValidationError
from billing_desktop.services.context import AppContext
from billing_desktop.services.payments import PaymentMethodInfo, add_bank_account, add_card
from billing_desktop.ui.errors import error_text, show_service_error, translate_message

__all__ = ["BRAND_WORDS", "PaymentMethodDialog", "brand_word"]

log = logging.getLogger("billing_desktop.ui")

CARD = "card"
BANK_ACCOUNT = "bank_account"

BRAND_WORDS = {
    CardBrand.VISA.value: QT_TRANSLATE_NOOP("PaymentMethods", "Visa"),
    CardBrand.MASTERCARD.value: QT_TRANSLATE_NOOP("PaymentMethods", "Mastercard"),
    CardBrand.AMEX.value: QT_TRANSLATE_NOOP("PaymentMethods", "American Express"),
    CardBrand.DISCOVER.value: QT_TRANSLATE_NOOP("PaymentMethods", "Discover"),
    CardBrand.MAESTRO.value: QT_TRANSLATE_NOOP("PaymentMethods", "Maestro"),
    CardBrand.JCB.value: QT_TRANSLATE_NOOP("PaymentMethods", "JCB"),
    CardBrand.DINERS.value: QT_TRANSLATE_NOOP("PaymentMethods", "Diners Club"),
}

#: Characters a card number may be typed with: digits, spaces and dashes (19 digits + gaps).
_CARD_CHARS = QRegularExpression(r"[0-9 \-]{0,25}")
#: An IBAN as typed: letters, digits and spaces (34 characters + gaps).
_IBAN_CHARS = QRegularExpression(r"[A-Za-z0-9 ]{0,42}")
_COUNTRY_CHARS = QRegularExpression(r"[A-Za-z]{0,2}")
#: Fewer digits than this and the number is still being typed: no error yet.
_SHORTEST_CARD = 12


def brand_word(brand: str | None) -> str:
    """The brand's name as people write it ("amex" → "American Express")."""
    if not brand:
        return QCoreApplication.translate("PaymentMethods", "Card")
    source = BRAND_WORDS.get(brand)
    return QCoreApplication.translate("PaymentMethods", source) if source else brand.title()


def _message(err: DomainError) -> str:
    """The error's sentence; falls back to the raw values for templates with a format
    spec (``{month:02d}``), which ``error_text`` cannot fill with pre-formatted text."""
    text = error_text(err)
    if "{" in text:
        try:
            return translate_message(err.message).format(**err.params)
        except (KeyError, IndexError, ValueError):
            pass
    return text


def _digits(number: str) -> str:
    """The number without the spaces and dashes people type between groups."""
    return "".join(ch for ch in number if ch not in " -")


class PaymentMethodDialog(QDialog):
    """Add a card (``kind="card"``) or a SEPA bank account (``kind="bank_account"``)."""

    #: the method as stored (brand, last four, expiry — never the number)
    method_added = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        account_id: int,
        kind: str = CARD,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if kind not in (CARD, BANK_ACCOUNT):
            raise ValueError(f"unknown payment method kind {kind!r}")
        self.setObjectName("paymentMethodDialog")
        self._ctx = ctx
        self._account_id = account_id
        self._kind = kind
        self._today = ctx.clock.today()
        #: the number field lost focus once: errors show even for short input
        self._touched = False
        #: what the service stored, after OK
        self.added: PaymentMethodInfo | None = None

        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form = form

        self.number_label = QLabel(self)
        self.number_edit = QLineEdit(self)
        self.number_edit.setObjectName("numberEdit")
        self.number_edit.setInputMethodHints(
            Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhNoAutoUppercase
            | (Qt.InputMethodHint.ImhPreferNumbers if kind == CARD else Qt.InputMethodHint.ImhNone)
        )
        self.number_edit.setValidator(
            QRegularExpressionValidator(_CARD_CHARS if kind == CARD else _IBAN_CHARS, self)
        )
        self.number_edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.number_label.setBuddy(self.number_edit)
        self.brand_label = QLabel(self)
        self.brand_label.setObjectName("brandLabel")
        self.brand_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("American Express"))
        number_row = QHBoxLayout()
        number_row.addWidget(self.number_edit, 1)
        number_row.addWidget(self.brand_label)
        form.addRow(self.number_label, number_row)
        self.number_message = QLabel(self)
        self.number_message.setObjectName("numberMessage")
        self.number_message.setWordWrap(True)
        form.addRow("", self.number_message)

        self.month_combo: QComboBox | None = None
        self.year_combo: QComboBox | None = None
        self.expiry_label: QLabel | None = None
        self.expiry_message: QLabel | None = None
        if kind == CARD:
            self.expiry_label = QLabel(self)
            self.month_combo = QComboBox(self)
            self.month_combo.setObjectName("expiryMonth")
            for month in range(1, 13):
                self.month_combo.addItem(f"{month:02d}", month)
            self.month_combo.setCurrentIndex(-1)
            self.year_combo = QComboBox(self)
            self.year_combo.setObjectName("expiryYear")
            for year in range(self._today.year, self._today.year + MAX_YEARS_AHEAD + 1):
                self.year_combo.addItem(str(year), year)
            self.year_combo.setCurrentIndex(-1)
            self.expiry_label.setBuddy(self.month_combo)
            expiry_row = QHBoxLayout()
            expiry_row.addWidget(self.month_combo)
            expiry_row.addWidget(QLabel("/", self))
            expiry_row.addWidget(self.year_combo)
            expiry_row.addStretch(1)
            form.addRow(self.expiry_label, expiry_row)
            self.expiry_message = QLabel(self)
            self.expiry_message.setObjectName("expiryMessage")
            self.expiry_message.setWordWrap(True)
            form.addRow("", self.expiry_message)

        self.holder_label = QLabel(self)
        self.holder_edit = QLineEdit(self)
        self.holder_edit.setObjectName("holderEdit")
        self.holder_edit.setMaxLength(200)
        self.holder_label.setBuddy(self.holder_edit)
        form.addRow(self.holder_label, self.holder_edit)

        self.address_box: QGroupBox | None = None
        if kind == CARD:
            box = QGroupBox(self)
            box.setObjectName("billingAddress")
            address = QFormLayout(box)
            address.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            self.address_note = QLabel(box)
            self.address_note.setWordWrap(True)
            address.addRow(self.address_note)
            self.line1_label, self.line1_edit = QLabel(box), QLineEdit(box)
            self.line1_edit.setMaxLength(200)
            self.postal_label, self.postal_edit = QLabel(box), QLineEdit(box)
            self.postal_edit.setMaxLength(20)
            self.city_label, self.city_edit = QLabel(box), QLineEdit(box)
            self.city_edit.setMaxLength(100)
            self.country_label, self.country_edit = QLabel(box), QLineEdit(box)
            self.country_edit.setValidator(QRegularExpressionValidator(_COUNTRY_CHARS, self))
            self.country_edit.setMaximumWidth(self.fontMetrics().horizontalAdvance("MMMM") + 16)
            for label, edit in (
                (self.line1_label, self.line1_edit),
                (self.postal_label, self.postal_edit),
                (self.city_label, self.city_edit),
                (self.country_label, self.country_edit),
            ):
                label.setBuddy(edit)
                address.addRow(label, edit)
            self.address_box = box

        self.default_check = QCheckBox(self)
        self.default_check.setObjectName("makeDefault")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        if self.address_box is not None:
            layout.addWidget(self.address_box)
        layout.addWidget(self.default_check)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.number_edit.textChanged.connect(self._validate)
        self.number_edit.editingFinished.connect(self._number_left)
        self.holder_edit.textChanged.connect(self._validate)
        if self.month_combo is not None and self.year_combo is not None:
            self.month_combo.currentIndexChanged.connect(self._validate)
            self.year_combo.currentIndexChanged.connect(self._validate)
        if self.address_box is not None:
            self.country_edit.textEdited.connect(
                lambda text: self.country_edit.setText(text.upper())
            )

        self.setMinimumWidth(460)
        self.retranslateUi()
        self._validate()

    # -- state ---------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _month(self) -> int | None:
        if self.month_combo is None or self.month_combo.currentIndex() < 0:
            return None
        return int(self.month_combo.currentData())

    def _year(self) -> int | None:
        if self.year_combo is None or self.year_combo.currentIndex() < 0:
            return None
        return int(self.year_combo.currentData())

    # -- validation as you type ------------------------------------------------

    def _number_left(self) -> None:
        self._touched = True
        self._validate()

    def _validate(self) -> None:
        valid = self._validate_card() if self._kind == CARD else self._validate_iban()
        self.ok_button.setEnabled(valid and bool(self.holder_edit.text().strip()))

    def _show(self, label: QLabel, err: DomainError | None, hint: str = "") -> None:
        if err is None:
            label.setText(hint)
            label.setStyleSheet("color: palette(dark);" if hint else "")
        else:
            label.setText(_message(err))
            label.setStyleSheet("color: #b00020;")

    def _validate_card(self) -> bool:
        assert self.expiry_message is not None
        number = self.number_edit.text()
        digits = _digits(number)
        self.brand_label.clear()
        month, year = self._month(), self._year()
        if not digits:
            self._show(self.number_message, None)
            self._show(self.expiry_message, None)
            return False
        # The number alone first: today's month stands in for an expiry not chosen yet.
        try:
            validate_card(number, self._today.month, self._today.year, self._today)
        except ValidationError as err:
            still_typing = len(digits) < _SHORTEST_CARD and not self._touched
            if still_typing:
                self._show(self.number_message, None, self.tr("Keep typing the card number."))
            else:
                self._show(self.number_message, err)
            self._show(self.expiry_message, None)
            return False
        brand = card_brand(digits)  # known: the number passed the domain's checks
        self.brand_label.setText(brand_word(brand.value if brand else None))
        self._show(self.number_message, None)
        if month is None or year is None:
            self._show(self.expiry_message, None, self.tr("Choose the expiry month and year."))
            return False
        try:
            validate_card(number, month, year, self._today)
        except ValidationError as err:
            self._show(self.expiry_message, err)
            return False
        self._show(self.expiry_message, None)
        return True

    def _validate_iban(self) -> bool:
        iban = self.number_edit.text()
        self.brand_label.clear()
        if not iban.strip():
            self._show(self.number_message, None)
            return False
        try:
            summary = validate_iban(iban)
        except ValidationError as err:
            compact = "".join(iban.split())
            if len(compact) < 15 and not self._touched:  # the shortest IBANs (Norway) have 15
                self._show(self.number_message, None, self.tr("Keep typing the IBAN."))
            else:
                self._show(self.number_message, err)
            return False
        self.brand_label.setText(
            self.tr("{country} •••• {last4}").format(country=summary.country, last4=summary.last4)
        )
        self._show(self.number_message, None)
        return True

    # -- OK / Cancel -----------------------------------------------------------

    def accept(self) -> None:
        """Hand the input to the service; on success empty the number and close."""
        if not self.ok_button.isEnabled():
            return
        try:
            if self._kind == CARD:
                assert self.address_box is not None
                month, year = self._month(), self._year()
                assert month is not None and year is not None
                info = add_card(
                    self._ctx,
                    self._account_id,
                    number=self.number_edit.text(),
                    exp_month=month,
                    exp_year=year,
                    holder_name=self.holder_edit.text(),
                    billing_line1=self.line1_edit.text(),
                    billing_postal_code=self.postal_edit.text(),
                    billing_city=self.city_edit.text(),
                    billing_country=self.country_edit.text(),
                    make_default=self.default_check.isChecked(),
                )
            else:
                info = add_bank_account(
                    self._ctx,
                    self._account_id,
                    iban=self.number_edit.text(),
                    holder_name=self.holder_edit.text(),
                    make_default=self.default_check.isChecked(),
                )
        except DomainError as err:
            show_service_error(self, err)  # the input stays for the user to correct
            return
        self._forget_number()
        self.added = info
        self.method_added.emit(info)
        super().accept()

    def done(self, result: int) -> None:
        self._forget_number()
        super().done(result)

    def _forget_number(self) -> None:
        # setText (not clear()) also empties the undo history, which would keep the number
        self.number_edit.blockSignals(True)
        self.number_edit.setText("")
        self.number_edit.setModified(False)
        self.number_edit.blockSignals(False)

    # -- language ----------------------------------------------------------------

    def retranslateUi(self) -> None:
        if self._kind == CARD:
            self.setWindowTitle(self.tr("Add card"))
            self.intro.setText(
                self.tr(
                    "Only the brand, the last four digits and the expiry date are kept; "
                    "the card number is never stored."
                )
            )
            self.number_label.setText(self.tr("Card &number:"))
            self.number_edit.setPlaceholderText(self.tr("1234 5678 9012 3456"))
            assert self.expiry_label is not None
            assert self.month_combo is not None and self.year_combo is not None
            self.expiry_label.setText(self.tr("&Expires:"))
            self.month_combo.setPlaceholderText(self.tr("Month"))
            self.year_combo.setPlaceholderText(self.tr("Year"))
            self.holder_label.setText(self.tr("Name on &card:"))
            assert self.address_box is not None
            self.address_box.setTitle(self.tr("Billing address of the card"))
            self.address_note.setText(
                self.tr("Leave these empty to use the account's billing address.")
            )
            self.line1_label.setText(self.tr("&Street:"))
            self.postal_label.setText(self.tr("&Postal code:"))
            self.city_label.setText(self.tr("C&ity:"))
            self.country_label.setText(self.tr("Co&untry code:"))
            self.country_edit.setPlaceholderText(self.tr("IT"))
            self.default_check.setText(self.tr("Make this card the &default payment method"))
        else:
            self.setWindowTitle(self.tr("Add bank account"))
            self.intro.setText(
                self.tr(
                    "The account is debited by SEPA direct debit. Only the country and the "
                    "last four characters of the IBAN are kept."
                )
            )
            self.number_label.setText(self.tr("&IBAN:"))
            self.number_edit.setPlaceholderText(self.tr("NL91 ABNA 0417 1643 00"))
            self.holder_label.setText(self.tr("Account &holder:"))
            self.default_check.setText(
                self.tr("Make this bank account the &default payment method")
            )
        self.ok_button.setText(self.tr("&Add"))
        self._validate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)
