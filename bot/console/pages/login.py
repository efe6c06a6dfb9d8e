"""Login (the only console page open to anonymous visitors) and logout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import (
    Staff,
    current_staff,
    end_session,
    keep_login_csrf,
    login_csrf_ok,
    login_csrf_token,
    staff_page,
    start_session,
)
from bot.console.login import Outcome, TwoStep, address_throttled, authenticate
from bot.console.state import client_ip, console_state, database, now, runtime
from bot.console.templates import flash, redirect, render, url
from storage.audit import append_entry

MESSAGES = {
    Outcome.INVALID: (400, "用户名或密码错误。"),
    Outcome.LOCKED: (429, "登录失败次数过多，账号已暂时锁定，请 {minutes} 分钟后再试，或请管理员解除锁定。"),
    Outcome.THROTTLED: (429, "登录尝试过于频繁，请稍后再试。"),
    Outcome.CODE: (400, "动态验证码错误或已使用过，请输入验证器 App 中当前显示的 6 位数字。"),
    Outcome.ENROLL: (
        403,
        "管理员账号须先启用两步验证：请在服务器上运行 python -m bot staff totp 用户名，用验证器 App 扫描后再登录。",
    ),
}


def _safe_next(request: Request, value: object) -> str | None:
    """Where to go after login: only a console path, so the form cannot send anyone off-site."""
    home = url(request, "dashboard")
    if not isinstance(value, str) or not value.startswith(home) or "//" in value or "\\" in value:
        return None
    if value.split("?")[0] in (url(request, "login"), url(request, "logout")):
        return None
    return value


def _form(
    request: Request, *, status_code: int = 200, error: str | None = None, name: str = "", next_url: str | None = None
) -> Response:
    context = {"error": error, "name": name, "next": next_url or "", "csrf": login_csrf_token(request)}
    response = render(request, "login.html", context, status_code=status_code)
    keep_login_csrf(request, response)
    return response


async def login_page(request: Request) -> Response:
    next_url = _safe_next(request, request.query_params.get("next"))
    if await current_staff(request) is not None:
        return RedirectResponse(next_url or url(request, "dashboard"), status_code=303)
    return _form(request, next_url=next_url)


async def login_submit(request: Request) -> Response:
    state = console_state(request)
    if await address_throttled(database(request), state.policy, ip=client_ip(request), now=now(request)):
        # Before the body is read: an address that has used up its attempts costs no more than this.
        status_code, message = MESSAGES[Outcome.THROTTLED]
        return _form(request, status_code=status_code, error=message)
    if not await login_csrf_ok(request):
        # Nothing is checked or counted: a forged or stale form must not lock anyone out either.
        return _form(request, status_code=403, error="页面已过期，请重新输入后登录。")
    form = await request.form()
    name = form.get("name")
    password = form.get("password")
    next_url = _safe_next(request, form.get("next"))
    if not isinstance(name, str) or not isinstance(password, str) or not name.strip() or not password:
        return _form(request, status_code=400, error="请输入用户名和密码。", name=str(name or ""), next_url=next_url)
    code = form.get("code")
    services = runtime(request).services
    result = await authenticate(
        database(request),
        state.passwords,
        state.policy,
        name=name,
        password=password,
        ip=client_ip(request),
        now=now(request),
        two_step=TwoStep(
            code if isinstance(code, str) else "",
            services.cipher,
            required_for_admins=runtime(request).settings.admin_two_step_required,
        ),
    )
    if result.outcome is Outcome.OK and result.account_id is not None:
        response = RedirectResponse(next_url or url(request, "dashboard"), status_code=303)
        await start_session(request, response, result.account_id)
        return response
    status_code, message = MESSAGES[result.outcome]
    minutes = int(state.policy.lockout.total_seconds() // 60)
    return _form(
        request,
        status_code=status_code,
        error=message.format(minutes=minutes),
        name=name.strip()[:64],
        next_url=next_url,
    )


@staff_page()
async def logout(request: Request, staff: Staff) -> Response:
    async with database(request).transaction() as session:
        await append_entry(
            session, at=now(request), actor=staff.name, action="logout", target_type="staff", target_id=staff.account_id
        )
    response = redirect(request, "login")
    await end_session(request, response)
    return flash(response, "您已退出登录。")


routes: list[BaseRoute] = [
    Route("/login", login_page, methods=["GET", "HEAD"], name="login"),
    Route("/login", login_submit, methods=["POST"], name="login_submit"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
