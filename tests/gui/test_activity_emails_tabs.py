"""The Activity and Emails tabs of an account: audit trail with before/after, outbox preview."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from helpers import answered_message_boxes
from PySide6.QtCore import QLocale, Qt

from billing_desktop.documents.formatting import format_datetime
from billing_desktop.services.cancellation import cancel_online
from billing_desktop.services.licences import assign_licences, unassign_licences
from billing_desktop.services.smtp import SmtpSettings, deliver_outbox, save_smtp_settings
from billing_desktop.ui.account.activity import (
    ActivityModel,
    ActivityTab,
    format_audit_value,
)
from billing_desktop.ui.account.emails import EmailsModel, EmailsTab

V5 = "GoToAssist Remote Support v5"


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


def _texts(model, row: int) -> list[str]:
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def _show(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# --------------------------------------------------------------------------- Activity


def test_activity_shows_new_entries_first_with_before_and_after(
    demo_ctx, qtbot, qtmodeltester
) -> None:
    db = demo_ctx.db
    people = _contacts(db, "A-100002")
    sub = _subscription(db, "A-100002")
    assign_licences(demo_ctx, sub, [people["Chiara"]], requested_by=people["Francesca"])
    unassign_licences(demo_ctx, sub, [people["Sara"]])

    tab = _show(qtbot, ActivityTab(demo_ctx, _account_id(db, "A-100002")))
    model = tab.model
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert _texts(model, 0)[0] == format_datetime(datetime(2026, 4, 26, 9, 0), QLocale())
    assert _texts(model, 0)[0].startswith("4/26/2026 9:00")
    assert _texts(model, 0)[2:] == ["Licences unassigned", V5, ""]
    assert _texts(model, 1)[2:] == ["Licences assigned", V5, "Francesca Ferretti"]
    assert _texts(model, 0)[1] == demo_ctx.operator.name

    # the newest entry is selected: its details are on show
    details = tab.details.toPlainText()
    assert details.startswith("Licences unassigned")
    assert "Contacts with a licence" in details
    assert "Sara Colombo" in details

    rect = tab.table.visualRect(model.index(1, ActivityModel.ACTION))
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    details = tab.details.toPlainText()
    assert details.startswith("Licences assigned")
    assert f"Product: {V5}" in details
    assert "Requested by Francesca Ferretti" in details
    # before: six names; after: seven, the new one in bold
    assert details.count("Chiara Rinaldi") == 1
    assert "<b>Chiara Rinaldi</b>" in tab.details_html(tab.current_entry())

    # a later change appears on top after a reload; the selection stays
    unassign_licences(demo_ctx, sub, [people["Davide"]])
    tab.reload()
    assert model.rowCount() == 3
    assert _texts(model, 0)[2] == "Licences unassigned"
    assert tab.current_entry().action == "licences.assigned"


def test_activity_of_a_cancellation_shows_changed_fields_formatted(demo_ctx, qtbot) -> None:
    db = demo_ctx.db
    cancel_online(demo_ctx, _subscription(db, "A-100001"), reason="too_expensive")
    tab = _show(qtbot, ActivityTab(demo_ctx, _account_id(db, "A-100001")))
    details = tab.details.toPlainText()
    assert details.startswith("Subscription cancelled online")
    assert "Requested by Marco Rossi" in details
    assert "Renews automatically" in details
    assert "Cancellation pending" in details  # status, in words
    assert "It is too expensive" in details  # the reason, in words
    assert "—" in details  # nothing before


def test_activity_loads_more_as_the_user_scrolls(demo_ctx, qtbot, qtmodeltester) -> None:
    from billing_desktop.store.models import AuditEntry

    db = demo_ctx.db
    account_id = _account_id(db, "A-100003")
    start = datetime(2026, 1, 1, 9, 0)
    with db.transaction() as session:
        for n in range(450):
            session.add(
                AuditEntry(
                    at=start + timedelta(minutes=n),
                    account_id=account_id,
                    action="account.autopay_changed",
                    before_json=json.dumps({"autopay": n % 2 == 0}),
                    after_json=json.dumps({"autopay": n % 2 == 1}),
                )
            )
    tab = _show(qtbot, ActivityTab(demo_ctx, account_id))
    model = tab.model
    assert model.rowCount() == 200
    assert model.canFetchMore()
    qtmodeltester.check(model)
    assert _texts(model, 0)[1:3] == ["System", "Autopay changed"]

    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: model.rowCount() >= 400)
    qtbot.keyClick(tab.table, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: model.rowCount() == 450)
    assert not model.canFetchMore()
    # newest first, the oldest last
    entries = [model.entry(n) for n in range(450)]
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert entries[-1].at == start


def test_activity_of_an_untouched_account_is_empty(demo_ctx, qtbot) -> None:
    tab = _show(qtbot, ActivityTab(demo_ctx, _account_id(demo_ctx.db, "A-100002")))
    assert tab.model.rowCount() == 0
    assert tab.empty_label.isVisible()
    assert tab.empty_label.text() == "Nothing has been changed on this account yet."
    assert tab.details.toPlainText() == "Select an entry to see what changed."


def test_audit_values_are_formatted_for_the_locale(qapp) -> None:
    us = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    it = QLocale(QLocale.Language.Italian, QLocale.Country.Italy)
    assert format_audit_value("period_end", "2026-05-19", "EUR", us) == "5/19/2026"
    assert format_audit_value("period_end", "2026-05-19", "EUR", it) == "19/05/2026"
    assert format_audit_value("amount_minor", 123456, "EUR", us) == "€1,234.56"
    assert format_audit_value("outstanding", "1234.50", "EUR", it) == "1234,50"
    assert format_audit_value("auto_renew", True, "EUR", us) == "Yes"
    assert format_audit_value("status", "cancellation_pending", "EUR", us) == (
        "Cancellation pending"
    )
    assert format_audit_value("licences", 12000, "EUR", us) == "12,000"
    assert format_audit_value("anything", None, "EUR", us) == "—"
    assert format_audit_value("addons", ["a", "b"], "EUR", us) == "a, b"
    assert format_audit_value("product", "gotoassist_rs_v5", "EUR", us) == "gotoassist_rs_v5"
    assert format_audit_value("cancel_reason", "too_expensive", "EUR", us) == (
        "It is too expensive"
    )


# --------------------------------------------------------------------------- Emails


def test_emails_tab_lists_a_queued_email_with_its_body(demo_ctx, qtbot, qtmodeltester) -> None:
    db = demo_ctx.db
    cancel_online(demo_ctx, _subscription(db, "A-100001"), reason="too_expensive")

    tab = _show(qtbot, EmailsTab(demo_ctx, _account_id(db, "A-100001")))
    model = tab.model
    qtmodeltester.check(model)
    assert model.rowCount() == 1
    texts = _texts(model, 0)
    assert texts[EmailsModel.KIND] == "Cancellation confirmation"
    assert texts[EmailsModel.SUBJECT] == (
        "Your GoToAssist Remote Support v4 subscription has been cancelled"
    )
    assert texts[EmailsModel.TO] == "marco.rossi@rossi-impianti.example"
    assert texts[EmailsModel.STATUS] == "Queued"
    assert tab.count_label.text() == "1 email(s)"

    # the only email is selected and shown as the customer reads it
    assert tab.subject_label.text() == texts[EmailsModel.SUBJECT]
    assert tab.to_label.text() == "marco.rossi@rossi-impianti.example"
    body = tab.body.toPlainText()
    assert body.startswith("Hello Marco Rossi,")
    assert "cancelled the automatic renewal of your GoToAssist Remote Support v4" in body
    stored = db.reader.scalar("SELECT body_text FROM emails")
    assert body == stored
    assert tab.retry_button.isVisible()
    assert not tab.retry_button.isEnabled()  # only failed emails are retried


@pytest.fixture
def failed_email(demo_ctx) -> int:
    """A-100001's cancellation email, refused by an unreachable server."""
    db = demo_ctx.db
    cancel_online(demo_ctx, _subscription(db, "A-100001"), reason="too_expensive")
    save_smtp_settings(
        demo_ctx, SmtpSettings(host="smtp.example.test", from_address="billing@example.test")
    )

    def refuse(host, port, timeout=None):
        raise ConnectionRefusedError(111, "Connection refused")

    summary = deliver_outbox(demo_ctx, smtp_factory=refuse)
    assert summary.failed == 1
    return db.reader.scalar("SELECT id FROM emails")


def test_a_failed_email_can_be_retried(demo_ctx, failed_email, qtbot) -> None:
    db = demo_ctx.db
    tab = _show(qtbot, EmailsTab(demo_ctx, _account_id(db, "A-100001")))
    model = tab.model
    index = model.index(0, EmailsModel.STATUS)
    assert model.data(index) == "Failed"
    tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Last error: Nothing answers at smtp.example.test:587.")
    assert "Next attempt: " in tip
    assert tab.count_label.text() == "1 email(s), 1 failed"
    assert tab.status_label.text().startswith("Failed after 1 attempt(s): Nothing answers at")
    assert tab.retry_button.isEnabled()

    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(tab.retry_button, Qt.MouseButton.LeftButton)
    assert model.data(model.index(0, EmailsModel.STATUS)) == "Queued"
    assert not tab.retry_button.isEnabled()
    status, next_at = db.reader.rows(
        "SELECT status, next_attempt_at FROM emails WHERE id = :i", {"i": failed_email}
    )[0]
    assert (status, next_at) == ("queued", None)


def test_a_failed_emails_reason_follows_the_language(
    demo_ctx, failed_email, qtbot, qapp, shipped_qm
) -> None:
    """The reason is stored as a key and values: the tab shows it in Italian once the
    application speaks Italian, and in English again after."""
    from faults.support import ui_language

    tab = _show(qtbot, EmailsTab(demo_ctx, _account_id(demo_ctx.db, "A-100001")))
    index = tab.model.index(0, EmailsModel.STATUS)
    english = "Nothing answers at smtp.example.test:587. Check that the mail server is running"
    italian = "Nessuna risposta da smtp.example.test:587. Verifichi che il server di posta"
    tab.table.selectRow(0)
    with ui_language(qapp, shipped_qm, "it"):
        qtbot.waitUntil(
            lambda: tab.status_label.text().startswith(f"Non riuscita dopo 1 tentativo: {italian}")
        )
        tip = tab.model.data(index, Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith(f"Ultimo errore: {italian}")
    qtbot.waitUntil(
        lambda: tab.status_label.text().startswith(f"Failed after 1 attempt(s): {english}")
    )
    tip = tab.model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(f"Last error: {english}")


def test_a_viewer_cannot_retry(as_role, failed_email, qtbot) -> None:
    viewer = as_role("viewer")
    db = viewer.db
    tab = _show(qtbot, EmailsTab(viewer, _account_id(db, "A-100001")))
    assert tab.model.data(tab.model.index(0, EmailsModel.STATUS)) == "Failed"
    assert tab.retry_button.isHidden()
    # even when asked directly, the service refuses and says why
    with answered_message_boxes() as texts:
        tab.retry()
    assert texts == ["Your role (viewer) does not allow this action."]
    assert db.reader.scalar("SELECT status FROM emails") == "failed"


def test_emails_tab_of_a_customer_without_emails(demo_ctx, qtbot) -> None:
    tab = _show(qtbot, EmailsTab(demo_ctx, _account_id(demo_ctx.db, "A-100002")))
    assert tab.model.rowCount() == 0
    assert tab.empty_label.isVisible()
    assert tab.empty_label.text() == "No email has been sent to this customer yet."
    assert tab.body.toPlainText() == ""
