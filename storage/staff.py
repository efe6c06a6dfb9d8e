"""Staff accounts, their server-side sessions, and the failed logins the throttle counts.

Passwords arrive here already hashed and session tokens already digested: this module never
sees a secret it could leak."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginFailure, StaffAccount, StaffSession

ROLES = ("admin", "reviewer", "viewer")


def account_snapshot(account: StaffAccount) -> dict[str, Any]:
    """What the audit log keeps of an account: everything but the password hash."""
    return {
        "name": account.name,
        "role": account.role,
        "regions": list(account.regions),
        "active": account.active,
        "failed_logins": account.failed_logins,
        "locked_until": account.locked_until.isoformat() if account.locked_until else None,
        "two_step": bool(account.totp_secret_cipher),
    }


async def create_account(
    session: AsyncSession, *, name: str, role: str, regions: list[str], password_hash: str, now: dt.datetime
) -> StaffAccount:
    """A new active account. The caller checks the name is free (the unique constraint backs it)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    account = StaffAccount(
        name=name,
        role=role,
        regions=list(regions),
        password_hash=password_hash,
        active=True,
        failed_logins=0,
        created_at=now,
    )
    session.add(account)
    await session.flush()
    return account


async def account_by_name(session: AsyncSession, *, name: str) -> StaffAccount | None:
    return (await session.execute(select(StaffAccount).where(StaffAccount.name == name))).scalar_one_or_none()


async def account_by_id(session: AsyncSession, *, account_id: int) -> StaffAccount | None:
    return await session.get(StaffAccount, account_id)


async def list_accounts(session: AsyncSession) -> list[StaffAccount]:
    return list((await session.execute(select(StaffAccount).order_by(StaffAccount.name))).scalars())


async def count_accounts(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(StaffAccount))).scalar_one())


async def set_password_hash(session: AsyncSession, *, account: StaffAccount, password_hash: str) -> None:
    account.password_hash = password_hash
    await session.flush()


async def set_active(session: AsyncSession, *, account: StaffAccount, active: bool) -> None:
    account.active = active
    await session.flush()


async def lock_account(session: AsyncSession, *, account: StaffAccount, until: dt.datetime) -> None:
    account.locked_until = until
    await session.flush()


async def record_login(session: AsyncSession, *, account: StaffAccount, now: dt.datetime, attempt_id: int) -> None:
    """A successful login: its own attempt is not a failure. The failures before it keep counting
    until they leave the window: wiping them would let a burst of guesses in flight alongside a
    success (or a staff member signing in during an attack) start its count again."""
    account.last_login_at = now
    account.failed_logins = 0
    account.locked_until = None
    await session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    await session.flush()


async def clear_failures(session: AsyncSession, *, account: StaffAccount) -> None:
    """Unlocks the account and forgets the failures typed under its name (those typed under other
    names from the same address still count towards that address's limit)."""
    account.failed_logins = 0
    account.locked_until = None
    await session.execute(delete(LoginFailure).where(LoginFailure.name == account.name))
    await session.flush()


# -- login attempts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A login attempt as counted when it began, before its password was checked."""

    id: int
    name_before: int
    """Attempts under the same name within the window, before this one (attempts in progress included)."""
    ip_before: int
    """Attempts from the same address within the window, before this one."""


async def begin_attempt(
    session: AsyncSession, *, name: str, ip: str, now: dt.datetime, since: dt.datetime, prune_before: dt.datetime
) -> Attempt:
    """Records a login attempt and counts those before it, atomically: concurrent attempts are
    counted one after another, so a burst cannot all pass the check before any is recorded.

    The row stays as the attempt's failure unless the login succeeds (`record_login`). Call inside a
    transaction; on PostgreSQL the table is locked until it ends (SQLite writes one at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"LOCK TABLE {LoginFailure.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    await session.execute(delete(LoginFailure).where(LoginFailure.at < prune_before))
    row = LoginFailure(name=name[:64], ip=ip[:64], at=now)
    session.add(row)
    await session.flush()
    before = (LoginFailure.at >= since, LoginFailure.id != row.id)
    by_name = select(func.count()).where(LoginFailure.name == name[:64], *before)
    by_ip = select(func.count()).where(LoginFailure.ip == ip[:64], *before)
    return Attempt(
        id=row.id,
        name_before=int((await session.execute(by_name)).scalar_one()),
        ip_before=int((await session.execute(by_ip)).scalar_one()),
    )


async def forget_attempt(session: AsyncSession, *, attempt_id: int) -> None:
    """An attempt that was not a guess (the right password, refused for another reason)."""
    await session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))


async def count_against_address_only(session: AsyncSession, *, attempt_id: int) -> None:
    """A refused attempt (locked name, throttled address) still counts against its address but not
    its name: otherwise whoever keeps trying would keep a name locked for ever."""
    await session.execute(update(LoginFailure).where(LoginFailure.id == attempt_id).values(name=""))


async def failures_for_name(session: AsyncSession, *, name: str, since: dt.datetime) -> int:
    stmt = select(func.count()).where(LoginFailure.name == name[:64], LoginFailure.at >= since)
    return int((await session.execute(stmt)).scalar_one())


async def failures_from_ip(session: AsyncSession, *, ip: str, since: dt.datetime) -> int:
    stmt = select(func.count()).where(LoginFailure.ip == ip[:64], LoginFailure.at >= since)
    return int((await session.execute(stmt)).scalar_one())


# -- sessions -----------------------------------------------------------------------------------


async def create_session(
    session: AsyncSession, *, account_id: int, token_hash: str, csrf_token: str, now: dt.datetime
) -> StaffSession:
    row = StaffSession(
        token_hash=token_hash, account_id=account_id, csrf_token=csrf_token, created_at=now, last_seen_at=now
    )
    session.add(row)
    await session.flush()
    return row


async def find_session(session: AsyncSession, *, token_hash: str) -> tuple[StaffSession, StaffAccount] | None:
    """The session and its account, whatever their state; the caller judges expiry and activity."""
    stmt = (
        select(StaffSession, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
        .where(StaffSession.token_hash == token_hash)
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row is not None else None


async def touch_session(session: AsyncSession, *, token_hash: str, now: dt.datetime) -> None:
    """Marks the session as used now (its inactivity period starts again)."""
    await session.execute(update(StaffSession).where(StaffSession.token_hash == token_hash).values(last_seen_at=now))


async def delete_session(session: AsyncSession, *, token_hash: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash))


async def delete_sessions_of(session: AsyncSession, *, account_id: int) -> int:
    """Signs an account out everywhere (deactivated, password reset); returns how many sessions ended."""
    result = await session.execute(delete(StaffSession).where(StaffSession.account_id == account_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_stale_sessions(
    session: AsyncSession, *, seen_before: dt.datetime, created_before: dt.datetime
) -> None:
    """Removes sessions idle since `seen_before` or older than `created_before`: they can no longer be used."""
    await session.execute(
        delete(StaffSession).where(
            (StaffSession.last_seen_at < seen_before) | (StaffSession.created_at < created_before)
        )
    )
