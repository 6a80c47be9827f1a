"""Presentation mode: a larger UI, clicks and keys on screen, and the customer's view (issue 7).

:func:`install_presentation` adds **View ▸ Presentation** to a main window:

* **Presentation Mode** (Ctrl+Shift+P) enlarges the whole application by the
  chosen scale (100, 125, 150 or 200 %). ``QT_SCALE_FACTOR`` cannot change
  while the application runs, so the mode scales what sizes follow: the
  application font (layouts follow it), the class fonts the platform set
  (menus, tooltips…; ``QApplication.setFont`` clears them), fonts that widgets
  set to an explicit size (a page title at 1.5×), icon sizes of buttons,
  tabs and item views, row heights of tables and the navigation's items.
  Turning it off restores every one of them exactly as it was. The scale and
  whether the mode is on are remembered (``QSettings``).
* **Show Clicks and Keys** paints a short ripple where the mouse was pressed
  and a caption of the keys pressed ("Ctrl+K", "Tab", typed text — "…" in a
  password field) over the active window. An application event filter only
  watches (it never consumes an event) and the overlay is a transparent child
  that takes neither the focus nor the mouse.
* **Customer View** docks the customer-side Billing Center of the open account
  (:class:`~billing_desktop.ui.customer_view.CustomerView`) beside the
  operator's view; it follows the account the window shows, and re-reads it
  when a tab of the account page reports a change (a wizard completed), when
  the window is activated and every few seconds while shown (the clock may
  have moved). Disabled while no account is open.

Choices where the issue is silent: the overlay and the customer view are not
remembered (a keystroke echo should never come back by surprise); widgets
created *while* the mode is on are scaled by the font they inherit, so one
that sets an absolute size of its own (not derived from its font) is shrunk
when the mode ends.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import (
    QElapsedTimer,
    QEvent,
    QKeyCombination,
    QObject,
    QPoint,
    QPointF,
    QRectF,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTabBar,
    QToolBar,
    QToolButton,
    QWidget,
)

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QPaintEvent

    from billing_desktop.ui.customer_view import CustomerView
    from billing_desktop.ui.main_window import MainWindow

__all__ = [
    "PRESENTATION_SHORTCUT",
    "SCALES",
    "CustomerViewDock",
    "InputOverlay",
    "PresentationController",
    "app_scale",
    "install_presentation",
]

log = logging.getLogger("billing_desktop.ui")

#: The scales offered, in per cent.
SCALES = (100, 125, 150, 200)
DEFAULT_SCALE = 150
PRESENTATION_SHORTCUT = "Ctrl+Shift+P"

_SETTINGS_SCALE = "presentation/scale"
_SETTINGS_ENABLED = "presentation/enabled"

#: dynamic properties holding a widget's unscaled sizes while the mode is on
_BASE_FONT = "_presentationBaseFontSize"
_BASE_ICON = "_presentationBaseIconSize"
_BASE_ROW = "_presentationBaseRowHeight"
_BASE_COLUMNS = "_presentationBaseColumnWidths"

#: QFont::SizeResolved (PySide does not expose QFont::ResolveProperties)
_SIZE_RESOLVED = 0x0002

#: Class fonts a platform theme may set (QApplication's initializeWidgetFontHash).
_CLASS_FONTS = (
    "QMenu", "QMenuBar", "QMenuItem", "QMessageBox", "QLabel", "QTipLabel", "QStatusBar",
    "QMdiSubWindowTitleBar", "QDockWidgetTitle", "QPushButton", "QCheckBox", "QRadioButton",
    "QToolButton", "QAbstractItemView", "QListView", "QHeaderView", "QListBox",
    "QComboMenuItem", "QComboLineEdit", "QSmallFont", "QMiniFont",
)  # fmt: skip

#: Qt's own helper buttons, sized by their owner: never rescaled
_INTERNAL_BUTTONS = frozenset(
    {"QLineEditIconButton", "QToolBarExtension", "QDockWidgetTitleButton", "CloseButton"}
)

#: MainWindow's navigation: item height = line height + this, width ≥ this minimum
#: (the formula of ``MainWindow.__init__`` / ``_fit_navigation``)
_NAV_ITEM_PADDING = 16
_NAV_MIN_WIDTH = 160
_NAV_TEXT_MARGIN = 48

#: How often the customer view re-reads its account while shown (a moved clock).
CUSTOMER_VIEW_REFRESH_MS = 2_000


# =========================================================================== scaling


def _font_size(font: QFont) -> float:
    return font.pointSizeF() if font.pointSizeF() > 0 else float(font.pixelSize())


def _with_size(font: QFont, size: float) -> QFont:
    result = QFont(font)
    if font.pointSizeF() > 0:
        result.setPointSizeF(size)
    else:
        result.setPixelSize(max(1, round(size)))
    return result


def _scaled(font: QFont, factor: float) -> QFont:
    return _with_size(font, _font_size(font) * factor)


def _pointer(widget: QWidget) -> int:
    return int(shiboken6.getCppPointer(widget)[0])


def _may_own_font(widget: QWidget) -> bool:
    """A font set on the widget, or a style sheet (which stops the parent's font at it)."""
    return widget.testAttribute(Qt.WidgetAttribute.WA_SetFont) or widget.testAttribute(
        Qt.WidgetAttribute.WA_StyleSheet
    )


def _widgets_with_own_font_size() -> set[int]:
    """Widgets whose font size differs from the one they would inherit, right now."""
    found = set()
    for widget in QApplication.allWidgets():
        if not _may_own_font(widget):
            continue
        parent = widget.parentWidget()
        inherited = (
            QApplication.font(widget) if widget.isWindow() or parent is None else parent.font()
        )
        if abs(_font_size(widget.font()) - _font_size(inherited)) > 1e-6:
            found.add(_pointer(widget))
    return found


def _icon_widget(widget: QWidget) -> bool:
    """A widget whose icon size the mode scales (buttons with an icon or arrow, views, tabs)."""
    if widget.metaObject().className() in _INTERNAL_BUTTONS:
        return False
    if isinstance(widget, QAbstractButton):
        if isinstance(widget, QToolButton) and widget.arrowType() != Qt.ArrowType.NoArrow:
            return True
        return not widget.icon().isNull()
    if isinstance(widget, QAbstractItemView):
        return widget.iconSize().isValid() and widget.iconSize().width() > 0
    return isinstance(widget, (QTabBar, QToolBar))


class _AppScale(QObject):
    """The application-wide scale: one per process, whatever the number of windows.

    While it is not 100 %, an application event filter scales the icons and
    row heights of widgets as they are first polished (fonts need nothing:
    new widgets inherit the scaled application font).
    """

    def __init__(self) -> None:
        super().__init__()
        self.percent = 100
        self._base_font: QFont | None = None
        self._class_fonts: dict[str, QFont] = {}
        self._listeners: weakref.WeakSet[PresentationController] = weakref.WeakSet()

    @property
    def factor(self) -> float:
        return self.percent / 100

    def listen(self, controller: PresentationController) -> None:
        self._listeners.add(controller)

    def apply(self, percent: int) -> None:
        """Scale the application to ``percent`` (100 restores everything as it was)."""
        app = QApplication.instance()
        if not isinstance(app, QApplication) or percent == self.percent:
            return
        old, new = self.factor, percent / 100
        if self._base_font is None:
            base = QFont(app.font())
            self._base_font = base
            self._class_fonts = {
                name: QFont(font)
                for name in _CLASS_FONTS
                if (font := QApplication.font(name)) != base
            }
        base = self._base_font
        own_size = _widgets_with_own_font_size()
        if percent == 100:
            QApplication.setFont(base)
            for name, font in self._class_fonts.items():
                QApplication.setFont(font, name)
        else:
            QApplication.setFont(_scaled(base, new))
            for name, font in self._class_fonts.items():
                QApplication.setFont(_scaled(font, new), name)
        self.percent = percent
        # QApplication tells the windows only while exec() runs (and later, posted):
        # resolve every window's font now, so the pass below sees what they inherit
        for top in QApplication.topLevelWidgets():
            QApplication.sendEvent(top, QEvent(QEvent.Type.ApplicationFontChange))
        for top in QApplication.topLevelWidgets():
            self._rescale(top, _font_size(QApplication.font(top)), old, new, own_size)
        if percent == 100:
            self._base_font = None
            self._class_fonts = {}
            app.removeEventFilter(self)
        elif old == 1:
            app.installEventFilter(self)
        for controller in list(self._listeners):
            if shiboken6.isValid(controller):
                controller.scale_applied()
        log.info("presentation scale %d %%", percent)

    def _rescale(
        self, widget: QWidget, inherited: float, old: float, new: float, own_size: set[int]
    ) -> None:
        """Scale ``widget``'s own sizes from ``old`` to ``new``, then its children's.

        Parents first. A widget's font is scaled when it has a size of its own:
        it differed from its parent's before the application font changed
        (``own_size``: a title at 1.5×), or it did not follow the parent's
        change (Qt does not propagate a parent's font into a widget with a
        style sheet of its own), or it was scaled before (its base size is
        remembered).
        """
        font = widget.font()
        size = _font_size(font)
        if widget.property(_BASE_FONT) is not None or (
            _may_own_font(widget) and (_pointer(widget) in own_size or abs(size - inherited) > 1e-6)
        ):
            base = widget.property(_BASE_FONT)
            base = float(base) if base is not None else size / old
            scaled = _with_size(font, base * new)
            # keep what the widget set itself: its font's resolve mask less what it inherits
            parent = widget.parentWidget()
            inherited_mask = parent.font().resolveMask() if parent and not widget.isWindow() else 0
            scaled.setResolveMask((font.resolveMask() & ~inherited_mask) | _SIZE_RESOLVED)
            widget.setFont(scaled)
            widget.setProperty(_BASE_FONT, None if new == 1 else base)
        elif abs(size - inherited) > 1e-6:
            # Qt left an inheriting widget behind (seen on hidden item-view corner
            # buttons): have it resolve its font from its parent again
            QApplication.sendEvent(widget, QEvent(QEvent.Type.ApplicationFontChange))
        self._rescale_metrics(widget, new)
        if isinstance(widget, QHeaderView) and widget.orientation() == Qt.Orientation.Horizontal:
            self._rescale_columns(widget, old, new)
        own = _font_size(widget.font())
        for child in widget.findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            if not child.isWindow():
                self._rescale(child, own, old, new, own_size)

    def _rescale_metrics(self, widget: QWidget, new: float) -> None:
        """Icon size and table row height: from the remembered base, or the current size."""
        if _icon_widget(widget):
            base = widget.property(_BASE_ICON)
            if not isinstance(base, QSize):
                base = widget.iconSize()  # never scaled (created before the mode, or not polished)
            widget.setIconSize(  # type: ignore[attr-defined]
                base if new == 1 else QSize(round(base.width() * new), round(base.height() * new))
            )
            widget.setProperty(_BASE_ICON, None if new == 1 else base)
        if isinstance(widget, QHeaderView) and widget.orientation() == Qt.Orientation.Vertical:
            base = widget.property(_BASE_ROW)
            base = int(base) if base is not None else widget.defaultSectionSize()
            widget.setDefaultSectionSize(base if new == 1 else round(base * new))
            widget.setProperty(_BASE_ROW, None if new == 1 else base)

    @staticmethod
    def _rescale_columns(header: QHeaderView, old: float, new: float) -> None:
        """Column widths a view set itself (sized once from the font): scaled, then restored."""
        count = header.count()
        stored = header.property(_BASE_COLUMNS)
        base = [int(v) for v in stored] if isinstance(stored, list) else []
        base += [round(header.sectionSize(i) / old) for i in range(len(base), count)]
        stretched = header.logicalIndex(count - 1) if header.stretchLastSection() else -1
        for index in range(count):
            if (
                index == stretched
                or header.isSectionHidden(index)
                or header.sectionResizeMode(index)
                not in (QHeaderView.ResizeMode.Interactive, QHeaderView.ResizeMode.Fixed)
            ):
                continue
            header.resizeSection(index, base[index] if new == 1 else round(base[index] * new))
        header.setProperty(_BASE_COLUMNS, None if new == 1 else base)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Polish
            and self.percent != 100
            and isinstance(watched, QWidget)
            and watched.property(_BASE_ICON) is None
            and watched.property(_BASE_ROW) is None
        ):
            self._rescale_metrics(watched, self.factor)
        return False


_app_scale: _AppScale | None = None


def app_scale() -> _AppScale:
    """The process's scale (created on first use)."""
    global _app_scale
    if _app_scale is None or not shiboken6.isValid(_app_scale):
        _app_scale = _AppScale()
    return _app_scale


# =========================================================================== overlay


class InputOverlay(QWidget):
    """Ripples where the mouse was pressed and a caption of the keys, over one window.

    A transparent child of the window, raised above its siblings, that never
    takes the focus and lets every mouse event through.
    """

    CAPTION_MS = 1_600
    RIPPLE_MS = 500
    RIPPLE_RADIUS = 28

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("presentationOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("")
        #: the caption shown now ("" when none)
        self.caption = ""
        #: where the mouse was last pressed (window coordinates)
        self.last_click: QPoint | None = None
        self._ripples: list[tuple[QPointF, QElapsedTimer]] = []
        self._caption_timer = QTimer(self)
        self._caption_timer.setSingleShot(True)
        self._caption_timer.setInterval(self.CAPTION_MS)
        self._caption_timer.timeout.connect(self.clear_caption)
        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(16)
        self._frame_timer.timeout.connect(self._next_frame)
        self.setGeometry(window.rect())
        window.installEventFilter(self)
        self.show()

    def ripple_points(self) -> list[QPoint]:
        """The ripples still animating."""
        return [point.toPoint() for point, _clock in self._ripples]

    def show_caption(self, text: str) -> None:
        self.caption = text
        self._caption_timer.start()
        self._to_front()

    def clear_caption(self) -> None:
        self.caption = ""
        self.update()

    def add_ripple(self, pos: QPoint) -> None:
        clock = QElapsedTimer()
        clock.start()
        self._ripples.append((QPointF(pos), clock))
        self.last_click = QPoint(pos)
        self._frame_timer.start()
        self._to_front()

    def _to_front(self) -> None:
        parent = self.parentWidget()
        if parent is not None and self.geometry() != parent.rect():
            self.setGeometry(parent.rect())
        self.raise_()
        self.update()

    def _next_frame(self) -> None:
        self._ripples = [(p, c) for p, c in self._ripples if c.elapsed() < self.RIPPLE_MS]
        if not self._ripples:
            self._frame_timer.stop()
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        for point, clock in self._ripples:
            progress = min(clock.elapsed() / self.RIPPLE_MS, 1.0)
            radius = 6 + self.RIPPLE_RADIUS * progress
            ring = QColor(accent)
            ring.setAlphaF(0.9 * (1 - progress))
            fill = QColor(accent)
            fill.setAlphaF(0.3 * (1 - progress))
            painter.setPen(QPen(ring, 3))
            painter.setBrush(fill)
            painter.drawEllipse(point, radius, radius)
        if self.caption:
            font = _scaled(self.font(), 1.6)
            font.setBold(True)
            metrics = QFontMetrics(font)
            text = metrics.elidedText(
                self.caption, Qt.TextElideMode.ElideLeft, max(self.width() - 80, 40)
            )
            pad_x, pad_y = metrics.height(), metrics.height() // 3
            width = metrics.horizontalAdvance(text) + 2 * pad_x
            height = metrics.height() + 2 * pad_y
            rect = QRectF(
                (self.width() - width) / 2, self.height() - height - 2.5 * metrics.height(),
                width, height,
            )  # fmt: skip
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(24, 24, 27, 215))
            painter.drawRoundedRect(rect, height / 2, height / 2)
            painter.setPen(QColor("white"))
            painter.setFont(font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()


_MODIFIER_KEYS = frozenset(
    {
        Qt.Key.Key_Control, Qt.Key.Key_Shift, Qt.Key.Key_Alt, Qt.Key.Key_AltGr,
        Qt.Key.Key_Meta, Qt.Key.Key_CapsLock, Qt.Key.Key_NumLock, Qt.Key.Key_ScrollLock,
        Qt.Key.Key_Super_L, Qt.Key.Key_Super_R, Qt.Key.Key_Hyper_L, Qt.Key.Key_Hyper_R,
        Qt.Key.Key_unknown,
    }
)  # fmt: skip
#: keys that do something rather than type: named even in a text field
_ACTION_KEYS = frozenset(
    {
        Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Return, Qt.Key.Key_Enter,
        Qt.Key.Key_Escape, Qt.Key.Key_Backspace, Qt.Key.Key_Delete,
    }
)  # fmt: skip
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
#: typed text kept in a caption
_TYPED_MAX = 40
_PASSWORD_CAPTION = "…"


def _is_strict_ancestor(ancestor: QObject, widget: QObject | None) -> bool:
    if not isinstance(ancestor, QWidget) or not isinstance(widget, QWidget):
        return False
    if not shiboken6.isValid(widget):
        return False
    return ancestor is not widget and ancestor.isAncestorOf(widget)


def _takes_text(widget: QWidget | None) -> bool:
    if widget is None or not widget.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled):
        return False
    read_only = getattr(widget, "isReadOnly", None)
    return not (callable(read_only) and read_only())


def _is_password(widget: QWidget | None) -> bool:
    if isinstance(widget, QLineEdit) and widget.echoMode() != QLineEdit.EchoMode.Normal:
        return True
    return widget is not None and bool(widget.inputMethodHints() & Qt.InputMethodHint.ImhHiddenText)


class _InputEcho(QObject):
    """The application event filter behind *Show Clicks and Keys*: it only watches.

    One key press reaches the filter several times (a ``ShortcutOverride``
    first, then the ``KeyPress``, each propagated to parents while ignored);
    it is shown once. A shortcut's press (Ctrl+K) arrives only as the
    override: the shortcut consumes the key press.
    """

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.overlays: dict[int, InputOverlay] = {}
        self._typed = ""
        self._typed_in: QWidget | None = None
        self._last_override: tuple[tuple[int, int, str], QObject] | None = None
        self._last_press: tuple[tuple[int, int, str], QObject] | None = None
        self._expect_press: tuple[int, int, str] | None = None
        self._last_click: tuple[QPointF, object, int] | None = None

    def overlay_for(self, window: QWidget) -> InputOverlay:
        key = id(window)
        overlay = self.overlays.get(key)
        if overlay is None or not shiboken6.isValid(overlay):
            overlay = InputOverlay(window)
            self.overlays[key] = overlay
            window.destroyed.connect(lambda _=None, k=key: self.overlays.pop(k, None))
        return overlay

    def clear(self) -> None:
        for overlay in self.overlays.values():
            if shiboken6.isValid(overlay):
                overlay.hide()
                overlay.deleteLater()
        self.overlays.clear()

    # -- where to paint --------------------------------------------------------

    @staticmethod
    def _target(widget: QWidget) -> QWidget | None:
        """The window to paint on: a popup's (menu, drop-down) owner window."""
        window = widget.window()
        while window is not None and window.windowType() in (
            Qt.WindowType.Popup,
            Qt.WindowType.ToolTip,
        ):
            owner = window.parentWidget()
            window = owner.window() if owner is not None else QApplication.activeWindow()
        if isinstance(window, (InputOverlay, QMenu)):
            return None
        return window

    # -- events ----------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(watched, QWidget):
            self._mouse(watched, event)  # type: ignore[arg-type]
        elif kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(
            watched, QWidget
        ):
            self._key(watched, event, kind == QEvent.Type.ShortcutOverride)  # type: ignore[arg-type]
        return False

    def _mouse(self, widget: QWidget, event: QMouseEvent) -> None:
        where = event.globalPosition()
        stamp = (where, event.button(), event.timestamp())
        if stamp == self._last_click:
            return  # the same press, propagated to a parent
        self._last_click = stamp
        window = self._target(widget)
        if window is None:
            return
        overlay = self.overlay_for(window)
        overlay.add_ripple(overlay.mapFromGlobal(where.toPoint()))

    def _key(self, widget: QWidget, event: QKeyEvent, override: bool) -> None:
        if event.isAutoRepeat():
            return
        try:
            key = Qt.Key(event.key())
        except ValueError:  # a key Qt has no name for: nothing to show
            return
        if key in _MODIFIER_KEYS:
            return
        sig = (event.key(), event.modifiers().value, event.text())
        if override:
            last = self._last_override
            if last is not None and last[0] == sig and _is_strict_ancestor(widget, last[1]):
                return
            self._last_override = (sig, widget)
            self._expect_press = sig
        else:
            if self._expect_press == sig:
                self._expect_press = None
                self._last_press = (sig, widget)
                return  # its override was shown
            last = self._last_press
            if last is not None and last[0] == sig and _is_strict_ancestor(widget, last[1]):
                return
            self._last_press = (sig, widget)
        self._echo(widget, event)

    def _echo(self, widget: QWidget, event: QKeyEvent) -> None:
        window = self._target(widget)
        if window is None:
            return
        focus = QApplication.focusWidget() or widget
        key = Qt.Key(event.key())  # known: checked in _key
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        text = event.text()
        if (
            not modifiers & _COMMAND_MODIFIERS
            and key not in _ACTION_KEYS
            and text
            and text.isprintable()
            and _takes_text(focus)
        ):
            if focus is not self._typed_in:
                self._typed, self._typed_in = "", focus
            self._typed = (self._typed + text)[-_TYPED_MAX:]
            caption = _PASSWORD_CAPTION if _is_password(focus) else self._typed
        else:
            self._typed, self._typed_in = "", None
            if key == Qt.Key.Key_Backtab:
                key = Qt.Key.Key_Tab
                modifiers |= Qt.KeyboardModifier.ShiftModifier
            caption = QKeySequence(QKeyCombination(modifiers, key)).toString(
                QKeySequence.SequenceFormat.NativeText
            )
        if caption:
            self.overlay_for(window).show_caption(caption)


# =========================================================================== customer view


class CustomerViewDock(QDockWidget):
    """The dock holding the customer view; closing it is reported (the menu unchecks)."""

    closed = Signal()

    def __init__(self, view: CustomerView, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("customerViewDock")
        self.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.view = view
        self.setWidget(view)

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()


# =========================================================================== controller


class PresentationController(QObject):
    """View ▸ Presentation of one main window (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("presentation")
        self._window = window
        self._scale = DEFAULT_SCALE
        self._echo: _InputEcho | None = None
        self._want_customer = False
        self.customer_dock: CustomerViewDock | None = None
        self._hooked_page: QWidget | None = None

        self.menu = QMenu(window)
        self.menu.setObjectName("presentationMenu")
        self.mode_action = QAction(self)
        self.mode_action.setObjectName("presentationModeAction")
        self.mode_action.setCheckable(True)
        self.mode_action.setShortcut(QKeySequence(PRESENTATION_SHORTCUT))
        self.mode_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.mode_action.toggled.connect(self._mode_toggled)
        self.menu.addAction(self.mode_action)
        self.scale_menu = self.menu.addMenu("")
        self.scale_menu.setObjectName("presentationScaleMenu")
        self.scale_actions: dict[int, QAction] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        for percent in SCALES:
            action = QAction(self)
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, p=percent: self.set_scale(p))
            group.addAction(action)
            self.scale_menu.addAction(action)
            self.scale_actions[percent] = action
        self.menu.addSeparator()
        self.input_action = QAction(self)
        self.input_action.setObjectName("showInputAction")
        self.input_action.setCheckable(True)
        self.input_action.toggled.connect(self._input_toggled)
        self.menu.addAction(self.input_action)
        self.customer_action = QAction(self)
        self.customer_action.setObjectName("customerViewAction")
        self.customer_action.setCheckable(True)
        self.customer_action.toggled.connect(self._customer_toggled)
        self.menu.addAction(self.customer_action)
        window.view_menu.addSeparator()
        window.view_menu.addMenu(self.menu)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(CUSTOMER_VIEW_REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_customer_view)

        window.installEventFilter(self)
        window.stack.currentChanged.connect(self._follow_account)

        settings = QSettings()
        scale = settings.value(_SETTINGS_SCALE, DEFAULT_SCALE, type=int)
        self._scale = scale if scale in SCALES else DEFAULT_SCALE
        self.scale_actions[self._scale].setChecked(True)
        scaler = app_scale()
        scaler.listen(self)
        self.retranslateUi()
        self._follow_account()
        enabled = settings.value(_SETTINGS_ENABLED, False, type=bool)
        if enabled or scaler.percent != 100:
            self.mode_action.setChecked(True)
        self.scale_applied()

    # -- presentation mode -----------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.mode_action.isChecked()

    @property
    def scale(self) -> int:
        """The chosen scale in per cent (applied while the mode is on)."""
        return self._scale

    def set_enabled(self, on: bool) -> None:
        self.mode_action.setChecked(on)

    def set_scale(self, percent: int) -> None:
        """Choose the scale (remembered); applied at once while the mode is on."""
        if percent not in SCALES:
            raise ValueError(f"scale {percent} not in {SCALES}")
        self._scale = percent
        self.scale_actions[percent].setChecked(True)
        QSettings().setValue(_SETTINGS_SCALE, percent)
        if self.enabled:
            app_scale().apply(percent)

    def _mode_toggled(self, on: bool) -> None:
        QSettings().setValue(_SETTINGS_ENABLED, on)
        app_scale().apply(self._scale if on else 100)

    def scale_applied(self) -> None:
        """The application's scale changed: what was sized once from the font follows."""
        nav = getattr(self._window, "navigation", None)
        if nav is None:
            return
        metrics = nav.fontMetrics()
        height = metrics.height() + _NAV_ITEM_PADDING
        widest = 0
        for row in range(nav.count()):
            item = nav.item(row)
            item.setSizeHint(QSize(0, height))
            widest = max(widest, metrics.horizontalAdvance(item.text()))
        nav.setFixedWidth(max(_NAV_MIN_WIDTH, widest + _NAV_TEXT_MARGIN))

    # -- clicks and keys -------------------------------------------------------

    @property
    def input_echo(self) -> _InputEcho | None:
        return self._echo

    def set_show_input(self, on: bool) -> None:
        self.input_action.setChecked(on)

    def overlay(self, window: QWidget | None = None) -> InputOverlay | None:
        """The overlay on ``window`` (default: this main window), if one was painted on."""
        if self._echo is None:
            return None
        overlay = self._echo.overlays.get(id(window or self._window))
        return overlay if overlay is not None and shiboken6.isValid(overlay) else None

    def _input_toggled(self, on: bool) -> None:
        app = QApplication.instance()
        if on and self._echo is None:
            self._echo = _InputEcho(self)
            app.installEventFilter(self._echo)
        elif not on and self._echo is not None:
            app.removeEventFilter(self._echo)
            self._echo.clear()
            self._echo.deleteLater()
            self._echo = None

    # -- customer view ---------------------------------------------------------

    @property
    def customer_view(self) -> CustomerView | None:
        return self.customer_dock.view if self.customer_dock is not None else None

    def set_customer_view_visible(self, on: bool) -> None:
        self.customer_action.setChecked(on)

    def _customer_toggled(self, on: bool) -> None:
        self._want_customer = on
        if on and self.customer_dock is None:
            self._build_dock()
        self._follow_account()

    def _build_dock(self) -> None:
        from billing_desktop.ui.customer_view import CustomerView

        window = self._window
        view = CustomerView(window.ctx)
        dock = CustomerViewDock(view, window)
        dock.closed.connect(lambda: self.customer_action.setChecked(False))
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        if not window.restoreDockWidget(dock):
            width = max(420, window.width() * 2 // 5)
            window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        self.customer_dock = dock
        self._retranslate_dock()

    def _follow_account(self, _index: int = -1) -> None:
        """The window shows another account, or none: the customer view follows."""
        page = self._window.account_page
        self.customer_action.setEnabled(page is not None)
        dock = self.customer_dock
        if dock is None:
            return
        shown = self._want_customer and page is not None
        if shown:
            assert page is not None
            dock.view.set_context(self._window.ctx)
            dock.view.set_account(page.account_id)
            self._hook(page)
        dock.setVisible(shown)
        if shown:
            self._refresh_timer.start()
        else:
            self._refresh_timer.stop()

    def _hook(self, page: QWidget) -> None:
        """Re-read the customer view when a tab of the account page reports a change."""
        if page is not self._hooked_page:
            self._hooked_page = page
            page.tabs.currentChanged.connect(lambda _i, p=page: self._hook_tabs(p))  # type: ignore[attr-defined]
        self._hook_tabs(page)

    def _hook_tabs(self, page: QWidget) -> None:
        for tab in page.built_tabs().values():  # type: ignore[attr-defined]
            if not tab.property("_customerViewHooked"):
                tab.setProperty("_customerViewHooked", True)
                tab.account_changed.connect(self.refresh_customer_view)

    def refresh_customer_view(self) -> None:
        """Read the shown account again (after a change in the operator's view)."""
        dock = self.customer_dock
        page = self._window.account_page
        if dock is None or not dock.isVisible() or page is None:
            return
        self._hook(page)
        dock.view.reload()

    # -- events and texts ------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window:
            kind = event.type()
            if kind == QEvent.Type.LanguageChange:
                self.retranslateUi()
            elif kind == QEvent.Type.WindowActivate:
                self.refresh_customer_view()
        return False

    def retranslateUi(self) -> None:
        self.menu.setTitle(self.tr("&Presentation"))
        self.mode_action.setText(self.tr("&Presentation Mode"))
        self.mode_action.setStatusTip(
            self.tr("Enlarge the whole window for a projector or a screen share")
        )
        self.scale_menu.setTitle(self.tr("&Scale"))
        for percent, action in self.scale_actions.items():
            action.setText(self.tr("{percent} %").format(percent=percent))
        self.input_action.setText(self.tr("Show &Clicks and Keys"))
        self.input_action.setStatusTip(
            self.tr("Show where the mouse is clicked and which keys are pressed")
        )
        self.customer_action.setText(self.tr("C&ustomer View"))
        self.customer_action.setStatusTip(
            self.tr("Show the open account's Billing Center as its billing contact sees it")
        )
        self._retranslate_dock()

    def _retranslate_dock(self) -> None:
        if self.customer_dock is not None:
            self.customer_dock.setWindowTitle(self.tr("Customer View"))


def install_presentation(window: MainWindow) -> PresentationController:
    """Add View ▸ Presentation to ``window``; returns the controller (also ``window.presentation``).

    Restores the remembered scale, and the mode itself if it was on.
    """
    installed = getattr(window, "presentation", None)
    if isinstance(installed, PresentationController):  # idempotent
        return installed
    controller = PresentationController(window)
    window.presentation = controller  # type: ignore[attr-defined]
    return controller
