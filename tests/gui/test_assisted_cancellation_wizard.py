"""The assisted cancellation wizard on the curated accounts of article 002 (2026-04-26, en_US).

* A-100005 — LogMeIn Resolve Premium, 8 licences (5 assigned), 24-month term billed
  monthly, an open invoice of €512.00: every precondition fails at first.
* A-100006 — GoTo Connect: only super admin Willem may ask, not billing admin Fleur.
* A-100017 — LogMeIn Resolve Standard, month-to-month (period 04-10 – 05-10), 3 licences
  assigned, nothing owed; plus, in one test, a 15-month agreement with three months left.

Each test drives the real widgets with clicks and keys and checks what is on screen,
then what is in the database and the outbox.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QPoint, Qt, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QWidget,
    QWizard,
)
from sqlalchemy import func, select

from billing_desktop.services import cancellation as cx
from billing_desktop.store.models import (
    Account,
    AuditEntry,
    Contact,
    Email,
    Invoice,
    LicenceAssignment,
    Plan,
    Product,
    Subscription,
)
from billing_desktop.ui.formatting import format_money
from billing_desktop.ui.wizards.assisted import AssistedCancellationWizard

# The offscreen platform cannot raise windows or grab the keyboard for popups
# (message boxes, file dialogs): a limit of the test platform, not of the wizard.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing)")

A100005 = {
    "account_id": "A-100005",
    "billing_admin_email": "sanne.devries@vanderberg-techniek.example",
    "last4": "5100",
    "billing_address": "Maliebaan 48",
    "postal_code": "3581 CR",
}
A100006 = {
    "account_id": "A-100006",
    "billing_admin_email": "fleur.jansen@bakkerjansen.example",
    "last4": "4417",
    "billing_address": "Waalhaven Oostzijde 85",
    "postal_code": "3087 BM",
}
A100017 = {
    "account_id": "A-100017",
    "billing_admin_email": "stefan.gruber@gruber-elektrotechnik.example",
    "last4": "2817",
    "billing_address": "Annenstraße 34",
    "postal_code": "8020",
}


# --------------------------------------------------------------------------- helpers


def texts(widget: QWidget) -> list[str]:
    """What a user reads in ``widget``: every visible, non-empty label."""
    return [
        label.text()
        for label in widget.findChildren(QLabel)
        if label.isVisibleTo(widget) and label.text()
    ]


def account_id(ctx, number: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(select(Account.id).where(Account.account_number == number))


def sub_id(ctx, number: str, product: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(
            select(Subscription.id)
            .join(Account)
            .where(Account.account_number == number, Subscription.product.has(code=product))
            .order_by(Subscription.id)
        )


def contact_id(ctx, number: str, first_name: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(
            select(Contact.id)
            .join(Account)
            .where(Account.account_number == number, Contact.first_name == first_name)
        )


def snapshot(db_path: Path, *tables: str) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db_path)
    try:
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        con.close()


BUSINESS_TABLES = (
    "subscriptions",
    "subscription_addons",
    "invoices",
    "invoice_lines",
    "payments",
    "emails",
    "licence_assignments",
)


def audit_actions(ctx, account: int) -> list[str]:
    with ctx.db.sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.account_id == account)
                .order_by(AuditEntry.id)
            )
        )


def outbox(ctx, account: int) -> list[tuple[str, str]]:
    with ctx.db.sessions() as s:
        return [
            (e.kind, e.to_address)
            for e in s.scalars(select(Email).where(Email.account_id == account).order_by(Email.id))
        ]


def button(wizard: QWizard, which: QWizard.WizardButton) -> QAbstractButton:
    return wizard.button(which)


def next_button(wizard: QWizard) -> QAbstractButton:
    page = wizard.currentPage()
    if page is not None and page.isCommitPage():
        return wizard.button(QWizard.WizardButton.CommitButton)
    return wizard.button(QWizard.WizardButton.NextButton)


def click(qtbot, widget: QAbstractButton) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget.text()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def tick(qtbot, box: QCheckBox) -> None:
    """Click a check box on its indicator (its centre may be empty space)."""
    assert box.isVisible() and box.isEnabled(), box.text()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def go_next(qtbot, wizard: QWizard, expected: int) -> None:
    click(qtbot, next_button(wizard))
    qtbot.waitUntil(lambda: wizard.currentId() == expected)


def confirm(qtbot, wizard: QWizard, name: str) -> None:
    """Click the accept button of the confirmation box ``name``."""
    qtbot.waitUntil(lambda: wizard.findChild(QMessageBox, name) is not None)
    box = wizard.findChild(QMessageBox, name)
    qtbot.waitUntil(box.isVisible)
    click(qtbot, box.findChild(QAbstractButton, f"{name}Accept"))
    qtbot.waitUntil(lambda: wizard.findChild(QMessageBox, name) is None)


@pytest.fixture
def open_wizard(qtbot):
    def make(ctx, number: str, subscription: int | None = None) -> AssistedCancellationWizard:
        wizard = AssistedCancellationWizard(ctx, account_id(ctx, number), subscription)
        qtbot.addWidget(wizard)
        wizard.open()
        qtbot.waitExposed(wizard)
        return wizard

    return make


def fill_verify(qtbot, wizard: AssistedCancellationWizard, answers: dict[str, str]) -> None:
    page = wizard.verify_page
    for code, value in answers.items():
        edit = page.edits[code]
        edit.clear()
        qtbot.keyClicks(edit, value)


def verify(qtbot, wizard: AssistedCancellationWizard, answers: dict[str, str]) -> None:
    fill_verify(qtbot, wizard, answers)
    click(qtbot, wizard.verify_page.verify_button)


def choose_requester(qtbot, wizard: AssistedCancellationWizard, name: str) -> None:
    combo = wizard.requester_page.contact_combo
    index = next(i for i in range(combo.count()) if combo.itemText(i).startswith(name))
    combo.setFocus()
    combo.setCurrentIndex(index)


def row_passed(wizard: AssistedCancellationWizard, code: str) -> bool:
    checklist = wizard.state.checklist
    mark = wizard.checklist_page.rows[code].mark
    return (
        checklist is not None
        and checklist.item(code).passed
        and mark.text() == "\u2714"
        and wizard.checklist_page.rows[code].isVisible()
    )


def export_through_dialog(qtbot, wizard: AssistedCancellationWizard, target: Path) -> None:
    page = wizard.checklist_page
    click(qtbot, page.export_button)
    qtbot.waitUntil(lambda: wizard.findChild(QFileDialog, "exportSaveDialog") is not None)
    dialog = wizard.findChild(QFileDialog, "exportSaveDialog")
    assert dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    assert dialog.selectedFiles()[0].endswith("A-100005-export-2026-04-26.zip") or (
        dialog.selectedFiles()[0].endswith("-export-2026-04-26.zip")
    )
    dialog.selectFile(str(target))
    dialog.accept()
    qtbot.waitUntil(lambda: row_passed(wizard, "data_backed_up"), timeout=10000)


def to_checklist(qtbot, wizard, answers, requester) -> None:
    verify(qtbot, wizard, answers)
    qtbot.waitUntil(lambda: next_button(wizard).isEnabled())
    go_next(qtbot, wizard, wizard.PAGE_REQUESTER)
    choose_requester(qtbot, wizard, requester)
    qtbot.waitUntil(lambda: next_button(wizard).isEnabled())
    go_next(qtbot, wizard, wizard.PAGE_CHECKLIST)


# --------------------------------------------------------------------------- article 002


def test_a100005_each_precondition_blocks_next_until_fixed(
    demo_ctx, db_path, open_wizard, qtbot, tmp_path
) -> None:
    """The article's path: verify, requester, every precondition resolved on the page
    (Pay balance, Unassign all, Export account data), what is still billed, confirm."""
    resolve = sub_id(demo_ctx, "A-100005", "logmein_resolve")
    acct = account_id(demo_ctx, "A-100005")
    wizard = open_wizard(demo_ctx, "A-100005", resolve)
    completed = []
    wizard.completed.connect(lambda: completed.append(True))
    assert wizard.windowTitle() == "Assisted cancellation – A-100005"
    assert wizard.verify_page.title() == "Verify the caller"
    assert not next_button(wizard).isEnabled()

    # 1. Verify caller: a wrong postal code is named next to its field
    verify(qtbot, wizard, {**A100005, "postal_code": "3581 CS"})
    page = wizard.verify_page
    assert page.marks["postal_code"].text() == (
        "\u2718 The postal code does not match the payment method's."
    )
    assert page.marks["last4"].text() == "\u2714 Matches"
    assert "Postal code did not match" in page.error_shown()
    assert not next_button(wizard).isEnabled()
    page.edits["postal_code"].clear()
    qtbot.keyClicks(page.edits["postal_code"], "3581 CR")
    click(qtbot, page.verify_button)
    assert page.marks["postal_code"].text() == "\u2714 Matches"
    assert page.error_shown() == ""
    assert next_button(wizard).isEnabled()
    assert audit_actions(demo_ctx, acct) == ["verify_caller", "verify_caller"]
    go_next(qtbot, wizard, wizard.PAGE_REQUESTER)

    # 2. Requester: Jeroen is a plain user, the rule is named; Sanne (billing admin) may
    rp = wizard.requester_page
    assert "LogMeIn Resolve: Only a super admin or a billing admin can request cancellation." in (
        texts(rp)
    )
    choose_requester(qtbot, wizard, "Jeroen Smit")
    assert rp.verdict.text() == (
        "Jeroen Smit may not ask to cancel LogMeIn Resolve. "
        "Only a super admin or a billing admin can request cancellation."
    )
    assert not next_button(wizard).isEnabled()
    choose_requester(qtbot, wizard, "Sanne de Vries")
    assert rp.verdict.text() == "Sanne de Vries may request this cancellation."
    go_next(qtbot, wizard, wizard.PAGE_CHECKLIST)

    # 3. Before you cancel: three items fail, Next stays disabled
    cp = wizard.checklist_page
    assert "only change made before the final Cancel subscriptions button" in cp.note.text()
    assert cp.rows["no_outstanding_balance"].detail.text() == (
        "The account has an outstanding balance of €512.00; it must be paid before cancelling."
    )
    assert cp.rows["licences_unassigned"].detail.text() == (
        "5 licences are still assigned to users (LogMeIn Resolve); unassign them first."
    )
    assert cp.terms.value(f"terms_{resolve}") == (
        "Fixed term of 24 months, billed monthly. The agreement runs from 2/21/2025 to "
        "2/21/2027. Cancelled by 1/22/2027, it does not renew."
    )
    for code in ("no_outstanding_balance", "licences_unassigned", "data_backed_up"):
        assert cp.rows[code].mark.text() == "\u2718"
    assert not next_button(wizard).isEnabled()

    # Pay balance → confirmation → paid with the Mastercard on file
    click(qtbot, cp.pay_button)
    box = wizard.findChild(QMessageBox, "payBalanceConfirmation")
    assert box.text() == "Charge €512.00 to Mastercard •••• 5100 for account A-100005?"
    confirm(qtbot, wizard, "payBalanceConfirmation")
    assert row_passed(wizard, "no_outstanding_balance")
    assert not cp.pay_button.isVisible()
    assert not next_button(wizard).isEnabled()

    # Unassign all → confirmation → the five seats are free
    click(qtbot, cp.unassign_button)
    box = wizard.findChild(QMessageBox, "unassignConfirmation")
    assert "LogMeIn Resolve" in box.text()
    confirm(qtbot, wizard, "unassignConfirmation")
    assert row_passed(wizard, "licences_unassigned")
    assert not next_button(wizard).isEnabled()
    with demo_ctx.db.sessions() as s:
        assert (
            s.scalar(select(func.count()).where(LicenceAssignment.subscription_id == resolve)) == 0
        )

    # Export account data → save dialog → background export → ticks
    target = tmp_path / "van-der-berg.zip"
    export_through_dialog(qtbot, wizard, target)
    assert target.is_file()
    assert cp.export_note.text() == f"The account's data was exported to {target}."
    qtbot.waitUntil(lambda: next_button(wizard).isEnabled())
    go_next(qtbot, wizard, wizard.PAGE_SELECTION)

    # 4. What to cancel: the subscription the wizard was opened for, its add-on with it
    sp = wizard.selection_page
    box = sp.sub_boxes[resolve]
    assert box.isChecked() and box.text() == "LogMeIn Resolve Premium, 8 licence(s)"
    [addon] = sp.addon_boxes.values()
    assert addon.isChecked() and not addon.isEnabled()
    go_next(qtbot, wizard, wizard.PAGE_BILLED)

    # 5. What will still be billed: 10 months (the current one + 9), €4,608.00 now
    bp = wizard.billed_page
    form = bp.item_forms[f"sub_{resolve}"]
    k = f"sub_{resolve}"
    assert form.value(f"{k}_period") == "4/21/2026 – 5/20/2026"
    assert form.value(f"{k}_period_amount") == "€512.00"
    assert form.value(f"{k}_additional") == "€4,608.00"
    assert form.value(f"{k}_months") == "10 month(s)"
    assert form.value(f"{k}_still") == "€5,120.00"
    assert form.value(f"{k}_until") == "2/21/2027"
    assert form.value(f"{k}_refund") == "€0.00"
    assert bp.totals.value("termination") == "€4,608.00"
    assert bp.totals.value("termination_vat") == "€0.00 (reverse charge)"
    assert bp.no_refund.text().startswith("No refund")
    shown_total = bp.totals.value("termination")
    go_next(qtbot, wizard, wizard.PAGE_CONFIRM)

    # 6. Confirm: a reason is required, then Cancel subscriptions
    conf = wizard.confirm_page
    commit = next_button(wizard)
    assert commit.text() == "Cancel &subscriptions"
    assert not commit.isEnabled()
    assert conf.summary.value("requester") == "Sanne de Vries (Billing admin)"
    assert conf.summary.value("still") == "€5,120.00"
    conf.reason_combo.setCurrentIndex(conf.reason_combo.findData("no_longer_needed"))
    assert commit.isEnabled()
    before_emails = outbox(demo_ctx, acct)
    click(qtbot, commit)
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.PAGE_RESULT)
    assert completed == [True]

    # Result
    result = wizard.result_page
    assert result.headline.text() == "1 item(s) cancelled. Auto-renewal is off."
    assert result.facts.value(f"item_sub_{resolve}") == (
        "active until 2/21/2027, still billed €5,120.00"
    )
    number = wizard.state.result.termination_invoice_number
    assert result.facts.value("termination") == f"{number}: €4,608.00, open (to be paid)"
    assert result.facts.value("email") == (
        "1 confirmation email(s) sent to sanne.devries@vanderberg-techniek.example"
    )
    assert button(wizard, QWizard.WizardButton.FinishButton).text() == "&Close"

    # the database and the outbox
    with demo_ctx.db.sessions() as s:
        sub = s.get(Subscription, resolve)
        assert (sub.status, sub.auto_renew, sub.cancellation_effective, sub.cancel_reason) == (
            "cancellation_pending",
            False,
            date(2027, 2, 21),
            "no_longer_needed",
        )
        inv = s.scalar(select(Invoice).where(Invoice.number == number))
        assert (inv.kind, inv.status, inv.total_minor) == ("termination", "open", 460800)
        # the amount on the "still billed" page is what the database got, to the cent
        assert shown_total == format_money(inv.total_minor, inv.currency)
        entry = s.scalar(
            select(AuditEntry).where(
                AuditEntry.account_id == acct, AuditEntry.action == "assisted_cancel"
            )
        )
        assert entry.requested_by_contact_id == contact_id(demo_ctx, "A-100005", "Sanne")
    sanne = "sanne.devries@vanderberg-techniek.example"
    assert ("payment_received", sanne) in before_emails
    assert outbox(demo_ctx, acct) == [*before_emails, ("cancellation_confirmed", sanne)]
    actions = audit_actions(demo_ctx, acct)
    assert actions[-1] == "assisted_cancel"
    assert {"payment.recorded", "licences.unassigned", "account.exported"} <= set(actions)

    click(qtbot, button(wizard, QWizard.WizardButton.FinishButton))
    assert wizard.result() == QWizard.DialogCode.Accepted


def test_verification_mismatch_names_the_field_and_three_failures_are_audited(
    demo_ctx, db_path, open_wizard, qtbot
) -> None:
    acct = account_id(demo_ctx, "A-100005")
    wizard = open_wizard(demo_ctx, "A-100005")
    page = wizard.verify_page
    before = snapshot(db_path, *BUSINESS_TABLES)

    verify(qtbot, wizard, {**A100005, "account_id": "A-100006"})
    assert page.marks["account_id"].text() == "\u2718 The account ID does not match."
    assert page.status_label.text() == "Attempt 1 of 3 failed. Check the details with the caller."
    verify(qtbot, wizard, {**A100005, "billing_admin_email": "pieter@example.com"})
    assert page.marks["billing_admin_email"].text() == (
        "\u2718 This is not the email of a billing admin of the account."
    )
    assert page.marks["account_id"].text() == "\u2714 Matches"
    verify(qtbot, wizard, {**A100005, "last4": "1234", "billing_address": "Maliebaan 50"})
    assert page.marks["last4"].text() == (
        "\u2718 No card or bank account on file ends in these digits."
    )
    assert page.marks["billing_address"].text() == (
        "\u2718 The billing address does not match the payment method's."
    )
    assert page.error_shown() == (
        "The caller could not be verified: Last four digits of the payment method and "
        "Billing address did not match."
    )
    # three in a row: recorded, and the page stops offering verification
    assert page.status_label.text() == (
        "3 verification attempt(s) in a row failed. This has been recorded in the account's "
        "activity. Do not go on: ask the billing admin to call back."
    )
    assert not page.verify_button.isEnabled()
    assert not any(edit.isEnabled() for edit in page.edits.values())
    assert not next_button(wizard).isEnabled()
    assert audit_actions(demo_ctx, acct) == [
        "verify_caller", "verify_caller", "verify_caller", "verify_caller_failed",
    ]  # fmt: skip
    with demo_ctx.db.sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "verify_caller_failed"))
        assert json.loads(entry.after_json) == {
            "failed_attempts": 3,
            "mismatches": ["last4", "billing_address"],
        }
        assert "1234" not in entry.after_json
    # an abandoned flow changes nothing but the audit trail of the attempts
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert wizard.result() == QWizard.DialogCode.Rejected
    assert snapshot(db_path, *BUSINESS_TABLES) == before


def test_connect_needs_a_super_admin(demo_ctx, db_path, open_wizard, qtbot) -> None:
    connect = sub_id(demo_ctx, "A-100006", "goto_connect")
    wizard = open_wizard(demo_ctx, "A-100006", connect)
    before = snapshot(db_path, *BUSINESS_TABLES)
    verify(qtbot, wizard, A100006)
    go_next(qtbot, wizard, wizard.PAGE_REQUESTER)
    rp = wizard.requester_page
    assert rp.rules_label.text() == (
        "GoTo Connect: Only a super admin can request cancellation of this product."
    )
    choose_requester(qtbot, wizard, "Fleur Jansen")
    assert rp.details.value("roles") == "Billing admin"
    assert rp.verdict.text() == (
        "Fleur Jansen may not ask to cancel GoTo Connect. "
        "Only a super admin can request cancellation of this product."
    )
    assert rp.verdict_mark.text() == "\u2718"
    assert not next_button(wizard).isEnabled()
    choose_requester(qtbot, wizard, "Willem Bakker")
    assert rp.verdict.text() == "Willem Bakker may request this cancellation."
    assert next_button(wizard).isEnabled()
    go_next(qtbot, wizard, wizard.PAGE_CHECKLIST)
    assert row_passed(wizard, "requester_role")
    # Fleur refused: nothing was written
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert snapshot(db_path, *BUSINESS_TABLES) == before


def test_a100017_monthly_cancelled_mid_month_bills_the_whole_month(
    demo_ctx, db_path, open_wizard, qtbot
) -> None:
    """Month-to-month, period 2026-04-10 – 05-10: the month (3 × 42.00) was invoiced at its
    start; cancelled on 04-26 nothing more is billed and it stays active to 05-10."""
    acct = account_id(demo_ctx, "A-100017")
    resolve = sub_id(demo_ctx, "A-100017", "logmein_resolve")
    wizard = open_wizard(demo_ctx, "A-100017")  # opened from the account: support-only preselected
    to_checklist(qtbot, wizard, A100017, "Stefan Gruber")
    cp = wizard.checklist_page
    assert row_passed(wizard, "no_outstanding_balance")
    assert not cp.pay_button.isVisible()
    assert not next_button(wizard).isEnabled()
    click(qtbot, cp.unassign_button)
    confirm(qtbot, wizard, "unassignConfirmation")
    assert cp.action_note.text() == "3 licence(s) were unassigned."
    assert not next_button(wizard).isEnabled()
    # the caller backed up their data themselves
    tick(qtbot, cp.backup_check)
    qtbot.waitUntil(lambda: row_passed(wizard, "data_backed_up"))
    go_next(qtbot, wizard, wizard.PAGE_SELECTION)
    assert wizard.selection_page.sub_boxes[resolve].isChecked()
    go_next(qtbot, wizard, wizard.PAGE_BILLED)
    bp = wizard.billed_page
    k = f"sub_{resolve}"
    form = bp.item_forms[k]
    assert bp.findChild(QLabel, f"billed_{k}_explain").text() == (
        "Cancelled mid-month, the whole month is billed (it was invoiced at its start) and "
        "it stays active until the end of the month, 5/10/2026."
    )
    assert form.value(f"{k}_still") == "€126.00"
    assert form.value(f"{k}_additional") == "€0.00"
    assert form.value(f"{k}_until") == "5/10/2026"
    assert bp.totals.value("termination") == "None: nothing more is billed."
    with demo_ctx.db.sessions() as s:
        invoices = s.scalar(select(func.count()).where(Invoice.account_id == acct))
        # what the customer already got for this month is what the page says is billed
        month = s.scalar(
            select(Invoice.subtotal_minor).where(
                Invoice.account_id == acct, Invoice.period_start == date(2026, 4, 10)
            )
        )
        assert month == 12600
    go_next(qtbot, wizard, wizard.PAGE_CONFIRM)
    conf = wizard.confirm_page
    conf.reason_combo.setCurrentIndex(conf.reason_combo.findData("other"))
    assert not next_button(wizard).isEnabled()  # "Other" needs words
    qtbot.keyClicks(conf.reason_text, "Project finished")
    go_next(qtbot, wizard, wizard.PAGE_RESULT)
    assert wizard.result_page.facts.value("termination") == (
        "Nothing: the current period was already invoiced."
    )
    with demo_ctx.db.sessions() as s:
        assert s.scalar(select(func.count()).where(Invoice.account_id == acct)) == invoices
        sub = s.get(Subscription, resolve)
        assert (sub.status, sub.cancellation_effective, sub.cancel_reason_text) == (
            "cancellation_pending",
            date(2026, 5, 10),
            "Project finished",
        )
    assert outbox(demo_ctx, acct)[-1] == (
        "cancellation_confirmed",
        "stefan.gruber@gruber-elektrotechnik.example",
    )


def test_fifteen_month_agreement_with_three_months_left_bills_three_months(
    demo_ctx, open_wizard, qtbot
) -> None:
    """Article 002's example on A-100017: 2 licences × 42.00 = 84.00 a month, term
    2025-04-26 → 2026-07-26; the three months left are billed (252.00), two of them on
    the early-termination invoice (168.00, collected from the Visa on file)."""
    acct = account_id(demo_ctx, "A-100017")
    with demo_ctx.db.transaction() as s:
        product = s.scalar(select(Product).where(Product.code == "logmein_resolve"))
        plan = s.scalar(select(Plan).where(Plan.product_id == product.id, Plan.code == "standard"))
        sub = Subscription(
            account_id=acct, product_id=product.id, plan_id=plan.id, licence_count=2,
            frequency="monthly", contract="fixed_term", term_months=15,
            term_start=date(2025, 4, 26), term_end=date(2026, 7, 26),
            anchor_date=date(2025, 4, 26), period_start=date(2026, 4, 26),
            period_end=date(2026, 5, 26), auto_renew=True, status="active",
            channel="self_service", created_at=datetime(2025, 4, 26, 10, 0),
        )  # fmt: skip
        s.add(sub)
        s.flush()
        term = sub.id
    monthly = sub_id(demo_ctx, "A-100017", "logmein_resolve")
    wizard = open_wizard(demo_ctx, "A-100017", term)
    to_checklist(qtbot, wizard, A100017, "Stefan Gruber")
    # only the chosen agreement is cancelled: its seats are free, the monthly plan's stay
    assert row_passed(wizard, "licences_unassigned")
    assert wizard.checklist_page.terms.value(f"terms_{term}").startswith(
        "Fixed term of 15 months, billed monthly. The agreement runs from 4/26/2025 to 7/26/2026."
    )
    tick(qtbot, wizard.checklist_page.backup_check)
    qtbot.waitUntil(lambda: next_button(wizard).isEnabled())
    go_next(qtbot, wizard, wizard.PAGE_SELECTION)
    sp = wizard.selection_page
    assert sp.sub_boxes[term].isChecked() and not sp.sub_boxes[monthly].isChecked()
    go_next(qtbot, wizard, wizard.PAGE_BILLED)
    bp = wizard.billed_page
    k = f"sub_{term}"
    form = bp.item_forms[k]
    assert form.value(f"{k}_months") == "3 month(s)"
    assert form.value(f"{k}_period_amount") == "€84.00"
    assert form.value(f"{k}_additional") == "€168.00"
    assert form.value(f"{k}_still") == "€252.00"
    assert form.value(f"{k}_until") == "7/26/2026"
    assert bp.totals.value("termination") == "€168.00"
    assert "2 more month(s) on an early-termination invoice" in (
        bp.findChild(QLabel, f"billed_{k}_explain").text()
    )
    go_next(qtbot, wizard, wizard.PAGE_CONFIRM)
    conf = wizard.confirm_page
    conf.reason_combo.setCurrentIndex(conf.reason_combo.findData("switching_provider"))
    assert conf.summary.value("billed_now") == "€168.00"
    go_next(qtbot, wizard, wizard.PAGE_RESULT)
    number = wizard.state.result.termination_invoice_number
    assert wizard.result_page.facts.value("termination") == (
        f"{number}: €168.00, paid with the method on file"
    )
    with demo_ctx.db.sessions() as s:
        inv = s.scalar(select(Invoice).where(Invoice.number == number))
        assert (inv.status, inv.total_minor, inv.paid_minor) == ("paid", 16800, 16800)
        [line] = inv.lines
        assert (line.quantity, line.unit_price_minor, line.amount_minor) == (2, 8400, 16800)
        assert s.get(Subscription, term).status == "cancellation_pending"
        assert s.get(Subscription, monthly).status == "active"
    kinds = [kind for kind, _to in outbox(demo_ctx, acct)]
    assert kinds[-1] == "cancellation_confirmed"


def test_back_keeps_input(demo_ctx, db_path, open_wizard, qtbot) -> None:
    connect = sub_id(demo_ctx, "A-100006", "goto_connect")
    wizard = open_wizard(demo_ctx, "A-100006", connect)
    to_checklist(qtbot, wizard, A100006, "Willem Bakker")
    cp = wizard.checklist_page
    tick(qtbot, cp.backup_check)
    click(qtbot, button(wizard, QWizard.WizardButton.BackButton))
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.PAGE_REQUESTER)
    assert wizard.requester_page.contact_combo.currentText().startswith("Willem Bakker")
    click(qtbot, button(wizard, QWizard.WizardButton.BackButton))
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.PAGE_VERIFY)
    page = wizard.verify_page
    assert {c: e.text() for c, e in page.edits.items()} == A100006
    assert page.marks["postal_code"].text() == "\u2714 Matches"
    assert next_button(wizard).isEnabled()  # still verified
    go_next(qtbot, wizard, wizard.PAGE_REQUESTER)
    go_next(qtbot, wizard, wizard.PAGE_CHECKLIST)
    assert cp.backup_check.isChecked()
    assert not row_passed(wizard, "licences_unassigned")  # 4 seats of Connect

    # the operator opens "Unassign all" but the caller hesitates: nothing changes
    seats = snapshot(db_path, "licence_assignments")
    click(qtbot, cp.unassign_button)
    qtbot.waitUntil(lambda: wizard.findChild(QMessageBox, "unassignConfirmation") is not None)
    box = wizard.findChild(QMessageBox, "unassignConfirmation")
    assert box.text() == "Take back all 4 licence(s) of GoTo Connect from their users?"
    click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
    qtbot.waitUntil(lambda: wizard.findChild(QMessageBox, "unassignConfirmation") is None)
    assert snapshot(db_path, "licence_assignments") == seats
    assert not row_passed(wizard, "licences_unassigned")
    assert not next_button(wizard).isEnabled()


def test_changing_the_selection_rechecks_the_checklist(demo_ctx, open_wizard, qtbot) -> None:
    """Cancelling only Connect's add-on needs no seats freed: with the product unticked
    on "What to cancel", going Back shows the checklist re-read for the new selection."""
    connect = sub_id(demo_ctx, "A-100006", "goto_connect")
    wizard = open_wizard(demo_ctx, "A-100006", connect)
    to_checklist(qtbot, wizard, A100006, "Willem Bakker")
    cp = wizard.checklist_page
    assert not row_passed(wizard, "licences_unassigned")
    # unassign, back up, on to the selection
    click(qtbot, cp.unassign_button)
    confirm(qtbot, wizard, "unassignConfirmation")
    tick(qtbot, cp.backup_check)
    go_next(qtbot, wizard, wizard.PAGE_SELECTION)
    sp = wizard.selection_page
    [addon_id] = sp.addon_boxes
    tick(qtbot, sp.sub_boxes[connect])
    assert not sp.sub_boxes[connect].isChecked()
    assert not next_button(wizard).isEnabled()  # nothing selected
    tick(qtbot, sp.addon_boxes[addon_id])
    assert wizard.state.addon_ids == [addon_id] and wizard.state.subscription_ids == []
    go_next(qtbot, wizard, wizard.PAGE_BILLED)
    k = f"addon_{addon_id}"
    assert wizard.billed_page.item_forms[k].value(f"{k}_until") == "5/16/2026"
    click(qtbot, button(wizard, QWizard.WizardButton.BackButton))
    click(qtbot, button(wizard, QWizard.WizardButton.BackButton))
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.PAGE_CHECKLIST)
    assert [t.subscription_id for t in wizard.state.checklist.terms] == [connect]
    assert row_passed(wizard, "licences_unassigned")


def test_non_support_operator_cannot_run_it_and_is_told_why(
    demo_ctx, as_role, db_path, open_wizard, qtbot
) -> None:
    viewer = as_role("viewer")
    before = snapshot(db_path, *BUSINESS_TABLES, "audit_entries")
    online = sub_id(demo_ctx, "A-100001", "gotoassist_rs_v4")
    wizard = open_wizard(viewer, "A-100001", online)
    page = wizard.verify_page
    assert page.blocked_label.isVisible()
    assert page.blocked_label.text() == (
        "Only support staff can do this. The billing contact can cancel GoToAssist Remote "
        "Support v4 online: use Cancel subscription on its card."
    )
    assert not any(edit.isEnabled() for edit in page.edits.values())
    assert not page.verify_button.isEnabled()
    assert not next_button(wizard).isEnabled()
    # a representative neither, even for a support-only product
    rep = open_wizard(as_role("representative"), "A-100005")
    assert rep.verify_page.blocked_label.text().startswith("Only support staff can do this.")
    assert snapshot(db_path, *BUSINESS_TABLES, "audit_entries") == before
    # support may
    support = open_wizard(as_role("support"), "A-100001", online)
    assert not support.verify_page.blocked_label.isVisible()
    assert support.verify_page.verify_button.isEnabled() is False  # nothing typed yet
    fill_verify(qtbot, support, {
        "account_id": "A-100001", "billing_admin_email": "marco.rossi@rossi-impianti.example",
        "last4": "4242", "billing_address": "Via Giuseppe Verdi 18", "postal_code": "20121",
    })  # fmt: skip
    click(qtbot, support.verify_page.verify_button)
    assert next_button(support).isEnabled()


class _Shouting(QTranslator):
    """Upper-cases the wizard's own words (a stand-in for a real language)."""

    CONTEXTS = ("VerifyCallerPage", "RequesterPage", "ChecklistPage", "AssistedCancellationWizard")

    def translate(self, context, source, disambiguation=None, n=-1):
        if context in self.CONTEXTS:
            parts = re.split(r"(\{[^}]*\}|%n)", source)
            return "".join(p if p.startswith(("{", "%")) else p.upper() for p in parts)
        return None  # not translated (a null string, unlike "")

    def isEmpty(self) -> bool:
        return False


def test_language_change_keeps_every_input(demo_ctx, open_wizard, qtbot) -> None:
    connect = sub_id(demo_ctx, "A-100006", "goto_connect")
    wizard = open_wizard(demo_ctx, "A-100006", connect)
    verify(qtbot, wizard, {**A100006, "postal_code": "3087 BN"})
    mismatch = wizard.verify_page.marks["postal_code"].text()
    translator = _Shouting()
    QCoreApplication.installTranslator(translator)
    try:
        qtbot.waitUntil(lambda: wizard.verify_page.title() == "VERIFY THE CALLER")
        page = wizard.verify_page
        assert page.marks["postal_code"].text() == (
            "\u2718 THE POSTAL CODE DOES NOT MATCH THE PAYMENT METHOD'S."
        )
        assert page.edits["postal_code"].text() == "3087 BN"
        assert page.status_label.text() == (
            "ATTEMPT 1 OF 3 FAILED. CHECK THE DETAILS WITH THE CALLER."
        )
        assert wizard.windowTitle() == "ASSISTED CANCELLATION – A-100006"
        page.edits["postal_code"].clear()
        qtbot.keyClicks(page.edits["postal_code"], "3087 BM")
        click(qtbot, page.verify_button)
        go_next(qtbot, wizard, wizard.PAGE_REQUESTER)
        choose_requester(qtbot, wizard, "Willem Bakker")
        assert (
            wizard.requester_page.verdict.text() == "Willem Bakker may request this cancellation."
        )
    finally:
        QCoreApplication.removeTranslator(translator)
    qtbot.waitUntil(lambda: wizard.requester_page.title() == "Requester")
    assert wizard.currentId() == wizard.PAGE_REQUESTER
    assert wizard.requester_page.contact_combo.currentText().startswith("Willem Bakker")
    assert wizard.requester_page.contact_label.text() == "C&ontact asking:"
    assert wizard.state.verification is not None and wizard.state.verification.verified
    assert wizard.verify_page.edits["postal_code"].text() == "3087 BM"
    assert mismatch.startswith("\u2718")
    assert next_button(wizard).isEnabled()


def test_verify_page_by_keyboard_only(demo_ctx, open_wizard, qtbot) -> None:
    """Mnemonic to the first field, Tab between fields, Enter verifies, Enter goes on."""
    wizard = open_wizard(demo_ctx, "A-100005")
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    page = wizard.verify_page

    def focused() -> QWidget | None:
        return QApplication.focusWidget()

    qtbot.keyClick(wizard, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: focused() is page.edits["account_id"])
    for code in ("account_id", "billing_admin_email", "last4", "billing_address"):
        qtbot.keyClicks(focused(), {**A100005, "last4": "5101"}[code])
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is page.edits["postal_code"]
    qtbot.keyClicks(focused(), A100005["postal_code"])
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # Enter verifies: last four digits wrong
    assert page.marks["last4"].text().startswith("\u2718")
    assert wizard.currentId() == wizard.PAGE_VERIFY
    assert focused() is page.edits["last4"]  # focus goes to the first wrong field
    qtbot.keyClick(wizard, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    assert focused() is page.edits["last4"]
    qtbot.keyClick(focused(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(focused(), "5100")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # verified, stays to show it
    assert page.marks["last4"].text() == "\u2714 Matches"
    assert wizard.currentId() == wizard.PAGE_VERIFY
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # Enter = Next
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.PAGE_REQUESTER)
    # the requester combo is reachable by its mnemonic; Escape cancels the wizard
    qtbot.keyClick(wizard, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert focused() is wizard.requester_page.contact_combo
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert wizard.result() == QWizard.DialogCode.Rejected


def test_double_click_on_cancel_subscriptions_cancels_once(
    demo_ctx, open_wizard, qtbot, monkeypatch
) -> None:
    acct = account_id(demo_ctx, "A-100006")
    wizard = open_wizard(demo_ctx, "A-100006")
    to_checklist(qtbot, wizard, A100006, "Willem Bakker")
    click(qtbot, wizard.checklist_page.unassign_button)
    confirm(qtbot, wizard, "unassignConfirmation")
    tick(qtbot, wizard.checklist_page.backup_check)
    go_next(qtbot, wizard, wizard.PAGE_SELECTION)
    go_next(qtbot, wizard, wizard.PAGE_BILLED)
    # month-to-month Connect: 25 × 33.00 + call recording 12.00 this month, nothing more
    assert wizard.billed_page.totals.value("total_still") == "€837.00"
    go_next(qtbot, wizard, wizard.PAGE_CONFIRM)
    conf = wizard.confirm_page
    conf.reason_combo.setCurrentIndex(conf.reason_combo.findData("too_expensive"))
    commit = next_button(wizard)
    real = cx.assisted_cancel
    calls: list[bool] = []

    def spy(*args, **kwargs):
        # a second activation while the first runs: the button is disabled and the
        # page's guard refuses a nested validation
        calls.append(commit.isEnabled())
        commit.click()
        assert not conf.validatePage()
        return real(*args, **kwargs)

    monkeypatch.setattr(cx, "assisted_cancel", spy)
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(commit, left)
    qtbot.mouseRelease(commit, left)
    qtbot.mouseDClick(commit, left)
    qtbot.mouseRelease(commit, left)
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.PAGE_RESULT)
    assert conf.validatePage()  # done: no second call
    assert calls == [False]
    assert audit_actions(demo_ctx, acct).count("assisted_cancel") == 1
    assert [k for k, _to in outbox(demo_ctx, acct)].count("cancellation_confirmed") == 1
