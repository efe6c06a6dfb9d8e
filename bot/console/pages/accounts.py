"""Staff accounts at /admin/accounts (admins only): list, create, change role and regions,
deactivate and reactivate, reset a password, unlock. Each change is audited with the account
before and after; the password hash never appears there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.passwords import password_problem
from bot.console.scope import (
    ADMIN,
    ROLE_LABELS,
    ROLES,
    UnknownRegionError,
    name_problem,
    normalize_regions,
    role_problem,
)
from bot.console.state import console_state, database, now, regions
from bot.console.templates import flash, redirect, render
from storage import staff as staff_store
from storage.audit import append_entry
from storage.models import StaffAccount

Change = Callable[[AsyncSession, StaffAccount], Awaitable[str | None]]


def _text(form: Any, field: str) -> str:
    value = form.get(field)
    return value.strip() if isinstance(value, str) else ""


async def _page(
    request: Request, *, status_code: int = 200, form: dict[str, str] | None = None, error: str = ""
) -> Response:
    at = now(request)
    async with database(request).sessions() as session:
        accounts = await staff_store.list_accounts(session)
    rows = [
        {"account": a, "locked": a.locked_until is not None and a.locked_until > at, "regions": "、".join(a.regions)}
        for a in accounts
    ]
    return render(
        request,
        "accounts.html",
        {"rows": rows, "roles": ROLES, "form": form or {"name": "", "role": "reviewer", "regions": ""}, "error": error},
        status_code=status_code,
    )


@staff_page(roles=[ADMIN])
async def accounts(request: Request, staff: Staff) -> Response:
    return await _page(request)


def _regions_or_problem(request: Request, role: str, typed: str) -> tuple[list[str], str | None]:
    try:
        names = normalize_regions([typed], regions(request))
    except UnknownRegionError as exc:
        return [], str(exc)
    return names, role_problem(role, names)


@staff_page(roles=[ADMIN])
async def create(request: Request, staff: Staff) -> Response:
    form = await request.form()
    entered = {"name": _text(form, "name"), "role": _text(form, "role"), "regions": _text(form, "regions")}
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    names, problem = _regions_or_problem(request, entered["role"], entered["regions"])
    problem = name_problem(entered["name"]) or problem or password_problem(password)
    if problem:
        return await _page(request, status_code=400, form=entered, error=problem)
    password_hash = await console_state(request).passwords.hash_async(password)
    at = now(request)
    async with database(request).transaction() as session:
        if await staff_store.account_by_name(session, name=entered["name"]) is not None:
            problem = f"账号名 {entered['name']} 已被使用。"
        else:
            account = await staff_store.create_account(
                session, name=entered["name"], role=entered["role"], regions=names, password_hash=password_hash, now=at
            )
            await append_entry(
                session,
                at=at,
                actor=staff.name,
                action="staff.create",
                target_type="staff",
                target_id=account.id,
                after=staff_store.account_snapshot(account),
            )
    if problem:
        return await _page(request, status_code=400, form=entered, error=problem)
    return flash(redirect(request, "accounts"), f"已创建账号 {entered['name']}（{ROLE_LABELS[entered['role']]}）。")


async def _change(request: Request, staff: Staff, action: str, change: Change, done: str) -> Response:
    """Applies `change` to the account in the URL in one transaction and audits it; `change` returns
    a Chinese reason to refuse, or None."""
    account_id = int(request.path_params["account_id"])
    at = now(request)
    async with database(request).transaction() as session:
        account = await staff_store.account_by_id(session, account_id=account_id)
        if account is None:
            return flash(redirect(request, "accounts"), "没有这个账号。", kind="error")
        before = staff_store.account_snapshot(account)
        problem = await change(session, account)
        if problem is None:
            await append_entry(
                session,
                at=at,
                actor=staff.name,
                action=action,
                target_type="staff",
                target_id=account.id,
                before=before,
                after=staff_store.account_snapshot(account),
            )
        name = account.name
    if problem is not None:
        return flash(redirect(request, "accounts"), problem, kind="error")
    return flash(redirect(request, "accounts"), done.format(name=name))


@staff_page(roles=[ADMIN])
async def update(request: Request, staff: Staff) -> Response:
    form = await request.form()
    role = _text(form, "role")
    names, problem = _regions_or_problem(request, role, _text(form, "regions"))

    async def change(session: AsyncSession, account: StaffAccount) -> str | None:
        if account.id == staff.account_id:
            return "不能修改自己的角色或地区（以免失去管理权限），请由另一位管理员操作。"
        if problem:
            return problem
        account.role, account.regions = role, names
        return None

    return await _change(request, staff, "staff.update", change, "已修改 {name} 的角色与地区。")


@staff_page(roles=[ADMIN])
async def deactivate(request: Request, staff: Staff) -> Response:
    async def change(session: AsyncSession, account: StaffAccount) -> str | None:
        if account.id == staff.account_id:
            return "不能停用自己的账号。"
        await staff_store.set_active(session, account=account, active=False)
        await staff_store.delete_sessions_of(session, account_id=account.id)  # signed out at once
        return None

    return await _change(request, staff, "staff.deactivate", change, "已停用账号 {name}，其登录已失效。")


@staff_page(roles=[ADMIN])
async def activate(request: Request, staff: Staff) -> Response:
    async def change(session: AsyncSession, account: StaffAccount) -> str | None:
        await staff_store.set_active(session, account=account, active=True)
        return None

    return await _change(request, staff, "staff.activate", change, "已启用账号 {name}。")


@staff_page(roles=[ADMIN])
async def reset_password(request: Request, staff: Staff) -> Response:
    form = await request.form()
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    problem = password_problem(password)
    password_hash = None if problem else await console_state(request).passwords.hash_async(password)

    async def change(session: AsyncSession, account: StaffAccount) -> str | None:
        if problem or password_hash is None:
            return problem
        await staff_store.set_password_hash(session, account=account, password_hash=password_hash)
        # Whoever knew the old password may be signed in with it: end those sessions.
        await staff_store.delete_sessions_of(session, account_id=account.id)
        return None

    response = await _change(request, staff, "staff.password_reset", change, "已重置 {name} 的密码，其原有登录已失效。")
    if not problem and int(request.path_params["account_id"]) == staff.account_id:
        return flash(redirect(request, "login"), "密码已修改，请用新密码重新登录。")
    return response


@staff_page(roles=[ADMIN])
async def unlock(request: Request, staff: Staff) -> Response:
    async def change(session: AsyncSession, account: StaffAccount) -> str | None:
        await staff_store.clear_failures(session, account=account)
        return None

    return await _change(request, staff, "staff.unlock", change, "已解除 {name} 的登录锁定。")


routes: list[BaseRoute] = [
    Route("/accounts", accounts, methods=["GET", "HEAD"], name="accounts"),
    Route("/accounts", create, methods=["POST"], name="account_create"),
    Route("/accounts/{account_id:int}/update", update, methods=["POST"], name="account_update"),
    Route("/accounts/{account_id:int}/deactivate", deactivate, methods=["POST"], name="account_deactivate"),
    Route("/accounts/{account_id:int}/activate", activate, methods=["POST"], name="account_activate"),
    Route("/accounts/{account_id:int}/password", reset_password, methods=["POST"], name="account_password"),
    Route("/accounts/{account_id:int}/unlock", unlock, methods=["POST"], name="account_unlock"),
]
