"""The Payment methods tab and the add-card / add-bank-account dialog, driven by keys and clicks.

Curated demo data on 2026-04-26: A-100009 has one card, Visa •••• 7719 (12/2027),
autopay off; A-100002 pays by autopay with its only card, Mastercard •••• 5454;
A-100015 is a corporate account paying by invoice at net 30.
"""

from __future__ import annotations

import json

import pytest
from helpers import shown_child
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QPushButton

from billing_desktop.domain.errors import PolicyViolation
from billing_desktop.services.payments import add_card
from billing_desktop.ui.account import payment_methods as tab_module
from billing_desktop.ui.account.payment_methods import PaymentMethodsModel, PaymentMethodsTab
from billing_desktop.ui.dialogs import payment_method_dialog as dialog_module
from billing_desktop.ui.dialogs.payment_method_dialog import PaymentMethodDialog

VISA = "4012 8888 8888 1881"  # a Luhn-valid Visa test number
VISA_DIGITS = VISA.replace(" ", "")
MASTERCARD = "5555 5555 5555 4444"
IBAN = "NL91 ABNA 0417 1643 00"


def _account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def _methods(db, number: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT m.kind, m.brand, m.last4, m.exp_month, m.exp_year, m.is_default "
        "FROM payment_methods m JOIN accounts a ON a.id = m.account_id "
        "WHERE a.account_number = :n ORDER BY m.id",
        {"n": number},
    )


def _rows(tab: PaymentMethodsTab) -> list[tuple[str, ...]]:
    m = tab.model
    return [tuple(m.index(r, c).data() for c in range(m.COLUMN_COUNT)) for r in range(m.rowCount())]


def _select(qtbot, tab: PaymentMethodsTab, label: str) -> None:
    labels = [row[PaymentMethodsModel.METHOD] for row in _rows(tab)]
    rect = tab.table.visualRect(tab.model.index(labels.index(label), 0))
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.selected_method().id is not None


def _choose(qtbot, combo, text: str) -> None:
    """Pick a combo box entry by typing it, as a keyboard user does."""
    combo.setFocus()
    qtbot.keyClicks(combo, text)
    assert combo.currentText() == text


@pytest.fixture
def make_tab(qtbot):
    def make(ctx, number: str) -> PaymentMethodsTab:
        tab = PaymentMethodsTab(ctx, _account_id(ctx.db, number))
        qtbot.addWidget(tab)
        tab.resize(1200, 800)
        tab.show()
        qtbot.waitExposed(tab)
        return tab

    return make


@pytest.fixture
def errors(monkeypatch) -> list:
    shown: list = []
    record = lambda _parent, err: shown.append(err)  # noqa: E731
    monkeypatch.setattr(tab_module, "show_service_error", record)
    monkeypatch.setattr(dialog_module, "show_service_error", record)
    return shown


def _open_dialog(qtbot, tab: PaymentMethodsTab, button: QPushButton) -> PaymentMethodDialog:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return shown_child(qtbot, tab, PaymentMethodDialog)


# --------------------------------------------------------------------------- the list


def test_list_matches_the_database(make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    assert _methods(demo_ctx.db, "A-100009") == [("card", "visa", "7719", 12, 2027, 1)]
    assert _rows(tab) == [
        ("Visa •••• 7719", "Elena Martínez", "12/2027", "Calle de Alcalá 155, 28009 Madrid, ES",
         "Default"),
    ]  # fmt: skip
    assert tab.autopay_check.isVisible() and not tab.autopay_check.isChecked()
    assert not tab.terms_label.isVisible()
    assert not tab.default_button.isEnabled()  # the only method is the default already
    assert tab.remove_button.isEnabled()


def test_model_passes_the_model_tester(qtmodeltester, demo_ctx) -> None:
    from billing_desktop.services.payments import list_payment_methods

    add_card(demo_ctx, "A-100009", number=VISA, exp_month=3, exp_year=2030, holder_name="E M")
    model = PaymentMethodsModel()
    model.set_methods(list_payment_methods(demo_ctx, "A-100009"))
    qtmodeltester.check(model)


def test_corporate_account_pays_by_invoice(make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100015")
    assert tab.terms_label.isVisible()
    assert tab.terms_label.text() == "Pays by invoice (net 30 days)"
    assert not tab.autopay_check.isVisible()
    assert [row[0] for row in _rows(tab)] == ["Invoice (bank transfer)"]


def test_viewer_sees_the_methods_but_changes_nothing(make_tab, as_role) -> None:
    tab = make_tab(as_role("viewer"), "A-100009")
    assert len(_rows(tab)) == 1
    for widget in (tab.add_card_button, tab.add_bank_button, tab.remove_button, tab.autopay_check):
        assert not widget.isEnabled()
    assert tab.add_card_button.toolTip() == "Your role can view this account but not change it."


# --------------------------------------------------------------------------- adding a card


def _leaks(tab: PaymentMethodsTab, needles: tuple[str, ...]) -> list[str]:
    """Every place in the tab's object tree whose value contains one of ``needles``."""
    found: list[str] = []
    seen: set[int] = set()

    def visit(value: object, where: str, depth: int) -> None:
        if id(value) in seen or depth > 4:
            return
        seen.add(id(value))
        if isinstance(value, str):
            compact = value.replace(" ", "").replace("-", "")
            if any(n in value or n in compact for n in needles):
                found.append(where)
            return
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{where}[{key!r}]", depth + 1)
        elif isinstance(value, list | tuple | set | frozenset):
            for n, item in enumerate(value):
                visit(item, f"{where}[{n}]", depth + 1)
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            for key, item in vars(value).items():
                visit(item, f"{where}.{key}", depth + 1)
        elif hasattr(value, "__slots__"):
            for key in value.__slots__:
                visit(getattr(value, key, None), f"{where}.{key}", depth + 1)

    visit(tab, "tab", 0)
    for child in tab.findChildren(QObject):
        visit(child, f"child {child.objectName() or type(child).__name__}", 1)
        if isinstance(child, QLineEdit):
            visit(child.text(), f"text of {child.objectName()}", 1)
    model = tab.model
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                         PaymentMethodsModel.ObjectRole):  # fmt: skip
                visit(model.index(r, c).data(role), f"model {r},{c} role {role}", 1)
    return found


def test_add_a_valid_card_with_the_keyboard(qtbot, make_tab, demo_ctx) -> None:
    db = demo_ctx.db
    tab = make_tab(demo_ctx, "A-100009")
    emitted: list = []
    tab.account_changed.connect(lambda *args: emitted.append(args))
    dialog = _open_dialog(qtbot, tab, tab.add_card_button)
    assert dialog.windowTitle() == "Add card"
    assert not dialog.ok_button.isEnabled()

    qtbot.keyClicks(dialog.number_edit, VISA)
    assert dialog.brand_label.text() == "Visa"
    assert dialog.number_message.text() == ""
    assert dialog.expiry_message.text() == "Choose the expiry month and year."
    assert not dialog.ok_button.isEnabled()
    _choose(qtbot, dialog.month_combo, "03")
    _choose(qtbot, dialog.year_combo, "2030")
    assert dialog.expiry_message.text() == ""
    assert not dialog.ok_button.isEnabled()  # no holder name yet
    qtbot.keyClicks(dialog.holder_edit, "Elena Martinez")
    assert dialog.ok_button.isEnabled()

    added: list = []
    dialog.method_added.connect(added.append)
    after_ok: dict = {}
    number_edit = dialog.number_edit
    dialog.finished.connect(
        lambda _code: after_ok.update(text=number_edit.text(), undo=number_edit.isUndoAvailable())
    )
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.findChildren(PaymentMethodDialog))

    # the field was emptied, without an undo step that would bring the number back
    assert after_ok == {"text": "", "undo": False}
    assert emitted == [()]  # account_changed carries nothing
    assert [info.last4 for info in added] == ["1881"]
    assert VISA_DIGITS not in repr(added)
    # the list: last four only
    assert [row[:3] for row in _rows(tab)] == [
        ("Visa •••• 7719", "Elena Martínez", "12/2027"),
        ("Visa •••• 1881", "Elena Martinez", "03/2030"),
    ]
    assert tab.selected_method().last4 == "1881"
    assert tab.status_label.text() == "Visa •••• 1881 was added."
    assert _leaks(tab, (VISA_DIGITS, VISA_DIGITS[:12])) == []
    # the database: brand, last four, expiry — the number nowhere
    assert _methods(db, "A-100009")[-1] == ("card", "visa", "1881", 3, 2030, 0)
    for table in ("payment_methods", "audit_entries", "emails"):
        dump = json.dumps(db.reader.rows(f"SELECT * FROM {table}"), default=str)
        assert VISA_DIGITS not in dump, table


def test_invalid_number_keeps_ok_disabled_with_a_message(qtbot, make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    dialog = _open_dialog(qtbot, tab, tab.add_card_button)
    qtbot.keyClicks(dialog.holder_edit, "Elena Martinez")
    _choose(qtbot, dialog.month_combo, "03")
    _choose(qtbot, dialog.year_combo, "2030")
    qtbot.keyClicks(dialog.number_edit, "4012 8888")
    assert dialog.number_message.text() == "Keep typing the card number."
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.number_edit, " 8888 1882")  # the last digit breaks the Luhn check
    assert dialog.number_message.text() == "The card number is not valid. Check the digits."
    assert dialog.brand_label.text() == ""
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.number_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.number_edit, "1")
    assert dialog.number_message.text() == ""
    assert dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.number_edit, "abc")  # letters are not accepted at all
    assert dialog.number_edit.text() == VISA
    dialog.reject()
    qtbot.waitUntil(lambda: not tab.findChildren(PaymentMethodDialog))
    assert len(_methods(demo_ctx.db, "A-100009")) == 1


def test_an_expired_card_is_refused_as_you_type(qtbot, make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    dialog = _open_dialog(qtbot, tab, tab.add_card_button)
    qtbot.keyClicks(dialog.number_edit, MASTERCARD)
    assert dialog.brand_label.text() == "Mastercard"
    qtbot.keyClicks(dialog.holder_edit, "Elena Martinez")
    _choose(qtbot, dialog.month_combo, "03")
    _choose(qtbot, dialog.year_combo, "2026")  # the clock says 2026-04-26
    assert dialog.expiry_message.text() == "The card expired in 03/2026."
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.month_combo, Qt.Key.Key_Down)  # 04: valid through its last day
    assert dialog.month_combo.currentText() == "04"
    assert dialog.ok_button.isEnabled()
    dialog.reject()


def test_a_refused_card_keeps_the_dialog_open(qtbot, make_tab, demo_ctx, errors, monkeypatch):
    tab = make_tab(demo_ctx, "A-100009")

    def refuse(*_args, **_kwargs):
        raise PolicyViolation("refused", "Refused.")

    monkeypatch.setattr(dialog_module, "add_card", refuse)
    dialog = _open_dialog(qtbot, tab, tab.add_card_button)
    qtbot.keyClicks(dialog.number_edit, VISA)
    _choose(qtbot, dialog.month_combo, "03")
    _choose(qtbot, dialog.year_combo, "2030")
    qtbot.keyClicks(dialog.holder_edit, "Elena Martinez")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert [e.code for e in errors] == ["refused"]
    assert dialog.isVisible() and dialog.number_edit.text() == VISA  # input kept to correct
    dialog.reject()
    assert dialog.number_edit.text() == ""  # forgotten on Cancel too


# --------------------------------------------------------------------------- bank account


def test_add_a_bank_account(qtbot, make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    dialog = _open_dialog(qtbot, tab, tab.add_bank_button)
    assert dialog.windowTitle() == "Add bank account"
    qtbot.keyClicks(dialog.holder_edit, "Martinez Asesores")
    qtbot.keyClicks(dialog.number_edit, IBAN[:-1] + "1")  # wrong check digits
    assert dialog.number_message.text() == "The IBAN is not valid. Check the digits."
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.number_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.number_edit, "0")
    assert dialog.brand_label.text() == "NL •••• 4300"
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert _methods(demo_ctx.db, "A-100009")[-1] == ("bank_account", None, "4300", None, None, 0)
    assert _rows(tab)[-1][:3] == ("Bank account (NL) •••• 4300", "Martinez Asesores", "—")
    assert _leaks(tab, ("NL91ABNA0417164300", "0417164300")) == []


# --------------------------------------------------------------------------- default, remove


def test_set_as_default(qtbot, make_tab, demo_ctx) -> None:
    db = demo_ctx.db
    add_card(demo_ctx, "A-100009", number=MASTERCARD, exp_month=6, exp_year=2031, holder_name="E")
    tab = make_tab(demo_ctx, "A-100009")
    _select(qtbot, tab, "Mastercard •••• 4444")
    assert tab.default_button.isEnabled()
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(tab.default_button, Qt.MouseButton.LeftButton)
    assert [(m[2], m[5]) for m in _methods(db, "A-100009")] == [("7719", 0), ("4444", 1)]
    # default first, marked
    assert [(row[0], row[4]) for row in _rows(tab)] == [
        ("Mastercard •••• 4444", "Default"),
        ("Visa •••• 7719", ""),
    ]
    assert tab.selected_method().last4 == "4444"
    assert not tab.default_button.isEnabled()
    assert tab.status_label.text() == "Mastercard •••• 4444 is now the default payment method."


def test_remove_a_method_after_confirmation(qtbot, make_tab, demo_ctx) -> None:
    add_card(demo_ctx, "A-100009", number=MASTERCARD, exp_month=6, exp_year=2031, holder_name="E")
    tab = make_tab(demo_ctx, "A-100009")
    _select(qtbot, tab, "Mastercard •••• 4444")
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, tab, QMessageBox, "removeMethodConfirmation")
    assert box.text() == "Remove Mastercard •••• 4444 from this account?"
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(box.findChild(QPushButton, "confirmRemove"), Qt.MouseButton.LeftButton)
    assert [m[2] for m in _methods(demo_ctx.db, "A-100009")] == ["7719"]
    assert [row[0] for row in _rows(tab)] == ["Visa •••• 7719"]


def test_removing_the_only_autopay_card_is_refused(qtbot, make_tab, demo_ctx, errors) -> None:
    tab = make_tab(demo_ctx, "A-100002")
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, tab, QMessageBox, "removeMethodConfirmation")
    qtbot.mouseClick(box.findChild(QPushButton, "confirmRemove"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(errors))
    assert errors[0].code == "last_autopay_method"
    assert [m[2] for m in _methods(demo_ctx.db, "A-100002")] == ["5454"]
    assert [row[0] for row in _rows(tab)] == ["Mastercard •••• 5454"]


# --------------------------------------------------------------------------- autopay


def test_autopay_toggle_is_persisted(qtbot, make_tab, demo_ctx) -> None:
    db = demo_ctx.db

    def stored() -> int:
        return db.reader.scalar("SELECT autopay FROM accounts WHERE account_number = 'A-100009'")

    tab = make_tab(demo_ctx, "A-100009")
    assert stored() == 0
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(tab.autopay_check, Qt.MouseButton.LeftButton)
    assert stored() == 1
    assert tab.autopay_check.isChecked()
    assert tab.status_label.text() == "Autopay is on."
    assert tab.autopay_note.text() == (
        "Renewal invoices are charged at once to the default payment method."
    )
    tab.autopay_check.setFocus()
    with qtbot.waitSignal(tab.account_changed):
        qtbot.keyClick(tab.autopay_check, Qt.Key.Key_Space)
    assert stored() == 0
    assert not tab.autopay_check.isChecked()
    assert (
        db.reader.scalar(
            "SELECT count(*) FROM audit_entries WHERE action = 'account.autopay_changed'"
        )
        == 2
    )


def test_autopay_without_a_method_is_refused_and_the_switch_reverts(
    qtbot, make_tab, demo_ctx, errors
) -> None:
    tab = make_tab(demo_ctx, "A-100003")  # expired trial: no payment method on file
    assert _rows(tab) == []
    assert tab.empty_label.isVisible()
    qtbot.mouseClick(tab.autopay_check, Qt.MouseButton.LeftButton)
    assert [e.code for e in errors] == ["autopay_needs_method"]
    assert not tab.autopay_check.isChecked()
