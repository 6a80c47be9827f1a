"""Golden rows: every row a sequence of orders writes, column by column.

The sequence covers every kind of order on the curated demo accounts (clock
fixed on 2026-04-26): fewer and more licences, a tier change, a frequency
change, an add-on (alone, the same day as another order of the same
subscription), subscribing from an expired trial and a running trial in one
order with a new card and a VAT number entered at checkout, a product bought
again (a new subscription with an add-on), a downgrade by support, corporate
orders invoiced on terms (with and without a PO), reverse charge, Irish VAT,
account credit applied and created, a bank account added, an existing method
chosen, a back-office order for a named contact, a replayed order token
(writes nothing) and a token reused by another account (refused, writes
nothing).

``order_rows_golden.json`` holds what the sequence wrote — per table the
inserted rows, the updated rows (whole, after) and the deleted rows' ids —
recorded from the original ORM implementation of ``place_order`` (ids,
versions and timestamps included: the clock is fixed). The test
fails if any column of any written row changes, appears or disappears. After
an intended change of what orders write, regenerate it with
``BILLING_DESKTOP_REGENERATE_GOLDEN=1 pytest tests/services/test_order_rows.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from helpers import table_names

from billing_desktop.services.cart import CartChange, add_to_cart
from billing_desktop.services.checkout import (
    ExistingMethod,
    NewBankAccount,
    NewCard,
    place_order,
)
from billing_desktop.services.errors import ValidationError
from billing_desktop.store import bulk

GOLDEN = Path(__file__).with_name("order_rows_golden.json")
TODAY = date(2026, 4, 26)
TEST_CARD = "5555 5555 5555 4444"
TEST_IBAN = "DE89 3704 0044 0532 0130 00"


def _tables(db) -> list[str]:
    return table_names(db)


def _dump(db) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of every table, by primary key, as column → value."""
    from sqlalchemy import inspect

    inspector = inspect(db.engine)
    out: dict[str, dict[Any, dict[str, Any]]] = {}
    for table in _tables(db):
        columns = [column["name"] for column in inspector.get_columns(table)]
        keys = inspector.get_pk_constraint(table)["constrained_columns"]
        rows = {}
        for values in db.reader.rows(f'SELECT * FROM "{table}"'):
            row = dict(zip(columns, values, strict=True))
            rows[tuple(row[k] for k in keys) if len(keys) != 1 else row[keys[0]]] = row
        out[table] = rows
    return out


def _diff(before: dict, after: dict) -> dict[str, dict[str, list]]:
    """Per table: rows inserted, rows updated (whole, after) and keys of rows deleted."""
    out: dict[str, dict[str, list]] = {}
    for table in sorted(after):
        old, new = before.get(table, {}), after[table]
        inserted = [new[k] for k in sorted(new.keys() - old.keys(), key=repr)]
        updated = [new[k] for k in sorted(new.keys() & old.keys(), key=repr) if new[k] != old[k]]
        deleted = sorted((k for k in old.keys() - new.keys()), key=repr)
        if inserted or updated or deleted:
            out[table] = {"inserted": inserted, "updated": updated, "deleted": deleted}
    return json.loads(json.dumps(out, sort_keys=True, default=list))


def _sub(db, account: str, product: str, status: str | None = None) -> int:
    sql = (
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "JOIN products p ON p.id = s.product_id WHERE a.account_number = :a AND p.code = :p"
    )
    if status:
        sql += " AND s.status = :s"
    return db.reader.scalar(sql + " ORDER BY s.id", {"a": account, "p": product, "s": status})


def _contact(db, email: str) -> int:
    return db.reader.scalar("SELECT id FROM contacts WHERE email = :e", {"e": email})


def _method(db, account: str) -> int:
    return db.reader.scalar(
        "SELECT m.id FROM payment_methods m JOIN accounts a ON a.id = m.account_id"
        " WHERE a.account_number = :a ORDER BY m.id",
        {"a": account},
    )


def _orders(ctx, as_role, db) -> list[str]:
    """Place the sequence; the order numbers placed."""
    placed: list[str] = []

    def order(c, account: str, changes, key: str, **kwargs: Any) -> None:
        behalf = kwargs.get("on_behalf_of_customer", True)
        add_to_cart(c, account, changes, on_behalf_of_customer=behalf,
                    requested_by=kwargs.get("requested_by"))  # fmt: skip
        placed.append(place_order(c, account, idempotency_key=key, **kwargs).order_number)

    # article 001: 10 → 7 licences (−32.00 becomes credit), then 7 → 9 (the credit is used)
    v5 = _sub(db, "A-100002", "gotoassist_rs_v5")
    order(ctx, "A-100002", CartChange.change_licences(v5, 7), "g-001-down")
    order(ctx, "A-100002", CartChange.change_licences(v5, 9), "g-001-up")
    # article 004: tier, then frequency, then an add-on the same day (no column changes)
    v4 = _sub(db, "A-100007", "gotoassist_rs_v4")
    order(ctx, "A-100007", CartChange.change_tier(v4, "premium"), "g-004-tier",
          payment=ExistingMethod(_method(db, "A-100007")))  # fmt: skip
    order(ctx, "A-100007", CartChange.change_frequency(v4, "annual"), "g-004-freq")
    order(ctx, "A-100007", CartChange.add_addon(v4, "camera_share"), "g-004-addon")
    # article 003: the expired trial and the running webinar trial in one order,
    # a new card and a VAT number entered at checkout (reverse charge)
    expired = _sub(db, "A-100003", "gotoassist_rs_v5")
    order(
        ctx, "A-100003",
        [CartChange.subscribe(subscription_id=expired, licences=3),
         CartChange.subscribe(product="goto_webinar", plan="pro")],
        "g-003", payment=NewCard(TEST_CARD, 12, 2030, holder_name="Antonio Greco"),
        vat_number="IT 07664550212",
    )  # fmt: skip
    # bought again from Discover other products: a new subscription with an add-on
    order(
        ctx, "A-100018",
        [CartChange.subscribe(product="goto_meeting", plan="business", licences=2),
         CartChange.add_addon(product="goto_meeting", addon="conference_room_connector")],
        "g-again",
    )  # fmt: skip
    # downgrade by support
    support = as_role("support")
    order(support, "A-100008", CartChange.change_tier(_sub(db, "A-100008", "gotoassist_rs_v4"),
          "premium"), "g-down", on_behalf_of_customer=False)  # fmt: skip
    # corporate, invoiced on terms: with a PO (A-100015), without (A-100016)
    chiara = as_role("representative", "chiara.lombardi@billing-desk.example")
    order(chiara, "A-100015", CartChange.change_licences(_sub(db, "A-100015", "goto_meeting"),
          160), "g-corp-po", on_behalf_of_customer=False)  # fmt: skip
    annelies = as_role("representative", "annelies.verhoeven@billing-desk.example")
    order(annelies, "A-100016", CartChange.change_licences(_sub(db, "A-100016", "goto_webinar"),
          4), "g-corp", on_behalf_of_customer=False)  # fmt: skip
    # reverse charge (DE, annual), credit applied (GBP), annual → monthly (USD), Irish VAT
    order(ctx, "A-100010", CartChange.change_licences(_sub(db, "A-100010", "goto_meeting"), 20),
          "g-de")  # fmt: skip
    order(ctx, "A-100012", CartChange.change_licences(
        _sub(db, "A-100012", "gotoassist_rs_v5"), 6), "g-gbp")  # fmt: skip
    order(ctx, "A-100013", CartChange.change_frequency(
        _sub(db, "A-100013", "gotoassist_rs_v4"), "monthly"), "g-usd")  # fmt: skip
    order(ctx, "A-100014", CartChange.change_licences(_sub(db, "A-100014", "goto_meeting"), 6),
          "g-ie")  # fmt: skip
    # SEPA direct debit on file (A-100006); a fixed term with an open invoice (A-100005)
    order(ctx, "A-100006", CartChange.change_licences(_sub(db, "A-100006", "goto_connect"), 26),
          "g-sepa")  # fmt: skip
    order(ctx, "A-100005", CartChange.change_licences(
        _sub(db, "A-100005", "logmein_resolve"), 9), "g-term")  # fmt: skip
    # a bank account added, not as default (A-100017); a new default card (A-100011)
    iban = NewBankAccount(TEST_IBAN, holder_name="Huber GmbH", make_default=False)
    order(ctx, "A-100017", CartChange.change_licences(
        _sub(db, "A-100017", "logmein_resolve"), 4), "g-iban", payment=iban)  # fmt: skip
    order(ctx, "A-100011", CartChange.change_licences(
        _sub(db, "A-100011", "gotoassist_rs_v5"), 4), "g-card",
        payment=NewCard(TEST_CARD, 11, 2029, billing_line1="Rue de Rivoli 1",
                        billing_postal_code="75001", billing_city="Paris"))  # fmt: skip
    # a back-office order for a named super admin of the account
    roberto = _contact(db, "roberto.conti@contilogistica.example")
    order(ctx, "A-100004", CartChange.change_licences(_sub(db, "A-100004", "goto_meeting"), 9),
          "g-backoffice", requested_by=roberto, on_behalf_of_customer=False)  # fmt: skip
    return placed


@pytest.mark.parametrize("fast", [True, False], ids=["sqlite-driver", "core"])
def test_orders_write_exactly_the_golden_rows(demo_ctx, as_role, db, monkeypatch, fast) -> None:
    """Both ways of running the statements (straight on the SQLite driver, and through
    ``Connection.execute`` as on other engines) write the golden rows."""
    monkeypatch.setattr(bulk, "FAST", fast)
    before = _dump(db)
    placed = _orders(demo_ctx, as_role, db)
    assert len(placed) == len(set(placed)) == 19
    after = _dump(db)
    # a replayed order token writes nothing and answers the first result
    again = place_order(demo_ctx, "A-100002", idempotency_key="g-001-up")
    assert again.order_number == placed[1]
    # a token of another account's order is refused and writes nothing
    add_to_cart(demo_ctx, "A-100019", CartChange.change_licences(
        _sub(db, "A-100019", "goto_meeting"), 11))  # fmt: skip
    with_cart = _dump(db)
    with pytest.raises(ValidationError) as reused:
        place_order(demo_ctx, "A-100019", idempotency_key="g-001-up")
    assert reused.value.code == "idempotency_key_reused"
    assert _dump(db) == with_cart
    written = _diff(before, after)
    if os.environ.get("BILLING_DESKTOP_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(written, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert sorted(written) == sorted(golden)
    for table in golden:
        for what in ("inserted", "updated", "deleted"):
            assert written[table][what] == golden[table][what], (table, what)
