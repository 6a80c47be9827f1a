"""Follows a walkthrough on the real screens and ticks its steps, in order only.

The tracker edits no other module: while a walkthrough runs it installs an
application event filter that watches Show and Hide events, and finds what
it needs by class and objectName:

* a ``QWizard`` subclass shown → its ``currentIdChanged`` and ``completed``
  signals are connected, and the page shown counts as "page shown";
* a ``QMenu`` named ``cardMenu`` shown → "card options menu opened" (its
  parent is the product card);
* the account page (``accountPage``) or a product card (``subscriptionCard``)
  shown, a wizard hidden, the account page's tab widget (``accountTabs``)
  switching tabs → the current step's *state* condition is checked again.

Only the current step's condition is ever checked: something done out of
order ticks nothing (a later step is only ticked when it is done again once
it is current). A state condition (:data:`~.walkthroughs.STATE_CONDITIONS`)
also counts when it already holds as its step becomes current.

Which account a widget belongs to: its account page ancestor (the wizards
are opened with the Subscriptions tab as parent).

:func:`resolve_target` turns a step's target path into the widget (and the
rectangle in it) the Guide's hint outlines.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRect, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QTabWidget, QWidget, QWizard

from billing_desktop.ui.guide.walkthroughs import (
    STATE_CONDITIONS,
    CardStatus,
    Condition,
    MenuOpened,
    TabShown,
    Walkthrough,
    WizardClosed,
    WizardCompleted,
    WizardPageShown,
)

if TYPE_CHECKING:
    from billing_desktop.ui.main_window import MainWindow

__all__ = ["WalkthroughTracker", "resolve_target"]

log = logging.getLogger("billing_desktop.ui")

ACCOUNT_PAGE = "accountPage"
ACCOUNT_TABS = "accountTabs"
CARD = "subscriptionCard"
CARD_MENU = "cardMenu"


# --------------------------------------------------------------------------- helpers


def account_page_of(widget: QWidget | None) -> QWidget | None:
    """The account page ``widget`` is on (or was opened from), if any."""
    while widget is not None:
        if widget.objectName() == ACCOUNT_PAGE and hasattr(widget, "overview"):
            return widget
        widget = widget.parentWidget()
    return None


def account_number_of(widget: QWidget | None) -> str | None:
    page = account_page_of(widget)
    overview = getattr(page, "overview", None)
    return getattr(overview, "account_number", None)


def card_product(widget: QWidget | None) -> str | None:
    """The catalog code of a product card widget (``None`` for anything else)."""
    card = getattr(widget, "card", None)
    return getattr(card, "product_code", None)


def _dialog_open() -> bool:
    """A dialog (wizard, message box) is open over the application's windows."""
    return any(isinstance(w, QDialog) and w.isVisible() for w in QApplication.topLevelWidgets())


def _visible_named(roots: list[QWidget], name: str) -> list[QWidget]:
    """Visible widgets named ``name[selector]`` among ``roots`` and their descendants."""
    selector = None
    if name.endswith("]") and "[" in name:
        name, selector = name[:-1].split("[", 1)
    found: list[QWidget] = []
    for root in roots:
        candidates = [root] if root.objectName() == name else []
        candidates += root.findChildren(QWidget, name)
        for widget in candidates:
            if not widget.isVisible() or widget in found:
                continue
            if selector is not None and card_product(widget) != selector:
                continue
            found.append(widget)
    return found


def _special(widget: QWidget, segment: str) -> tuple[QWidget, QRect] | None:
    if isinstance(widget, QWizard) and segment in ("@next", "@finish"):
        page = widget.currentPage()
        if segment == "@finish":
            which = QWizard.WizardButton.FinishButton
        elif page is not None and page.isCommitPage():
            which = QWizard.WizardButton.CommitButton
        else:
            which = QWizard.WizardButton.NextButton
        button = widget.button(which)
        if button is not None and button.isVisible():
            return button, button.rect()
        return None
    if isinstance(widget, QTabWidget) and segment.startswith("@tab:"):
        key = segment.removeprefix("@tab:")
        page = widget.parentWidget()
        keys = page.tab_keys() if page is not None and hasattr(page, "tab_keys") else []
        if key not in keys:
            return None
        bar = widget.tabBar()
        return bar, bar.tabRect(keys.index(key))
    return None


def _resolve_one(window: QWidget, path: str) -> tuple[QWidget, QRect] | None:
    segments = path.split("/")
    roots = [window, *(w for w in QApplication.topLevelWidgets() if w is not window)]
    current = _visible_named([w for w in roots if w.isVisible()], segments[0])
    for segment in segments[1:]:
        if not current:
            return None
        if segment.startswith("@"):
            for widget in current:
                hit = _special(widget, segment)
                if hit is not None:
                    return hit
            return None
        current = _visible_named(current, segment)
    if not current:
        return None
    widget = current[0]
    return widget, widget.rect()


def resolve_target(window: QWidget, target: str | None) -> tuple[QWidget, QRect] | None:
    """The widget a step's target path names, on screen now, and the rectangle in it.

    A path is objectNames separated by "/", each found among the visible
    descendants of the previous one (the first among the main window and the
    other top-level windows). ``name[code]`` keeps product cards of that
    product; ``@next`` / ``@finish`` is a wizard's Next-or-commit / Finish
    button; ``@tab:key`` an account page tab. Alternatives are separated by
    "|": the first on screen wins. ``None`` when nothing is on screen.
    """
    if not target:
        return None
    for path in target.split("|"):
        hit = _resolve_one(window, path.strip())
        if hit is not None and hit[0].isVisible():
            return hit
    return None


# --------------------------------------------------------------------------- tracker


class WalkthroughTracker(QObject):
    """Ticks the steps of one walkthrough as the real UI reaches them."""

    #: the step (0-based) was ticked
    step_done = Signal(int)
    #: the current step changed (0-based; ``len(steps)`` once every step is done)
    current_changed = Signal(int)
    #: every step is ticked
    finished = Signal()

    def __init__(self, window: MainWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self.walkthrough: Walkthrough | None = None
        self.done: list[bool] = []
        self._filtering = False
        self._check_pending = False
        self._property = f"guideTracked{id(self)}"

    # -- progress --------------------------------------------------------------

    @property
    def current(self) -> int:
        """The step the trainer is on (0-based); ``len(steps)`` when done, -1 with none."""
        if self.walkthrough is None:
            return -1
        return next((i for i, done in enumerate(self.done) if not done), len(self.done))

    @property
    def is_done(self) -> bool:
        return self.walkthrough is not None and all(self.done)

    def start(self, walkthrough: Walkthrough | None) -> None:
        """Follow ``walkthrough`` from its first step (``None``: follow nothing)."""
        self.walkthrough = walkthrough
        self.done = [False] * len(walkthrough.steps) if walkthrough is not None else []
        if walkthrough is None:
            self._set_filtering(False)
            self.current_changed.emit(-1)
            return
        self._set_filtering(True)
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QWizard) and widget.isVisible():
                self._connect_wizard(widget)  # a wizard already open: follow its pages
        page = self._window.account_page
        if page is not None:
            self._connect_page(page)
        self.current_changed.emit(self.current)
        self._check_state()

    def restart(self) -> None:
        self.start(self.walkthrough)

    def stop(self) -> None:
        self.start(None)

    def _set_filtering(self, on: bool) -> None:
        app = QApplication.instance()
        if on == self._filtering or app is None:
            return
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._filtering = on

    def _tick(self, index: int) -> None:
        if index != self.current or index < 0 or index >= len(self.done):
            return
        self.done[index] = True
        log.debug("walkthrough %s: step %d done", self.walkthrough.key, index + 1)
        self.step_done.emit(index)
        self.current_changed.emit(self.current)
        if self.is_done:
            self._set_filtering(False)
            self.finished.emit()
        else:
            self._check_state()

    def _condition(self) -> Condition | None:
        index = self.current
        if self.walkthrough is None or not 0 <= index < len(self.done):
            return None
        return self.walkthrough.steps[index].done_when

    def _ours(self, widget: QWidget | None) -> bool:
        """``widget`` belongs to the walkthrough's account."""
        return (
            self.walkthrough is not None
            and account_number_of(widget) == self.walkthrough.account_number
        )

    def _product(self, product: str | None) -> str | None:
        if product is not None:
            return product
        return self.walkthrough.product if self.walkthrough is not None else None

    # -- events ----------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show:
            if isinstance(watched, QWidget):
                self._shown(watched)
        elif kind == QEvent.Type.Hide and isinstance(watched, QWizard):
            self._wizard_hidden(watched)
        return False

    def _shown(self, widget: QWidget) -> None:
        if isinstance(widget, QWizard):
            self._connect_wizard(widget)
            self._wizard_page(widget, widget.currentPage())
        elif isinstance(widget, QMenu):
            if widget.objectName() == CARD_MENU:
                self._menu_opened(widget)
        else:
            name = widget.objectName()
            if name == ACCOUNT_PAGE:
                self._connect_page(widget)
                self._schedule_check()
            elif name == CARD:
                self._schedule_check()

    def _connect_wizard(self, wizard: QWizard) -> None:
        if wizard.property(self._property):
            return
        wizard.setProperty(self._property, True)
        wizard.currentIdChanged.connect(self._wizard_page_changed)
        completed = getattr(wizard, "completed", None)
        if completed is not None:
            completed.connect(self._wizard_completed)

    def _connect_page(self, page: QWidget) -> None:
        tabs = page.findChild(QTabWidget, ACCOUNT_TABS)
        if tabs is None or tabs.property(self._property):
            return
        tabs.setProperty(self._property, True)
        tabs.currentChanged.connect(self._tab_changed)

    @Slot(int)
    def _wizard_page_changed(self, _page_id: int) -> None:
        wizard = self.sender()
        if isinstance(wizard, QWizard) and wizard.isVisible():
            self._wizard_page(wizard, wizard.currentPage())

    def _wizard_page(self, wizard: QWizard, page: QWidget | None) -> None:
        condition = self._condition()
        if (
            isinstance(condition, WizardPageShown)
            and page is not None
            and wizard.objectName() == condition.wizard
            and page.objectName() == condition.page
            and self._ours(wizard)
        ):
            self._tick(self.current)

    @Slot()
    def _wizard_completed(self) -> None:
        wizard = self.sender()
        condition = self._condition()
        if (
            isinstance(condition, WizardCompleted)
            and isinstance(wizard, QWidget)
            and wizard.objectName() == condition.wizard
            and self._ours(wizard)
        ):
            self._tick(self.current)

    def _wizard_hidden(self, wizard: QWizard) -> None:
        condition = self._condition()
        if (
            isinstance(condition, WizardClosed)
            and wizard.objectName() == condition.wizard
            and self._ours(wizard)
        ):
            self._tick(self.current)
        else:
            self._schedule_check()  # e.g. the card behind it shows its new status

    def _menu_opened(self, menu: QMenu) -> None:
        condition = self._condition()
        card = menu.parentWidget()
        if (
            isinstance(condition, MenuOpened)
            and card_product(card) == self._product(condition.product)
            and self._ours(card)
        ):
            self._tick(self.current)

    @Slot(int)
    def _tab_changed(self, _index: int) -> None:
        self._schedule_check()

    # -- states ----------------------------------------------------------------

    def _schedule_check(self) -> None:
        """Check the current state condition once the events being handled are done
        (a wizard's hide, a reloaded card's layout)."""
        if self._check_pending:
            return
        self._check_pending = True
        QTimer.singleShot(0, self._deferred_check)

    @Slot()
    def _deferred_check(self) -> None:
        self._check_pending = False
        self._check_state()

    def _check_state(self) -> None:
        condition = self._condition()
        if not isinstance(condition, STATE_CONDITIONS):
            return
        if self.holds(condition):
            self._tick(self.current)

    def holds(self, condition: Condition) -> bool:
        """Whether a state condition holds on screen now (event conditions: False)."""
        page = self._window.account_page
        if page is None or not page.isVisible() or not self._ours(page):
            return False
        if isinstance(condition, TabShown):
            return page.current_tab_key() == condition.tab
        if isinstance(condition, CardStatus):
            if page.current_tab_key() != "subscriptions" or _dialog_open():
                return False
            tab = page.built_tabs().get("subscriptions")
            product = self._product(condition.product)
            for card in getattr(tab, "cards", []):
                if (
                    card_product(card) == product
                    and card.isVisible()
                    and card.card.status.value == condition.status
                ):
                    return True
        return False
