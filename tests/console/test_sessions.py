"""Sessions: cookie flags, only a digest stored, expiry after inactivity (ADMIN_IDLE_MINUTES),
logout, and what each role may open."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.config import Settings
from bot.server import create_app
from storage import staff as staff_store
from storage.database import Database
from storage.models import StaffSession
from tests.console.conftest import (
    CHEAP_HASHER,
    SQLITE_ONLY,
    MakeAccount,
    MakeClient,
    MovableClock,
    SignedIn,
    csrf_in,
    login,
    post_form,
)


async def session_count(db: Database) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(StaffSession))).scalar_one())


async def test_the_cookie_is_httponly_lax_and_scoped_and_the_database_keeps_only_its_digest(
    app: Starlette, make_account: MakeAccount, client: MakeClient
) -> None:
    await make_account("boss")
    c = client()
    response = await login(c, "boss")
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("jd_admin="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/admin" in cookie
    assert "Max-Age=1800" in cookie  # ADMIN_IDLE_MINUTES' default, 30
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    token = c.cookies["jd_admin"]
    async with app.state.runtime.db.sessions() as session:
        stored = (await session.execute(select(StaffSession.token_hash))).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored


@SQLITE_ONLY
async def test_the_cookies_are_secure_over_https(make_account: MakeAccount, client: MakeClient) -> None:
    await make_account("boss")
    c = client(https=True)
    page = await c.get("/admin/login")
    assert "Secure" in page.headers["set-cookie"]
    response = await c.post(
        "/admin/login", data={"csrf": csrf_in(page.text), "name": "boss", "password": "correct-horse-42"}
    )
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("jd_admin="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert (await c.get("/admin/")).status_code == 200


async def test_a_session_ends_after_thirty_idle_minutes(
    app: Starlette, signed_in: SignedIn, clock: MovableClock
) -> None:
    c = await signed_in("admin")
    clock.advance(minutes=29)
    renewed = await c.get("/admin/")
    assert renewed.status_code == 200
    assert "Max-Age=1800" in renewed.headers["set-cookie"]  # activity renews the cookie too
    clock.advance(minutes=29)  # 58 minutes after login, but only 29 after the last request
    assert (await c.get("/admin/audit")).status_code == 200
    clock.advance(minutes=30)
    expired = await c.get("/admin/")
    assert expired.status_code == 303 and expired.headers["location"].startswith("/admin/login")
    assert await session_count(app.state.runtime.db) == 0  # removed, not merely ignored


@pytest.fixture
async def five_minute_app(clock: MovableClock, console_settings: Settings) -> AsyncIterator[Starlette]:
    settings = console_settings.model_copy(update={"admin_idle_minutes": 5})
    application = create_app(settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with application.router.lifespan_context(application):
        yield application


@SQLITE_ONLY
async def test_the_idle_period_is_configurable(five_minute_app: Starlette, clock: MovableClock) -> None:
    async with five_minute_app.state.runtime.db.transaction() as session:
        await staff_store.create_account(
            session,
            name="boss",
            role="admin",
            regions=[],
            password_hash=CHEAP_HASHER.hash("correct-horse-42"),
            now=clock(),
        )
    transport = httpx.ASGITransport(app=five_minute_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
        response = await login(c, "boss")
        assert "Max-Age=300" in response.headers["set-cookie"]
        clock.advance(minutes=4)
        assert (await c.get("/admin/")).status_code == 200
        clock.advance(minutes=5, seconds=1)
        assert (await c.get("/admin/")).status_code == 303


async def test_logout_ends_the_session_on_the_server(app: Starlette, signed_in: SignedIn, client: MakeClient) -> None:
    c = await signed_in("admin")
    token = c.cookies["jd_admin"]
    response = await post_form(c, "/admin/logout")
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert any(
        h.startswith('jd_admin="";') or h.startswith("jd_admin=;") for h in response.headers.get_list("set-cookie")
    )
    assert await session_count(app.state.runtime.db) == 0
    page = await c.get("/admin/login")
    assert "您已退出登录" in page.text
    # The old cookie, kept by someone, opens nothing.
    replay = client()
    replay.cookies.set("jd_admin", token, domain="console.test", path="/admin")
    assert (await replay.get("/admin/")).status_code == 303


@SQLITE_ONLY
async def test_a_session_lasts_at_most_twelve_hours(signed_in: SignedIn, clock: MovableClock) -> None:
    c = await signed_in("admin")
    for _ in range(24):  # busy all day: a request every 29 minutes, 11 h 36 min in all
        clock.advance(minutes=29)
        assert (await c.get("/admin/")).status_code == 200
    clock.advance(minutes=25)
    assert (await c.get("/admin/")).status_code == 303


async def test_a_reviewer_cannot_open_admin_pages(app: Starlette, signed_in: SignedIn) -> None:
    reviewer = await signed_in("reviewer", regions=["广东省"])
    dashboard = await reviewer.get("/admin/")
    assert dashboard.status_code == 200 and "reviewer1（审核员）" in dashboard.text and "广东省" in dashboard.text
    assert "账号管理" not in dashboard.text
    assert (await reviewer.get("/admin/accounts")).status_code == 403
    refused = await post_form(reviewer, "/admin/accounts", {"name": "mole", "role": "admin", "password": "p" * 12})
    assert refused.status_code == 403 and "无权访问" in refused.text
    assert "mole" not in (await reviewer.get("/admin/audit")).text


@SQLITE_ONLY
async def test_a_viewer_cannot_open_admin_pages_either(signed_in: SignedIn) -> None:
    viewer = await signed_in("viewer")
    assert (await viewer.get("/admin/")).status_code == 200
    assert (await viewer.get("/admin/accounts")).status_code == 403
    assert (await viewer.get("/admin/audit")).status_code == 200
