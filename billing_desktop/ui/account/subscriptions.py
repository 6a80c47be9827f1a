"""The Subscriptions tab of the account page (SPEC §4; issue 4 item 4).

One card per product in the style of the Billing Center (articles 000, 001,
003, 004): product icon, name, the options (⋮) icon in the card's top-right
corner, a status badge (Trial, Trial ended, Active, Cancellation pending,
Cancelled — always with its word, never colour alone), plan tier, licences
assigned of bought, billing frequency, contract and the date that matters for
the status. Below the cards, *Discover other products* lists cancelled and
never-bought products with what can be bought (article 002: "cancelled
products appear under Discover other products").

What a card offers comes from two tables that must both agree:

* the service's :class:`~billing_desktop.services.subscriptions_view.CardAction`
  list says whether the business rules allow an action now (and why not);
* :data:`CARD_ACTIONS` below says whether this build has the flow the action
  opens (``available``) and which method runs it: Edit subscription and
  Subscribe now open the checkout wizard, Cancel subscription the online or
  the assisted cancellation wizard (the card's cancellation channel decides;
  a support operator always uses the assisted flow, SPEC §3 / issue 5), and
  Reactivate its short confirmation. Never a button that does nothing.

Discover entries that the service says can be bought have a **Buy** (or
**Subscribe again**) button opening the checkout wizard on that product, and
a non-empty cart shows "Cart: N items" with **Review cart** above the cards.
Every wizard is opened window-modal with ``open()``; its ``completed`` reloads
the tab and tells the account page (``account_changed``), its
``navigate_requested(key)`` becomes :attr:`SubscriptionsTab.tab_requested`.

The ⋮ button is hidden when a card has nothing to offer (an ended trial shows
no options icon, as the articles say). Keyboard: every card with actions is a
tab stop; Space, Enter, the Menu key or Shift+F10 open its menu.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QObject,
    QPoint,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QIcon,
    QKeyEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.periods import Frequency
from billing_desktop.domain.policies import (
    CancellationChannel,
    Contract,
    OperatorRole,
    SubscriptionStatus,
)
from billing_desktop.services.cancellation import Notice
from billing_desktop.services.cart import CartView, get_cart
from billing_desktop.services.subscriptions_view import (
    CardActionCode,
    DiscoverOffer,
    SubscriptionCard,
    discover_offers,
    subscription_cards,
)
from billing_desktop.ui.errors import error_text, show_service_error
from billing_desktop.ui.formatting import format_date, format_money
from billing_desktop.ui.words import catalog_text

if TYPE_CHECKING:
    from PySide6.QtGui import QContextMenuEvent, QPaintEvent
    from PySide6.QtWidgets import QDialog

    from billing_desktop.services.context import AppContext

__all__ = [
    "CARD_ACTIONS",
    "DiscoverEntry",
    "Placement",
    "StatusBadge",
    "SubscriptionCardWidget",
    "SubscriptionsTab",
    "UiAction",
    "fill",
]

log = logging.getLogger("billing_desktop.ui")

_CARD = "SubscriptionCardWidget"

#: Narrowest a card may get; the grid shows as many columns as fit (at most 3).
CARD_MIN_WIDTH = 330
MAX_COLUMNS = 3
GRID_SPACING = 16


class Placement(Enum):
    """Where a card shows an action."""

    MENU = "menu"  # the options (⋮) menu
    BUTTON = "button"  # a push button at the foot of the card


@dataclass(frozen=True, slots=True)
class UiAction:
    """One action a card can show.

    ``available``: the flow the action opens exists in this build; ``handler``
    is the :class:`SubscriptionsTab` method that runs it with the card's data.
    """

    code: CardActionCode
    label: str
    placement: Placement
    available: bool
    handler: str | None = None


#: The card actions, in menu order, and the :class:`SubscriptionsTab` method
#: opening each one's flow.
CARD_ACTIONS: tuple[UiAction, ...] = (
    UiAction(CardActionCode.EDIT,
             QT_TRANSLATE_NOOP("SubscriptionCardWidget", "&Edit subscription"),
             Placement.MENU, available=True, handler="open_edit"),  # checkout wizard
    UiAction(CardActionCode.CANCEL,
             QT_TRANSLATE_NOOP("SubscriptionCardWidget", "&Cancel subscription"),
             Placement.MENU, available=True, handler="open_cancellation"),
    UiAction(CardActionCode.REACTIVATE,
             QT_TRANSLATE_NOOP("SubscriptionCardWidget", "&Reactivate"),
             Placement.MENU, available=True, handler="open_reactivate"),
    UiAction(CardActionCode.SUBSCRIBE,
             QT_TRANSLATE_NOOP("SubscriptionCardWidget", "&Subscribe now"),
             Placement.BUTTON, available=True, handler="open_subscribe"),  # checkout wizard
)  # fmt: skip

_ACTIONS_BY_CODE = {spec.code: spec for spec in CARD_ACTIONS}

STATUS_WORDS = {
    SubscriptionStatus.TRIAL: QT_TRANSLATE_NOOP("SubscriptionCardWidget", "Trial"),
    SubscriptionStatus.TRIAL_EXPIRED: QT_TRANSLATE_NOOP("SubscriptionCardWidget", "Trial ended"),
    SubscriptionStatus.ACTIVE: QT_TRANSLATE_NOOP("SubscriptionCardWidget", "Active"),
    SubscriptionStatus.CANCELLATION_PENDING: QT_TRANSLATE_NOOP(
        "SubscriptionCardWidget", "Cancellation pending"
    ),
    SubscriptionStatus.CANCELLED: QT_TRANSLATE_NOOP("SubscriptionCardWidget", "Cancelled"),
}

FREQUENCY_WORDS = {
    Frequency.MONTHLY: QT_TRANSLATE_NOOP("SubscriptionCardWidget", "Monthly"),
    Frequency.ANNUAL: QT_TRANSLATE_NOOP("SubscriptionCardWidget", "Annually"),
}

#: Badge colours (background, text, border): dark text on a light tint, readable
#: in light and dark themes (contrast above 7:1); the word carries the meaning.
_BADGE_COLOURS = {
    SubscriptionStatus.TRIAL: ("#e3edfc", "#174ea6", "#a6c3ef"),
    SubscriptionStatus.TRIAL_EXPIRED: ("#eceff1", "#37474f", "#b0bec5"),
    SubscriptionStatus.ACTIVE: ("#e4f3e8", "#1b5e20", "#9fd0ab"),
    SubscriptionStatus.CANCELLATION_PENDING: ("#fff1dc", "#7a3e00", "#efbf78"),
    SubscriptionStatus.CANCELLED: ("#fbe9e7", "#9c1c1c", "#eeaaa3"),
}

#: Product icon colours per catalog family (decorative: the name is written next to it).
_FAMILY_COLOURS = {
    "remote_support": "#1565c0",
    "it_management": "#00796b",
    "communications": "#6a1b9a",
    "collaboration": "#d84315",
}

#: Note styles: (text, background); ``None`` keeps the palette's.
_NOTE_STYLE: dict[str, tuple[str | None, str | None]] = {
    "info": (None, None),
    "warning": ("#7a3e00", "#fff1dc"),
}


class _KeepMissing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, **values: object) -> str:
    """``text.format(**values)`` that survives a translation with a wrong placeholder.

    A translator's typo must not break the tab: an unknown ``{name}`` stays as
    written and a malformed template is shown unfilled (and logged).
    """
    try:
        return text.format_map(_KeepMissing(values))
    except (IndexError, ValueError):
        log.warning("translated text with bad placeholders: %r", text)
        return text


def status_word(status: SubscriptionStatus) -> str:
    return QCoreApplication.translate(_CARD, STATUS_WORDS[status])


def notice_text(notice: Notice) -> str:
    """A service's reason in the UI language, values formatted for the UI locale."""
    return error_text(DomainError(notice.code, notice.message, dict(notice.params)))


def _monogram(name: str) -> str:
    """ "GoToAssist Remote Support v5" → "RS5", "GoTo Meeting" → "M"."""
    words = name.split()
    if len(words) > 1:
        words = words[1:]  # the brand
    letters = "".join(w[0] for w in words if w[:1].isalpha() and not _is_version(w))
    digits = "".join(w[1:] for w in words if _is_version(w))
    return (letters[:2] + digits[:1]) or name[:1]


def _is_version(word: str) -> bool:
    return len(word) > 1 and word[0] in "vV" and word[1:].isdigit()


class ProductIcon(QWidget):
    """The product icon area: a rounded tile in the family's colour with a monogram."""

    SIZE = 44

    def __init__(self, name: str, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = _monogram(name)
        self._colour = QColor(_FAMILY_COLOURS.get(family, "#546e7a"))
        self.setFixedSize(self.SIZE, self.SIZE)
        self.setAccessibleName("")  # decorative: the product name is the card's title

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._colour)
        painter.drawRoundedRect(self.rect(), 10, 10)
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(16 if len(self._text) < 3 else 14)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._text)
        painter.end()


class StatusBadge(QLabel):
    """A status word on a tinted pill; the word, not the colour, carries the meaning.

    Painted here rather than styled with a style sheet, so its size always
    fits the bold word (a style sheet's padding is not in a label's size hint
    until it is polished).
    """

    PADDING_X = 8
    PADDING_Y = 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBadge")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.status: SubscriptionStatus | None = None
        self._colours: tuple[QColor, QColor, QColor] = (
            QColor("#eceff1"),
            QColor("#37474f"),
            QColor("#b0bec5"),
        )

    def set_status(self, status: SubscriptionStatus) -> None:
        self.status = status
        background, text, border = _BADGE_COLOURS[status]
        self._colours = (QColor(background), QColor(text), QColor(border))
        self.setText(status_word(status))
        self.updateGeometry()
        self.update()

    def _bold(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self._bold())
        return QSize(
            fm.horizontalAdvance(self.text()) + 2 * self.PADDING_X + 2,
            fm.height() + 2 * self.PADDING_Y + 2,
        )

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        background, text, border = self._colours
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        painter.setPen(QPen(border, 1))
        painter.setBrush(background)
        painter.drawRoundedRect(rect, radius, radius)
        painter.setPen(text)
        painter.setFont(self._bold())
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.text())
        painter.end()


def _dots_icon(colour: QColor, size: int = 20) -> QIcon:
    """The options icon: three vertical dots (no font glyph needed)."""
    ratio = 2
    pixmap = QPixmap(size * ratio, size * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    radius = 2.0
    for y in (size * 0.25, size * 0.5, size * 0.75):
        painter.drawEllipse(QPoint(size // 2, round(y)), radius, radius)
    painter.end()
    return QIcon(pixmap)


def _caption(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


def _value(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _note(parent: QWidget, name: str, kind: str = "info") -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    colour, background = _NOTE_STYLE[kind]
    if colour and background:
        label.setStyleSheet(
            f"QLabel#{name} {{ color: {colour}; background: {background}; "
            "border-radius: 4px; padding: 4px 6px; }"
        )
    label.hide()
    return label


class _Card(QFrame):
    """A card's frame: a rounded panel in the base colour, outlined in the highlight
    colour while it has the keyboard focus.

    Painted rather than styled: a style sheet on the card would cascade into
    its children and re-polish them on every focus change.
    """

    RADIUS = 8.0

    def paintEvent(self, event: QPaintEvent) -> None:
        palette = self.palette()
        focused = self.hasFocus()
        width = 2.0 if focused else 1.0
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        role = QPalette.ColorRole.Highlight if focused else QPalette.ColorRole.Mid
        painter.setPen(QPen(palette.color(role), width))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        inset = width / 2
        rect = QRectF(self.rect()).adjusted(inset, inset, -inset, -inset)
        painter.drawRoundedRect(rect, self.RADIUS, self.RADIUS)
        painter.end()

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)


class SubscriptionCardWidget(_Card):
    """One product card. Emits :attr:`action_requested` with a :class:`CardActionCode`."""

    action_requested = Signal(str)

    def __init__(self, card: SubscriptionCard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("subscriptionCard")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(CARD_MIN_WIDTH)
        self.card = card

        self.icon = ProductIcon(card.product_name, card.family, self)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("productName")
        self.name_label.setWordWrap(True)
        font = self.name_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.name_label.setFont(font)
        self.badge = StatusBadge(self)
        self.status_note = QLabel(self)  # "Expires on …" under the badge
        self.status_note.setObjectName("statusNote")
        self.status_note.setWordWrap(True)  # the badge keeps its size; the note wraps
        self.options_button = QToolButton(self)
        self.options_button.setObjectName("optionsButton")
        self.options_button.setAutoRaise(True)
        self._paint_options_icon()
        self.options_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the card is the tab stop
        self.options_button.clicked.connect(self.open_menu)
        self.menu = QMenu(self)
        self.menu.setObjectName("cardMenu")
        self.menu_actions: dict[CardActionCode, QAction] = {}
        self.buttons: dict[CardActionCode, QPushButton] = {}

        title = QVBoxLayout()
        title.setSpacing(4)
        title.addWidget(self.name_label)
        badge_row = QHBoxLayout()
        badge_row.setSpacing(8)
        badge_row.addWidget(self.badge)
        badge_row.addStretch(1)
        title.addLayout(badge_row)
        title.addWidget(self.status_note)
        header = QHBoxLayout()
        header.setSpacing(12)
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(title, 1)
        header.addWidget(self.options_button, 0, Qt.AlignmentFlag.AlignTop)

        self.details = QGridLayout()
        self.details.setHorizontalSpacing(16)
        self.details.setVerticalSpacing(6)
        self.details.setColumnStretch(1, 1)
        self.rows: dict[str, tuple[QLabel, QLabel]] = {}
        for key in ("plan", "licences", "frequency", "contract", "date", "addons"):
            caption, value = _caption(self), _value(self)
            caption.setObjectName(f"{key}Caption")
            value.setObjectName(f"{key}Value")
            row = len(self.rows)
            self.details.addWidget(caption, row, 0)
            self.details.addWidget(value, row, 1)
            self.rows[key] = (caption, value)

        self.renewal_note = _note(self, "renewalNote")
        self.warning_note = _note(self, "warningNote", "warning")

        self.button_row = QHBoxLayout()
        self.button_row.addStretch(1)
        for spec in CARD_ACTIONS:
            if spec.placement is Placement.BUTTON and spec.available:
                button = QPushButton(self)
                button.setObjectName(f"{spec.code.value}Button")
                button.clicked.connect(lambda _=False, c=spec.code: self._request(c))
                self.button_row.addWidget(button)
                self.buttons[spec.code] = button

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 12, 16)
        layout.setSpacing(12)
        layout.addLayout(header)
        layout.addLayout(self.details)
        layout.addWidget(self.renewal_note)
        layout.addWidget(self.warning_note)
        layout.addStretch(1)
        layout.addLayout(self.button_row)

        self._build_actions()
        self.retranslateUi()

    # -- actions ---------------------------------------------------------------

    def offered(self, placement: Placement | None = None) -> list[UiAction]:
        """The actions this card shows: the flow exists and the rules allow it now."""
        return [
            spec
            for spec in CARD_ACTIONS
            if spec.available
            and (placement is None or spec.placement is placement)
            and self.card.action(spec.code).available
        ]

    def _build_actions(self) -> None:
        self.menu.clear()
        self.menu_actions.clear()
        for spec in self.offered(Placement.MENU):
            action = self.menu.addAction("")
            action.setObjectName(f"{spec.code.value}Action")
            action.triggered.connect(lambda _=False, c=spec.code: self._request(c))
            self.menu_actions[spec.code] = action
        has_menu = bool(self.menu_actions)
        self.options_button.setVisible(has_menu)
        for code, button in self.buttons.items():
            button.setVisible(self.card.action(code).available)
        focusable = has_menu or any(b.isVisibleTo(self) for b in self.buttons.values())
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if focusable else Qt.FocusPolicy.NoFocus)

    @property
    def has_menu(self) -> bool:
        return bool(self.menu_actions)

    def open_menu(self) -> None:
        """Show the options menu under the ⋮ icon (non-blocking)."""
        if not self.menu_actions:
            return
        button = self.options_button
        self.menu.popup(button.mapToGlobal(QPoint(0, button.height())))
        first = next(iter(self.menu_actions.values()))
        self.menu.setActiveAction(first)

    def _request(self, code: CardActionCode) -> None:
        self.action_requested.emit(code.value)

    # -- Qt events -------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        menu_key = key == Qt.Key.Key_Menu or (
            key == Qt.Key.Key_F10 and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        )
        if self.menu_actions and (
            menu_key or key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.open_menu()
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self.menu_actions:
            self.menu.popup(event.globalPos())
            event.accept()
            return
        super().contextMenuEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        elif event.type() == QEvent.Type.PaletteChange and hasattr(self, "options_button"):
            self._paint_options_icon()  # a theme switch
        super().changeEvent(event)

    def _paint_options_icon(self) -> None:
        self.options_button.setIcon(_dots_icon(self.palette().color(QPalette.ColorRole.WindowText)))

    # -- texts -----------------------------------------------------------------

    def retranslateUi(self) -> None:
        card = self.card
        self.name_label.setText(card.product_name)
        self.badge.set_status(card.status)
        status_note = ""
        if card.expires_on is not None and card.status is not SubscriptionStatus.TRIAL:
            status_note = fill(self.tr("Expires on {date}"), date=format_date(card.expires_on))
        self.status_note.setText(status_note)
        self.status_note.setVisible(bool(status_note))
        self.options_button.setToolTip(self.tr("Options"))
        self.options_button.setAccessibleName(
            fill(self.tr("Options for {product}"), product=card.product_name)
        )
        for code, action in self.menu_actions.items():
            action.setText(QCoreApplication.translate(_CARD, _ACTIONS_BY_CODE[code].label))
        for code, button in self.buttons.items():
            button.setText(QCoreApplication.translate(_CARD, _ACTIONS_BY_CODE[code].label))

        self._set_row("plan", self.tr("Plan"), card.plan_name)
        self._set_row(
            "licences",
            self.tr("Licences"),
            fill(
                self.tr("{assigned} of {total} assigned", "licences"),
                assigned=card.assigned,
                total=card.licences,
            ),
        )
        self._set_row(
            "frequency",
            self.tr("Billing frequency"),
            QCoreApplication.translate(_CARD, FREQUENCY_WORDS[card.frequency]),
        )
        self._set_row("contract", self.tr("Contract"), self._contract_text())
        self._set_row("date", *self._date_row())
        self._set_row(
            "addons",
            self.tr("Add-ons"),
            self.locale().createSeparatedList([catalog_text(a) for a in card.addons])
            if card.addons
            else "",
        )

        renewal = self._renewal_text()
        self.renewal_note.setText(renewal)
        self.renewal_note.setVisible(bool(renewal) and not card.renewal_window_passed)
        warning = renewal if card.renewal_window_passed else self._refusal_text()
        self.warning_note.setText(warning)
        self.warning_note.setVisible(bool(warning))

        self.setAccessibleName(
            fill(
                self.tr("{product}, {status}"),
                product=card.product_name,
                status=status_word(card.status),
            )
        )
        self.setAccessibleDescription(
            self.tr("Press Space or Enter for the options.") if self.menu_actions else ""
        )

    def _set_row(self, key: str, caption: str, value: str) -> None:
        caption_label, value_label = self.rows[key]
        caption_label.setText(caption)
        value_label.setText(value)
        caption_label.setVisible(bool(value))
        value_label.setVisible(bool(value))

    def _contract_text(self) -> str:
        card = self.card
        if card.contract is Contract.FIXED_TERM and card.term_end is not None:
            end = format_date(card.term_end)
            if card.term_months:
                return fill(
                    self.tr("{months}-month fixed term, ends on {date}"),
                    months=card.term_months,
                    date=end,
                )
            return fill(self.tr("Fixed term, ends on {date}"), date=end)
        return self.tr("Month-to-month")

    def _date_row(self) -> tuple[str, str]:
        card = self.card
        status = card.status
        if status is SubscriptionStatus.TRIAL and card.trial_end is not None:
            return self.tr("Trial ends on"), format_date(card.trial_end)
        if status is SubscriptionStatus.TRIAL_EXPIRED:
            ended = card.trial_end or card.ended_on
            return self.tr("Trial ended on"), format_date(ended) if ended else ""
        if status is SubscriptionStatus.CANCELLED and card.ended_on is not None:
            return self.tr("Ended on"), format_date(card.ended_on)
        if card.next_billing_date is not None:
            return self.tr("Next billing date"), format_date(card.next_billing_date)
        if card.expires_on is not None:
            return self.tr("Next billing date"), self.tr("None: it is not renewed")
        return self.tr("Next billing date"), ""

    def _renewal_text(self) -> str:
        """A fixed term renews unless cancelled at least 30 days before its end (SPEC §3)."""
        card = self.card
        if (
            card.contract is not Contract.FIXED_TERM
            or card.term_end is None
            or card.renewal_notice_deadline is None
            or card.status is not SubscriptionStatus.ACTIVE
            or not card.auto_renew
        ):
            return ""
        end = format_date(card.term_end)
        deadline = format_date(card.renewal_notice_deadline)
        if card.renewal_window_passed:
            return fill(
                self.tr(
                    "The notice period ended on {deadline}: the agreement renews for another term "
                    "on {end}."
                ),
                deadline=deadline,
                end=end,
            )
        return fill(
            self.tr("The agreement renews on {end} unless it is cancelled by {deadline}."),
            deadline=deadline,
            end=end,
        )

    def _refusal_text(self) -> str:
        """Why a pending cancellation cannot be reactivated (the menu then lacks it)."""
        card = self.card
        if not card.cancellation_pending:
            return ""
        action = card.action(CardActionCode.REACTIVATE)
        if action.available or action.reason is None:
            return ""
        return notice_text(action.reason)


class DiscoverEntry(_Card):
    """A product under *Discover other products*: what it is and what can be bought.

    When the service says it can be bought now, a **Buy** button (**Subscribe
    again** for a cancelled product) emits :attr:`buy_requested`.
    """

    #: the Buy / Subscribe again button, with the product's catalog code
    buy_requested = Signal(str)

    def __init__(self, offer: DiscoverOffer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("discoverEntry")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(CARD_MIN_WIDTH)
        self.offer = offer
        item = offer.item

        self.icon = ProductIcon(item.product_name, item.family, self)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("productName")
        self.name_label.setWordWrap(True)
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        self.badge = StatusBadge(self)
        self.description_label = _value(self)
        self.description_label.setObjectName("description")
        self.plans_label = _value(self)
        self.plans_label.setObjectName("plans")
        self.price_label = _value(self)
        self.price_label.setObjectName("price")
        self.ended_label = _value(self)
        self.ended_label.setObjectName("ended")
        self.blocked_label = _note(self, "blockedNote", "warning")
        self.buy_button = QPushButton(self)
        self.buy_button.setObjectName("buyButton")
        self.buy_button.clicked.connect(lambda: self.buy_requested.emit(self.offer.product_code))
        self.buy_button.setVisible(offer.can_buy)
        button_row = QHBoxLayout()
        button_row.addStretch(1)
        button_row.addWidget(self.buy_button)

        title = QVBoxLayout()
        title.setSpacing(4)
        title.addWidget(self.name_label)
        badge_row = QHBoxLayout()
        badge_row.addWidget(self.badge)
        badge_row.addStretch(1)
        title.addLayout(badge_row)
        header = QHBoxLayout()
        header.setSpacing(12)
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(title, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.description_label)
        layout.addWidget(self.plans_label)
        layout.addWidget(self.price_label)
        layout.addWidget(self.ended_label)
        layout.addWidget(self.blocked_label)
        layout.addStretch(1)
        layout.addLayout(button_row)
        self.retranslateUi()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        offer, item = self.offer, self.offer.item
        self.name_label.setText(item.product_name)
        if offer.cancelled:
            self.badge.set_status(SubscriptionStatus.CANCELLED)
        self.badge.setVisible(offer.cancelled)
        self.description_label.setText(catalog_text(item.description))
        self.description_label.setVisible(bool(item.description))
        plans = self.locale().createSeparatedList(list(offer.plan_names))
        self.plans_label.setText(fill(self.tr("Plans: {plans}"), plans=plans) if plans else "")
        self.plans_label.setVisible(bool(plans))
        price = ""
        if offer.from_price is not None:
            amount = format_money(offer.from_price.minor, offer.from_price.currency)
            if offer.trial_days and not offer.cancelled:
                price = fill(
                    self.tr("From {price} per licence per month, with a {days}-day free trial"),
                    price=amount,
                    days=offer.trial_days,
                )
            else:
                price = fill(self.tr("From {price} per licence per month"), price=amount)
        self.price_label.setText(price)
        self.price_label.setVisible(bool(price))
        ended = ""
        if offer.cancelled and item.ended_on is not None:
            if item.data_deletion_date is not None:
                ended = fill(
                    self.tr("Ended on {ended}. Its data is kept until {deletion}, then deleted."),
                    ended=format_date(item.ended_on),
                    deletion=format_date(item.data_deletion_date),
                )
            else:
                ended = fill(self.tr("Ended on {ended}."), ended=format_date(item.ended_on))
        self.ended_label.setText(ended)
        self.ended_label.setVisible(bool(ended))
        reason = offer.blocked_reason
        blocked = (
            fill(self.tr("Cannot be bought now: {reason}"), reason=notice_text(reason))
            if reason is not None
            else ""
        )
        self.blocked_label.setText(blocked)
        self.blocked_label.setVisible(bool(blocked))
        # no mnemonic: every entry has one, and the cards are reached with Tab
        self.buy_button.setText(self.tr("Subscribe again") if offer.cancelled else self.tr("Buy"))
        self.buy_button.setAccessibleName(
            fill(self.tr("Subscribe to {product} again"), product=item.product_name)
            if offer.cancelled
            else fill(self.tr("Buy {product}"), product=item.product_name)
        )
        if offer.cancelled:
            self.setAccessibleName(fill(self.tr("{product}, cancelled"), product=item.product_name))
        else:
            self.setAccessibleName(item.product_name)


class SubscriptionsTab(QWidget):
    """The account's product cards and *Discover other products* (SPEC §4)."""

    #: Emitted after an action changed the account (a wizard completed).
    account_changed = Signal()
    #: A wizard asked for another tab of the account page ("licences", "invoices"…).
    tab_requested = Signal(str)

    def __init__(self, ctx: AppContext, account_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("subscriptionsTab")
        self._ctx = ctx
        self.account_id = account_id
        self.cards: list[SubscriptionCardWidget] = []
        self.discover_entries: list[DiscoverEntry] = []
        #: the wizard (or Reactivate dialog) opened from this tab, while it is open
        self.wizard: QDialog | None = None
        self.cart: CartView | None = None
        self._columns = 0
        self._load_error = ""

        self.content = QWidget()
        self.content.setObjectName("subscriptionsContent")
        self.message_label = QLabel(self.content)
        self.message_label.setObjectName("subscriptionsMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(
            "QLabel#subscriptionsMessage { background: #e4f3e8; color: #1b5e20; "
            "border: 1px solid #9fd0ab; border-radius: 6px; padding: 8px 12px; }"
        )
        self.message_label.hide()

        # "Cart: N items — Review cart", only while the cart holds something
        self.cart_bar = QFrame(self.content)
        self.cart_bar.setObjectName("cartBar")
        self.cart_bar.setStyleSheet(
            "QFrame#cartBar { background: #e3edfc; border: 1px solid #a6c3ef; border-radius: 6px; }"
            " QFrame#cartBar QLabel { color: #174ea6; font-weight: bold; }"
        )
        self.cart_label = QLabel(self.cart_bar)
        self.cart_label.setObjectName("cartLabel")
        self.review_cart_button = QPushButton(self.cart_bar)
        self.review_cart_button.setObjectName("reviewCartButton")
        self.review_cart_button.clicked.connect(self.open_cart)
        cart_layout = QHBoxLayout(self.cart_bar)
        cart_layout.setContentsMargins(12, 6, 8, 6)
        cart_layout.addWidget(self.cart_label, 1)
        cart_layout.addWidget(self.review_cart_button)
        self.cart_bar.hide()

        self.empty_label = QLabel(self.content)
        self.empty_label.setObjectName("subscriptionsEmpty")
        self.empty_label.setWordWrap(True)
        # One grid for the cards and the Discover entries, so their columns line up.
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(GRID_SPACING)
        self.grid.setVerticalSpacing(GRID_SPACING)
        self.discover_title = QLabel(self.content)
        self.discover_title.setObjectName("discoverTitle")
        font = self.discover_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.discover_title.setFont(font)
        self.discover_hint = _caption(self.content)
        self.discover_hint.setWordWrap(True)
        self.discover_header = QWidget(self.content)
        header_layout = QVBoxLayout(self.discover_header)
        header_layout.setContentsMargins(0, 12, 0, 0)
        header_layout.setSpacing(2)
        header_layout.addWidget(self.discover_title)
        header_layout.addWidget(self.discover_hint)

        content_layout = QVBoxLayout(self.content)
        content_layout.setContentsMargins(16, 16, 16, 16)
        content_layout.setSpacing(GRID_SPACING)
        content_layout.addWidget(self.message_label)
        content_layout.addWidget(self.cart_bar)
        content_layout.addWidget(self.empty_label)
        content_layout.addLayout(self.grid)
        content_layout.addStretch(1)

        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("subscriptionsScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.content)
        self.scroll.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.scroll, 1)

        self._retranslate_widgets()
        self.reload()

    # -- data ------------------------------------------------------------------

    def reload(self) -> None:
        """Read the cards and the Discover list again (after a change anywhere)."""
        focused = self._focused_subscription()
        try:
            cards = [c for c in subscription_cards(self._ctx, self.account_id) if not c.in_discover]
            offers = discover_offers(self._ctx, self.account_id)
            cart: CartView | None = get_cart(self._ctx, self.account_id)
        except DomainError as err:
            log.warning("subscriptions of account %s not shown: %s", self.account_id, err)
            self._load_error = error_text(err)
            cards, offers, cart = [], [], None
        else:
            self._load_error = ""
        self.cart = cart
        self._clear()
        for card in cards:
            widget = SubscriptionCardWidget(card, self.content)
            widget.action_requested.connect(
                lambda code, c=card: self._run_action(c, CardActionCode(code))
            )
            self.cards.append(widget)
        for offer in offers:
            entry = DiscoverEntry(offer, self.content)
            entry.buy_requested.connect(self.open_buy)
            self.discover_entries.append(entry)
        self._columns = 0
        self._relayout()
        self._update_empty_state()
        self._update_cart()
        if focused is not None:
            card_widget = self.card_for(focused)
            if card_widget is not None and card_widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                # the layout shows new children later; a hidden widget cannot take the focus
                card_widget.show()
                card_widget.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def columns(self) -> int:
        """Cards per row right now."""
        return self._columns

    def card_for(self, subscription_id: int) -> SubscriptionCardWidget | None:
        return next((w for w in self.cards if w.card.subscription_id == subscription_id), None)

    def card_named(self, product_code: str) -> SubscriptionCardWidget | None:
        return next((w for w in self.cards if w.card.product_code == product_code), None)

    def _focused_subscription(self) -> int | None:
        widget = self.focusWidget()
        while widget is not None and not isinstance(widget, SubscriptionCardWidget):
            widget = widget.parentWidget()
        return widget.card.subscription_id if widget is not None else None

    def _clear(self) -> None:
        for widget in [*self.cards, *self.discover_entries]:
            widget.hide()
            widget.setParent(None)  # type: ignore[call-overload]
            widget.deleteLater()
        self.cards.clear()
        self.discover_entries.clear()

    # -- layout ----------------------------------------------------------------

    def columns_for(self, width: int) -> int:
        """How many cards fit side by side in ``width`` pixels (1 to 3)."""
        margins = self.content.layout().contentsMargins()
        usable = width - margins.left() - margins.right()
        fit = (usable + GRID_SPACING) // (CARD_MIN_WIDTH + GRID_SPACING)
        return max(1, min(MAX_COLUMNS, fit))

    def _relayout(self) -> None:
        columns = self.columns_for(self.scroll.viewport().width())
        if columns == self._columns:
            return
        self._columns = columns
        grid = self.grid
        while grid.count():
            # the layout item goes too (its widget stays): a kept item would
            # keep its cached size after a font change and squash the card
            shiboken6.delete(grid.takeAt(0))
        for column in range(MAX_COLUMNS):
            grid.setColumnStretch(column, 1 if column < columns else 0)
        row = 0
        for index, widget in enumerate(self.cards):
            grid.addWidget(widget, row + index // columns, index % columns)
        row += -(-len(self.cards) // columns)
        grid.addWidget(self.discover_header, row, 0, 1, columns)
        row += 1
        for index, widget in enumerate(self.discover_entries):
            grid.addWidget(widget, row + index // columns, index % columns)
        # Tab order follows reading order.
        for first, second in itertools.pairwise(self.cards):
            QWidget.setTabOrder(first, second)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.scroll.viewport():
            self._relayout()
        return super().eventFilter(watched, event)

    def _update_empty_state(self) -> None:
        if self._load_error:
            text = self._load_error
        elif not self.cards:
            text = self.tr("This account has no subscriptions yet.")
        else:
            text = ""
        self.empty_label.setText(text)
        self.empty_label.setVisible(bool(text))
        has_discover = bool(self.discover_entries)
        self.discover_header.setVisible(has_discover)

    # -- actions ---------------------------------------------------------------

    def _run_action(self, card: SubscriptionCard, code: CardActionCode) -> None:
        spec = _ACTIONS_BY_CODE[code]
        if not spec.available or spec.handler is None or not card.action(code).available:
            return  # never offered; a stale signal
        getattr(self, spec.handler)(card)

    def open_edit(self, card: SubscriptionCard) -> None:
        """Edit subscription → the checkout wizard on this subscription (articles 001, 004)."""
        from billing_desktop.ui.wizards.checkout import CheckoutWizard

        self._open_wizard(
            lambda: CheckoutWizard(
                self._ctx, self.account_id, subscription_id=card.subscription_id, parent=self
            )
        )

    def open_subscribe(self, card: SubscriptionCard) -> None:
        """Subscribe now (an ended trial) → the checkout wizard on that trial (article 003)."""
        from billing_desktop.ui.wizards.checkout import CheckoutWizard

        self._open_wizard(
            lambda: CheckoutWizard(
                self._ctx, self.account_id, subscription_id=card.subscription_id, parent=self
            )
        )

    def open_buy(self, product_code: str) -> None:
        """Buy / Subscribe again under Discover → the checkout wizard on that product."""
        from billing_desktop.ui.wizards.checkout import CheckoutWizard

        offers = (e.offer for e in self.discover_entries if e.offer.product_code == product_code)
        offer = next(offers, None)
        if offer is None or not offer.can_buy:
            return  # a stale signal
        self._open_wizard(
            lambda: CheckoutWizard(
                self._ctx, self.account_id, product_code=product_code, parent=self
            )
        )

    def open_cart(self) -> None:
        """Review cart → the checkout wizard on the cart."""
        from billing_desktop.ui.wizards.checkout import CheckoutWizard

        if self.cart is None or self.cart.is_empty:
            return
        self._open_wizard(lambda: CheckoutWizard(self._ctx, self.account_id, parent=self))

    def uses_assisted_cancellation(self, card: SubscriptionCard) -> bool:
        """Which cancellation wizard Cancel subscription opens.

        The assisted one for a product the service says is cancelled through
        support (the card's channel; its Cancel action is only available when
        this operator may run the assisted flow) and, for any product, when the
        operator is support staff (issue 5: support runs the assisted flow);
        the online one (article 000) otherwise.
        """
        return (
            card.cancellation_channel is CancellationChannel.SUPPORT
            or self._ctx.operator.role == OperatorRole.SUPPORT
        )

    def open_cancellation(self, card: SubscriptionCard) -> None:
        """Cancel subscription → the online (article 000) or assisted (002) wizard."""
        if self.uses_assisted_cancellation(card):
            from billing_desktop.ui.wizards.assisted import AssistedCancellationWizard

            self._open_wizard(
                lambda: AssistedCancellationWizard(
                    self._ctx, self.account_id, subscription_id=card.subscription_id, parent=self
                )
            )
        else:
            from billing_desktop.ui.wizards.cancellation import CancellationWizard

            self._open_wizard(
                lambda: CancellationWizard(
                    self._ctx, self.account_id, card.subscription_id, parent=self
                )
            )

    def open_reactivate(self, card: SubscriptionCard) -> None:
        """Reactivate → its short confirmation (article 000)."""
        from billing_desktop.ui.wizards.cancellation import ReactivateDialog

        dialog = self._open_wizard(
            lambda: ReactivateDialog(self._ctx, self.account_id, card.subscription_id, parent=self)
        )
        if isinstance(dialog, ReactivateDialog):
            dialog.completed.connect(lambda: self.show_message(dialog.result_text()))

    def _open_wizard(self, make: Callable[[], QDialog]) -> QDialog | None:
        """Build a wizard with ``make``, open it window-modal and follow its contract signals.

        The signals are connected before ``open()``; the caller may connect more
        (they run after these).
        """
        try:
            wizard = make()
        except DomainError as err:  # e.g. the account is gone: say so, show fresh data
            show_service_error(self, err)
            self.reload()
            return None
        self.wizard = wizard
        wizard.completed.connect(self._wizard_completed)  # type: ignore[attr-defined]
        wizard.navigate_requested.connect(self.tab_requested)  # type: ignore[attr-defined]
        wizard.finished.connect(lambda _result: self._wizard_finished(wizard))
        wizard.open()
        return wizard

    def _wizard_completed(self) -> None:
        self.reload()
        self.account_changed.emit()

    def _wizard_finished(self, wizard: QDialog) -> None:
        handed_over = getattr(wizard, "assisted_wizard", None)
        if handed_over is not None:
            # the online wizard handed over to the assisted one: follow that one now
            # (its signals reach this tab through the online wizard's)
            self.wizard = handed_over
            handed_over.finished.connect(lambda _result: self._wizard_finished(handed_over))
            handed_over.finished.connect(wizard.deleteLater)
            return
        if self.wizard is wizard:
            self.wizard = None
        wizard.deleteLater()

    def _update_cart(self) -> None:
        cart = self.cart
        count = len(cart.items) if cart is not None else 0
        self.cart_label.setText(self.tr("Cart: %n item(s)", "", count))
        self.cart_bar.setVisible(count > 0)

    def show_message(self, text: str) -> None:
        """A confirmation above the cards (stays until the next one)."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # -- Qt events -------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self._retranslate_widgets()
        self._update_empty_state()
        self._update_cart()

    def _retranslate_widgets(self) -> None:
        self.discover_title.setText(self.tr("Discover other products"))
        self.discover_hint.setText(self.tr("Products this account has cancelled or never bought."))
        self.review_cart_button.setText(self.tr("Re&view cart"))
