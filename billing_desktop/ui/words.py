"""Translated words for the codes the services return (roles, statuses, kinds…).

Each table maps a code to an English word marked with ``QT_TRANSLATE_NOOP``;
:func:`translated_word` translates it in the table's context and falls back to
the code itself for values the table does not know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QCoreApplication, QLocale

from billing_desktop.domain.text import QT_TRANSLATE_NOOP


def translated_word(context: str, table: Mapping[str, str], code: str) -> str:
    """The word for ``code`` from ``table`` in the UI language (the code when unknown)."""
    source = table.get(code)
    return QCoreApplication.translate(context, source) if source else code


#: Contact roles in the order they are listed, most powerful first.
ROLE_ORDER = ("super_admin", "billing_admin", "product_admin", "user")
ROLE_WORDS = {
    "super_admin": QT_TRANSLATE_NOOP("ContactRole", "Super admin"),
    "billing_admin": QT_TRANSLATE_NOOP("ContactRole", "Billing admin"),
    "product_admin": QT_TRANSLATE_NOOP("ContactRole", "Product admin"),
    "user": QT_TRANSLATE_NOOP("ContactRole", "User"),
}


def role_word(role: str) -> str:
    """The translated word for a contact role ("billing_admin" → "Billing admin")."""
    return translated_word("ContactRole", ROLE_WORDS, role)


def roles_text(roles: Iterable[str]) -> str:
    """The roles as a list in the UI language, most powerful first."""
    held = list(roles)
    known = [r for r in ROLE_ORDER if r in held]
    others = sorted(r for r in held if r not in ROLE_WORDS)
    return QLocale().createSeparatedList([role_word(r) for r in (*known, *others)])


def catalog_text(text: str) -> str:
    """A catalog description or add-on name in the UI language (domain/catalog_texts.py)."""
    return QCoreApplication.translate("Catalog", text) if text else text
