"""The administrator's operators screen, as services (issue 8 item 2; SPEC §6).

Creating operators, changing roles, disabling and enabling, resetting
passwords, assigning representatives to corporate accounts — administrators
only, each audited, each guarded by the version the screen showed, and never
leaving the database without an active administrator.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import datetime

import argon2
import pytest
from helpers import dump

from billing_desktop.domain.errors import PolicyViolation, ValidationError
from billing_desktop.services import operator_admin as admin
from billing_desktop.services.context import AppContext, OperatorInfo
from billing_desktop.services.errors import ConflictError, NotFound, PermissionDenied
from billing_desktop.services.signin import (
    OperatorDisabled,
    WrongCredentials,
    hash_password,
    sign_in,
)
from billing_desktop.store.models import Operator

NOW = datetime(2026, 4, 26, 9, 30)
PASSWORD = "lantern orchard quietly 42"
NEW_PASSWORD = "copper kettle whistles 7"


@functools.cache
def hashed(password: str) -> str:
    """One real Argon2id hash per password for the whole module (hashing takes a moment)."""
    return hash_password(password)


def add_operator(db, email: str, role: str, *, active: bool = True, password=PASSWORD) -> int:
    with db.transaction() as session:
        op = Operator(
            email=email, name=email.split("@")[0].replace(".", " ").title(), role=role,
            active=active, created_at=datetime(2026, 1, 5),
            password_hash=hashed(password) if password else None,
        )  # fmt: skip
        session.add(op)
        session.flush()
        return op.id


def acting(ctx: AppContext, operator_id: int) -> AppContext:
    """``ctx`` with the operator ``operator_id`` acting."""
    email, name, role = ctx.db.reader.rows(
        "SELECT email, name, role FROM operators WHERE id = :i", {"i": operator_id}
    )[0]
    return dataclasses.replace(ctx, operator=OperatorInfo(operator_id, email, name, role))


def audit(db) -> list[tuple]:
    rows = db.reader.rows(
        "SELECT action, operator_id, account_id, before_json, after_json FROM audit_entries "
        "ORDER BY id"
    )
    return [
        (a, o, acc, json.loads(b) if b else None, json.loads(j) if j else None)
        for a, o, acc, b, j in rows
    ]


def row_of(ctx: AppContext, operator_id: int) -> admin.OperatorRow:
    return next(op for op in admin.list_operators(ctx) if op.id == operator_id)


# --------------------------------------------------------------------------- listing, creating


def test_the_list_shows_every_operator_by_name(ctx, make_account) -> None:
    rep = add_operator(ctx.db, "bruno.verdi@billing-desk.example", "representative")
    add_operator(ctx.db, "anna.neri@billing-desk.example", "viewer", active=False, password=None)
    make_account("Acme", type="corporate", representative_id=rep)
    make_account("Beta", type="corporate", representative_id=rep)

    rows = admin.list_operators(ctx)

    expected = [
        ("Anna Neri", "viewer", False, False, 0),
        ("Bruno Verdi", "representative", True, True, 2),
        (ctx.operator.name, "admin", True, False, 0),  # the local operator: no password
    ]
    assert [(r.name, r.role, r.active, r.can_sign_in, r.assigned_accounts) for r in rows] == (
        sorted(expected, key=lambda r: r[0].lower())
    )
    assert all(r.version == 1 and r.last_signed_in_at is None for r in rows)


def test_an_admin_creates_an_operator_who_can_sign_in(ctx) -> None:
    row = admin.create_operator(
        ctx, " carla.gialli@billing-desk.example ", "Carla  Gialli", "support", PASSWORD
    )

    assert (row.email, row.name, row.role, row.active, row.can_sign_in) == (
        "carla.gialli@billing-desk.example", "Carla Gialli", "support", True, True,
    )  # fmt: skip
    stored = ctx.db.reader.scalar(
        "SELECT password_hash FROM operators WHERE id = :i", {"i": row.id}
    )
    assert stored != PASSWORD and argon2.PasswordHasher().verify(stored, PASSWORD)
    assert row_of(ctx, row.id) == row
    assert audit(ctx.db) == [
        ("operator.created", ctx.operator.id, None, None,
         {"operator": "carla.gialli@billing-desk.example", "name": "Carla Gialli",
          "role": "support"}),
    ]  # fmt: skip
    assert sign_in(ctx.db, row.email, PASSWORD, now=NOW, sleep=lambda _s: None).id == row.id


@pytest.mark.parametrize(
    ("email", "name", "role", "password", "code", "field"),
    [
        ("bad address", "Carla", "support", PASSWORD, "operator_email_invalid", "email"),
        ("c@billing-desk.example", "", "support", PASSWORD, "operator_name_missing", "name"),
        ("c@billing-desk.example", "Carla", "owner", PASSWORD, "operator_role_unknown", "role"),
        ("c@billing-desk.example", "Carla", "support", "short", "password_too_short", "password"),
        ("taken@billing-desk.example", "Carla", "support", PASSWORD, "operator_email_taken",
         "email"),
        ("TAKEN@billing-desk.example", "Carla", "support", PASSWORD, "operator_email_taken",
         "email"),
    ],
)  # fmt: skip
def test_bad_values_create_nothing(ctx, email, name, role, password, code, field) -> None:
    add_operator(ctx.db, "taken@billing-desk.example", "viewer")
    before = dump(ctx.db)
    with pytest.raises(ValidationError) as err:
        admin.create_operator(ctx, email, name, role, password)
    assert (err.value.code, err.value.params["field"]) == (code, field)
    assert dump(ctx.db) == before


# --------------------------------------------------------------------------- roles


def test_an_admin_changes_a_role(ctx) -> None:
    op = add_operator(ctx.db, "dario@billing-desk.example", "viewer")
    version = row_of(ctx, op).version

    row = admin.change_role(ctx, op, "support", expected_version=version)

    assert (row.role, row.version) == ("support", version + 1)
    assert audit(ctx.db)[-1] == (
        "operator.role_changed", ctx.operator.id, None,
        {"operator": "dario@billing-desk.example", "role": "viewer"},
        {"operator": "dario@billing-desk.example", "role": "support"},
    )  # fmt: skip
    # the same role again changes nothing
    assert admin.change_role(ctx, op, "support") == row
    assert len(audit(ctx.db)) == 1


def test_the_last_active_admin_keeps_the_role(ctx) -> None:
    before = dump(ctx.db)
    with pytest.raises(PolicyViolation) as err:
        admin.change_role(ctx, ctx.operator.id, "support")
    assert err.value.code == "last_admin"
    assert str(err.value) == (
        f"{ctx.operator.name} is the last active administrator. Make another operator an "
        "administrator first."
    )
    assert dump(ctx.db) == before

    # a disabled administrator does not count
    other = add_operator(ctx.db, "old.admin@billing-desk.example", "admin", active=False)
    with pytest.raises(PolicyViolation):
        admin.change_role(ctx, ctx.operator.id, "support")
    # with another active administrator, one may step down
    admin.enable_operator(ctx, other)
    assert admin.change_role(ctx, ctx.operator.id, "support").role == "support"


def test_an_admin_who_was_demoted_meanwhile_is_refused(ctx) -> None:
    other = add_operator(ctx.db, "eva@billing-desk.example", "admin")
    eva = acting(ctx, other)
    admin.change_role(eva, ctx.operator.id, "viewer")  # someone else demoted us
    before = dump(ctx.db)

    with pytest.raises(PermissionDenied) as err:
        admin.change_role(ctx, other, "viewer")  # our context still says admin
    assert err.value.code == "no_longer_admin"
    assert dump(ctx.db) == before


# --------------------------------------------------------------------------- disable / enable


def test_a_disabled_operator_cannot_sign_in_until_enabled(ctx) -> None:
    op = add_operator(ctx.db, "fabio@billing-desk.example", "support")
    version = row_of(ctx, op).version

    row = admin.disable_operator(ctx, op, expected_version=version)
    assert (row.active, row.version) == (False, version + 1)
    with pytest.raises(OperatorDisabled):
        sign_in(ctx.db, "fabio@billing-desk.example", PASSWORD, now=NOW, sleep=lambda _s: None)

    row = admin.enable_operator(ctx, op, expected_version=row.version)
    assert row.active
    assert sign_in(ctx.db, "fabio@billing-desk.example", PASSWORD, now=NOW, sleep=lambda _s: None)
    assert [(a, b, j) for a, _o, _acc, b, j in audit(ctx.db) if a.startswith("operator.")] == [
        ("operator.disabled", {"operator": "fabio@billing-desk.example", "active": True},
         {"operator": "fabio@billing-desk.example", "active": False}),
        ("operator.enabled", {"operator": "fabio@billing-desk.example", "active": False},
         {"operator": "fabio@billing-desk.example", "active": True}),
    ]  # fmt: skip


def test_an_admin_cannot_disable_themselves(ctx) -> None:
    add_operator(ctx.db, "eva@billing-desk.example", "admin")
    before = dump(ctx.db)
    with pytest.raises(PolicyViolation) as err:
        admin.disable_operator(ctx, ctx.operator.id)
    assert err.value.code == "disable_self"
    assert str(err.value) == "You cannot disable yourself; another administrator can."
    assert dump(ctx.db) == before


def test_a_stale_version_is_a_conflict_and_changes_nothing(ctx) -> None:
    op = add_operator(ctx.db, "gina@billing-desk.example", "support")
    shown = row_of(ctx, op)
    eva = acting(ctx, add_operator(ctx.db, "eva@billing-desk.example", "admin"))
    admin.change_role(eva, op, "viewer", expected_version=shown.version)  # the other admin
    before = dump(ctx.db)

    for call in (
        lambda: admin.disable_operator(ctx, op, expected_version=shown.version),
        lambda: admin.change_role(ctx, op, "admin", expected_version=shown.version),
        lambda: admin.reset_password(ctx, op, NEW_PASSWORD, expected_version=shown.version),
    ):
        with pytest.raises(ConflictError) as err:
            call()
        # named after the audit trail: who changed the operator last, and when
        assert err.value.params["what"] == "gina@billing-desk.example"
        assert err.value.params["changed_by"] == "Eva"
        assert err.value.params["changed_at"] == ctx.clock.now()
        assert str(err.value).startswith(
            "gina@billing-desk.example was changed by Eva at "
        )
    assert dump(ctx.db) == before


def test_an_unknown_operator_is_not_found(ctx) -> None:
    with pytest.raises(NotFound):
        admin.disable_operator(ctx, 9999)
    with pytest.raises(NotFound):
        admin.reset_password(ctx, 9999, NEW_PASSWORD)


# --------------------------------------------------------------------------- passwords


def test_a_password_reset_replaces_the_password_and_lifts_a_lock(ctx) -> None:
    op = add_operator(ctx.db, "hugo@billing-desk.example", "support")
    for _ in range(5):
        with pytest.raises(WrongCredentials):
            sign_in(ctx.db, "hugo@billing-desk.example", "not the password", now=NOW,
                    sleep=lambda _s: None)  # fmt: skip
    locked = row_of(ctx, op)
    assert locked.locked_until is not None

    row = admin.reset_password(ctx, op, NEW_PASSWORD, expected_version=locked.version)

    assert row.locked_until is None and row.version == locked.version + 1
    stored = ctx.db.reader.scalar("SELECT password_hash FROM operators WHERE id = :i", {"i": op})
    assert argon2.PasswordHasher().verify(stored, NEW_PASSWORD)
    info = sign_in(ctx.db, "hugo@billing-desk.example", NEW_PASSWORD, now=NOW,
                   sleep=lambda _s: None)  # fmt: skip
    assert info.id == op
    reset = [e for e in audit(ctx.db) if e[0] == "operator.password_reset"]
    assert reset == [
        ("operator.password_reset", ctx.operator.id, None,
         {"operator": "hugo@billing-desk.example"}, {"operator": "hugo@billing-desk.example"}),
    ]  # fmt: skip
    assert "$argon2" not in str(audit(ctx.db)) and NEW_PASSWORD not in str(audit(ctx.db))


def test_a_weak_new_password_is_refused(ctx) -> None:
    op = add_operator(ctx.db, "hugo@billing-desk.example", "support")
    before = dump(ctx.db)
    with pytest.raises(ValidationError) as err:
        admin.reset_password(ctx, op, "hugo@billing-desk.example")
    assert err.value.code == "password_is_email"
    assert dump(ctx.db) == before


# --------------------------------------------------------------------------- representatives


def test_corporate_accounts_are_listed_with_their_representative(ctx, make_account) -> None:
    rep = add_operator(ctx.db, "ida.blu@billing-desk.example", "representative")
    make_account("Zeta Corp", type="corporate", representative_id=rep, account_number="A-100003")
    make_account("Àlfa Holding", type="corporate", account_number="A-100002")
    make_account("Small Shop", type="standard", account_number="A-100001")

    rows = admin.list_corporate_accounts(ctx)
    assert [(r.account_number, r.company_name, r.representative_name) for r in rows] == [
        ("A-100002", "Àlfa Holding", None),
        ("A-100003", "Zeta Corp", "Ida Blu"),
    ]
    assert [r.account_number for r in admin.list_corporate_accounts(ctx, "alfa")] == ["A-100002"]
    assert [r.account_number for r in admin.list_corporate_accounts(ctx, "a-100003")] == [
        "A-100003"
    ]
    assert admin.list_corporate_accounts(ctx, "small") == []


def test_an_admin_assigns_and_unassigns_a_representative(ctx, make_account) -> None:
    rep = add_operator(ctx.db, "ida.blu@billing-desk.example", "representative")
    account = make_account("Zeta Corp", type="corporate")
    shown = admin.list_corporate_accounts(ctx)[0]

    row = admin.assign_representative(ctx, account, rep, expected_version=shown.version)
    assert (row.representative_id, row.representative_name, row.version) == (
        rep, "Ida Blu", shown.version + 1,
    )  # fmt: skip
    assert row_of(ctx, rep).assigned_accounts == 1

    row = admin.unassign_representative(ctx, account, expected_version=row.version)
    assert row.representative_id is None
    assert [(a, acc, b, j) for a, _o, acc, b, j in audit(ctx.db)] == [
        ("account.representative_changed", account, {"representative": None},
         {"representative": "Ida Blu"}),
        ("account.representative_changed", account, {"representative": "Ida Blu"},
         {"representative": None}),
    ]  # fmt: skip


def test_only_representatives_and_only_corporate_accounts(ctx, make_account) -> None:
    rep = add_operator(ctx.db, "ida.blu@billing-desk.example", "representative")
    gone = add_operator(ctx.db, "old.rep@billing-desk.example", "representative", active=False)
    support = add_operator(ctx.db, "lia@billing-desk.example", "support")
    corporate = make_account("Zeta Corp", type="corporate")
    standard = make_account("Small Shop", type="standard")
    before = dump(ctx.db)

    cases = [
        (lambda: admin.assign_representative(ctx, corporate, support), "not_a_representative"),
        (lambda: admin.assign_representative(ctx, corporate, gone), "representative_disabled"),
        (lambda: admin.assign_representative(ctx, standard, rep), "not_corporate"),
    ]
    messages = []
    for call, code in cases:
        with pytest.raises(PolicyViolation) as err:
            call()
        assert err.value.code == code
        messages.append(str(err.value))
    assert messages == [
        "Lia is not a representative. Only operators with the role Representative can be "
        "assigned corporate accounts.",
        "Old Rep is disabled and cannot be assigned accounts.",
        "Only corporate accounts have a representative; A-900002 is a standard account.",
    ]
    with pytest.raises(NotFound):
        admin.assign_representative(ctx, corporate, 9999)
    assert dump(ctx.db) == before


def test_assigning_an_account_changed_meanwhile_is_a_conflict(ctx, make_account) -> None:
    rep = add_operator(ctx.db, "ida.blu@billing-desk.example", "representative")
    account = make_account("Zeta Corp", type="corporate", account_number="A-100009")
    shown = admin.list_corporate_accounts(ctx)[0]
    admin.assign_representative(ctx, account, rep, expected_version=shown.version)
    before = dump(ctx.db)
    with pytest.raises(ConflictError) as err:
        admin.unassign_representative(ctx, account, expected_version=shown.version)
    assert err.value.params["what"] == "A-100009"
    assert err.value.params["changed_by"] == ctx.operator.name  # who assigned it
    assert dump(ctx.db) == before


def test_representatives_to_choose_from_are_the_active_ones(ctx) -> None:
    rep = add_operator(ctx.db, "ida.blu@billing-desk.example", "representative")
    add_operator(ctx.db, "old.rep@billing-desk.example", "representative", active=False)
    add_operator(ctx.db, "lia@billing-desk.example", "support")
    assert [r.id for r in admin.list_representatives(ctx)] == [rep]


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("role", ["support", "representative", "trainer", "viewer"])
def test_only_administrators_manage_operators(ctx, make_account, role) -> None:
    me = add_operator(ctx.db, f"{role}@billing-desk.example", role)
    rep = add_operator(ctx.db, "ida.blu@billing-desk.example", "representative")
    account = make_account("Zeta Corp", type="corporate", representative_id=me)
    not_admin = dataclasses.replace(acting(ctx, me), is_demo=True)  # not even in a demo
    before = dump(ctx.db)

    calls = {
        "list_operators": lambda: admin.list_operators(not_admin),
        "list_representatives": lambda: admin.list_representatives(not_admin),
        "create_operator": lambda: admin.create_operator(
            not_admin, "new@billing-desk.example", "New", "admin", PASSWORD
        ),
        "change_role": lambda: admin.change_role(not_admin, me, "admin"),
        "set_active": lambda: admin.set_active(not_admin, rep, False),
        "disable_operator": lambda: admin.disable_operator(not_admin, rep),
        "enable_operator": lambda: admin.enable_operator(not_admin, rep),
        "reset_password": lambda: admin.reset_password(not_admin, rep, NEW_PASSWORD),
        "list_corporate_accounts": lambda: admin.list_corporate_accounts(not_admin),
        "assign_representative": lambda: admin.assign_representative(not_admin, account, rep),
        "unassign_representative": lambda: admin.unassign_representative(not_admin, account),
    }
    public = {name for name in admin.__all__ if callable(getattr(admin, name))} - {
        "OperatorRow", "CorporateAccountRow",
    }  # fmt: skip
    assert set(calls) == public  # every function of the module is tried
    for name, call in calls.items():
        with pytest.raises(PermissionDenied) as err:
            call()
        assert str(err.value) == f"Your role ({role}) does not allow this action.", name
    assert dump(ctx.db) == before
