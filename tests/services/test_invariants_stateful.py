"""Random sequences of service calls keep the books consistent (Hypothesis stateful test).

The machine works on a copy of the curated demo database (all 19 accounts,
2026-04-26) and acts, as the local admin on behalf of each account's billing
contact, on three of its accounts: A-100002 (GoToAssist v5, 10 licences, 6
assigned, card on file), A-100003 (expired v5 trial and a running webinar
trial, no payment method) and A-100011 (GoTo Meeting cancellation pending).
Rules: change licences / tier / billing frequency through checkout, subscribe a
trial, cancel online, reactivate, assign and unassign licences, add a card, pay
the balance, dispute an invoice, and move time forward 1–40 days (the renewal
engine's ``advance``, the clock following). Expected refusals
(:class:`DomainError`) are part of the game; :class:`PermissionDenied` never
is (the operator is an admin).

After every step, for every account of the database:

* outstanding balance = Σ over open invoices of (total − credit applied − paid),
  and the account row's ``outstanding_minor`` says the same; a paid invoice has
  nothing left due;
* credit balance = Σ of the account's credit ledger;
* no subscription has more seats assigned than licences;
* every invoice: subtotal = Σ lines, VAT = Σ of each line's VAT rounded
  half-up, total = subtotal + VAT;
* invoice numbers are unique and gap-free per series (and the series counter
  is the next free number);
* no full card number entered in the test is anywhere in the database files;
* statuses agree with the date: cancelled ⇒ ended on or before today,
  cancellation pending ⇒ effective today or later, active ⇒ its period has
  not ended before today, trial ⇒ its trial has not ended before today.
"""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import sqlite3
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from billing_desktop.config import target_from
from billing_desktop.domain.errors import DomainError
from billing_desktop.services import cancellation, cart, checkout, invoices, licences, payments
from billing_desktop.services.cart import CartChange
from billing_desktop.services.checkout import NewCard
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.context import AppContext, local_operator
from billing_desktop.services.demo import load_curated
from billing_desktop.services.errors import PermissionDenied
from billing_desktop.services.renewal import advance
from billing_desktop.store.database import open_database

TODAY = date(2026, 4, 26)
ACCOUNTS = ("A-100002", "A-100003", "A-100011")
#: Luhn-valid test numbers (Visa, Mastercard, Amex): only brand, last four and
#: expiry may be stored — never these digits.
CARDS = ("4111111111111111", "5555555555554444", "378282246310005")
FREQUENCIES = ("monthly", "annual")
REASONS = ("too_expensive", "no_longer_needed", "switching_provider")


def _spaced(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stateful") / "template.sqlite3"
    db = open_database(target_from(str(path)))
    try:
        load_curated(db, TODAY)
        local_operator(db)  # created once, in the template
    finally:
        db.dispose()
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


class BillingMachine(RuleBasedStateMachine):
    def __init__(self, template: Path, path: Path) -> None:
        super().__init__()
        shutil.copyfile(template, path)
        self.path = path
        self.db = open_database(target_from(str(path)))
        self.ctx = AppContext(
            db=self.db, clock=FixedClock(TODAY), operator=local_operator(self.db), is_demo=True
        )
        self.keys = itertools.count(1)
        self.entered_cards: set[str] = set()

    def teardown(self) -> None:
        self.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # ------------------------------------------------------------------ helpers

    @property
    def today(self) -> date:
        return self.ctx.clock.today()

    def rows(self, sql: str, **params: object) -> list[tuple]:
        return self.db.reader.rows(sql, params)

    def _pick(self, sql: str, index: int, **params: object) -> object | None:
        ids = [r[0] for r in self.rows(sql, **params)]
        return ids[index % len(ids)] if ids else None

    def subscription(self, account: str, index: int) -> int | None:
        return self._pick(
            "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id"
            " WHERE a.account_number = :a ORDER BY s.id",
            index,
            a=account,
        )

    def contact(self, account: str, index: int) -> int | None:
        return self._pick(
            "SELECT c.id FROM contacts c JOIN accounts a ON a.id = c.account_id"
            " WHERE a.account_number = :a ORDER BY c.id",
            index,
            a=account,
        )

    def attempt(self, call, *args, **kwargs) -> object | None:
        """Run a service call; business refusals are expected, permission refusals not."""
        try:
            return call(self.ctx, *args, **kwargs)
        except PermissionDenied:
            raise
        except DomainError:
            return None

    def new_card(self, index: int) -> NewCard:
        number = CARDS[index % len(CARDS)]
        self.entered_cards.add(number)
        return NewCard(number=_spaced(number), exp_month=11, exp_year=2031, holder_name="Test")

    def order(self, account: str, changes: list[CartChange], card: int | None) -> None:
        """Checkout: empty the cart, add the changes, place one order."""
        self.attempt(cart.clear_cart, account)
        if self.attempt(cart.add_to_cart, account, changes) is None:
            return
        payment = self.new_card(card) if card is not None else None
        self.attempt(
            checkout.place_order, account, idempotency_key=f"k{next(self.keys)}", payment=payment
        )

    # ------------------------------------------------------------------ rules

    @rule(
        account=st.sampled_from(ACCOUNTS),
        sub=st.integers(0, 3),
        licences=st.integers(1, 14),
        card=st.none() | st.integers(0, 2),
    )
    def change_licences(self, account: str, sub: int, licences: int, card: int | None) -> None:
        sid = self.subscription(account, sub)
        if sid is not None:
            self.order(account, [CartChange.change_licences(sid, licences)], card)

    @rule(account=st.sampled_from(ACCOUNTS), sub=st.integers(0, 3), plan=st.integers(0, 3))
    def change_tier(self, account: str, sub: int, plan: int) -> None:
        sid = self.subscription(account, sub)
        if sid is None:
            return
        code = self._pick(
            "SELECT pl.code FROM plans pl JOIN subscriptions s ON s.product_id = pl.product_id"
            " WHERE s.id = :s ORDER BY pl.rank",
            plan,
            s=sid,
        )
        self.order(account, [CartChange.change_tier(sid, str(code))], None)

    @rule(
        account=st.sampled_from(ACCOUNTS),
        sub=st.integers(0, 3),
        frequency=st.sampled_from(FREQUENCIES),
    )
    def change_frequency(self, account: str, sub: int, frequency: str) -> None:
        sid = self.subscription(account, sub)
        if sid is not None:
            self.order(account, [CartChange.change_frequency(sid, frequency)], None)

    @rule(
        sub=st.integers(0, 3),
        licences=st.none() | st.integers(1, 5),
        card=st.none() | st.integers(0, 2),
    )
    def subscribe_trial(self, sub: int, licences: int | None, card: int | None) -> None:
        sid = self.subscription("A-100003", sub)
        if sid is not None:
            change = CartChange.subscribe(subscription_id=sid, licences=licences)
            self.order("A-100003", [change], card)

    @rule(account=st.sampled_from(ACCOUNTS), sub=st.integers(0, 3), reason=st.sampled_from(REASONS))
    def cancel_online(self, account: str, sub: int, reason: str) -> None:
        sid = self.subscription(account, sub)
        if sid is not None:
            self.attempt(cancellation.cancel_online, sid, reason=reason)

    @rule(account=st.sampled_from(ACCOUNTS), sub=st.integers(0, 3))
    def reactivate(self, account: str, sub: int) -> None:
        sid = self.subscription(account, sub)
        if sid is not None:
            self.attempt(cancellation.reactivate, sid)

    @rule(
        account=st.sampled_from(ACCOUNTS),
        sub=st.integers(0, 3),
        contacts=st.lists(st.integers(0, 7), min_size=1, max_size=4),
        assign=st.booleans(),
    )
    def seats(self, account: str, sub: int, contacts: list[int], assign: bool) -> None:
        sid = self.subscription(account, sub)
        ids = [self.contact(account, i) for i in contacts]
        if sid is not None:
            call = licences.assign_licences if assign else licences.unassign_licences
            self.attempt(call, sid, ids)

    @rule(account=st.sampled_from(ACCOUNTS), card=st.integers(0, 2), default=st.booleans())
    def add_card(self, account: str, card: int, default: bool) -> None:
        entered = self.new_card(card)
        self.attempt(
            payments.add_card, account, number=entered.number, exp_month=entered.exp_month,
            exp_year=entered.exp_year, holder_name="Test Holder", make_default=default,
        )  # fmt: skip

    @rule(account=st.sampled_from(ACCOUNTS), part=st.none() | st.integers(1, 5000))
    def pay_balance(self, account: str, part: int | None) -> None:
        from billing_desktop.domain.money import Money

        currency = self.rows("SELECT currency FROM accounts WHERE account_number = :a", a=account)
        amount = None if part is None else Money.from_minor(part, currency[0][0])
        self.attempt(payments.record_payment, account, amount=amount)

    @rule(account=st.sampled_from(ACCOUNTS), invoice=st.integers(0, 30))
    def dispute(self, account: str, invoice: int) -> None:
        iid = self._pick(
            "SELECT i.id FROM invoices i JOIN accounts a ON a.id = i.account_id"
            " WHERE a.account_number = :a ORDER BY i.issue_date DESC, i.id DESC",
            invoice,
            a=account,
        )
        if iid is not None:
            self.attempt(invoices.dispute_invoice, iid, "The amount looks wrong")

    @rule(days=st.integers(1, 40))
    def time_passes(self, days: int) -> None:
        day = self.today + timedelta(days=days)
        summary = advance(self.ctx, day)
        assert not summary.failures, summary.failures
        self.ctx = dataclasses.replace(self.ctx, clock=FixedClock(day))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def balances_match_open_invoices(self) -> None:
        due: dict[int, int] = defaultdict(int)
        for account_id, status, total, credit, paid in self.rows(
            "SELECT account_id, status, total_minor, credit_applied_minor, paid_minor FROM invoices"
        ):
            if status == "open":
                due[account_id] += total - credit - paid
            elif status == "paid":
                assert total - credit - paid <= 0 or total <= 0, (account_id, total, credit, paid)
        for account_id, number, outstanding in self.rows(
            "SELECT id, account_number, outstanding_minor FROM accounts"
        ):
            assert outstanding == due[account_id], (number, outstanding, due[account_id])

    @invariant()
    def credit_matches_ledger(self) -> None:
        ledger = dict(self.rows("SELECT account_id, SUM(amount_minor) FROM credits GROUP BY 1"))
        for account_id, number, credit in self.rows(
            "SELECT id, account_number, credit_balance_minor FROM accounts"
        ):
            assert credit == ledger.get(account_id, 0), (number, credit, ledger.get(account_id))
            assert credit >= 0, (number, credit)

    @invariant()
    def seats_within_licences(self) -> None:
        over = self.rows(
            "SELECT s.id, s.licence_count, COUNT(l.id) FROM subscriptions s"
            " JOIN licence_assignments l ON l.subscription_id = s.id"
            " GROUP BY s.id HAVING COUNT(l.id) > s.licence_count"
        )
        assert over == [], over

    @invariant()
    def invoice_arithmetic(self) -> None:
        lines: dict[int, list[int]] = defaultdict(list)
        for invoice_id, amount in self.rows("SELECT invoice_id, amount_minor FROM invoice_lines"):
            lines[invoice_id].append(amount)
        for iid, number, subtotal, rate_bp, vat, total in self.rows(
            "SELECT id, number, subtotal_minor, vat_rate_bp, vat_minor, total_minor FROM invoices"
        ):
            amounts = lines[iid]
            line_vat = [
                int((Decimal(a) * rate_bp / 10000).quantize(Decimal(1), ROUND_HALF_UP))
                for a in amounts
            ]
            assert subtotal == sum(amounts), (number, subtotal, amounts)
            assert vat == sum(line_vat), (number, vat, line_vat)
            assert total == subtotal + vat, (number, total, subtotal, vat)

    @invariant()
    def invoice_numbers_gap_free(self) -> None:
        numbers = [n for (n,) in self.rows("SELECT number FROM invoices")]
        assert len(numbers) == len(set(numbers))
        series: dict[str, list[int]] = defaultdict(list)
        for number in numbers:
            prefix, _, seq = number.rpartition("-")
            series[prefix].append(int(seq))
        counters = dict(self.rows("SELECT prefix, next_number FROM invoice_series"))
        for prefix, seqs in series.items():
            assert sorted(seqs) == list(range(1, len(seqs) + 1)), (prefix, sorted(seqs))
            assert counters.get(prefix) == len(seqs) + 1, (prefix, counters.get(prefix))

    @invariant()
    def no_card_number_stored(self) -> None:
        if not self.entered_cards:
            return
        blob = b"".join(p.read_bytes() for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        for number in self.entered_cards:
            for form in (number, _spaced(number)):
                assert form.encode() not in blob, f"card {number[-4:]} stored in full"
                assert form.encode("utf-16-le") not in blob

    @invariant()
    def statuses_agree_with_the_date(self) -> None:
        today = self.today.isoformat()
        for sid, status, ended, effective, period_end, trial_end in self.rows(
            "SELECT id, status, ended_on, cancellation_effective, period_end, trial_end"
            " FROM subscriptions"
        ):
            state = (sid, status, ended, effective, period_end, trial_end, today)
            if status == "cancelled":
                assert ended is not None and str(ended) <= today, state
            if status == "cancellation_pending":
                assert effective is not None and str(effective) >= today, state
            if status == "active":
                assert period_end is None or str(period_end) >= today, state
            if status == "trial":
                assert trial_end is None or str(trial_end) >= today, state


def test_random_service_sequences_keep_the_books(template: Path, tmp_path: Path) -> None:
    counter = itertools.count()

    def machine() -> BillingMachine:
        return BillingMachine(template, tmp_path / f"example-{next(counter)}.sqlite3")

    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
