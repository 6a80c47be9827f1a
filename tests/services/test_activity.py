"""The audit trail of an account: newest first, paged by keyset, changed fields only."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from billing_desktop.services.activity import (
    FieldChange,
    account_activity,
    account_requesters,
    changed_fields,
)
from billing_desktop.services.cancellation import cancel_online
from billing_desktop.services.errors import NotFound
from billing_desktop.services.licences import assign_licences, unassign_licences


def _account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def _contacts(db, number: str) -> dict[str, int]:
    rows = db.reader.rows(
        "SELECT c.first_name, c.id FROM contacts c JOIN accounts a ON a.id = c.account_id "
        "WHERE a.account_number = :n",
        {"n": number},
    )
    return dict(rows)


def _subscription(db, number: str) -> int:
    return db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "WHERE a.account_number = :n ORDER BY s.id LIMIT 1",
        {"n": number},
    )


def _insert_entries(db, account_id: int, moments: list[datetime]) -> list[int]:
    from billing_desktop.store.models import AuditEntry

    ids = []
    with db.transaction() as session:
        for n, at in enumerate(moments):
            entry = AuditEntry(
                at=at,
                operator_id=None,
                account_id=account_id,
                action="test.entry",
                before_json=json.dumps({"n": n - 1}),
                after_json=json.dumps({"n": n}),
            )
            session.add(entry)
            session.flush()
            ids.append(entry.id)
    return ids


def test_an_account_without_entries_has_no_activity(demo_ctx) -> None:
    assert account_activity(demo_ctx, _account_id(demo_ctx.db, "A-100002")) == []


def test_unknown_account_is_not_found(demo_ctx) -> None:
    with pytest.raises(NotFound):
        account_activity(demo_ctx, 987654)
    with pytest.raises(NotFound):
        account_requesters(demo_ctx, 987654)


def test_licence_change_shows_who_did_it_and_what_changed(demo_ctx) -> None:
    db = demo_ctx.db
    people = _contacts(db, "A-100002")
    sub = _subscription(db, "A-100002")
    assign_licences(demo_ctx, sub, [people["Chiara"]], requested_by=people["Francesca"])
    unassign_licences(demo_ctx, sub, [people["Sara"]])

    entries = account_activity(demo_ctx, _account_id(db, "A-100002"))

    assert [e.action for e in entries] == ["licences.unassigned", "licences.assigned"]
    unassigned, assigned = entries
    assert assigned.operator_name == demo_ctx.operator.name
    assert assigned.requested_by_contact_id == people["Francesca"]
    assert assigned.requested_by_name == "Francesca Ferretti"
    assert unassigned.requested_by_name is None
    assert assigned.product_name == "GoToAssist Remote Support v5"
    assert assigned.currency == "EUR"
    # subscription_id and product are the same before and after: not changes
    assert [c.field for c in assigned.changes] == ["assigned_contact_ids"]
    change = assigned.changes[0]
    assert change.added == ("Chiara Rinaldi",)
    assert change.removed == ()
    assert len(change.before) == 6 and len(change.after) == 7
    assert "Francesca Ferretti" in change.before
    assert unassigned.changes[0].removed == ("Sara Colombo",)


def test_cancellation_entry_has_the_changed_subscription_fields(demo_ctx) -> None:
    db = demo_ctx.db
    cancel_online(demo_ctx, _subscription(db, "A-100001"), reason="too_expensive")
    (entry,) = account_activity(demo_ctx, _account_id(db, "A-100001"))
    fields = {c.field: c for c in entry.changes}
    assert fields["status"].before == "active"
    assert fields["status"].after == "cancellation_pending"
    assert fields["auto_renew"].before is True and fields["auto_renew"].after is False
    assert fields["effective_end"].is_new  # facts of the outcome: only after
    assert entry.requested_by_name == "Marco Rossi"


def test_pages_follow_each_other_newest_first_without_gaps(demo_ctx) -> None:
    """450 entries, many at the same moment: three pages, each entry exactly once."""
    db = demo_ctx.db
    account_id = _account_id(db, "A-100003")
    start = datetime(2026, 1, 1, 9, 0)
    # runs of five entries share one moment; the moments are inserted out of order
    moments = [start + timedelta(minutes=(n // 5) * 7 % 97) for n in range(450)]
    ids = _insert_entries(db, account_id, moments)
    _insert_entries(db, _account_id(db, "A-100004"), [start] * 3)  # another account's

    expected = [i for _at, i in sorted(zip(moments, ids, strict=True), reverse=True)]
    seen = []
    before_id = None
    pages = 0
    while True:
        page = account_activity(demo_ctx, account_id, before_id=before_id, limit=200)
        pages += 1
        if not page:
            break
        seen.extend(e.id for e in page)
        before_id = page[-1].id
    assert seen == expected
    assert pages == 4  # 200 + 200 + 50, then an empty page
    first = account_activity(demo_ctx, account_id, limit=1)[0]
    assert first.changes == (FieldChange(field="n", before=first.changes[0].before,
                                         after=first.changes[0].after),)  # fmt: skip


def test_requesters_billing_contact_first(demo_ctx) -> None:
    people = account_requesters(demo_ctx, _account_id(demo_ctx.db, "A-100002"))
    assert people[0].name == "Francesca Ferretti"
    assert people[0].is_billing_contact
    assert not any(p.is_billing_contact for p in people[1:])
    assert [p.name for p in people[1:]] == sorted(p.name for p in people[1:])
    assert len(people) == 7


def test_changed_fields_rules() -> None:
    before = {"a": 1, "same": "x", "gone": True, "ids": [1, 2], "contact_id": 1}
    after = {"a": 2, "same": "x", "new": None, "ids": [2, 3], "contact_id": 3}
    names = {1: "Ann", 2: "Bob"}
    changes = {c.field: c for c in changed_fields(before, after, names)}
    assert set(changes) == {"a", "gone", "new", "ids", "contact_id"}
    assert changes["gone"].is_gone and changes["gone"].after is None
    assert changes["new"].is_new and changes["new"].before is None
    assert changes["ids"].added == (3,) and changes["ids"].removed == (1,)  # not contacts
    assert changes["contact_id"].before == "Ann" and changes["contact_id"].after == "#3"
    created = changed_fields(None, {"kind": "card"})
    assert created == (FieldChange("kind", None, "card", is_new=True),)
    assert changed_fields({"x": 1}, {"x": 1}) == ()
