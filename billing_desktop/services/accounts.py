"""Account use cases: the accounts list, the quick search, an account's overview and its edits.

The list and the quick search read through the store's plain SQL (no ORM, so
the window paints before SQLAlchemy is imported); everything else here imports
the ORM lazily, on first use. The list lives in
:mod:`billing_desktop.services.account_list` (re-exported here): the main
window's first paint imports only that much.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.account_list import (
    AccountFilter,
    AccountRow,
    AccountSort,
    count_accounts,
    filter_choices,
    list_accounts,
)
from billing_desktop.services.context import AppContext
from billing_desktop.store import search_queries
from billing_desktop.store.search_queries import SearchHit, SearchMatch

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account

__all__ = [
    "ACCOUNT_TYPES",
    "EDITABLE_FIELDS",
    "LANGUAGES",
    "MAX_LENGTHS",
    "REQUIRED_FIELDS",
    "AccountChanges",
    "AccountFilter",
    "AccountOverview",
    "AccountRow",
    "AccountSort",
    "ContactInfo",
    "EditChoices",
    "PaymentMethodBrief",
    "SearchHit",
    "SearchMatch",
    "account_edit_choices",
    "account_overview",
    "change_errors",
    "count_accounts",
    "filter_choices",
    "list_accounts",
    "quick_search",
    "update_account",
]


# --------------------------------------------------------------------------- quick search


def quick_search(ctx: AppContext, text: str, limit: int = 20) -> list[SearchHit]:
    """Accounts found by account ID, company name, contact name or email, or invoice number.

    Answered by index range scans only (see ``store.search_queries.quick_search_sql``),
    one hit per account, best first: an exact account ID or invoice number
    before prefixes, companies and contacts.
    """
    if limit < 1:
        return []
    return search_queries.quick_search(ctx.db.reader, text, limit)


# --------------------------------------------------------------------------- overview


#: Languages customer documents are written in (SPEC §7), in menu order.
LANGUAGES = ("en", "it", "nl", "es", "de", "fr")
ACCOUNT_TYPES = ("standard", "corporate")

#: The fields the Overview tab edits, in form order.
EDITABLE_FIELDS = (
    "company_name",
    "type",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "vat_number",
    "language",
    "currency",
)
#: Fields that may not be left empty.
REQUIRED_FIELDS = frozenset(
    {
        "company_name", "type", "address_line1", "postal_code", "city", "country", "language",
        "currency",
    }
)
#: Column sizes (``store.models.Account``).
MAX_LENGTHS = {
    "company_name": 200,
    "address_line1": 200,
    "address_line2": 200,
    "postal_code": 20,
    "city": 100,
    "region": 100,
    "vat_number": 30,
}


@dataclass(frozen=True, slots=True)
class ContactInfo:
    """A contact as the Overview lists it."""

    id: int
    name: str
    email: str
    #: among super_admin, billing_admin, product_admin, user
    roles: tuple[str, ...]
    is_billing_contact: bool


@dataclass(frozen=True, slots=True)
class PaymentMethodBrief:
    """The default payment method, never more than brand, last four digits and expiry."""

    kind: str  # card | bank_account | invoice
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True, slots=True)
class AccountOverview:
    """Everything the account page's header and Overview tab show, plus the version read."""

    id: int
    account_number: str
    company_name: str
    type: str  # standard | corporate
    status: str  # active | expired | closed
    #: an open invoice is past its due date
    overdue: bool
    country: str
    language: str
    currency: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    region: str
    vat_number: str | None
    credit_balance_minor: int
    outstanding_minor: int
    autopay: bool
    payment_terms_days: int | None
    representative_id: int | None
    representative: str | None
    default_payment_method: PaymentMethodBrief | None
    contacts: tuple[ContactInfo, ...]
    #: the currency can no longer change: invoices (or credit) exist in it
    currency_locked: bool
    #: the optimistic-locking version: pass it back to :func:`update_account`
    version: int
    #: the operator may edit the account (SPEC §6); the fields are read-only otherwise
    can_edit: bool = True

    def value(self, name: str) -> str:
        """An editable field's value as the form holds it (``None`` VAT number → "")."""
        if name not in EDITABLE_FIELDS:
            raise KeyError(name)
        return getattr(self, name) or ""

    @property
    def display_status(self) -> str:
        """The status as the accounts list shows it: "overdue" wins over "active"."""
        return "overdue" if self.overdue else self.status


@dataclass(frozen=True, slots=True)
class EditChoices:
    """What the Overview's choice fields offer."""

    countries: tuple[str, ...]
    languages: tuple[str, ...]
    currencies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """Edited Overview fields; ``None`` leaves a field unchanged (``""`` clears an optional one)."""

    company_name: str | None = None
    type: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    vat_number: str | None = None
    language: str | None = None
    currency: str | None = None

    def items(self) -> dict[str, str]:
        """The fields given, stripped of surrounding blanks."""
        return {
            f.name: " ".join(value.split()) if f.name == "company_name" else value.strip()
            for f in fields(self)
            if (value := getattr(self, f.name)) is not None
        }


def _required(name: str) -> ValidationError:
    messages = {
        "company_name": QT_TRANSLATE_NOOP("ServiceError", "Enter the company name."),
        "type": QT_TRANSLATE_NOOP("ServiceError", "Choose the account type."),
        "address_line1": QT_TRANSLATE_NOOP("ServiceError", "Enter the street address."),
        "postal_code": QT_TRANSLATE_NOOP("ServiceError", "Enter the postal code."),
        "city": QT_TRANSLATE_NOOP("ServiceError", "Enter the city."),
        "country": QT_TRANSLATE_NOOP("ServiceError", "Choose the country."),
        "language": QT_TRANSLATE_NOOP("ServiceError", "Choose the language."),
        "currency": QT_TRANSLATE_NOOP("ServiceError", "Choose the currency."),
    }
    return ValidationError(f"{name}_required", messages[name], field=name)


def _field_error(name: str, value: str, country: str) -> ValidationError | None:
    from billing_desktop.domain.tax import normalise_country, validate_vat_number

    if not value:
        return _required(name) if name in REQUIRED_FIELDS else None
    limit = MAX_LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        return ValidationError(
            "field_too_long",
            QT_TRANSLATE_NOOP("ServiceError", "This field is longer than {max} characters."),
            field=name,
            max=limit,
        )
    try:
        if name == "country":
            normalise_country(value)
        elif name == "vat_number":
            validate_vat_number(country, value)
    except ValidationError as err:
        err.params.setdefault("field", name)
        return err
    if name == "type" and value not in ACCOUNT_TYPES:
        return ValidationError(
            "account_type_invalid",
            QT_TRANSLATE_NOOP("ServiceError", "{value} is not an account type."),
            field=name,
            value=value,
        )
    return None


def change_errors(
    original: AccountOverview | Mapping[str, str], changes: AccountChanges
) -> dict[str, ValidationError]:
    """What is wrong with ``changes`` to an account whose fields are ``original``.

    Pure (no database): the Overview calls it as the user types, and
    :func:`update_account` calls it before writing. Only changed fields are
    checked — a stored value that is no longer valid does not block other
    edits — except the VAT number, which is checked again when the country changes.
    """
    current = (
        {name: original.value(name) for name in EDITABLE_FIELDS}
        if isinstance(original, AccountOverview)
        else {name: original.get(name) or "" for name in EDITABLE_FIELDS}
    )
    changed = {k: v for k, v in changes.items().items() if v != current[k]}
    effective = {**current, **changed}
    to_check = list(changed)
    if "country" in changed and "vat_number" not in changed and effective["vat_number"]:
        to_check.append("vat_number")
    errors: dict[str, ValidationError] = {}
    for name in to_check:
        country = effective["country"] if name == "vat_number" else ""
        if name == "vat_number" and "country" in errors:
            continue
        err = _field_error(name, effective[name], country.strip().upper())
        if err is not None:
            errors[name] = err
    return errors


def _today(ctx: AppContext) -> date:
    return ctx.clock.today()


def _overview(
    session: Session, account: Account, today: date, *, can_edit: bool = True
) -> AccountOverview:
    from sqlalchemy import select

    from billing_desktop.store.models import Invoice

    has_invoices = (
        session.scalar(select(Invoice.id).where(Invoice.account_id == account.id).limit(1))
        is not None
    )
    method = next((m for m in account.payment_methods if m.is_default), None)
    return AccountOverview(
        id=account.id,
        account_number=account.account_number,
        company_name=account.company_name,
        type=account.type,
        status=account.status,
        overdue=account.oldest_due_date is not None and account.oldest_due_date < today,
        country=account.country,
        language=account.language,
        currency=account.currency,
        address_line1=account.address_line1 or "",
        address_line2=account.address_line2 or "",
        postal_code=account.postal_code or "",
        city=account.city or "",
        region=account.region or "",
        vat_number=account.vat_number or None,
        credit_balance_minor=account.credit_balance_minor,
        outstanding_minor=account.outstanding_minor,
        autopay=account.autopay,
        payment_terms_days=account.payment_terms_days,
        representative_id=account.representative_id,
        representative=account.representative.name if account.representative else None,
        default_payment_method=(
            PaymentMethodBrief(
                method.kind, method.brand, method.last4, method.exp_month, method.exp_year
            )
            if method is not None
            else None
        ),
        contacts=tuple(
            ContactInfo(
                id=c.id,
                name=c.full_name,
                email=c.email,
                roles=tuple(r for r in c.roles.split(",") if r),
                is_billing_contact=c.is_billing_contact,
            )
            for c in account.contacts
        ),
        currency_locked=has_invoices or account.credit_balance_minor != 0,
        version=account.version,
        can_edit=can_edit,
    )


def account_overview(ctx: AppContext, account_id: int | str) -> AccountOverview:
    """The account's data, balances, contacts and the version to edit it against."""
    from billing_desktop.services.auth import Action, authorize
    from billing_desktop.services.base import get_account, reading
    from billing_desktop.services.errors import PermissionDenied

    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        try:
            authorize(ctx, Action.EDIT_ACCOUNT, account)
        except PermissionDenied:
            can_edit = False
        else:
            can_edit = True
        return _overview(session, account, _today(ctx), can_edit=can_edit)


def account_edit_choices(ctx: AppContext) -> EditChoices:
    """Countries with VAT rules, document languages and the catalog's currencies."""
    from billing_desktop.services.invoicing import vat_rates

    rates = vat_rates()
    countries = tuple(sorted(set(rates.rates) | set(rates.eu_countries)))
    currencies = tuple(
        str(r[0])
        for r in ctx.db.reader.rows("SELECT DISTINCT currency FROM plan_prices ORDER BY 1")
    )
    return EditChoices(countries=countries, languages=LANGUAGES, currencies=currencies)


def _check_choices(ctx: AppContext, account: Account, values: dict[str, str], locked: bool) -> None:
    """Rules that need the database or the account, after the field checks."""
    from billing_desktop.services.errors import PolicyViolation

    if "language" in values and values["language"] not in LANGUAGES:
        raise ValidationError(
            "language_unsupported",
            QT_TRANSLATE_NOOP("ServiceError", "Documents cannot be written in {language}."),
            field="language",
            language=values["language"],
        )
    if "currency" in values:
        if locked:
            raise PolicyViolation(
                "currency_locked",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "The currency of account {account} cannot change: it already has "
                    "invoices or credit in {currency}.",
                ),
                account=account.account_number,
                currency=account.currency,
            )
        if values["currency"] not in account_edit_choices(ctx).currencies:
            raise ValidationError(
                "currency_not_in_catalog",
                QT_TRANSLATE_NOOP("ServiceError", "The catalog has no prices in {currency}."),
                field="currency",
                currency=values["currency"],
            )
    if values.get("type") == "corporate" and account.autopay:
        raise PolicyViolation(
            "corporate_autopay",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Corporate accounts pay by invoice: turn autopay off for account {account} "
                "(Payment methods) before making it a corporate account.",
            ),
            account=account.account_number,
        )


def update_account(
    ctx: AppContext, account_id: int | str, changes: AccountChanges, *, expected_version: int
) -> AccountOverview:
    """Save the Overview's edits in one transaction and return the fresh overview.

    Raises :class:`ConflictError` when the account changed since
    ``expected_version`` was read (nothing is written), ``PermissionDenied``
    for an operator who may not edit it, ``ValidationError`` for a bad value
    (its ``params["field"]`` names the field) and ``PolicyViolation`` for a
    currency that can no longer change or a corporate account with autopay on.

    The folded ``search_name`` follows the company name; a standard account
    has no representative, so making an account standard unassigns it. The
    audit entry holds the changed fields before and after.
    """
    from billing_desktop.services import audit
    from billing_desktop.services.auth import Action, authorize
    from billing_desktop.services.base import get_account, writing
    from billing_desktop.store.search import fold

    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The account")) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.EDIT_ACCOUNT, account)
        today = _today(ctx)
        original = _overview(session, account, today)
        errors = change_errors(original, changes)
        if errors:
            raise next(iter(errors.values()))
        values = {
            name: value for name, value in changes.items().items() if value != original.value(name)
        }
        if "country" in values:
            values["country"] = values["country"].upper()
        if "vat_number" in values or ("country" in values and original.vat_number):
            from billing_desktop.domain.tax import validate_vat_number

            number = values.get("vat_number", original.vat_number or "")
            country = values.get("country", original.country)
            values["vat_number"] = validate_vat_number(country, number) if number else ""
        _check_choices(ctx, account, values, original.currency_locked)
        new_values: dict[str, Any] = {
            name: (value or None) if name == "vat_number" else value
            for name, value in values.items()
        }
        if new_values.get("type") == "standard" and account.representative_id is not None:
            new_values["representative_id"] = None
        new_values = {k: v for k, v in new_values.items() if getattr(account, k) != v}
        if not new_values:
            return original
        before = {name: getattr(account, name) for name in new_values}
        for name, value in new_values.items():
            setattr(account, name, value)
        if "company_name" in new_values:
            account.search_name = fold(account.company_name)
        session.flush()
        if "representative_id" in new_values:
            session.expire(account, ["representative"])
        audit.record(session, ctx, "account.updated", account.id, before, new_values)
        return _overview(session, account, today)
