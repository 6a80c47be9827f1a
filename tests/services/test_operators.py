"""The operator's own name and email (Settings → Operator), and finding them again at start."""

from __future__ import annotations

import json

import pytest

from billing_desktop.services.context import local_operator
from billing_desktop.services.errors import ConflictError, ValidationError
from billing_desktop.services.operators import (
    operator_identity,
    update_operator_identity,
)


def test_the_local_operator_renames_itself_and_is_found_again(ctx) -> None:
    before = operator_identity(ctx)
    assert before.email.endswith("@localhost")

    info = update_operator_identity(
        ctx, "  Giulia   Bianchi ", " giulia.bianchi@billing-desk.example ",
        expected_version=before.version,
    )
    assert (info.id, info.name, info.email, info.role) == (
        before.id, "Giulia Bianchi", "giulia.bianchi@billing-desk.example", "admin",
    )
    row = ctx.db.reader.rows(
        "SELECT name, email, version FROM operators WHERE id = :i", {"i": before.id}
    )[0]
    assert row == ("Giulia Bianchi", "giulia.bianchi@billing-desk.example", before.version + 1)
    # the next start finds the same operator, not a new "<login>@localhost"
    assert local_operator(ctx.db) == info
    assert ctx.db.reader.scalar("SELECT COUNT(*) FROM operators") == 1

    action, before_json, after_json = ctx.db.reader.rows(
        "SELECT action, before_json, after_json FROM audit_entries ORDER BY id DESC LIMIT 1"
    )[0]
    assert action == "operator.identity_changed"
    assert json.loads(before_json) == {"name": before.name, "email": before.email}
    assert json.loads(after_json) == {
        "name": "Giulia Bianchi", "email": "giulia.bianchi@billing-desk.example",
    }


def test_nothing_changed_writes_nothing(ctx) -> None:
    before = operator_identity(ctx)
    update_operator_identity(ctx, before.name, before.email)
    assert operator_identity(ctx).version == before.version
    assert ctx.db.reader.scalar("SELECT COUNT(*) FROM audit_entries") == 0


@pytest.mark.parametrize(
    ("name", "email", "code", "field"),
    [
        ("", "a@b.example", "operator_name_missing", "name"),
        ("   ", "a@b.example", "operator_name_missing", "name"),
        ("x" * 201, "a@b.example", "operator_name_too_long", "name"),
        ("Ann", "not an email", "operator_email_invalid", "email"),
        ("Ann", "ann@", "operator_email_invalid", "email"),
        ("Ann", "@billing-desk.example", "operator_email_invalid", "email"),
        ("Ann", "ann@x.example, bob@x.example", "operator_email_invalid", "email"),
        ("Ann", "", "operator_email_invalid", "email"),
    ],
)
def test_bad_values_are_refused_naming_the_field(ctx, name, email, code, field) -> None:
    before = operator_identity(ctx)
    with pytest.raises(ValidationError) as err:
        update_operator_identity(ctx, name, email)
    assert (err.value.code, err.value.params["field"]) == (code, field)
    assert operator_identity(ctx) == before


def test_an_email_of_another_operator_is_refused(demo_ctx) -> None:
    taken = demo_ctx.db.reader.scalar("SELECT email FROM operators ORDER BY id LIMIT 1")
    with pytest.raises(ValidationError) as err:
        update_operator_identity(demo_ctx, "Someone", taken.upper())
    assert err.value.code == "operator_email_taken"
    assert str(err.value) == f"Another operator already uses the email {taken.upper()}."


def test_a_stale_version_is_a_conflict(ctx) -> None:
    before = operator_identity(ctx)
    update_operator_identity(ctx, "First Name", "first@billing-desk.example")
    with pytest.raises(ConflictError):
        update_operator_identity(
            ctx, "Second Name", "second@billing-desk.example", expected_version=before.version
        )
    assert operator_identity(ctx).name == "First Name"


def test_any_role_may_rename_only_itself(as_role) -> None:
    viewer = as_role("viewer")
    others = viewer.db.reader.rows("SELECT id, name FROM operators WHERE id != :i",
                                   {"i": viewer.operator.id})
    info = update_operator_identity(viewer, "Vera Viewer", "vera@billing-desk.example")
    assert (info.id, info.role) == (viewer.operator.id, "viewer")
    assert viewer.db.reader.rows("SELECT id, name FROM operators WHERE id != :i",
                                 {"i": viewer.operator.id}) == others
    # not the local operator: nothing remembered for the OS login
    assert viewer.db.reader.scalar(
        "SELECT COUNT(*) FROM app_settings WHERE key LIKE 'operator.local.%'"
    ) == 0
