"""Users & licences: assign/unassign seats in bulk, bounds, live subscriptions, permissions."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from billing_desktop.services.errors import NotFound, PermissionDenied, PolicyViolation
from billing_desktop.services.licences import (
    assign_licences,
    licence_overview,
    unassign_all,
    unassign_licences,
)

TABLES = ("licence_assignments", "subscriptions", "audit_entries", "accounts")


def _dump(db, tables=TABLES):
    return {t: db.reader.rows(f"SELECT * FROM {t} ORDER BY 1") for t in tables}


def _account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def _contacts(db, number: str) -> dict[str, int]:
    """First name → contact id of an account."""
    rows = db.reader.rows(
        "SELECT c.first_name, c.id FROM contacts c JOIN accounts a ON a.id = c.account_id "
        "WHERE a.account_number = :n",
        {"n": number},
    )
    return dict(rows)


def _subscription(db, number: str, product: str) -> int:
    return db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "JOIN products p ON p.id = s.product_id WHERE a.account_number = :n AND p.code = :p",
        {"n": number, "p": product},
    )


def _assigned(db, sub_id: int) -> set[int]:
    rows = db.reader.rows(
        "SELECT contact_id FROM licence_assignments WHERE subscription_id = :s", {"s": sub_id}
    )
    return {r[0] for r in rows}


def _add_contacts(db, number: str, count: int) -> list[int]:
    from billing_desktop.store.models import Contact

    account_id = _account_id(db, number)
    ids = []
    with db.transaction() as session:
        for n in range(count):
            contact = Contact(
                account_id=account_id,
                first_name=f"Extra{n}",
                last_name="Tester",
                email=f"extra{n}@example.test",
                email_lower=f"extra{n}@example.test",
                search_name=f"tester extra{n}",
                roles="user",
            )
            session.add(contact)
            session.flush()
            ids.append(contact.id)
    return ids


def _audit(db, action: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT account_id, before_json, after_json, operator_id FROM audit_entries "
        "WHERE action = :a ORDER BY id",
        {"a": action},
    )


# --------------------------------------------------------------------------- overview


def test_overview_counts_bought_assigned_free_and_holders(demo_ctx) -> None:
    """A-100002 (article 001): v5 with 10 licences, 6 assigned → 4 free."""
    overview = licence_overview(demo_ctx, "A-100002")
    assert overview.account_number == "A-100002"
    (seats,) = overview.subscriptions
    assert seats.product_code == "gotoassist_rs_v5"
    assert (seats.licences, seats.assigned, seats.free) == (10, 6, 4)
    assert [h.name for h in seats.holders] == [
        "Francesca Ferretti", "Alessandro Galli", "Sara Colombo",
        "Davide Ricci", "Martina Fontana", "Simone Barbieri",
    ]  # fmt: skip
    by_name = {c.name: c for c in overview.contacts}
    assert by_name["Chiara Rinaldi"].subscription_ids == ()
    assert by_name["Sara Colombo"].subscription_ids == (seats.subscription_id,)


def test_overview_lists_only_live_subscriptions(demo_ctx) -> None:
    """A-100003: the expired v5 trial is not listed; the running Webinar trial is."""
    overview = licence_overview(demo_ctx, "A-100003")
    assert [(s.product_code, s.status, s.licences, s.assigned, s.free) for s in
            overview.subscriptions] == [("goto_webinar", "trial", 1, 1, 0)]  # fmt: skip
    overview = licence_overview(demo_ctx, "A-100018")  # cancelled GoTo Meeting not listed
    assert [s.status for s in overview.subscriptions] == ["active"]


# --------------------------------------------------------------------------- assign


def test_assign_bulk_reports_new_and_already_assigned(demo_ctx) -> None:
    db = demo_ctx.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    c = _contacts(db, "A-100002")
    before = _assigned(db, sub)
    result = assign_licences(demo_ctx, sub, [c["Chiara"], c["Sara"], c["Chiara"]])
    assert result.changed == (c["Chiara"],)
    assert result.unchanged == (c["Sara"],)
    # 10 licences − 7 assigned = 3 free
    assert (result.licences, result.assigned, result.free) == (10, 7, 3)
    assert _assigned(db, sub) == before | {c["Chiara"]}
    assigned_at = db.reader.scalar(
        "SELECT assigned_at FROM licence_assignments WHERE contact_id = :c", {"c": c["Chiara"]}
    )
    assert assigned_at.startswith("2026-04-26")
    ((account_id, before_json, after_json, operator_id),) = _audit(db, "licences.assigned")
    assert account_id == _account_id(db, "A-100002")
    assert operator_id == demo_ctx.operator.id
    assert sorted(json.loads(before_json)["assigned_contact_ids"]) == sorted(before)
    assert sorted(json.loads(after_json)["assigned_contact_ids"]) == sorted(before | {c["Chiara"]})


def test_assigning_already_assigned_contacts_is_a_reported_no_op(demo_ctx) -> None:
    db = demo_ctx.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    c = _contacts(db, "A-100002")
    snapshot = _dump(db)
    result = assign_licences(demo_ctx, sub, [c["Francesca"], c["Alessandro"]])
    assert result.changed == ()
    assert result.unchanged == (c["Francesca"], c["Alessandro"])
    assert (result.assigned, result.free) == (6, 4)
    assert _dump(db) == snapshot  # nothing written, not even an audit entry


def test_assign_beyond_the_licence_count_is_refused_with_the_free_count(demo_ctx) -> None:
    db = demo_ctx.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    c = _contacts(db, "A-100002")
    extra = _add_contacts(db, "A-100002", 4)
    snapshot = _dump(db)
    # 10 licences − 6 assigned = 4 free; 5 new contacts asked for
    with pytest.raises(PolicyViolation) as err:
        assign_licences(demo_ctx, sub, [c["Chiara"], *extra])
    assert err.value.code == "licences_exhausted"
    assert err.value.params["free"] == 4
    assert err.value.params["requested"] == 5
    assert "Only 4 of the 10 licences" in str(err.value)
    assert _dump(db) == snapshot
    # exactly the 4 free seats fit
    result = assign_licences(demo_ctx, sub, extra)
    assert (result.assigned, result.free) == (10, 0)
    with pytest.raises(PolicyViolation, match="Only 0 of the 10 licences"):
        assign_licences(demo_ctx, sub, [c["Chiara"]])


def test_assign_a_contact_of_another_account_is_refused(demo_ctx) -> None:
    db = demo_ctx.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    other = _contacts(db, "A-100003")["Valentina"]
    mine = _contacts(db, "A-100002")["Chiara"]
    snapshot = _dump(db)
    with pytest.raises(PolicyViolation) as err:
        assign_licences(demo_ctx, sub, [mine, other])  # all or nothing
    assert err.value.code == "contact_of_other_account"
    assert _dump(db) == snapshot
    with pytest.raises(NotFound):
        assign_licences(demo_ctx, sub, [999_999])
    assert _dump(db) == snapshot


def test_assign_needs_a_live_subscription_trial_counts_as_live(demo_ctx) -> None:
    db = demo_ctx.db
    c = _contacts(db, "A-100003")
    expired = _subscription(db, "A-100003", "gotoassist_rs_v5")  # trial_expired
    snapshot = _dump(db)
    with pytest.raises(PolicyViolation) as err:
        assign_licences(demo_ctx, expired, [c["Antonio"]])
    assert err.value.code == "subscription_not_live"
    assert err.value.params["status"] == "trial_expired"
    cancelled = _subscription(db, "A-100018", "goto_meeting")
    first = min(_contacts(db, "A-100018").values())
    with pytest.raises(PolicyViolation, match="cancelled"):
        assign_licences(demo_ctx, cancelled, [first])
    assert _dump(db) == snapshot
    # the running Webinar trial (1 licence, held by Antonio) is live
    trial = _subscription(db, "A-100003", "goto_webinar")
    unassign_licences(demo_ctx, trial, [c["Antonio"]])
    result = assign_licences(demo_ctx, trial, [c["Valentina"]])
    assert result.assigned_contact_ids == (c["Valentina"],)
    assert result.free == 0


# --------------------------------------------------------------------------- unassign


def test_unassign_bulk_and_contacts_without_a_seat_are_no_ops(demo_ctx) -> None:
    db = demo_ctx.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    c = _contacts(db, "A-100002")
    result = unassign_licences(demo_ctx, sub, [c["Davide"], c["Chiara"], c["Martina"]])
    assert result.changed == (c["Davide"], c["Martina"])
    assert result.unchanged == (c["Chiara"],)  # held no seat
    # 6 assigned − 2 = 4; 10 − 4 = 6 free
    assert (result.assigned, result.free) == (4, 6)
    assert _assigned(db, sub) == {c["Francesca"], c["Alessandro"], c["Sara"], c["Simone"]}
    ((_, before_json, after_json, _),) = _audit(db, "licences.unassigned")
    assert len(json.loads(before_json)["assigned_contact_ids"]) == 6
    assert len(json.loads(after_json)["assigned_contact_ids"]) == 4
    # repeating it changes nothing
    snapshot = _dump(db)
    again = unassign_licences(demo_ctx, sub, [c["Davide"]])
    assert again.changed == () and again.unchanged == (c["Davide"],)
    assert _dump(db) == snapshot


def test_unassign_all_clears_every_seat_of_the_account(demo_ctx) -> None:
    """A-100005 (article 002): "unassign 5 licences" before the assisted cancellation."""
    db = demo_ctx.db
    sub = _subscription(db, "A-100005", "logmein_resolve")
    assert sub is not None
    assert len(_assigned(db, sub)) == 5
    (result,) = unassign_all(demo_ctx, "A-100005")
    assert result.subscription_id == sub
    assert len(result.changed) == 5
    assert result.assigned_contact_ids == ()
    assert result.free == 8
    assert _assigned(db, sub) == set()
    ((_, before_json, after_json, _),) = _audit(db, "licences.unassigned")
    assert len(json.loads(before_json)["assigned_contact_ids"]) == 5
    assert json.loads(after_json)["assigned_contact_ids"] == []
    assert licence_overview(demo_ctx, "A-100005").subscriptions[0].free == 8


def test_unassign_all_only_the_listed_subscriptions_of_the_account(demo_ctx) -> None:
    """A-100015 (corporate): two subscriptions with 5 and 6 seats assigned."""
    db = demo_ctx.db
    subs = [
        r[0]
        for r in db.reader.rows(
            "SELECT id FROM subscriptions WHERE account_id = :a ORDER BY id",
            {"a": _account_id(db, "A-100015")},
        )
    ]
    kept = _assigned(db, subs[1])
    (result,) = unassign_all(demo_ctx, "A-100015", [subs[0]])
    assert result.subscription_id == subs[0] and len(result.changed) == 5
    assert _assigned(db, subs[0]) == set()
    assert _assigned(db, subs[1]) == kept
    other = _subscription(db, "A-100002", "gotoassist_rs_v5")
    snapshot = _dump(db)
    with pytest.raises(NotFound):
        unassign_all(demo_ctx, "A-100015", [subs[1], other])
    assert _dump(db) == snapshot


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("role", ["viewer", "representative"])
def test_read_only_roles_change_nothing(as_role, demo_ctx, role: str) -> None:
    """A viewer is read-only everywhere; a representative on a non-assigned standard account."""
    db = demo_ctx.db
    ctx = as_role(role)
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    c = _contacts(db, "A-100002")
    snapshot = _dump(db)
    for call in (
        lambda: assign_licences(ctx, sub, [c["Chiara"]]),
        lambda: unassign_licences(ctx, sub, [c["Sara"]]),
        lambda: unassign_all(ctx, "A-100002"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert _dump(db) == snapshot
    assert licence_overview(ctx, "A-100002").subscriptions[0].free == 4  # reading is fine


def test_trainer_outside_a_demo_database_is_refused(as_role, demo_ctx) -> None:
    db = demo_ctx.db
    ctx = as_role("trainer", is_demo=False)
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    snapshot = _dump(db)
    with pytest.raises(PermissionDenied):
        assign_licences(ctx, sub, [_contacts(db, "A-100002")["Chiara"]])
    assert _dump(db) == snapshot


def test_requested_by_is_recorded_and_must_be_a_contact_of_the_account(demo_ctx) -> None:
    db = demo_ctx.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    c = _contacts(db, "A-100002")
    assign_licences(demo_ctx, sub, [c["Chiara"]], requested_by=c["Francesca"])
    assert (
        db.reader.scalar(
            "SELECT requested_by_contact_id FROM audit_entries WHERE action = 'licences.assigned'"
        )
        == c["Francesca"]
    )
    with pytest.raises(NotFound):
        unassign_licences(
            demo_ctx, sub, [c["Chiara"]], requested_by=_contacts(db, "A-100003")["Antonio"]
        )


def test_datetime_of_assignment_comes_from_the_clock(demo_ctx) -> None:
    overview = licence_overview(demo_ctx, "A-100002")
    sub = overview.subscriptions[0].subscription_id
    chiara = _contacts(demo_ctx.db, "A-100002")["Chiara"]
    assign_licences(demo_ctx, sub, [chiara])
    holders = licence_overview(demo_ctx, "A-100002").subscriptions[0].holders
    assert holders[-1].contact_id == chiara
    assert holders[-1].assigned_at == datetime(2026, 4, 26, 9, 0)
