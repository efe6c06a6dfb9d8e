"""Checking a login: throttling per name and per client address, the password, and the audit trail.

The counts live in the database (`staff_login_failures`), so several worker processes share them.
A wrong name and a wrong password look alike from outside: the same message, and a password check
against a dummy hash when there is no such account. Names that do not exist lock on the same attempt
as those that do, so that a lockout message does not reveal which names do."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from bot.console import two_step as two_step_codes
from bot.console.passwords import MAX_LENGTH, Passwords
from bot.console.scope import ADMIN
from bot.console.state import LoginPolicy
from storage import staff as staff_store
from storage.audit import append_entry
from storage.database import Database
from storage.pii import PiiCipher

log = logging.getLogger(__name__)
ANONYMOUS = "anonymous"


class Outcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    """Wrong name or password, or an inactive account: one answer for all three."""
    LOCKED = "locked"
    """Too many failures under this name recently."""
    THROTTLED = "throttled"
    """Too many failures from this client address recently."""
    CODE = "code"
    """Right password, but the two-step code is missing, wrong or used already (counted as a failure)."""
    ENROLL = "enroll"
    """An admin without two-step login where the deployment requires it."""


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    account_id: int | None = None


async def address_throttled(db: Database, policy: LoginPolicy, *, ip: str, now: dt.datetime) -> bool:
    """True when `ip` has used up its attempts: checked before the form is even read."""
    async with db.sessions() as session:
        return await staff_store.failures_from_ip(session, ip=ip, since=now - policy.window) >= policy.max_ip_failures


@dataclass(frozen=True)
class TwoStep:
    """What two-step login needs: the typed code, the key its secrets are encrypted under, and
    whether admins must have it (ADMIN_TWO_STEP_REQUIRED)."""

    code: str
    cipher: PiiCipher
    required_for_admins: bool = False


async def authenticate(
    db: Database,
    passwords: Passwords,
    policy: LoginPolicy,
    *,
    name: str,
    password: str,
    ip: str,
    now: dt.datetime,
    two_step: TwoStep | None = None,
) -> LoginResult:
    """Checks `name` and `password` from `ip`, records the outcome, and says whether to sign in.

    The attempt is counted before the password is checked (`staff_store.begin_attempt`), so that of
    a burst of simultaneous attempts only the first `max_failures` are checked at all. A name locks
    on the same attempt whether or not an account has it."""
    name = name.strip()[:64]
    async with db.transaction() as session:
        attempt = await staff_store.begin_attempt(
            session, name=name, ip=ip, now=now, since=now - policy.window, prune_before=now - policy.window * 2
        )
        account = await staff_store.account_by_name(session, name=name) if name else None
        refused = None
        if attempt.ip_before >= policy.max_ip_failures:
            refused = Outcome.THROTTLED
        elif attempt.name_before >= policy.max_failures:
            # By the count alone, whether or not an account has the name: `locked_until` is what
            # staff see, not what decides.
            refused = Outcome.LOCKED
        if refused is not None:
            await staff_store.count_against_address_only(session, attempt_id=attempt.id)
    if refused is Outcome.THROTTLED:
        # Not audited: during an attack that would let anyone fill the audit log at will.
        log.warning("staff login refused: too many attempts from %s", ip)
        return LoginResult(Outcome.THROTTLED)
    if refused is Outcome.LOCKED:
        await _audit_failure(db, ip=ip, now=now, reason="账号已锁定", account_id=account.id if account else None)
        return LoginResult(Outcome.LOCKED)

    stored_hash = account.password_hash if account is not None else None
    matches = len(password) <= MAX_LENGTH and await passwords.verify_async(stored_hash, password)
    step: int | None = None
    if account is not None and matches and account.active:
        if account.totp_secret_cipher and two_step is not None:
            secret = two_step.cipher.decrypt(account.totp_secret_cipher, context=two_step_codes.CONTEXT)
            step = two_step_codes.accepted_step(secret, two_step.code, last_step=account.totp_last_step)
            if step is None:
                reached = attempt.name_before + 1 >= policy.max_failures
                await _audit_failure(
                    db, ip=ip, now=now, reason="动态验证码错误", account_id=account.id, lock=reached, policy=policy
                )
                return LoginResult(Outcome.LOCKED if reached else Outcome.CODE)
        elif two_step is not None and two_step.required_for_admins and account.role == ADMIN:
            async with db.transaction() as session:
                await staff_store.forget_attempt(session, attempt_id=attempt.id)  # not a guess
            return LoginResult(Outcome.ENROLL)
        async with db.transaction() as session:
            fresh = await staff_store.account_by_id(session, account_id=account.id)
            assert fresh is not None
            await staff_store.record_login(session, account=fresh, now=now, attempt_id=attempt.id)
            if step is not None:
                fresh.totp_last_step = step
            if passwords.needs_rehash(fresh.password_hash):
                # The defaults changed since this hash was made: store one with today's parameters.
                await staff_store.set_password_hash(session, account=fresh, password_hash=passwords.hash(password))
            await append_entry(
                session,
                at=now,
                actor=fresh.name,
                action="login",
                target_type="staff",
                target_id=fresh.id,
                note=f"IP {ip}",
            )
        log.info("staff login: %s from %s", account.name, ip)
        return LoginResult(Outcome.OK, account.id)

    # The attempt's row stays as its failure; this one may be the failure that reaches the limit.
    reached = attempt.name_before + 1 >= policy.max_failures
    reason = "账号已停用" if account is not None and matches else "用户名或密码错误"
    await _audit_failure(
        db, ip=ip, now=now, reason=reason, account_id=account.id if account else None, lock=reached, policy=policy
    )
    log.info("staff login failed from %s", ip)  # the name typed may be a password typed in the wrong box
    return LoginResult(Outcome.LOCKED if reached else Outcome.INVALID)


async def _audit_failure(
    db: Database,
    *,
    ip: str,
    now: dt.datetime,
    reason: str,
    account_id: int | None,
    lock: bool = False,
    policy: LoginPolicy | None = None,
) -> None:
    """Audits a failed attempt; with `lock`, also locks the account (if the name is one)."""
    async with db.transaction() as session:
        account = await staff_store.account_by_id(session, account_id=account_id) if account_id is not None else None
        if lock and policy is not None and account is not None:
            before = staff_store.account_snapshot(account)
            account.failed_logins = policy.max_failures
            await staff_store.lock_account(session, account=account, until=now + policy.lockout)
            await append_entry(
                session,
                at=now,
                actor=ANONYMOUS,
                action="staff.locked",
                target_type="staff",
                target_id=account.id,
                before=before,
                after=staff_store.account_snapshot(account),
                note=f"{account.failed_logins} 次登录失败，锁定 {policy.lockout.total_seconds() / 60:g} 分钟",
            )
        # The name typed is kept only when it is an account's: otherwise it may be a password typed
        # into the wrong box.
        await append_entry(
            session,
            at=now,
            actor=ANONYMOUS,
            action="login_failed",
            target_type="staff" if account_id is not None else None,
            target_id=account_id,
            note=f"IP {ip}；{reason if account_id is not None else '未知账号'}",
        )
