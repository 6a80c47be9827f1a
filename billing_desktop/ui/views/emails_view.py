"""The Emails view: the outbox of every account, its delivery, and a preview (SPEC §4).

Every email a customer receives is stored first (``services.mail``) and sent
when a mail server is set up (``services.smtp``). This view lists them newest
first, a page at a time (``services.outbox``: plain SQL, keyset pages, fine at
100 000 emails), with a status filter and the selected email as the customer
reads it. Operators whose role sends emails can:

- **Retry now**: the selected failed emails become due at once
  (``smtp.retry_now``) and, with a mail server set up, go out right away;
- **Send pending now**: one delivery run in a background worker with progress
  and Cancel (``smtp.deliver_outbox``, in batches); a server that is down or
  not set up gives a clear message, and no email is ever lost by it.

**Open account** (or Enter on a row) shows the customer's account page.

Start-up: nothing heavy at import (no SQLAlchemy, smtplib or documents); the
first page and the status counts are two indexed queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QItemSelection,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import PermissionDenied
from billing_desktop.services.outbox import (
    OutboxMessage,
    OutboxRow,
    count_due,
    outbox_message,
    outbox_page,
    outbox_status_counts,
    smtp_configured,
)
from billing_desktop.services.smtp_errors import SmtpFailure, last_error_text
from billing_desktop.ui.errors import error_text, show_service_error
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.models.table import (
    RowTableModel,
    reread_pages,
    setup_list_table,
    size_columns_to_samples,
)
from billing_desktop.ui.theme import is_dark, warning_color
from billing_desktop.ui.words import translated_word

__all__ = ["EmailsView", "OutboxModel", "kind_word", "status_word"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex

#: Translation context of the constant words below.
_CONTEXT = "EmailsView"

KIND_WORDS = {
    "order_placed": QT_TRANSLATE_NOOP("EmailsView", "Order confirmation"),
    "cancellation_confirmed": QT_TRANSLATE_NOOP("EmailsView", "Cancellation confirmation"),
    "reactivated": QT_TRANSLATE_NOOP("EmailsView", "Reactivation"),
    "trial_ending": QT_TRANSLATE_NOOP("EmailsView", "Trial ending soon"),
    "trial_ended": QT_TRANSLATE_NOOP("EmailsView", "Trial ended"),
    "renewal_invoice": QT_TRANSLATE_NOOP("EmailsView", "Renewal invoice"),
    "payment_received": QT_TRANSLATE_NOOP("EmailsView", "Payment received"),
}

STATUS_WORDS = {
    "queued": QT_TRANSLATE_NOOP("EmailsView", "Pending"),
    "sent": QT_TRANSLATE_NOOP("EmailsView", "Sent"),
    "failed": QT_TRANSLATE_NOOP("EmailsView", "Failed"),
}

#: The status filter: (stored statuses or None for all, label source).
FILTERS: tuple[tuple[tuple[str, ...] | None, str], ...] = (
    (None, QT_TRANSLATE_NOOP("EmailsView", "All emails ({count})")),
    (("queued",), QT_TRANSLATE_NOOP("EmailsView", "Pending ({count})")),
    (("failed",), QT_TRANSLATE_NOOP("EmailsView", "Failed ({count})")),
    (("queued", "failed"), QT_TRANSLATE_NOOP("EmailsView", "Not sent yet ({count})")),
    (("sent",), QT_TRANSLATE_NOOP("EmailsView", "Sent ({count})")),
)

#: Emails handed to one ``deliver_outbox`` call; progress is reported between batches.
DELIVERY_BATCH = 20

_SETTINGS_SPLITTER = "emails/splitter"
_SETTINGS_HEADER = "emails/header"


def kind_word(kind: str) -> str:
    """The translated name of an email kind ("order_placed" → "Order confirmation")."""
    return translated_word(_CONTEXT, KIND_WORDS, kind)


def status_word(status: str) -> str:
    """The translated delivery status ("queued" → "Pending")."""
    return translated_word(_CONTEXT, STATUS_WORDS, status)


def format_moment(moment: datetime | None, locale: QLocale | None = None) -> str:
    """Date (four-digit year) and short time in the UI locale; "" for None."""
    if moment is None:
        return ""
    loc = locale if locale is not None else QLocale()
    time_text = loc.toString(QTime(moment.hour, moment.minute), QLocale.FormatType.ShortFormat)
    return f"{format_date(moment.date(), loc)} {time_text}"


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate(_CONTEXT, text, disambiguation, n)


# --------------------------------------------------------------------------- the model


class OutboxModel(RowTableModel):
    """The outbox, newest first, read a page at a time as the view scrolls.

    ``ObjectRole``: the :class:`OutboxRow` behind a row (any column).
    """

    CREATED, ACCOUNT, RECIPIENT, SUBJECT, KIND, STATUS, ATTEMPTS, NEXT_ATTEMPT = range(8)
    COLUMN_COUNT = 8

    PAGE_SIZE = 200

    CONTEXT = "OutboxModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("OutboxModel", "Created"),
        QT_TRANSLATE_NOOP("OutboxModel", "Account"),
        QT_TRANSLATE_NOOP("OutboxModel", "Recipient"),
        QT_TRANSLATE_NOOP("OutboxModel", "Subject"),
        QT_TRANSLATE_NOOP("OutboxModel", "Kind"),
        QT_TRANSLATE_NOOP("OutboxModel", "Status"),
        QT_TRANSLATE_NOOP("OutboxModel", "Attempts"),
        QT_TRANSLATE_NOOP("OutboxModel", "Next attempt"),
    )

    #: After every reset: how many emails have each status (``{"queued": n, …}``).
    countsChanged = Signal(object)

    def __init__(self, ctx: AppContext, parent: Any = None, *, load: bool = True) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._statuses: tuple[str, ...] | None = None
        self._texts: dict[int, tuple[str, ...]] = {}
        self._counts: dict[str, int] = {}
        self._exhausted = True
        if load:
            self.refresh()

    # -- state ---------------------------------------------------------------

    @property
    def statuses(self) -> tuple[str, ...] | None:
        return self._statuses

    @property
    def counts(self) -> dict[str, int]:
        """Emails per status, as of the last refresh."""
        return dict(self._counts)

    @property
    def total(self) -> int:
        """How many emails the filter matches (loaded or not)."""
        if self._statuses is None:
            return sum(self._counts.values())
        return sum(self._counts.get(s, 0) for s in self._statuses)

    def loaded_count(self) -> int:
        return len(self._rows)

    def row_of(self, email_id: int) -> int | None:
        return next((n for n, r in enumerate(self._rows) if r.id == email_id), None)

    def set_statuses(self, statuses: tuple[str, ...] | None) -> None:
        """Show only emails with one of ``statuses`` (None: all); reloads."""
        if statuses == self._statuses:
            return
        self._statuses = statuses
        self.refresh()

    def refresh(self) -> None:
        """Read the counts and the first page again."""
        self.beginResetModel()
        self._texts.clear()
        try:
            self._counts = outbox_status_counts(self._ctx)
            self._rows = self._page(None)
        except DomainError:
            self._rows = []
            self._exhausted = True
            self.endResetModel()
            raise
        self._exhausted = len(self._rows) < self.PAGE_SIZE
        self.endResetModel()
        self.countsChanged.emit(dict(self._counts))

    def refresh_in_place(self) -> None:
        """Read the counts and the emails loaded so far again, in place: the view keeps
        its scroll position and the selected emails (by id)."""
        counts = outbox_status_counts(self._ctx)
        self._counts = counts
        rows, exhausted = reread_pages(
            self._page, len(self._rows), self.PAGE_SIZE, lambda row: row.id
        )
        self.refresh_rows(rows)
        self._exhausted = exhausted
        self.countsChanged.emit(dict(self._counts))

    def _page(self, after_id: int | None) -> list[OutboxRow]:
        return outbox_page(
            self._ctx, self._statuses, after_id=after_id, limit=self.PAGE_SIZE, counts=self._counts
        )

    def _forget_texts(self) -> None:
        self._texts.clear()

    # -- lazy loading --------------------------------------------------------

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        after = self._rows[-1].id if self._rows else None
        page = self._page(after)
        if len(page) < self.PAGE_SIZE:
            self._exhausted = True
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    # -- Qt model API --------------------------------------------------------

    def _alignment(self, column: int) -> Qt.AlignmentFlag:
        # centred: a right-aligned count would touch the next column's date
        return self._CENTER if column == self.ATTEMPTS else self._LEFT

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        email: OutboxRow | None = self._row_at(index)
        if email is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            texts = self._texts.get(index.row())
            if texts is None:
                texts = tuple(self._display(email, c) for c in range(self.COLUMN_COUNT))
                self._texts[index.row()] = texts
            return texts[column]
        if role == self.ObjectRole:
            return email
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if email.status == "failed" and column == self.STATUS:
                return warning_color()
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(email, column)
        return None

    def _display(self, email: OutboxRow, column: int) -> str:
        if column == self.CREATED:
            return format_moment(email.created_at)
        if column == self.ACCOUNT:
            return account_text(email)
        if column == self.RECIPIENT:
            return email.to_address
        if column == self.SUBJECT:
            return email.subject
        if column == self.KIND:
            return kind_word(email.kind)
        if column == self.STATUS:
            if email.status == "failed" and email.last_error:
                # the word first: it survives when the column elides the error
                return QCoreApplication.translate("EmailsView", "{status}: {error}").format(
                    status=status_word(email.status), error=error_sentence(email.last_error)
                )
            return status_word(email.status)
        if column == self.ATTEMPTS:
            return QLocale().toString(email.attempts) if email.attempts else ""
        if column == self.NEXT_ATTEMPT:
            return format_moment(email.next_attempt_at)
        return ""

    def _tooltip(self, email: OutboxRow, column: int) -> str | None:
        if column == self.STATUS:
            return status_text(email)
        if column == self.SUBJECT:
            return email.subject
        if column == self.ACCOUNT and email.company_name:
            return email.company_name
        if column == self.RECIPIENT and email.cc_addresses:
            return QCoreApplication.translate("EmailsView", "Copy to {addresses}").format(
                addresses=email.cc_addresses
            )
        return None


def account_text(email: OutboxRow) -> str:
    """ "A-100001 · Company", or what is known of the account (the ID first: it stays
    readable when a narrow column elides the name)."""
    if email.account_number and email.company_name:
        return QCoreApplication.translate("EmailsView", "{number} · {company}").format(
            company=email.company_name, number=email.account_number
        )
    return email.company_name or email.account_number or ""


def error_sentence(last_error: str | None) -> str:
    """A stored ``last_error`` as a sentence in the UI language ("" for none)."""
    return last_error_text(last_error, QCoreApplication.translate)


def status_text(email: OutboxRow) -> str:
    """The delivery state as a sentence: when it went out, or why not and what happens next."""
    if email.status == "sent":
        if email.sent_at is None:
            return QCoreApplication.translate("EmailsView", "Sent")
        return QCoreApplication.translate("EmailsView", "Sent on {when}").format(
            when=format_moment(email.sent_at)
        )
    if email.status == "failed":
        text = EmailsView.tr("Failed after %n attempt(s): {error}", "", email.attempts).format(
            error=error_sentence(email.last_error)
            or QCoreApplication.translate("EmailsView", "no reason given")
        )
        if email.next_attempt_at is not None:
            text += "\n" + QCoreApplication.translate("EmailsView", "Next attempt: {when}").format(
                when=format_moment(email.next_attempt_at)
            )
        return text
    if email.attempts:
        return EmailsView.tr(
            "Pending since {when}; %n earlier attempt(s) failed: {error}",
            "",
            email.attempts,
        ).format(when=format_moment(email.created_at), error=error_sentence(email.last_error))
    return QCoreApplication.translate("EmailsView", "Pending since {when}").format(
        when=format_moment(email.created_at)
    )


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one "Send pending now" did, summed over its batches."""

    configured: bool
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    #: the server-level problem (unreachable, login refused), translatable
    error: SmtpFailure | None = None


def deliver_in_batches(ctx: AppContext, progress: Any, total: int) -> DeliveryOutcome:
    """Runs in the worker: ``deliver_outbox`` in batches until nothing is due.

    Stops at a server-level error (every later email would fail the same way),
    when a batch sends nothing, or at Cancel (polled between emails).
    """
    from billing_desktop.services.smtp import deliver_outbox

    sent = failed = waiting = 0
    error: SmtpFailure | None = None
    # Failed emails wait for their retry time, so each batch takes new ones;
    # the bound only guards against emails queued faster than they go out.
    for _ in range(max(1, total // DELIVERY_BATCH + 2) * 2):
        progress.check()
        summary = deliver_outbox(
            ctx, limit=DELIVERY_BATCH, should_stop=lambda: bool(progress.cancelled)
        )
        if not summary.configured:
            return DeliveryOutcome(configured=False, waiting=summary.waiting)
        sent += summary.sent
        failed += summary.failed
        waiting = summary.waiting
        progress.update("", min(sent + failed, total), total)
        if summary.failure is not None:
            error = summary.failure
            break
        if summary.sent + summary.failed < DELIVERY_BATCH:
            break
    return DeliveryOutcome(True, sent, failed, waiting, error)


# --------------------------------------------------------------------------- the view


class EmailsView(QWidget):
    """Every account's emails with their delivery status, a preview and delivery actions."""

    #: The user wants to see the email's account; carries the account id.
    account_activated = Signal(int)
    #: Emitted after emails were made due or delivered (other views may show them).
    outbox_changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emailsView")
        self._ctx = ctx
        self._may_send = self._operator_sends_emails()
        self._task: Any = None
        self._message: OutboxMessage | None = None
        self._banner_kind = "info"
        self._columns_fitted = False

        # -- filter bar
        self.filter_label = QLabel(self)
        self.status_combo = QComboBox(self)
        self.status_combo.setObjectName("emailsStatusFilter")
        self.status_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for statuses, _label in FILTERS:
            self.status_combo.addItem("", statuses)
        self.filter_label.setBuddy(self.status_combo)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("emailsCount")
        self.server_label = QLabel(self)
        self.server_label.setObjectName("emailsServer")
        self.server_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        # -- actions
        self.retry_button = QPushButton(self)
        self.retry_button.setObjectName("emailsRetryNow")
        self.send_button = QPushButton(self)
        self.send_button.setObjectName("emailsSendPending")
        self.open_button = QPushButton(self)
        self.open_button.setObjectName("emailsOpenAccount")
        for button in (self.retry_button, self.send_button):
            button.setVisible(self._may_send)

        # -- the message about the last action (hidden until there is one)
        self.banner = QLabel(self)
        self.banner.setObjectName("emailsBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setContentsMargins(10, 6, 10, 6)
        self.banner.hide()

        # -- table
        self.model = OutboxModel(ctx, self, load=False)
        self.table = QTableView(self)
        self.table.setObjectName("emailsTable")
        self._setup_table()

        # -- preview
        self.preview = QWidget(self)
        self.preview.setObjectName("emailsPreview")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._captions = [QLabel(self.preview) for _ in range(4)]
        self.to_label = self._value_label()
        self.account_label = self._value_label()
        self.subject_label = self._value_label()
        self.subject_label.setObjectName("emailsPreviewSubject")
        font = self.subject_label.font()
        font.setBold(True)
        self.subject_label.setFont(font)
        self.status_label = self._value_label()
        self.status_label.setObjectName("emailsPreviewStatus")
        self.status_label.setWordWrap(True)
        for caption, value in zip(
            self._captions,
            (self.to_label, self.account_label, self.subject_label, self.status_label),
            strict=True,
        ):
            form.addRow(caption, value)
        self.body = QPlainTextEdit(self.preview)
        self.body.setObjectName("emailsPreviewBody")
        self.body.setReadOnly(True)
        self.body.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        preview_layout = QVBoxLayout(self.preview)
        preview_layout.setContentsMargins(0, 6, 0, 0)
        preview_layout.addLayout(form)
        preview_layout.addWidget(self.body, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("emailsSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(self.filter_label)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.server_label)
        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(self.retry_button)
        actions.addWidget(self.send_button)
        actions.addStretch(1)
        actions.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(actions)

        self.setFocusProxy(self.table)
        QWidget.setTabOrder(self.status_combo, self.table)
        QWidget.setTabOrder(self.table, self.retry_button)
        QWidget.setTabOrder(self.retry_button, self.send_button)
        QWidget.setTabOrder(self.send_button, self.open_button)
        QWidget.setTabOrder(self.open_button, self.body)

        self.status_combo.currentIndexChanged.connect(self._on_filter)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.table.activated.connect(self._on_activated)
        self.model.countsChanged.connect(self._on_counts)
        self.model.modelReset.connect(self._update_buttons)
        self.retry_button.clicked.connect(self.retry_selected)
        self.send_button.clicked.connect(self.send_pending)
        self.open_button.clicked.connect(self.open_account)

        self._retranslate_widgets()
        self._restore_settings()
        self.refresh()

    # -- setup ---------------------------------------------------------------

    def _value_label(self) -> QLabel:
        label = QLabel(self.preview)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _operator_sends_emails(self) -> bool:
        """Whether the operator's role may send emails (the services check again)."""
        try:
            authorize(self._ctx, Action.SEND_EMAILS)
        except PermissionDenied:
            return False
        return True

    def _setup_table(self) -> None:
        header = setup_list_table(
            self.table,
            self.model,
            min_section_size=40,
            selection_mode=QAbstractItemView.SelectionMode.ExtendedSelection,
        )
        header.setSectionResizeMode(OutboxModel.SUBJECT, QHeaderView.ResizeMode.Stretch)
        self._default_column_widths()

    def _default_column_widths(self) -> None:
        m = OutboxModel
        samples = {
            m.CREATED: format_moment(datetime(2026, 12, 28, 23, 59)),
            m.ACCOUNT: "A-100000 · Studio Associato",
            m.RECIPIENT: "firstname.lastname@company",
            m.KIND: kind_word("renewal_invoice"),
            m.STATUS: "Failed: Cannot connect to",
            m.ATTEMPTS: "00",
            m.NEXT_ATTEMPT: format_moment(datetime(2026, 12, 28, 23, 59)),
        }
        size_columns_to_samples(self.table, samples, padding=24)

    def _fit_columns(self) -> None:
        """Narrow the account, recipient and status columns so the subject keeps room
        (once, when first shown at its real width; the user's widths win after that)."""
        header = self.table.horizontalHeader()
        m = OutboxModel
        elastic = (m.ACCOUNT, m.RECIPIENT, m.STATUS)
        fm = self.table.fontMetrics()
        subject_room = fm.horizontalAdvance("Invoice INV-2026-000000 for your") + 24
        fixed = sum(
            header.sectionSize(c)
            for c in range(m.COLUMN_COUNT)
            if c not in elastic and c != m.SUBJECT
        )
        available = self.table.viewport().width() - fixed - subject_room
        wanted = sum(header.sectionSize(c) for c in elastic)
        if available >= wanted or wanted <= 0:
            return
        floor = fm.horizontalAdvance("A-100000 · Studio") + 16
        for column in elastic:
            size = header.sectionSize(column) * max(available, 0) // wanted
            header.resizeSection(column, max(floor, size))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._columns_fitted:
            self._columns_fitted = True
            self._fit_columns()

    def _restore_settings(self) -> None:
        settings = QSettings()
        state = settings.value(_SETTINGS_SPLITTER)
        if state is None or not self.splitter.restoreState(state):
            self.splitter.setSizes([420, 300])
        header_state = settings.value(_SETTINGS_HEADER)
        header = self.table.horizontalHeader()
        if header_state is not None and header.restoreState(header_state):
            header.setSectionResizeMode(OutboxModel.SUBJECT, QHeaderView.ResizeMode.Stretch)
            self._columns_fitted = True  # the user's own widths

    def save_settings(self) -> None:
        """Remember the splitter and the columns for next time."""
        settings = QSettings()
        settings.setValue(_SETTINGS_SPLITTER, self.splitter.saveState())
        settings.setValue(_SETTINGS_HEADER, self.table.horizontalHeader().saveState())

    # -- reading -------------------------------------------------------------

    def refresh(self) -> None:
        """Read the outbox again (F5); the selected emails stay selected when still listed."""
        selected = [e.id for e in self.selected_emails()]
        current = self.current_email()
        try:
            self.model.refresh()
        except DomainError as err:
            show_service_error(self, err)
        self._update_server_label()
        rows = [r for r in (self.model.row_of(i) for i in selected) if r is not None]
        current_row = self.model.row_of(current.id) if current is not None else None
        if current_row is None and rows:
            current_row = rows[0]
        if current_row is None and self.model.rowCount() > 0 and current is None:
            current_row = 0
        self._select_rows(rows or ([current_row] if current_row is not None else []), current_row)
        if current_row is None:
            self._show_preview(None)

    def refresh_live(self) -> None:
        """Another operator (or a delivery run) changed the outbox: the list reads
        again in place, keeping the scroll position and the selected emails."""
        try:
            self.model.refresh_in_place()
        except DomainError as err:
            log.info("outbox not refreshed: %s", err)
            return
        self._update_server_label()
        self._update_count()
        self._show_current()

    def _select_rows(self, rows: list[int], current: int | None) -> None:
        selection_model = self.table.selectionModel()
        selection = QItemSelection()
        last = self.model.COLUMN_COUNT - 1
        for row in rows:
            selection.select(self.model.index(row, 0), self.model.index(row, last))
        flags = selection_model.SelectionFlag
        selection_model.select(selection, flags.ClearAndSelect | flags.Rows)
        if current is not None:
            selection_model.setCurrentIndex(self.model.index(current, 0), flags.NoUpdate)
            self._show_current()

    def _update_server_label(self) -> None:
        try:
            configured = smtp_configured(self._ctx)
        except DomainError:
            configured = False
        if configured:
            self.server_label.setText(self.tr("A mail server is set up."))
            self.server_label.setToolTip("")
        else:
            self.server_label.setText(
                self.tr("No mail server is set up: emails wait in the outbox.")
            )
            self.server_label.setToolTip(self.tr("Set up the SMTP server in Settings."))

    def current_email(self) -> OutboxRow | None:
        """The email the preview shows (the current row)."""
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            rows = self.table.selectionModel().selectedRows()
            if not rows:
                return None
            index = rows[0]
        return self.model.row_object(index.row())

    def selected_emails(self) -> list[OutboxRow]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.row_object(r) for r in rows]

    def preview_text(self) -> str:
        """What the preview shows, as plain text (subject line and body)."""
        return f"{self.subject_label.text()}\n\n{self.body.toPlainText()}"

    # -- reacting ------------------------------------------------------------

    def _on_filter(self, _index: int) -> None:
        statuses = self.status_combo.currentData()
        self.model.set_statuses(tuple(statuses) if statuses is not None else None)
        if self.model.rowCount() > 0:
            self._select_rows([0], 0)
        else:
            self._show_preview(None)
        self._update_count()

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_current()

    def _on_current(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_current()

    def _show_current(self) -> None:
        email = self.current_email()
        if email is None:
            self._show_preview(None)
        elif self._message is None or self._message.row != email:
            try:
                self._show_preview(outbox_message(self._ctx, email.id))
            except DomainError as err:  # deleted with its account meanwhile
                log.info("email %d no longer readable: %s", email.id, err)
                self._show_preview(None)
        self._update_buttons()

    def _on_activated(self, index: QModelIndex) -> None:
        email = self.model.data(index, OutboxModel.ObjectRole)
        if email is not None and email.account_id is not None:
            self.account_activated.emit(int(email.account_id))

    def _on_counts(self, _counts: object) -> None:
        self._update_filter_texts()
        self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(self.tr("%Ln email(s)", "", self.model.total))

    def _update_filter_texts(self) -> None:
        counts = self.model.counts
        loc = QLocale()
        for index, (statuses, label) in enumerate(FILTERS):
            wanted = counts if statuses is None else {s: counts.get(s, 0) for s in statuses}
            self.status_combo.setItemText(
                index, _tr(label).format(count=loc.toString(sum(wanted.values())))
            )

    def _update_buttons(self) -> None:
        selected = self.selected_emails()
        busy = self._task is not None
        self.retry_button.setEnabled(
            not busy and any(e.status in ("failed", "queued") for e in selected)
        )
        waiting = self.model.counts.get("queued", 0) + self.model.counts.get("failed", 0)
        self.send_button.setEnabled(not busy and waiting > 0)
        current = self.current_email()
        self.open_button.setEnabled(current is not None and current.account_id is not None)

    # -- actions -------------------------------------------------------------

    def open_account(self) -> None:
        """Show the account of the email in the preview."""
        email = self.current_email()
        if email is not None and email.account_id is not None:
            self.account_activated.emit(int(email.account_id))

    def retry_selected(self) -> None:
        """Retry now: the selected failed emails become due at once, and go out now if a
        mail server is set up (pending ones are simply sent)."""
        from billing_desktop.services.smtp import retry_now

        selected = [e for e in self.selected_emails() if e.status in ("failed", "queued")]
        if not selected:
            return
        failed = [e.id for e in selected if e.status == "failed"]
        try:
            if failed:
                retry_now(self._ctx, failed)
            configured = smtp_configured(self._ctx)
        except DomainError as err:
            show_service_error(self, err)
            self.refresh()
            return
        self.refresh()
        self.outbox_changed.emit()
        if not configured:
            self._show_banner(
                "warning",
                self.tr(
                    "%n email(s) will be sent as soon as a mail server is set up "
                    "(Settings, SMTP server). Nothing was lost.",
                    "",
                    len(selected),
                ),
            )
            return
        self._start_delivery()

    def send_pending(self) -> None:
        """Send every email that is due now, in a background worker (progress, Cancel)."""
        try:
            configured = smtp_configured(self._ctx)
            due = count_due(self._ctx) if configured else 0
        except DomainError as err:
            show_service_error(self, err)
            return
        if not configured:
            self._show_banner(
                "warning",
                self.tr(
                    "No mail server is set up, so nothing was sent. The emails stay in the "
                    "outbox; set up the SMTP server in Settings and send them again."
                ),
            )
            return
        if due == 0:
            self._show_banner(
                "info",
                self.tr(
                    "No email is due now. Failed emails are tried again at their next "
                    "attempt time, or select them and choose Retry now."
                ),
            )
            return
        self._start_delivery(due)

    def _start_delivery(self, due: int | None = None) -> None:
        from billing_desktop.ui.workers import run_in_background

        if self._task is not None:
            return
        total = due if due is not None else count_due(self._ctx)
        if total == 0:
            return
        ctx = self._ctx
        self._task = run_in_background(
            self,
            lambda progress: deliver_in_batches(ctx, progress, total),
            title=self.tr("Sending emails"),
            label=self.tr("Sending %n email(s) to the mail server…", "", total),
            on_result=self._on_delivered,
            on_cancel=self._on_delivery_cancelled,
        )
        self._task.done.connect(self._on_task_done)
        self._update_buttons()

    @property
    def delivery_task(self) -> Any:
        """The running delivery (a ``BackgroundTask``), None when idle; tests wait on it."""
        return self._task

    def _on_task_done(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.deleteLater()
        self.refresh()
        self.outbox_changed.emit()

    def _on_delivered(self, outcome: DeliveryOutcome) -> None:
        if not outcome.configured:
            self._show_banner(
                "warning",
                self.tr(
                    "No mail server is set up, so nothing was sent. The emails stay in the outbox."
                ),
            )
            return
        if outcome.error is not None:
            self._show_banner(
                "error",
                self.tr(
                    "The mail server could not be used, so %n email(s) stay in the outbox and "
                    "will be tried again later. The server said: {error}",
                    "",
                    outcome.waiting,
                ).format(error=error_text(outcome.error)),
            )
            return
        text = self.tr("%n email(s) sent.", "", outcome.sent)
        if outcome.failed:
            text = self.tr(
                "%n email(s) sent; {failed} refused by the server (see Last error).",
                "",
                outcome.sent,
            ).format(failed=QLocale().toString(outcome.failed))
        self._show_banner("error" if outcome.failed else "info", text)

    def _on_delivery_cancelled(self) -> None:
        self._show_banner(
            "info",
            self.tr(
                "Sending was cancelled. The emails sent before are marked sent; the others "
                "stay in the outbox."
            ),
        )

    def _show_banner(self, kind: str, text: str) -> None:
        self._banner_kind = kind
        self.banner.setText(text)
        self._style_banner()
        self.banner.show()

    def _style_banner(self) -> None:
        dark = is_dark(self.palette())
        colours = {
            "info": ("#1d3a5c", "#d6e6ff") if dark else ("#e7f0fd", "#123a6b"),
            "warning": ("#4a3b12", "#ffe6a6") if dark else ("#fff4d6", "#5c4300"),
            "error": ("#5a1f24", "#ffd6d9") if dark else ("#fde7e9", "#7a0014"),
        }
        background, foreground = colours.get(self._banner_kind, colours["info"])
        self.banner.setStyleSheet(
            f"QLabel#emailsBanner {{ background-color: {background}; color: {foreground}; "
            "border-radius: 4px; }"
        )

    def banner_text(self) -> str:
        """The message about the last action ("" when none is shown)."""
        return self.banner.text() if self.banner.isVisible() else ""

    # -- display -------------------------------------------------------------

    def _show_preview(self, message: OutboxMessage | None) -> None:
        self._message = message
        if message is None:
            for label in (self.to_label, self.account_label, self.subject_label, self.status_label):
                label.clear()
            self.body.setPlainText("")
            self.body.setPlaceholderText(
                self.tr("Select an email to read it.")
                if self.model.rowCount()
                else self.tr("No email here yet.")
            )
            return
        email = message.row
        to = email.to_address
        if email.cc_addresses:
            to = self.tr("{to}, copy to {cc}").format(to=to, cc=email.cc_addresses)
        self.to_label.setText(to)
        self.account_label.setText(account_text(email))
        self.subject_label.setText(email.subject)
        self.status_label.setText(status_text(email))
        self.body.setPlainText(message.body_text)

    # -- translation ---------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        kind = event.type()
        if kind in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        elif kind == QEvent.Type.PaletteChange and self.banner.isVisible():
            self._style_banner()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self._retranslate_widgets()
        self.model.retranslate()
        self._update_filter_texts()
        self._update_count()
        self._update_server_label()
        message, self._message = self._message, None
        self._show_preview(message)

    def _retranslate_widgets(self) -> None:
        self.filter_label.setText(self.tr("&Show:"))
        self.retry_button.setText(self.tr("&Retry now"))
        self.retry_button.setToolTip(
            self.tr("Send the selected failed or pending emails now, without waiting")
        )
        self.send_button.setText(self.tr("Send &pending now"))
        self.send_button.setToolTip(
            self.tr("Send every email that is waiting and due now to the mail server")
        )
        self.open_button.setText(self.tr("&Open account"))
        self.open_button.setToolTip(self.tr("Show the account this email was sent to"))
        for caption, text in zip(
            self._captions,
            (self.tr("To:"), self.tr("Account:"), self.tr("Subject:"), self.tr("Status:")),
            strict=True,
        ):
            caption.setText(text)
        self.table.setAccessibleName(self.tr("Emails to customers"))
        self.body.setAccessibleName(self.tr("Text of the email"))
        self._update_filter_texts()
