"""The account page: a header with the account at a glance and one tab per subject (SPEC §4).

Tabs are built the first time they are shown (each reads its data when it
is built), so opening an account costs the header and the Overview only.
When any tab reports a change (``account_changed``), the header and every
tab built so far read the account again; tabs not built yet will read fresh
data when first shown.

A tab may ask for another one (``tab_requested(key)``: an Overview link, a
wizard's way out from the Subscriptions tab such as "Assign licences now");
:meth:`AccountPage.show_tab` switches to it.

Keyboard: Alt+Left or Backspace (outside text fields) goes back to the
accounts list, Alt+1 … Alt+7 switch tabs, Ctrl+Tab / Ctrl+PgDown cycle them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.accounts import AccountOverview, account_overview
from billing_desktop.services.context import AppContext
from billing_desktop.ui.account.activity import ActivityTab
from billing_desktop.ui.account.emails import EmailsTab
from billing_desktop.ui.account.invoices import InvoicesTab
from billing_desktop.ui.account.licences import LicencesTab
from billing_desktop.ui.account.overview import OverviewTab
from billing_desktop.ui.account.payment_methods import PaymentMethodsTab
from billing_desktop.ui.account.subscriptions import SubscriptionsTab
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.formatting import format_money
from billing_desktop.ui.models.accounts_model import status_word, type_word

__all__ = ["TABS", "AccountPage"]

log = logging.getLogger("billing_desktop.ui")


class _TabSpec(NamedTuple):
    key: str
    title: str  # QT_TRANSLATE_NOOP source, context "AccountPage"
    factory: Callable[[AppContext, int, QWidget], QWidget]


#: The tabs, in order.
TABS: tuple[_TabSpec, ...] = (
    _TabSpec("overview", QT_TRANSLATE_NOOP("AccountPage", "Overview"), OverviewTab),
    _TabSpec("subscriptions", QT_TRANSLATE_NOOP("AccountPage", "Subscriptions"), SubscriptionsTab),
    _TabSpec("invoices", QT_TRANSLATE_NOOP("AccountPage", "Invoices"), InvoicesTab),
    _TabSpec("licences", QT_TRANSLATE_NOOP("AccountPage", "Users & licences"), LicencesTab),
    _TabSpec(
        "payment_methods", QT_TRANSLATE_NOOP("AccountPage", "Payment methods"), PaymentMethodsTab
    ),
    _TabSpec("activity", QT_TRANSLATE_NOOP("AccountPage", "Activity"), ActivityTab),
    _TabSpec("emails", QT_TRANSLATE_NOOP("AccountPage", "Emails"), EmailsTab),
)

#: Badge colours (background, text, border); the word, not the colour, carries the meaning.
_BADGES = {
    "standard": ("#eceff1", "#37474f", "#cfd8dc"),
    "corporate": ("#e8eaf6", "#283593", "#c5cae9"),
    "active": ("#e4f3e8", "#1b5e20", "#9fd0ab"),
    "overdue": ("#fdecea", "#8c1d18", "#f2b8b5"),
    "expired": ("#fff4e5", "#8a4b00", "#f5cf99"),
    "closed": ("#eceff1", "#455a64", "#cfd8dc"),
}


class _Badge(QLabel):
    """A word on a tinted pill."""

    def __init__(self, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        font = self.font()
        font.setBold(True)
        self.setFont(font)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.kind = ""

    def set_kind(self, kind: str, text: str) -> None:
        self.kind = kind
        background, colour, border = _BADGES.get(kind, _BADGES["closed"])
        name = self.objectName()
        self.setStyleSheet(
            f"QLabel#{name} {{ background: {background}; color: {colour}; "
            f"border: 1px solid {border}; border-radius: 9px; padding: 1px 8px; }}"
        )
        self.setText(text)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(text) + 2 * 8 + 2 + 4)


class _TabHost(QWidget):
    """Holds a tab's place in the tab bar until the tab is built on first show."""

    def __init__(self, key: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(f"{key}Host")
        self.key = key
        self.tab: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def set_tab(self, tab: QWidget) -> None:
        self.tab = tab
        self.layout().addWidget(tab)
        self.setFocusProxy(tab)


class AccountPage(QWidget):
    """One account: header (ID, company, type, status, balance), Back, and the tabs."""

    #: The user asked to go back to the accounts list.
    back_requested = Signal()

    def __init__(
        self,
        ctx: AppContext,
        account_id: int,
        parent: QWidget | None = None,
        *,
        overview: AccountOverview | None = None,
    ) -> None:
        """Open the page on ``overview`` if given, else read it (``DomainError`` when it
        cannot be read, e.g. the account no longer exists)."""
        super().__init__(parent)
        self.setObjectName("accountPage")
        self._ctx = ctx
        self.account_id = account_id
        self.overview: AccountOverview | None = None

        # -- header
        self.back_button = QToolButton(self)
        self.back_button.setObjectName("backButton")
        self.back_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back_button.setAutoRaise(True)
        self.back_button.clicked.connect(self.back_requested)
        self.number_label = QLabel(self)
        self.number_label.setObjectName("accountNumber")
        self.number_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.company_label = QLabel(self)
        self.company_label.setObjectName("companyName")
        self.company_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.company_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        title_font = QFont(self.company_label.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.5)
        title_font.setBold(True)
        self.company_label.setFont(title_font)
        number_font = QFont(self.number_label.font())
        number_font.setPointSizeF(number_font.pointSizeF() * 1.5)
        self.number_label.setFont(number_font)
        self.type_badge = _Badge("typeBadge", self)
        self.status_badge = _Badge("statusBadge", self)
        self.balance_label = QLabel(self)
        self.balance_label.setObjectName("balanceLabel")
        self.balance_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        balance_font = QFont(self.balance_label.font())
        balance_font.setBold(True)
        self.balance_label.setFont(balance_font)
        self.credit_label = QLabel(self)
        self.credit_label.setObjectName("creditLabel")
        self.credit_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        title_row = QHBoxLayout()
        title_row.setSpacing(10)
        title_row.addWidget(self.number_label)
        title_row.addWidget(self.company_label, 1)
        title_row.addWidget(self.type_badge)
        title_row.addWidget(self.status_badge)
        title_row.addSpacing(16)
        balances = QVBoxLayout()
        balances.setSpacing(0)
        balances.addWidget(self.balance_label)
        balances.addWidget(self.credit_label)
        title_row.addLayout(balances)

        # -- tabs
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("accountTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self._hosts: list[_TabHost] = []
        for spec in TABS:
            host = _TabHost(spec.key, self.tabs)
            self._hosts.append(host)
            self.tabs.addTab(host, "")
        self.tabs.currentChanged.connect(self._on_current_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 12, 0)
        layout.setSpacing(6)
        layout.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignLeft)
        header = QWidget(self)
        header.setObjectName("accountHeader")
        header.setLayout(title_row)
        title_row.setContentsMargins(8, 0, 0, 4)
        layout.addWidget(header)
        layout.addWidget(self.tabs, 1)
        self.setFocusProxy(self.tabs)

        # -- keys
        self._shortcuts: list[QShortcut] = []
        for sequence in (QKeySequence(QKeySequence.StandardKey.Back), QKeySequence("Backspace")):
            back = QShortcut(sequence, self)
            back.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            back.activated.connect(self.back_requested)
            self._shortcuts.append(back)
        for number in range(1, len(TABS) + 1):
            key = QShortcut(QKeySequence(f"Alt+{number}"), self)
            key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            key.activated.connect(lambda n=number: self.show_tab(TABS[n - 1].key))
            self._shortcuts.append(key)

        self.retranslateUi()
        if overview is None:
            overview = account_overview(ctx, account_id)
        self._show_header(overview)
        self._build(0)

    # -- tabs --------------------------------------------------------------------

    def tab_keys(self) -> list[str]:
        return [spec.key for spec in TABS]

    def tab(self, key: str) -> QWidget:
        """The tab ``key`` ("overview", "invoices", …), built now if it was not yet."""
        index = self.tab_keys().index(key)
        return self._build(index)

    def built_tabs(self) -> dict[str, QWidget]:
        """The tabs built so far (shown at least once, or asked for)."""
        return {host.key: host.tab for host in self._hosts if host.tab is not None}

    def current_tab_key(self) -> str:
        return TABS[self.tabs.currentIndex()].key

    def show_tab(self, key: str) -> None:
        """Make ``key`` the current tab ("licences", "invoices", …) and give it the focus."""
        if key not in self.tab_keys():
            log.warning("no tab %r on the account page", key)
            return
        index = self.tab_keys().index(key)
        self.tabs.setCurrentIndex(index)
        self._build(index).setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _build(self, index: int) -> QWidget:
        host = self._hosts[index]
        if host.tab is None:
            spec = TABS[index]
            if spec.factory is OverviewTab:
                # the header's data is the Overview's too: one read for both
                tab: QWidget = OverviewTab(self._ctx, self.account_id, host, overview=self.overview)
            else:
                tab = spec.factory(self._ctx, self.account_id, host)
            host.set_tab(tab)
            # a link or a wizard's way out into another tab (Overview, Subscriptions)
            requested = getattr(tab, "tab_requested", None)
            if requested is not None:
                requested.connect(self.show_tab)
            tab.account_changed.connect(  # type: ignore[attr-defined]
                lambda t=tab: self.reload_after_change(t)
            )
        assert host.tab is not None
        return host.tab

    def _on_current_changed(self, index: int) -> None:
        if 0 <= index < len(self._hosts):
            self._build(index)

    @property
    def overview_tab(self) -> OverviewTab:
        tab = self.tab("overview")
        assert isinstance(tab, OverviewTab)
        return tab

    # -- data --------------------------------------------------------------------

    def reload_header(self) -> None:
        """Read the header's data; raises ``DomainError`` (e.g. the account is gone)."""
        self._show_header(account_overview(self._ctx, self.account_id))

    def reload_after_change(self, source: QWidget | None = None) -> None:
        """A tab changed the account: the header and every other built tab read it again."""
        if isinstance(source, OverviewTab) and source.overview is not None:
            self._show_header(source.overview)  # what the save returned: already fresh
        else:
            try:
                self.reload_header()
            except DomainError as err:
                show_service_error(self, err)
        for tab in self.built_tabs().values():
            if tab is not source:
                tab.reload()  # type: ignore[attr-defined]

    def refresh(self) -> None:
        """F5: read everything shown again."""
        self.reload_after_change(None)

    def has_unsaved_changes(self) -> bool:
        tab = self.built_tabs().get("overview")
        return isinstance(tab, OverviewTab) and tab.has_unsaved_changes()

    def confirm_leave(self) -> bool:
        """True when the page may close: nothing unsaved, or the user chose to discard it."""
        if not self.has_unsaved_changes():
            return True
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Unsaved changes"))
        box.setText(
            self.tr("The changes to account {account} are not saved. Discard them?").format(
                account=self.overview.account_number if self.overview else ""
            )
        )
        box.setStandardButtons(
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Discard

    def _show_header(self, ov: AccountOverview) -> None:
        self.overview = ov
        self.number_label.setText(ov.account_number)
        self.company_label.setText(ov.company_name)
        self.company_label.setToolTip(ov.company_name)
        self.type_badge.set_kind(ov.type, type_word(ov.type))
        status = ov.display_status
        self.status_badge.set_kind(status, status_word(status))
        if ov.outstanding_minor:
            self.balance_label.setText(
                self.tr("Balance due: {amount}").format(
                    amount=format_money(ov.outstanding_minor, ov.currency)
                )
            )
        else:
            self.balance_label.setText(self.tr("Nothing due"))
        self.credit_label.setText(
            self.tr("Account credit: {amount}").format(
                amount=format_money(ov.credit_balance_minor, ov.currency)
            )
            if ov.credit_balance_minor
            else ""
        )
        self.credit_label.setVisible(bool(ov.credit_balance_minor))
        self.setAccessibleName(
            self.tr("Account {account}, {company}").format(
                account=ov.account_number, company=ov.company_name
            )
        )

    # -- language ----------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.back_button.setText(self.tr("Accounts"))
        self.back_button.setToolTip(self.tr("Back to the accounts list (Alt+Left)"))
        self.back_button.setAccessibleName(self.tr("Back to the accounts list"))
        for index, spec in enumerate(TABS):
            title = QCoreApplication.translate("AccountPage", spec.title)
            self.tabs.setTabText(index, title.replace("&", "&&"))  # no mnemonics: Alt+digit
            self.tabs.setTabToolTip(index, self.tr("Alt+{number}").format(number=index + 1))
        self.tabs.setAccessibleName(self.tr("Account tabs"))
        if self.overview is not None:
            self._show_header(self.overview)
