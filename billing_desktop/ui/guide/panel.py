"""The Guide panel: a dockable list of walkthrough steps that follows the trainer (issue 7 item 3).

:func:`install_guide` adds the panel to a demo database's main window, hidden,
with a View ▸ Guide toggle (F1). On a real database it does nothing: the
walkthroughs play on the curated demo accounts only.

The panel offers a walkthrough chooser, **Prepare** (open the curated
account of the walkthrough on the right tab), the numbered steps — the
current one highlighted, the done ones ticked — and, once every step is
ticked, a "done" banner with what the scene showed. **Show me** outlines
the widget the current step is about and points an arrow at it
(:class:`HintOverlay`, a transparent child of that widget's window that lets
every click through); the hint goes away when the step is done.

A language switch retranslates everything and keeps the progress.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.ui.guide.tracker import WalkthroughTracker, resolve_target
from billing_desktop.ui.guide.walkthroughs import WALKTHROUGHS, PrepareResult, Walkthrough, fill

if TYPE_CHECKING:
    from billing_desktop.ui.main_window import MainWindow

__all__ = ["GUIDE_SHORTCUT", "GuidePanel", "HintOverlay", "install_guide"]

log = logging.getLogger("billing_desktop.ui")

#: View ▸ Guide: F1, the key people press for help (the Guide is the help a demo offers)
GUIDE_SHORTCUT = "F1"

_HINT_COLOUR = QColor("#e65100")
_DONE_COLOUR = "#1e6b2e"
_TICK = "\u2714"  # ✔


# --------------------------------------------------------------------------- hint overlay


class HintOverlay(QWidget):
    """An outline around a widget (or a rectangle in it) and an arrow pointing at it.

    A child of the target's window covering all of it, transparent for the
    mouse and the keyboard, so the trainer keeps working through it. It
    follows the target (scrolling, resizing) and hides itself when the target
    goes away.
    """

    MARGIN = 4
    ARROW = 64

    def __init__(self, target: QWidget, rect: QRect, number: int) -> None:
        window = target.window()
        super().__init__(window)
        self.setObjectName("guideHint")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.target = target
        self.rect_in_target = QRect(rect)
        self.number = number
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.follow)
        target.destroyed.connect(self.deleteLater)
        self._last = QRect()
        self.follow()
        self.show()
        self.raise_()
        self._timer.start()

    def target_rect(self) -> QRect:
        """Where the target is, in this overlay's coordinates."""
        top_left = self.target.mapTo(self.window(), self.rect_in_target.topLeft())
        return QRect(top_left, self.rect_in_target.size())

    def follow(self) -> None:
        try:
            visible = self.target.isVisible()
        except RuntimeError:  # the target's C++ object is gone
            self.deleteLater()
            return
        if not visible:
            self.hide()
            return
        window = self.window()
        if self.geometry() != window.rect():
            self.setGeometry(window.rect())
        if not self.isVisible():
            self.show()
        self.raise_()
        rect = self.target_rect()
        if rect != self._last:
            self._last = rect
            self.update()

    def arrow_line(self) -> tuple[QPointF, QPointF]:
        """From the arrow's tail (where the number is) to the outline it points at."""
        box = QRectF(self.target_rect()).adjusted(
            -self.MARGIN, -self.MARGIN, self.MARGIN, self.MARGIN
        )
        area = QRectF(self.rect())
        # come from the side with more room, diagonally
        dx = -1 if box.center().x() > area.center().x() else 1
        dy = -1 if box.center().y() > area.center().y() else 1
        # from above or below, so the arrow hides little of the target's row
        head = QPointF(box.center().x(), box.top() if dy < 0 else box.bottom())
        if box.width() > 3 * self.ARROW:  # a wide target: point near its corner
            head.setX(box.left() + self.ARROW if dx < 0 else box.right() - self.ARROW)
        tail = QPointF(head.x() + dx * self.ARROW * 0.6, head.y() + dy * self.ARROW)
        tail.setX(min(max(tail.x(), 18.0), area.width() - 18.0))
        tail.setY(min(max(tail.y(), 18.0), area.height() - 18.0))
        return tail, head

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(self.target_rect()).adjusted(
            -self.MARGIN, -self.MARGIN, self.MARGIN, self.MARGIN
        )
        tail, head = self.arrow_line()
        halo = QPen(QColor(255, 255, 255, 220), 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen = QPen(_HINT_COLOUR, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        arrow = QPainterPath(tail)
        arrow.lineTo(head)
        tip = self._arrow_head(tail, head)
        for stroke in (halo, pen):
            painter.setPen(stroke)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, 6, 6)
            painter.drawPath(arrow)
            painter.setBrush(stroke.color())
            painter.drawPolygon(tip)
        # the step's number at the tail
        radius = 13.0
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(_HINT_COLOUR)
        painter.drawEllipse(tail, radius, radius)
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(14)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(
            QRectF(tail.x() - radius, tail.y() - radius, 2 * radius, 2 * radius),
            Qt.AlignmentFlag.AlignCenter,
            str(self.number),
        )
        painter.end()

    @staticmethod
    def _arrow_head(tail: QPointF, head: QPointF) -> QPolygonF:
        direction = head - tail
        length = max((direction.x() ** 2 + direction.y() ** 2) ** 0.5, 1.0)
        ux, uy = direction.x() / length, direction.y() / length
        size = 12.0
        base = QPointF(head.x() - ux * size, head.y() - uy * size)
        normal = QPointF(-uy * size * 0.55, ux * size * 0.55)
        return QPolygonF([head, base + normal, base - normal])


# --------------------------------------------------------------------------- step rows


class _StepRow(QFrame):
    """One numbered step: its number (a tick once done) and its sentence."""

    PENDING, CURRENT, DONE = range(3)

    def __init__(self, number: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(f"guideStep{number}")
        self.number = number
        self.state = self.PENDING
        self.mark = QLabel(self)
        self.mark.setObjectName("stepMark")
        self.mark.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.mark.setMinimumWidth(self.fontMetrics().horizontalAdvance("10.") + 6)
        self.text = QLabel(self)
        self.text.setObjectName("stepText")
        self.text.setWordWrap(True)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(8)
        layout.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)

    def set_state(self, state: int) -> None:
        self.state = state
        font = QFont(self.font())
        font.setBold(state == self.CURRENT)
        self.text.setFont(font)
        self.mark.setFont(font)
        palette = self.palette()
        mark_palette = self.mark.palette()
        text_palette = self.text.palette()
        normal = palette.color(QPalette.ColorRole.WindowText)
        if state == self.DONE:
            self.mark.setText(_TICK)
            mark_palette.setColor(QPalette.ColorRole.WindowText, QColor(_DONE_COLOUR))
            text_palette.setColor(
                QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
            )
        else:
            self.mark.setText(f"{self.number}.")
            mark_palette.setColor(QPalette.ColorRole.WindowText, normal)
            text_palette.setColor(QPalette.ColorRole.WindowText, normal)
        self.mark.setPalette(mark_palette)
        self.text.setPalette(text_palette)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.state != self.CURRENT:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        fill_colour = QColor(highlight)
        fill_colour.setAlpha(40)
        painter.setPen(QPen(highlight, 1))
        painter.setBrush(fill_colour)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(highlight)
        painter.drawRoundedRect(QRectF(0, 0, 4, self.height()), 2, 2)
        painter.end()


# --------------------------------------------------------------------------- the panel


class GuidePanel(QDockWidget):
    """The Guide: choose a walkthrough, prepare it, follow its steps."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("guidePanel")
        self.setAllowedAreas(
            Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea
        )
        self._window = window
        self.tracker = WalkthroughTracker(window, self)
        self.tracker.current_changed.connect(self._progress_changed)
        self.hint: HintOverlay | None = None
        #: what the last Prepare found (a result, or the error reading the account)
        self._prepared: PrepareResult | DomainError | None = None
        self._hint_missing = False
        self.rows: list[_StepRow] = []

        body = QWidget(self)
        body.setObjectName("guideBody")
        self.chooser_label = QLabel(body)
        self.chooser = QComboBox(body)
        self.chooser.setObjectName("walkthroughChooser")
        self.chooser.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.chooser.setMinimumContentsLength(16)
        for item in WALKTHROUGHS:
            self.chooser.addItem("", item.key)
        self.chooser.setCurrentIndex(-1)
        self.chooser_label.setBuddy(self.chooser)
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.prepare_button = QPushButton(body)
        self.prepare_button.setObjectName("prepareButton")
        self.prepare_button.clicked.connect(self.prepare)

        self.title_label = QLabel(body)
        self.title_label.setObjectName("walkthroughTitle")
        title_font = QFont(self.title_label.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.2)
        self.title_label.setFont(title_font)
        self.title_label.setWordWrap(True)
        self.summary_label = QLabel(body)
        self.summary_label.setObjectName("walkthroughSummary")
        self.summary_label.setWordWrap(True)
        self.message_label = QLabel(body)
        self.message_label.setObjectName("guideMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(
            "QLabel#guideMessage { color: #7a3e00; background: #fff1dc; border-radius: 4px;"
            " padding: 4px 6px; }"
        )
        self.message_label.hide()

        self.steps_widget = QWidget()
        self.steps_widget.setObjectName("guideSteps")
        self.steps_layout = QVBoxLayout(self.steps_widget)
        self.steps_layout.setContentsMargins(0, 0, 0, 0)
        self.steps_layout.setSpacing(4)
        self.steps_layout.addStretch(1)
        self.scroll = QScrollArea(body)
        self.scroll.setObjectName("guideStepsScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.steps_widget)

        self.done_label = QLabel(body)
        self.done_label.setObjectName("guideDone")
        self.done_label.setWordWrap(True)
        self.done_label.setStyleSheet(
            "QLabel#guideDone { background: #e4f3e8; color: #1b5e20; border: 1px solid #9fd0ab;"
            " border-radius: 6px; padding: 8px 10px; }"
        )
        self.done_label.hide()
        self.progress_label = QLabel(body)
        self.progress_label.setObjectName("guideProgress")
        self.show_me_button = QPushButton(body)
        self.show_me_button.setObjectName("showMeButton")
        self.show_me_button.setCheckable(True)
        self.show_me_button.toggled.connect(self._show_me_toggled)

        prepare_row = QHBoxLayout()
        prepare_row.addWidget(self.prepare_button)
        prepare_row.addStretch(1)
        footer = QHBoxLayout()
        footer.addWidget(self.progress_label, 1)
        footer.addWidget(self.show_me_button)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(self.chooser_label)
        layout.addWidget(self.chooser)
        layout.addWidget(self.title_label)
        layout.addWidget(self.summary_label)
        layout.addLayout(prepare_row)
        layout.addWidget(self.message_label)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.done_label)
        layout.addLayout(footer)
        body.setMinimumWidth(280)
        self.setWidget(body)

        self.visibilityChanged.connect(self._visibility_changed)
        self.retranslateUi()
        self._refresh()

    def sizeHint(self) -> QSize:
        return QSize(360, super().sizeHint().height())

    # -- state -----------------------------------------------------------------

    @property
    def walkthrough(self) -> Walkthrough | None:
        return self.tracker.walkthrough

    def choose(self, key: str) -> None:
        """Choose the walkthrough ``key`` (as the chooser does)."""
        index = self.chooser.findData(key)
        if index < 0:
            raise KeyError(key)
        self.chooser.setCurrentIndex(index)

    @Slot(int)
    def _chosen(self, index: int) -> None:
        key = self.chooser.itemData(index) if index >= 0 else None
        chosen = next((w for w in WALKTHROUGHS if w.key == key), None)
        self._prepared = None
        self._build_rows(chosen)
        self.tracker.start(chosen)  # → _progress_changed

    def prepare(self) -> None:
        """Open the walkthrough's demo account on the right tab and start from step 1."""
        walkthrough = self.walkthrough
        if walkthrough is None:
            return
        self._prepared = None
        self.tracker.restart()
        try:
            self._prepared = walkthrough.prepare(self._window)
        except DomainError as err:
            self._prepared = err
        self._refresh()

    def _prepare_message(self) -> str:
        """What Prepare found, in the UI language now ("" when the scene is ready)."""
        prepared = self._prepared
        if isinstance(prepared, DomainError):
            from billing_desktop.ui.errors import error_text

            return error_text(prepared)
        return prepared.warning() if isinstance(prepared, PrepareResult) else ""

    def _build_rows(self, walkthrough: Walkthrough | None) -> None:
        for row in self.rows:
            row.hide()
            row.deleteLater()
        self.rows = []
        if walkthrough is None:
            return
        for number in range(1, len(walkthrough.steps) + 1):
            row = _StepRow(number, self.steps_widget)
            self.steps_layout.insertWidget(self.steps_layout.count() - 1, row)
            self.rows.append(row)
            row.text.setText(walkthrough.step_text(number - 1))

    @Slot(int)
    def _progress_changed(self, _current: int) -> None:
        self._remove_hint()  # the hint was about the step just done
        self._hint_missing = False
        self._refresh()

    def _refresh(self) -> None:
        """Show the progress: the current step highlighted, the done ones ticked."""
        walkthrough = self.walkthrough
        tracker = self.tracker
        current = tracker.current
        for index, row in enumerate(self.rows):
            if index < len(tracker.done) and tracker.done[index]:
                row.set_state(_StepRow.DONE)
            elif index == current:
                row.set_state(_StepRow.CURRENT)
            else:
                row.set_state(_StepRow.PENDING)
        self._update_accessibility()
        if 0 <= current < len(self.rows):
            self.scroll.ensureWidgetVisible(self.rows[current], 0, 8)
        self.prepare_button.setEnabled(walkthrough is not None)
        has_target = (
            walkthrough is not None
            and 0 <= current < len(walkthrough.steps)
            and walkthrough.target(current) is not None
        )
        self.show_me_button.setEnabled(has_target)
        if not has_target and self.show_me_button.isChecked():
            self.show_me_button.setChecked(False)
        message = self._prepare_message()
        if self._hint_missing:
            message = self.tr(
                "What this step is about is not on the screen yet: do the steps before it first."
            )
        self.message_label.setText(message)
        self.message_label.setVisible(bool(message))
        if walkthrough is None:
            self.title_label.setText("")
            self.title_label.hide()
            self.summary_label.setText(
                self.tr(
                    "Choose a walkthrough: it follows a help article step by step on a demo "
                    "account, and ticks each step as you do it."
                )
            )
            self.progress_label.setText("")
            self.done_label.hide()
            return
        self.title_label.show()
        self.title_label.setText(walkthrough.title_text())
        self.summary_label.setText(walkthrough.summary_text())
        total = len(walkthrough.steps)
        if tracker.is_done:
            self.progress_label.setText(self.tr("All %n step(s) done.", "", total))
            self.done_label.setText(
                fill(
                    self.tr("Done! {outcome}"),
                    {"outcome": walkthrough.outcome_text()},
                )
            )
            self.done_label.show()
        else:
            self.progress_label.setText(
                fill(
                    self.tr("Step {number} of {total}"),
                    {"number": str(current + 1), "total": str(total)},
                )
            )
            self.done_label.hide()

    def _update_accessibility(self) -> None:
        total = len(self.rows)
        for row in self.rows:
            text = row.text.text()
            if row.state == _StepRow.DONE:
                name = self.tr("Step {number} of {total}, done: {text}")
            elif row.state == _StepRow.CURRENT:
                name = self.tr("Step {number} of {total}, current: {text}")
            else:
                name = self.tr("Step {number} of {total}: {text}")
            row.setAccessibleName(
                fill(name, {"number": str(row.number), "total": str(total), "text": text})
            )

    # -- Show me ---------------------------------------------------------------

    @Slot(bool)
    def _show_me_toggled(self, on: bool) -> None:
        if on:
            self.show_hint()
        else:
            self._remove_hint()

    def show_hint(self) -> HintOverlay | None:
        """Outline the widget of the current step and point at it.

        ``None`` when it is not on screen (the steps before it are not done):
        the panel then says so and Show me stays off.
        """
        self._remove_hint()
        walkthrough = self.walkthrough
        current = self.tracker.current
        hit = None
        if walkthrough is not None and 0 <= current < len(walkthrough.steps):
            hit = resolve_target(self._window, walkthrough.target(current))
        self._hint_missing = hit is None
        if hit is not None:
            widget, rect = hit
            self._scroll_into_view(widget)
            self.hint = HintOverlay(widget, rect, current + 1)
            self.hint.destroyed.connect(self._hint_destroyed)
        self._set_show_me_checked(hit is not None)
        self._refresh()
        return self.hint

    def _set_show_me_checked(self, checked: bool) -> None:
        self.show_me_button.blockSignals(True)
        self.show_me_button.setChecked(checked)
        self.show_me_button.blockSignals(False)

    @Slot()
    def _hint_destroyed(self) -> None:
        """The hint went with its window (a wizard closed)."""
        self.hint = None
        self._set_show_me_checked(False)

    @staticmethod
    def _scroll_into_view(widget: QWidget) -> None:
        parent = widget.parentWidget()
        while parent is not None:
            content = parent.widget() if isinstance(parent, QScrollArea) else None
            if content is not None and content.isAncestorOf(widget):
                parent.ensureWidgetVisible(widget, 24, 24)
            parent = parent.parentWidget()

    def _remove_hint(self) -> None:
        hint, self.hint = self.hint, None
        if hint is not None:
            hint.destroyed.disconnect(self._hint_destroyed)
            hint.hide()
            hint.deleteLater()
        self._set_show_me_checked(False)

    # -- language --------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Guide"))
        self.toggleViewAction().setText(self.tr("&Guide"))
        self.chooser_label.setText(self.tr("&Walkthrough:"))
        self.chooser.setPlaceholderText(self.tr("Choose a walkthrough…"))
        for index, item in enumerate(WALKTHROUGHS):
            self.chooser.setItemText(index, item.title_text())
        self.prepare_button.setText(self.tr("Pr&epare"))
        self.prepare_button.setToolTip(
            self.tr("Open the demo account of this walkthrough and start from step 1")
        )
        self.show_me_button.setText(self.tr("Show &me"))
        self.show_me_button.setToolTip(self.tr("Point at what the current step is about"))
        self._retranslate_rows()
        if hasattr(self, "progress_label"):
            self._refresh()

    def _retranslate_rows(self) -> None:
        walkthrough = self.walkthrough
        if walkthrough is None:
            return
        for index, row in enumerate(self.rows):
            row.text.setText(walkthrough.step_text(index))

    @Slot(bool)
    def _visibility_changed(self, visible: bool) -> None:
        if not visible:
            self._remove_hint()  # no arrow for a panel nobody sees


# --------------------------------------------------------------------------- install


def install_guide(window: MainWindow) -> GuidePanel | None:
    """Add the Guide to ``window`` (hidden; View ▸ Guide, F1) on a demo database.

    Returns the panel, or ``None`` on a real database, where the Guide is not
    offered (its walkthroughs change the curated demo accounts).
    """
    if not window.ctx.is_demo:
        return None
    installed = window.findChild(GuidePanel)
    if installed is not None:  # idempotent: the window installs it after its first paint
        return installed
    panel = GuidePanel(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    panel.hide()
    action = panel.toggleViewAction()
    action.setObjectName("guideAction")
    action.setShortcut(QKeySequence(GUIDE_SHORTCUT))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.view_menu.insertAction(window.refresh_action, action)
    return panel
