"""The staff console at /admin: server-rendered pages for staff, behind a login.

`routes(settings)` and `running(app, settings)` plug it into the server like a channel. Pages live in
`bot.console.pages`; a page handler is decorated with `@staff_page(roles=…)`, receives the signed-in
`Staff`, and answers with `render(request, "template.html", {...})`."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from collections.abc import AsyncIterator

from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.app import runtime_of
from bot.config import Settings
from bot.console import route_ids  # noqa: F401 - registers {…:rowid} before any page module builds its routes
from bot.console.auth import Staff, can_see_region, staff_page
from bot.console.canned import Phrases
from bot.console.exports import use_font_file
from bot.console.passwords import Passwords
from bot.console.state import ConsoleState, LoginPolicy, database, now
from bot.console.templates import error_page, flash, redirect, render, url
from storage.staff import count_accounts

__all__ = [
    "Staff",
    "can_see_region",
    "database",
    "error_page",
    "flash",
    "now",
    "redirect",
    "render",
    "routes",
    "running",
    "staff_page",
    "url",
]

log = logging.getLogger(__name__)
FIRST_ACCOUNT_HINT = (
    "员工控制台（/admin）还没有任何账号。请先创建管理员账号：\n"
    "    python -m bot staff add 用户名 --role admin\n"
    "（按提示输入两次密码，至少 10 个字符）"
)


def routes(settings: Settings) -> list[BaseRoute]:
    """Everything under /admin: the login page, the other pages, the stylesheet."""
    from bot.console.app import console_mount  # imports every page module

    return [console_mount()]


@contextlib.asynccontextmanager
async def running(
    app: Starlette, settings: Settings, *, hasher: PasswordHasher | None = None, policy: LoginPolicy | None = None
) -> AsyncIterator[None]:
    """Prepares the console's state. `hasher` and `policy` exist for tests (cheap argon2 parameters,
    other limits); production uses argon2-cffi's defaults and the documented limits.

    On a database without staff accounts it says how to create the first one: none is created silently."""
    passwords = Passwords(hasher)
    await passwords.warm_up()
    runtime = runtime_of(app)
    runtime.console = ConsoleState(
        passwords=passwords,
        idle=dt.timedelta(minutes=settings.admin_idle_minutes),
        policy=policy or LoginPolicy(),
        phrases=Phrases.load(settings.console_phrases_file),
    )
    if use_font_file(settings.pdf_font_file) is None:
        log.warning(
            "没有找到中文 TrueType 字体：弃考声明 PDF 将不嵌入字体，请安装 fonts-wqy-microhei 或设置 PDF_FONT_FILE"
        )
    async with runtime.db.sessions() as session:
        accounts = await count_accounts(session)
    if accounts == 0:
        log.warning("员工控制台还没有账号：请用 python -m bot staff add 用户名 --role admin 创建管理员")
        print(FIRST_ACCOUNT_HINT, file=sys.stderr)
    yield
