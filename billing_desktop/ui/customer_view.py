"""The customer-side Billing Center of an account, for presentation mode (issue 7 item 4).

:class:`CustomerView` shows what a contact of the account — the billing
contact unless the trainer picks another — would see in the self-service
Billing Center, with that contact's permissions
(:func:`billing_desktop.services.customer_view.billing_center`): the product
cards in the Subscriptions tab's own look, what each card's options offer
this contact (or the message the customer gets instead: "contact support",
"contact your billing admin", "contact Customer Care" for a lower plan),
*Discover other products*, and the open and paid invoices with the balance
due. It is a preview: nothing in it changes the account, so it has no
buttons that would pretend to.

It reads the account again on :meth:`CustomerView.reload` and rebuilds only
when something the customer sees changed, so the presentation controller
may call it often (after a wizard, on a timer, when the window is
activated) without flicker.
"""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.text import Notice
from billing_desktop.services.context import AppContext
from billing_desktop.services.customer_view import (
    CustomerBillingCenter,
    CustomerCard,
    billing_center,
)
from billing_desktop.services.invoices import InvoiceRow
from billing_desktop.services.subscriptions_view import CardActionCode
from billing_desktop.ui.account.subscriptions import (
    CARD_ACTIONS,
    SubscriptionCardWidget,
    fill,
    notice_text,
)
from billing_desktop.ui.errors import error_text
from billing_desktop.ui.formatting import format_date, format_money
from billing_desktop.ui.theme import warning_color
from billing_desktop.ui.words import roles_text

__all__ = ["CustomerCardWidget", "CustomerView", "action_word", "wrappable"]

log = logging.getLogger("billing_desktop.ui")

_LABELS = {spec.code: spec.label for spec in CARD_ACTIONS}
_MNEMONIC = re.compile(r"&(.)")

_NOTICE_STYLE = (
    "QLabel#{name} {{ color: #7a3e00; background: #fff1dc; border: 1px solid #efbf78; "
    "border-radius: 6px; padding: 6px 10px; }}"
)


def wrappable(text: str) -> str:
    """``text`` with a line-break opportunity after each "@" and "/": an email address in a
    message ("Contact your billing admin (name, email)") may wrap in a narrow panel."""
    return text.replace("@", "@\u200b").replace("/", "/\u200b")


def action_word(code: CardActionCode) -> str:
    """The card action's menu text in the UI language, without its mnemonic."""
    text = QCoreApplication.translate("SubscriptionCardWidget", _LABELS[code])
    return _MNEMONIC.sub(r"\1", text)


class CustomerCardWidget(SubscriptionCardWidget):
    """A product card as the customer sees it: the card, then what its options offer them.

    The options menu and the *Subscribe now* button of the operator's card
    are not shown (this is a preview); instead the card lists each action
    the Billing Center offers this contact, ✓ when they may, ✗ with the
    message they would get when they may not.
    """

    def __init__(
        self,
        customer: CustomerCard,
        banner: Notice | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.customer = customer
        self._banner = banner
        self.actions_label: QLabel | None = None
        super().__init__(customer.card, parent)
        self.setObjectName("customerCard")
        self.actions_caption = QLabel(self)
        self.actions_caption.setObjectName("customerActionsCaption")
        font = QFont(self.actions_caption.font())
        font.setBold(True)
        self.actions_caption.setFont(font)
        self.actions_label = QLabel(self)
        self.actions_label.setObjectName("customerActions")
        self.actions_label.setWordWrap(True)
        self.actions_label.setTextFormat(Qt.TextFormat.PlainText)
        self.actions_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        # after the notes, before the stretch and the (hidden) button row
        layout.insertWidget(layout.count() - 2, self.actions_caption)
        layout.insertWidget(layout.count() - 2, self.actions_label)
        self._fill_actions()

    def _build_actions(self) -> None:
        """A preview: no options menu, no buttons, no tab stop."""
        self.menu.clear()
        self.menu_actions.clear()
        self.options_button.setVisible(False)
        for button in self.buttons.values():
            button.setVisible(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def retranslateUi(self) -> None:
        super().retranslateUi()
        if self.actions_label is not None:
            self._fill_actions()

    def action_lines(self) -> list[str]:
        """The lines of the "In the Billing Center" list, as shown."""
        lines = []
        for action in self.customer.listed_actions:
            word = action_word(action.code)
            if action.available:
                lines.append(fill(self.tr("✓ {action}"), action=word))
            elif action.reason is None or action.reason == self._banner:
                lines.append(fill(self.tr("✗ {action}"), action=word))
            else:
                lines.append(
                    fill(
                        self.tr("✗ {action}: {reason}"),
                        action=word,
                        reason=wrappable(notice_text(action.reason)),
                    )
                )
        if self.customer.lower_tier is not None:
            lines.append(
                fill(
                    self.tr("✗ Lower plan: {reason}"),
                    reason=wrappable(notice_text(self.customer.lower_tier)),
                )
            )
        return lines

    def _fill_actions(self) -> None:
        assert self.actions_label is not None
        lines = self.action_lines()
        self.actions_caption.setText(self.tr("In the Billing Center"))
        self.actions_label.setText("\n".join(lines))
        self.actions_caption.setVisible(bool(lines))
        self.actions_label.setVisible(bool(lines))


class CustomerView(QWidget):
    """The customer-side Billing Center of one account (see the module docstring)."""

    #: the view was read again and what it shows changed
    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customerView")
        self._ctx = ctx
        self.account_id: int | None = None
        #: the contact shown as; ``None`` = the account's billing contact
        self.contact_id: int | None = None
        self.view: CustomerBillingCenter | None = None
        self._error = ""
        self.cards: list[CustomerCardWidget] = []

        self.title_label = QLabel(self)
        self.title_label.setObjectName("billingCenterTitle")
        font = QFont(self.title_label.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title_label.setFont(font)
        self.account_label = QLabel(self)
        self.account_label.setObjectName("customerAccount")
        self.account_label.setWordWrap(True)
        self.contact_label = QLabel(self)
        self.contact_combo = QComboBox(self)
        self.contact_combo.setObjectName("contactCombo")
        self.contact_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.contact_combo.setMinimumContentsLength(12)
        self.contact_combo.activated.connect(self._contact_chosen)
        self.contact_label.setBuddy(self.contact_combo)
        contact_row = QHBoxLayout()
        contact_row.addWidget(self.contact_label)
        contact_row.addWidget(self.contact_combo, 1)

        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("customerViewEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.content = QWidget()
        self.content.setObjectName("customerViewContent")
        self.notice_label = QLabel(self.content)
        self.notice_label.setObjectName("customerNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.setStyleSheet(_NOTICE_STYLE.format(name="customerNotice"))
        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(12)
        self.discover_title = self._heading()
        self.discover_label = QLabel(self.content)
        self.discover_label.setObjectName("customerDiscover")
        self.discover_label.setWordWrap(True)
        self.discover_label.setTextFormat(Qt.TextFormat.PlainText)
        self.invoices_title = self._heading()
        self.balance_label = QLabel(self.content)
        self.balance_label.setObjectName("customerBalance")
        self.balance_label.setWordWrap(True)
        self.invoice_tabs = QTabWidget(self.content)
        self.invoice_tabs.setObjectName("customerInvoiceTabs")
        self.invoice_tabs.setDocumentMode(True)
        self.open_table = self._invoice_table("customerOpenInvoices", due=True)
        self.paid_table = self._invoice_table("customerPaidInvoices", due=False)
        self.invoice_tabs.addTab(self.open_table, "")
        self.invoice_tabs.addTab(self.paid_table, "")

        content_layout = QVBoxLayout(self.content)
        content_layout.setContentsMargins(8, 8, 8, 8)
        content_layout.setSpacing(10)
        content_layout.addWidget(self.notice_label)
        content_layout.addLayout(self.cards_box)
        content_layout.addWidget(self.discover_title)
        content_layout.addWidget(self.discover_label)
        content_layout.addWidget(self.invoices_title)
        content_layout.addWidget(self.balance_label)
        content_layout.addWidget(self.invoice_tabs)
        content_layout.addStretch(1)

        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("customerViewScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.content)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.setSpacing(6)
        layout.addWidget(self.title_label)
        layout.addWidget(self.account_label)
        layout.addLayout(contact_row)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.scroll, 1)
        self.setFocusProxy(self.contact_combo)

        self.retranslateUi()

    def _heading(self) -> QLabel:
        label = QLabel(self.content)
        font = QFont(label.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        label.setFont(font)
        return label

    def _invoice_table(self, name: str, *, due: bool) -> QTreeWidget:
        table = QTreeWidget(self.content)
        table.setObjectName(name)
        table.setRootIsDecorated(False)
        table.setUniformRowHeights(True)
        table.setColumnCount(4 if due else 3)
        table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        # widths follow the contents (and the presentation scale) by themselves
        table.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        return table

    # -- data ------------------------------------------------------------------

    def set_context(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def set_account(self, account_id: int | None) -> None:
        """Show ``account_id`` (as its billing contact), or nothing."""
        if account_id == self.account_id:
            return
        self.account_id = account_id
        self.contact_id = None
        self.view = None
        self.reload()

    def set_contact(self, contact_id: int | None) -> None:
        """Show the Billing Center as another contact of the account (``None``: billing contact)."""
        if contact_id == self.contact_id:
            return
        self.contact_id = contact_id
        self.reload()

    def reload(self) -> bool:
        """Read the account again; rebuild and return True only if what is shown changed."""
        view: CustomerBillingCenter | None = None
        error = ""
        if self.account_id is not None:
            try:
                view = billing_center(self._ctx, self.account_id, self.contact_id)
            except DomainError as err:
                if self.contact_id is not None:  # that contact is gone: back to the billing contact
                    self.contact_id = None
                    return self.reload()
                log.warning("customer view of account %s not shown: %s", self.account_id, err)
                error = error_text(err)
        if view == self.view and error == self._error:
            return False
        self.view, self._error = view, error
        self._render()
        self.changed.emit()
        return True

    # -- rendering -------------------------------------------------------------

    def _render(self) -> None:
        view = self.view
        self.empty_label.setVisible(view is None)
        self.scroll.setVisible(view is not None)
        self.contact_combo.setEnabled(view is not None)
        self._clear_cards()
        if view is None:
            self.account_label.setText("")
            self.contact_combo.clear()
            self.empty_label.setText(
                self._error
                or self.tr("Open an account to see its Billing Center as the customer sees it.")
            )
            return
        self.account_label.setText(
            fill(
                self.tr("{company} ({account})"),
                company=view.company_name,
                account=view.account_number,
            )
        )
        self._fill_contacts()
        notice = wrappable(notice_text(view.notice)) if view.notice is not None else ""
        self.notice_label.setText(notice)
        self.notice_label.setVisible(bool(notice))
        for customer in view.cards:
            widget = CustomerCardWidget(customer, view.notice, self.content)
            widget.setMinimumWidth(0)
            self.cards_box.addWidget(widget)
            self.cards.append(widget)
        self._fill_discover()
        self._fill_invoices()

    def _clear_cards(self) -> None:
        for widget in self.cards:
            widget.hide()
            widget.setParent(None)  # type: ignore[call-overload]
            widget.deleteLater()
        self.cards.clear()

    def _fill_contacts(self) -> None:
        view = self.view
        assert view is not None
        combo = self.contact_combo
        combo.blockSignals(True)
        combo.clear()
        for contact in view.contacts:
            combo.addItem(
                fill(
                    self.tr("{name} ({roles})"),
                    name=contact.name,
                    roles=roles_text(contact.roles),
                ),
                contact.id,
            )
            combo.setItemData(combo.count() - 1, contact.email, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(combo.findData(view.contact.id), 0))
        combo.blockSignals(False)

    def _contact_chosen(self, index: int) -> None:
        view = self.view
        contact_id = self.contact_combo.itemData(index)
        if view is None or contact_id is None:
            return
        billing = next((c.id for c in view.contacts if c.is_billing_contact), None)
        self.set_contact(None if contact_id == billing else int(contact_id))

    def _fill_discover(self) -> None:
        view = self.view
        assert view is not None
        lines = []
        for entry in view.discover:
            name = entry.offer.product_name
            if entry.available:
                lines.append(fill(self.tr("✓ {product}: can be bought"), product=name))
            elif entry.reason is None or entry.reason == view.notice:
                lines.append(fill(self.tr("✗ {product}"), product=name))
            else:
                lines.append(
                    fill(
                        self.tr("✗ {product}: {reason}"),
                        product=name,
                        reason=wrappable(notice_text(entry.reason)),
                    )
                )
        self.discover_label.setText("\n".join(lines))
        self.discover_title.setVisible(bool(lines))
        self.discover_label.setVisible(bool(lines))

    def _fill_invoices(self) -> None:
        view = self.view
        assert view is not None
        due = view.balance_due
        if due.minor:
            self.balance_label.setText(
                fill(
                    self.tr("Balance due: {amount}. The customer can pay it with Pay balance."),
                    amount=format_money(due.minor, due.currency),
                )
            )
        else:
            self.balance_label.setText(self.tr("Nothing is due."))
        self._fill_table(self.open_table, view.open_invoices, due=True)
        self._fill_table(self.paid_table, view.paid_invoices, due=False)
        self.invoice_tabs.setTabText(0, self.tr("Open invoices (%n)", "", len(view.open_invoices)))
        self.invoice_tabs.setTabText(1, self.tr("Paid invoices (%n)", "", len(view.paid_invoices)))
        if not view.open_invoices and view.paid_invoices:
            self.invoice_tabs.setCurrentIndex(1)

    def _fill_table(self, table: QTreeWidget, rows: tuple[InvoiceRow, ...], *, due: bool) -> None:
        """Invoice, issue date, total (and what is due): narrow enough for a side panel;
        the billing period is the row's tooltip."""
        table.clear()
        headers = [self.tr("Invoice"), self.tr("Issued"), self.tr("Total")]
        if due:
            headers.append(self.tr("Amount due"))
        table.setHeaderLabels(headers)
        warning = warning_color(self.palette())
        for row in rows:
            values = [
                row.number,
                format_date(row.issue_date),
                format_money(row.total.minor, row.total.currency),
            ]
            if due:
                amount = format_money(row.due.minor, row.due.currency)
                values.append(
                    fill(self.tr("{amount} (overdue)"), amount=amount) if row.overdue else amount
                )
            item = QTreeWidgetItem(values)
            if row.period_start is not None and row.period_end is not None:
                period = fill(
                    self.tr("Billing period: {start} – {end}"),
                    start=format_date(row.period_start),
                    end=format_date(row.period_end),
                )
                for column in range(len(values)):
                    item.setToolTip(column, period)
            for column in range(2, len(values)):
                item.setTextAlignment(
                    column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
            if due and row.overdue:
                item.setForeground(3, warning)
            table.addTopLevelItem(item)
        shown = max(1, min(len(rows), 6))
        row_height = table.sizeHintForRow(0) if rows else table.fontMetrics().height() + 8
        height = table.header().sizeHint().height() + shown * max(row_height, 1)
        if table.horizontalScrollBar().isVisible() or table.header().length() > table.width():
            height += table.horizontalScrollBar().sizeHint().height()
        table.setFixedHeight(height + 2 * table.frameWidth())

    # -- language --------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        elif event.type() == QEvent.Type.FontChange and self.view is not None:
            self._fill_invoices()  # the tables' heights follow the font (presentation scale)
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.title_label.setText(self.tr("Billing Center"))
        self.contact_label.setText(self.tr("&As seen by:"))
        self.contact_combo.setAccessibleName(self.tr("Contact the Billing Center is shown as"))
        self.discover_title.setText(self.tr("Discover other products"))
        self.invoices_title.setText(self.tr("Invoices"))
        self._render()
