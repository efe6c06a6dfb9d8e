"""Checking a login: throttling per name and per client address, the password, and the audit trail.

The counts live in the database (`staff_login_failures`), so several worker processes share them.
A wrong name and a wrong password look alike from outside: the same message, and a password check
against a dummy hash when there is no such account. Names that do not exist are "locked" after the
same number of failures, so that a lockout message does not reveal which names do."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from bot.console.passwords import MAX_LENGTH, Passwords
from bot.console.state import LoginPolicy
from storage import staff as staff_store
from storage.audit import append_entry
from storage.database import Database

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


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    account_id: int | None = None


async def authenticate(
    db: Database, passwords: Passwords, policy: LoginPolicy, *, name: str, password: str, ip: str, now: dt.datetime
) -> LoginResult:
    """Checks `name` and `password` from `ip`, records the outcome, and says whether to sign in."""
    name = name.strip()[:64]
    since = now - policy.window
    async with db.sessions() as session:
        ip_failures = await staff_store.failures_from_ip(session, ip=ip, since=since)
        account = await staff_store.account_by_name(session, name=name) if name else None
        name_failures = await staff_store.failures_for_name(session, name=name, since=since)
    if ip_failures >= policy.max_ip_failures:
        # Not audited: during an attack that would let anyone fill the audit log at will.
        log.warning("staff login refused: too many failures from %s", ip)
        await _record_failure(db, policy, name=name, ip=ip, now=now)
        return LoginResult(Outcome.THROTTLED)
    locked = (account.locked_until is not None and account.locked_until > now) if account else False
    if locked or (account is None and name_failures >= policy.max_failures):
        await _record_failure(
            db, policy, name=name, ip=ip, now=now, audit="账号已锁定", account_id=account.id if account else None
        )
        return LoginResult(Outcome.LOCKED)

    stored_hash = account.password_hash if account is not None else None
    matches = len(password) <= MAX_LENGTH and await passwords.verify_async(stored_hash, password)
    if account is not None and matches and account.active:
        async with db.transaction() as session:
            fresh = await staff_store.account_by_id(session, account_id=account.id)
            assert fresh is not None
            await staff_store.record_login(session, account=fresh, now=now)
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

    reason = "账号已停用" if account is not None and matches else "用户名或密码错误"
    locked_now = await _record_failure(
        db, policy, name=name, ip=ip, now=now, audit=reason, account_id=account.id if account else None
    )
    log.info("staff login failed from %s", ip)  # the name typed may be a password typed in the wrong box
    return LoginResult(Outcome.LOCKED if locked_now else Outcome.INVALID)


async def _record_failure(
    db: Database,
    policy: LoginPolicy,
    *,
    name: str,
    ip: str,
    now: dt.datetime,
    audit: str | None = None,
    account_id: int | None = None,
) -> bool:
    """Counts one failure; locks the account when it reaches the limit. True when it locked now."""
    locked_now = False
    async with db.transaction() as session:
        # Rows older than a window (plus a lockout, for names that do not exist) are no longer counted.
        await staff_store.record_failure(session, name=name, ip=ip, now=now, prune_before=now - policy.window * 2)
        if audit is None:
            return False
        account = await staff_store.account_by_id(session, account_id=account_id) if account_id is not None else None
        if account is not None and not (account.locked_until and account.locked_until > now):
            before = staff_store.account_snapshot(account)
            account.failed_logins = await staff_store.failures_for_name(session, name=name, since=now - policy.window)
            if account.failed_logins >= policy.max_failures:
                await staff_store.lock_account(session, account=account, until=now + policy.lockout)
                locked_now = True
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
            note=f"IP {ip}；{audit if account_id is not None else '未知账号'}",
        )
    return locked_now
