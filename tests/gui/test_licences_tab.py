"""The Users & licences tab: the seat grid, staging, bulk actions, Apply through the service."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from helpers import answered_message_boxes
from PySide6.QtCore import QModelIndex, Qt

from billing_desktop.ui.account.licences import LicencesModel, LicencesTab

M = LicencesModel
V5 = "GoToAssist Remote Support v5"


# --------------------------------------------------------------------------- helpers


def _account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


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


def _audit(db, action: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT before_json, after_json, requested_by_contact_id FROM audit_entries "
        "WHERE action = :a ORDER BY id",
        {"a": action},
    )


def _add_contacts(db, number: str, count: int) -> list[int]:
    """Test data: more people on the account than the curated set has."""
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


def _row(tab: LicencesTab, name: str) -> int:
    for row in range(tab.model.rowCount()):
        contact = tab.model.data(tab.model.index(row, M.NAME), M.ObjectRole)
        if contact.name == name:
            return row
    raise AssertionError(f"{name} is not in the grid")


def _cell(tab: LicencesTab, name: str, column: int = M.FIRST_SUBSCRIPTION) -> QModelIndex:
    return tab.model.index(_row(tab, name), column)


def _checked(tab: LicencesTab, column: int = M.FIRST_SUBSCRIPTION) -> list[str]:
    out = []
    for row in range(tab.model.rowCount()):
        index = tab.model.index(row, column)
        if tab.model.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked:
            out.append(tab.model.data(index.siblingAtColumn(M.NAME), M.ObjectRole).name)
    return out


def _header(tab: LicencesTab, column: int = M.FIRST_SUBSCRIPTION) -> str:
    return tab.model.headerData(column, Qt.Orientation.Horizontal)


def _click_cell(qtbot, tab: LicencesTab, index: QModelIndex) -> None:
    tab.table.scrollTo(index)
    rect = tab.table.visualRect(index)
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.fixture
def open_tab(qtbot) -> Callable[..., LicencesTab]:
    def make(ctx, number: str) -> LicencesTab:
        tab = LicencesTab(ctx, _account_id(ctx.db, number))
        qtbot.addWidget(tab)
        tab.resize(1200, 800)
        tab.show()
        qtbot.waitExposed(tab)
        return tab

    return make


# --------------------------------------------------------------------------- tests


def test_grid_shows_contacts_roles_and_seats(demo_ctx, open_tab, qtmodeltester) -> None:
    tab = open_tab(demo_ctx, "A-100002")
    model = tab.model
    qtmodeltester.check(model)

    assert model.rowCount() == 7
    assert model.columnCount() == M.FIRST_SUBSCRIPTION + 1
    assert _header(tab) == f"{V5}\n4 of 10 free"
    assert len(_checked(tab)) == 6
    assert "Chiara Rinaldi" not in _checked(tab)
    first = model.index(0, M.NAME)
    assert model.data(first) == "Francesca Ferretti (billing contact)"
    assert model.data(first.siblingAtColumn(M.ROLES)) == "Super admin and Billing admin"
    assert model.data(_cell(tab, "Chiara Rinaldi").siblingAtColumn(M.ROLES)) == "User"
    (row,) = tab._bulk_rows
    assert row.title.text() == f"{V5} (Standard)"
    assert row.seats.text() == "4 of 10 free"
    assert not tab.apply_button.isEnabled()
    assert not tab.revert_button.isEnabled()


def test_assign_two_more_and_apply(demo_ctx, open_tab, qtbot) -> None:
    db = demo_ctx.db
    (extra,) = _add_contacts(db, "A-100002", 1)
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    before = _assigned(db, sub)
    tab = open_tab(demo_ctx, "A-100002")
    assert tab.model.free(sub) == 4

    _click_cell(qtbot, tab, _cell(tab, "Chiara Rinaldi"))
    assert _header(tab) == f"{V5}\n3 of 10 free"
    _click_cell(qtbot, tab, _cell(tab, "Extra0 Tester"))
    assert _header(tab) == f"{V5}\n2 of 10 free"
    assert tab._bulk_rows[0].seats.text() == "2 of 10 free"
    assert tab.pending_label.text() == "2 change(s) not applied yet"
    assert tab.apply_button.isEnabled()
    assert _assigned(db, sub) == before  # nothing written while staging

    tab.requester_combo.setFocus()
    qtbot.keyClicks(tab.requester_combo, "Francesca")
    assert tab.requester_combo.currentText() == "Francesca Ferretti (billing contact)"
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)

    chiara = tab.model.data(_cell(tab, "Chiara Rinaldi"), M.ObjectRole).contact_id
    assert _assigned(db, sub) == before | {chiara, extra}
    assert len(_assigned(db, sub)) == 8
    ((old, new, requester),) = _audit(db, "licences.assigned")
    assert len(json.loads(old)["assigned_contact_ids"]) == 6
    assert json.loads(new)["assigned_contact_ids"][-2:] == [chiara, extra]
    assert requester == _account_requester(db, "Francesca")
    assert _header(tab) == f"{V5}\n2 of 10 free"
    assert tab.pending_label.text() == "Changes applied."
    assert not tab.apply_button.isEnabled()
    assert len(_checked(tab)) == 8


def _account_requester(db, first_name: str) -> int:
    return db.reader.scalar("SELECT id FROM contacts WHERE first_name = :f", {"f": first_name})


def test_space_toggles_and_revert_discards(demo_ctx, open_tab, qtbot) -> None:
    tab = open_tab(demo_ctx, "A-100002")
    tab.table.setFocus()
    tab.table.setCurrentIndex(_cell(tab, "Sara Colombo"))
    qtbot.keyClick(tab.table, Qt.Key.Key_Space)
    assert "Sara Colombo" not in _checked(tab)
    assert _header(tab) == f"{V5}\n5 of 10 free"
    assert tab.model.data(_cell(tab, "Sara Colombo"), Qt.ItemDataRole.ToolTipRole) == (
        f"Sara Colombo loses the licence of {V5} when you apply."
    )
    qtbot.mouseClick(tab.revert_button, Qt.MouseButton.LeftButton)
    assert "Sara Colombo" in _checked(tab)
    assert _header(tab) == f"{V5}\n4 of 10 free"
    assert tab.pending_label.text() == ""
    assert not tab.revert_button.isEnabled()


def test_no_free_seat_disables_empty_boxes(demo_ctx, open_tab, qtbot, qtmodeltester) -> None:
    """A-100010's GoTo Webinar has 2 licences, both assigned: nobody else can be ticked."""
    db = demo_ctx.db
    sub = _subscription(db, "A-100010", "goto_webinar")
    before = _assigned(db, sub)
    tab = open_tab(demo_ctx, "A-100010")
    qtmodeltester.check(tab.model)
    column = tab.model.column_of(sub)
    assert _header(tab, column) == "GoTo Webinar\n0 of 2 free"
    for name in ("Tobias Weber", "Jonas Becker"):
        index = _cell(tab, name, column)
        assert not tab.model.flags(index) & Qt.ItemFlag.ItemIsEnabled
        _click_cell(qtbot, tab, index)
        assert name not in _checked(tab, column)
    assert not tab.apply_button.isEnabled()
    # freeing a seat enables the empty boxes again
    _click_cell(qtbot, tab, _cell(tab, "Anna Fischer", column))
    assert _header(tab, column) == "GoTo Webinar\n1 of 2 free"
    assert tab.model.flags(_cell(tab, "Tobias Weber", column)) & Qt.ItemFlag.ItemIsEnabled
    assert _assigned(db, sub) == before


def test_staging_beyond_free_seats_is_refused(demo_ctx, open_tab, qtbot) -> None:
    """Assign all users with 6 people waiting and 4 seats free: the service says no."""
    db = demo_ctx.db
    _add_contacts(db, "A-100002", 5)
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    before = _assigned(db, sub)
    tab = open_tab(demo_ctx, "A-100002")
    (row,) = tab._bulk_rows

    qtbot.mouseClick(row.assign_all, Qt.MouseButton.LeftButton)
    assert len(_checked(tab)) == 12
    assert _header(tab) == f"{V5}\n2 too many for 10 licences"
    assert row.seats.text() == "2 too many for 10 licences"
    assert not row.assign_all.isEnabled()

    with answered_message_boxes() as texts:
        qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)
    assert texts == [
        f"Only 4 of the 10 licences of {V5} are free; 6 contacts were to be assigned. "
        "Buy more licences or unassign some first."
    ]
    assert _assigned(db, sub) == before
    assert _audit(db, "licences.assigned") == []
    # the staged state is kept for the operator to correct
    assert len(_checked(tab)) == 12
    assert tab.apply_button.isEnabled()
    assert tab.pending_label.text() == "6 change(s) not applied yet"


def test_unassign_all_then_apply(demo_ctx, open_tab, qtbot) -> None:
    db = demo_ctx.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    tab = open_tab(demo_ctx, "A-100002")
    (row,) = tab._bulk_rows
    qtbot.mouseClick(row.unassign_all, Qt.MouseButton.LeftButton)
    assert _header(tab) == f"{V5}\n10 of 10 free"
    assert not row.unassign_all.isEnabled()
    qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)
    assert _assigned(db, sub) == set()
    ((old, new, requester),) = _audit(db, "licences.unassigned")
    assert len(json.loads(old)["assigned_contact_ids"]) == 6
    assert json.loads(new)["assigned_contact_ids"] == []
    assert requester is None  # "Not recorded"


def test_a_viewer_is_refused_by_the_service(as_role, open_tab, qtbot) -> None:
    viewer = as_role("viewer")
    db = viewer.db
    sub = _subscription(db, "A-100002", "gotoassist_rs_v5")
    before = _assigned(db, sub)
    tab = open_tab(viewer, "A-100002")
    _click_cell(qtbot, tab, _cell(tab, "Chiara Rinaldi"))
    with answered_message_boxes() as texts:
        qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)
    assert texts == ["Your role is read-only."]
    assert _assigned(db, sub) == before
    assert "Chiara Rinaldi" in _checked(tab)  # still staged


def test_only_live_subscriptions_have_a_column(demo_ctx, open_tab) -> None:
    """A-100003: an expired trial (not live) and a GoTo Webinar trial (live)."""
    tab = open_tab(demo_ctx, "A-100003")
    assert tab.model.columnCount() == M.FIRST_SUBSCRIPTION + 1
    assert _header(tab).startswith("GoTo Webinar\n")
    assert tab.empty_label.isHidden()


def test_account_without_live_subscriptions(demo_ctx, open_tab, qtmodeltester) -> None:
    db = demo_ctx.db
    with db.transaction() as session:
        from sqlalchemy import text

        session.execute(
            text("UPDATE subscriptions SET status = 'trial_expired' WHERE account_id = :a"),
            {"a": _account_id(db, "A-100003")},
        )
    tab = open_tab(demo_ctx, "A-100003")
    qtmodeltester.check(tab.model)
    assert tab.model.columnCount() == M.FIRST_SUBSCRIPTION
    assert tab.model.rowCount() == 2  # the contacts and their roles are still listed
    assert tab.empty_label.isVisible()
    assert tab.empty_label.text().startswith("This account has no subscription")
    assert tab.bulk_frame.isHidden()


def test_retranslate_keeps_the_grid(demo_ctx, open_tab) -> None:
    tab = open_tab(demo_ctx, "A-100002")
    tab.retranslateUi()
    assert _header(tab) == f"{V5}\n4 of 10 free"
    assert tab.apply_button.text() == "&Apply"
