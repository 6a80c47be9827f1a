"""Walk every wizard page along the seed articles' paths, for ``make screenshots``.

Each tour opens a wizard on a curated demo account, fills in what the user
would and yields ``(page name, widget)`` at every page. Tours change the
database as the articles do (orders, cancellations), so each uses an account
of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from PySide6.QtWidgets import QWidget, QWizard

Tour = Callable[[], Iterator[tuple[str, QWidget]]]


def _settle(ms: int = 40) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    QCoreApplication.processEvents()


def _wait(condition: Callable[[], bool], timeout_ms: int = 5000) -> None:
    waited = 0
    while not condition():
        if waited > timeout_ms:
            raise TimeoutError("the wizard did not reach the expected state")
        _settle(20)
        waited += 20


def _account(ctx, number: str) -> int:
    return int(
        ctx.db.reader.scalar(
            "SELECT id FROM accounts WHERE account_number = :n", {"n": number}
        )
    )


def _subscription(ctx, number: str, product: str) -> int:
    return int(
        ctx.db.reader.scalar(
            "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
            "JOIN products p ON p.id = s.product_id "
            "WHERE a.account_number = :n AND p.code = :p",
            {"n": number, "p": product},
        )
    )


def _open(wizard: QWidget) -> QWidget:
    wizard.show()
    _settle(80)
    return wizard


def _next(wizard: QWizard, expected: int) -> None:
    wizard.next()
    _wait(lambda: wizard.currentId() == expected)


def checkout_tours(ctx) -> Iterator[tuple[str, Tour]]:
    from billing_desktop.ui.wizards.checkout import CheckoutWizard

    def article_001() -> Iterator[tuple[str, QWidget]]:
        # A-100002: 10 → 7 licences, Add to cart > Checkout > Place order
        sid = _subscription(ctx, "A-100002", "gotoassist_rs_v5")
        wizard = _open(CheckoutWizard(ctx, "A-100002", subscription_id=sid))
        plan = wizard.plan_page
        plan.licences_spin.setValue(7)
        _settle()
        yield "plan", wizard
        plan.add_to_cart_button.click()
        _wait(lambda: wizard.currentId() == CheckoutWizard.CART)
        yield "cart", wizard
        _next(wizard, CheckoutWizard.REVIEW)
        yield "review", wizard
        wizard.button(QWizard.WizardButton.CommitButton).click()
        _wait(lambda: wizard.currentId() == CheckoutWizard.RESULT)
        yield "result", wizard
        wizard.close()

    def article_003() -> Iterator[tuple[str, QWidget]]:
        # A-100003: the trial has ended → Subscribe now
        sid = _subscription(ctx, "A-100003", "gotoassist_rs_v5")
        wizard = _open(CheckoutWizard(ctx, "A-100003", subscription_id=sid))
        yield "plan-subscribe", wizard
        wizard.close()

    def article_004() -> Iterator[tuple[str, QWidget]]:
        # A-100007: Standard → Premium asks to confirm the payment method
        sid = _subscription(ctx, "A-100007", "gotoassist_rs_v4")
        wizard = _open(CheckoutWizard(ctx, "A-100007", subscription_id=sid))
        wizard.plan_page.tier_buttons["premium"].click()
        _settle()
        yield "plan-upgrade", wizard
        _next(wizard, CheckoutWizard.REVIEW)
        _next(wizard, CheckoutWizard.PAYMENT)
        yield "payment", wizard
        wizard.close()

    def blocked_overdue() -> Iterator[tuple[str, QWidget]]:
        # A-100009 has an overdue invoice: the way out is Pay balance
        sid = int(
            ctx.db.reader.scalar(
                "SELECT min(s.id) FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
                "WHERE a.account_number = 'A-100009'"
            )
        )
        wizard = _open(CheckoutWizard(ctx, "A-100009", subscription_id=sid))
        yield "blocked-overdue", wizard
        wizard.close()

    yield "checkout", article_001
    yield "checkout", article_003
    yield "checkout", article_004
    yield "checkout", blocked_overdue


def cancellation_tours(ctx) -> Iterator[tuple[str, Tour]]:
    from billing_desktop.ui.wizards.cancellation import CancellationWizard, ReactivateDialog

    def article_000() -> Iterator[tuple[str, QWidget]]:
        # A-100001: cancel the yearly v4 plan online, then reactivate it
        account = _account(ctx, "A-100001")
        sid = _subscription(ctx, "A-100001", "gotoassist_rs_v4")
        wizard = _open(CancellationWizard(ctx, account, sid))
        page = wizard.confirm_page
        page.reason_combo.setCurrentIndex(max(1, page.reason_combo.findData("too_expensive")))
        _settle()
        yield "confirm", wizard
        wizard.next()
        _wait(lambda: wizard.currentId() == CancellationWizard.RESULT)
        yield "result", wizard
        wizard.close()
        dialog = _open(ReactivateDialog(ctx, account, sid))
        yield "reactivate", dialog
        dialog.close()

    yield "cancellation", article_000


def assisted_tours(ctx) -> Iterator[tuple[str, Tour]]:
    from billing_desktop.ui.wizards.assisted import AssistedCancellationWizard

    answers = {
        "account_id": "A-100017",
        "billing_admin_email": "stefan.gruber@gruber-elektrotechnik.example",
        "last4": "2817",
        "billing_address": "Annenstraße 34",
        "postal_code": "8020",
    }

    def article_002() -> Iterator[tuple[str, QWidget]]:
        # A-100017: LogMeIn Resolve, cancelled through support
        wizard = _open(AssistedCancellationWizard(ctx, _account(ctx, "A-100017")))
        verify = wizard.verify_page
        from PySide6.QtTest import QTest

        for code, value in answers.items():
            verify.edits[code].clear()
            QTest.keyClicks(verify.edits[code], value)  # typed, as the operator would
        verify.verify_button.click()
        _wait(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled())
        yield "verify", wizard
        _next(wizard, wizard.PAGE_REQUESTER)
        combo = wizard.requester_page.contact_combo
        combo.setCurrentIndex(
            next(i for i in range(combo.count()) if "Stefan Gruber" in combo.itemText(i))
        )
        _settle()
        yield "requester", wizard
        _next(wizard, wizard.PAGE_CHECKLIST)
        yield "checklist", wizard
        # the licences are unassigned and the data backed up, as the article asks
        from PySide6.QtWidgets import QAbstractButton, QMessageBox

        checklist = wizard.checklist_page
        checklist.unassign_button.click()
        _wait(lambda: wizard.findChild(QMessageBox, "unassignConfirmation") is not None)
        box = wizard.findChild(QMessageBox, "unassignConfirmation")
        _wait(box.isVisible)
        box.findChild(QAbstractButton, "unassignConfirmationAccept").click()
        _wait(lambda: not checklist.unassign_button.isVisible())
        checklist.backup_check.setChecked(True)
        _wait(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled())
        yield "checklist-done", wizard
        _next(wizard, wizard.PAGE_SELECTION)
        yield "what-to-cancel", wizard
        _next(wizard, wizard.PAGE_BILLED)
        yield "still-billed", wizard
        _next(wizard, wizard.PAGE_CONFIRM)
        confirm = wizard.confirm_page
        confirm.reason_combo.setCurrentIndex(confirm.reason_combo.findData("switching_provider"))
        _settle()
        yield "confirm", wizard
        _next(wizard, wizard.PAGE_RESULT)
        yield "result", wizard
        wizard.close()

    yield "assisted", article_002


def tours(ctx) -> Iterator[tuple[str, Tour]]:
    yield from checkout_tours(ctx)
    yield from cancellation_tours(ctx)
    yield from assisted_tours(ctx)
