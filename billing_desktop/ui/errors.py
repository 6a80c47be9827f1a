"""One consistent message box for every error a service reports (DESIGN: typed errors).

Services raise :class:`~billing_desktop.domain.errors.DomainError` subclasses
whose English ``message`` is marked for translation in the "ServiceError" or
"DomainError" context; here it is translated for the UI language and its
values (money, dates) are formatted for the UI locale.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QMessageBox, QWidget

from billing_desktop.domain.errors import DomainError

#: contexts the lower layers mark their messages with, most specific first
_CONTEXTS = ("ServiceError", "DomainError", "DatabaseError")


def translate_message(message: str) -> str:
    """``message`` in the UI language, from whichever context marked it."""
    for context in _CONTEXTS:
        translated = QCoreApplication.translate(context, message)
        if translated != message:
            return translated
    return message


def error_text(err: DomainError) -> str:
    """The translated sentence for ``err`` with its values formatted for the UI locale."""
    from billing_desktop.documents.formatting import format_value

    template = translate_message(err.message)
    locale = QLocale()
    # whole numbers stay numbers so a template may format them ("{month:02d}");
    # words the service marked for translation ("Account", "dispute note") are
    # translated too, names and numbers stay as they are
    values = {
        key: value
        if isinstance(value, int) and not isinstance(value, bool)
        else translate_message(value)
        if isinstance(value, str)
        else format_value(value, locale)
        for key, value in err.params.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def show_service_error(parent: QWidget | None, err: DomainError) -> None:
    """Tell the user why the action was refused; nothing was changed."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(QCoreApplication.translate("App", "Billing Desktop"))
    box.setText(error_text(err))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()
