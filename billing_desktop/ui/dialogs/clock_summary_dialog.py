"""What happened while the demo clock moved (issue 7 item 2): one group per kind, a line each.

Shown by the clock control after :func:`billing_desktop.services.time_travel.move_clock`.
Groups come in the order of :class:`~billing_desktop.services.time_travel.Happening`
(renewed, trials expired, cancelled, invoiced, emailed, then terms renewed,
invoices overdue, data marked for deletion), each titled with its count; a
line names the date, the account and what happened to it. Double-click or
Enter on a line opens its account (:attr:`ClockSummaryDialog.account_activated`);
the dialog is not modal, so the trainer can open one account after another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QLocale, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.ui.formatting import format_date, format_money

if TYPE_CHECKING:
    from billing_desktop.domain.money import Money
    from billing_desktop.services.time_travel import ClockItem, ClockSummary

__all__ = ["ClockSummaryDialog", "item_text", "money_text"]

#: the tree's item role holding the account id of a line (None on group titles)
ACCOUNT_ROLE = Qt.ItemDataRole.UserRole + 1

COLUMN_DATE, COLUMN_ACCOUNT, COLUMN_COMPANY, COLUMN_WHAT = range(4)
#: lines listed per group; a long move on a large demo lists the first ones and a count
LINES_PER_GROUP = 500

EMAIL_WORDS = {
    "renewal_invoice": QT_TRANSLATE_NOOP("ClockSummaryDialog", "Renewal invoice"),
    "trial_ending": QT_TRANSLATE_NOOP("ClockSummaryDialog", "Trial ending soon"),
    "trial_ended": QT_TRANSLATE_NOOP("ClockSummaryDialog", "Trial ended"),
}


def money_text(amount: Money) -> str:
    """``amount`` in the UI locale ("€924.00")."""
    return format_money(amount.minor, amount.currency)


def item_text(item: ClockItem) -> str:
    """What happened, as one translated sentence for the line."""
    from billing_desktop.services.time_travel import Happening

    product = item.product or ""
    kind = item.kind
    if kind is Happening.RENEWED:
        if item.until is None:
            return QCoreApplication.translate(
                "ClockSummaryDialog", "{product} renewed for its last period"
            ).format(product=product)
        return QCoreApplication.translate(
            "ClockSummaryDialog", "{product} renewed until {date}"
        ).format(product=product, date=format_date(item.until))
    if kind is Happening.TRIAL_EXPIRED:
        return QCoreApplication.translate(
            "ClockSummaryDialog", "The {product} trial ended without a purchase"
        ).format(product=product)
    if kind is Happening.CANCELLED:
        return QCoreApplication.translate(
            "ClockSummaryDialog", "{product} ended: its cancellation took effect"
        ).format(product=product)
    if kind is Happening.INVOICED:
        amount = money_text(item.amount) if item.amount is not None else ""
        if item.invoice_status == "paid":
            return QCoreApplication.translate(
                "ClockSummaryDialog", "Invoice {number} for {product}: {amount}, paid"
            ).format(number=item.invoice_number, product=product, amount=amount)
        return QCoreApplication.translate(
            "ClockSummaryDialog", "Invoice {number} for {product}: {amount}, open"
        ).format(number=item.invoice_number, product=product, amount=amount)
    if kind is Happening.EMAILED:
        source = EMAIL_WORDS.get(item.email_kind or "")
        email = (
            QCoreApplication.translate("ClockSummaryDialog", source)
            if source
            else (item.email_kind or "")
        )
        if item.email_to:
            return QCoreApplication.translate(
                "ClockSummaryDialog", "“{email}” email about {product} to {address}"
            ).format(email=email, product=product, address=item.email_to)
        return QCoreApplication.translate(
            "ClockSummaryDialog", "“{email}” email about {product}"
        ).format(email=email, product=product)
    if kind is Happening.TERM_RENEWED:
        return QCoreApplication.translate(
            "ClockSummaryDialog", "{product} term renewed until {date}"
        ).format(product=product, date=format_date(item.until) if item.until else "")
    if kind is Happening.OVERDUE:
        return ClockSummaryDialog.tr("%n invoice(s) fell overdue", "", item.overdue)
    if kind is Happening.MARKED_FOR_DELETION:
        return QCoreApplication.translate(
            "ClockSummaryDialog", "The data of {product} was marked for deletion"
        ).format(product=product)
    return str(kind)


class _SummaryTree(QTreeWidget):
    """Enter opens the current line's account and stays here (not the dialog's Close)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated.emit(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)


class ClockSummaryDialog(QDialog):
    """The summary of one move of the clock; lines open their account."""

    #: a line was activated (double-click or Enter): the account's id
    account_activated = Signal(int)

    def __init__(self, summary: ClockSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clockSummaryDialog")
        self.summary = summary
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        self.heading = QLabel(self)
        self.heading.setObjectName("clockSummaryHeading")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.totals = QLabel(self)
        self.totals.setObjectName("clockSummaryTotals")
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.tree = _SummaryTree(self)
        self.tree.setObjectName("clockSummaryTree")
        self.tree.setColumnCount(4)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for column in (COLUMN_DATE, COLUMN_ACCOUNT, COLUMN_COMPANY):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemActivated.connect(self._activated)

        self.hint = QLabel(self)
        self.hint.setObjectName("clockSummaryHint")
        self.hint.setWordWrap(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.totals)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)

        self.resize(960, 560)
        self.retranslateUi()
        self.tree.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- content -------------------------------------------------------------

    def _fill(self) -> None:
        """(Re)build the groups in the current language; keeps which groups are open."""
        closed = {
            self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
            for i in range(self.tree.topLevelItemCount())
            if not self.tree.topLevelItem(i).isExpanded()
        }
        self.tree.clear()
        for kind, items in self.summary.groups():
            group = QTreeWidgetItem(self.tree, [self.group_title(kind, items)])
            group.setData(0, Qt.ItemDataRole.UserRole, kind.value)
            group.setFirstColumnSpanned(True)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for item in items[:LINES_PER_GROUP]:
                line = QTreeWidgetItem(
                    group,
                    [
                        format_date(item.date),
                        item.account_number,
                        item.company_name,
                        item_text(item),
                    ],
                )
                line.setData(0, ACCOUNT_ROLE, item.account_id)
                line.setToolTip(
                    COLUMN_WHAT,
                    self.tr("Double-click or press Enter to open {company}").format(
                        company=item.company_name
                    ),
                )
            if len(items) > LINES_PER_GROUP:
                more = QTreeWidgetItem(group)
                more.setText(
                    COLUMN_WHAT,
                    self.tr("… and %n more", "", len(items) - LINES_PER_GROUP),
                )
                more.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setExpanded(kind.value not in closed)
        if self.summary.failures:
            group = QTreeWidgetItem(
                self.tree,
                [self.tr("%n event(s) failed and will be retried", "", len(self.summary.failures))],
            )
            group.setData(0, Qt.ItemDataRole.UserRole, "failed")
            group.setFirstColumnSpanned(True)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for failure in self.summary.failures:
                QTreeWidgetItem(
                    group, [format_date(failure.date), failure.account_number, "", failure.message]
                )
            group.setExpanded("failed" not in closed)

    def group_title(self, kind: object, items: tuple[ClockItem, ...]) -> str:
        """The group's title with its count ("17 subscriptions renewed")."""
        from billing_desktop.services.time_travel import Happening

        n = len(items)
        if kind is Happening.RENEWED:
            return self.tr("%n subscription(s) renewed", "", n)
        if kind is Happening.TRIAL_EXPIRED:
            return self.tr("%n trial(s) expired", "", n)
        if kind is Happening.CANCELLED:
            return self.tr("%n subscription(s) cancelled", "", n)
        if kind is Happening.INVOICED:
            return self.tr("%n invoice(s) issued, {total} in all", "", n).format(
                total=self.billed_text()
            )
        if kind is Happening.EMAILED:
            return self.tr("%n email(s) queued for the customers", "", n)
        if kind is Happening.TERM_RENEWED:
            return self.tr("%n contract term(s) renewed", "", n)
        if kind is Happening.OVERDUE:
            return self.tr("%n invoice(s) fell overdue", "", sum(i.overdue for i in items))
        if kind is Happening.MARKED_FOR_DELETION:
            return self.tr("%n subscription(s) marked for data deletion", "", n)
        return str(kind)

    def billed_text(self) -> str:
        """The invoiced totals, one per currency, as a list in the UI language."""
        return QLocale().createSeparatedList([money_text(m) for m in self.summary.billed])

    def _heading_text(self) -> str:
        s = self.summary
        if s.cancelled:
            return self.tr(
                "Cancelled: the clock stopped on {date} instead of {requested}. "
                "What happened until then is kept."
            ).format(date=format_date(s.clock), requested=format_date(s.requested))
        return self.tr("The clock moved from {start} to {end}.").format(
            start=format_date(s.moved_from), end=format_date(s.clock)
        )

    # -- activation ----------------------------------------------------------

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        account_id = item.data(0, ACCOUNT_ROLE)
        if isinstance(account_id, int):
            self.account_activated.emit(account_id)

    def account_lines(self) -> list[QTreeWidgetItem]:
        """Every line that opens an account, top to bottom (for tests and keyboard users)."""
        found = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                if isinstance(group.child(j).data(0, ACCOUNT_ROLE), int):
                    found.append(group.child(j))
        return found

    # -- language ------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("What happened"))
        self.heading.setText(self._heading_text())
        if self.summary.is_empty and not self.summary.cancelled:
            self.totals.setText(
                self.tr("Nothing was due between {start} and {end}.").format(
                    start=format_date(self.summary.moved_from),
                    end=format_date(self.summary.clock),
                )
            )
        else:
            self.totals.setText(self.tr("%n event(s) processed.", "", self.summary.run.events))
        self.tree.setHeaderLabels(
            [self.tr("Date"), self.tr("Account"), self.tr("Company"), self.tr("What happened")]
        )
        self.tree.setAccessibleName(self.tr("What happened, by kind"))
        self.hint.setText(
            self.tr("Double-click a line, or select it and press Enter, to open its account.")
        )
        self._fill()
