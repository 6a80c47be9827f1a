"""Signing in to a shared database (issue 8 item 2): passwords, delay, lockout, audit,
and the first administrator of a brand-new database.

Every refusal is checked for what the user reads (one message for an unknown
email and a wrong password), for the delay (``sleep`` is injected and records
what it was asked to wait) and for what the database holds afterwards: only
the failure count and one audit entry change.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta

import argon2
import pytest
from helpers import dump

from billing_desktop.domain.errors import ValidationError
from billing_desktop.services.context import OperatorInfo, local_operator
from billing_desktop.services.signin import (
    FAILURE_DELAY_SECONDS,
    LOCKOUT_THRESHOLD,
    OWASP_MIN_MEMORY_KIB,
    OWASP_MIN_TIME_COST,
    FirstAdminExists,
    OperatorDisabled,
    OperatorLocked,
    WrongCredentials,
    create_first_admin,
    hash_password,
    lockout_duration,
    needs_first_admin,
    password_hasher,
    sign_in,
    validate_password,
)
from billing_desktop.store.models import Operator

NOW = datetime(2026, 4, 26, 9, 30)
EMAIL = "giulia.bianchi@billing-desk.example"
PASSWORD = "lantern orchard quietly 42"
WRONG = "lantern orchard quietly 24"


class Sleeps(list):
    """An injected ``sleep``: records each delay instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@functools.cache
def hashed(password: str) -> str:
    """One real Argon2id hash per password for the whole module (hashing takes a moment)."""
    return hash_password(password)


def add_operator(db, email=EMAIL, password=PASSWORD, *, role="support", active=True,
                 password_hash=None, name="Giulia Bianchi") -> int:  # fmt: skip
    with db.transaction() as session:
        op = Operator(
            email=email, name=name, role=role, active=active, created_at=datetime(2026, 1, 5),
            password_hash=password_hash or (hashed(password) if password else None),
        )  # fmt: skip
        session.add(op)
        session.flush()
        return op.id


@pytest.fixture
def operator(db) -> int:
    return add_operator(db)


def op_row(db, operator_id: int) -> dict:
    cols = (
        "password_hash, active, failed_sign_ins, last_failed_sign_in_at, locked_until, "
        "last_signed_in_at, version"
    )
    row = db.reader.rows(f"SELECT {cols} FROM operators WHERE id = :i", {"i": operator_id})[0]
    return dict(zip([c.strip() for c in cols.split(",")], row, strict=True))


def audit(db) -> list[tuple]:
    rows = db.reader.rows(
        "SELECT action, operator_id, account_id, after_json FROM audit_entries ORDER BY id"
    )
    return [(a, o, acc, json.loads(j) if j else None) for a, o, acc, j in rows]


def others(db) -> dict:
    """Every table but operators and audit_entries (which a sign-in may change)."""
    full = dump(db)
    return {name: rows for name, rows in full.items() if name not in ("operators", "audit_entries")}


def same_time(text: object, value: datetime) -> bool:
    return datetime.fromisoformat(str(text)) == value


# --------------------------------------------------------------------------- the hash


def test_the_hasher_is_argon2id_with_at_least_owasps_parameters() -> None:
    hasher = password_hasher()
    assert hasher.type is argon2.Type.ID
    assert hasher.memory_cost >= OWASP_MIN_MEMORY_KIB == 19 * 1024
    assert hasher.time_cost >= OWASP_MIN_TIME_COST == 2
    assert hasher.parallelism >= 1
    # argon2-cffi's default profile (RFC 9106 low memory) is kept as it is
    default = argon2.PasswordHasher()
    assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism) == (
        default.memory_cost, default.time_cost, default.parallelism,
    )  # fmt: skip


def test_the_hash_is_never_the_password_and_argon2_verifies_it(db, operator) -> None:
    stored_hash = op_row(db, operator)["password_hash"]
    assert stored_hash != PASSWORD
    assert PASSWORD not in stored_hash
    assert stored_hash.startswith("$argon2id$")
    assert argon2.PasswordHasher().verify(stored_hash, PASSWORD)
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        argon2.PasswordHasher().verify(stored_hash, WRONG)
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted


# --------------------------------------------------------------------------- signing in


def test_the_right_password_signs_in(db, operator, sleeps) -> None:
    before = op_row(db, operator)
    info = sign_in(db, EMAIL, PASSWORD, now=NOW, sleep=sleeps)

    assert info == OperatorInfo(id=operator, email=EMAIL, name="Giulia Bianchi", role="support")
    assert sleeps == []
    after = op_row(db, operator)
    assert same_time(after["last_signed_in_at"], NOW)
    assert after["failed_sign_ins"] == 0
    # sign-in bookkeeping never makes an administrator's open edit conflict
    assert after["version"] == before["version"]
    assert after["password_hash"] == before["password_hash"]  # parameters are current
    assert audit(db) == [("sign_in", operator, None, {"email": EMAIL})]


def test_the_email_is_trimmed_and_matched_in_any_case(db, operator, sleeps) -> None:
    info = sign_in(db, "  Giulia.Bianchi@BILLING-desk.example ", PASSWORD, now=NOW, sleep=sleeps)
    assert info.id == operator
    assert sleeps == []


def test_a_wrong_password_is_refused_after_a_delay_and_only_counted(
    db, operator, sleeps
) -> None:
    before_others, before = others(db), op_row(db, operator)

    with pytest.raises(WrongCredentials) as err:
        sign_in(db, EMAIL, WRONG, now=NOW, sleep=sleeps)

    assert str(err.value) == "The email address or the password is not correct."
    assert sleeps == [FAILURE_DELAY_SECONDS]
    assert others(db) == before_others
    after = op_row(db, operator)
    assert after["failed_sign_ins"] == before["failed_sign_ins"] + 1 == 1
    assert same_time(after["last_failed_sign_in_at"], NOW)
    for unchanged in ("password_hash", "active", "locked_until", "last_signed_in_at", "version"):
        assert after[unchanged] == before[unchanged], unchanged
    assert audit(db) == [
        ("sign_in_failed", operator, None,
         {"email": EMAIL, "reason": "wrong_password", "failed_sign_ins": 1}),
    ]  # fmt: skip
    assert PASSWORD not in str(audit(db)) and WRONG not in str(audit(db))


def test_an_unknown_email_gets_the_same_answer_and_delay(db, operator, sleeps) -> None:
    with pytest.raises(WrongCredentials) as unknown:
        sign_in(db, "nobody@billing-desk.example", PASSWORD, now=NOW, sleep=sleeps)
    with pytest.raises(WrongCredentials) as wrong:
        sign_in(db, EMAIL, WRONG, now=NOW, sleep=sleeps)

    assert str(unknown.value) == str(wrong.value)
    assert sleeps == [FAILURE_DELAY_SECONDS, FAILURE_DELAY_SECONDS]
    assert audit(db)[0] == (
        "sign_in_failed", None, None,
        {"email": "nobody@billing-desk.example", "reason": "unknown_email"},
    )  # fmt: skip


def test_an_operator_without_a_password_cannot_sign_in(db, sleeps) -> None:
    """The embedded database's automatic local operator has no password."""
    local = local_operator(db)
    with pytest.raises(WrongCredentials):
        sign_in(db, local.email, "", now=NOW, sleep=sleeps)
    assert sleeps == [FAILURE_DELAY_SECONDS]
    assert audit(db)[-1][3]["reason"] == "no_password"


def test_a_disabled_operator_is_refused(db, sleeps) -> None:
    disabled = add_operator(db, active=False)
    before_others, before = others(db), op_row(db, disabled)

    with pytest.raises(OperatorDisabled) as err:
        sign_in(db, EMAIL, PASSWORD, now=NOW, sleep=sleeps)
    assert str(err.value) == (
        "This operator has been disabled. Ask an administrator to enable it again."
    )
    # without the right password nobody learns that the operator exists but is disabled
    with pytest.raises(WrongCredentials):
        sign_in(db, EMAIL, WRONG, now=NOW, sleep=sleeps)

    assert sleeps == [FAILURE_DELAY_SECONDS, FAILURE_DELAY_SECONDS]
    assert others(db) == before_others
    after = op_row(db, disabled)
    assert after["last_signed_in_at"] is None
    assert after["version"] == before["version"]
    assert [(a, o, e["reason"]) for a, o, _acc, e in audit(db)] == [
        ("sign_in_failed", disabled, "disabled"),
        ("sign_in_failed", disabled, "wrong_password"),
    ]


# --------------------------------------------------------------------------- lockout


def test_the_lockout_grows_and_is_capped() -> None:
    minutes = [lockout_duration(n) for n in range(1, 12)]
    assert minutes[: LOCKOUT_THRESHOLD - 1] == [None] * (LOCKOUT_THRESHOLD - 1)
    assert [m.total_seconds() / 60 for m in minutes[LOCKOUT_THRESHOLD - 1 :]] == [
        1, 2, 4, 8, 15, 15, 15,
    ]  # fmt: skip
    assert lockout_duration(10_000) == timedelta(minutes=15)


def test_repeated_failures_lock_sign_in_for_a_while(db, operator, sleeps) -> None:
    for attempt in range(LOCKOUT_THRESHOLD):
        with pytest.raises(WrongCredentials):
            sign_in(db, EMAIL, WRONG, now=NOW + timedelta(seconds=attempt), sleep=sleeps)
    fifth = NOW + timedelta(seconds=LOCKOUT_THRESHOLD - 1)
    assert same_time(op_row(db, operator)["locked_until"], fifth + timedelta(minutes=1))

    # even the right password is refused while locked, with the time left
    with pytest.raises(OperatorLocked) as err:
        sign_in(db, EMAIL, PASSWORD, now=fifth + timedelta(seconds=20), sleep=sleeps)
    assert str(err.value) == "Too many failed sign-ins. Try again in 1 min."
    assert err.value.params["minutes"] == 1
    assert op_row(db, operator)["failed_sign_ins"] == LOCKOUT_THRESHOLD  # not extended
    assert op_row(db, operator)["last_signed_in_at"] is None
    assert sleeps == [FAILURE_DELAY_SECONDS] * (LOCKOUT_THRESHOLD + 1)
    assert audit(db)[-1][3]["reason"] == "locked"

    # once the lock ran out, another wrong password locks for twice as long
    later = fifth + timedelta(minutes=1, seconds=1)
    with pytest.raises(WrongCredentials):
        sign_in(db, EMAIL, WRONG, now=later, sleep=sleeps)
    with pytest.raises(OperatorLocked) as err:
        sign_in(db, EMAIL, PASSWORD, now=later + timedelta(seconds=30), sleep=sleeps)
    assert err.value.params["minutes"] == 2

    # and the right password after the lock signs in and clears the count
    info = sign_in(db, EMAIL, PASSWORD, now=later + timedelta(minutes=2), sleep=sleeps)
    assert info.id == operator
    row = op_row(db, operator)
    assert (row["failed_sign_ins"], row["locked_until"]) == (0, None)


# --------------------------------------------------------------------------- rehash


def test_a_hash_made_with_weaker_parameters_is_replaced_at_sign_in(db, sleeps) -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    old_hash = weak.hash(PASSWORD)
    operator = add_operator(db, password_hash=old_hash)
    assert password_hasher().check_needs_rehash(old_hash)
    version = op_row(db, operator)["version"]

    sign_in(db, EMAIL, PASSWORD, now=NOW, sleep=sleeps)

    new_hash = op_row(db, operator)["password_hash"]
    assert new_hash != old_hash
    assert not password_hasher().check_needs_rehash(new_hash)
    assert argon2.PasswordHasher().verify(new_hash, PASSWORD)
    assert op_row(db, operator)["version"] == version
    assert audit(db)[-1] == ("sign_in", operator, None, {"email": EMAIL, "password_rehashed": True})
    # the new hash works, and is not replaced again
    sign_in(db, EMAIL, PASSWORD, now=NOW, sleep=sleeps)
    assert op_row(db, operator)["password_hash"] == new_hash
    assert sleeps == []


# --------------------------------------------------------------------------- the policy


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short pass", "password_too_short"),
        ("x" * 11, "password_too_short"),
        ("y" * 257, "password_too_long"),
        (EMAIL, "password_is_email"),
        (EMAIL.upper(), "password_is_email"),
        ("giulia.bianchi", "password_is_email"),
        ("Giulia Bianchi", "password_is_name"),
        ("GiuliaBianchi", "password_is_name"),
        ("aaaaaaaaaaaaaaaa", "password_too_simple"),
        ("abababababab", "password_too_simple"),
        ("123456789012", "password_too_simple"),
        ("Password1234", "password_too_simple"),
        ("qwertyuiopasdf", "password_too_simple"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_password(password, email=EMAIL, name="Giulia Bianchi")
    assert (err.value.code, err.value.params["field"]) == (code, "password")


def test_the_policy_messages_say_what_to_do() -> None:
    with pytest.raises(ValidationError) as err:
        validate_password("too short")
    assert str(err.value) == "The password must have at least 12 characters."
    with pytest.raises(ValidationError) as err:
        validate_password(EMAIL, email=EMAIL)
    assert str(err.value) == "The password must not be the email address."


@pytest.mark.parametrize("password", [PASSWORD, "Tr0ub4dor&3xyz", "ocho gatos café 🐈 azules"])
def test_good_passwords_pass(password: str) -> None:
    validate_password(password, email=EMAIL, name="Giulia Bianchi")


# --------------------------------------------------------------------------- first administrator


def test_a_new_database_needs_a_first_administrator(db, sleeps) -> None:
    assert needs_first_admin(db)
    add_operator(db, "rep@billing-desk.example", password=None, role="representative")
    assert needs_first_admin(db)  # an operator who cannot sign in does not count

    info = create_first_admin(db, " ada@billing-desk.example ", " Ada  Rossi ", PASSWORD, now=NOW)

    assert (info.email, info.name, info.role) == ("ada@billing-desk.example", "Ada Rossi", "admin")
    assert not needs_first_admin(db)
    row = op_row(db, info.id)
    assert argon2.PasswordHasher().verify(row["password_hash"], PASSWORD)
    assert row["active"] in (True, 1)
    assert same_time(row["last_signed_in_at"], NOW)
    assert [(a, o) for a, o, _acc, _j in audit(db)] == [
        ("operator.created", info.id),
        ("sign_in", info.id),
    ]
    assert sign_in(db, "ada@billing-desk.example", PASSWORD, now=NOW, sleep=sleeps) == info


def test_the_first_administrator_is_created_once(db) -> None:
    create_first_admin(db, "ada@billing-desk.example", "Ada Rossi", PASSWORD, now=NOW)
    before = dump(db)
    with pytest.raises(FirstAdminExists) as err:
        create_first_admin(db, "eve@billing-desk.example", "Eve Intruder", PASSWORD, now=NOW)
    assert str(err.value).startswith("This database already has an administrator.")
    assert dump(db) == before


@pytest.mark.parametrize(
    ("email", "name", "password", "field"),
    [
        ("not an address", "Ada Rossi", PASSWORD, "email"),
        ("ada@billing-desk.example", "  ", PASSWORD, "name"),
        ("ada@billing-desk.example", "Ada Rossi", "short", "password"),
        ("ada@billing-desk.example", "Ada Rossi", "ada@billing-desk.example", "password"),
    ],
)
def test_the_first_administrator_needs_good_values(db, email, name, password, field) -> None:
    before = dump(db)
    with pytest.raises(ValidationError) as err:
        create_first_admin(db, email, name, password, now=NOW)
    assert err.value.params["field"] == field
    assert dump(db) == before
    assert needs_first_admin(db)


def test_the_first_administrator_cannot_take_an_existing_email(db) -> None:
    add_operator(db, "ada@billing-desk.example", password=None, role="representative")
    before = dump(db)
    with pytest.raises(ValidationError) as err:
        create_first_admin(db, "ADA@billing-desk.example", "Ada Rossi", PASSWORD, now=NOW)
    assert (err.value.code, err.value.params["field"]) == ("operator_email_taken", "email")
    assert dump(db) == before
