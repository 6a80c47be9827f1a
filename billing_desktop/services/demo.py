"""Demo databases: the curated scenarios and, on request, many generated accounts.

The curated dataset (``resources/demo/curated.json``) holds one account per
situation of the seed articles, with dates relative to the day the demo is
built so it always looks current. The generator adds N realistic accounts with
up to three years of invoice history, deterministic for a seed, written with
bulk inserts in one transaction. A demo SQLite file is built under a temporary
name and moved into place only when complete, so a failed or cancelled build
leaves nothing half-built (see ``build_demo_database``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import sys
import time
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import String, cast, func, literal, select, update
from sqlalchemy.orm import Session

from billing_desktop.config import DatabaseTarget, resources_dir
from billing_desktop.domain.catalog import Catalog
from billing_desktop.domain.dates import parse_relative_date
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Frequency, Period, period_start, term_end
from billing_desktop.domain.tax import VatRates, vat_treatment
from billing_desktop.services.billing_lines import PeriodBill, period_bill
from billing_desktop.services.catalog import ensure_catalog, shipped_catalog
from billing_desktop.services.clock import SIMULATED_KEY
from billing_desktop.store.bulk import bulk_insert, sync_id_sequences
from billing_desktop.store.database import Database, open_database
from billing_desktop.store.models import (
    Account,
    AppSetting,
    Contact,
    Credit,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    LicenceAssignment,
    Operator,
    Payment,
    PaymentMethod,
    Plan,
    Product,
    Subscription,
    SubscriptionAddon,
)
from billing_desktop.store.search import fold
from billing_desktop.store.totals import LIVE_STATUSES, refresh_account_totals

KIND_KEY = "database.kind"
#: the date the curated dataset was built for: a reset rebuilds it for that
#: same date, so it gives back exactly the dataset the demo started with
START_KEY = "demo.start_date"
CURATED_PATH = resources_dir() / "demo" / "curated.json"
NAMES_PATH = resources_dir() / "demo" / "names.json"
#: generated accounts are numbered from here; curated ones sit below
GENERATED_FIRST_NUMBER = 200001
HISTORY_YEARS = 3


class Cancelled(Exception):
    """The user cancelled a long demo build; nothing was written."""


# --------------------------------------------------------------------------- progress


class Progress:
    """Receives progress of long work; ``cancelled`` is polled between chunks."""

    cancelled = False

    def update(self, stage: str, done: int, total: int) -> None:  # pragma: no cover - hook
        pass


class ConsoleProgress(Progress):
    """A single updating progress line on a terminal (or plain lines when piped)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._last = 0.0
        self._dirty = False
        self._tty = stream.isatty()

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dirty and self._tty:
            self._stream.write("\n")
        self._stream.flush()

    def update(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < (0.2 if self._tty else 2.0):
            return
        self._last = now
        percent = 100 * done // total if total else 100
        line = f"{stage}: {done:,} / {total:,} ({percent} %)"
        if self._tty:
            self._stream.write("\r" + line.ljust(60))
            self._dirty = True
        else:
            self._stream.write(line + "\n")
        self._stream.flush()


# --------------------------------------------------------------------------- shared helpers


@dataclass
class _CatalogIds:
    """Database ids of the catalog, by code."""

    products: dict[str, int]
    plans: dict[tuple[str, str], int]
    addons: dict[tuple[str, str], int]


def _catalog_ids(session: Session) -> _CatalogIds:
    products = dict(session.execute(select(Product.code, Product.id)).all())
    plans = {
        (p_code, code): pid
        for p_code, code, pid in session.execute(
            select(Product.code, Plan.code, Plan.id).join(Plan, Plan.product_id == Product.id)
        )
    }
    from billing_desktop.store.models import Addon

    addons = {
        (p_code, code): aid
        for p_code, code, aid in session.execute(
            select(Product.code, Addon.code, Addon.id).join(Addon, Addon.product_id == Product.id)
        )
    }
    return _CatalogIds(products, plans, addons)


def _set(session: Session, key: str, value: str) -> None:
    row = session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=value))
    else:
        row.value = value


def mark_demo(session: Session, today: date) -> None:
    """Mark the database as a demo database with its simulated clock at ``today``.

    Also remembers ``today`` as the demo's start date (``demo.start_date``):
    :func:`billing_desktop.services.sandbox.reset_demo` rebuilds the curated
    dataset for that date, which the loader turns into the same rows, ids and
    timestamps every time.
    """
    _set(session, KIND_KEY, "demo")
    if session.get(AppSetting, SIMULATED_KEY) is None:
        _set(session, SIMULATED_KEY, today.isoformat())
    if session.get(AppSetting, START_KEY) is None:
        _set(session, START_KEY, today.isoformat())


def _invoice_number(prefix_year: int, number: int) -> str:
    return f"INV-{prefix_year}-{number:06d}"


def _reserve_numbers(session: Session, year: int, count: int) -> int:
    """Reserve ``count`` consecutive numbers of the year's series; return the first."""
    prefix = f"INV-{year}"
    series = session.get(InvoiceSeries, prefix, with_for_update=True)
    if series is None:
        series = InvoiceSeries(prefix=prefix, next_number=1)
        session.add(series)
        session.flush()
    first = series.next_number
    series.next_number = first + count
    return first


# --------------------------------------------------------------------------- curated dataset


def load_curated(
    db: Database, today: date, path: Path | None = None, catalog: Catalog | None = None
) -> int:
    """Fill ``db`` with the curated demo accounts, mark it as a demo database.

    Returns the number of accounts written. One transaction: all or nothing.
    """
    catalog = catalog or shipped_catalog()
    ensure_catalog(db, catalog)
    data = json.loads((path or CURATED_PATH).read_text(encoding="utf-8"))
    rates = VatRates.load()
    with db.transaction() as session:
        _CuratedLoader(session, catalog, rates, today).load(data)
        mark_demo(session, today)
        return len(data["accounts"])


class _CuratedLoader:
    def __init__(self, session: Session, catalog: Catalog, rates: VatRates, today: date) -> None:
        self.session = session
        self.catalog = catalog
        self.rates = rates
        self.today = today
        self.ids = _catalog_ids(session)
        self.now = datetime.combine(today, datetime.min.time()).replace(hour=9)
        self.pending_invoices: list[tuple[date, Invoice, Payment | None]] = []

    def date(self, value: str | None) -> date | None:
        return parse_relative_date(value, self.today) if value else None

    def load(self, data: dict[str, Any]) -> None:
        reps: dict[str, Operator] = {}
        for rep in data.get("representatives", []):
            op = self.session.scalar(select(Operator).where(Operator.email == rep["email"]))
            if op is None:
                op = Operator(
                    email=rep["email"], name=rep["name"], role="representative",
                    active=True, created_at=self.now,
                )
                self.session.add(op)
            reps[rep["email"]] = op
        self.session.flush()
        accounts = [self.account(raw, reps) for raw in data["accounts"]]
        self.number_invoices()
        self.session.flush()
        for account in accounts:
            refresh_account_totals(self.session, account)

    def account(self, raw: dict[str, Any], reps: dict[str, Operator]) -> Account:
        address = raw.get("address", {})
        account = Account(
            account_number=raw["account_id"],
            company_name=raw["company"],
            search_name=fold(raw["company"]),
            type=raw.get("type", "standard"),
            status="active",
            country=raw["country"],
            language=raw["language"],
            currency=raw["currency"],
            address_line1=address.get("line1", ""),
            address_line2=address.get("line2") or "",
            postal_code=address.get("postal_code", ""),
            city=address.get("city", ""),
            region=address.get("region") or "",
            vat_number=raw.get("vat_number"),
            credit_balance_minor=Money(raw.get("credit_balance", "0"), raw["currency"]).minor,
            autopay=raw.get("autopay", True),
            payment_terms_days=raw.get("payment_terms_days"),
            po_number=raw.get("po_number"),
            po_expiry=self.date(raw.get("po_expiry")),
            representative=reps.get(raw["representative"]) if raw.get("representative") else None,
            scenario=raw.get("scenario"),
            created_at=self.now - timedelta(days=3 * 365),
        )
        self.session.add(account)
        contacts: dict[str, Contact] = {}
        for c in raw.get("contacts", []):
            contact = Contact(
                first_name=c["first_name"],
                last_name=c["last_name"],
                email=c["email"],
                email_lower=c["email"].lower(),
                search_name=fold(f"{c['last_name']} {c['first_name']}"),
                language=c.get("language"),
                roles=",".join(c.get("roles", ["user"])),
                is_billing_contact=bool(c.get("billing_contact")),
                cancel_authorised=bool(c.get("cancel_authorised")),
            )
            account.contacts.append(contact)
            contacts[c["key"]] = contact
        default_method: PaymentMethod | None = None
        for pm in raw.get("payment_methods", []):
            billing = pm.get("billing_address") or {}
            method = PaymentMethod(
                kind=pm["kind"],
                brand=pm.get("brand"),
                last4=pm.get("last4"),
                exp_month=pm.get("exp_month"),
                exp_year=pm.get("exp_year"),
                holder_name=pm.get("holder") or "",
                iban_country=pm.get("iban_country"),
                billing_line1=billing.get("line1", ""),
                billing_postal_code=billing.get("postal_code", ""),
                billing_city=billing.get("city", ""),
                billing_country=billing.get("country", raw["country"]),
                is_default=bool(pm.get("default")),
                created_at=self.now,
            )
            account.payment_methods.append(method)
            if method.is_default or default_method is None:
                default_method = method
        self.session.flush()
        vat = vat_treatment(account.country, account.vat_number, self.rates)
        for s in raw.get("subscriptions", []):
            self.subscription(account, s, contacts, vat, default_method)
        for extra in raw.get("extra_invoices", []):
            self.extra_invoice(account, extra, vat, default_method)
        if account.credit_balance_minor:
            self.session.add(
                Credit(
                    account_id=account.id,
                    currency=account.currency,
                    amount_minor=account.credit_balance_minor,
                    reason="Goodwill credit",
                    created_at=self.now - timedelta(days=20),
                )
            )
        return account

    def subscription(
        self,
        account: Account,
        raw: dict[str, Any],
        contacts: dict[str, Contact],
        vat: Any,
        method: PaymentMethod | None,
    ) -> None:
        product = self.catalog.product(raw["product"])
        plan = product.plan(raw["plan"])
        addons = [product.addon(code) for code in raw.get("addons", [])]
        freq = Frequency(raw["frequency"])
        anchor = self.date(raw["anchor"]) or self.today
        status = raw["status"]
        sub = Subscription(
            account_id=account.id,
            product_id=self.ids.products[product.code],
            plan_id=self.ids.plans[(product.code, plan.code)],
            licence_count=raw["licences"],
            frequency=freq.value,
            contract=raw.get("contract", "month_to_month"),
            anchor_date=anchor,
            auto_renew=raw.get("auto_renew", True),
            status=status,
            channel=raw.get("channel", "self_service"),
            trial_end=self.date(raw.get("trial_end")),
            cancel_reason=raw.get("cancel_reason"),
            created_at=datetime.combine(anchor, datetime.min.time()).replace(hour=10),
        )
        if sub.contract == "fixed_term":
            sub.term_months = raw["term_months"]
            sub.term_start = self.date(raw.get("term_start")) or anchor
            sub.term_end = term_end(sub.term_start, sub.term_months)
        paid_periods = int(raw.get("paid_periods", 0))
        unpaid = int(raw.get("unpaid_periods", 0))
        periods = []
        if status in ("trial", "trial_expired"):
            sub.period_start = anchor
            sub.period_end = sub.trial_end
            if status == "trial_expired":
                sub.ended_on = sub.trial_end
                sub.auto_renew = False
        else:
            periods = _recent_periods(anchor, freq, self.today, paid_periods, status)
            if status == "cancelled":
                sub.auto_renew = False
                sub.ended_on = periods[-1].end
            sub.period_start = periods[-1].start
            sub.period_end = periods[-1].end
            if status == "cancellation_pending":
                sub.auto_renew = False
                sub.cancel_requested_at = self.now - timedelta(days=3)
                sub.cancellation_effective = (
                    sub.term_end if sub.contract == "fixed_term" else sub.period_end
                )
        self.session.add(sub)
        self.session.flush()
        for addon in addons:
            self.session.add(
                SubscriptionAddon(
                    subscription_id=sub.id,
                    addon_id=self.ids.addons[(product.code, addon.code)],
                    active=True,
                    added_on=anchor,
                )
            )
        for key in raw.get("assigned", []):
            self.session.add(
                LicenceAssignment(
                    subscription_id=sub.id, contact_id=contacts[key].id, assigned_at=self.now
                )
            )
        if not periods or paid_periods == 0:
            return
        bill = period_bill(
            product, plan, addons, sub.licence_count, account.currency, freq.value, vat
        )
        periods = periods[-paid_periods:]
        for index, period in enumerate(periods):
            is_open = index >= len(periods) - unpaid
            invoice = self.invoice(account, period.start, bill, is_open, method, sub.id)
            invoice.period_start, invoice.period_end = period.start, period.end
            for line in invoice.lines:
                line.period_start, line.period_end = period.start, period.end

    def invoice(
        self,
        account: Account,
        issue: date,
        bill: PeriodBill,
        is_open: bool,
        method: PaymentMethod | None,
        subscription_id: int | None,
        kind: str = "renewal",
    ) -> Invoice:
        terms = account.payment_terms_days or 14
        invoice = Invoice(
            number="",  # numbered chronologically once all invoices are known
            account_id=account.id,
            kind=kind,
            issue_date=issue,
            due_date=issue + timedelta(days=terms),
            currency=account.currency,
            subtotal_minor=bill.subtotal.minor,
            vat_rate_bp=bill.vat_rate_bp,
            vat_minor=bill.vat.minor,
            reverse_charge=bill.reverse_charge,
            vat_number=account.vat_number,
            total_minor=bill.total.minor,
            paid_minor=0 if is_open else bill.total.minor,
            status="open" if is_open else "paid",
            language=account.language,
            po_number=account.po_number,
        )
        for position, line in enumerate(bill.lines, start=1):
            invoice.lines.append(
                InvoiceLine(
                    position=position,
                    kind=line.kind,
                    description=line.description,
                    subscription_id=subscription_id,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price.minor,
                    amount_minor=line.amount.minor,
                )
            )
        payment: Payment | None = None
        if not is_open:
            paid_on = issue if method is not None and method.kind == "card" else issue + timedelta(
                days=min(terms, 10)
            )
            payment = Payment(
                account_id=account.id,
                payment_method_id=method.id if method else None,
                currency=account.currency,
                amount_minor=bill.total.minor,
                received_at=datetime.combine(min(paid_on, self.today), datetime.min.time()),
                method_summary=_method_summary(method),
                reference="",
            )
        self.pending_invoices.append((issue, invoice, payment))
        return invoice

    def extra_invoice(
        self, account: Account, raw: dict[str, Any], vat: Any, method: PaymentMethod | None
    ) -> None:
        from billing_desktop.domain.tax import invoice_vat

        issue = self.date(raw["issue"]) or self.today
        amount = Money(raw["amount"], account.currency)
        vat_money = invoice_vat([amount], vat.rate, account.currency)
        from billing_desktop.services.billing_lines import PeriodLine

        bill = PeriodBill(
            lines=(PeriodLine("charge", raw["description"], 1, amount, amount),),
            subtotal=amount,
            vat_rate=vat.rate,
            reverse_charge=vat.reverse_charge,
            vat=vat_money,
            total=amount + vat_money,
        )
        invoice = self.invoice(
            account, issue, bill, raw.get("status", "open") == "open", method, None, kind="manual"
        )
        invoice.due_date = issue + timedelta(days=int(raw.get("due_days", 30)))
        for line in invoice.lines:
            line.kind = "manual"

    def number_invoices(self) -> None:
        """Give every invoice its gap-free number in issue-date order, per year."""
        self.pending_invoices.sort(key=lambda item: (item[0], item[1].account_id))
        by_year: dict[int, list[Invoice]] = {}
        for issue, invoice, _payment in self.pending_invoices:
            by_year.setdefault(issue.year, []).append(invoice)
        for year, invoices in sorted(by_year.items()):
            first = _reserve_numbers(self.session, year, len(invoices))
            for offset, invoice in enumerate(invoices):
                invoice.number = _invoice_number(year, first + offset)
                self.session.add(invoice)
        self.session.flush()
        for _issue, invoice, payment in self.pending_invoices:
            if payment is not None:
                payment.invoice_id = invoice.id
                self.session.add(payment)


def _recent_periods(
    anchor: date, freq: Frequency, today: date, count: int, status: str
) -> list[Period]:
    """The billing periods to invoice for a curated subscription (at least one).

    A live subscription has the last ``count`` periods, the newest containing
    today; a cancelled one was billed for its first ``count`` periods from the
    anchor and ended when the last of them did.
    """
    if status == "cancelled":
        first, k = 0, max(count, 1) - 1
    else:
        k = 0
        while period_start(anchor, k + 1, freq) <= today:
            k += 1
        first = max(k - max(count, 1) + 1, 0)
    return [
        Period(period_start(anchor, i, freq), period_start(anchor, i + 1, freq))
        for i in range(first, k + 1)
    ]


def _method_summary(method: PaymentMethod | None) -> str:
    if method is None:
        return "bank transfer"
    if method.kind == "card":
        return f"{(method.brand or 'card').title()} •••• {method.last4}"
    if method.kind == "bank_account":
        return f"Bank account •••• {method.last4}"
    return "bank transfer"
# --------------------------------------------------------------------------- generated accounts


@dataclass
class _SubPlan:
    """A generated subscription's billing schedule, kept compact for the invoice pass."""

    sub_id: int
    account_idx: int
    anchor: date
    months: int
    stop: date  # no period starts on or after this date
    subtotal: int
    vat: int
    vat_bp: int
    reverse_charge: bool
    total: int
    lines: tuple[tuple[str, str, int, int, int], ...]  # kind, text, qty, unit, amount

    @classmethod
    def of(
        cls, sub_id: int, account_idx: int, anchor: date, months: int, stop: date, bill: PeriodBill
    ) -> _SubPlan:
        return cls(
            sub_id, account_idx, anchor, months, stop,
            bill.subtotal.minor, bill.vat.minor, bill.vat_rate_bp, bill.reverse_charge,
            bill.total.minor,
            tuple(
                (ln.kind, ln.description, ln.quantity, ln.unit_price.minor, ln.amount.minor)
                for ln in bill.lines
            ),
        )


@dataclass
class _AccountState:
    id: int
    currency: str
    language: str
    vat_number: str | None
    po_number: str | None
    terms: int
    pay_mode: str  # "card" | "transfer" | "late"
    method_id: int | None
    method_summary: str
    outstanding: int = 0
    oldest_due: date | None = None


@dataclass
class GenerationSummary:
    accounts: int = 0
    curated: int = 0
    subscriptions: int = 0
    invoices: int = 0
    seconds: float = 0.0
    path: str = ""
    extra: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        rate = self.accounts / self.seconds if self.seconds else 0.0
        return (
            f"{self.path}: {self.curated} curated + {self.accounts - self.curated:,} generated "
            f"accounts, {self.subscriptions:,} subscriptions, {self.invoices:,} invoices "
            f"in {self.seconds:.1f} s ({rate:,.0f} accounts/s)"
        )


_PRODUCT_WEIGHTS = {
    "gotoassist_rs_v5": 30,
    "gotoassist_rs_v4": 18,
    "goto_meeting": 22,
    "logmein_resolve": 15,
    "goto_connect": 15,
}
_CHUNK = 2000


class _Generator:
    def __init__(
        self, db: Database, count: int, seed: int, today: date, progress: Progress
    ) -> None:
        self.db = db
        self.count = count
        self.rng = random.Random(seed)
        self.today = today
        self.progress = progress
        self.catalog = shipped_catalog()
        self.rates = VatRates.load()
        self.names: dict[str, Any] = json.loads(NAMES_PATH.read_text(encoding="utf-8"))
        countries = self.names["countries"]
        self.country_codes = list(countries)
        self.country_weights = [countries[c].get("weight", 1) for c in self.country_codes]
        products = [p for p in self.catalog if p.code in _PRODUCT_WEIGHTS] or list(self.catalog)
        self.products = products
        self.product_weights = [_PRODUCT_WEIGHTS.get(p.code, 5) for p in products]
        self.start = today - timedelta(days=365 * HISTORY_YEARS)
        self.summary = GenerationSummary()
        #: set by build_demo_database only: the database was created by this build,
        #: so its invoices (the curated ones) may be renumbered (see _invoices)
        self.fresh_database = False

    # ---- helpers
    def _check(self) -> None:
        if self.progress.cancelled:
            raise Cancelled()

    def _next_ids(self, conn: Any) -> dict[str, int]:
        def nxt(model: Any) -> int:
            return int(conn.execute(select(func.coalesce(func.max(model.id), 0))).scalar()) + 1

        return {
            "account": nxt(Account),
            "contact": nxt(Contact),
            "pm": nxt(PaymentMethod),
            "sub": nxt(Subscription),
            "invoice": nxt(Invoice),
            "line": nxt(InvoiceLine),
            "payment": nxt(Payment),
            "operator": nxt(Operator),
        }

    def run(self, conn: Any, catalog_ids: _CatalogIds) -> None:
        ids = self._next_ids(conn)
        number = GENERATED_FIRST_NUMBER
        existing = conn.execute(
            select(Account.account_number).where(Account.account_number.like("A-%"))
        ).scalars()
        taken = {int(n[2:]) for n in existing if n[2:].isdigit()}
        now = datetime.combine(self.today, datetime.min.time()).replace(hour=8)
        reps = self._representatives(conn, ids, now)
        accounts: list[_AccountState] = []
        subs: list[_SubPlan] = []
        rows: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("account", "contact", "pm", "sub", "addon", "assign")
        }

        def flush() -> None:
            for key, model in (
                ("account", Account),
                ("contact", Contact),
                ("pm", PaymentMethod),
                ("sub", Subscription),
                ("addon", SubscriptionAddon),
                ("assign", LicenceAssignment),
            ):
                if rows[key]:
                    bulk_insert(conn, model.__table__, rows[key])
                    rows[key].clear()

        for i in range(self.count):
            while number in taken:
                number += 1
            self._account(i, f"A-{number}", ids, rows, accounts, subs, catalog_ids, reps, now)
            number += 1
            if (i + 1) % _CHUNK == 0:
                flush()
                self._check()
                self.progress.update("Generating accounts", i + 1, self.count)
        flush()
        self.progress.update("Generating accounts", self.count, self.count)
        self.summary.accounts += self.count
        self.summary.subscriptions += len(subs)
        self._invoices(conn, ids, accounts, subs)
        for_update = [
            {"b_id": a.id, "b_out": a.outstanding, "b_due": a.oldest_due}
            for a in accounts
            if a.outstanding
        ]
        if for_update:
            from sqlalchemy import bindparam

            conn.execute(
                update(Account.__table__)
                .where(Account.__table__.c.id == bindparam("b_id"))
                .values(outstanding_minor=bindparam("b_out"), oldest_due_date=bindparam("b_due")),
                for_update,
            )

    def _representatives(self, conn: Any, ids: dict[str, int], now: datetime) -> list[int]:
        existing = list(
            conn.execute(select(Operator.id).where(Operator.role == "representative")).scalars()
        )
        if len(existing) >= 6:
            return existing
        rng = self.rng
        rows = []
        for n in range(6 - len(existing)):
            country = self.names["countries"][rng.choice(["GB", "IE", "NL", "DE"])]
            first, last = rng.choice(country["first_names"]), rng.choice(country["last_names"])
            rows.append(
                {
                    "id": ids["operator"],
                    "email": f"rep{n + 1}.{fold(last).replace(' ', '')}@billing-desktop.example",
                    "name": f"{first} {last}",
                    "role": "representative",
                    "active": True,
                    "created_at": now,
                    "version": 1,
                }
            )
            ids["operator"] += 1
        bulk_insert(conn, Operator.__table__, rows)
        return existing + [r["id"] for r in rows]

    def _account(
        self,
        index: int,
        account_number: str,
        ids: dict[str, int],
        rows: dict[str, list[dict[str, Any]]],
        accounts: list[_AccountState],
        subs: list[_SubPlan],
        catalog_ids: _CatalogIds,
        reps: list[int],
        now: datetime,
    ) -> None:
        rng = self.rng
        cc = rng.choices(self.country_codes, self.country_weights)[0]
        country = self.names["countries"][cc]
        last = rng.choice(country["last_names"])
        city = rng.choice(country["cities"])
        company = rng.choice(country["company_patterns"]).format(
            last=last,
            last2=rng.choice([n for n in country["last_names"] if n != last]),
            first=rng.choice(country["first_names"]),
            city=city["name"],
            word=rng.choice(country.get("company_words") or ["Services"]),
        )
        company = company[:1].upper() + company[1:]
        language = city.get("language", country["language"])
        streets = country.get("streets_by_language", {}).get(language) or country["streets"]
        corporate = rng.random() < 0.03
        created = self.start + timedelta(days=rng.randrange(365 * HISTORY_YEARS - 10))
        account_id = ids["account"]
        ids["account"] += 1
        pay_roll = rng.random()
        pay_mode = "card" if pay_roll < 0.8 else ("transfer" if pay_roll < 0.97 else "late")
        if corporate:
            pay_mode = "late" if pay_roll > 0.95 else "transfer"
        terms = 30 if corporate else 14
        state = _AccountState(
            id=account_id,
            currency=country["currency"],
            language=language,
            vat_number=None,
            po_number=(
                f"PO-{rng.randrange(10000, 99999)}" if corporate and rng.random() < 0.5 else None
            ),
            terms=terms,
            pay_mode=pay_mode,
            method_id=None,
            method_summary="bank transfer",
        )
        house = self.names.get("house_number", {"min": 1, "max": 200})
        line1 = country.get("address_format", "{street} {number}").format(
            street=rng.choice(streets), number=rng.randint(house["min"], house["max"])
        )
        postal = _postal_code(rng, city)
        rows["account"].append(
            {
                "id": account_id,
                "account_number": account_number,
                "company_name": company,
                "search_name": fold(company),
                "type": "corporate" if corporate else "standard",
                "status": "active",
                "country": cc,
                "language": state.language,
                "currency": state.currency,
                "address_line1": line1,
                "address_line2": "",
                "postal_code": postal,
                "city": city["name"],
                "region": city.get("region", ""),
                "vat_number": None,
                "credit_balance_minor": 0,
                "outstanding_minor": 0,
                "oldest_due_date": None,
                "active_subscriptions": 0,
                "autopay": pay_mode == "card",
                "payment_terms_days": 30 if corporate else None,
                "po_number": state.po_number,
                "po_expiry": self.today + timedelta(days=rng.randrange(30, 400))
                if state.po_number
                else None,
                "representative_id": rng.choice(reps) if corporate and reps else None,
                "scenario": None,
                "created_at": datetime.combine(created, datetime.min.time()),
                "version": 1,
            }
        )
        # contacts: the first is the billing contact
        contact_ids = []
        slug = "".join(ch if ch.isalnum() else "-" for ch in fold(company)).strip("-")
        slug = "-".join(part for part in slug.split("-") if part)[:40]
        domain = f"{slug}{self.names.get('email_domain_suffix', '.example')}"
        n_contacts = rng.choice((1, 2, 2, 3, 3, 4, 5, 6))
        for n in range(n_contacts):
            first = rng.choice(country["first_names"])
            c_last = last if n == 0 and rng.random() < 0.3 else rng.choice(country["last_names"])
            local = "".join(
                ch for ch in f"{fold(first)}.{fold(c_last)}" if ch.isalnum() or ch == "."
            )
            email = f"{local}@{domain}"
            if n == 0:
                roles = "billing_admin,super_admin" if rng.random() < 0.6 else "billing_admin"
            elif n == 1 and corporate:
                roles = "product_admin"
            else:
                roles = rng.choice(("user", "user", "user", "product_admin", "super_admin"))
            rows["contact"].append(
                {
                    "id": ids["contact"],
                    "account_id": account_id,
                    "first_name": first,
                    "last_name": c_last,
                    "email": email,
                    "email_lower": email.lower(),
                    "search_name": fold(f"{c_last} {first}"),
                    "language": state.language,
                    "roles": roles,
                    "is_billing_contact": n == 0,
                    "cancel_authorised": n == 0 and corporate,
                    "version": 1,
                }
            )
            contact_ids.append(ids["contact"])
            ids["contact"] += 1
        # payment method: a card for most, an invoice arrangement for corporate accounts
        has_card = pay_mode == "card" or rng.random() < 0.3
        if has_card or corporate:
            method = {
                "id": ids["pm"],
                "account_id": account_id,
                "kind": "invoice",
                "brand": None,
                "last4": None,
                "exp_month": None,
                "exp_year": None,
                "holder_name": company,
                "iban_country": None,
                "billing_line1": line1,
                "billing_postal_code": postal,
                "billing_city": city["name"],
                "billing_country": cc,
                "is_default": True,
                "created_at": datetime.combine(created, datetime.min.time()),
                "version": 1,
            }
            if has_card:
                brand = rng.choice(("visa", "visa", "mastercard", "amex"))
                card_last4 = f"{rng.randrange(10000):04d}"
                state.method_summary = f"{brand.title()} •••• {card_last4}"
                method.update(
                    kind="card",
                    brand=brand,
                    last4=card_last4,
                    exp_month=rng.randrange(1, 13),
                    exp_year=self.today.year + rng.randrange(0, 5),
                    holder_name=f"{rng.choice(country['first_names'])} {last}",
                )
            rows["pm"].append(method)
            state.method_id = ids["pm"]
            ids["pm"] += 1
        vat = vat_treatment(cc, None, self.rates)
        live = 0
        n_subs = 1 if rng.random() < 0.7 else 2
        chosen = set()
        for _ in range(n_subs):
            product = rng.choices(self.products, self.product_weights)[0]
            if product.code in chosen:
                continue
            chosen.add(product.code)
            status = self._subscription(
                product, created, state, contact_ids, rows, subs, ids, catalog_ids, vat,
                corporate, len(accounts),
            )
            live += status in LIVE_STATUSES
        rows["account"][-1]["active_subscriptions"] = live
        accounts.append(state)

    def _subscription(
        self,
        product: Any,
        created: date,
        state: _AccountState,
        contact_ids: list[int],
        rows: dict[str, list[dict[str, Any]]],
        subs: list[_SubPlan],
        ids: dict[str, int],
        catalog_ids: _CatalogIds,
        vat: Any,
        corporate: bool,
        account_idx: int,
    ) -> str:
        rng = self.rng
        plan = rng.choices(product.plans, [4, 3, 1, 1][: len(product.plans)])[0]
        licences = min(plan.max_licences, rng.choice((1, 1, 2, 2, 3, 5, 5, 8, 10, 15, 25, 40)))
        if corporate:
            licences = min(plan.max_licences, licences * 4)
        freq = Frequency.ANNUAL if rng.random() < 0.35 else Frequency.MONTHLY
        anchor = created + timedelta(days=rng.randrange(0, 20))
        if anchor > self.today:
            anchor = self.today
        roll = rng.random()
        status = "active"
        trial_end = None
        stop = self.today + timedelta(days=1)
        ended_on = None
        if roll < 0.06:
            if product.trial_days <= 0:
                pass  # no trial for this product: an ordinary active subscription
            elif roll < 0.03:
                status = "trial"  # started less than trial_days - 1 days ago: ends after today
                anchor = self.today - timedelta(
                    days=rng.randrange(0, max(product.trial_days - 1, 1))
                )
                trial_end = anchor + timedelta(days=product.trial_days)
            else:
                status = "trial_expired"
                trial_end = anchor + timedelta(days=product.trial_days)
                if trial_end > self.today:
                    trial_end = self.today - timedelta(days=1)
                    anchor = trial_end - timedelta(days=product.trial_days)
        elif roll < 0.14:
            status = "cancelled"
        elif roll < 0.17:
            status = "cancellation_pending"
        sub_id = ids["sub"]
        ids["sub"] += 1
        # The status is settled first (a "cancelled" draw with nothing billed yet
        # becomes "active"); only then is the contract chosen, so only a live,
        # billed subscription (active or cancellation pending) can be on a fixed
        # term. Cancelled subscriptions and trials are month-to-month: a cancelled
        # fixed term would need a term history the generator does not model.
        # A fixed term contains the current period: its length is a whole number
        # of billing periods and it is counted from the anchor, whose day is at
        # most 28 so no month end is clamped; every term boundary is then a
        # period boundary and term_end == domain term_end(term_start, months).
        t_start = t_end = None
        term_months = None
        period_start_d: date
        period_end_d: date
        if status in ("trial", "trial_expired"):
            assert trial_end is not None
            period_start_d, period_end_d = anchor, trial_end
            ended_on = trial_end if status == "trial_expired" else None
        else:
            m = freq.months
            k_now = ((self.today.year - anchor.year) * 12 + self.today.month - anchor.month) // m
            while k_now > 0 and add_months_fast(anchor, k_now * m) > self.today:
                k_now -= 1
            while add_months_fast(anchor, (k_now + 1) * m) <= self.today:
                k_now += 1
            if status == "cancelled" and k_now == 0:
                status = "active"  # nothing billed before today: it cannot have ended yet
            if status == "cancelled":
                k_end = rng.randrange(1, k_now + 1)  # periods 0..k_end-1 were billed
                stop = add_months_fast(anchor, k_end * m)
                ended_on = stop  # <= today, as anchor + k_now periods <= today
                period_start_d = add_months_fast(anchor, (k_end - 1) * m)
                period_end_d = stop
            else:
                period_start_d = add_months_fast(anchor, k_now * m)
                period_end_d = add_months_fast(anchor, (k_now + 1) * m)
                if anchor.day <= 28 and (
                    (corporate and rng.random() < 0.6) or rng.random() < 0.08
                ):
                    term_months = rng.choice((12, 24, 36))
                    n_terms = 0
                    while add_months_fast(anchor, term_months * (n_terms + 1)) <= self.today:
                        n_terms += 1
                    t_start = add_months_fast(anchor, term_months * n_terms)
                    t_end = add_months_fast(anchor, term_months * (n_terms + 1))
        fixed = term_months is not None
        rows["sub"].append(
            {
                "id": sub_id,
                "account_id": state.id,
                "product_id": catalog_ids.products[product.code],
                "plan_id": catalog_ids.plans[(product.code, plan.code)],
                "licence_count": licences,
                "frequency": freq.value,
                "contract": "fixed_term" if fixed else "month_to_month",
                "term_months": term_months,
                "term_start": t_start,
                "term_end": t_end,
                "anchor_date": anchor,
                "period_start": period_start_d,
                "period_end": period_end_d,
                "auto_renew": status in ("active", "trial"),
                "status": status,
                "channel": "representative" if corporate else "self_service",
                "trial_end": trial_end,
                "cancel_requested_at": datetime.combine(self.today, datetime.min.time())
                - timedelta(days=rng.randrange(1, 20))
                if status == "cancellation_pending"
                else None,
                "cancellation_effective": (t_end if fixed else period_end_d)
                if status == "cancellation_pending"
                else None,
                "cancel_reason": rng.choice(
                    ("too_expensive", "missing_features", "switching_provider", "no_longer_needed")
                )
                if status in ("cancelled", "cancellation_pending")
                else None,
                "cancel_reason_text": None,
                "ended_on": ended_on,
                "created_at": datetime.combine(anchor, datetime.min.time()),
                "version": 1,
            }
        )
        addons = []
        if product.addons and rng.random() < 0.25:
            addon = rng.choice(product.addons)
            addons.append(addon)
            rows["addon"].append(
                {
                    "subscription_id": sub_id,
                    "addon_id": catalog_ids.addons[(product.code, addon.code)],
                    "active": True,
                    "added_on": anchor,
                }
            )
        if status in LIVE_STATUSES:
            holders = contact_ids[: min(licences, len(contact_ids))]
            if len(holders) > 1:
                holders = holders[: rng.randrange(1, len(holders) + 1)]
            for contact_id in holders:
                rows["assign"].append(
                    {
                        "subscription_id": sub_id,
                        "contact_id": contact_id,
                        "assigned_at": datetime.combine(anchor, datetime.min.time()),
                    }
                )
        if status not in ("trial", "trial_expired"):
            bill = period_bill(product, plan, addons, licences, state.currency, freq.value, vat)
            subs.append(_SubPlan.of(sub_id, account_idx, anchor, freq.months, stop, bill))
        return status

    def _invoices(
        self,
        conn: Any,
        ids: dict[str, int],
        accounts: list[_AccountState],
        subs: list[_SubPlan],
    ) -> None:
        """Invoice every period of every subscription, numbered in issue-date order per year.

        Invoices already in the database (the curated ones) are merged into the
        same chronological numbering, so every series stays gap-free and in date
        order however the demo was assembled.
        """
        # (issue date, 0 = existing invoice id / 1 = generated: sub index, period index)
        events: list[tuple[date, int, int, int]] = [
            (issue, 0, inv_id, 0)
            for inv_id, issue in conn.execute(select(Invoice.id, Invoice.issue_date)).all()
        ]
        existing = len(events)
        # Renumbering rewrites invoice numbers, which must never happen to real
        # invoices. Guard: only a database freshly created by build_demo_database
        # (refused if it held accounts; its invoices are the curated ones it has
        # just written) may hold invoices here.
        if existing and not self.fresh_database:
            raise RuntimeError(
                f"refusing to renumber {existing} existing invoices: generated accounts are "
                "only merged into a demo database being built"
            )
        for s_idx, sub in enumerate(subs):
            k = 0
            while True:
                start = add_months_fast(sub.anchor, k * sub.months)
                if start >= sub.stop or start > self.today:
                    break
                events.append((start, 1, s_idx, k))
                k += 1
        events.sort()
        total = len(events)
        self.summary.invoices += total - existing
        if existing:
            # free the old numbers; the final ones are written at the end
            conn.execute(
                update(Invoice.__table__).values(
                    number=literal("TMP-").concat(cast(Invoice.__table__.c.id, String))
                )
            )
        renumbered: list[dict[str, Any]] = []
        next_in_year: dict[int, int] = {}
        inv_rows: list[dict[str, Any]] = []
        line_rows: list[dict[str, Any]] = []
        pay_rows: list[dict[str, Any]] = []
        rng = self.rng
        for done, (issue, generated, s_idx, k) in enumerate(events, start=1):
            number = next_in_year.get(issue.year, 1)
            next_in_year[issue.year] = number + 1
            if not generated:
                renumbered.append({"b_id": s_idx, "b_number": _invoice_number(issue.year, number)})
                continue
            sub = subs[s_idx]
            acct = accounts[sub.account_idx]
            end = add_months_fast(sub.anchor, (k + 1) * sub.months)
            due = issue + timedelta(days=acct.terms)
            total_minor = sub.total
            if acct.pay_mode == "card":
                paid_on: date | None = issue
            elif acct.pay_mode == "transfer":
                paid_on = issue + timedelta(days=rng.randrange(2, acct.terms + 1))
            else:  # pays late: the newest invoices stay open past their due date
                paid_on = issue + timedelta(days=acct.terms + rng.randrange(20, 90))
            is_paid = paid_on is not None and paid_on <= self.today
            invoice_id = ids["invoice"]
            ids["invoice"] += 1
            inv_rows.append(
                {
                    "id": invoice_id,
                    "number": _invoice_number(issue.year, number),
                    "account_id": acct.id,
                    "order_id": None,
                    "kind": "renewal" if k else "order",
                    "issue_date": issue,
                    "due_date": due,
                    "period_start": issue,
                    "period_end": end,
                    "currency": acct.currency,
                    "subtotal_minor": sub.subtotal,
                    "vat_rate_bp": sub.vat_bp,
                    "vat_minor": sub.vat,
                    "reverse_charge": sub.reverse_charge,
                    "vat_number": acct.vat_number,
                    "credit_applied_minor": 0,
                    "total_minor": total_minor,
                    "paid_minor": total_minor if is_paid else 0,
                    "status": "paid" if is_paid else "open",
                    "language": acct.language,
                    "po_number": acct.po_number,
                    "disputed_at": None,
                    "dispute_note": None,
                    "version": 1,
                }
            )
            for position, (kind, text, qty, unit, amount) in enumerate(sub.lines, start=1):
                line_rows.append(
                    {
                        "id": ids["line"],
                        "invoice_id": invoice_id,
                        "position": position,
                        "kind": kind,
                        "description": text,
                        "subscription_id": sub.sub_id,
                        "period_start": issue,
                        "period_end": end,
                        "quantity": qty,
                        "unit_price_minor": unit,
                        "amount_minor": amount,
                    }
                )
                ids["line"] += 1
            if is_paid:
                assert paid_on is not None
                pay_rows.append(
                    {
                        "id": ids["payment"],
                        "account_id": acct.id,
                        "invoice_id": invoice_id,
                        "payment_method_id": acct.method_id if acct.pay_mode == "card" else None,
                        "currency": acct.currency,
                        "amount_minor": total_minor,
                        "received_at": datetime.combine(paid_on, datetime.min.time()),
                        "method_summary": acct.method_summary
                        if acct.pay_mode == "card"
                        else "bank transfer",
                        "reference": "",
                    }
                )
                ids["payment"] += 1
            else:
                acct.outstanding += total_minor
                if acct.oldest_due is None or due < acct.oldest_due:
                    acct.oldest_due = due
            if len(inv_rows) >= 20000:
                self._write_invoices(conn, inv_rows, line_rows, pay_rows)
                self.progress.update("Writing invoice history", done, total)
        self._write_invoices(conn, inv_rows, line_rows, pay_rows)
        self.progress.update("Writing invoice history", total, total)
        if renumbered:
            from sqlalchemy import bindparam

            table = Invoice.__table__
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(number=bindparam("b_number")),
                renumbered,
            )
        session = Session(bind=conn)
        for year, following in next_in_year.items():
            series = session.get(InvoiceSeries, f"INV-{year}")
            if series is None:
                session.add(InvoiceSeries(prefix=f"INV-{year}", next_number=following))
            else:
                series.next_number = following
        session.flush()
        session.close()

    def _write_invoices(
        self,
        conn: Any,
        inv_rows: list[dict[str, Any]],
        line_rows: list[dict[str, Any]],
        pay_rows: list[dict[str, Any]],
    ) -> None:
        if inv_rows:
            bulk_insert(conn, Invoice.__table__, inv_rows)
            bulk_insert(conn, InvoiceLine.__table__, line_rows)
        if pay_rows:
            bulk_insert(conn, Payment.__table__, pay_rows)
        inv_rows.clear()
        line_rows.clear()
        pay_rows.clear()
        self._check()


_POSTAL_LETTERS = "ABDEFGHJLNPRSTUWXYZ"


def _postal_code(rng: random.Random, city: dict[str, Any]) -> str:
    """A postal code from the city's patterns: ``#`` a digit, ``?`` a letter."""
    pattern = str(rng.choice(city.get("postal_codes") or [""]))
    return "".join(
        str(rng.randrange(10)) if ch == "#" else rng.choice(_POSTAL_LETTERS) if ch == "?" else ch
        for ch in pattern
    )


def add_months_fast(anchor: date, months: int) -> date:
    """``anchor + months`` calendar months, clamping the day to the month's end.

    The same rule as the domain's ``add_months`` (relativedelta), without its
    overhead, for the bulk generator; a test checks the two always agree.
    """
    month_index = anchor.month - 1 + months
    year = anchor.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(anchor.day, monthrange(year, month)[1]))


def generate_accounts(
    db: Database,
    count: int,
    seed: int,
    today: date,
    progress: Progress | None = None,
    *,
    fresh_database: bool = False,
) -> GenerationSummary:
    """Add ``count`` generated accounts with their history, in one transaction.

    Generated invoices are merged with the invoices already in ``db`` into one
    chronological numbering, which *renumbers* those invoices. That is only
    allowed on a database the demo build has just created and filled with the
    curated data (``fresh_database=True``, passed by :func:`build_demo_database`
    alone); a database with invoices is refused otherwise.
    """
    if not fresh_database:
        with db.sessions() as session:
            if session.scalar(select(Invoice.id).limit(1)) is not None:
                raise ValueError(
                    f"{db.target.display_name()} already holds invoices; generated accounts "
                    "are only added while building a new demo database"
                )
    generator = _Generator(db, count, seed, today, progress or Progress())
    generator.fresh_database = fresh_database
    ensure_catalog(db, generator.catalog)
    with db.sessions() as session:
        catalog_ids = _catalog_ids(session)
    with db.engine.begin() as conn:
        generator.run(conn, catalog_ids)
        # the generator chose the ids itself
        sync_id_sequences(
            conn,
            [
                model.__table__
                for model in (
                    Account, Contact, PaymentMethod, Subscription, Invoice, InvoiceLine,
                    Payment, Operator,
                )
            ],
        )  # fmt: skip
    return generator.summary


def build_demo_database(
    target: DatabaseTarget,
    accounts: int = 0,
    seed: int = 1,
    today: date | None = None,
    progress: Progress | None = None,
) -> GenerationSummary:
    """Create a demo database at ``target``: curated scenarios plus ``accounts`` generated.

    Refuses a database that already holds accounts (checked before any work),
    so a real database is never mixed with demo data.

    For an SQLite file the build is all-or-nothing: everything is written to
    ``<name>.building-<pid>`` in the target's folder, checkpointed and closed,
    and only then moved onto the target with ``os.replace``. A failed or
    cancelled build (:class:`Cancelled`) removes that file with its -wal/-shm
    and leaves the target as it was (absent, or the empty database it was), so
    a retry starts clean. A server database is filled in place, as before:
    curated data and generated accounts in two transactions.
    """
    started = time.perf_counter()
    today = today or date.today()
    if target.is_sqlite and target.path is not None:
        summary = _build_sqlite_file(target, target.path, accounts, seed, today, progress)
    else:
        db = open_database(target)
        try:
            _refuse_accounts(db)
            summary = _fill_demo(db, accounts, seed, today, progress)
        finally:
            db.dispose()
    summary.seconds = time.perf_counter() - started
    summary.path = target.display_name()
    return summary


def _refuse_accounts(db: Database) -> None:
    if not db.is_empty():
        raise FileExistsError(
            f"{db.target.display_name()} already holds accounts; "
            "choose a new file for the demo database"
        )


def _fill_demo(
    db: Database, accounts: int, seed: int, today: date, progress: Progress | None
) -> GenerationSummary:
    """Curated data then ``accounts`` generated ones into ``db``, which holds no accounts."""
    curated = load_curated(db, today)
    summary = GenerationSummary(curated=curated, accounts=curated)
    if accounts:
        # The guard for renumbering existing invoices: ``db`` held no accounts
        # (checked by the caller), so its only invoices are the curated ones
        # load_curated has just written in this same build.
        generated = generate_accounts(db, accounts, seed, today, progress, fresh_database=True)
        summary.accounts += generated.accounts
    with db.sessions() as session:
        summary.subscriptions = int(
            session.scalar(select(func.count()).select_from(Subscription)) or 0
        )
        summary.invoices = int(session.scalar(select(func.count()).select_from(Invoice)) or 0)
    return summary


_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _remove_side_files(path: Path) -> None:
    """Delete the WAL, shared-memory and rollback-journal files of an SQLite file."""
    for suffix in _SQLITE_SIDE_FILES:
        _unlink(path.with_name(path.name + suffix))


def _remove_sqlite_files(path: Path) -> None:
    """Delete an SQLite file and its side files."""
    _unlink(path)
    _remove_side_files(path)


def _check_target_file(target: DatabaseTarget, path: Path) -> None:
    """Refuse an existing target file that holds accounts (or cannot be opened)."""
    if not path.exists():
        return
    db = open_database(target, create=False)
    try:
        _refuse_accounts(db)
    finally:
        db.dispose()


def _build_sqlite_file(
    target: DatabaseTarget,
    path: Path,
    accounts: int,
    seed: int,
    today: date,
    progress: Progress | None,
) -> GenerationSummary:
    _check_target_file(target, path)
    building = path.with_name(f"{path.name}.building-{os.getpid()}")
    _remove_sqlite_files(building)  # left over by a crashed build of a process with our pid
    temp_target = dataclasses.replace(target, path=building)
    try:
        db = open_database(temp_target)
        try:
            summary = _fill_demo(db, accounts, seed, today, progress)
        finally:
            db.dispose()
        _compact(building)  # ANALYZE, fold the WAL into the file, close
        _sync_file(building)
        _check_target_file(target, path)  # still free after the (possibly long) build?
        # All connections are closed and the WAL is folded in, so the temp file's
        # side files are empty; stale ones of the (empty) database being replaced
        # would be applied to the new file when it is next opened.
        _remove_side_files(building)
        _remove_side_files(path)
        os.replace(building, path)
        _sync_dir(path.parent)
    except BaseException:
        _remove_sqlite_files(building)
        raise
    return summary


def _sync_file(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def _sync_dir(folder: Path) -> None:
    """Make the rename durable where the platform allows syncing a folder (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _compact(path: Path) -> None:
    """Gather statistics for the query planner and fold the WAL into the file."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("ANALYZE")
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def ensure_demo(db: Database, today: date) -> bool:
    """Load the curated data into an empty database; True if it did."""
    if not db.is_empty():
        return False
    load_curated(db, today)
    return True
