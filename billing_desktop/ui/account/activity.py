"""The Activity tab: an account's audit trail, newest first, with before → after (SPEC §4).

The list loads a page at a time as the user scrolls (an account can have
thousands of entries); the pane below shows the selected entry: when, who,
for whom, and each field that changed with its old and new value formatted
for the UI locale. Action codes and field names have translated words; codes
this version does not know are shown as they are stored.
"""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QItemSelection,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.documents.formatting import format_datetime, format_decimal
from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.policies import CANCELLATION_REASONS
from billing_desktop.services.activity import (
    PAGE_SIZE,
    ActivityEntry,
    FieldChange,
    account_activity,
)
from billing_desktop.services.context import AppContext
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.formatting import format_date, format_money
from billing_desktop.ui.models.table import RowTableModel, setup_row_table
from billing_desktop.ui.words import translated_word

__all__ = [
    "ActivityModel",
    "ActivityTab",
    "action_word",
    "field_word",
    "format_audit_value",
]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex

#: Translation context of the constant words below.
_CONTEXT = "ActivityTab"

#: What each audit action means, in words (the codes the services write).
ACTION_WORDS = {
    "licences.assigned": QT_TRANSLATE_NOOP("ActivityTab", "Licences assigned"),
    "licences.unassigned": QT_TRANSLATE_NOOP("ActivityTab", "Licences unassigned"),
    "cart.updated": QT_TRANSLATE_NOOP("ActivityTab", "Cart changed"),
    "cart.cleared": QT_TRANSLATE_NOOP("ActivityTab", "Cart emptied"),
    "order.placed": QT_TRANSLATE_NOOP("ActivityTab", "Order placed"),
    "subscription.subscribed": QT_TRANSLATE_NOOP("ActivityTab", "Product subscribed"),
    "subscription.changed": QT_TRANSLATE_NOOP("ActivityTab", "Subscription changed"),
    "subscription.downgraded": QT_TRANSLATE_NOOP("ActivityTab", "Subscription downgraded"),
    "subscription.renewed": QT_TRANSLATE_NOOP("ActivityTab", "Subscription renewed"),
    "subscription.period_advanced": QT_TRANSLATE_NOOP("ActivityTab", "Billing period advanced"),
    "subscription.term_renewed": QT_TRANSLATE_NOOP("ActivityTab", "Contract term renewed"),
    "subscription.cancelled": QT_TRANSLATE_NOOP("ActivityTab", "Subscription ended"),
    "subscription.trial_expired": QT_TRANSLATE_NOOP("ActivityTab", "Trial expired"),
    "cancel_subscription": QT_TRANSLATE_NOOP("ActivityTab", "Subscription cancelled online"),
    "assisted_cancel": QT_TRANSLATE_NOOP("ActivityTab", "Subscription cancelled by support"),
    "cancel_addon": QT_TRANSLATE_NOOP("ActivityTab", "Add-on cancelled"),
    "reactivate_subscription": QT_TRANSLATE_NOOP("ActivityTab", "Subscription reactivated"),
    "verify_caller": QT_TRANSLATE_NOOP("ActivityTab", "Caller verification"),
    "verify_caller_failed": QT_TRANSLATE_NOOP(
        "ActivityTab", "Caller verification failed repeatedly"
    ),
    "operator.identity_changed": QT_TRANSLATE_NOOP("ActivityTab", "Operator name changed"),
    "accounts.exported": QT_TRANSLATE_NOOP("ActivityTab", "Accounts list exported"),
    "trial.ending_notice": QT_TRANSLATE_NOOP("ActivityTab", "Trial ending notice sent"),
    "data.marked_for_deletion": QT_TRANSLATE_NOOP("ActivityTab", "Data marked for deletion"),
    "account.autopay": QT_TRANSLATE_NOOP("ActivityTab", "Autopay changed"),
    "account.autopay_changed": QT_TRANSLATE_NOOP("ActivityTab", "Autopay changed"),
    "account.vat_number": QT_TRANSLATE_NOOP("ActivityTab", "VAT number changed"),
    "account.exported": QT_TRANSLATE_NOOP("ActivityTab", "Account data exported"),
    "account.invoice_recipients_changed": QT_TRANSLATE_NOOP(
        "ActivityTab", "Invoice recipients changed"
    ),
    "account.updated": QT_TRANSLATE_NOOP("ActivityTab", "Account details changed"),
    "account.representative_changed": QT_TRANSLATE_NOOP("ActivityTab", "Representative changed"),
    "payment_method.added": QT_TRANSLATE_NOOP("ActivityTab", "Payment method added"),
    "payment_method.removed": QT_TRANSLATE_NOOP("ActivityTab", "Payment method removed"),
    "payment_method.default_changed": QT_TRANSLATE_NOOP(
        "ActivityTab", "Default payment method changed"
    ),
    "payment.recorded": QT_TRANSLATE_NOOP("ActivityTab", "Payment recorded"),
    "invoice.disputed": QT_TRANSLATE_NOOP("ActivityTab", "Invoice disputed"),
    "invoice.voided": QT_TRANSLATE_NOOP("ActivityTab", "Invoice voided"),
}

#: Field names of the before/after values, in words.
FIELD_WORDS = {
    "assigned_contact_ids": QT_TRANSLATE_NOOP("ActivityTab", "Contacts with a licence"),
    "status": QT_TRANSLATE_NOOP("ActivityTab", "Status"),
    "auto_renew": QT_TRANSLATE_NOOP("ActivityTab", "Renews automatically"),
    "cancel_requested_at": QT_TRANSLATE_NOOP("ActivityTab", "Cancellation requested"),
    "cancellation_effective": QT_TRANSLATE_NOOP("ActivityTab", "Cancellation effective"),
    "cancel_reason": QT_TRANSLATE_NOOP("ActivityTab", "Cancellation reason"),
    "cancel_reason_text": QT_TRANSLATE_NOOP("ActivityTab", "Reason given"),
    "effective_end": QT_TRANSLATE_NOOP("ActivityTab", "Active until"),
    "months_billed": QT_TRANSLATE_NOOP("ActivityTab", "Months still billed"),
    "amount_still_billed": QT_TRANSLATE_NOOP("ActivityTab", "Amount still billed"),
    "additional_charge": QT_TRANSLATE_NOOP("ActivityTab", "Additional charge"),
    "renewed": QT_TRANSLATE_NOOP("ActivityTab", "Renewed"),
    "data_deletion_date": QT_TRANSLATE_NOOP("ActivityTab", "Data deleted on"),
    "product": QT_TRANSLATE_NOOP("ActivityTab", "Product"),
    "plan": QT_TRANSLATE_NOOP("ActivityTab", "Plan"),
    "licences": QT_TRANSLATE_NOOP("ActivityTab", "Licences"),
    "licence_count": QT_TRANSLATE_NOOP("ActivityTab", "Licences"),
    "frequency": QT_TRANSLATE_NOOP("ActivityTab", "Billing frequency"),
    "channel": QT_TRANSLATE_NOOP("ActivityTab", "Bought through"),
    "anchor_date": QT_TRANSLATE_NOOP("ActivityTab", "Billing anchor date"),
    "period_start": QT_TRANSLATE_NOOP("ActivityTab", "Period start"),
    "period_end": QT_TRANSLATE_NOOP("ActivityTab", "Period end"),
    "term_start": QT_TRANSLATE_NOOP("ActivityTab", "Term start"),
    "term_end": QT_TRANSLATE_NOOP("ActivityTab", "Term end"),
    "term_months": QT_TRANSLATE_NOOP("ActivityTab", "Term in months"),
    "trial_end": QT_TRANSLATE_NOOP("ActivityTab", "Trial ends"),
    "ended_on": QT_TRANSLATE_NOOP("ActivityTab", "Ended on"),
    "addons": QT_TRANSLATE_NOOP("ActivityTab", "Add-ons"),
    "addon": QT_TRANSLATE_NOOP("ActivityTab", "Add-on"),
    "active": QT_TRANSLATE_NOOP("ActivityTab", "Active"),
    "ends_on": QT_TRANSLATE_NOOP("ActivityTab", "Ends on"),
    "autopay": QT_TRANSLATE_NOOP("ActivityTab", "Autopay"),
    "vat_number": QT_TRANSLATE_NOOP("ActivityTab", "VAT number"),
    "company_name": QT_TRANSLATE_NOOP("ActivityTab", "Company"),
    "representative": QT_TRANSLATE_NOOP("ActivityTab", "Representative"),
    "type": QT_TRANSLATE_NOOP("ActivityTab", "Account type"),
    "address_line1": QT_TRANSLATE_NOOP("ActivityTab", "Address"),
    "address_line2": QT_TRANSLATE_NOOP("ActivityTab", "Address (second line)"),
    "postal_code": QT_TRANSLATE_NOOP("ActivityTab", "Postal code"),
    "city": QT_TRANSLATE_NOOP("ActivityTab", "City"),
    "region": QT_TRANSLATE_NOOP("ActivityTab", "Region"),
    "country": QT_TRANSLATE_NOOP("ActivityTab", "Country"),
    "language": QT_TRANSLATE_NOOP("ActivityTab", "Language"),
    "currency": QT_TRANSLATE_NOOP("ActivityTab", "Currency"),
    "kind": QT_TRANSLATE_NOOP("ActivityTab", "Kind"),
    "brand": QT_TRANSLATE_NOOP("ActivityTab", "Brand"),
    "last4": QT_TRANSLATE_NOOP("ActivityTab", "Last four digits"),
    "exp_month": QT_TRANSLATE_NOOP("ActivityTab", "Expiry month"),
    "exp_year": QT_TRANSLATE_NOOP("ActivityTab", "Expiry year"),
    "holder_name": QT_TRANSLATE_NOOP("ActivityTab", "Holder"),
    "iban_country": QT_TRANSLATE_NOOP("ActivityTab", "Bank country"),
    "is_default": QT_TRANSLATE_NOOP("ActivityTab", "Default"),
    "default_method_id": QT_TRANSLATE_NOOP("ActivityTab", "Default payment method"),
    "summary": QT_TRANSLATE_NOOP("ActivityTab", "Summary"),
    "email": QT_TRANSLATE_NOOP("ActivityTab", "Email"),
    "verified": QT_TRANSLATE_NOOP("ActivityTab", "Verified"),
    "outstanding": QT_TRANSLATE_NOOP("ActivityTab", "Outstanding"),
    "credit_balance": QT_TRANSLATE_NOOP("ActivityTab", "Account credit"),
}

#: Stored codes that appear as values (statuses, frequencies), in words.
VALUE_WORDS = {
    "trial": QT_TRANSLATE_NOOP("ActivityTab", "Trial"),
    "trial_expired": QT_TRANSLATE_NOOP("ActivityTab", "Trial ended"),
    "active": QT_TRANSLATE_NOOP("ActivityTab", "Active"),
    "cancellation_pending": QT_TRANSLATE_NOOP("ActivityTab", "Cancellation pending"),
    "cancelled": QT_TRANSLATE_NOOP("ActivityTab", "Cancelled"),
    "expired": QT_TRANSLATE_NOOP("ActivityTab", "Expired"),
    "monthly": QT_TRANSLATE_NOOP("ActivityTab", "Monthly"),
    "annual": QT_TRANSLATE_NOOP("ActivityTab", "Annual"),
}
BOOL_WORDS = {
    True: QT_TRANSLATE_NOOP("ActivityTab", "Yes"),
    False: QT_TRANSLATE_NOOP("ActivityTab", "No"),
}
#: Fields whose text values are codes from :data:`VALUE_WORDS`.
_CODE_FIELDS = frozenset({"status", "frequency"})

#: Cancellation reason codes and their words (translated in "CancellationReason").
_REASONS = dict(CANCELLATION_REASONS)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def _word(table: dict[str, str], value: str) -> str:
    return translated_word(_CONTEXT, table, value)


def action_word(code: str) -> str:
    """The translated words for an audit action ("licences.assigned" → "Licences assigned")."""
    return _word(ACTION_WORDS, code)


def field_word(name: str) -> str:
    """The translated name of a before/after field, or the field's own name."""
    return _word(FIELD_WORDS, name)


def format_audit_value(field: str, value: Any, currency: str, locale: QLocale | None = None) -> str:
    """One stored before/after value as the UI shows it ("—" for none)."""
    loc = locale if locale is not None else QLocale()
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return QCoreApplication.translate(_CONTEXT, BOOL_WORDS[value])
    if isinstance(value, int):
        if field.endswith("_minor"):
            return format_money(value, currency, loc)
        return loc.toString(value)
    if isinstance(value, float):  # never written by the services; shown as stored
        return str(value)
    if isinstance(value, list):
        return ", ".join(format_audit_value(field, v, currency, loc) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if _ISO_DATE.match(text):
        return format_date(date.fromisoformat(text), loc)
    if _ISO_DATETIME.match(text):
        return format_datetime(datetime.fromisoformat(text), loc)
    if _DECIMAL.match(text):
        try:
            return format_decimal(Decimal(text), loc)
        except InvalidOperation:
            return text
    if field in _CODE_FIELDS:
        return _word(VALUE_WORDS, text)
    if field == "cancel_reason" and text in _REASONS:
        return QCoreApplication.translate("CancellationReason", _REASONS[text])
    return text


class ActivityModel(RowTableModel):
    """An account's audit entries, newest first, loaded a page at a time."""

    WHEN, OPERATOR, ACTION, PRODUCT, REQUESTED_BY = range(5)
    COLUMN_COUNT = 5

    #: The :class:`ActivityEntry` of a row (any column): ``ObjectRole``.
    CONTEXT = "ActivityModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("ActivityModel", "When"),
        QT_TRANSLATE_NOOP("ActivityModel", "Operator"),
        QT_TRANSLATE_NOOP("ActivityModel", "Action"),
        QT_TRANSLATE_NOOP("ActivityModel", "Product"),
        QT_TRANSLATE_NOOP("ActivityModel", "Requested by"),
    )

    #: A page could not be read (the account was deleted meanwhile, …).
    loadFailed = Signal(object)

    def __init__(
        self, ctx: AppContext, account_id: int, parent: Any = None, *, page_size: int = PAGE_SIZE
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._account_id = account_id
        self._page_size = page_size
        self._rows: list[ActivityEntry] = []
        self._exhausted = True

    def refresh(self) -> None:
        """Forget the loaded entries and read the newest page again.

        A service error propagates (the tab shows it); the model is then empty.
        """
        self.beginResetModel()
        self._rows = []
        self._exhausted = True
        try:
            self._rows = account_activity(self._ctx, self._account_id, limit=self._page_size)
            self._exhausted = len(self._rows) < self._page_size
        finally:
            self.endResetModel()

    def entry(self, row: int) -> ActivityEntry:
        return self._rows[row]

    def row_of(self, entry_id: int) -> int | None:
        return next((n for n, e in enumerate(self._rows) if e.id == entry_id), None)

    # -- lazy loading --------------------------------------------------------

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or not self._rows:
            return
        try:
            page = account_activity(
                self._ctx, self._account_id, before_id=self._rows[-1].id, limit=self._page_size
            )
        except DomainError as err:
            self._exhausted = True
            self.loadFailed.emit(err)
            return
        if len(page) < self._page_size:
            self._exhausted = True
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry: ActivityEntry | None = self._row_at(index)
        if entry is None:
            return None
        column = index.column()
        if role == self.ObjectRole:
            return entry
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.OPERATOR:
                return entry.operator_email
            if column == self.REQUESTED_BY:
                return entry.requested_by_email
            if column == self.ACTION:
                return entry.action
        return None

    def _display(self, entry: ActivityEntry, column: int) -> str:
        if column == self.WHEN:
            return format_datetime(entry.at, QLocale())
        if column == self.OPERATOR:
            return entry.operator_name or self.tr("System")
        if column == self.ACTION:
            return action_word(entry.action)
        if column == self.PRODUCT:
            return entry.product_name or ""
        return entry.requested_by_name or ""


class ActivityTab(QWidget):
    """The audit trail of one account, with the selected entry's changes below."""

    #: Part of the account page's tab interface; this tab never writes.
    account_changed = Signal()

    def __init__(self, ctx: AppContext, account_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activityTab")
        self._ctx = ctx
        self._account_id = account_id

        self.model = ActivityModel(ctx, account_id, self)
        self.table = QTableView(self)
        self.table.setObjectName("activityTable")
        self._setup_table()
        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("activityEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()

        self.details = QTextBrowser(self)
        self.details.setObjectName("activityDetails")
        self.details.setOpenLinks(False)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.empty_label, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.splitter)
        self.setFocusProxy(self.table)

        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.loadFailed.connect(self._on_load_failed)
        self._retranslate_widgets()
        self.reload()

    def _setup_table(self) -> None:
        table = self.table
        setup_row_table(table, self.model)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        fm = table.fontMetrics()
        widths = {
            ActivityModel.WHEN: fm.horizontalAdvance(
                format_datetime(datetime(2026, 12, 28, 23, 59), QLocale())
            ),
            ActivityModel.OPERATOR: fm.horizontalAdvance("M" * 14),
            ActivityModel.ACTION: fm.horizontalAdvance(action_word("assisted_cancel")),
            ActivityModel.PRODUCT: fm.horizontalAdvance("GoToAssist Remote Support v5"),
        }
        for column, width in widths.items():
            header.resizeSection(column, width + 28)

    # -- loading -------------------------------------------------------------

    def reload(self) -> None:
        """Read the newest entries again; the selected entry stays selected if still loaded."""
        current = self.current_entry()
        try:
            self.model.refresh()
        except DomainError as err:
            show_service_error(self, err)
        empty = self.model.rowCount() == 0
        self.table.setVisible(not empty)
        self.empty_label.setVisible(empty)
        row = self.model.row_of(current.id) if current is not None else None
        if row is None and not empty:
            row = 0
        if row is not None:
            self.table.selectRow(row)
        else:
            self._show_details(None)

    def current_entry(self) -> ActivityEntry | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.entry(rows[0].row())

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_details(self.current_entry())

    def _on_load_failed(self, err: DomainError) -> None:
        show_service_error(self, err)

    # -- the details pane ----------------------------------------------------

    def _show_details(self, entry: ActivityEntry | None) -> None:
        if entry is None:
            self.details.setHtml(
                "<p>{}</p>".format(html.escape(self.tr("Select an entry to see what changed.")))
            )
            return
        self.details.setHtml(self.details_html(entry))

    def details_html(self, entry: ActivityEntry) -> str:
        """The selected entry as HTML: what, when, who, and each field's before → after."""
        esc = html.escape
        loc = QLocale()
        lines = [f"<h3>{esc(action_word(entry.action))}</h3>"]
        who = entry.operator_name or self.tr("System")
        lines.append(
            "<p>{}</p>".format(
                esc(
                    self.tr("{when} by {operator}").format(
                        when=format_datetime(entry.at, loc), operator=who
                    )
                )
            )
        )
        facts = []
        if entry.product_name:
            facts.append(self.tr("Product: {product}").format(product=entry.product_name))
        if entry.requested_by_name:
            facts.append(self.tr("Requested by {contact}").format(contact=entry.requested_by_name))
        if facts:
            lines.append("<p>{}</p>".format("<br>".join(esc(f) for f in facts)))
        if not entry.changes:
            lines.append("<p><i>{}</i></p>".format(esc(self.tr("No values changed."))))
            return "".join(lines)
        head = (
            "<tr><th align='left'>{}</th><th align='left'>{}</th><th></th>"
            "<th align='left'>{}</th></tr>"
        ).format(esc(self.tr("Field")), esc(self.tr("Before")), esc(self.tr("After")))
        rows = [self._change_row(change, entry.currency) for change in entry.changes]
        lines.append(
            "<table cellspacing='0' cellpadding='5'>{}{}</table>".format(head, "".join(rows))
        )
        return "".join(lines)

    def _change_row(self, change: FieldChange, currency: str) -> str:
        esc = html.escape
        if (
            change.added
            or change.removed
            or isinstance(change.before, list)
            or isinstance(change.after, list)
        ):
            before = self._list_cell(change.field, change.before, change.removed, "s", currency)
            after = self._list_cell(change.field, change.after, change.added, "b", currency)
        else:
            before = esc(format_audit_value(change.field, change.before, currency))
            after_text = esc(format_audit_value(change.field, change.after, currency))
            after = f"<b>{after_text}</b>"
        name = esc(field_word(change.field))
        return (
            f"<tr><td valign='top'>{name}</td><td valign='top'>{before}</td>"
            f"<td valign='top'>→</td><td valign='top'>{after}</td></tr>"
        )

    def _list_cell(
        self, field: str, value: Any, marked: tuple[Any, ...], tag: str, currency: str
    ) -> str:
        """A list, one item a line; items added (after) in bold, removed (before) struck out."""
        items = value if isinstance(value, list) else ([] if value is None else [value])
        if not items:
            return "—"
        out = []
        for item in items:
            text = html.escape(format_audit_value(field, item, currency))
            out.append(f"<{tag}>{text}</{tag}>" if item in marked else text)
        return "<br>".join(out)

    # -- translation ---------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self._retranslate_widgets()
        self.model.retranslate()
        self._show_details(self.current_entry())

    def _retranslate_widgets(self) -> None:
        self.empty_label.setText(self.tr("Nothing has been changed on this account yet."))
        self.table.setAccessibleName(self.tr("Activity of the account"))
        self.details.setAccessibleName(self.tr("What changed"))
