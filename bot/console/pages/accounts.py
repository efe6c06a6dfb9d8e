"""Staff accounts at /admin/accounts (admins only): list, create, change role and regions,
deactivate and reactivate, reset a password, unlock. Each change is audited with the account
before and after; the password hash never appears there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text
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
from handlers import staff_accounts as accounts_flow
from storage import staff as staff_store

Workflow = Callable[[AsyncSession, int], Awaitable[object]]
"""A workflow of `handlers.staff_accounts`, called with the account in the URL."""


def _password(form: FormData) -> str:
    """The password field as typed: never stripped, since spaces may belong to it."""
    value = form.get("password")
    return value if isinstance(value, str) else ""


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
    entered = {key: form_text(form, key, limit=10_000) for key in ("name", "role", "regions")}
    password = _password(form)
    names, problem = _regions_or_problem(request, entered["role"], entered["regions"])
    problem = name_problem(entered["name"]) or problem or password_problem(password, name=entered["name"])
    if problem:
        return await _page(request, status_code=400, form=entered, error=problem)
    password_hash = await console_state(request).passwords.hash_async(password)
    try:
        async with database(request).transaction() as session:
            await accounts_flow.create_account(
                session,
                name=entered["name"],
                role=entered["role"],
                regions=names,
                password_hash=password_hash,
                actor=staff.name,
                now=now(request),
            )
    except accounts_flow.AccountRefused as exc:
        return await _page(request, status_code=400, form=entered, error=exc.message)
    return flash(redirect(request, "accounts"), f"已创建账号 {entered['name']}（{ROLE_LABELS[entered['role']]}）。")


async def _act(request: Request, workflow: Workflow, done: str) -> Response:
    """Runs `workflow` on the account in the URL in one transaction; `done` may name the account."""
    account_id = int(request.path_params["account_id"])
    back = redirect(request, "accounts")
    try:
        async with database(request).transaction() as session:
            await workflow(session, account_id)
            account = await staff_store.account_by_id(session, account_id=account_id)
            name = account.name if account is not None else ""
    except accounts_flow.AccountNotFound:
        return flash(back, "没有这个账号。", kind="error")
    except accounts_flow.AccountRefused as exc:
        return flash(back, exc.message, kind="error")
    return flash(back, done.format(name=name))


@staff_page(roles=[ADMIN])
async def update(request: Request, staff: Staff) -> Response:
    form = await request.form()
    role = form_text(form, "role", limit=10_000)
    names, problem = _regions_or_problem(request, role, form_text(form, "regions", limit=10_000))
    return await _act(
        request,
        lambda session, account_id: accounts_flow.update_account(
            session,
            account_id=account_id,
            role=role,
            regions=names,
            actor_id=staff.account_id,
            actor=staff.name,
            now=now(request),
            problem=problem,
        ),
        "已修改 {name} 的角色与地区。",
    )


def _set_active(request: Request, staff: Staff, active: bool) -> Workflow:
    return lambda session, account_id: accounts_flow.set_active(
        session, account_id=account_id, active=active, actor_id=staff.account_id, actor=staff.name, now=now(request)
    )


@staff_page(roles=[ADMIN])
async def deactivate(request: Request, staff: Staff) -> Response:
    return await _act(request, _set_active(request, staff, False), "已停用账号 {name}，其登录已失效。")


@staff_page(roles=[ADMIN])
async def activate(request: Request, staff: Staff) -> Response:
    return await _act(request, _set_active(request, staff, True), "已启用账号 {name}。")


@staff_page(roles=[ADMIN])
async def reset_password(request: Request, staff: Staff) -> Response:
    form = await request.form()
    password = _password(form)
    async with database(request).sessions() as session:
        account = await staff_store.account_by_id(session, account_id=int(request.path_params["account_id"]))
    problem = password_problem(password, name=account.name if account is not None else "")
    password_hash = None if problem else await console_state(request).passwords.hash_async(password)
    response = await _act(
        request,
        lambda session, account_id: accounts_flow.reset_password(
            session,
            account_id=account_id,
            password_hash=password_hash,
            actor=staff.name,
            now=now(request),
            problem=problem,
        ),
        "已重置 {name} 的密码，其原有登录已失效。",
    )
    if not problem and int(request.path_params["account_id"]) == staff.account_id:
        return flash(redirect(request, "login"), "密码已修改，请用新密码重新登录。")
    return response


@staff_page(roles=[ADMIN])
async def unlock(request: Request, staff: Staff) -> Response:
    return await _act(
        request,
        lambda session, account_id: accounts_flow.unlock(
            session, account_id=account_id, actor=staff.name, now=now(request)
        ),
        "已解除 {name} 的登录锁定。",
    )


routes: list[BaseRoute] = [
    Route("/accounts", accounts, methods=["GET", "HEAD"], name="accounts"),
    Route("/accounts", create, methods=["POST"], name="account_create"),
    Route("/accounts/{account_id:rowid}/update", update, methods=["POST"], name="account_update"),
    Route("/accounts/{account_id:rowid}/deactivate", deactivate, methods=["POST"], name="account_deactivate"),
    Route("/accounts/{account_id:rowid}/activate", activate, methods=["POST"], name="account_activate"),
    Route("/accounts/{account_id:rowid}/password", reset_password, methods=["POST"], name="account_password"),
    Route("/accounts/{account_id:rowid}/unlock", unlock, methods=["POST"], name="account_unlock"),
]
