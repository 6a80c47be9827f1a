"""Role × action matrix (SPEC §6): every write service under every operator role.

SPEC §6: ``admin`` may do everything; ``support`` all account changes and the
support-only actions; a ``representative`` makes full changes on the corporate
accounts assigned to them and is read-only elsewhere; a ``trainer`` makes full
changes in demo databases only; a ``viewer`` is read-only. ``services/auth.py``
adds the global powers: sending emails (admin, support, trainer), running
renewals on a real database (admin, support), moving a demo clock — which is
also how renewals run in a demo — (admin, trainer); exporting an account's
data is a read (everyone).

Every action runs against the corporate account A-100016 of the curated demo,
prepared once (module template) so that each action, run by an admin, really
changes something: an open order invoice, a pending cancellation, a cart item,
a second card, SMTP settings and a failed email. Each case copies that
database file, so cases are independent. On PostgreSQL (the ``engine``
parametrisation) each case starts from the template's rows copied into the
run's database (the ``db`` fixture); the sandbox actions, which copy SQLite
files, run on SQLite only.

For every refusal: :class:`PermissionDenied` and every table's rows, sorted,
exactly as before. For every allowed case: no :class:`PermissionDenied` (a
business rule may still refuse, e.g. an assisted cancellation without a
verified caller).
"""

from __future__ import annotations

import dataclasses
import shutil
import smtplib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from billing_desktop.config import target_from
from billing_desktop.domain.errors import DomainError
from billing_desktop.services import cancellation, cart, checkout, invoices, licences, payments
from billing_desktop.services.cart import CartChange
from billing_desktop.services.clock import FixedClock, set_simulated_date
from billing_desktop.services.context import AppContext, OperatorInfo, local_operator
from billing_desktop.services.demo import load_curated
from billing_desktop.services.errors import PermissionDenied
from billing_desktop.services.export import export_account
from billing_desktop.services.renewal import advance
from billing_desktop.services.sandbox import (
    delete_snapshot,
    reset_demo,
    restore_snapshot,
    save_snapshot,
    snapshot_folder,
)
from billing_desktop.services.smtp import (
    SmtpSecurity,
    SmtpSettings,
    deliver_outbox,
    retry_now,
    save_smtp_settings,
)
from billing_desktop.store.database import Database, open_database

TODAY = date(2026, 4, 26)
ACCOUNT = "A-100016"  # corporate (BE), representative Annelies Verhoeven in the curated data
OTHER_CORPORATE = "A-100015"  # corporate (IT)

# --------------------------------------------------------------------------- the policy

#: Roles (columns). ``rep_own``: a representative acting on the corporate account
#: assigned to them; ``rep_other``: the same representative (assigned to A-100015)
#: acting on A-100016, which is someone else's. ``trainer_real``: a trainer on a
#: real (non-demo) database; every other role works in the demo database.
ROLES = ("admin", "support", "rep_own", "rep_other", "trainer_demo", "trainer_real", "viewer")

#: Y = allowed, - = PermissionDenied. Read with the module docstring.
POLICY = """
action                  admin support rep_own rep_other trainer_demo trainer_real viewer
add_to_cart             Y     Y       Y       -         Y            -            -
remove_from_cart        Y     Y       Y       -         Y            -            -
clear_cart              Y     Y       Y       -         Y            -            -
place_order             Y     Y       Y       -         Y            -            -
cancel_online           Y     Y       Y       -         Y            -            -
reactivate              Y     Y       Y       -         Y            -            -
verify_caller           Y     Y       -       -         Y            -            -
assisted_cancel         Y     Y       -       -         Y            -            -
assign_licences         Y     Y       Y       -         Y            -            -
unassign_licences       Y     Y       Y       -         Y            -            -
unassign_all            Y     Y       Y       -         Y            -            -
add_card                Y     Y       Y       -         Y            -            -
add_bank_account        Y     Y       Y       -         Y            -            -
set_default_method      Y     Y       Y       -         Y            -            -
remove_method           Y     Y       Y       -         Y            -            -
set_autopay             Y     Y       Y       -         Y            -            -
record_payment          Y     Y       Y       -         Y            -            -
dispute_invoice         Y     Y       Y       -         Y            -            -
void_invoice            Y     Y       -       -         Y            -            -
set_invoice_recipients  Y     Y       Y       -         Y            -            -
export_account          Y     Y       Y       Y         Y            Y            Y
advance                 Y     -       -       -         Y            -            -
set_simulated_date      Y     -       -       -         Y            -            -
save_smtp_settings      Y     Y       -       -         Y            -            -
deliver_outbox          Y     Y       -       -         Y            -            -
retry_now               Y     Y       -       -         Y            -            -
reset_demo              Y     -       -       -         Y            -            -
save_snapshot           Y     -       -       -         Y            -            -
restore_snapshot        Y     -       -       -         Y            -            -
delete_snapshot         Y     -       -       -         Y            -            -
"""
# Notes on the less obvious cells:
# * verify_caller / assisted_cancel / void_invoice are support-only powers
#   (auth.SUPPORT_ONLY): admin, support and trainers (demo), never a representative.
# * advance: in a demo database running renewals *is* moving the clock
#   (Action.MOVE_CLOCK: admin, trainer); on a real database it needs
#   Action.RUN_RENEWALS (admin, support), so a trainer there is refused.
# * Sending emails (save_smtp_settings, deliver_outbox, retry_now; Action.SEND_EMAILS):
#   admin, support, and trainers in a demo database only — a trainer must not
#   email the customers of a real database nor change its mail server.
# * The sandbox (reset_demo and the snapshots; Action.MANAGE_DEMO): admin and
#   trainers, in a demo database only. The template has one snapshot, "Scene",
#   saved before the order (so restoring it changes the data).


def _parse_policy(text: str) -> dict[str, dict[str, bool]]:
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert tuple(header[1:]) == ROLES
    table = {}
    for row in rows:
        assert len(row) == len(header), row
        assert all(cell in ("Y", "-") for cell in row[1:]), row
        table[row[0]] = {role: cell == "Y" for role, cell in zip(ROLES, row[1:], strict=True)}
    return table


EXPECTED = _parse_policy(POLICY)

# --------------------------------------------------------------------------- the template


@dataclasses.dataclass(frozen=True)
class Fixture:
    """Ids in the template database (identical in every copy)."""

    account_id: int
    meeting_sub: int  # GoTo Meeting Enterprise, 80 licences, bought through the representative
    webinar_sub: int  # GoTo Webinar Pro, 4 licences, cancellation pending
    cart_item: int  # pending change: meeting licences 80 → 81
    open_invoice: int  # the order invoice of webinar 3 → 4 licences, open on net-30 terms
    card: int  # a second (non-default) payment method
    billing_contact: int  # An Claes (billing admin, authorised to cancel)
    free_contact: int  # Joris Peeters: no webinar seat
    seated_contact: int  # Wout Janssens: holds a meeting seat
    operators: dict[str, OperatorInfo]


def _checkpoint(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Fixture]:
    path = tmp_path_factory.mktemp("permissions") / "template.sqlite3"
    db = open_database(target_from(str(path)))
    try:
        load_curated(db, TODAY)
        admin = AppContext(
            db=db, clock=FixedClock(TODAY), operator=local_operator(db), is_demo=True
        )
        ops = {"admin": admin.operator}
        from billing_desktop.store.models import Email, Operator

        with db.transaction() as session:
            for role in ("support", "representative", "trainer", "viewer"):
                op = Operator(
                    email=f"{role}@operators.example", name=role.title(), role=role,
                    active=True, created_at=datetime(2026, 1, 1, 9, 0),
                )  # fmt: skip
                session.add(op)
                session.flush()
                ops[role] = OperatorInfo(op.id, op.email, op.name, op.role)

        def sub_id(product: str) -> int:
            return db.reader.scalar(
                "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id"
                " JOIN products p ON p.id = s.product_id"
                " WHERE a.account_number = :a AND p.code = :p",
                {"a": ACCOUNT, "p": product},
            )

        def contact_id(email: str) -> int:
            return db.reader.scalar("SELECT id FROM contacts WHERE email = :e", {"e": email})

        meeting, webinar = sub_id("goto_meeting"), sub_id("goto_webinar")
        save_snapshot(admin, "Scene")
        cart.add_to_cart(
            admin, ACCOUNT, CartChange.change_licences(webinar, 4), on_behalf_of_customer=False
        )
        order = checkout.place_order(
            admin, ACCOUNT, idempotency_key="template-order", on_behalf_of_customer=False
        )
        assert order.invoice_status == "open"
        cancellation.cancel_online(admin, webinar, reason="too_expensive")
        view = cart.add_to_cart(
            admin, ACCOUNT, CartChange.change_licences(meeting, 81), on_behalf_of_customer=False
        )
        card = payments.add_card(
            admin, ACCOUNT, number="4111 1111 1111 1111", exp_month=12, exp_year=2030,
            holder_name="An Claes",
        )  # fmt: skip
        save_smtp_settings(
            admin,
            SmtpSettings(
                host="smtp.example", port=25, security=SmtpSecurity.NONE,
                from_address="billing@billing-desk.example",
            ),
        )  # fmt: skip
        with db.transaction() as session:  # one email whose delivery failed earlier
            email = session.get(Email, min(e.id for e in session.query(Email)))
            email.status, email.attempts, email.last_error = "failed", 1, "[x] refused"
        fixture = Fixture(
            account_id=order.account_id,
            meeting_sub=meeting,
            webinar_sub=webinar,
            cart_item=view.items[0].id,
            open_invoice=order.invoice_id,
            card=card.id,
            billing_contact=contact_id("an.claes@peeters-claes.example"),
            free_contact=contact_id("joris.peeters@peeters-claes.example"),
            seated_contact=contact_id("wout.janssens@peeters-claes.example"),
            operators=ops,
        )
    finally:
        db.dispose()
    _checkpoint(path)
    return path, fixture


# --------------------------------------------------------------------------- the actions


def _refusing_smtp(host: str, port: int, timeout: float = 0) -> smtplib.SMTP:
    raise ConnectionRefusedError(111, "Connection refused")


ActionFn = Callable[[AppContext, Fixture, Path], object]

ACTIONS: dict[str, ActionFn] = {
    "add_to_cart": lambda c, f, _: cart.add_to_cart(
        c, ACCOUNT, CartChange.change_licences(f.meeting_sub, 82), on_behalf_of_customer=False
    ),
    "remove_from_cart": lambda c, f, _: cart.remove_from_cart(c, ACCOUNT, f.cart_item),
    "clear_cart": lambda c, f, _: cart.clear_cart(c, ACCOUNT),
    "place_order": lambda c, f, _: checkout.place_order(
        c, ACCOUNT, idempotency_key="matrix-order", on_behalf_of_customer=False
    ),
    "cancel_online": lambda c, f, _: cancellation.cancel_online(
        c, f.meeting_sub, reason="no_longer_needed"
    ),
    "reactivate": lambda c, f, _: cancellation.reactivate(c, f.webinar_sub),
    "verify_caller": lambda c, f, _: cancellation.verify_caller(
        c,
        ACCOUNT,
        account_number=ACCOUNT,
        billing_admin_email="an.claes@peeters-claes.example",
        last4="1111",
        billing_address="Meir 54",
        postal_code="2000",
    ),
    "assisted_cancel": lambda c, f, _: cancellation.assisted_cancel(
        c,
        ACCOUNT,
        verification=None,
        requester_contact_id=f.billing_contact,
        subscription_ids=[f.meeting_sub],
        reason="switching_provider",
        backup_confirmed=True,
    ),
    "assign_licences": lambda c, f, _: licences.assign_licences(c, f.webinar_sub, [f.free_contact]),
    "unassign_licences": lambda c, f, _: licences.unassign_licences(
        c, f.meeting_sub, [f.seated_contact]
    ),
    "unassign_all": lambda c, f, _: licences.unassign_all(c, ACCOUNT),
    "add_card": lambda c, f, _: payments.add_card(
        c,
        ACCOUNT,
        number="5555 5555 5555 4444",
        exp_month=3,
        exp_year=2029,
        holder_name="An Claes",
    ),
    "add_bank_account": lambda c, f, _: payments.add_bank_account(
        c, ACCOUNT, iban="BE71 0961 2345 6769", holder_name="Peeters & Claes"
    ),
    "set_default_method": lambda c, f, _: payments.set_default_method(c, ACCOUNT, f.card),
    "remove_method": lambda c, f, _: payments.remove_method(c, ACCOUNT, f.card),
    # A corporate account pays by invoice: autopay stays off (no change even when allowed).
    "set_autopay": lambda c, f, _: payments.set_autopay(c, ACCOUNT, False),
    "record_payment": lambda c, f, _: payments.record_payment(c, ACCOUNT, reference="BT-1"),
    "dispute_invoice": lambda c, f, _: invoices.dispute_invoice(
        c, f.open_invoice, "Licence count is wrong"
    ),
    "void_invoice": lambda c, f, _: invoices.void_invoice(c, f.open_invoice, "Issued in error"),
    "set_invoice_recipients": lambda c, f, _: invoices.set_invoice_recipients(
        c, ACCOUNT, ["ap@peeters-claes.example"]
    ),
    "export_account": lambda c, f, tmp: export_account(c, ACCOUNT, tmp / "export.zip"),
    "advance": lambda c, f, _: advance(c, TODAY + timedelta(days=1)),
    "set_simulated_date": lambda c, f, _: set_simulated_date(c, TODAY + timedelta(days=1)),
    "save_smtp_settings": lambda c, f, _: save_smtp_settings(
        c, SmtpSettings(host="mail.example", port=587, from_address="ops@billing-desk.example")
    ),
    "deliver_outbox": lambda c, f, _: deliver_outbox(c, smtp_factory=_refusing_smtp),
    "retry_now": lambda c, f, _: retry_now(c),
    "reset_demo": lambda c, f, _: reset_demo(c),
    "save_snapshot": lambda c, f, _: save_snapshot(c, "Another scene"),
    "restore_snapshot": lambda c, f, _: restore_snapshot(c, "Scene"),
    "delete_snapshot": lambda c, f, _: delete_snapshot(c, "Scene"),
}

#: Actions that, allowed, change the database (checked for the admin): so a
#: refusal of them that leaves the database unchanged proves something.
#: Not here: set_autopay (no-op on a corporate account), assisted_cancel (no
#: verified caller: refused by the checklist, after the permission check),
#: save_snapshot and delete_snapshot (they change files beside the database).
CHANGES_DATA = frozenset(ACTIONS) - {
    "set_autopay", "assisted_cancel", "save_snapshot", "delete_snapshot",
}  # fmt: skip


def test_policy_covers_every_action() -> None:
    assert set(EXPECTED) == set(ACTIONS)


# --------------------------------------------------------------------------- the matrix


def _dump(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (read with a separate plain connection)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"'), key=repr) for t in sorted(tables)}
    finally:
        con.close()


#: actions on the demo database's files (SQLite snapshots): SQLite only
FILE_ACTIONS = frozenset({"reset_demo", "save_snapshot", "restore_snapshot", "delete_snapshot"})


def _dump_server(db: Database) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (a server database; read on a separate connection)."""
    from billing_desktop.store.models import Base

    with db.engine.connect() as conn:
        return {
            t.name: sorted((tuple(row) for row in conn.execute(t.select())), key=repr)
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture(scope="module")
def template_rows(template: tuple[Path, Fixture]) -> dict[str, list[dict]]:
    """The template's rows, table by table (copied into a server database per case)."""
    from billing_desktop.store.models import Base

    source = open_database(target_from(str(template[0])))
    try:
        with source.engine.connect() as conn:
            return {
                t.name: [dict(row._mapping) for row in conn.execute(t.select())]
                for t in Base.metadata.sorted_tables
            }
    finally:
        source.dispose()


def _load_rows(db: Database, rows: dict[str, list[dict]]) -> None:
    """Replace every table's rows by ``rows``; the id sequences continue after them."""
    from sqlalchemy import text

    from billing_desktop.store.models import Base

    tables = Base.metadata.sorted_tables
    with db.engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for table in tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])
            if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM \"{table.name}\""
                ))  # fmt: skip


@pytest.fixture
def case_db(
    template: tuple[Path, Fixture],
    engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[tuple[Database, Path | None]]:
    if engine != "sqlite":
        db = request.getfixturevalue("db")
        _load_rows(db, request.getfixturevalue("template_rows"))
        yield db, None
        return
    source, _ = template
    path = tmp_path / "case.sqlite3"
    shutil.copyfile(source, path)
    shutil.copytree(snapshot_folder(source), snapshot_folder(path))
    db = open_database(target_from(str(path)))
    yield db, path
    db.dispose()


def _context_for(role: str, db: Database, fixture: Fixture) -> AppContext:
    """The operator of ``role``, with the data that role needs (in one transaction)."""
    from billing_desktop.store.models import Account, AppSetting

    ops = fixture.operators
    operator = {
        "admin": ops["admin"],
        "support": ops["support"],
        "rep_own": ops["representative"],
        "rep_other": ops["representative"],
        "trainer_demo": ops["trainer"],
        "trainer_real": ops["trainer"],
        "viewer": ops["viewer"],
    }[role]
    with db.transaction() as session:
        if role == "rep_own":
            session.get(Account, fixture.account_id).representative_id = operator.id
        elif role == "rep_other":
            other = session.query(Account).filter_by(account_number=OTHER_CORPORATE).one()
            other.representative_id = operator.id
        elif role == "trainer_real":  # the same data as a real (non-demo) database
            for key in ("database.kind", "clock.today"):
                row = session.get(AppSetting, key)
                if row is not None:
                    session.delete(row)
    assert db.is_demo() == (role != "trainer_real")
    return AppContext(db=db, clock=FixedClock(TODAY), operator=operator, is_demo=db.is_demo())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_action_matrix(
    action: str,
    role: str,
    template: tuple[Path, Fixture],
    case_db: tuple[Database, Path],
    tmp_path: Path,
) -> None:
    _, fixture = template
    db, path = case_db
    if path is None and action in FILE_ACTIONS:
        pytest.skip("the demo sandbox copies SQLite files")
    ctx = _context_for(role, db, fixture)

    def dump() -> dict[str, list[tuple]]:
        return _dump(path) if path is not None else _dump_server(db)

    before = dump()
    allowed = EXPECTED[action][role]
    if not allowed:
        with pytest.raises(PermissionDenied) as refused:
            ACTIONS[action](ctx, fixture, tmp_path)
        assert refused.value.message  # a clear message for the operator
        assert dump() == before, f"{action} refused for {role} but changed the database"
        if path is not None:
            assert sorted(p.name for p in snapshot_folder(path).iterdir()) == [
                "index.json", "scene.sqlite3",
            ], f"{action} refused for {role} but changed the snapshots"  # fmt: skip
        assert not (tmp_path / "export.zip").exists()
        return
    try:
        ACTIONS[action](ctx, fixture, tmp_path)
    except PermissionDenied as exc:  # pragma: no cover - the failure being tested for
        pytest.fail(f"{action} should be allowed for {role}: {exc.code} {exc.message}")
    except DomainError:
        pass  # a business rule may still say no; only the permission is checked here
    if role == "admin" and action in CHANGES_DATA:
        assert dump() != before, f"{action} by an admin changed nothing: weak test setup"
    if role == "admin" and action in ("save_snapshot", "delete_snapshot"):
        assert path is not None
        names = sorted(p.name for p in snapshot_folder(path).iterdir())
        assert names != ["index.json", "scene.sqlite3"], f"{action} by an admin changed nothing"
