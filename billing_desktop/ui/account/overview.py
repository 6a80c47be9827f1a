"""The account's Overview tab: company data, address, tax and documents, balances, contacts.

Editable fields are checked as the user types with the same pure check the
service runs before writing (``services.accounts.change_errors``, which uses
the domain's VAT validation), each problem shown under its field. Save and
Revert are enabled only while something changed; Save sends only the changed
fields with the version the tab read. When someone else changed the account
meanwhile, the conflict message appears and the user's edits stay in the
fields until they choose Reload.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.accounts import (
    ACCOUNT_TYPES,
    EDITABLE_FIELDS,
    MAX_LENGTHS,
    REQUIRED_FIELDS,
    AccountChanges,
    AccountOverview,
    ContactInfo,
    EditChoices,
    PaymentMethodBrief,
    account_edit_choices,
    account_overview,
    change_errors,
    update_account,
)
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError
from billing_desktop.ui.errors import error_text, show_service_error
from billing_desktop.ui.formatting import format_money
from billing_desktop.ui.models.accounts_model import type_word
from billing_desktop.ui.words import role_word, roles_text

__all__ = ["ContactsModel", "OverviewTab", "role_word"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex

#: Form labels with their mnemonics (Alt+letter), chosen not to clash with the
#: main window's menus (F, V, H) nor the page's tab keys (Alt+1 … Alt+7).
FIELD_LABELS = {
    "company_name": QT_TRANSLATE_NOOP("OverviewTab", "Company &name"),
    "type": QT_TRANSLATE_NOOP("OverviewTab", "Account &type"),
    "address_line1": QT_TRANSLATE_NOOP("OverviewTab", "&Address"),
    "address_line2": QT_TRANSLATE_NOOP("OverviewTab", "Addr&ess line 2"),
    "postal_code": QT_TRANSLATE_NOOP("OverviewTab", "&Postal code"),
    "city": QT_TRANSLATE_NOOP("OverviewTab", "&City"),
    "region": QT_TRANSLATE_NOOP("OverviewTab", "Re&gion"),
    "country": QT_TRANSLATE_NOOP("OverviewTab", "Countr&y"),
    "vat_number": QT_TRANSLATE_NOOP("OverviewTab", "VAT n&umber"),
    "language": QT_TRANSLATE_NOOP("OverviewTab", "&Language"),
    "currency": QT_TRANSLATE_NOOP("OverviewTab", "Cu&rrency"),
}

_CHOICE_FIELDS = ("type", "country", "language", "currency")
_ERROR_COLOUR = "#b3261e"


def _tr(text: str) -> str:
    return QCoreApplication.translate("OverviewTab", text)


def language_name(code: str) -> str:
    """A document language as its speakers write it, with its code: "Nederlands (nl)"."""
    native = QLocale(code).nativeLanguageName() if code else ""
    if not native or QLocale(code).language() == QLocale.Language.C:
        return code
    return QCoreApplication.translate("OverviewTab", "{language} ({code})").format(
        language=native[:1].upper() + native[1:], code=code
    )


def country_label(code: str) -> str:
    from billing_desktop.documents.formatting import country_name

    return QCoreApplication.translate("OverviewTab", "{country} ({code})").format(
        country=country_name(code, QLocale()), code=code
    )


# --------------------------------------------------------------------------- contacts


class ContactsModel(QAbstractTableModel):
    """The account's contacts with their roles (read-only here)."""

    NAME, EMAIL, ROLES = range(3)
    HEADERS = (
        QT_TRANSLATE_NOOP("OverviewTab", "Name"),
        QT_TRANSLATE_NOOP("OverviewTab", "Email"),
        QT_TRANSLATE_NOOP("OverviewTab", "Roles"),
    )
    ObjectRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: tuple[ContactInfo, ...] = ()

    def set_contacts(self, contacts: tuple[ContactInfo, ...]) -> None:
        self.beginResetModel()
        self._rows = contacts
        self.endResetModel()

    def contact(self, row: int) -> ContactInfo:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def roles_text(self, contact: ContactInfo) -> str:
        return roles_text(contact.roles)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        contact = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NAME:
                return contact.name
            if column == self.EMAIL:
                return contact.email
            if column == self.ROLES:
                return self.roles_text(contact)
        elif role == Qt.ItemDataRole.FontRole and contact.is_billing_contact and column == 0:
            font = QFont()
            font.setBold(True)
            return font
        elif role == Qt.ItemDataRole.ToolTipRole and contact.is_billing_contact:
            return QCoreApplication.translate(
                "OverviewTab", "The billing contact may change plans and receives the invoices."
            )
        elif role == self.ObjectRole:
            return contact
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return _tr(self.HEADERS[section])
        return None

    def retranslate(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.HEADERS) - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.HEADERS) - 1)
            )


# --------------------------------------------------------------------------- the tab


def _caption(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    label.setWordWrap(True)
    return label


def _error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(f"{name}Error")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {_ERROR_COLOUR};")
    label.hide()
    return label


def _value_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class OverviewTab(QWidget):
    """Company data, address, VAT number, language, currency, type; balances and contacts."""

    #: Emitted after a successful save.
    account_changed = Signal()
    #: The user followed a link to another tab of the page (e.g. "payment_methods").
    tab_requested = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        account_id: int,
        parent: QWidget | None = None,
        *,
        overview: AccountOverview | None = None,
    ) -> None:
        """Show ``overview`` if given (the page read it for its header), else read it now."""
        super().__init__(parent)
        self.setObjectName("overviewTab")
        self._ctx = ctx
        self.account_id = account_id
        #: the data the fields were filled from, and whose version a save is checked against
        self.overview: AccountOverview | None = None
        self._choices: EditChoices | None = None
        self._errors: dict[str, DomainError] = {}
        self._filling = False
        #: a save was refused because the account changed elsewhere
        self.conflict = False

        self.edits: dict[str, QLineEdit] = {}
        self.combos: dict[str, QComboBox] = {}
        self.field_labels: dict[str, QLabel] = {}
        self.error_labels: dict[str, QLabel] = {}
        content = QWidget(self)
        content.setObjectName("overviewContent")

        # -- company and address
        self.company_box = QGroupBox(content)
        company_form = self._form(self.company_box)
        for name in ("company_name", "type"):
            self._add_field(company_form, self.company_box, name)
        self.type_note = _caption(self.company_box)
        self.type_note.setObjectName("typeNote")
        self.type_note.hide()
        company_form.addRow("", self.type_note)

        self.address_box = QGroupBox(content)
        address_form = self._form(self.address_box)
        for name in ("address_line1", "address_line2", "postal_code", "city", "region", "country"):
            self._add_field(address_form, self.address_box, name)

        self.documents_box = QGroupBox(content)
        documents_form = self._form(self.documents_box)
        for name in ("vat_number", "language", "currency"):
            self._add_field(documents_form, self.documents_box, name)
        self.currency_note = _caption(self.documents_box)
        self.currency_note.setObjectName("currencyNote")
        documents_form.addRow("", self.currency_note)

        # -- balances, billing, representative (read-only)
        self.billing_box = QGroupBox(content)
        billing_form = self._form(self.billing_box)
        self.info_labels: dict[str, QLabel] = {}
        self.info_values: dict[str, QLabel] = {}
        for key in (
            "outstanding", "credit", "autopay", "payment_method", "payment_terms", "representative",
        ):  # fmt: skip
            label = QLabel(self.billing_box)
            value = _value_label(self.billing_box, f"{key}Value")
            billing_form.addRow(label, value)
            self.info_labels[key], self.info_values[key] = label, value
        self.info_values["autopay"].setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.info_values["autopay"].linkActivated.connect(self._on_link)
        bold = QFont(self.info_values["outstanding"].font())
        bold.setBold(True)
        self.info_values["outstanding"].setFont(bold)

        # -- contacts (read-only)
        self.contacts_box = QGroupBox(content)
        self.contacts_model = ContactsModel(self)
        self.contacts_table = QTableView(self.contacts_box)
        self.contacts_table.setObjectName("contactsTable")
        self.contacts_table.setModel(self.contacts_model)
        self._setup_contacts_table()
        self.contacts_hint = _caption(self.contacts_box)
        contacts_layout = QVBoxLayout(self.contacts_box)
        contacts_layout.addWidget(self.contacts_table, 1)
        contacts_layout.addWidget(self.contacts_hint)

        left = QVBoxLayout()
        left.setSpacing(12)
        left.addWidget(self.company_box)
        left.addWidget(self.address_box)
        left.addWidget(self.documents_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(12)
        right.addWidget(self.billing_box)
        right.addWidget(self.contacts_box, 1)
        columns = QHBoxLayout(content)
        columns.setContentsMargins(16, 16, 16, 8)
        columns.setSpacing(16)
        columns.addLayout(left, 5)
        columns.addLayout(right, 6)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)

        # -- messages and buttons
        self.read_only_note = _caption(self)
        self.read_only_note.setObjectName("readOnlyNote")
        self.read_only_note.hide()
        self.conflict_label = QLabel(self)
        self.conflict_label.setObjectName("conflictMessage")
        self.conflict_label.setWordWrap(True)
        self.conflict_label.setStyleSheet(
            "QLabel#conflictMessage { background: #fdecea; color: #8c1d18; "
            "border: 1px solid #f2b8b5; border-radius: 4px; padding: 6px 10px; }"
        )
        self.conflict_label.hide()
        self.save_button = QPushButton(self)
        self.save_button.setObjectName("saveButton")
        self.save_button.setDefault(False)
        # a QShortcut, not the button's: setText() would replace it with the mnemonic
        self._save_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        self._save_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._save_shortcut.activated.connect(self._save_if_enabled)
        self.revert_button = QPushButton(self)
        self.revert_button.setObjectName("revertButton")
        self.reload_button = QPushButton(self)
        self.reload_button.setObjectName("reloadButton")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.reload_button.clicked.connect(self.reload_discarding_edits)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(16, 4, 16, 12)
        buttons.addWidget(self.read_only_note, 1)
        buttons.addWidget(self.conflict_label, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.reload_button)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(buttons)

        self._set_tab_order()
        self.retranslateUi()
        self._update_buttons()
        if overview is not None:
            self._apply(overview)
        else:
            self.reload_discarding_edits()

    # -- construction ------------------------------------------------------------

    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return form

    def _add_field(self, form: QFormLayout, box: QGroupBox, name: str) -> None:
        label = QLabel(box)
        widget: QWidget
        if name in _CHOICE_FIELDS:
            combo = QComboBox(box)
            combo.setObjectName(f"{name}Combo")
            # as wide as the line edits, whatever the items and the order of layouts
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(12)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.currentIndexChanged.connect(self._on_edited)
            self.combos[name] = combo
            widget = combo
        else:
            edit = QLineEdit(box)
            edit.setObjectName(f"{name}Edit")
            limit = MAX_LENGTHS.get(name)
            if limit:
                edit.setMaxLength(limit)
            edit.textChanged.connect(self._on_edited)
            self.edits[name] = edit
            widget = edit
        label.setBuddy(widget)
        error = _error_label(box, name)
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(error)
        form.addRow(label, column)
        self.field_labels[name] = label
        self.error_labels[name] = error

    def _fit_label_width(self) -> None:
        """The three forms' fields start at the same x: their labels share one width."""
        widest = max(label.sizeHint().width() for label in self.field_labels.values())
        for label in self.field_labels.values():
            label.setMinimumWidth(widest)

    def _setup_contacts_table(self) -> None:
        table = self.contacts_table
        table.verticalHeader().hide()
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setTabKeyNavigation(False)
        table.setMinimumHeight(table.fontMetrics().height() * 8)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(ContactsModel.NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ContactsModel.EMAIL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(ContactsModel.ROLES, QHeaderView.ResizeMode.ResizeToContents)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)

    def _set_tab_order(self) -> None:
        widgets = [self.field_widget(name) for name in EDITABLE_FIELDS]
        widgets += [self.contacts_table, self.reload_button, self.revert_button, self.save_button]
        for first, second in itertools.pairwise(widgets):
            QWidget.setTabOrder(first, second)
        self.setFocusProxy(widgets[0])

    def field_widget(self, name: str) -> QWidget:
        """The line edit or combo box of an editable field."""
        return self.edits.get(name) or self.combos[name]

    # -- data --------------------------------------------------------------------

    def reload(self) -> None:
        """Read the account again; the user's unsaved edits survive.

        The page calls this after a change made in another tab. Fields the
        user has not edited take the fresh values; edited fields keep the
        user's text. If someone else changed a field the user is editing, the
        version read before is kept, so Save reports the conflict instead of
        overwriting that change.
        """
        try:
            fresh = account_overview(self._ctx, self.account_id)
        except DomainError as err:
            show_service_error(self, err)
            return
        old = self.overview
        edited = self.current_changes().items() if old is not None else {}
        if not edited or old is None:
            self._apply(fresh)
            return
        if all(fresh.value(name) == old.value(name) for name in edited):
            self._apply(fresh, keep=edited)
        else:
            self._show_read_only_parts(fresh)

    def reload_discarding_edits(self) -> None:
        """The Reload button: fresh data from the database; the user's edits are dropped."""
        try:
            fresh = account_overview(self._ctx, self.account_id)
        except DomainError as err:
            show_service_error(self, err)
            return
        self._apply(fresh)

    def revert(self) -> None:
        """Put the values read last back into the fields."""
        if self.overview is not None:
            self._apply(self.overview)

    def _ensure_choices(self) -> EditChoices:
        if self._choices is None:
            self._choices = account_edit_choices(self._ctx)
        return self._choices

    def _apply(self, overview: AccountOverview, keep: dict[str, str] | None = None) -> None:
        """Show ``overview``; fields named in ``keep`` get those (edited) values instead."""
        keep = keep or {}
        self.overview = overview
        self.conflict = False
        self.conflict_label.hide()
        choices = self._ensure_choices()
        self._filling = True
        try:
            self._fill_combo("type", ACCOUNT_TYPES, type_word, overview.type)
            self._fill_combo("country", choices.countries, country_label, overview.country)
            self._fill_combo("language", choices.languages, language_name, overview.language)
            self._fill_combo("currency", choices.currencies, str, overview.currency)
            for name in EDITABLE_FIELDS:
                value = keep.get(name, overview.value(name))
                if name in self.combos:
                    combo = self.combos[name]
                    combo.setCurrentIndex(max(combo.findData(value), 0))
                else:
                    self.edits[name].setText(value)
                    self.edits[name].setCursorPosition(0)
        finally:
            self._filling = False
        self._show_read_only_parts(overview)
        editable = overview.can_edit
        for name in EDITABLE_FIELDS:
            widget = self.field_widget(name)
            if isinstance(widget, QLineEdit):
                widget.setReadOnly(not editable)
            else:
                widget.setEnabled(
                    editable and not (name == "currency" and overview.currency_locked)
                )
        self.read_only_note.setVisible(not editable)
        for button in (self.save_button, self.revert_button):
            button.setVisible(editable)
        self._validate()

    def _fill_combo(self, name: str, values: tuple[str, ...], text: Any, current: str) -> None:
        combo = self.combos[name]
        items = list(values)
        if current and current not in items:
            items.append(current)  # a stored value outside today's choices stays shown
        labelled = [(text(v), v) for v in items]
        if name == "country":
            labelled.sort(key=lambda pair: pair[0].casefold())
        if [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())] == labelled:
            return
        combo.clear()
        for label, value in labelled:
            combo.addItem(label, value)

    def _show_read_only_parts(self, ov: AccountOverview) -> None:
        """Balances, autopay, payment method, terms, representative, contacts."""
        values = self.info_values
        values["outstanding"].setText(format_money(ov.outstanding_minor, ov.currency))
        values["credit"].setText(format_money(ov.credit_balance_minor, ov.currency))
        link = "<a href='#payment_methods'>{}</a>".format(self.tr("Payment methods"))
        if ov.autopay:
            autopay = self.tr("On: renewal invoices are paid from the default payment method.")
        else:
            autopay = self.tr("Off: renewal invoices stay open until they are paid.")
        values["autopay"].setText(
            self.tr("{state} Change it in {link}.").format(state=autopay, link=link)
        )
        values["payment_method"].setText(self._method_text(ov.default_payment_method))
        if ov.type == "corporate":
            days = ov.payment_terms_days if ov.payment_terms_days is not None else 30
            values["payment_terms"].setText(
                self.tr("Net {days} (invoices are due {days} days after issue)").format(
                    days=QLocale().toString(days)
                )
            )
        else:
            values["payment_terms"].setText(self.tr("Due on receipt"))
        if ov.representative:
            values["representative"].setText(ov.representative)
        elif ov.type == "corporate":
            values["representative"].setText(self.tr("Not assigned"))
        else:
            values["representative"].setText(self.tr("None (standard accounts are self-service)"))
        self.contacts_model.set_contacts(ov.contacts)
        billing = next((c for c in ov.contacts if c.is_billing_contact), None)
        if billing is not None:
            hint = self.tr(
                "The billing contact (in bold) is {name}. Contacts and their seats are "
                "managed in Users & licences."
            ).format(name=billing.name)
        else:
            hint = self.tr(
                "The account has no billing contact. Contacts and their seats are managed "
                "in Users & licences."
            )
        self.contacts_hint.setText(hint)
        self.currency_note.setText(
            self.tr("The currency cannot change: the account has invoices or credit in it.")
            if ov.currency_locked
            else self.tr("The currency can change until the first invoice.")
        )

    def _method_text(self, method: PaymentMethodBrief | None) -> str:
        if method is None:
            return self.tr("No payment method on file")
        if method.kind == "card":
            brand = (method.brand or "").title() or self.tr("Card")
            if method.exp_month and method.exp_year:
                return self.tr("{brand} ending {last4}, expires {month}/{year}").format(
                    brand=brand, last4=method.last4 or "", month=f"{method.exp_month:02d}",
                    year=method.exp_year,
                )  # fmt: skip
            return self.tr("{brand} ending {last4}").format(brand=brand, last4=method.last4 or "")
        if method.kind == "bank_account":
            return self.tr("Bank account ending {last4}").format(last4=method.last4 or "")
        return self.tr("Pays by invoice")

    # -- editing -----------------------------------------------------------------

    def field_value(self, name: str) -> str:
        if name in self.combos:
            data = self.combos[name].currentData()
            return str(data) if data is not None else ""
        return self.edits[name].text()

    def current_changes(self) -> AccountChanges:
        """The fields whose value differs from the data read last."""
        if self.overview is None:
            return AccountChanges()
        changed: dict[str, str] = {}
        for name in EDITABLE_FIELDS:
            value = self.field_value(name)
            normalised = " ".join(value.split()) if name == "company_name" else value.strip()
            if normalised != self.overview.value(name):
                changed[name] = value
        return AccountChanges(**changed)

    def has_unsaved_changes(self) -> bool:
        return bool(self.current_changes().items())

    def _on_edited(self, *_args: object) -> None:
        if self._filling:
            return
        self._validate()

    def _validate(self) -> None:
        if self.overview is None:
            self._errors = {}
        else:
            self._errors = dict(change_errors(self.overview, self.current_changes()))
        for name, label in self.error_labels.items():
            err = self._errors.get(name)
            label.setText(error_text(err) if err is not None else "")
            label.setVisible(err is not None)
            widget = self.field_widget(name)
            widget.setAccessibleDescription(label.text())
        self._update_type_note()
        self._update_buttons()

    def _update_type_note(self) -> None:
        ov = self.overview
        note = ""
        if ov is not None and self.field_value("type") != ov.type:
            if self.field_value("type") == "standard" and ov.representative:
                note = self.tr(
                    "Standard accounts are self-service: {name} will no longer be their "
                    "representative."
                ).format(name=ov.representative)
            elif self.field_value("type") == "corporate":
                note = self.tr(
                    "Corporate accounts pay by invoice and are looked after by a representative."
                )
        self.type_note.setText(note)
        self.type_note.setVisible(bool(note))

    def _update_buttons(self) -> None:
        dirty = self.overview is not None and self.has_unsaved_changes()
        self.save_button.setEnabled(
            dirty and not self._errors and bool(self.overview and self.overview.can_edit)
        )
        self.revert_button.setEnabled(dirty)

    def _save_if_enabled(self) -> None:
        if self.save_button.isEnabled() and self.save_button.isVisible():
            self.save()

    def save(self) -> None:
        """Send the changed fields with the version read; keep the input on any refusal."""
        ov = self.overview
        changes = self.current_changes()
        if ov is None or not changes.items() or self._errors:
            return
        try:
            fresh = update_account(self._ctx, ov.id, changes, expected_version=ov.version)
        except ConflictError as err:
            self._show_changed(err.params.get("changed_by"), err.params.get("changed_at"))
            show_service_error(self, err)
            self.reload_button.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        except DomainError as err:
            show_service_error(self, err)
            field = err.params.get("field")
            if isinstance(field, str) and field in self.error_labels:
                self.field_widget(field).setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._apply(fresh)
        self.account_changed.emit()

    def _show_changed(self, changed_by: object, changed_at: object) -> None:
        """The banner over the buttons: the account changed elsewhere (naming who and
        when, if known); the user's edits stay until Reload."""
        self.conflict = True
        if changed_by and changed_at is not None:
            from billing_desktop.documents.formatting import format_value

            text = self.tr(
                "This account was changed by {operator} at {time}. Your edits are kept; "
                "Reload shows the current data and discards them."
            ).format(operator=changed_by, time=format_value(changed_at, QLocale()))
        else:
            text = self.tr(
                "This account was changed elsewhere. Your edits are kept; Reload shows "
                "the current data and discards them."
            )
        self.conflict_label.setText(text)
        self.conflict_label.show()

    def refresh_live(self) -> None:
        """Another operator changed the database (live refresh).

        Without unsaved edits the tab shows the account as it is now. With edits
        they stay where they are: when the account itself changed, the banner
        says who changed it and when, and Reload shows the change (Save would
        report the conflict); balances and contacts are shown fresh either way.
        """
        old = self.overview
        if old is None:
            return
        try:
            fresh = account_overview(self._ctx, self.account_id)
        except DomainError as err:
            log.info("overview not refreshed: %s", err)
            return
        if fresh == old:
            return
        if not self.has_unsaved_changes():
            self._apply(fresh)
            return
        self._show_read_only_parts(fresh)
        if fresh.version != old.version:
            from billing_desktop.services.base import last_change

            change = last_change(self._ctx.db, self.account_id)
            self._show_changed(*(change or (None, None)))

    def _on_link(self, link: str) -> None:
        if link.startswith("#"):
            self.tab_requested.emit(link[1:])

    # -- language ----------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.company_box.setTitle(self.tr("Company"))
        self.address_box.setTitle(self.tr("Billing address"))
        self.documents_box.setTitle(self.tr("Tax and documents"))
        self.billing_box.setTitle(self.tr("Balances and billing"))
        self.contacts_box.setTitle(self.tr("Contacts"))
        for name, label in self.field_labels.items():
            text = _tr(FIELD_LABELS[name])
            if name in REQUIRED_FIELDS and name not in _CHOICE_FIELDS:
                text = self.tr("{label} *").format(label=text)
            label.setText(text)
        self._fit_label_width()
        self.edits["vat_number"].setPlaceholderText(self.tr("Optional, e.g. NL123456789B01"))
        self.edits["vat_number"].setToolTip(
            self.tr("Checked for the billing country as you type; leave empty if there is none.")
        )
        self.edits["address_line2"].setPlaceholderText(self.tr("Optional"))
        self.edits["region"].setPlaceholderText(self.tr("Optional"))
        titles = {
            "outstanding": self.tr("Outstanding balance"),
            "credit": self.tr("Account credit"),
            "autopay": self.tr("Autopay"),
            "payment_method": self.tr("Default payment method"),
            "payment_terms": self.tr("Payment terms"),
            "representative": self.tr("Representative"),
        }
        for key, text in titles.items():
            self.info_labels[key].setText(text)
        self.read_only_note.setText(self.tr("You can view this account but not change it."))
        self.save_button.setText(self.tr("Save"))
        self.save_button.setToolTip(self.tr("Save the changes (Ctrl+S)"))
        self.revert_button.setText(self.tr("Revert"))
        self.revert_button.setToolTip(self.tr("Put back the values shown before your edits"))
        self.reload_button.setText(self.tr("Reload"))
        self.reload_button.setToolTip(
            self.tr("Read the account again from the database; unsaved edits are discarded")
        )
        self.contacts_table.setAccessibleName(self.tr("Contacts"))
        self.contacts_model.retranslate()
        if self.overview is not None:
            self._filling = True
            try:
                for name, text in (("type", type_word), ("language", language_name)):
                    combo = self.combos[name]
                    for i in range(combo.count()):
                        combo.setItemText(i, text(combo.itemData(i)))
            finally:
                self._filling = False
            self._show_read_only_parts(self.overview)
            self._validate()
