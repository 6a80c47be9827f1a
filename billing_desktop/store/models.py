"""SQLAlchemy models for every entity of the billing domain (SPEC §2).

Money is stored as integer minor units (``*_minor`` columns) next to the
account's currency; the domain turns them back into ``Money``.  Editable
entities carry a ``version`` column used as SQLAlchemy's ``version_id_col`` so
two operators never silently overwrite each other (SPEC §6).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: One naming convention so Alembic batch migrations can find constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --------------------------------------------------------------------------- operators


class Operator(Base):
    """A person using the application (SPEC §6)."""

    __tablename__ = "operators"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin','support','representative','trainer','viewer')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    #: Argon2id hash (``services.signin``); None: cannot sign in (an embedded
    #: database's automatic local operator, a representative of the demo data)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: consecutive failed sign-ins (reset by a successful one or a password reset)
    failed_sign_ins: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    last_failed_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: sign-in refused until then after repeated failures (None: not locked)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


# --------------------------------------------------------------------------- catalog


class Product(Base):
    """A product of the catalog with its policy flags (loaded from resources/catalog.json)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    online_cancellation: Mapped[bool] = mapped_column(Boolean)
    online_downgrade: Mapped[bool] = mapped_column(Boolean)
    #: comma-separated contact roles that may request cancellation
    cancel_roles: Mapped[str] = mapped_column(String(200))
    cancel_requires_super_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    trial_days: Mapped[int] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    plans: Mapped[list[Plan]] = relationship(
        back_populates="product", order_by="Plan.rank", cascade="all, delete-orphan"
    )
    addons: Mapped[list[Addon]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )


class Plan(Base):
    """An ordered tier of a product."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("product_id", "code", name="uq_plans_product_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer)
    max_licences: Mapped[int] = mapped_column(Integer)

    product: Mapped[Product] = relationship(back_populates="plans")
    prices: Mapped[list[PlanPrice]] = relationship(cascade="all, delete-orphan")


class PlanPrice(Base):
    """Price per licence per month (monthly) or per year (annual) in one currency."""

    __tablename__ = "plan_prices"
    __table_args__ = (
        UniqueConstraint("plan_id", "currency", "frequency", name="uq_plan_prices_key"),
        CheckConstraint("frequency IN ('monthly','annual')", name="frequency"),
        CheckConstraint("unit_price_minor >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    frequency: Mapped[str] = mapped_column(String(10))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)


class Addon(Base):
    """An add-on that can be bought on top of a product's plan."""

    __tablename__ = "addons"
    __table_args__ = (UniqueConstraint("product_id", "code", name="uq_addons_product_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    per_licence: Mapped[bool] = mapped_column(Boolean, default=False)

    product: Mapped[Product] = relationship(back_populates="addons")
    prices: Mapped[list[AddonPrice]] = relationship(cascade="all, delete-orphan")


class AddonPrice(Base):
    __tablename__ = "addon_prices"
    __table_args__ = (
        UniqueConstraint("addon_id", "currency", "frequency", name="uq_addon_prices_key"),
        CheckConstraint("frequency IN ('monthly','annual')", name="frequency"),
        CheckConstraint("unit_price_minor >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    frequency: Mapped[str] = mapped_column(String(10))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)


# --------------------------------------------------------------------------- accounts


class Account(Base):
    """A customer account (SPEC §2)."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("type IN ('standard','corporate')", name="type"),
        CheckConstraint("status IN ('active','expired','closed')", name="status"),
        # Search indexes (SPEC §4): the account ID is unique; ``search_name``
        # holds the folded company name so prefix search is an index range scan
        # on every database engine.
        Index("ix_accounts_search_name", "search_name"),
        # sortable list columns: (key, id) serves ORDER BY key, id in both directions
        Index("ix_accounts_country_id", "country", "id"),
        Index("ix_accounts_type_id", "type", "id"),
        Index("ix_accounts_active_subscriptions_id", "active_subscriptions", "id"),
        Index("ix_accounts_outstanding_minor_id", "outstanding_minor", "id"),
        Index("ix_accounts_oldest_due_date", "oldest_due_date"),
        Index("ix_accounts_representative_id", "representative_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(20), unique=True)
    company_name: Mapped[str] = mapped_column(String(200))
    #: company name folded for search and sorting (see ``store.search.fold``)
    search_name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20), default="standard")
    status: Mapped[str] = mapped_column(String(20), default="active")
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    vat_number: Mapped[str | None] = mapped_column(String(30))
    #: account credit available for later invoices (minor units, >= 0)
    credit_balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    #: sum of amounts due on open invoices (minor units), kept by the services
    outstanding_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    #: earliest due date among open invoices; overdue when it is before today
    oldest_due_date: Mapped[date | None] = mapped_column(Date)
    #: number of subscriptions that are trial/active/cancellation pending
    active_subscriptions: Mapped[int] = mapped_column(Integer, default=0)
    autopay: Mapped[bool] = mapped_column(Boolean, default=True)
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    po_number: Mapped[str | None] = mapped_column(String(60))
    po_expiry: Mapped[date | None] = mapped_column(Date)
    representative_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL")
    )
    scenario: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    representative: Mapped[Operator | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Contact.id"
    )
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Subscription.id"
    )
    payment_methods: Mapped[list[PaymentMethod]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="PaymentMethod.id"
    )

    __mapper_args__ = {"version_id_col": version}


class Contact(Base):
    """A person of the customer; holds roles and licences."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_email_lower", "email_lower"),
        Index("ix_contacts_search_name", "search_name"),
        Index("ix_contacts_account_id", "account_id"),
        Index(
            "uq_contacts_one_billing_contact",
            "account_id",
            unique=True,
            sqlite_where=text("is_billing_contact = 1"),
            postgresql_where=text("is_billing_contact"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    email_lower: Mapped[str] = mapped_column(String(254))
    #: "last first" folded, for quick search by person
    search_name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10))
    #: comma-separated roles among super_admin, billing_admin, product_admin, user
    roles: Mapped[str] = mapped_column(String(100), default="user")
    is_billing_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a billing admin authorised to cancel products bought through a representative
    cancel_authorised: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    account: Mapped[Account] = relationship(back_populates="contacts")

    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)


class PaymentMethod(Base):
    """A card, bank account or invoice arrangement. Full card numbers are never stored."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        CheckConstraint("kind IN ('card','bank_account','invoice')", name="kind"),
        Index("ix_payment_methods_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    brand: Mapped[str | None] = mapped_column(String(30))
    last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    holder_name: Mapped[str] = mapped_column(String(200), default="")
    iban_country: Mapped[str | None] = mapped_column(String(2))
    billing_line1: Mapped[str] = mapped_column(String(200), default="")
    billing_postal_code: Mapped[str] = mapped_column(String(20), default="")
    billing_city: Mapped[str] = mapped_column(String(100), default="")
    billing_country: Mapped[str] = mapped_column(String(2), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    account: Mapped[Account] = relationship(back_populates="payment_methods")

    __mapper_args__ = {"version_id_col": version}


# --------------------------------------------------------------------------- subscriptions


class Subscription(Base):
    """A product bought (or on trial) by an account."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('trial','trial_expired','active','cancellation_pending','cancelled')",
            name="status",
        ),
        CheckConstraint("frequency IN ('monthly','annual')", name="frequency"),
        CheckConstraint("contract IN ('month_to_month','fixed_term')", name="contract"),
        CheckConstraint("channel IN ('self_service','representative')", name="channel"),
        CheckConstraint("licence_count >= 1", name="licences_positive"),
        Index("ix_subscriptions_account_id", "account_id"),
        Index("ix_subscriptions_status_period_end", "status", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    licence_count: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(10))
    contract: Mapped[str] = mapped_column(String(20), default="month_to_month")
    term_months: Mapped[int | None] = mapped_column(Integer)
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    #: anchor of the billing periods (a checkout restarts it at the change date)
    anchor_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    #: exclusive end of the current period == next billing date
    period_end: Mapped[date | None] = mapped_column(Date)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20), default="self_service")
    trial_end: Mapped[date | None] = mapped_column(Date)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancellation_effective: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_reason_text: Mapped[str | None] = mapped_column(Text)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    account: Mapped[Account] = relationship(back_populates="subscriptions")
    product: Mapped[Product] = relationship()
    plan: Mapped[Plan] = relationship()
    addons: Mapped[list[SubscriptionAddon]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[LicenceAssignment]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class SubscriptionAddon(Base):
    __tablename__ = "subscription_addons"
    __table_args__ = (
        UniqueConstraint("subscription_id", "addon_id", name="uq_subscription_addons_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_on: Mapped[date] = mapped_column(Date)
    #: a cancelled add-on stays usable until this date (the paid period's end)
    ends_on: Mapped[date | None] = mapped_column(Date)

    subscription: Mapped[Subscription] = relationship(back_populates="addons")
    addon: Mapped[Addon] = relationship()


class LicenceAssignment(Base):
    """Which contact holds one of a subscription's seats."""

    __tablename__ = "licence_assignments"
    __table_args__ = (
        UniqueConstraint("subscription_id", "contact_id", name="uq_licence_assignments_key"),
        Index("ix_licence_assignments_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime)

    subscription: Mapped[Subscription] = relationship(back_populates="assignments")
    contact: Mapped[Contact] = relationship()


# --------------------------------------------------------------------------- cart and orders


class Cart(Base):
    """One cart per account; its items are checked out as one order and one invoice."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.position"
    )

    __mapper_args__ = {"version_id_col": version}


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('subscribe','change_tier','change_licences','change_frequency','add_addon')",
            name="kind",
        ),
        Index("ix_cart_items_cart_id", "cart_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    licence_count: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[str | None] = mapped_column(String(10))
    addon_id: Mapped[int | None] = mapped_column(ForeignKey("addons.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    cart: Mapped[Cart] = relationship(back_populates="items")


class Order(Base):
    """A placed cart. ``idempotency_key`` makes a double submission create one order."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_account_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(30), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    placed_at: Mapped[datetime] = mapped_column(DateTime)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    requested_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    summary: Mapped[str] = mapped_column(Text, default="")


# --------------------------------------------------------------------------- invoices


class InvoiceSeries(Base):
    """Gap-free counter per invoice series (e.g. ``INV-2026``)."""

    __tablename__ = "invoice_series"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("status IN ('open','paid','void')", name="status"),
        CheckConstraint(
            "kind IN ('order','renewal','termination','manual')", name="kind"
        ),
        Index("ix_invoices_account_id_issue_date", "account_id", "issue_date"),
        Index("ix_invoices_status_due_date", "status", "due_date"),
        # the invoices list sorted or filtered by date, the dashboard's months
        Index("ix_invoices_issue_date", "issue_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="order")
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    #: VAT rate in hundredths of a percent (2200 = 22 %)
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    vat_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reverse_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    vat_number: Mapped[str | None] = mapped_column(String(30))
    credit_applied_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    language: Mapped[str] = mapped_column(String(10))
    po_number: Mapped[str | None] = mapped_column(String(60))
    disputed_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispute_note: Mapped[str | None] = mapped_column(Text)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def due_minor(self) -> int:
        """What is still to pay; never negative (a credit invoice leaves nothing due)."""
        return max(self.total_minor - self.credit_applied_minor - self.paid_minor, 0)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('charge','proration_credit','addon','termination','manual')", name="kind"
        ),
        Index("ix_invoice_lines_invoice_id", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="charge")
    description: Mapped[str] = mapped_column(String(300))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    #: signed: a proration credit is negative
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceRecipient(Base):
    """Up to five addresses that receive invoices besides the billing contact (SPEC §3)."""

    __tablename__ = "invoice_recipients"
    __table_args__ = (
        UniqueConstraint("account_id", "email", name="uq_invoice_recipients_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(254))


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_account_id", "account_id"),
        Index("ix_payments_invoice_id", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    payment_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_methods.id", ondelete="SET NULL")
    )
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    method_summary: Mapped[str] = mapped_column(String(100), default="")
    reference: Mapped[str] = mapped_column(String(100), default="")


class Credit(Base):
    """Ledger of account credit: positive when granted, negative when used."""

    __tablename__ = "credits"
    __table_args__ = (Index("ix_credits_account_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


# --------------------------------------------------------------------------- outbox, audit


class Email(Base):
    """An email the customer receives, rendered in the account's language."""

    __tablename__ = "emails"
    __table_args__ = (
        CheckConstraint("status IN ('queued','sent','failed')", name="status"),
        Index("ix_emails_account_id", "account_id"),
        Index("ix_emails_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    cc_addresses: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: when a failed delivery is tried again (exponential back-off)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Append-only record of who changed what (SPEC §2)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_account_id_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    #: no cascade: the audit trail outlives nothing it describes (append-only)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    requested_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(60))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)


class AppSetting(Base):
    """Key/value settings stored in the database (kind of database, simulated clock, …)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
