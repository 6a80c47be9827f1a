"""Account overview, edits (validation, optimistic locking, audit) and the quick search service."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from billing_desktop.services.accounts import (
    AccountChanges,
    SearchMatch,
    account_edit_choices,
    account_overview,
    change_errors,
    quick_search,
    update_account,
)
from billing_desktop.services.errors import (
    ConflictError,
    PermissionDenied,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.store.models import Account, AuditEntry


def _audit(db, account_id: int) -> list[AuditEntry]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.account_id == account_id, AuditEntry.action == "account.updated")
                .order_by(AuditEntry.id)
            )
        )


def _account(db, number: str) -> Account:
    with db.sessions() as session:
        return session.scalar(select(Account).where(Account.account_number == number))


def test_overview_shows_data_balances_contacts_and_version(demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    assert (ov.account_number, ov.company_name, ov.type) == (
        "A-100005", "Van der Berg Techniek B.V.", "standard",
    )  # fmt: skip
    assert (ov.city, ov.postal_code, ov.country, ov.language, ov.currency) == (
        "Utrecht", "3511 AV", "NL", "nl", "EUR",
    )  # fmt: skip
    assert ov.vat_number == "NL669247704B01"
    assert ov.outstanding_minor == 51200 and not ov.overdue  # due 2026-05-05
    assert ov.display_status == "active"
    overdue = account_overview(demo_ctx, "A-100009")
    assert overdue.overdue and overdue.display_status == "overdue"
    assert ov.autopay is False
    assert ov.currency_locked  # it has invoices
    billing = [c for c in ov.contacts if c.is_billing_contact]
    assert [(c.name, c.roles) for c in billing] == [("Sanne de Vries", ("billing_admin",))]
    assert ov.default_payment_method is not None
    assert (ov.default_payment_method.brand, ov.default_payment_method.last4) == (
        "mastercard", "5100",
    )  # fmt: skip
    assert ov.version == _account(demo_ctx.db, "A-100005").version
    corporate = account_overview(demo_ctx, "A-100016")
    assert corporate.type == "corporate" and corporate.representative


def test_update_writes_changes_keeps_search_name_and_audits(demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    fresh = update_account(
        demo_ctx,
        ov.id,
        AccountChanges(company_name="  Van der Berg   Tech B.V. ", city="Amersfoort"),
        expected_version=ov.version,
    )
    assert fresh.company_name == "Van der Berg Tech B.V."
    assert fresh.city == "Amersfoort"
    assert fresh.version == ov.version + 1
    stored = _account(demo_ctx.db, "A-100005")
    assert stored.search_name == "van der berg tech b.v."
    assert stored.city == "Amersfoort"
    [entry] = _audit(demo_ctx.db, ov.id)
    assert json.loads(entry.before_json) == {
        "city": "Utrecht", "company_name": "Van der Berg Techniek B.V.",
    }  # fmt: skip
    assert json.loads(entry.after_json) == {
        "city": "Amersfoort", "company_name": "Van der Berg Tech B.V.",
    }  # fmt: skip
    assert entry.operator_id == demo_ctx.operator.id
    # the quick search finds it under its new name at once
    assert [h.account_number for h in quick_search(demo_ctx, "van der berg tech")] == ["A-100005"]


def test_unchanged_values_write_nothing(demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    same = update_account(
        demo_ctx, ov.id, AccountChanges(city="Utrecht", vat_number=ov.vat_number),
        expected_version=ov.version,
    )  # fmt: skip
    assert same.version == ov.version
    assert _audit(demo_ctx.db, ov.id) == []


def test_conflict_when_the_version_changed_and_nothing_is_written(demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    update_account(demo_ctx, ov.id, AccountChanges(region="UT"), expected_version=ov.version)
    with pytest.raises(ConflictError) as info:
        update_account(demo_ctx, ov.id, AccountChanges(city="Zeist"), expected_version=ov.version)
    assert info.value.code == "changed_elsewhere"
    stored = _account(demo_ctx.db, "A-100005")
    assert (stored.city, stored.region) == ("Utrecht", "UT")
    assert len(_audit(demo_ctx.db, ov.id)) == 1


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        (AccountChanges(vat_number="NL123"), "vat_invalid_format", "vat_number"),
        (AccountChanges(vat_number="NL669247705B01"), "vat_invalid_checksum", "vat_number"),
        (AccountChanges(vat_number="DE136695976"), "vat_wrong_country", "vat_number"),
        # the stored NL number does not fit a German billing address
        (AccountChanges(country="DE"), "vat_wrong_country", "vat_number"),
        (AccountChanges(country="Netherlands"), "country_invalid", "country"),
        (AccountChanges(company_name="   "), "company_name_required", "company_name"),
        (AccountChanges(city=""), "city_required", "city"),
        (AccountChanges(postal_code="1" * 21), "field_too_long", "postal_code"),
        (AccountChanges(type="premium"), "account_type_invalid", "type"),
    ],
)
def test_invalid_values_are_refused(demo_ctx, changes, code, field) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    errors = change_errors(ov, changes)
    assert errors[field].code == code
    with pytest.raises(ValidationError) as info:
        update_account(demo_ctx, ov.id, changes, expected_version=ov.version)
    assert info.value.code == code
    assert info.value.params["field"] == field
    assert _account(demo_ctx.db, "A-100005").version == ov.version


def test_vat_number_is_stored_compact_and_can_be_cleared(demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    fresh = update_account(
        demo_ctx, ov.id, AccountChanges(vat_number="nl 6692.47704.B01 "),
        expected_version=ov.version,
    )  # fmt: skip
    assert fresh.vat_number == "NL669247704B01"
    assert fresh.version == ov.version  # the same number: nothing changed
    cleared = update_account(
        demo_ctx, ov.id, AccountChanges(vat_number=""), expected_version=ov.version
    )
    assert cleared.vat_number is None
    assert _account(demo_ctx.db, "A-100005").vat_number is None


def test_country_and_vat_number_change_together(demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    fresh = update_account(
        demo_ctx, ov.id, AccountChanges(country="de", vat_number="DE136695976"),
        expected_version=ov.version,
    )  # fmt: skip
    assert (fresh.country, fresh.vat_number) == ("DE", "DE136695976")


def test_untouched_invalid_stored_value_does_not_block_other_edits(demo_ctx) -> None:
    with demo_ctx.db.transaction() as session:
        session.scalar(select(Account).where(Account.account_number == "A-100003")).postal_code = ""
    ov = account_overview(demo_ctx, "A-100003")
    fresh = update_account(
        demo_ctx, ov.id, AccountChanges(city="Salerno"), expected_version=ov.version
    )
    assert fresh.city == "Salerno"


def test_currency_changes_only_without_invoices(demo_ctx) -> None:
    locked = account_overview(demo_ctx, "A-100005")
    with pytest.raises(PolicyViolation) as info:
        update_account(
            demo_ctx, locked.id, AccountChanges(currency="USD"), expected_version=locked.version
        )
    assert info.value.code == "currency_locked"
    free = account_overview(demo_ctx, "A-100003")
    assert not free.currency_locked
    assert (
        update_account(
            demo_ctx, free.id, AccountChanges(currency="USD"), expected_version=free.version
        ).currency
        == "USD"
    )
    with pytest.raises(ValidationError) as info:
        update_account(
            demo_ctx, free.id, AccountChanges(currency="JPY"), expected_version=free.version + 1
        )
    assert info.value.code == "currency_not_in_catalog"


def test_language_must_be_a_document_language(demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100005")
    with pytest.raises(ValidationError):
        update_account(demo_ctx, ov.id, AccountChanges(language="xx"), expected_version=ov.version)
    assert (
        update_account(
            demo_ctx, ov.id, AccountChanges(language="en"), expected_version=ov.version
        ).language
        == "en"
    )


def test_type_changes(demo_ctx) -> None:
    autopay = account_overview(demo_ctx, "A-100001")
    with pytest.raises(PolicyViolation) as info:
        update_account(
            demo_ctx, autopay.id, AccountChanges(type="corporate"), expected_version=autopay.version
        )
    assert info.value.code == "corporate_autopay"
    manual = account_overview(demo_ctx, "A-100003")  # autopay off
    assert (
        update_account(
            demo_ctx, manual.id, AccountChanges(type="corporate"), expected_version=manual.version
        ).type
        == "corporate"
    )
    corporate = account_overview(demo_ctx, "A-100016")
    fresh = update_account(
        demo_ctx, corporate.id, AccountChanges(type="standard"),
        expected_version=corporate.version,
    )  # fmt: skip
    assert (fresh.type, fresh.representative_id, fresh.representative) == ("standard", None, None)
    [entry] = _audit(demo_ctx.db, corporate.id)
    assert json.loads(entry.before_json) == {
        "type": "corporate", "representative_id": corporate.representative_id,
    }  # fmt: skip


def test_permissions(as_role, demo_ctx) -> None:
    ov = account_overview(demo_ctx, "A-100016")
    viewer = as_role("viewer")
    assert ov.can_edit
    assert account_overview(viewer, "A-100016").id == ov.id  # reading is allowed
    assert not account_overview(viewer, "A-100016").can_edit
    with pytest.raises(PermissionDenied):
        update_account(viewer, ov.id, AccountChanges(city="Gent"), expected_version=ov.version)
    rep = as_role("representative")  # not the account's representative
    with pytest.raises(PermissionDenied):
        update_account(rep, ov.id, AccountChanges(city="Gent"), expected_version=ov.version)
    assert _account(demo_ctx.db, "A-100016").city == "Antwerpen"
    assert _audit(demo_ctx.db, ov.id) == []


def test_edit_choices(demo_ctx) -> None:
    choices = account_edit_choices(demo_ctx)
    assert {"IT", "NL", "GB", "US", "DE"} <= set(choices.countries)
    assert choices.languages == ("en", "it", "nl", "es", "de", "fr")
    assert set(choices.currencies) == {"EUR", "USD", "GBP"}


def test_quick_search_service_finds_by_every_key(demo_ctx) -> None:
    by_email = quick_search(demo_ctx, "sanne.devries@")
    assert [(h.account_number, h.matched) for h in by_email] == [
        ("A-100005", SearchMatch.CONTACT_EMAIL)
    ]
    assert quick_search(demo_ctx, "a-100005")[0].matched is SearchMatch.ACCOUNT_ID
    assert quick_search(demo_ctx, "") == []
    assert quick_search(demo_ctx, "a", limit=0) == []
    assert len(quick_search(demo_ctx, "a-1000", limit=5)) == 5
