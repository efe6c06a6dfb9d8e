"""Who is asking: the session cookie, its server-side session, CSRF tokens, and `@staff_page`,
which every console page except the login page goes through.

The cookie holds a random token; the database holds only its SHA-256, the account and the
session's CSRF token. A session ends after `ADMIN_IDLE_MINUTES` without a request, 12 hours after
login, at logout, or when the account is deactivated or its password reset."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.channels.web import _same_origin as same_origin
from bot.console.nav import nav_counts
from bot.console.scope import ADMIN, ROLES, WRITERS, visible_regions
from bot.console.state import console_state, database, now, regions
from bot.console.templates import COOKIE_PATH, error_page, url
from storage import staff as staff_store

SESSION_COOKIE = "jd_admin"
LOGIN_CSRF_COOKIE = "jd_admin_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
TOUCH_EVERY = dt.timedelta(seconds=60)
"""Record activity at most this often: a write per page view would serialise SQLite for nothing."""
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member, as a page handler receives it."""

    account_id: int
    name: str
    role: str
    regions: tuple[str, ...]
    """As configured: canonical names; empty means every region."""
    csrf_token: str
    visible: frozenset[str] | None
    """Every region this member may see, nested ones included; None means all."""

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def can_write(self) -> bool:
        """Admins and reviewers act on requests; viewers only read."""
        return self.role in WRITERS

    def can_see_region(self, region: str) -> bool:
        return self.visible is None or region in self.visible


def can_see_region(staff: Staff, region: str) -> bool:
    """True when `staff` may see records of `region` (广东省 covers 广州市)."""
    return staff.can_see_region(region)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cookie(request: Request, name: str) -> str | None:
    value = request.cookies.get(name)
    return value if value and TOKEN.fullmatch(value) else None


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), Secure over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


async def current_staff(request: Request) -> Staff | None:
    """The staff member whose live session the request's cookie names, or None. An expired session
    is deleted on sight."""
    token = _cookie(request, SESSION_COOKIE)
    if token is None:
        return None
    digest = token_digest(token)
    state = console_state(request)
    db = database(request)
    at = now(request)
    async with db.sessions() as session:
        found = await staff_store.find_session(session, token_hash=digest)
    if found is None:
        return None
    row, account = found
    if at - row.last_seen_at >= state.idle or at - row.created_at >= state.max_age or not account.active:
        async with db.transaction() as session:
            await staff_store.delete_session(session, token_hash=digest)
        return None
    if at - row.last_seen_at >= TOUCH_EVERY:
        async with db.transaction() as session:
            await staff_store.touch_session(session, token_hash=digest, now=at)
        request.state.renew_cookie = token
    return Staff(
        account_id=account.id,
        name=account.name,
        role=account.role,
        regions=tuple(account.regions),
        csrf_token=row.csrf_token,
        visible=visible_regions(account.regions, regions(request)),
    )


async def start_session(request: Request, response: Response, account_id: int) -> None:
    """Signs `account_id` in: a new session (never the one the browser brought, against fixation)
    and its cookie on `response`. Sessions that can no longer be used are cleared out meanwhile."""
    state = console_state(request)
    at = now(request)
    token = secrets.token_urlsafe(32)
    async with database(request).transaction() as session:
        old = _cookie(request, SESSION_COOKIE)
        if old is not None:
            await staff_store.delete_session(session, token_hash=token_digest(old))
        await staff_store.delete_stale_sessions(session, seen_before=at - state.idle, created_before=at - state.max_age)
        await staff_store.create_session(
            session, account_id=account_id, token_hash=token_digest(token), csrf_token=secrets.token_urlsafe(32), now=at
        )
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(state.idle.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)


async def end_session(request: Request, response: Response) -> None:
    """Logout: the server forgets the session, so the cookie is worthless even if kept."""
    token = _cookie(request, SESSION_COOKIE)
    if token is not None:
        async with database(request).transaction() as session:
            await staff_store.delete_session(session, token_hash=token_digest(token))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def login_csrf_token(request: Request) -> str:
    """The login form's CSRF token. There is no session yet, so it is a double-submit token: the
    same random value in a cookie and in the form (`keep_login_csrf` sets the cookie)."""
    existing: str | None = getattr(request.state, "login_csrf", None)
    if existing:
        return existing
    token = _cookie(request, LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.state.login_csrf = token
    return token


def keep_login_csrf(request: Request, response: Response) -> None:
    token = login_csrf_token(request)
    if _cookie(request, LOGIN_CSRF_COOKIE) != token:
        set_cookie(request, response, LOGIN_CSRF_COOKIE, token)


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token a POST carries: the `csrf` form field, or the X-CSRF-Token header."""
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    form = await request.form()  # Starlette caches it: the handler reads the same form again for free
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def tokens_match(supplied: str | None, expected: str | None) -> bool:
    if not supplied or not expected:
        return False
    return hmac.compare_digest(supplied.encode(), expected.encode())


async def login_csrf_ok(request: Request) -> bool:
    return same_origin(request) and tokens_match(await submitted_csrf(request), _cookie(request, LOGIN_CSRF_COOKIE))


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, coming back here afterwards."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{url(request, 'login')}?next={quote(back, safe='')}", status_code=303)


StaffHandler = Callable[[Request, Staff], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def staff_page(*, roles: Collection[str] = ROLES) -> Callable[[StaffHandler], Endpoint]:
    """Makes `handler(request, staff)` a console endpoint that only signed-in staff of `roles` reach.

    Anonymous GET → redirect to the login page; anonymous POST → 403. Every POST must carry the
    session's CSRF token (form field `csrf`, or header X-CSRF-Token) and come from this site, else 403
    and the handler never runs. A role not in `roles` gets 403. The staff member is also on
    `request.state.staff`, which `render` uses for the navigation."""
    allowed = frozenset(roles)
    unknown = allowed - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorate(handler: StaffHandler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            staff = await current_staff(request)
            safe = request.method in SAFE_METHODS
            if staff is None:
                return login_redirect(request) if safe else error_page(request, 403, "请先登录。")
            request.state.staff = staff
            if not safe and not (
                same_origin(request) and tokens_match(await submitted_csrf(request), staff.csrf_token)
            ):
                return error_page(request, 403, "页面已过期或请求来源不正确，请刷新页面后重试。")
            if staff.role not in allowed:
                return error_page(request, 403, "您的账号无权访问此页面。")
            if safe:
                request.state.nav_counts = await nav_counts(database(request), staff.visible)
            response = await handler(request, staff)
            renewed = getattr(request.state, "renew_cookie", None)
            cookies = response.headers.getlist("set-cookie")
            if renewed and not any(c.startswith(f"{SESSION_COOKIE}=") for c in cookies):
                set_cookie(
                    request, response, SESSION_COOKIE, renewed, max_age=int(console_state(request).idle.total_seconds())
                )
            return response

        return endpoint

    return decorate
