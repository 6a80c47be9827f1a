"""What every wizard of issue 5 shares: look, inline errors, facts, the final button.

Use these pieces so the checkout, cancellation and assisted-cancellation
wizards look and behave alike:

* :func:`setup_wizard` — the one wizard style (:data:`WIZARD_STYLE`,
  ModernStyle: a header with the page title and subtitle on every platform),
  the options all wizards use, and a minimum size.
* :class:`WizardBase` — a QWizard with the contract's signals ``completed``
  and ``navigate_requested(str)`` (:meth:`~WizardBase.request_navigation`
  emits it and closes the wizard) and ``changeEvent(LanguageChange)`` →
  :meth:`~WizardBase.retranslateUi`.
* :class:`WizardPage` — a QWizardPage whose layout is ``self.body`` (a
  QVBoxLayout) followed by an inline error label: :meth:`~WizardPage.show_error`
  (a service error through :func:`~billing_desktop.ui.errors.error_text`, a
  :class:`~billing_desktop.domain.text.Notice`, or an already translated
  sentence) and :meth:`~WizardPage.clear_error`. It calls ``retranslateUi()`` on
  LanguageChange and owns a :class:`FinalAction` guard (``self.final``) that
  keeps its Next/Commit/Finish button disabled while the final call runs and
  after it succeeded.
* :class:`FactsForm` — a read-only form of label/value rows for summaries
  (review page, "what will still be billed", results).
* :class:`FinalAction` — the double-submission guard, also usable outside a
  wizard page (a QDialog's push button).
* :func:`wrapping_label`, :func:`headline_label`, :func:`scroll_column` and
  :func:`money_text` — the pages' recurring widgets and amounts.

Everything here is presentation: no service call, no rule.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QFormLayout,
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.money import Money
from billing_desktop.domain.text import Notice
from billing_desktop.ui.errors import error_text
from billing_desktop.ui.formatting import format_money

__all__ = [
    "WIZARD_MINIMUM_SIZE",
    "WIZARD_STYLE",
    "Fact",
    "FactsForm",
    "FinalAction",
    "WizardBase",
    "WizardPage",
    "headline_label",
    "message_text",
    "money_text",
    "scroll_column",
    "setup_wizard",
    "wrapping_label",
]

T = TypeVar("T")

#: The one wizard style of the application. ModernStyle draws the page title
#: and subtitle in a header band on every platform (ClassicStyle and the
#: native macOS style drop the subtitle), so the articles' page names
#: ("Complete transaction") are always visible.
WIZARD_STYLE = QWizard.WizardStyle.ModernStyle

#: Smallest size (at 100 %; Qt scales it with QT_SCALE_FACTOR) at which every
#: page of the wizards shows everything without clipping.
WIZARD_MINIMUM_SIZE = QSize(720, 560)


def setup_wizard(wizard: QWizard, minimum: QSize = WIZARD_MINIMUM_SIZE) -> None:
    """Give ``wizard`` the shared style, options and minimum size.

    * no Back button on the first page, Cancel always present (Escape);
    * no help button; the Finish button only on the final page;
    * window-modal when opened with ``open()``.
    """
    wizard.setWizardStyle(WIZARD_STYLE)
    wizard.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
    wizard.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
    wizard.setOption(QWizard.WizardOption.HaveHelpButton, False)
    wizard.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
    wizard.setWindowModality(Qt.WindowModality.WindowModal)
    wizard.setMinimumSize(minimum)


def message_text(message: DomainError | Notice | str) -> str:
    """One sentence in the UI language for a service error, a Notice or a ready text."""
    if isinstance(message, DomainError):
        return error_text(message)
    if isinstance(message, Notice):
        return error_text(DomainError(message.code, message.message, dict(message.params)))
    return message


def money_text(value: Money) -> str:
    """A Money amount for display (minor units; never a float)."""
    return format_money(value.minor, value.currency)


def wrapping_label(parent: QWidget, name: str = "") -> QLabel:
    """A plain-text label that wraps and takes only the height its lines need."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    if name:
        label.setObjectName(name)
    return label


def headline_label(parent: QWidget, name: str, *, scale: float = 1.0) -> QLabel:
    """The bold, wrapping first line of a result or confirmation (``scale``: its size)."""
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    font = QFont(label.font())
    font.setBold(True)
    if scale != 1.0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def scroll_column(
    page: WizardPage, name: str = "", *, takes_focus: bool = False
) -> tuple[QWidget, QVBoxLayout]:
    """A frameless scroll area filling the rest of ``page``'s body, for content that
    may be taller than the wizard; the widget inside it and its column layout.

    Tab passes over the scroll area itself unless ``takes_focus``.
    """
    scroll = QScrollArea(page)
    if name:
        scroll.setObjectName(name)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    if not takes_focus:
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    inner = QWidget(scroll)
    layout = QVBoxLayout(inner)
    layout.setContentsMargins(0, 0, 0, 0)
    scroll.setWidget(inner)
    page.body.addWidget(scroll, 1)
    return inner, layout


class WizardBase(QWizard):
    """A QWizard with the wizard contract's signals and retranslation plumbing.

    Subclasses build their pages in ``__init__`` and override
    :meth:`retranslateUi` (call ``super().retranslateUi()``) to set the window
    title and their own button texts; pages retranslate themselves.
    """

    #: the final service call succeeded; the caller reloads its data
    completed = Signal()
    #: the user chose a way out into the account page: "licences", "invoices",
    #: "payment_methods" or "overview"; the wizard closes right after
    navigate_requested = Signal(str)

    NAVIGATION_TARGETS = ("licences", "invoices", "payment_methods", "overview")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        setup_wizard(self)

    def request_navigation(self, target: str) -> None:
        """Emit :attr:`navigate_requested` and close: the account page takes over.

        Closing after the final call succeeded is ``accept()`` (the work is
        done), before it ``reject()`` (nothing was written).
        """
        if target not in self.NAVIGATION_TARGETS:
            raise ValueError(f"unknown navigation target {target!r}")
        self.navigate_requested.emit(target)
        if self.is_done():
            self.accept()
        else:
            self.reject()

    def is_done(self) -> bool:
        """Whether the final service call has succeeded (some page's guard is done)."""
        for page_id in self.pageIds():
            page = self.page(page_id)
            if isinstance(page, WizardPage) and page.final.done:
                return True
        return False

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        """Set the translated texts of the wizard itself (title, button words)."""


class _State(enum.Enum):
    IDLE = "idle"
    BUSY = "busy"
    DONE = "done"


class FinalAction:
    """Guard for a final button: one click → one service call, never two.

    ``run(call)`` disables ``button`` (when given) and calls ``call()``. On a
    :class:`DomainError` it re-enables the button, hands the error to
    ``on_error`` and returns ``None`` (nothing was written; the user may fix
    the input and try again — pass the same idempotency key so a retry after
    an unknown outcome is harmless). On success the guard stays *done*: the
    button stays disabled and every later ``run`` returns ``None`` without
    calling anything. ``on_change`` is called whenever the state changes (a
    wizard page emits ``completeChanged`` there).
    """

    def __init__(
        self,
        button: QAbstractButton | None = None,
        *,
        on_error: Callable[[DomainError], None] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.button = button
        self._on_error = on_error
        self._on_change = on_change
        self._state = _State.IDLE

    @property
    def busy(self) -> bool:
        return self._state is _State.BUSY

    @property
    def done(self) -> bool:
        return self._state is _State.DONE

    @property
    def blocked(self) -> bool:
        """True while the call runs or after it succeeded: the button must stay disabled."""
        return self._state is not _State.IDLE

    def reset(self) -> None:
        """Allow a new final call (e.g. the user edited the order after an error)."""
        self._set(_State.IDLE)

    def run(self, call: Callable[[], T]) -> T | None:
        if self._state is not _State.IDLE:
            return None
        self._set(_State.BUSY)
        try:
            result = call()
        except DomainError as err:
            self._set(_State.IDLE)
            if self._on_error is not None:
                self._on_error(err)
            return None
        except BaseException:
            self._set(_State.IDLE)
            raise
        self._set(_State.DONE)
        return result

    def _set(self, state: _State) -> None:
        self._state = state
        if self.button is not None:
            self.button.setEnabled(state is _State.IDLE)
        if self._on_change is not None:
            self._on_change()


class WizardPage(QWizardPage):
    """A wizard page with an inline error label, retranslation and a final guard.

    Put the page's widgets into ``self.body``; the error label follows it.
    Override :meth:`retranslateUi` to set every text (called once from
    ``__init__`` by the subclass when its widgets exist, and again on each
    LanguageChange). A page whose Next/Commit button performs the final
    service call does it in ``validatePage()`` through ``self.final.run(...)``;
    :meth:`isComplete` stays False while the call runs and after it
    succeeded, so QWizard keeps the button disabled. Subclasses overriding
    ``isComplete`` must combine with ``super().isComplete()``.
    """

    def __init__(self, parent: QWidget | None = None, *, name: str = "") -> None:
        """``name``: the page's objectName."""
        super().__init__(parent)
        if name:
            self.setObjectName(name)
        outer = QVBoxLayout(self)
        self.body = QVBoxLayout()
        outer.addLayout(self.body, 1)
        self.error_label = wrapping_label(self, "wizardErrorLabel")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        palette = self.error_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, Qt.GlobalColor.darkRed)
        self.error_label.setPalette(palette)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        self.final = FinalAction(on_error=self.show_error, on_change=self.completeChanged.emit)

    # -- inline error --------------------------------------------------------

    def show_error(self, err: DomainError | Notice | str) -> None:
        """Show why the service refused, on this page (the page that can fix it)."""
        text = message_text(err)
        self.error_label.setText(text)
        self.error_label.setAccessibleName(text)
        self.error_label.show()

    def clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def error_shown(self) -> str:
        """The inline error as shown ("" when none), for tests and screenshots."""
        return self.error_label.text() if self.error_label.isVisibleTo(self) else ""

    # -- wizard plumbing -----------------------------------------------------

    def isComplete(self) -> bool:
        return not self.final.blocked and super().isComplete()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        """Set every translated text of the page (title, subtitle, labels)."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One row of a :class:`FactsForm`: a label, its value, optional emphasis.

    ``name`` becomes the value label's objectName (``fact_<name>``) so tests
    and screenshots can find a value without relying on the row order.
    """

    label: str
    value: str
    name: str = ""
    strong: bool = False


class FactsForm(QWidget):
    """A read-only label/value form: the summary of an order, a result, a term.

    ``set_facts([...])`` replaces every row. Values wrap and can be selected
    with the mouse or keyboard (copy an amount), but never take the focus
    from the wizard's buttons.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self._values: dict[str, QLabel] = {}

    def set_facts(self, facts: Iterable[Fact]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._values.clear()
        for fact in facts:
            label = QLabel(fact.label, self)
            value = QLabel(fact.value, self)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if fact.name:
                value.setObjectName(f"fact_{fact.name}")
                self._values[fact.name] = value
            if fact.strong:
                for widget in (label, value):
                    font = QFont(widget.font())
                    font.setBold(True)
                    widget.setFont(font)
            self.form.addRow(label, value)

    def value(self, name: str) -> str:
        """The value shown in the row named ``name`` ("" when there is none)."""
        label = self._values.get(name)
        return label.text() if label is not None else ""

    def rows(self) -> list[tuple[str, str]]:
        """Every row as (label, value) in display order."""
        out: list[tuple[str, str]] = []
        for row in range(self.form.rowCount()):
            label_item = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            value_item = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            label = label_item.widget() if label_item is not None else None
            value = value_item.widget() if value_item is not None else None
            out.append(
                (
                    label.text() if isinstance(label, QLabel) else "",
                    value.text() if isinstance(value, QLabel) else "",
                )
            )
        return out
