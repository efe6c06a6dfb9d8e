"""Logging in: success, failures that look alike, the lockout and its end, the per-address throttle,
the login form's CSRF token, and what the audit log keeps (never a password)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.applications import Starlette

from bot.config import Settings
from bot.console.passwords import Passwords
from bot.server import create_app
from storage.database import Database
from storage.models import AuditEntry, StaffAccount
from tests.console.conftest import (
    PASSWORD,
    SQLITE_ONLY,
    MakeAccount,
    MakeClient,
    MovableClock,
    csrf_in,
    login,
)

WRONG = "wrong-password-1"


async def audit_entries(db: Database) -> list[AuditEntry]:
    async with db.sessions() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


def error_of(response: httpx.Response) -> str:
    return response.text.split('class="flash error" role="alert">')[1].split("<")[0]


async def test_login_then_dashboard(app: Starlette, make_account: MakeAccount, client: MakeClient) -> None:
    await make_account("boss")
    c = client()
    response = await login(c, "boss")
    assert response.status_code == 303 and response.headers["location"] == "/admin/"
    page = await c.get("/admin/")
    assert page.status_code == 200
    assert "仪表盘" in page.text and "boss（管理员）" in page.text and "退出登录" in page.text
    async with app.state.runtime.db.sessions() as session:
        account = (await session.execute(select(StaffAccount))).scalar_one()
    assert account.last_login_at is not None and account.failed_logins == 0
    # An already signed-in visitor of the login page goes straight on.
    assert (await c.get("/admin/login")).headers["location"] == "/admin/"


@SQLITE_ONLY
async def test_login_returns_to_the_page_asked_for_but_never_off_site(
    make_account: MakeAccount, client: MakeClient
) -> None:
    await make_account("boss")
    c = client()
    first = await c.get("/admin/audit?action=login")
    assert first.headers["location"] == "/admin/login?next=%2Fadmin%2Faudit%3Faction%3Dlogin"
    page = await c.get(first.headers["location"])
    assert 'name="next" value="/admin/audit?action=login"' in page.text
    response = await c.post(
        "/admin/login",
        data={"csrf": csrf_in(page.text), "name": "boss", "password": PASSWORD, "next": "/admin/audit?action=login"},
    )
    assert response.headers["location"] == "/admin/audit?action=login"
    for evil in ("https://evil.example/", "//evil.example/admin/", "/admin/..//evil", "/elsewhere"):
        other = client()
        assert (await login(other, "boss", next=evil)).headers["location"] == "/admin/", evil


async def test_wrong_name_and_wrong_password_look_alike(
    app: Starlette, make_account: MakeAccount, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await make_account("boss")
    await make_account("gone", active=False)
    c = client()
    wrong_password = await login(c, "boss", WRONG)
    wrong_name = await login(c, "nobody", WRONG)
    inactive = await login(c, "gone")  # the right password of a deactivated account
    assert wrong_password.status_code == wrong_name.status_code == inactive.status_code == 400
    assert error_of(wrong_password) == error_of(wrong_name) == error_of(inactive) == "用户名或密码错误。"
    assert "jd_admin=" not in wrong_password.headers.get("set-cookie", "")

    # Audited, without the password and without a name that is no account's (it may be a password).
    entries = [e for e in await audit_entries(app.state.runtime.db) if e.action == "login_failed"]
    assert len(entries) == 3
    text = json.dumps([[e.actor, e.target_id, e.before, e.after, e.note] for e in entries], ensure_ascii=False)
    assert WRONG not in text and PASSWORD not in text and "nobody" not in text
    assert "未知账号" in text and "账号已停用" in text
    # Nor do the logs hold a password, even at DEBUG; nor, at the default INFO, the name typed (which may
    # be a password typed in the wrong box: at DEBUG the database driver logs it as a query parameter).
    assert caplog.records and WRONG not in caplog.text and PASSWORD not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "nobody" in r.getMessage()]


@SQLITE_ONLY
async def test_an_unknown_name_is_checked_against_a_dummy_hash(
    console_settings: Settings, clock: MovableClock, client: MakeClient
) -> None:
    """The same argon2 work for a name that does not exist, so timing does not tell names apart."""

    class CountingHasher(PasswordHasher):
        verified = 0

        def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 - argon2's own name
            CountingHasher.verified += 1
            return super().verify(hash, password)

    hasher = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    app = create_app(console_settings, clock=clock, password_hasher=hasher)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as c:
            response = await login(c, "nobody", WRONG)
    assert response.status_code == 400
    assert CountingHasher.verified == 1
    assert Passwords(hasher).verify(None, "anything at all") is False


async def test_five_failures_lock_the_account_for_fifteen_minutes(
    app: Starlette, make_account: MakeAccount, client: MakeClient, clock: MovableClock
) -> None:
    await make_account("boss")
    c = client()
    statuses = [(await login(c, "boss", WRONG)).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    locked = await login(c, "boss")  # even the right password
    assert locked.status_code == 429 and "锁定" in error_of(locked) and "15 分钟" in error_of(locked)
    other_address = await login(client(ip="10.0.0.9"), "boss")
    assert other_address.status_code == 429  # the account is locked, not the address

    clock.advance(minutes=14, seconds=59)
    assert (await login(c, "boss")).status_code == 429
    clock.advance(seconds=2)
    assert (await login(c, "boss")).status_code == 303

    actions = [e.action for e in await audit_entries(app.state.runtime.db)]
    assert actions.count("staff.locked") == 1 and actions[-1] == "login"


async def test_failures_spread_over_more_than_the_window_do_not_lock(
    make_account: MakeAccount, client: MakeClient, clock: MovableClock
) -> None:
    await make_account("boss")
    c = client()
    for _ in range(4):
        assert (await login(c, "boss", WRONG)).status_code == 400
    clock.advance(minutes=16)
    for _ in range(4):
        assert (await login(c, "boss", WRONG)).status_code == 400
    assert (await login(c, "boss")).status_code == 303


async def test_unknown_names_lock_on_the_same_attempt_so_a_lockout_reveals_nothing(
    make_account: MakeAccount, client: MakeClient, clock: MovableClock
) -> None:
    await make_account("boss")
    seen: dict[str, list[tuple[int, str]]] = {}
    for name, ip in (("boss", "10.0.0.1"), ("ghost", "10.0.0.2")):
        c = client(ip=ip)
        seen[name] = []
        for _ in range(7):
            response = await login(c, name, WRONG)
            seen[name].append((response.status_code, error_of(response)))
    assert seen["boss"] == seen["ghost"]
    assert [status for status, _ in seen["ghost"]] == [400, 400, 400, 400, 429, 429, 429]
    clock.advance(minutes=15, seconds=1)
    assert (await login(client(ip="10.0.0.3"), "ghost", WRONG)).status_code == 400
    assert (await login(client(ip="10.0.0.4"), "boss", WRONG)).status_code == 400, "both unlock together"


async def test_one_address_is_throttled_after_twenty_failures(
    make_account: MakeAccount, client: MakeClient, clock: MovableClock
) -> None:
    await make_account("boss")
    attacker = client(ip="203.0.113.7")
    for i in range(20):  # a different name each time: no single name reaches its own limit
        assert (await login(attacker, f"guess{i}", WRONG)).status_code == 400
    throttled = await login(attacker, "boss")
    assert throttled.status_code == 429 and "频繁" in error_of(throttled)
    # Another address is not affected, and the account is not locked.
    assert (await login(client(ip="198.51.100.2"), "boss")).status_code == 303
    clock.advance(minutes=16)
    assert (await login(attacker, "boss")).status_code == 303


@SQLITE_ONLY
async def test_the_login_form_needs_its_csrf_token(
    app: Starlette, make_account: MakeAccount, client: MakeClient
) -> None:
    await make_account("boss")
    c = client()
    page = await c.get("/admin/login")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("jd_admin_login=") and "HttpOnly" in cookie and "Path=/admin" in cookie
    token = csrf_in(page.text)
    assert (await c.post("/admin/login", data={"name": "boss", "password": PASSWORD})).status_code == 403
    wrong = await c.post("/admin/login", data={"csrf": "B" * 43, "name": "boss", "password": PASSWORD})
    assert wrong.status_code == 403
    # A token from another browser's form does not match this browser's cookie.
    stranger = csrf_in((await client().get("/admin/login")).text)
    assert (
        await c.post("/admin/login", data={"csrf": stranger, "name": "boss", "password": PASSWORD})
    ).status_code == 403
    # Nothing was counted against the account, and no session exists.
    async with app.state.runtime.db.sessions() as session:
        account = (await session.execute(select(StaffAccount))).scalar_one()
    assert account.failed_logins == 0 and account.last_login_at is None
    assert (await c.get("/admin/")).status_code == 303
    assert (await c.post("/admin/login", data={"csrf": token, "name": "boss", "password": PASSWORD})).status_code == 303


@SQLITE_ONLY
@pytest.mark.parametrize("fields", [{"name": "", "password": "x"}, {"name": "boss"}, {}])
async def test_an_incomplete_form_asks_again(client: MakeClient, fields: dict[str, str]) -> None:
    c = client()
    page = await c.get("/admin/login")
    response = await c.post("/admin/login", data={"csrf": csrf_in(page.text), **fields})
    assert response.status_code == 400 and "请输入用户名和密码" in response.text
