"""The guided walkthroughs: one per seed article, in our own words (issue 7 item 3).

A :class:`Walkthrough` is a title, a short story, the numbered :class:`Step`
list a trainer follows on the real screens, and :meth:`Walkthrough.prepare`,
which opens the curated demo account that tells the story
(``resources/demo/curated.json``: the account whose scenario starts with
"Article NNN") on the right tab.

Each step says, as data, what it waits for — a UI event the
:class:`~billing_desktop.ui.guide.tracker.WalkthroughTracker` watches for:

* :class:`TabShown` — the walkthrough's account is shown on a tab (a *state*:
  it counts as soon as it holds while the step is current);
* :class:`MenuOpened` — the options (⋮) menu of the product's card opened;
* :class:`WizardPageShown` — a wizard (by objectName) shows a page (by objectName);
* :class:`WizardCompleted` — the wizard's ``completed`` signal (order placed,
  cancellation confirmed);
* :class:`WizardClosed` — the wizard was closed;
* :class:`CardStatus` — the product's card shows a status, no dialog over it
  (a state).

and optionally which widget it is about (:attr:`Step.target`, an objectName
path the Guide's "Show me" outlines with an arrow; see
:func:`~billing_desktop.ui.guide.tracker.resolve_target`).

Texts are English sources marked for the "Walkthroughs" context, whole
sentences with ``{account}``, ``{company}`` and ``{product}`` filled in after
translation. Nothing here runs at import time beyond building these tables.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from billing_desktop.config import resources_dir

if TYPE_CHECKING:
    from billing_desktop.ui.main_window import MainWindow

__all__ = [
    "WALKTHROUGHS",
    "CardStatus",
    "Condition",
    "MenuOpened",
    "PrepareResult",
    "Step",
    "TabShown",
    "Walkthrough",
    "WizardClosed",
    "WizardCompleted",
    "WizardPageShown",
    "walkthrough",
]

log = logging.getLogger("billing_desktop.ui")

CONTEXT = "Walkthroughs"


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class TabShown:
    """The walkthrough's account is shown on the tab ``tab`` ("subscriptions")."""

    tab: str


@dataclass(frozen=True, slots=True)
class MenuOpened:
    """The options menu of the card of ``product`` (catalog code; ``None``: the
    walkthrough's product) opened."""

    product: str | None = None


@dataclass(frozen=True, slots=True)
class WizardPageShown:
    """The wizard named ``wizard`` shows its page named ``page`` (objectNames)."""

    wizard: str
    page: str


@dataclass(frozen=True, slots=True)
class WizardCompleted:
    """The wizard named ``wizard`` emitted ``completed`` (its final call succeeded)."""

    wizard: str


@dataclass(frozen=True, slots=True)
class WizardClosed:
    """The wizard named ``wizard`` was closed (any button)."""

    wizard: str


@dataclass(frozen=True, slots=True)
class CardStatus:
    """The card of ``product`` (``None``: the walkthrough's product) shows ``status``
    (a ``SubscriptionStatus`` value) and no dialog is open over it."""

    status: str
    product: str | None = None


Condition = TabShown | MenuOpened | WizardPageShown | WizardCompleted | WizardClosed | CardStatus

#: conditions that are states: they count when they already hold as the step becomes current
STATE_CONDITIONS = (TabShown, CardStatus)


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True, slots=True)
class Step:
    #: the English source sentence (context "Walkthroughs") with {placeholders}
    text: str
    done_when: Condition
    #: what "Show me" points at: an objectName path, alternatives separated by "|"
    #: (the first one on screen wins); ``{product}`` is the walkthrough's product
    target: str | None = None


@dataclass(frozen=True, slots=True)
class PrepareResult:
    """What :meth:`Walkthrough.prepare` did: the account opened, and why the scene
    cannot be played as told, if it cannot (:meth:`warning`)."""

    walkthrough: Walkthrough
    account_id: int
    account_number: str
    #: the warning's English source ("" when the scene is ready)
    problem: str = ""
    #: what the service said: the card's reason, or the error reading the cards
    reason: object = None

    def warning(self) -> str:
        """The warning in the UI language now ("" when the scene is ready)."""
        from billing_desktop.ui.wizards.common import message_text

        if not self.problem and self.reason is None:
            return ""
        parts = [fill(translated(self.problem), self.walkthrough.values())] if self.problem else []
        if self.reason is not None:
            parts.append(message_text(self.reason))  # type: ignore[arg-type]
        return " ".join(parts)


class _KeepMissing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its placeholders filled; a translator's wrong placeholder stays as written."""
    try:
        return text.format_map(_KeepMissing(values))
    except (IndexError, ValueError):
        log.warning("translated text with bad placeholders: %r", text)
        return text


def translated(source: str) -> str:
    """A text of this module (a "Walkthroughs" source) in the UI language."""
    return QCoreApplication.translate("Walkthroughs", source)


_NOT_OPENED = QT_TRANSLATE_NOOP(
    "Walkthroughs", "{account} was not opened: the account shown has unsaved changes."
)
_NOT_READY = QT_TRANSLATE_NOOP(
    "Walkthroughs",
    "{account} no longer shows this scene. Reset the demo database to play it again.",
)


@cache
def _curated() -> dict:
    with (resources_dir() / "demo" / "curated.json").open(encoding="utf-8") as f:
        return json.load(f)


@cache
def _product_names() -> dict[str, str]:
    with (resources_dir() / "catalog.json").open(encoding="utf-8") as f:
        return {p["code"]: p["name"] for p in json.load(f)["products"]}


@dataclass(frozen=True, slots=True)
class Walkthrough:
    """One seed article's flow on one curated demo account."""

    key: str
    #: the seed article ("000"); the curated account whose scenario starts
    #: with "Article 000" tells the story
    article: str
    title: str
    summary: str
    outcome: str
    #: the catalog code of the product the story is about
    product: str
    #: the card action the scene needs ("cancel", "edit", "subscribe"): when the
    #: account's card no longer offers it, Prepare says so
    needs: str
    steps: tuple[Step, ...]
    #: the account page's tab Prepare opens
    tab: str = "subscriptions"

    # -- the curated account ---------------------------------------------------

    def account(self) -> dict:
        """The curated account (``curated.json``) that illustrates the article."""
        prefix = f"Article {self.article}"
        for account in _curated()["accounts"]:
            if account.get("scenario", "").startswith(prefix):
                return account
        raise LookupError(f"no curated account illustrates article {self.article}")

    @property
    def account_number(self) -> str:
        return self.account()["account_id"]

    def values(self) -> dict[str, str]:
        """The placeholders of every text: {account}, {company}, {product}."""
        account = self.account()
        return {
            "account": account["account_id"],
            "company": account["company"],
            "product": _product_names().get(self.product, self.product),
        }

    # -- texts in the UI language ----------------------------------------------

    def title_text(self) -> str:
        return fill(translated(self.title), self.values())

    def summary_text(self) -> str:
        return fill(translated(self.summary), self.values())

    def outcome_text(self) -> str:
        return fill(translated(self.outcome), self.values())

    def step_text(self, index: int) -> str:
        return fill(translated(self.steps[index].text), self.values())

    def target(self, index: int) -> str | None:
        target = self.steps[index].target
        return target.replace("{product}", self.product) if target else None

    # -- prepare ---------------------------------------------------------------

    def prepare(self, window: MainWindow) -> PrepareResult:
        """Open the curated account on :attr:`tab` in ``window``.

        Raises the service's ``DomainError`` when the account cannot be read
        (not a curated demo database). The result's ``warning()`` says when the
        account no longer shows the scene: the card of :attr:`product` does not
        offer :attr:`needs` now (the walkthrough was already played; reset the
        demo database to play it again).
        """
        from billing_desktop.domain.errors import DomainError
        from billing_desktop.services.accounts import account_overview
        from billing_desktop.services.subscriptions_view import (
            CardActionCode,
            subscription_cards,
        )

        number = self.account_number
        overview = account_overview(window.ctx, number)
        window.open_account(overview.id)
        page = window.account_page
        if page is None or page.account_id != overview.id:
            # the account shown had unsaved edits and the user stayed on it
            return PrepareResult(self, overview.id, number, _NOT_OPENED)
        page.show_tab(self.tab)
        try:
            cards = subscription_cards(window.ctx, overview.id)
        except DomainError as err:
            return PrepareResult(self, overview.id, number, reason=err)
        card = next((c for c in cards if c.product_code == self.product), None)
        action = card.action(CardActionCode(self.needs)) if card is not None else None
        if action is None or not action.available:
            reason = action.reason if action is not None else None
            return PrepareResult(self, overview.id, number, _NOT_READY, reason)
        return PrepareResult(self, overview.id, number)


# --------------------------------------------------------------------------- the five


_TAB = "accountPage/accountTabs/@tab:subscriptions"
_OPTIONS = "accountPage/subscriptionCard[{product}]/optionsButton"

_OPEN_SUBSCRIPTIONS = Step(
    QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "Open {company} ({account}) on its Subscriptions tab: one card per product, as on "
        "the Subscriptions page of the Billing Center.",
    ),
    TabShown("subscriptions"),
    _TAB,
)
_OPEN_OPTIONS = Step(
    QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "Click the options icon (⋮) in the top-right corner of the {product} card.",
    ),
    MenuOpened(),
    _OPTIONS,
)

CANCEL_ONLINE = Walkthrough(
    key="cancel_online",
    article="000",
    title=QT_TRANSLATE_NOOP("Walkthroughs", "Cancel a subscription online"),
    summary=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "Help article 000: the billing contact of {company} ({account}) stops the automatic "
        "renewal of {product}.",
    ),
    outcome=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "The card now says Cancellation pending. Until the plan expires, Reactivate in the "
        "options menu keeps it. A free trial without billing information needs none of this: "
        "it simply expires.",
    ),
    product="gotoassist_rs_v4",
    needs="cancel",
    steps=(
        _OPEN_SUBSCRIPTIONS,
        _OPEN_OPTIONS,
        Step(
            QT_TRANSLATE_NOOP("Walkthroughs", "Choose Cancel subscription."),
            WizardPageShown("cancellationWizard", "cancellationConfirmPage"),
            _OPTIONS,
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Go through the confirmation with the customer: the plan stays active until "
                "the end of the paid period and is then not renewed. Choose who asks and why, "
                "then click Yes, cancel.",
            ),
            WizardCompleted("cancellationWizard"),
            "cancellationWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "The result shows the expiry date and the confirmation email sent to the "
                "billing contact. Click Close.",
            ),
            CardStatus("cancellation_pending"),
            "cancellationWizard/@finish",
        ),
    ),
)

REMOVE_LICENCES = Walkthrough(
    key="remove_licences",
    article="001",
    title=QT_TRANSLATE_NOOP("Walkthroughs", "Remove user licences"),
    summary=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "Help article 001: {company} ({account}) pays for more {product} licences than it "
        "needs and removes some.",
    ),
    outcome=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "The change took effect at once: the unused days of the removed licences became a "
        "credit on the account, and the billing date moved to today.",
    ),
    product="gotoassist_rs_v5",
    needs="edit",
    steps=(
        _OPEN_SUBSCRIPTIONS,
        _OPEN_OPTIONS,
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs", "Choose Edit subscription: the checkout opens on the current plan."
            ),
            WizardPageShown("checkoutWizard", "planPage"),
            _OPTIONS,
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Lower the number of licences (not below those assigned to users) and click "
                "Add to cart.",
            ),
            WizardPageShown("checkoutWizard", "cartPage"),
            "checkoutWizard/licencesSpin",
        ),
        Step(
            QT_TRANSLATE_NOOP("Walkthroughs", "The cart shows the change. Click Checkout."),
            WizardPageShown("checkoutWizard", "reviewPage"),
            "checkoutWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "On Complete transaction, check the billing period (it starts today), the "
                "licences, the plan price, the credit for the unused days and the total, then "
                "click Place order.",
            ),
            WizardCompleted("checkoutWizard"),
            "checkoutWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "The result shows the new billing date and the confirmation email. Click Close.",
            ),
            WizardClosed("checkoutWizard"),
            "checkoutWizard/@finish",
        ),
    ),
)

ASSISTED_CANCELLATION = Walkthrough(
    key="assisted_cancellation",
    article="002",
    title=QT_TRANSLATE_NOOP("Walkthroughs", "Cancel through support"),
    summary=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "Help article 002: {product} is cancelled only through support. A billing admin of "
        "{company} ({account}) calls to cancel it.",
    ),
    outcome=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "The card says Cancellation pending: {product} stays active, and billed, until the "
        "agreement ends, and then moves to Discover other products.",
    ),
    product="logmein_resolve",
    needs="cancel",
    steps=(
        _OPEN_SUBSCRIPTIONS,
        _OPEN_OPTIONS,
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Choose Cancel subscription: {product} cannot be cancelled online, so the "
                "assisted cancellation opens.",
            ),
            WizardPageShown("assistedCancellationWizard", "verifyPage"),
            _OPTIONS,
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Verify the caller: enter the account ID, the billing admin's email, the last "
                "four digits of the payment card and its billing address as the caller gives "
                "them, click Verify, then Next.",
            ),
            WizardPageShown("assistedCancellationWizard", "requesterPage"),
            "assistedCancellationWizard/verifyButton",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Choose who is asking: only a super admin or a billing admin may ask to cancel. "
                "Click Next.",
            ),
            WizardPageShown("assistedCancellationWizard", "checklistPage"),
            "assistedCancellationWizard/requesterCombo",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Before you cancel: pay the open balance, unassign the licences and export the "
                "account's data (or confirm that the caller has a backup) until every item is "
                "ticked, then click Next.",
            ),
            WizardPageShown("assistedCancellationWizard", "selectionPage"),
            "assistedCancellationWizard/payBalanceButton"
            "|assistedCancellationWizard/unassignAllButton"
            "|assistedCancellationWizard/exportButton"
            "|assistedCancellationWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP("Walkthroughs", "Check what will be cancelled and click Next."),
            WizardPageShown("assistedCancellationWizard", "stillBilledPage"),
            "assistedCancellationWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Tell the caller what is still billed: the agreement stays active, and is "
                "billed, until its end date, without a refund. Click Next.",
            ),
            WizardPageShown("assistedCancellationWizard", "confirmPage"),
            "assistedCancellationWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP("Walkthroughs", "Choose the reason and click Cancel subscriptions."),
            WizardCompleted("assistedCancellationWizard"),
            "assistedCancellationWizard/reasonCombo",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "The result lists what was cancelled, the invoice for the rest of the agreement "
                "and the confirmation email. Click Close.",
            ),
            CardStatus("cancellation_pending"),
            "assistedCancellationWizard/@finish",
        ),
    ),
)

SUBSCRIBE_AFTER_TRIAL = Walkthrough(
    key="subscribe_after_trial",
    article="003",
    title=QT_TRANSLATE_NOOP("Walkthroughs", "Subscribe when the free trial ends"),
    summary=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "Help article 003: the {product} trial of {company} ({account}) ended without a "
        "charge. The billing contact turns it into a paid plan.",
    ),
    outcome=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "The plan is active from today and the Users & licences tab is open to assign the "
        "seats. A trial that nobody converts simply expires, without a charge.",
    ),
    product="gotoassist_rs_v5",
    needs="subscribe",
    steps=(
        _OPEN_SUBSCRIPTIONS,
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "The free trial of {product} has ended: its card says Trial ended and offers "
                "Subscribe now. Click Subscribe now.",
            ),
            WizardPageShown("checkoutWizard", "planPage"),
            "accountPage/subscriptionCard[{product}]/subscribeButton",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Change the plan tier, the number of licences or the billing frequency if you "
                "like, then click Checkout.",
            ),
            WizardPageShown("checkoutWizard", "reviewPage"),
            "checkoutWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Review the order on Complete transaction (Edit order goes back to change it) "
                "and click Checkout.",
            ),
            WizardPageShown("checkoutWizard", "paymentPage"),
            "checkoutWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Enter the payment card and the account's VAT number, then click Place order.",
            ),
            WizardCompleted("checkoutWizard"),
            "checkoutWizard/cardFields",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "The result confirms the purchase. Click Assign licences now to give the new "
                "seats to users.",
            ),
            TabShown("licences"),
            "checkoutWizard/assignLicencesButton",
        ),
    ),
)

CHANGE_PLAN = Walkthrough(
    key="change_plan",
    article="004",
    title=QT_TRANSLATE_NOOP("Walkthroughs", "Change the plan"),
    summary=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "Help article 004: {company} ({account}) upgrades {product} to a higher tier, more "
        "licences or another billing period.",
    ),
    outcome=QT_TRANSLATE_NOOP(
        "Walkthroughs",
        "The new plan applies from today and the rest of the old period was prorated. A lower "
        "tier is not offered online: the wizard says to contact Customer Care.",
    ),
    product="gotoassist_rs_v4",
    needs="edit",
    steps=(
        _OPEN_SUBSCRIPTIONS,
        _OPEN_OPTIONS,
        Step(
            QT_TRANSLATE_NOOP("Walkthroughs", "Choose Edit subscription."),
            WizardPageShown("checkoutWizard", "planPage"),
            _OPTIONS,
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Choose a higher plan tier, more licences or another billing frequency, check "
                "the order summary at the bottom of the page and click Checkout.",
            ),
            WizardPageShown("checkoutWizard", "reviewPage"),
            "checkoutWizard/tierBox",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs",
                "Check the billing period (it starts today), the licences, the prices and the "
                "total. Click Checkout, confirm the payment method if the new plan costs more, "
                "and click Place order.",
            ),
            WizardCompleted("checkoutWizard"),
            "checkoutWizard/@next",
        ),
        Step(
            QT_TRANSLATE_NOOP(
                "Walkthroughs", "The result shows the new plan and billing date. Click Close."
            ),
            WizardClosed("checkoutWizard"),
            "checkoutWizard/@finish",
        ),
    ),
)

#: The walkthroughs in the order of the seed articles.
WALKTHROUGHS: tuple[Walkthrough, ...] = (
    CANCEL_ONLINE,
    REMOVE_LICENCES,
    ASSISTED_CANCELLATION,
    SUBSCRIBE_AFTER_TRIAL,
    CHANGE_PLAN,
)


def walkthrough(key: str) -> Walkthrough:
    """The walkthrough ``key`` ("cancel_online", …); ``KeyError`` when there is none."""
    for item in WALKTHROUGHS:
        if item.key == key:
            return item
    raise KeyError(key)
