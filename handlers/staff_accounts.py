"""Staff accounts as admins manage them: create, change role and regions, deactivate and reactivate,
reset a password, unlock. The same workflows serve the console and `python -m bot staff`.

Each runs in the caller's transaction and writes its audit entry with the account before and after
(never the password hash). What was typed (name, role, regions, password) is checked by the caller,
which also hashes the password: hashing takes a noticeable fraction of a second by design and must
not happen inside a transaction. A refusal raises `AccountRefused` (the reason in Chinese) or
`AccountNotFound` before any write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storage import staff as store
from storage.audit import append_entry
from storage.models import StaffAccount


class AccountNotFound(Exception):
    """No such account."""


class AccountRefused(Exception):
    """The change may not happen; `message` says why, in Chinese. Nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Change = Callable[[StaffAccount], Awaitable[None]]


async def _change(
    session: AsyncSession, account: StaffAccount, *, action: str, actor: str, now: dt.datetime, change: Change
) -> StaffAccount:
    """Applies `change` to `account` and audits it."""
    before = store.account_snapshot(account)
    await change(account)
    await append_entry(
        session,
        at=now,
        actor=actor,
        action=action,
        target_type="staff",
        target_id=account.id,
        before=before,
        after=store.account_snapshot(account),
    )
    return account


async def _account(session: AsyncSession, account_id: int) -> StaffAccount:
    account = await store.account_by_id(session, account_id=account_id)
    if account is None:
        raise AccountNotFound(account_id)
    return account


async def create_account(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    regions: Sequence[str],
    password_hash: str,
    actor: str,
    now: dt.datetime,
) -> StaffAccount:
    """A new active account; refused when the name is taken."""
    if await store.account_by_name(session, name=name) is not None:
        raise AccountRefused(f"账号名 {name} 已被使用。")
    account = await store.create_account(
        session, name=name, role=role, regions=list(regions), password_hash=password_hash, now=now
    )
    await append_entry(
        session,
        at=now,
        actor=actor,
        action="staff.create",
        target_type="staff",
        target_id=account.id,
        after=store.account_snapshot(account),
    )
    return account


async def update_account(
    session: AsyncSession,
    *,
    account_id: int,
    role: str,
    regions: Sequence[str],
    actor_id: int,
    actor: str,
    now: dt.datetime,
    problem: str | None = None,
) -> StaffAccount:
    """Sets the account's role and regions. An admin may not change their own (they could lose the
    right to undo it); `problem` is the caller's reason the role and regions typed are refused."""
    account = await _account(session, account_id)
    if account.id == actor_id:
        raise AccountRefused("不能修改自己的角色或地区（以免失去管理权限），请由另一位管理员操作。")
    if problem:
        raise AccountRefused(problem)

    async def change(account: StaffAccount) -> None:
        account.role, account.regions = role, list(regions)

    return await _change(session, account, action="staff.update", actor=actor, now=now, change=change)


async def set_active(
    session: AsyncSession, *, account_id: int, active: bool, actor_id: int | None, actor: str, now: dt.datetime
) -> StaffAccount:
    """Deactivates (signing the account out at once) or reactivates an account; nobody deactivates
    their own (`actor_id` None: the command line, which is nobody's account)."""
    account = await _account(session, account_id)
    if not active and account.id == actor_id:
        raise AccountRefused("不能停用自己的账号。")

    async def change(account: StaffAccount) -> None:
        await store.set_active(session, account=account, active=active)
        if not active:
            await store.delete_sessions_of(session, account_id=account.id)

    action = "staff.activate" if active else "staff.deactivate"
    return await _change(session, account, action=action, actor=actor, now=now, change=change)


async def reset_password(
    session: AsyncSession,
    *,
    account_id: int,
    password_hash: str | None,
    actor: str,
    now: dt.datetime,
    problem: str | None = None,
    lift_lockout: bool = False,
) -> int:
    """Stores a new password hash and ends the account's sessions (whoever knew the old password may
    be signed in with it); with `lift_lockout`, failed logins are forgotten too. `problem` is the
    caller's reason the password typed is refused. Returns how many sessions ended."""
    account = await _account(session, account_id)
    if problem or password_hash is None:
        raise AccountRefused(problem or "请填写新密码。")
    new_hash = password_hash
    ended = 0

    async def change(account: StaffAccount) -> None:
        nonlocal ended
        await store.set_password_hash(session, account=account, password_hash=new_hash)
        if lift_lockout:
            await store.clear_failures(session, account=account)
        ended = await store.delete_sessions_of(session, account_id=account.id)

    await _change(session, account, action="staff.password_reset", actor=actor, now=now, change=change)
    return ended


async def unlock(session: AsyncSession, *, account_id: int, actor: str, now: dt.datetime) -> StaffAccount:
    """Lifts a lockout after failed logins."""
    account = await _account(session, account_id)

    async def change(account: StaffAccount) -> None:
        await store.clear_failures(session, account=account)

    return await _change(session, account, action="staff.unlock", actor=actor, now=now, change=change)
