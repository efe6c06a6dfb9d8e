"""Two-step login: an account enrolled with `python -m bot staff totp` needs the authenticator's code,
each code works once, --disable turns it off, and a deployment can require it of admins."""

from __future__ import annotations

import asyncio
import io
import re
import sys

import pyotp
import pytest
from starlette.applications import Starlette

from bot.__main__ import main
from bot.config import Settings
from bot.server import create_app
from tests.console.conftest import CHEAP_HASHER, PASSWORD, MakeAccount, MakeClient, MovableClock, login


def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> int:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.delenv("BOT_NOW", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return main(list(args))


def error_of(text: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', text)
    return found.group(1) if found else ""


async def test_an_enrolled_account_needs_a_fresh_code(
    app: Starlette,
    make_account: MakeAccount,
    client: MakeClient,
    console_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_account("boss")
    assert await asyncio.to_thread(cli, monkeypatch, console_settings, "staff", "totp", "boss") == 0
    printed = capsys.readouterr().out
    assert "otpauth://totp/" in printed
    secret = printed.split("或手动输入密钥：")[1].split()[0]

    without = await login(client(), "boss")
    assert without.status_code == 400 and "动态验证码" in error_of(without.text)
    code = pyotp.TOTP(secret).now()
    assert (await login(client(), "boss", code=code)).status_code == 303
    replay = await login(client(), "boss", code=code)
    assert replay.status_code == 400 and "已使用" in error_of(replay.text), "a code works once"

    assert await asyncio.to_thread(cli, monkeypatch, console_settings, "staff", "totp", "boss", "--disable") == 0
    assert (await login(client(), "boss")).status_code == 303


async def test_a_deployment_can_require_two_step_login_of_admins(
    console_settings: Settings, clock: MovableClock
) -> None:
    import httpx

    from storage import staff as staff_store

    settings = console_settings.model_copy(update={"admin_two_step_required": True})
    app = create_app(settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with app.router.lifespan_context(app):
        async with app.state.runtime.db.transaction() as session:
            for name, role, regions in (("boss", "admin", []), ("rev", "reviewer", ["广东省"])):
                await staff_store.create_account(
                    session,
                    name=name,
                    role=role,
                    regions=regions,
                    password_hash=CHEAP_HASHER.hash(PASSWORD),
                    now=clock(),
                )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
            admin = await login(c, "boss")
            assert admin.status_code == 403 and "python -m bot staff totp" in error_of(admin.text)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
            assert (await login(c, "rev")).status_code == 303, "other roles as configured"
