"""The checkout wizard: Subscribe now, Edit subscription and the cart (articles 001, 003, 004).

Pages, in the order of the articles' numbered steps:

1. **Plan** — product, plan tier, licences, billing frequency, add-ons and a
   live summary of the change (``checkout.preview`` of the unsaved change).
   *Requested by* names the contact who asks (default: the billing contact).
   The primary button reads **Checkout** while the cart is empty and **Add to
   cart** once it holds items (``services.cart`` decides); with an empty cart
   **Add to cart** is offered next to it too, so article 001's "Add to cart >
   Checkout" can be followed literally. Blocked cases (not the billing
   contact, an overdue invoice, a corporate account, a product that cannot be
   changed) are shown here with their way out.
2. **Cart** — the stored cart, one line per product, with *Remove from cart*;
   its button is **Checkout**.
3. **Review** ("Complete transaction") — exactly the service's preview:
   billing period starting today, licences, plan price, proration credit,
   VAT or reverse charge, total, credit applied, amount due. **Edit order**
   goes back with every input kept. Its button is **Place order**, or
   **Checkout** when the payment page follows.
4. **Payment and VAT** — only when the preview asks for it: the method on
   file or a new card / bank account (the fields and validation of
   :class:`~billing_desktop.ui.dialogs.payment_method_dialog.PaymentMethodDialog`),
   the VAT number checked by the service with its effect on the totals.
5. **Result** — what changed, the new billing date, the confirmation email,
   and **Assign licences now** when licences were added.

What is written, and when: nothing before **Place order**, except the cart
when the user presses **Add to cart** or removes a cart line (as in the
articles). **Place order** is guarded against double submission and carries
one idempotency key per review; it is one service call. With an empty cart
the change is never stored: **Place order** places it as it is
(``place_order(items=…)``), the cart untouched.

Concurrent editing (issue 8): **Place order** sends the versions of the
subscriptions the review page priced (``OrderPreview.subscription_versions``)
and the account data its figures depend on (``OrderPreview.account_terms``:
country, VAT number, currency, type, credit, payment terms), on both ways of
placing. If another operator changed one of them since, the service refuses
(nothing is written) and the page says who changed it and when; every input
stays. Going back re-reads: **Edit order** shows the Plan
page with the subscription read again (the user's choices kept) or the cart
read again, and the next review previews the current data; Back from the
Payment page after a conflict reviews the order again.

Customer-side or back-office: support staff (and the representative of a
corporate account) place back-office orders (``on_behalf_of_customer=False``:
a lower tier can be chosen and is recorded as a downgrade); everyone else —
the local admin of a single-user install and trainers included — reproduces
the Billing Center (customer-side rules: only the billing contact, lower
tiers need Customer Care, corporate accounts go to their representative).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QLocale,
    Qt,
    QTimer,
    QUrl,
    QUrlQuery,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from billing_desktop.documents.formatting import format_percent, format_period
from billing_desktop.domain.catalog import Product
from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.periods import Frequency
from billing_desktop.domain.text import Notice
from billing_desktop.services.accounts import AccountOverview, account_overview
from billing_desktop.services.activity import Requester, account_requesters
from billing_desktop.services.cart import (
    CartChange,
    CartLine,
    CartView,
    PrimaryAction,
    add_to_cart,
    get_cart,
    remove_from_cart,
)
from billing_desktop.services.catalog import shipped_catalog
from billing_desktop.services.checkout import (
    ExistingMethod,
    NewBankAccount,
    NewCard,
    OrderPreview,
    OrderResult,
    PaymentInput,
    place_order,
    preview,
)
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError, PermissionDenied
from billing_desktop.services.subscriptions_view import SubscriptionCard, subscription_cards
from billing_desktop.ui.dialogs.payment_method_dialog import (
    BANK_ACCOUNT,
    CARD,
    PaymentMethodDialog,
)
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.wizards.common import (
    Fact,
    FactsForm,
    WizardBase,
    WizardPage,
    headline_label,
    message_text,
    money_text,
    scroll_column,
)
from billing_desktop.ui.words import catalog_text

__all__ = ["CheckoutWizard"]

log = logging.getLogger("billing_desktop.ui")

_CTX = "CheckoutWizard"

#: error codes that block the whole change (shown on the Plan page with the way out)
BLOCKING_CODES = frozenset(
    {
        "not_billing_contact",
        "corporate_contact_representative",
        "overdue_invoice",
        "account_expired",
        "account_closed",
        "no_billing_contact",
        "cancellation_pending",
        "subscription_ended",
        "already_subscribed",
        "not_sold_in_currency",
    }
)
#: error codes about the tier choice (shown under the tiers)
TIER_CODES = frozenset({"downgrade_requires_customer_care", "tier_unchanged", "plan_unknown"})
#: error codes about the licence count (shown under the spin box)
LICENCE_CODES = frozenset(
    {"licences_below_assigned", "licences_below_one", "licences_above_maximum", "licences_invalid"}
)

FREQUENCY_WORDS = {
    Frequency.MONTHLY.value: QT_TRANSLATE_NOOP("CheckoutWizard", "Monthly"),
    Frequency.ANNUAL.value: QT_TRANSLATE_NOOP("CheckoutWizard", "Annual"),
}
#: how a line is billed, as a whole phrase (never a lower-cased frequency word)
BILLED_WORDS = {
    Frequency.MONTHLY.value: QT_TRANSLATE_NOOP("CheckoutWizard", "billed monthly"),
    Frequency.ANNUAL.value: QT_TRANSLATE_NOOP("CheckoutWizard", "billed annually"),
}
#: "per licence per month|year" for the price of a tier or an add-on
PER_PERIOD = {
    Frequency.MONTHLY.value: QT_TRANSLATE_NOOP("CheckoutWizard", "{price} per licence per month"),
    Frequency.ANNUAL.value: QT_TRANSLATE_NOOP("CheckoutWizard", "{price} per licence per year"),
}
PER_PERIOD_FLAT = {
    Frequency.MONTHLY.value: QT_TRANSLATE_NOOP("CheckoutWizard", "{price} per month"),
    Frequency.ANNUAL.value: QT_TRANSLATE_NOOP("CheckoutWizard", "{price} per year"),
}


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CTX, text)


def frequency_word(frequency: str | None) -> str:
    source = FREQUENCY_WORDS.get(frequency or "")
    return _tr(source) if source else (frequency or "")


def billed_words(frequency: str | None) -> str:
    """ "billed monthly" / "billed annually" in the UI language."""
    source = BILLED_WORDS.get(frequency or "")
    return _tr(source) if source else (frequency or "")


# --------------------------------------------------------------------------- state


@dataclass
class Target:
    """What the wizard changes: one subscription (or a product not owned yet)."""

    product: Product
    subscription_id: int | None
    card: SubscriptionCard | None
    #: a subscription starts (trial, ended trial, cancelled or new product)
    subscribe: bool
    current_plan: str | None
    current_licences: int | None
    current_frequency: str | None
    current_addons: frozenset[str]
    assigned: int


@dataclass
class CheckoutState:
    """Everything the pages share (the wizard owns one)."""

    ctx: AppContext
    account: AccountOverview
    requesters: tuple[Requester, ...]
    target: Target | None
    cart: CartView
    back_office: bool
    #: the contact chosen on the Plan page (None: the billing contact)
    requested_by: int | None = None
    #: the change of the Plan page (unsaved)
    changes: tuple[CartChange, ...] = ()
    #: the order goes through the stored cart (Add to cart / opened from the cart)
    via_cart: bool = False
    #: the Plan page's change was added to the cart by Place order (a retry only places)
    change_in_cart: bool = False
    review: OrderPreview | None = None
    #: Place order met a conflict: another operator changed what the review shows
    #: (going back reads the data again)
    stale_review: bool = False
    idempotency_key: str = ""
    result: OrderResult | None = None

    @property
    def account_id(self) -> int:
        return self.account.id

    @property
    def on_behalf_of_customer(self) -> bool:
        return not self.back_office

    @property
    def billing_contact(self) -> Requester | None:
        return next((r for r in self.requesters if r.is_billing_contact), None)

    def preview_order(
        self, *, items: Sequence[CartChange] | None, vat_number: str | None = None
    ) -> OrderPreview:
        return preview(
            self.ctx,
            self.account_id,
            requested_by=self.requested_by,
            items=None if items is None else list(items),
            vat_number=vat_number or None,
            on_behalf_of_customer=self.on_behalf_of_customer,
        )

    def preview_review(self, vat_number: str | None = None) -> OrderPreview:
        """What the Review page shows: the stored cart, or the Plan page's unsaved change."""
        if self.via_cart or self.change_in_cart:
            return self.preview_order(items=None, vat_number=vat_number)
        return self.preview_order(items=self.changes, vat_number=vat_number)


def _operator_has_back_office_powers(ctx: AppContext, account: AccountOverview) -> bool:
    """Support staff, and a representative on a corporate account, act back-office.

    Everyone else — the local admin of a single-user install and trainers
    included — reproduces the customer's Billing Center, so the articles'
    refusals ("contact Customer Care", "contact your billing admin") show.
    """
    role = ctx.operator.role
    if role == "support":
        return True
    return role == "representative" and account.type == "corporate"


def _find_target(
    cards: Sequence[SubscriptionCard],
    subscription_id: int | None,
    product_code: str | None,
) -> Target | None:
    catalog = shipped_catalog()
    card: SubscriptionCard | None = None
    if subscription_id is not None:
        card = next((c for c in cards if c.subscription_id == subscription_id), None)
        if card is None:
            return None
    elif product_code is not None:
        card = next(
            (c for c in cards if c.product_code == product_code and not c.in_discover), None
        )
    code = card.product_code if card is not None else product_code
    if code is None or not catalog.has_product(code):
        return None
    product = catalog.product(code)
    if card is None or card.in_discover:
        # a product never bought, or bought again after it was cancelled
        return Target(
            product=product,
            subscription_id=card.subscription_id if card is not None else None,
            card=card,
            subscribe=True,
            current_plan=None,
            current_licences=None,
            current_frequency=None,
            current_addons=frozenset(),
            assigned=0,
        )
    names = {a.name: a.code for a in product.addons}
    subscribe = card.status.value in ("trial", "trial_expired")
    return Target(
        product=product,
        subscription_id=card.subscription_id,
        card=card,
        subscribe=subscribe,
        current_plan=card.plan_code,
        current_licences=card.licences,
        current_frequency=card.frequency.value,
        current_addons=frozenset()
        if subscribe
        else frozenset(names[n] for n in card.addons if n in names),
        assigned=card.assigned,
    )


# --------------------------------------------------------------------------- wizard


class CheckoutWizard(WizardBase):
    """Subscribe now / Edit subscription / the cart, up to **Place order** and its result."""

    PLAN, CART, REVIEW, PAYMENT, RESULT = range(5)

    def __init__(
        self,
        ctx: AppContext,
        account_id: int | str,
        *,
        subscription_id: int | None = None,
        product_code: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("checkoutWizard")
        overview = account_overview(ctx, account_id)
        target = None
        if subscription_id is not None or product_code is not None:
            target = _find_target(
                subscription_cards(ctx, overview.id), subscription_id, product_code
            )
            if target is None:
                raise ValueError(
                    f"no product to check out for subscription {subscription_id!r} / "
                    f"product {product_code!r} on account {overview.account_number}"
                )
        self.state = CheckoutState(
            ctx=ctx,
            account=overview,
            requesters=account_requesters(ctx, overview.id),
            target=target,
            cart=get_cart(ctx, overview.id),
            back_office=_operator_has_back_office_powers(ctx, overview),
        )
        self.state.via_cart = target is None

        #: the Plan page; ``None`` when the wizard was opened from the cart
        self.plan_page = PlanPage(self.state) if target is not None else None
        self.cart_page = CartPage(self.state)
        self.review_page = ReviewPage(self.state)
        self.payment_page = PaymentPage(self.state)
        self.result_page = ResultPage(self.state)
        if self.plan_page is not None:
            self.setPage(self.PLAN, self.plan_page)
            self.plan_page.navigate.connect(self.request_navigation)
        self.setPage(self.CART, self.cart_page)
        self.setPage(self.REVIEW, self.review_page)
        self.setPage(self.PAYMENT, self.payment_page)
        self.setPage(self.RESULT, self.result_page)
        self.setStartId(self.PLAN if target is not None else self.CART)

        self.result_page.navigate.connect(self.request_navigation)
        #: the page shown before the current one (to tell Back from Next)
        self._last_id = -1
        self.currentIdChanged.connect(self._page_changed)
        self.review_page.placed.connect(self._placed)
        self.payment_page.placed.connect(self._placed)
        self.setMinimumSize(860, 640)
        self.retranslateUi()

    def _placed(self) -> None:
        self.completed.emit()

    def _page_changed(self, page_id: int) -> None:
        back = self._last_id != -1 and self._last_id not in self.visitedIds()
        self._last_id = page_id
        if back:
            # Back (Edit order) reads again what another operator may have changed
            if page_id == self.PLAN and self.plan_page is not None:
                self.plan_page.reload()
            elif page_id == self.CART:
                self.cart_page.reload()
            elif page_id == self.REVIEW and self.state.stale_review:
                self.review_page.initializePage()
        # back on the Plan page after the cart changed: Checkout / Add to cart again
        if page_id == self.PLAN and self.plan_page is not None:
            self.plan_page.cart_changed()

    def retranslateUi(self) -> None:
        self.setWindowTitle(
            self.tr("Checkout — {company} ({account})").format(
                company=self.state.account.company_name,
                account=self.state.account.account_number,
            )
        )
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("&Close"))

    def done(self, result: int) -> None:
        self.payment_page.forget_numbers()
        super().done(result)


# --------------------------------------------------------------------------- Plan page


class PlanPage(WizardPage):
    """Product, tier, licences, frequency, add-ons, requester and a live summary."""

    #: a way out into the account page ("licences", "invoices")
    navigate = Signal(str)

    def __init__(self, state: CheckoutState) -> None:
        super().__init__(name="planPage")
        self.state = state
        target = state.target
        assert target is not None
        self.target = target
        self.product = target.product
        self._route: str | None = None
        self._blocked: DomainError | None = None
        self._input_error: DomainError | None = None
        self._summary: OrderPreview | None = None
        self._loading = True

        # who asks and whether they may, across the page; then inputs | summary
        top = QVBoxLayout()
        self.body.addLayout(top)
        columns = QHBoxLayout()
        left = QVBoxLayout()
        right = QVBoxLayout()
        columns.addLayout(left, 3)
        columns.addSpacing(12)
        columns.addLayout(right, 2)
        self.body.addLayout(columns, 1)

        # -- who asks
        requester_row = QFormLayout()
        self.requester_label = QLabel(self)
        self.requester_combo = QComboBox(self)
        self.requester_combo.setObjectName("requesterCombo")
        self.requester_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.requester_combo.setMinimumContentsLength(28)
        self.requester_label.setBuddy(self.requester_combo)
        for r in state.requesters:
            self.requester_combo.addItem("", r.contact_id)
        billing = state.billing_contact
        if billing is not None:
            self.requester_combo.setCurrentIndex(self.requester_combo.findData(billing.contact_id))
        requester_row.addRow(self.requester_label, self.requester_combo)
        top.addLayout(requester_row)
        self.mode_label = QLabel(self)
        self.mode_label.setObjectName("modeLabel")
        self.mode_label.setWordWrap(True)
        self.mode_label.setVisible(state.back_office)
        top.addWidget(self.mode_label)

        # -- blocked: why, and the way out
        self.blocked_frame = QFrame(self)
        self.blocked_frame.setObjectName("blockedFrame")
        self.blocked_frame.setFrameShape(QFrame.Shape.StyledPanel)
        blocked_layout = QVBoxLayout(self.blocked_frame)
        self.blocked_label = QLabel(self.blocked_frame)
        self.blocked_label.setObjectName("blockedLabel")
        self.blocked_label.setWordWrap(True)
        self.blocked_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(self.blocked_label.font())
        bold.setBold(True)
        self.blocked_label.setFont(bold)
        blocked_layout.addWidget(self.blocked_label)
        way_out = QHBoxLayout()
        self.email_admin_button = QPushButton(self.blocked_frame)
        self.email_admin_button.setObjectName("emailAdminButton")
        self.pay_balance_button = QPushButton(self.blocked_frame)
        self.pay_balance_button.setObjectName("payBalanceButton")
        way_out.addWidget(self.email_admin_button)
        way_out.addWidget(self.pay_balance_button)
        way_out.addStretch(1)
        blocked_layout.addLayout(way_out)
        self.blocked_frame.hide()
        top.addWidget(self.blocked_frame)

        # -- the inputs
        self.inputs = QWidget(self)
        inputs = QVBoxLayout(self.inputs)
        inputs.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.inputs)

        self.tier_box = QGroupBox(self.inputs)
        self.tier_box.setObjectName("tierBox")
        tiers = QVBoxLayout(self.tier_box)
        self.tier_group = QButtonGroup(self)
        self.tier_buttons: dict[str, QRadioButton] = {}
        for plan in sorted(self.product.plans, key=lambda p: p.rank):
            button = QRadioButton(self.tier_box)
            button.setObjectName(f"tier_{plan.code}")
            self.tier_group.addButton(button)
            self.tier_buttons[plan.code] = button
            tiers.addWidget(button)
        self.tier_message = QLabel(self.tier_box)
        self.tier_message.setObjectName("tierMessage")
        self.tier_message.setWordWrap(True)
        self.tier_message.hide()
        tiers.addWidget(self.tier_message)
        inputs.addWidget(self.tier_box)

        licence_grid = QGridLayout()
        self.licences_label = QLabel(self.inputs)
        self.licences_spin = QSpinBox(self.inputs)
        self.licences_spin.setObjectName("licencesSpin")
        self.licences_spin.setAccelerated(True)
        self.licences_label.setBuddy(self.licences_spin)
        self.assigned_label = QLabel(self.inputs)
        self.assigned_label.setObjectName("assignedLabel")
        licence_grid.addWidget(self.licences_label, 0, 0)
        licence_grid.addWidget(self.licences_spin, 0, 1)
        licence_grid.addWidget(self.assigned_label, 0, 2)
        licence_grid.setColumnStretch(2, 1)
        self.licence_message = QLabel(self.inputs)
        self.licence_message.setObjectName("licenceMessage")
        self.licence_message.setWordWrap(True)
        self.manage_licences_button = QPushButton(self.inputs)
        self.manage_licences_button.setObjectName("manageLicencesButton")
        licence_grid.addWidget(self.licence_message, 1, 0, 1, 3)
        manage_row = QHBoxLayout()
        manage_row.addWidget(self.manage_licences_button)
        manage_row.addStretch(1)
        licence_grid.addLayout(manage_row, 2, 0, 1, 3)
        self.licence_message.hide()
        self.manage_licences_button.hide()
        inputs.addLayout(licence_grid)

        self.frequency_box = QGroupBox(self.inputs)
        frequency_row = QHBoxLayout(self.frequency_box)
        self.frequency_group = QButtonGroup(self)
        self.monthly_radio = QRadioButton(self.frequency_box)
        self.monthly_radio.setObjectName("monthlyRadio")
        self.annual_radio = QRadioButton(self.frequency_box)
        self.annual_radio.setObjectName("annualRadio")
        for button in (self.monthly_radio, self.annual_radio):
            self.frequency_group.addButton(button)
            frequency_row.addWidget(button)
        frequency_row.addStretch(1)
        inputs.addWidget(self.frequency_box)

        self.addon_box = QGroupBox(self.inputs)
        self.addon_box.setObjectName("addonBox")
        addons = QVBoxLayout(self.addon_box)
        self.addon_checks: dict[str, QCheckBox] = {}
        for addon in self.product.addons:
            check = QCheckBox(self.addon_box)
            check.setObjectName(f"addon_{addon.code}")
            self.addon_checks[addon.code] = check
            addons.addWidget(check)
        self.addon_box.setVisible(bool(self.product.addons))
        inputs.addWidget(self.addon_box)
        left.addStretch(1)

        # -- the summary and the cart
        self.summary_box = QGroupBox(self)
        self.summary_box.setObjectName("summaryBox")
        summary = QVBoxLayout(self.summary_box)
        self.summary_intro = QLabel(self.summary_box)
        self.summary_intro.setObjectName("summaryIntro")
        self.summary_intro.setWordWrap(True)
        summary.addWidget(self.summary_intro)
        self.summary = FactsForm(self.summary_box)
        self.summary.setObjectName("summaryFacts")
        summary.addWidget(self.summary)
        self.summary_notes = QLabel(self.summary_box)
        self.summary_notes.setObjectName("summaryNotes")
        self.summary_notes.setWordWrap(True)
        summary.addWidget(self.summary_notes)
        summary.addStretch(1)
        right.addWidget(self.summary_box, 1)

        self.cart_box = QGroupBox(self)
        self.cart_box.setObjectName("cartBox")
        cart = QVBoxLayout(self.cart_box)
        self.cart_label = QLabel(self.cart_box)
        self.cart_label.setObjectName("cartLabel")
        self.cart_label.setWordWrap(True)
        cart.addWidget(self.cart_label)
        cart_buttons = QHBoxLayout()
        self.add_to_cart_button = QPushButton(self.cart_box)
        self.add_to_cart_button.setObjectName("addToCartButton")
        self.view_cart_button = QPushButton(self.cart_box)
        self.view_cart_button.setObjectName("viewCartButton")
        cart_buttons.addWidget(self.add_to_cart_button)
        cart_buttons.addWidget(self.view_cart_button)
        cart_buttons.addStretch(1)
        cart.addLayout(cart_buttons)
        right.addWidget(self.cart_box)

        # -- initial values: the cart's pending change, else the subscription's values
        line = self._cart_line()
        plan = (line.plan_code if line else None) or target.current_plan or self._default_plan()
        licences = (line.licences if line else None) or target.current_licences or 1
        frequency = (line.frequency if line else None) or target.current_frequency or "monthly"
        pending_addons = set(line.added_addons) if line else set()
        if plan in self.tier_buttons:
            self.tier_buttons[plan].setChecked(True)
        self._set_licence_range(plan)
        self.licences_spin.setValue(licences)
        (self.annual_radio if frequency == "annual" else self.monthly_radio).setChecked(True)
        for code, check in self.addon_checks.items():
            owned = code in target.current_addons
            check.setChecked(owned or code in pending_addons)
            check.setEnabled(not owned)

        self.requester_combo.currentIndexChanged.connect(self._requester_changed)
        self.tier_group.buttonToggled.connect(self._tier_toggled)
        self.licences_spin.valueChanged.connect(self._refresh)
        self.frequency_group.buttonToggled.connect(self._toggled)
        for check in self.addon_checks.values():
            check.toggled.connect(self._refresh)
        self.email_admin_button.clicked.connect(self.email_billing_admin)
        self.pay_balance_button.clicked.connect(lambda: self.navigate.emit("invoices"))
        self.manage_licences_button.clicked.connect(lambda: self.navigate.emit("licences"))
        self.add_to_cart_button.clicked.connect(lambda: self._go("add_to_cart"))
        self.view_cart_button.clicked.connect(lambda: self._go("view_cart"))

        self._loading = False
        self.retranslateUi()
        self._requester_changed()

    # -- reading the inputs ------------------------------------------------------

    def _default_plan(self) -> str:
        return min(self.product.plans, key=lambda p: p.rank).code

    def _cart_line(self) -> CartLine | None:
        t = self.target
        for line in self.state.cart.lines:
            if t.subscription_id is not None and line.subscription_id == t.subscription_id:
                return line
            if (
                t.subscription_id is None
                and line.subscription_id is None
                and (line.product_code == t.product.code)
            ):
                return line
        return None

    def plan_code(self) -> str:
        for code, button in self.tier_buttons.items():
            if button.isChecked():
                return code
        return self._default_plan()

    def frequency(self) -> str:
        return "annual" if self.annual_radio.isChecked() else "monthly"

    def new_addons(self) -> list[str]:
        return [
            code
            for code, check in self.addon_checks.items()
            if check.isChecked() and code not in self.target.current_addons
        ]

    def changes(self) -> tuple[CartChange, ...]:
        """The change as the cart service takes it (empty: nothing changed)."""
        t = self.target
        plan, licences, frequency = self.plan_code(), self.licences_spin.value(), self.frequency()
        if t.subscribe:
            if t.subscription_id is not None and t.card is not None and not t.card.in_discover:
                changes = [
                    CartChange.subscribe(
                        subscription_id=t.subscription_id,
                        plan=plan,
                        licences=licences,
                        frequency=frequency,
                    )
                ]
                changes += [CartChange.add_addon(t.subscription_id, a) for a in self.new_addons()]
            else:
                code = t.product.code
                changes = [
                    CartChange.subscribe(
                        product=code, plan=plan, licences=licences, frequency=frequency
                    )
                ]
                changes += [CartChange.add_addon(None, a, product=code) for a in self.new_addons()]
            return tuple(changes)
        assert t.subscription_id is not None
        line = self._cart_line()
        kinds = set(line.kinds) if line else set()
        sub = t.subscription_id
        out = list(
            CartChange.edit(
                sub,
                plan=plan if plan != t.current_plan or "change_tier" in kinds else None,
                licences=licences
                if licences != t.current_licences or "change_licences" in kinds
                else None,
                frequency=frequency
                if frequency != t.current_frequency or "change_frequency" in kinds
                else None,
            )
        )
        out += [CartChange.add_addon(sub, a) for a in self.new_addons()]
        return tuple(out)

    def _changes_differ_from_subscription(self) -> bool:
        t = self.target
        if t.subscribe:
            return True
        return (
            self.plan_code() != t.current_plan
            or self.licences_spin.value() != t.current_licences
            or self.frequency() != t.current_frequency
            or bool(self.new_addons())
        )

    def requested_by(self) -> int | None:
        data = self.requester_combo.currentData()
        return int(data) if data is not None else None

    # -- live preview --------------------------------------------------------------

    def _requester_changed(self) -> None:
        self.state.requested_by = self.requested_by()
        self._refresh()

    def _tier_toggled(self, _button: QRadioButton, checked: bool) -> None:
        if checked:
            self._set_licence_range(self.plan_code())
            self._refresh()

    def _toggled(self, _button: QRadioButton, checked: bool) -> None:
        if checked:
            self._price_texts()
            self._refresh()

    def _set_licence_range(self, plan_code: str) -> None:
        # SPEC §3: not below 1, not above the catalog maximum; below the assigned
        # count the service refuses and the page says so (with Manage licences).
        self.licences_spin.setRange(1, self.product.plan(plan_code).max_licences)

    def _probe(self) -> tuple[CartChange, ...]:
        """A harmless change to ask the service whether any change is allowed at all."""
        t = self.target
        assert t.subscription_id is not None
        other = "annual" if t.current_frequency == "monthly" else "monthly"
        return (CartChange.change_frequency(t.subscription_id, other),)

    def _refresh(self) -> None:
        """Ask the service for the order this change makes (nothing is written)."""
        if self._loading:
            return
        self.state.changes = self.changes()
        differs = self._changes_differ_from_subscription()
        self._blocked = self._input_error = None
        self._summary = None
        try:
            if differs:
                self._summary = self.state.preview_order(items=self.state.changes)
            else:
                self.state.preview_order(items=self._probe())
        except PermissionDenied as err:
            self._blocked = err
        except DomainError as err:
            if err.code in BLOCKING_CODES:
                self._blocked = err
            elif differs:
                self._input_error = err
        self._show_state()
        self.completeChanged.emit()

    def _show_state(self) -> None:
        blocked = self._blocked
        self.blocked_frame.setVisible(blocked is not None)
        self.inputs.setEnabled(blocked is None)
        self.summary_box.setEnabled(blocked is None)
        self.cart_box.setEnabled(blocked is None)
        code = blocked.code if blocked is not None else ""
        if blocked is not None:
            self.blocked_label.setText(message_text(blocked))
        self.email_admin_button.setVisible(code == "not_billing_contact")
        self.pay_balance_button.setVisible(code == "overdue_invoice")

        err = self._input_error
        tier_error = err if err is not None and err.code in TIER_CODES else None
        licence_error = err if err is not None and err.code in LICENCE_CODES else None
        other_error = (
            err if err is not None and tier_error is None and licence_error is None else None
        )
        self.tier_message.setVisible(tier_error is not None)
        self.tier_message.setText(message_text(tier_error) if tier_error else "")
        self.licence_message.setVisible(licence_error is not None)
        self.licence_message.setText(message_text(licence_error) if licence_error else "")
        self.manage_licences_button.setVisible(
            licence_error is not None and licence_error.code == "licences_below_assigned"
        )
        if other_error is not None:
            self.show_error(other_error)
        else:
            self.clear_error()
        for label in (self.tier_message, self.licence_message):
            palette = label.palette()
            palette.setColor(label.foregroundRole(), Qt.GlobalColor.darkRed)
            label.setPalette(palette)
        self._show_summary()
        self._show_cart()

    def _show_summary(self) -> None:
        shown = self._summary
        t = self.target
        if shown is None:
            if self._blocked is not None:
                self.summary_intro.setText(self.tr("No change can be made now."))
            elif self._input_error is not None:
                self.summary_intro.setText(self.tr("Correct the choice to see the order."))
            else:
                self.summary_intro.setText(
                    self.tr(
                        "Choose another plan, number of licences, billing frequency or "
                        "add-on to see what the change costs."
                    )
                )
            self.summary.set_facts([])
            self.summary_notes.clear()
            return
        item = next(
            (
                i
                for i in shown.items
                if (t.subscription_id is not None and i.subscription_id == t.subscription_id)
                or i.product_code == t.product.code
            ),
            shown.items[0],
        )
        self.summary_intro.setText(self.tr("The change takes effect today."))
        plans = {p.code: p.name for p in self.product.plans}
        facts = []
        if (
            not item.is_new_subscription
            and item.previous_plan_code
            and item.previous_plan_code != item.plan_code
        ):
            facts.append(
                Fact(
                    self.tr("Plan:"),
                    self.tr("{old} → {new}").format(
                        old=plans.get(item.previous_plan_code, item.previous_plan_code),
                        new=item.plan_name,
                    ),
                    "plan",
                )
            )
        else:
            facts.append(Fact(self.tr("Plan:"), item.plan_name, "plan"))
        if item.previous_licences and item.previous_licences != item.licences:
            licences = self.tr("{old} → {new}").format(
                old=item.previous_licences, new=item.licences
            )
        else:
            licences = str(item.licences)
        facts.append(Fact(self.tr("Licences:"), licences, "licences"))
        facts.append(
            Fact(self.tr("Billing frequency:"), frequency_word(item.frequency), "frequency")
        )
        facts.append(
            Fact(self.tr("New billing period:"), format_period(item.period, QLocale()), "period")
        )
        facts.append(Fact(self.tr("Charge for the period:"), money_text(item.charge), "charge"))
        if item.proration_credit.is_positive:
            facts.append(
                Fact(
                    self.tr("Credit for unused days:"),
                    money_text(-item.proration_credit),
                    "credit",
                )
            )
        if shown.reverse_charge:
            vat = self.tr("{amount} (reverse charge)").format(amount=money_text(shown.vat))
        else:
            vat = money_text(shown.vat)
        facts.append(Fact(self.tr("VAT:"), vat, "vat"))
        facts.append(Fact(self.tr("Total due now:"), money_text(shown.amount_due), "due", True))
        if shown.credit_created.is_positive:
            facts.append(
                Fact(self.tr("To account credit:"), money_text(shown.credit_created), "to_credit")
            )
        self.summary.set_facts(facts)
        self.summary_notes.setText(self.tr("The review page shows the exact invoice."))

    def _show_cart(self) -> None:
        cart = self.state.cart
        count = len(cart.lines)
        if count:
            self.cart_label.setText(self.tr("Your cart holds %n product(s).", "", count))
        else:
            self.cart_label.setText(self.tr("Your cart is empty."))
        primary = cart.primary_action
        self.add_to_cart_button.setVisible(primary is PrimaryAction.CHECKOUT)
        self.view_cart_button.setVisible(count > 0)
        ready = self._ready()
        self.add_to_cart_button.setEnabled(ready)
        self.setButtonText(
            QWizard.WizardButton.NextButton,
            self.tr("&Checkout") if primary is PrimaryAction.CHECKOUT else self.tr("&Add to cart"),
        )

    def reload(self) -> None:
        """Read the subscription again (Back, e.g. after another operator changed it): its
        current plan, licences, add-ons and assigned seats; the user's choices are kept and
        the summary is previewed on the current data."""
        old = self.target
        try:
            cards = subscription_cards(self.state.ctx, self.state.account_id)
        except DomainError as err:
            self.show_error(err)
            return
        by_product = old.product.code if old.subscription_id is None else None
        fresh = _find_target(cards, old.subscription_id, by_product)
        if fresh is None or fresh.product.code != old.product.code:
            fresh = old  # gone meanwhile: the service says so when previewing
        self.target = self.state.target = fresh
        self._loading = True
        try:
            # a field the user left at the subscription's value follows the new value;
            # one the user changed keeps their choice
            plan, licences = fresh.current_plan, fresh.current_licences
            if plan in self.tier_buttons and self.plan_code() == old.current_plan:
                self.tier_buttons[plan].setChecked(True)
                self._set_licence_range(plan)
            if licences and self.licences_spin.value() == old.current_licences:
                self.licences_spin.setValue(licences)
            frequency = fresh.current_frequency
            if frequency and self.frequency() == old.current_frequency:
                annual = frequency == "annual"
                (self.annual_radio if annual else self.monthly_radio).setChecked(True)
            for code, check in self.addon_checks.items():
                owned = code in fresh.current_addons
                if owned:
                    check.setChecked(True)
                elif code in old.current_addons:
                    check.setChecked(False)  # no longer included: not chosen by the user
                check.setEnabled(not owned)
            self.retranslateUi()
        finally:
            self._loading = False
        self._refresh()

    def cart_changed(self) -> None:
        """The cart was written or emptied elsewhere: update the cart box and the button."""
        self._show_cart()
        self.completeChanged.emit()

    def _ready(self) -> bool:
        return self._blocked is None and self._input_error is None and self._summary is not None

    # -- wizard --------------------------------------------------------------------

    def primary_text(self) -> str:
        return self.buttonText(QWizard.WizardButton.NextButton).replace("&", "")

    def isComplete(self) -> bool:
        return self._ready() and super().isComplete()

    def _go(self, route: str) -> None:
        wizard = self.wizard()
        if wizard is None:
            return
        self._route = route
        try:
            if route == "view_cart" or self._ready():
                wizard.next()
        finally:
            self._route = None

    def _route_now(self) -> str:
        if self._route is not None:
            return self._route
        if self.state.cart.primary_action is PrimaryAction.CHECKOUT:
            return "checkout"
        return "add_to_cart"

    def validatePage(self) -> bool:
        route = self._route_now()
        self.clear_error()
        if route == "view_cart":
            self.state.via_cart = True
            return True
        if route == "checkout":
            self.state.via_cart = False
            return True
        try:
            self.state.cart = add_to_cart(
                self.state.ctx,
                self.state.account_id,
                list(self.state.changes),
                requested_by=self.state.requested_by,
                on_behalf_of_customer=self.state.on_behalf_of_customer,
                expected_cart_version=self.state.cart.version,
            )
        except DomainError as err:
            self.show_error(err)
            return False
        self.state.via_cart = True
        self._show_cart()
        return True

    def nextId(self) -> int:
        if self._route_now() == "checkout":
            return CheckoutWizard.REVIEW
        return CheckoutWizard.CART

    def email_billing_admin(self) -> None:
        QDesktopServices.openUrl(self.mailto_url())

    def mailto_url(self) -> QUrl:
        """mailto: the billing contact, with a subject naming the account."""
        billing = self.state.billing_contact
        url = QUrl()
        url.setScheme("mailto")
        url.setPath(billing.email if billing is not None else "")
        query = QUrlQuery()
        query.addQueryItem(
            "subject",
            self.tr("Product or licensing change for account {account}").format(
                account=self.state.account.account_number
            ),
        )
        url.setQuery(query)
        return url

    def retranslateUi(self) -> None:
        t = self.target
        self.setTitle(self.tr("Select your plan"))
        if t.card is not None and t.card.status.value == "trial_expired":
            subtitle = self.tr(
                "The free trial of {product} has ended. Choose the plan tier, the number of "
                "licences and the billing frequency to subscribe."
            )
        elif t.subscribe:
            subtitle = self.tr(
                "Choose the plan tier, the number of licences and the billing frequency of "
                "{product}."
            )
        else:
            subtitle = self.tr(
                "Change the plan of {product}: a higher tier, more or fewer licences, another "
                "billing frequency or add-ons. Changes take effect today."
            )
        self.setSubTitle(subtitle.format(product=self.product.name))
        self.requester_label.setText(self.tr("Re&quested by:"))
        for i, r in enumerate(self.state.requesters):
            text = (
                self.tr("{name} <{email}> — billing contact")
                if r.is_billing_contact
                else self.tr("{name} <{email}>")
            )
            self.requester_combo.setItemText(i, text.format(name=r.name, email=r.email))
        self.requester_combo.setToolTip(
            self.tr("The contact who asked for the change, recorded with the order")
        )
        self.mode_label.setText(
            self.tr(
                "You act with back-office powers: a lower plan tier can be chosen, and the "
                "order is recorded as a back-office change."
            )
        )
        self.email_admin_button.setText(self.tr("&Email the billing admin"))
        self.pay_balance_button.setText(self.tr("&Pay balance"))
        self.tier_box.setTitle(self.tr("Plan &tier"))
        self._price_texts()
        self.licences_label.setText(self.tr("&Licences:"))
        if t.assigned:
            self.assigned_label.setText(self.tr("%n licence(s) assigned to users", "", t.assigned))
        else:
            self.assigned_label.clear()
        self.manage_licences_button.setText(self.tr("Ma&nage licences"))
        self.frequency_box.setTitle(self.tr("Billing frequency"))
        self.monthly_radio.setText(self.tr("Mont&hly"))
        self.annual_radio.setText(self.tr("Ann&ual"))
        self.addon_box.setTitle(self.tr("A&dd-ons"))
        self.summary_box.setTitle(self.tr("Order summary"))
        self.cart_box.setTitle(self.tr("Cart"))
        self.add_to_cart_button.setText(self.tr("&Add to cart"))
        self.view_cart_button.setText(self.tr("&View cart"))
        if not self._loading:
            self._show_state()

    def _price_texts(self) -> None:
        """Tier and add-on labels with their price for the chosen billing frequency."""
        t = self.target
        currency = self.state.account.currency
        frequency = self.frequency()
        for plan in self.product.plans:
            button = self.tier_buttons[plan.code]
            price = self._price_text(plan, currency, frequency, per_licence=True)
            if plan.code == t.current_plan and not t.subscribe:
                text = self.tr("{plan} — {price} (current plan)")
            else:
                text = self.tr("{plan} — {price}")
            button.setText(text.format(plan=plan.name, price=price))
        for addon in self.product.addons:
            price = self._price_text(addon, currency, frequency, per_licence=addon.per_licence)
            if addon.code in t.current_addons:
                text = self.tr("{addon} — {price} (included)")
            else:
                text = self.tr("{addon} — {price}")
            self.addon_checks[addon.code].setText(
                text.format(addon=catalog_text(addon.name), price=price)
            )

    def _price_text(self, item: object, currency: str, frequency: str, *, per_licence: bool) -> str:
        try:
            price = item.unit_price(currency, frequency)  # type: ignore[attr-defined]
        except LookupError:
            return self.tr("not sold in {currency}").format(currency=currency)
        table = PER_PERIOD if per_licence else PER_PERIOD_FLAT
        return _tr(table[frequency]).format(price=money_text(price))


# --------------------------------------------------------------------------- Cart page


class CartPage(WizardPage):
    """The stored cart: one line per product, *Remove from cart*, then **Checkout**."""

    def __init__(self, state: CheckoutState) -> None:
        super().__init__(name="cartPage")
        self.state = state
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.body.addWidget(self.intro)
        self.list = QListWidget(self)
        self.list.setObjectName("cartList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setWordWrap(True)
        self.body.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.remove_button = QPushButton(self)
        self.remove_button.setObjectName("removeButton")
        row.addWidget(self.remove_button)
        row.addStretch(1)
        self.body.addLayout(row)
        self.remove_button.clicked.connect(self.remove_selected)
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.retranslateUi()

    def initializePage(self) -> None:
        self.clear_error()
        try:
            self.state.cart = get_cart(self.state.ctx, self.state.account_id)
        except DomainError as err:
            self.show_error(err)
        self.state.via_cart = True
        self._fill()

    def cleanupPage(self) -> None:
        """Back keeps the Plan page's inputs; the cart itself is already stored."""

    def reload(self) -> None:
        """Read the cart again (Back from the review: another operator may have changed it
        or its subscriptions)."""
        self.clear_error()
        try:
            self.state.cart = get_cart(self.state.ctx, self.state.account_id)
        except DomainError as err:
            self.show_error(err)
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        for line in self.state.cart.lines:
            item = QListWidgetItem(line_text(line), self.list)
            item.setData(Qt.ItemDataRole.UserRole, line.item_ids)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._update_buttons()
        self.completeChanged.emit()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.list.currentRow() >= 0)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Delete and self.list.hasFocus():
            self.remove_selected()
            return
        super().keyPressEvent(event)

    def remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        ids = list(item.data(Qt.ItemDataRole.UserRole) or ())
        self.clear_error()
        try:
            self.state.cart = remove_from_cart(
                self.state.ctx,
                self.state.account_id,
                ids,
                requested_by=self.state.requested_by,
                expected_cart_version=self.state.cart.version,
            )
        except DomainError as err:
            self.show_error(err)
            return
        self._fill()

    def isComplete(self) -> bool:
        return bool(self.state.cart.lines) and super().isComplete()

    def nextId(self) -> int:
        return CheckoutWizard.REVIEW

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Cart"))
        self.setSubTitle(
            self.tr("Everything in the cart is checked out as one order and one invoice.")
        )
        self.intro.setText(
            self.tr(
                "Review the products in your cart. Select one and press Remove from cart "
                "to take it out."
            )
        )
        self.remove_button.setText(self.tr("&Remove from cart"))
        self.list.setAccessibleName(self.tr("Products in the cart"))
        self.setButtonText(QWizard.WizardButton.NextButton, self.tr("&Checkout"))
        if self.state is not None and self.list.count():
            for row, line in enumerate(self.state.cart.lines):
                if row < self.list.count():
                    self.list.item(row).setText(line_text(line))


def line_text(line: CartLine) -> str:
    """One cart line: "GoToAssist Remote Support v5: Standard, 7 licence(s) (was 10), billed
    monthly; adds Camera share" — whole translated phrases in one template."""
    catalog = shipped_catalog()
    product = catalog.product(line.product_code) if catalog.has_product(line.product_code) else None
    if line.is_new_subscription:
        plan = QCoreApplication.translate("CheckoutWizard", "subscribe to {plan}").format(
            plan=line.plan_name
        )
    else:
        plan = line.plan_name
    if (
        not line.is_new_subscription
        and line.previous_licences is not None
        and line.previous_licences != line.licences
    ):
        licences = CheckoutWizard.tr("%n licence(s) (was {old})", "", line.licences).format(
            old=line.previous_licences
        )
    else:
        licences = CheckoutWizard.tr("%n licence(s)", "", line.licences)
    text = QCoreApplication.translate(
        "CheckoutWizard", "{product}: {plan}, {licences}, {billing}"
    ).format(
        product=line.product_name,
        plan=plan,
        licences=licences,
        billing=billed_words(line.frequency),
    )
    if line.added_addons:
        names = [
            catalog_text(product.addon(code).name)
            if product is not None and product.has_addon(code)
            else code
            for code in line.added_addons
        ]
        text = QCoreApplication.translate("CheckoutWizard", "{line}; adds {addons}").format(
            line=text, addons=QLocale().createSeparatedList(names)
        )
    return text


# --------------------------------------------------------------------------- Review page


class _PlacingPage(WizardPage):
    """A page whose commit button places the order (Review without payment, or Payment)."""

    #: the order was placed (the wizard emits ``completed``)
    placed = Signal()

    def __init__(self, state: CheckoutState, name: str) -> None:
        super().__init__(name=name)
        self.state = state

    def payment_input(self) -> PaymentInput:
        """The method on file the review named, not whatever is the default when the
        order is placed (another operator may change it meanwhile)."""
        review = self.state.review
        if review is not None and review.payment_method_id_on_file is not None:
            return ExistingMethod(review.payment_method_id_on_file)
        return None

    def vat_number(self) -> str | None:
        return None

    def place(self) -> bool:
        """The final action: one guarded service call.

        Checkout straight from the plan page places the change itself
        (``items``); through the cart, the stored cart at the version reviewed.
        """
        state = self.state
        if state.result is not None:
            return True

        def call() -> OrderResult:
            direct = not state.via_cart and not state.change_in_cart
            review = state.review
            expected = review.cart_version if review is not None else None
            if state.change_in_cart:
                expected = state.cart.version
            return place_order(
                state.ctx,
                state.account_id,
                idempotency_key=state.idempotency_key,
                requested_by=state.requested_by,
                expected_cart_version=None if direct else expected,
                payment=self.payment_input(),
                vat_number=self.vat_number(),
                on_behalf_of_customer=state.on_behalf_of_customer,
                items=list(state.changes) if direct else None,
                # the subscriptions and the account's data as the review page priced them
                expected_subscription_versions=(
                    review.subscription_versions if review is not None else None
                ),
                expected_account_terms=review.account_terms if review is not None else None,
            )

        self.clear_error()
        result = self.final.run(call)
        if result is None:
            return False
        state.result = result
        self.placed.emit()
        return True

    def show_error(self, err: DomainError | Notice | str) -> None:
        """A conflict (another operator changed the order's data since the review) is shown
        with the way to read the data again; the page and every input stay."""
        if isinstance(err, ConflictError):
            self.state.stale_review = True
            err = "\n".join((message_text(err), self.conflict_hint()))
        super().show_error(err)

    def conflict_hint(self) -> str:
        """How to read the data again from this page."""
        return QCoreApplication.translate(
            "CheckoutWizard",
            "Press Edit order to read the current data and review the order again.",
        )


class ReviewPage(_PlacingPage):
    """ "Complete transaction": exactly the service's preview, Edit order / Place order."""

    def __init__(self, state: CheckoutState) -> None:
        super().__init__(state, "reviewPage")
        # a long cart scrolls; the buttons stay where they are
        content, layout = scroll_column(self, "reviewScroll", takes_focus=True)
        self.intro = QLabel(content)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.items = FactsForm(content)
        self.items.setObjectName("reviewItems")
        layout.addWidget(self.items)
        line = QFrame(content)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        self.totals = FactsForm(content)
        self.totals.setObjectName("reviewTotals")
        layout.addWidget(self.totals)
        self.notes = QLabel(content)
        self.notes.setObjectName("reviewNotes")
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        layout.addStretch(1)
        self._needs_payment = False
        self.retranslateUi()

    @property
    def shown(self) -> OrderPreview | None:
        return self.state.review

    def initializePage(self) -> None:
        """A new review: preview the order again and take a new order token."""
        self.clear_error()
        self.state.stale_review = False
        self.state.idempotency_key = f"checkout-{uuid.uuid4().hex}"
        try:
            self.state.review = self.state.preview_review()
        except DomainError as err:
            self.state.review = None
            self.show_error(err)
        self._needs_payment = bool(self.state.review and self.state.review.required_inputs)
        self.setCommitPage(not self._needs_payment)
        self._fill()
        self.retranslateUi()

    def cleanupPage(self) -> None:
        """Edit order: back to the previous page; its inputs are kept."""
        self.clear_error()

    def _fill(self) -> None:
        shown = self.state.review
        if shown is None:
            self.items.set_facts([])
            self.totals.set_facts([])
            self.notes.clear()
            self.completeChanged.emit()
            return
        self.items.set_facts(review_item_facts(shown))
        self.totals.set_facts(review_total_facts(shown))
        notes = [message_text(w) for w in shown.warnings]
        if shown.invoiced_on_terms:
            pass
        elif not self._needs_payment and shown.payment_method_on_file:
            notes.append(
                self.tr("Payment method: {method}").format(method=shown.payment_method_on_file)
            )
        if self._needs_payment:
            notes.append(self.tr("Next, confirm the payment details and/or the VAT number."))
        self.notes.setText("\n".join(notes))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.state.review is not None and super().isComplete()

    def validatePage(self) -> bool:
        if self._needs_payment:
            return True
        return self.place()

    def nextId(self) -> int:
        return CheckoutWizard.PAYMENT if self._needs_payment else CheckoutWizard.RESULT

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Complete transaction"))
        self.setSubTitle(
            self.tr(
                "Review the billing period (starting today), the licences, the plan price and "
                "the total due. Press Edit order to make further changes."
            )
        )
        self.intro.setText(self.tr("Your order:"))
        self.setButtonText(QWizard.WizardButton.BackButton, self.tr("&Edit order"))
        self.setButtonText(QWizard.WizardButton.NextButton, self.tr("&Checkout"))
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Place &order"))
        if self.state.review is not None:
            self._fill()


def review_item_facts(shown: OrderPreview) -> list[Fact]:
    """Per product: billing period, licences, plan price, add-ons, proration credit."""
    facts: list[Fact] = []
    locale = QLocale()
    catalog = shipped_catalog()
    many = len(shown.items) > 1
    for index, item in enumerate(shown.items):
        key = f"{index}_" if many else ""
        product = (
            catalog.product(item.product_code) if catalog.has_product(item.product_code) else None
        )
        plans = {p.code: p.name for p in product.plans} if product else {}
        if (
            not item.is_new_subscription
            and item.previous_plan_code
            and item.previous_plan_code != item.plan_code
        ):
            plan = QCoreApplication.translate("CheckoutWizard", "{product} {old} → {new}").format(
                product=item.product_name,
                old=plans.get(item.previous_plan_code, item.previous_plan_code),
                new=item.plan_name,
            )
        else:
            plan = QCoreApplication.translate("CheckoutWizard", "{product} {plan}").format(
                product=item.product_name, plan=item.plan_name
            )
        facts.append(
            Fact(
                QCoreApplication.translate("CheckoutWizard", "Product:"),
                plan,
                f"{key}product",
                True,
            )
        )
        facts.append(
            Fact(
                QCoreApplication.translate("CheckoutWizard", "Billing period:"),
                QCoreApplication.translate(
                    "CheckoutWizard", "{period} (starts today, {billing})"
                ).format(
                    period=format_period(item.period, locale),
                    billing=billed_words(item.frequency),
                ),
                f"{key}period",
            )
        )
        if item.previous_licences and item.previous_licences != item.licences:
            licences = QCoreApplication.translate("CheckoutWizard", "{new} (was {old})").format(
                new=item.licences, old=item.previous_licences
            )
        else:
            licences = str(item.licences)
        facts.append(
            Fact(
                QCoreApplication.translate("CheckoutWizard", "Licences:"),
                licences,
                f"{key}licences",
            )
        )
        facts.append(
            Fact(
                QCoreApplication.translate("CheckoutWizard", "Plan price:"),
                _tr(PER_PERIOD[item.frequency]).format(price=money_text(item.unit_price)),
                f"{key}unit_price",
            )
        )
        for n, line in enumerate(item.lines):
            if line.kind == "proration_credit":
                continue
            facts.append(
                Fact(
                    QCoreApplication.translate("CheckoutWizard", "{description}:").format(
                        description=catalog_text(line.description)
                    ),
                    QCoreApplication.translate(
                        "CheckoutWizard", "{quantity} × {price} = {amount}"
                    ).format(
                        quantity=line.quantity,
                        price=money_text(line.unit_price),
                        amount=money_text(line.amount),
                    ),
                    f"{key}line_{n}",
                )
            )
        if item.proration_credit.is_positive and item.credit_period is not None:
            facts.append(
                Fact(
                    QCoreApplication.translate("CheckoutWizard", "Proration credit:"),
                    QCoreApplication.translate(
                        "CheckoutWizard", "{amount} for {days} unused days ({period})"
                    ).format(
                        amount=money_text(-item.proration_credit),
                        days=item.unused_days,
                        period=format_period(item.credit_period, locale),
                    ),
                    f"{key}proration_credit",
                )
            )
    return facts


def review_total_facts(shown: OrderPreview) -> list[Fact]:
    """Subtotal, VAT or reverse charge, total, credit applied, amount due (the invoice's)."""
    locale = QLocale()
    facts = [
        Fact(
            QCoreApplication.translate("CheckoutWizard", "Subtotal:"),
            money_text(shown.subtotal),
            "subtotal",
        )
    ]
    if shown.reverse_charge:
        facts.append(
            Fact(
                QCoreApplication.translate("CheckoutWizard", "VAT:"),
                QCoreApplication.translate(
                    "CheckoutWizard", "{amount} — reverse charge (VAT number {number})"
                ).format(amount=money_text(shown.vat), number=shown.vat_number or ""),
                "vat",
            )
        )
    else:
        facts.append(
            Fact(
                QCoreApplication.translate("CheckoutWizard", "VAT ({rate}):").format(
                    rate=format_percent(shown.vat_rate, locale)
                ),
                money_text(shown.vat),
                "vat",
            )
        )
    facts.append(
        Fact(
            QCoreApplication.translate("CheckoutWizard", "Total:"),
            money_text(shown.total),
            "total",
            True,
        )
    )
    facts.append(
        Fact(
            QCoreApplication.translate("CheckoutWizard", "Account credit applied:"),
            money_text(-shown.credit_applied),
            "credit_applied",
        )
    )
    facts.append(
        Fact(
            QCoreApplication.translate("CheckoutWizard", "Total due now:"),
            money_text(shown.amount_due),
            "amount_due",
            True,
        )
    )
    if shown.credit_created.is_positive:
        facts.append(
            Fact(
                QCoreApplication.translate("CheckoutWizard", "Becomes account credit:"),
                money_text(shown.credit_created),
                "credit_created",
            )
        )
    return facts


# --------------------------------------------------------------------------- Payment page


class PaymentFields(PaymentMethodDialog):
    """The card / bank account fields and validation of the payment-method dialog,
    embedded in a wizard page: nothing is stored here (the order stores the summary),
    Enter and Escape belong to the wizard."""

    def __init__(self, ctx: AppContext, account_id: int, kind: str, parent: QWidget) -> None:
        super().__init__(ctx, account_id, kind, parent)
        self.setWindowFlags(Qt.WindowType.Widget)
        self.buttons.hide()
        self.setMinimumWidth(0)
        self.default_check.setChecked(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.ignore()  # the wizard's Cancel / default button
            return
        super().keyPressEvent(event)

    def accept(self) -> None:  # the wizard places the order, not this widget
        return

    def reject(self) -> None:
        return

    def is_valid(self) -> bool:
        return self.ok_button.isEnabled()

    def payment(self) -> NewCard | NewBankAccount:
        make_default = self.default_check.isChecked()
        if self.kind == CARD:
            month, year = self._month(), self._year()
            assert month is not None and year is not None
            return NewCard(
                self.number_edit.text(),
                month,
                year,
                holder_name=self.holder_edit.text(),
                billing_line1=self.line1_edit.text(),
                billing_postal_code=self.postal_edit.text(),
                billing_city=self.city_edit.text(),
                billing_country=self.country_edit.text(),
                make_default=make_default,
            )
        return NewBankAccount(
            self.number_edit.text(), holder_name=self.holder_edit.text(), make_default=make_default
        )

    def forget(self) -> None:
        self._forget_number()


class PaymentPage(_PlacingPage):
    """Payment details and/or VAT number, when the preview asks for them; Place order."""

    ON_FILE, NEW_CARD, NEW_BANK = range(3)

    def __init__(self, state: CheckoutState) -> None:
        super().__init__(state, "paymentPage")
        self.setCommitPage(True)
        self.vat_preview: OrderPreview | None = None
        self._vat_error: DomainError | None = None
        self._vat_checked = ""

        self.reasons = QLabel(self)
        self.reasons.setObjectName("paymentReasons")
        self.reasons.setWordWrap(True)
        self.body.addWidget(self.reasons)
        columns = QHBoxLayout()
        self.body.addLayout(columns, 1)

        self.method_box = QGroupBox(self)
        method = QVBoxLayout(self.method_box)
        self.method_group = QButtonGroup(self)
        self.on_file_radio = QRadioButton(self.method_box)
        self.on_file_radio.setObjectName("onFileRadio")
        self.card_radio = QRadioButton(self.method_box)
        self.card_radio.setObjectName("newCardRadio")
        self.bank_radio = QRadioButton(self.method_box)
        self.bank_radio.setObjectName("newBankRadio")
        for i, button in enumerate((self.on_file_radio, self.card_radio, self.bank_radio)):
            self.method_group.addButton(button, i)
            method.addWidget(button)
        self.fields = QStackedWidget(self.method_box)
        self.card_fields = PaymentFields(state.ctx, state.account_id, CARD, self.fields)
        self.card_fields.setObjectName("cardFields")
        self.bank_fields = PaymentFields(state.ctx, state.account_id, BANK_ACCOUNT, self.fields)
        self.bank_fields.setObjectName("bankFields")
        self.nothing = QWidget(self.fields)
        self.fields.addWidget(self.nothing)
        self.fields.addWidget(self.card_fields)
        self.fields.addWidget(self.bank_fields)
        method.addWidget(self.fields, 1)
        columns.addWidget(self.method_box, 3)

        right = QVBoxLayout()
        columns.addLayout(right, 2)
        self.vat_box = QGroupBox(self)
        self.vat_box.setObjectName("vatBox")
        vat = QVBoxLayout(self.vat_box)
        self.vat_note = QLabel(self.vat_box)
        self.vat_note.setWordWrap(True)
        vat.addWidget(self.vat_note)
        vat_form = QFormLayout()
        self.vat_label = QLabel(self.vat_box)
        self.vat_edit = QLineEdit(self.vat_box)
        self.vat_edit.setObjectName("vatEdit")
        self.vat_edit.setMaxLength(30)
        self.vat_label.setBuddy(self.vat_edit)
        vat_form.addRow(self.vat_label, self.vat_edit)
        vat.addLayout(vat_form)
        self.vat_message = QLabel(self.vat_box)
        self.vat_message.setObjectName("vatMessage")
        self.vat_message.setWordWrap(True)
        vat.addWidget(self.vat_message)
        right.addWidget(self.vat_box)
        self.totals_box = QGroupBox(self)
        totals = QVBoxLayout(self.totals_box)
        self.totals = FactsForm(self.totals_box)
        self.totals.setObjectName("paymentTotals")
        totals.addWidget(self.totals)
        right.addWidget(self.totals_box)
        right.addStretch(1)

        self._vat_timer = QTimer(self)
        self._vat_timer.setSingleShot(True)
        self._vat_timer.setInterval(400)
        self._vat_timer.timeout.connect(self.check_vat)
        self.vat_edit.textChanged.connect(lambda _text: self._vat_typed())
        self.vat_edit.editingFinished.connect(self.check_vat)
        self.method_group.idToggled.connect(self._method_toggled)
        for fields in (self.card_fields, self.bank_fields):
            fields.number_edit.textChanged.connect(self._changed)
            fields.holder_edit.textChanged.connect(self._changed)
        assert self.card_fields.month_combo is not None and self.card_fields.year_combo is not None
        self.card_fields.month_combo.currentIndexChanged.connect(self._changed)
        self.card_fields.year_combo.currentIndexChanged.connect(self._changed)
        self._initialised = False
        self.retranslateUi()

    # -- state -------------------------------------------------------------------

    def required(self, kind: str) -> bool:
        shown = self.state.review
        return bool(shown) and any(r.kind == kind for r in shown.required_inputs)  # type: ignore[union-attr]

    def initializePage(self) -> None:
        """Show why the page is asked for; keep what was typed on an earlier visit."""
        shown = self.state.review
        assert shown is not None
        self.clear_error()
        self.reasons.setText("\n".join(message_text(r.notice) for r in shown.required_inputs))
        on_file = shown.payment_method_on_file
        self.on_file_radio.setVisible(bool(on_file))
        if on_file:
            self.on_file_radio.setText(
                self.tr("&Use the payment method on file: {method}").format(method=on_file)
            )
        needs_vat = self.required("vat_number")
        self.vat_box.setVisible(needs_vat)
        if not self._initialised or (not on_file and self.on_file_radio.isChecked()):
            (self.on_file_radio if on_file else self.card_radio).setChecked(True)
            self._initialised = True
        self._method_toggled(self.method_group.checkedId(), True)
        self.vat_preview = None
        if self.vat_edit.text().strip():
            self._vat_checked = ""
            self.check_vat()
        else:
            self._show_totals()
        self.completeChanged.emit()

    def cleanupPage(self) -> None:
        """Back to the review: everything typed here stays."""
        self._vat_timer.stop()
        self.clear_error()

    def _method_toggled(self, button_id: int, checked: bool) -> None:
        if not checked:
            return
        self.fields.setCurrentIndex({self.NEW_CARD: 1, self.NEW_BANK: 2}.get(button_id, 0))
        self.completeChanged.emit()

    def _changed(self) -> None:
        self.completeChanged.emit()

    def _vat_typed(self) -> None:
        self._vat_error = None
        self.vat_message.clear()
        self._vat_timer.start()
        self.completeChanged.emit()

    def check_vat(self) -> None:
        """Ask the service what the typed VAT number does to the order (nothing is written)."""
        self._vat_timer.stop()
        number = self.vat_edit.text().strip()
        if number == self._vat_checked and (self.vat_preview is not None or self._vat_error):
            return
        self._vat_checked = number
        self._vat_error = None
        self.vat_preview = None
        if number:
            try:
                self.vat_preview = self.state.preview_review(vat_number=number)
            except DomainError as err:
                self._vat_error = err
        self._show_vat()
        self._show_totals()
        self.completeChanged.emit()

    def _show_vat(self) -> None:
        label = self.vat_message
        palette = label.palette()
        if self._vat_error is not None:
            label.setText(message_text(self._vat_error))
            palette.setColor(label.foregroundRole(), Qt.GlobalColor.darkRed)
        elif self.vat_preview is not None:
            shown = self.vat_preview
            if shown.reverse_charge:
                label.setText(
                    self.tr("Valid VAT number: reverse charge applies, no VAT is charged (0 %).")
                )
            else:
                label.setText(
                    self.tr("Valid VAT number: VAT of {rate} is charged.").format(
                        rate=format_percent(shown.vat_rate, QLocale())
                    )
                )
            palette.setColor(label.foregroundRole(), self.palette().color(self.foregroundRole()))
        else:
            label.clear()
        label.setPalette(palette)

    def _show_totals(self) -> None:
        shown = self.vat_preview or self.state.review
        if shown is None:
            self.totals.set_facts([])
            return
        self.totals.set_facts(review_total_facts(shown))

    def isComplete(self) -> bool:
        method = self.method_group.checkedId()
        if method == self.ON_FILE:
            ok = bool(self.state.review and self.state.review.payment_method_on_file)
        elif method == self.NEW_CARD:
            ok = self.card_fields.is_valid()
        elif method == self.NEW_BANK:
            ok = self.bank_fields.is_valid()
        else:
            ok = False
        return ok and self._vat_error is None and super().isComplete()

    def payment_input(self) -> PaymentInput:
        method = self.method_group.checkedId()
        if method == self.NEW_CARD:
            return self.card_fields.payment()
        if method == self.NEW_BANK:
            return self.bank_fields.payment()
        return super().payment_input()  # the method on file

    def vat_number(self) -> str | None:
        if not self.vat_box.isVisibleTo(self):
            return None
        return self.vat_edit.text().strip() or None

    def validatePage(self) -> bool:
        if self.vat_box.isVisibleTo(self):
            self.check_vat()
            if self._vat_error is not None:
                return False
        if not self.place():
            return False
        self.forget_numbers()
        return True

    def forget_numbers(self) -> None:
        self.card_fields.forget()
        self.bank_fields.forget()

    def conflict_hint(self) -> str:
        return QCoreApplication.translate(
            "CheckoutWizard",
            "Press Back to review the order again with the current data.",
        )

    def nextId(self) -> int:
        return CheckoutWizard.RESULT

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Payment and VAT"))
        self.setSubTitle(
            self.tr(
                "Enter your payment details and/or add your VAT number, then press Place order."
            )
        )
        self.method_box.setTitle(self.tr("Payment method"))
        shown = self.state.review
        if shown is not None and shown.payment_method_on_file:
            self.on_file_radio.setText(
                self.tr("&Use the payment method on file: {method}").format(
                    method=shown.payment_method_on_file
                )
            )
        self.card_radio.setText(self.tr("Enter a ne&w card"))
        self.bank_radio.setText(self.tr("Enter a bank accoun&t (SEPA direct debit)"))
        self.vat_box.setTitle(self.tr("VAT number"))
        self.vat_note.setText(
            self.tr(
                "A valid VAT number of another EU country than the seller's means reverse "
                "charge: no VAT is added."
            )
        )
        self.vat_label.setText(self.tr("&VAT number:"))
        self.vat_edit.setPlaceholderText(self.tr("e.g. IT07664550212"))
        self.totals_box.setTitle(self.tr("Total"))
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Place &order"))
        if self._vat_error is not None or self.vat_preview is not None:
            self._show_vat()
        self._show_totals()


# --------------------------------------------------------------------------- Result page


class ResultPage(WizardPage):
    """What changed, the new billing date, the email; Assign licences now."""

    #: Assign licences now → "licences"
    navigate = Signal(str)

    def __init__(self, state: CheckoutState) -> None:
        super().__init__(name="resultPage")
        self.state = state
        self.setFinalPage(True)
        self.headline = headline_label(self, "resultHeadline")
        self.body.addWidget(self.headline)
        self.facts = FactsForm(self)
        self.facts.setObjectName("resultFacts")
        self.body.addWidget(self.facts)
        self.email_label = QLabel(self)
        self.email_label.setObjectName("emailLabel")
        self.email_label.setWordWrap(True)
        self.body.addWidget(self.email_label)
        self.assign_note = QLabel(self)
        self.assign_note.setWordWrap(True)
        self.body.addWidget(self.assign_note)
        row = QHBoxLayout()
        self.assign_button = QPushButton(self)
        self.assign_button.setObjectName("assignLicencesButton")
        row.addWidget(self.assign_button)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addStretch(1)
        self.assign_button.clicked.connect(lambda: self.navigate.emit("licences"))
        self.retranslateUi()

    def initializePage(self) -> None:
        self._fill()

    def nextId(self) -> int:
        return -1

    def _fill(self) -> None:
        result = self.state.result
        if result is None:
            return
        locale = QLocale()
        facts = [
            Fact(self.tr("Order:"), result.order_number, "order"),
            Fact(self.tr("Invoice:"), result.invoice_number, "invoice"),
        ]
        many = len(result.subscriptions) > 1
        for i, sub in enumerate(result.subscriptions):
            key = f"{i}_" if many else ""
            if sub.previous_licences and sub.previous_licences != sub.licences:
                licences = ResultPage.tr("%n licence(s) (was {old})", "", sub.licences).format(
                    old=sub.previous_licences
                )
            else:
                licences = ResultPage.tr("%n licence(s)", "", sub.licences)
            facts.append(
                Fact(
                    self.tr("{product}:").format(product=sub.product_name),
                    self.tr("{plan}, {licences}, {billing}").format(
                        plan=sub.plan_name,
                        licences=licences,
                        billing=billed_words(sub.frequency),
                    ),
                    f"{key}subscription",
                )
            )
            facts.append(
                Fact(
                    self.tr("Next billing date:"),
                    format_date(sub.next_billing_date, locale),
                    f"{key}next_billing_date",
                )
            )
        facts.append(Fact(self.tr("Total:"), money_text(result.total), "total"))
        if result.amount_paid.is_positive:
            facts.append(
                Fact(
                    self.tr("Charged now:"),
                    self.tr("{amount} to {method}").format(
                        amount=money_text(result.amount_paid), method=result.payment_method or ""
                    ),
                    "paid",
                )
            )
        if result.open_balance.is_positive:
            facts.append(
                Fact(
                    self.tr("Payable by {date}:").format(
                        date=format_date(result.invoice_due_date, locale)
                    ),
                    money_text(result.open_balance),
                    "open_balance",
                )
            )
        if result.credit_created.is_positive:
            facts.append(
                Fact(
                    self.tr("Added to account credit:"), money_text(result.credit_created), "credit"
                )
            )
        self.facts.set_facts(facts)
        self.email_label.setText(
            self.tr(
                "A confirmation email with the details of your purchase was sent to {email}."
            ).format(email=result.confirmation_email_to)
        )
        offer = result.offer_licence_assignment
        self.assign_note.setVisible(offer)
        self.assign_button.setVisible(offer)
        self.headline.setText(
            self.tr(
                "Your subscription was updated. The billing period starts today and the billing "
                "date now matches the day of the change."
            )
        )

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Order placed"))
        self.setSubTitle(self.tr("The changes are effective immediately."))
        self.assign_note.setText(
            self.tr(
                "You added licences: do not forget to assign them to your users so they can "
                "sign in."
            )
        )
        self.assign_button.setText(self.tr("&Assign licences now"))
        if self.state.result is not None:
            self._fill()
