"""The Welcome page, shown once for a brand-new, empty (non-demo) database.

It offers the two sensible first steps: look around in the demo database
(a separate file, so the new database stays clean) or start working in the
empty one. Choosing "start empty" is remembered per database, so the page
does not come back every time an empty database is opened.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.ui.welcome_state import remember_welcome_dismissed, welcome_wanted

__all__ = ["WelcomePage", "remember_welcome_dismissed", "welcome_wanted"]


class _Choice(QFrame):
    """A big button with a sentence under it saying what it does."""

    def __init__(self, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.button = QPushButton(self)
        self.button.setObjectName(name)
        self.button.setMinimumHeight(56)
        self.button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        font = QFont(self.button.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.button.setFont(font)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.description.setMinimumHeight(self.description.fontMetrics().lineSpacing() * 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.button)
        layout.addWidget(self.description)
        layout.addStretch(1)
        # A fixed width lets the wrapped description compute its height reliably
        # and keeps both choices the same size.
        self.setFixedWidth(340)


class WelcomePage(QWidget):
    """First-run page: open the demo database, or start with the empty one."""

    #: "Open the demo database" was clicked.
    demo_requested = Signal()
    #: "Start with an empty database" was clicked.
    empty_requested = Signal()

    def __init__(self, database_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        self._database_name = database_name

        self.title = QLabel(self)
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.8)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.intro.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.location = QLabel(self)
        self.location.setWordWrap(True)
        self.location.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.location.setTextFormat(Qt.TextFormat.RichText)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._demo = _Choice("openDemoButton", self)
        self._empty = _Choice("startEmptyButton", self)
        self.demo_button = self._demo.button
        self.empty_button = self._empty.button
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(self.demo_requested)
        self.empty_button.clicked.connect(self.empty_requested)

        choices = QHBoxLayout()
        choices.setSpacing(24)
        choices.addWidget(self._demo, 1)
        choices.addWidget(self._empty, 1)

        column = QVBoxLayout()
        column.setSpacing(16)
        column.addWidget(self.title)
        column.addWidget(self.intro)
        column.addSpacing(8)
        column.addLayout(choices)
        column.addSpacing(8)
        column.addWidget(self.location)
        content = QWidget(self)
        content.setLayout(column)
        content.setFixedWidth(2 * 340 + 24)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 32, 32, 32)
        outer.addStretch(1)
        outer.addWidget(content, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.setFocusProxy(self.demo_button)
        self.retranslateUi()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.title.setText(self.tr("Welcome to Billing Desktop"))
        self.intro.setText(
            self.tr(
                "Billing Desktop keeps customer accounts, their subscriptions, licences "
                "and invoices. This database is new and has no accounts yet: explore the "
                "application with sample customers first, or start working right away."
            )
        )
        self.location.setText(
            self.tr("Database: {path}").format(
                path=f"<span style='font-family: monospace'>"
                f"{html.escape(self._database_name)}</span>"
            )
        )
        self.demo_button.setText(self.tr("Open the demo database"))
        self._demo.description.setText(
            self.tr(
                "Sample accounts in a separate file, with a simulated clock you can move "
                "forward. This database stays empty."
            )
        )
        self.empty_button.setText(self.tr("Start with an empty database"))
        self._empty.description.setText(
            self.tr("Go to the accounts list and start working in this database.")
        )
