"""File ▸ Operators…: the administrator's screen (issue 8 item 2), driven by clicks and keys.

Every test checks what the dialog shows and what the database holds after
the real buttons, forms and message boxes were used.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime, timedelta

import pytest
from helpers import shown_child
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QInputDialog,
    QMessageBox,
    QPushButton,
)

from billing_desktop.services import operator_admin as admin
from billing_desktop.services.context import OperatorInfo
from billing_desktop.services.errors import ConflictError
from billing_desktop.services.signin import hash_password, verify_password
from billing_desktop.store.models import Operator
from billing_desktop.ui.dialogs import operators_dialog as dialog_module
from billing_desktop.ui.dialogs.operators_dialog import (
    CorporateAccountsModel,
    OperatorFormDialog,
    OperatorsDialog,
    OperatorsModel,
    install_operator_admin,
)
from billing_desktop.ui.main_window import MainWindow

PASSWORD = "lantern orchard quietly 42"


@functools.cache
def hashed(password: str) -> str:
    """One real Argon2id hash per password for the whole module (hashing takes a moment)."""
    return hash_password(password)


def add_operator(db, email: str, name: str, role: str, **fields) -> int:
    with db.transaction() as session:
        values = {
            "active": True, "created_at": datetime(2026, 1, 5),
            "password_hash": hashed(PASSWORD),
        }  # fmt: skip
        values.update(fields)
        op = Operator(email=email, name=name, role=role, **values)
        session.add(op)
        session.flush()
        return op.id


@pytest.fixture
def people(ctx, make_account) -> dict[str, int]:
    ids = {
        "ida": add_operator(ctx.db, "ida.blu@billing-desk.example", "Ida Blu", "representative"),
        "bruno": add_operator(
            ctx.db, "bruno@billing-desk.example", "Bruno Verdi", "support",
            last_signed_in_at=datetime(2026, 4, 25, 17, 5),
        ),
        "old": add_operator(
            ctx.db, "old@billing-desk.example", "Old Timer", "viewer", active=False
        ),
    }  # fmt: skip
    ids["zeta"] = make_account("Zeta Corp", type="corporate", account_number="A-100002",
                               representative_id=ids["ida"])  # fmt: skip
    ids["alfa"] = make_account("Alfa Holding", type="corporate", account_number="A-100001")
    make_account("Small Shop", type="standard", account_number="A-100003")
    return ids


@pytest.fixture
def errors(monkeypatch) -> list:
    """Service errors shown in a message box (which would block the test)."""
    shown: list = []
    monkeypatch.setattr(dialog_module, "show_service_error", lambda _p, err: shown.append(err))
    return shown


@pytest.fixture
def dialog(qtbot, ctx, people, errors) -> OperatorsDialog:
    widget = OperatorsDialog(ctx)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def texts(model, column: int) -> list[str]:
    return [model.index(row, column).data() for row in range(model.rowCount())]


def select(qtbot, table, text: str, column: int = 0) -> None:
    model = table.model()
    row = texts(model, column).index(text)
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton,
        pos=table.visualRect(model.index(row, column)).center(),
    )  # fmt: skip
    assert table.selectionModel().selectedRows()[0].row() == row


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def fill(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def operator(db, email: str) -> tuple:
    return db.reader.rows(
        "SELECT name, role, active, password_hash, version FROM operators WHERE email = :e",
        {"e": email},
    )[0]


# --------------------------------------------------------------------------- the list


def test_the_operators_are_listed_with_role_status_and_last_sign_in(dialog, ctx) -> None:
    model = dialog.operators_model
    names = texts(model, OperatorsModel.NAME)
    assert set(names) == {"Ida Blu", "Bruno Verdi", "Old Timer", ctx.operator.name}
    assert names == sorted(names, key=str.lower)
    row = {name: i for i, name in enumerate(names)}

    def cell(name: str, column: int) -> str:
        return model.index(row[name], column).data()

    assert cell("Bruno Verdi", OperatorsModel.EMAIL) == "bruno@billing-desk.example"
    assert cell("Bruno Verdi", OperatorsModel.ROLE) == "Support"
    assert cell("Ida Blu", OperatorsModel.ROLE) == "Representative"
    assert cell("Bruno Verdi", OperatorsModel.STATUS) == "Active"
    assert cell("Old Timer", OperatorsModel.STATUS) == "Disabled"
    assert cell(ctx.operator.name, OperatorsModel.STATUS) == "No password"  # the local operator
    assert cell("Bruno Verdi", OperatorsModel.LAST_SIGN_IN) == "4/25/2026 5:05\u202fPM"
    assert cell("Ida Blu", OperatorsModel.LAST_SIGN_IN) == "Never"
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Name", "Email", "Role", "Status", "Last sign-in",
    ]  # fmt: skip


def test_a_locked_operator_says_until_when(qtbot, ctx, errors) -> None:
    add_operator(ctx.db, "hugo@billing-desk.example", "Hugo", "support",
                 locked_until=datetime.now() + timedelta(minutes=10))  # fmt: skip
    dialog = OperatorsDialog(ctx)
    qtbot.addWidget(dialog)
    model = dialog.operators_model
    row = texts(model, OperatorsModel.NAME).index("Hugo")
    index = model.index(row, OperatorsModel.STATUS)
    assert index.data() == "Locked"
    assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(
        "Too many failed sign-ins: locked until "
    )


def test_the_models_pass_the_qt_model_tester(qtmodeltester, dialog) -> None:
    qtmodeltester.check(dialog.operators_model)
    qtmodeltester.check(dialog.accounts_model)


# --------------------------------------------------------------------------- operators


def test_new_operator(qtbot, dialog, ctx) -> None:
    click(qtbot, dialog.new_button)
    form = shown_child(qtbot, dialog, OperatorFormDialog, "newOperatorDialog")
    assert form.windowTitle() == "New Operator"
    fill(qtbot, form.name_edit, "Carla Gialli")
    fill(qtbot, form.email_edit, "carla@billing-desk.example")
    form.role_combo.setFocus()
    while form.role_combo.currentText() != "Viewer":
        qtbot.keyClick(form.role_combo, Qt.Key.Key_Down)
    fill(qtbot, form.password_edit, "short")
    fill(qtbot, form.confirm_edit, "short")
    click(qtbot, form.ok_button)

    # refused by the policy: said in the form, which keeps the rest of the input
    assert form.isVisible()
    assert form.message.text() == "The password must have at least 12 characters."
    assert form.password_edit.text() == "" and form.name_edit.text() == "Carla Gialli"
    assert ctx.db.reader.scalar("SELECT COUNT(*) FROM operators WHERE name = 'Carla Gialli'") == 0

    fill(qtbot, form.password_edit, PASSWORD)
    fill(qtbot, form.confirm_edit, PASSWORD)
    click(qtbot, form.ok_button)
    qtbot.waitUntil(lambda: not form.isVisible())

    name, role, active, password_hash, _version = operator(ctx.db, "carla@billing-desk.example")
    assert (name, role, active) == ("Carla Gialli", "viewer", 1)
    assert verify_password(password_hash, PASSWORD)
    assert dialog.selected_operator().email == "carla@billing-desk.example"
    assert dialog.status_label.text() == "Created the operator Carla Gialli (Viewer)."


def test_change_role(qtbot, dialog, ctx) -> None:
    select(qtbot, dialog.operators_table, "Bruno Verdi")
    click(qtbot, dialog.role_button)
    box = shown_child(qtbot, dialog, QInputDialog, "roleInput")
    assert box.labelText() == "Role of Bruno Verdi:"
    combo = box.findChild(QComboBox)
    assert combo.currentText() == "Support"
    combo.setCurrentText("Administrator")
    click(qtbot, box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))

    qtbot.waitUntil(lambda: operator(ctx.db, "bruno@billing-desk.example")[1] == "admin")
    assert dialog.selected_operator().role == "admin"
    assert dialog.status_label.text() == "Bruno Verdi is now Administrator."


def test_disable_asks_first_and_enable_does_not(qtbot, dialog, ctx) -> None:
    select(qtbot, dialog.operators_table, "Bruno Verdi")
    assert dialog.active_button.text() == "&Disable…"
    click(qtbot, dialog.active_button)
    box = shown_child(qtbot, dialog, QMessageBox, "disableOperatorConfirmation")
    assert box.text() == "Disable Bruno Verdi (bruno@billing-desk.example)?"
    click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
    assert operator(ctx.db, "bruno@billing-desk.example")[2] == 1

    click(qtbot, dialog.active_button)
    box = shown_child(qtbot, dialog, QMessageBox, "disableOperatorConfirmation")
    click(qtbot, box.findChild(QPushButton, "confirmDisable"))
    qtbot.waitUntil(lambda: operator(ctx.db, "bruno@billing-desk.example")[2] == 0)
    assert dialog.status_label.text() == "Disabled Bruno Verdi."
    assert dialog.active_button.text() == "&Enable"

    click(qtbot, dialog.active_button)
    assert operator(ctx.db, "bruno@billing-desk.example")[2] == 1
    assert dialog.status_label.text() == "Enabled Bruno Verdi."


def test_you_cannot_disable_yourself(qtbot, dialog, ctx) -> None:
    select(qtbot, dialog.operators_table, ctx.operator.name)
    assert not dialog.active_button.isEnabled()
    assert dialog.active_button.toolTip() == (
        "You cannot disable yourself; another administrator can."
    )
    assert dialog.role_button.isEnabled() and dialog.password_button.isEnabled()


def test_reset_password(qtbot, dialog, ctx) -> None:
    select(qtbot, dialog.operators_table, "Ida Blu")
    click(qtbot, dialog.password_button)
    form = shown_child(qtbot, dialog, OperatorFormDialog, "resetPasswordDialog")
    assert not form.name_edit.isVisible() and not form.role_combo.isVisible()
    fill(qtbot, form.password_edit, "copper kettle whistles 7")
    fill(qtbot, form.confirm_edit, "copper kettle whistles")
    click(qtbot, form.ok_button)
    assert form.message.text() == "The two passwords are not the same; type it again."

    fill(qtbot, form.confirm_edit, "copper kettle whistles 7")
    click(qtbot, form.ok_button)
    qtbot.waitUntil(lambda: not form.isVisible())
    assert verify_password(operator(ctx.db, "ida.blu@billing-desk.example")[3],
                           "copper kettle whistles 7")  # fmt: skip
    assert dialog.status_label.text() == "Set a new password for Ida Blu."


def test_a_change_made_meanwhile_is_reported_and_the_list_reloaded(
    qtbot, dialog, ctx, errors, people
) -> None:
    select(qtbot, dialog.operators_table, "Bruno Verdi")
    # another administrator changes Bruno after the list was read
    eva = add_operator(ctx.db, "eva@billing-desk.example", "Eva Admin", "admin")
    eva_ctx = dataclasses.replace(
        ctx, operator=OperatorInfo(eva, "eva@billing-desk.example", "Eva Admin", "admin")
    )
    admin.change_role(eva_ctx, people["bruno"], "viewer")
    before = operator(ctx.db, "bruno@billing-desk.example")

    click(qtbot, dialog.active_button)
    box = shown_child(qtbot, dialog, QMessageBox, "disableOperatorConfirmation")
    click(qtbot, box.findChild(QPushButton, "confirmDisable"))

    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], ConflictError)
    assert operator(ctx.db, "bruno@billing-desk.example") == before  # not disabled
    assert dialog.selected_operator().role == "viewer"  # the current data, still selected
    assert "Eva Admin" in texts(dialog.operators_model, OperatorsModel.NAME)


# --------------------------------------------------------------------------- representatives


def test_corporate_accounts_and_their_representatives(qtbot, dialog) -> None:
    bar = dialog.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    assert dialog.tabs.currentWidget() is dialog.accounts_page
    model = dialog.accounts_model
    assert texts(model, CorporateAccountsModel.ACCOUNT) == ["A-100001", "A-100002"]
    assert texts(model, CorporateAccountsModel.REPRESENTATIVE) == ["None", "Ida Blu"]

    fill(qtbot, dialog.search_edit, "zet")
    qtbot.waitUntil(lambda: texts(model, CorporateAccountsModel.ACCOUNT) == ["A-100002"])
    fill(qtbot, dialog.search_edit, "nothing like it")
    qtbot.waitUntil(lambda: dialog.accounts_empty.isVisible())
    assert dialog.accounts_empty.text() == "No corporate account matches."
    assert not dialog.assign_button.isEnabled()


def test_assign_and_remove_a_representative(qtbot, dialog, ctx, people) -> None:
    dialog.tabs.setCurrentIndex(1)
    select(qtbot, dialog.accounts_table, "A-100001")
    assert not dialog.unassign_button.isEnabled()
    click(qtbot, dialog.assign_button)
    box = shown_child(qtbot, dialog, QInputDialog, "representativeInput")
    assert box.labelText() == "Representative of Alfa Holding (A-100001):"
    combo = box.findChild(QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Ida Blu <ida.blu@billing-desk.example>"
    ]
    click(qtbot, box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))

    def representative() -> int | None:
        return ctx.db.reader.scalar(
            "SELECT representative_id FROM accounts WHERE id = :i", {"i": people["alfa"]}
        )

    qtbot.waitUntil(lambda: representative() == people["ida"])
    assert dialog.status_label.text() == "Ida Blu is now the representative of A-100001."
    assert texts(dialog.accounts_model, CorporateAccountsModel.REPRESENTATIVE) == [
        "Ida Blu", "Ida Blu",
    ]  # fmt: skip

    assert dialog.unassign_button.isEnabled()
    click(qtbot, dialog.unassign_button)
    assert representative() is None
    assert dialog.status_label.text() == "A-100001 no longer has a representative."


def test_without_representatives_the_dialog_says_what_to_do(qtbot, ctx, errors, make_account):
    make_account("Alfa Holding", type="corporate")
    dialog = OperatorsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentIndex(1)
    click(qtbot, dialog.assign_button)
    assert dialog.status_label.text() == (
        "There is no active representative yet. Create an operator with the role "
        "Representative first."
    )
    assert not dialog.findChildren(QInputDialog)


# --------------------------------------------------------------------------- the menu


def test_the_menu_action_is_for_administrators(qtbot, ctx, people) -> None:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    menu = install_operator_admin(win)
    actions = win.file_menu.actions()
    assert actions[actions.index(win.settings_action) + 1] is menu.action
    assert menu.action.text() == "&Operators…"
    assert menu.action.isEnabled()

    menu.action.trigger()
    dialog = shown_child(qtbot, win, OperatorsDialog, "operatorsDialog")
    assert dialog.windowTitle() == "Operators"
    dialog.reject()
    qtbot.waitUntil(lambda: menu.dialog is None)


@pytest.mark.parametrize("role", ["support", "representative", "trainer", "viewer"])
def test_the_menu_action_is_disabled_for_other_roles(qtbot, ctx, people, role) -> None:
    me = add_operator(ctx.db, f"{role}@billing-desk.example", role.title(), role)
    other = dataclasses.replace(
        ctx, operator=OperatorInfo(me, f"{role}@billing-desk.example", role.title(), role)
    )
    win = MainWindow(other)
    qtbot.addWidget(win)
    menu = install_operator_admin(win)
    assert not menu.action.isEnabled()
    menu.show_dialog()  # even when asked directly
    assert menu.dialog is None
