"""Switching the language at run time with the shipped translations (issue 6).

View ▸ Language retranslates every open window at once — the main window, the
account page and an open wizard — and the wizard keeps what the user entered.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication

from billing_desktop import i18n
from billing_desktop.ui import preferences
from billing_desktop.ui.main_window import MainWindow
from billing_desktop.ui.wizards.cancellation import CancellationWizard

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = "gotoassist_rs_v4"


def shipped(language: str, context: str, source: str) -> str:
    tree = ET.parse(ROOT / "translations" / f"billing_desktop_{language}.ts")
    for ctx in tree.getroot().iter("context"):
        if ctx.findtext("name") == context:
            for message in ctx.iter("message"):
                if message.findtext("source") == source:
                    return message.findtext("translation") or ""
    raise AssertionError(f"{source!r} ({context}) is not in the {language} translation")


@pytest.fixture
def shipped_languages(shipped_qm, monkeypatch):
    """The application loads the compiled shipped translations; English again afterwards."""
    monkeypatch.setattr(i18n, "translations_dir", lambda: shipped_qm)
    yield shipped_qm
    app = QApplication.instance()
    i18n.uninstall(app)
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))


@pytest.fixture
def window(qtbot, demo_ctx) -> MainWindow:
    win = MainWindow(demo_ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def _account_id(ctx, number: str) -> int:
    return int(
        ctx.db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})
    )


def test_language_menu_retranslates_an_open_wizard_and_keeps_its_input(
    qtbot, window, demo_ctx, shipped_languages
) -> None:
    window.open_account(_account_id(demo_ctx, "A-100001"))
    page = window.account_page
    page.show_tab("subscriptions")
    tab = page.tab("subscriptions")
    sub_id = int(
        demo_ctx.db.reader.scalar(
            "SELECT s.id FROM subscriptions s JOIN products p ON p.id = s.product_id "
            "WHERE s.account_id = :a AND p.code = :p",
            {"a": _account_id(demo_ctx, "A-100001"), "p": PRODUCT},
        )
    )
    tab.open_cancellation(tab.card_for(sub_id).card)
    qtbot.waitUntil(lambda: isinstance(tab.wizard, CancellationWizard) and tab.wizard.isVisible())
    wizard = tab.wizard
    confirm = wizard.confirm_page
    english_title = confirm.title()
    commit = wizard.WizardButton.CommitButton
    english_button = wizard.buttonText(commit)
    assert english_button == "&Yes, cancel"
    confirm.reason_combo.setCurrentIndex(confirm.reason_combo.findData("too_expensive"))
    qtbot.keyClicks(confirm.details_edit, "Budget 2026 tagliato")

    # View ▸ Language ▸ Italiano
    window.language_actions["it"].trigger()
    # Qt posts LanguageChange to every widget; it arrives with the next events
    qtbot.waitUntil(lambda: confirm.title() != english_title)

    assert preferences.saved_language() == "it"
    assert window.language_actions["it"].isChecked()
    # the main window, the account page and the wizard all speak Italian now
    nav = window.navigation.item(0).text()
    assert nav == shipped("it", "MainWindow", "Accounts")
    assert wizard.buttonText(commit) == shipped("it", "CancellationWizard", "&Yes, cancel")
    assert wizard.buttonText(commit).replace("&", "") == "Sì, annulla"  # the article's words
    assert confirm.title() != english_title
    assert window.file_menu.title() == shipped("it", "MainWindow", "&File")
    # what the user entered stayed
    assert confirm.reason_combo.currentData() == "too_expensive"
    assert confirm.details_edit.toPlainText() == "Budget 2026 tagliato"

    # and back to English: the same texts as before
    window.language_actions["en"].trigger()
    qtbot.waitUntil(lambda: confirm.title() == english_title)
    assert confirm.title() == english_title
    assert wizard.buttonText(commit) == english_button
    assert confirm.details_edit.toPlainText() == "Budget 2026 tagliato"
    wizard.reject()


def test_pseudo_locale_stretches_and_brackets_every_text(qtbot, window) -> None:
    app = QApplication.instance()
    english = window.navigation.item(0).text()
    try:
        i18n.install(app, i18n.PSEUDO)
        qtbot.waitUntil(lambda: window.navigation.item(0).text().startswith("["))
        text = window.navigation.item(0).text()
        assert text.startswith("[") and text.endswith("]")
        assert len(text) >= len(english) * 1.4
        assert window.view_menu.title().count("&") == 1  # the mnemonic survives
    finally:
        i18n.uninstall(app)
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    qtbot.waitUntil(lambda: window.navigation.item(0).text() == english)


def test_pseudo_text_keeps_placeholders_tags_and_mnemonics() -> None:
    text = i18n.pseudo_text("<b>&Place order</b> for {company}: %n licence(s)")
    assert text.startswith("[<b>&P") and text.endswith("~]")
    assert "{company}" in text and "%n" in text and "</b>" in text
