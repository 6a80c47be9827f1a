"""Another operator changed the row meanwhile: the tab says who and when, writes nothing,
keeps the user's selection and input, and shows the other operator's change (issue 8).

The tab runs as the local operator; Alice Martin (support) works on another
instance of the application and changes the same data through the services
after the tab read it. The real message box of ``show_service_error`` is read
and closed.

Curated demo data on 2026-04-26: A-100009 has one card, Visa •••• 7719, autopay
off; A-100016's GoTo Webinar has 3 licences, 2 assigned; A-100005's
INV-2026-000065 is open and may be disputed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from helpers import (
    account_id,
    answered_message_boxes,
    as_operator,
    dump,
    on_another_instance,
    shown_child,
)
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from billing_desktop.services import invoices, licences, payments
from billing_desktop.services.accounts import AccountChanges, update_account
from billing_desktop.services.context import AppContext
from billing_desktop.ui.account.invoices import DisputeDialog, InvoicesTab
from billing_desktop.ui.account.licences import LicencesModel, LicencesTab
from billing_desktop.ui.account.payment_methods import PaymentMethodsModel, PaymentMethodsTab

ALICE_AT = datetime(2026, 4, 26, 10, 15)
VISA = "4012 8888 8888 1881"
MASTERCARD = "5555 5555 5555 4444"


def _said_alice(what: str) -> str:
    return (
        f"{what} was changed by Alice Martin at 4/26/2026 10:15\u202fAM — reload to see the "
        "current data. Your input is kept."
    )


@pytest.fixture
def alice(demo_ctx: AppContext) -> Iterator[AppContext]:
    """Support operator Alice Martin on another instance of the application (10:15)."""
    with on_another_instance(as_operator(demo_ctx, "Alice Martin", ALICE_AT)) as other:
        yield other


def _show(qtbot, tab: QWidget) -> None:
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    qtbot.waitExposed(tab)


# --------------------------------------------------------------------------- Payment methods


def _with_three_cards(ctx: AppContext) -> dict[str, int]:
    for number in (VISA, MASTERCARD):
        payments.add_card(
            ctx, "A-100009", number=number, exp_month=3, exp_year=2030, holder_name="E M"
        )
    return {m.last4: m.id for m in payments.list_payment_methods(ctx, "A-100009")}


def _default_last4(db) -> list[str]:
    return [
        last4
        for (last4,) in db.reader.rows(
            "SELECT m.last4 FROM payment_methods m JOIN accounts a ON a.id = m.account_id "
            "WHERE a.account_number = 'A-100009' AND m.is_default = 1"
        )
    ]


def _methods_tab(qtbot, ctx: AppContext, select: str) -> PaymentMethodsTab:
    tab = PaymentMethodsTab(ctx, account_id(ctx.db, "A-100009"))
    _show(qtbot, tab)
    labels = [
        tab.model.index(r, PaymentMethodsModel.METHOD).data() for r in range(tab.model.rowCount())
    ]
    rect = tab.table.visualRect(tab.model.index(labels.index(select), 0))
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.selected_method() is not None
    return tab


def _status_of(tab: PaymentMethodsTab, label: str) -> str:
    for row in range(tab.model.rowCount()):
        if tab.model.index(row, PaymentMethodsModel.METHOD).data() == label:
            return tab.model.index(row, PaymentMethodsModel.STATUS).data()
    raise AssertionError(f"{label} is not listed")


def _alice_changed_text() -> str:
    return (
        "Nothing was changed: Alice Martin changed this account at 4/26/2026 10:15\u202fAM. "
        "The list now shows the current data."
    )


def test_set_as_default_after_another_operator_changed_the_default(
    qtbot, demo_ctx: AppContext, alice: AppContext
) -> None:
    cards = _with_three_cards(demo_ctx)
    tab = _methods_tab(qtbot, demo_ctx, "Visa •••• 1881")
    assert _status_of(tab, "Visa •••• 7719") == "Default"

    seen = payments.payment_settings(alice, "A-100009").version
    payments.set_default_method(alice, "A-100009", cards["4444"], expected_version=seen)
    before = dump(demo_ctx.db)

    with answered_message_boxes() as texts:
        qtbot.mouseClick(tab.default_button, Qt.MouseButton.LeftButton)
    assert texts == [_said_alice("A-100009")]
    assert dump(demo_ctx.db) == before  # nothing written
    assert _default_last4(demo_ctx.db) == ["4444"]
    assert tab.selected_method().id == cards["1881"]  # the selection stays
    # the list was read again: Alice's change is shown
    assert _status_of(tab, "Mastercard •••• 4444") == "Default"
    assert _status_of(tab, "Visa •••• 7719") == ""
    assert tab.status_label.text() == _alice_changed_text()

    # on the fresh data the same click does what the user wanted
    qtbot.mouseClick(tab.default_button, Qt.MouseButton.LeftButton)
    assert _default_last4(demo_ctx.db) == ["1881"]
    assert tab.status_label.text() == "Visa •••• 1881 is now the default payment method."


def test_remove_after_another_operator_changed_the_account(
    qtbot, demo_ctx: AppContext, alice: AppContext
) -> None:
    cards = _with_three_cards(demo_ctx)
    tab = _methods_tab(qtbot, demo_ctx, "Mastercard •••• 4444")
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    confirmation = shown_child(qtbot, tab, QMessageBox, "removeMethodConfirmation")

    # while the question is open, Alice edits the account on her screen
    seen = payments.payment_settings(alice, "A-100009").version
    update_account(alice, "A-100009", AccountChanges(city="Toledo"), expected_version=seen)
    before = dump(demo_ctx.db)

    confirm = confirmation.findChild(QPushButton, "confirmRemove")
    with answered_message_boxes() as texts:
        qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    assert texts == [_said_alice("A-100009")]
    assert dump(demo_ctx.db) == before
    kept = {m.id for m in payments.list_payment_methods(demo_ctx, "A-100009")}
    assert kept == set(cards.values())
    assert tab.selected_method().id == cards["4444"]
    assert tab.model.rowCount() == 3
    assert tab.status_label.text() == _alice_changed_text()


def test_autopay_switch_after_another_operator_changed_the_methods(
    qtbot, demo_ctx: AppContext, alice: AppContext
) -> None:
    cards = _with_three_cards(demo_ctx)
    tab = _methods_tab(qtbot, demo_ctx, "Visa •••• 1881")
    assert not tab.autopay_check.isChecked()

    seen = payments.payment_settings(alice, "A-100009").version
    payments.remove_method(alice, "A-100009", cards["4444"], expected_version=seen)
    before = dump(demo_ctx.db)

    with answered_message_boxes() as texts:
        qtbot.mouseClick(tab.autopay_check, Qt.MouseButton.LeftButton)
    assert texts == [_said_alice("A-100009")]
    assert dump(demo_ctx.db) == before
    assert not payments.payment_settings(demo_ctx, "A-100009").autopay
    assert not tab.autopay_check.isChecked()  # the switch shows what is stored
    assert tab.selected_method().id == cards["1881"]
    assert tab.model.rowCount() == 2  # Alice's removal is shown


# --------------------------------------------------------------------------- Users & licences

M = LicencesModel


def _webinar(db) -> int:
    return db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "JOIN products p ON p.id = s.product_id "
        "WHERE a.account_number = 'A-100016' AND p.code = 'goto_webinar'"
    )


def _seats(db, sub: int) -> set[int]:
    return {
        cid
        for (cid,) in db.reader.rows(
            "SELECT contact_id FROM licence_assignments WHERE subscription_id = :s", {"s": sub}
        )
    }


def _cell(tab: LicencesTab, contact_id: int, sub: int) -> QModelIndex:
    row = next(n for n, c in enumerate(tab.model.contacts) if c.contact_id == contact_id)
    return tab.model.index(row, tab.model.column_of(sub))


def test_apply_after_another_operator_assigned_the_last_seat(
    qtbot, demo_ctx: AppContext, alice: AppContext
) -> None:
    db = demo_ctx.db
    sub = _webinar(db)
    tab = LicencesTab(demo_ctx, account_id(db, "A-100016"))
    _show(qtbot, tab)
    holders = _seats(db, sub)
    free = [c.contact_id for c in tab.model.contacts if c.contact_id not in holders]
    assert len(holders) == 2 and len(free) >= 2  # 3 licences: one seat free
    column = tab.model.column_of(sub)
    assert tab.model.headerData(column, Qt.Orientation.Horizontal) == "GoTo Webinar\n1 of 3 free"

    mine = _cell(tab, free[0], sub)
    tab.table.scrollTo(mine)
    rect = tab.table.visualRect(mine)
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.model.is_staged(free[0], sub)

    # Alice gives the last free seat to someone else
    (seen,) = [
        s.version
        for s in licences.licence_overview(alice, "A-100016").subscriptions
        if s.subscription_id == sub
    ]
    licences.assign_licences(alice, sub, [free[1]], expected_version=seen)
    before = dump(db)

    with answered_message_boxes() as texts:
        qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)
    assert texts == [_said_alice("GoTo Webinar")]
    assert dump(db) == before
    assert _seats(db, sub) == holders | {free[1]}
    # Alice's seat is shown; the user's tick is still staged, and now one too many
    assert tab.model.holds(free[1], sub) and not tab.model.is_staged(free[1], sub)
    assert tab.model.is_staged(free[0], sub)
    assert tab.pending_label.text() == "1 change(s) not applied yet"
    assert (
        tab.model.headerData(column, Qt.Orientation.Horizontal)
        == "GoTo Webinar\n1 too many for 3 licences"
    )
    current = tab.table.currentIndex()  # the cell the user worked on stays current
    assert (current.row(), current.column()) == (mine.row(), mine.column())


def test_apply_unassign_and_assign_sends_the_version_each_call_left(
    qtbot, demo_ctx: AppContext
) -> None:
    """Swapping a seat: unassign then assign on one subscription, both written."""
    db = demo_ctx.db
    sub = _webinar(db)
    tab = LicencesTab(demo_ctx, account_id(db, "A-100016"))
    _show(qtbot, tab)
    holders = sorted(_seats(db, sub))
    free = [c.contact_id for c in tab.model.contacts if c.contact_id not in holders]
    tab.model.stage(holders[0], sub, False)
    tab.model.stage(free[0], sub, True)
    tab.model.stage(free[1], sub, True)
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)
    assert _seats(db, sub) == {holders[1], free[0], free[1]}
    assert tab.pending_label.text() == "Changes applied."


# --------------------------------------------------------------------------- Invoices


def test_dispute_after_another_operator_disputed_keeps_the_note(
    qtbot, demo_ctx: AppContext, alice: AppContext
) -> None:
    db = demo_ctx.db
    tab = InvoicesTab(demo_ctx, account_id(db, "A-100005"))
    _show(qtbot, tab)
    assert tab.current_invoice().number == "INV-2026-000065"
    qtbot.mouseClick(tab.dispute_button, Qt.MouseButton.LeftButton)
    dialog = shown_child(qtbot, tab, DisputeDialog)
    qtbot.keyClicks(dialog.note_edit, "Two licences were never used.")

    # meanwhile Alice notes a dispute on the same invoice
    invoice = tab.current_detail().id
    seen = invoices.invoice_detail(alice, invoice).version
    invoices.dispute_invoice(alice, invoice, "Wrong seats", expected_version=seen)
    before = dump(db)

    with answered_message_boxes() as texts:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert texts == [_said_alice("INV-2026-000065")]
    assert dump(db) == before
    notes = db.reader.rows("SELECT dispute_note FROM invoices WHERE number = 'INV-2026-000065'")
    assert notes == [("Wrong seats",)]
    assert tab.current_invoice().number == "INV-2026-000065"  # the selection stays
    assert "Disputed on 4/26/2026: Wrong seats" in tab.detail_info.text()  # Alice's
    # the user's note is offered again on the fresh invoice
    qtbot.mouseClick(tab.dispute_button, Qt.MouseButton.LeftButton)
    again = shown_child(qtbot, tab, DisputeDialog)
    assert again.note() == "Two licences were never used."
    again.reject()
