"""Input out of every range, against a running server (real HTTP on loopback): ids past 64 bits on every
console route that takes one, dates in year 1 and 9999, JSON nested thousands deep, and a client that
hangs up half-way through a login form. Each is a 4xx or a polite message and one log line, never a 500
or a traceback."""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from bot.config import Settings
from bot.console.templates import FLASH_COOKIE
from bot.server import create_app
from storage import staff as staff_store
from tests.channels.conftest import serving
from tests.console.conftest import CHEAP_HASHER, MovableClock, csrf_in, login

HUGE = "184467440737095516160"  # ten times 2**64


def id_routes(app: Starlette) -> list[tuple[str, set[str]]]:
    """Every console path with a row id in it, with its methods."""
    found = []
    for mount in app.routes:
        if isinstance(mount, Mount) and mount.path == "/admin":
            for route in mount.routes:
                if isinstance(route, Route) and ":rowid}" in route.path:
                    found.append((mount.path + route.path, set(route.methods or ())))
    return found


async def signed_in_admin(app: Starlette, base: str, clock: MovableClock) -> httpx.AsyncClient:
    async with app.state.runtime.db.transaction() as session:
        await staff_store.create_account(
            session,
            name="boss",
            role="admin",
            regions=[],
            password_hash=CHEAP_HASHER.hash("correct-horse-42"),
            now=clock(),
        )
    client = httpx.AsyncClient(base_url=base)
    assert (await login(client, "boss", "correct-horse-42")).status_code == 303
    return client


async def test_ids_past_64_bits_and_dates_out_of_range_are_refused_politely(
    console_settings: Settings, clock: MovableClock
) -> None:
    app = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base:
        admin = await signed_in_admin(app, base, clock)
        try:
            routes = id_routes(app)
            assert len(routes) >= 20, "every detail and action route is covered"
            token = csrf_in((await admin.get("/admin/")).text)
            for path, methods in routes:
                url = re.sub(r"\{\w+:rowid\}", HUGE, path)
                if "GET" in methods:
                    assert (await admin.get(url)).status_code == 404, url
                if "POST" in methods:
                    assert (await admin.post(url, data={"csrf": token})).status_code == 404, url

            far = {"from": "0001-01-01", "to": "9999-12-31", "exam_date": "0001-01-01"}
            listed = await admin.get("/admin/requests", params=far)
            assert listed.status_code == 200 and "不是有效日期" in listed.text
            exported = await admin.get("/admin/requests/export.xlsx", params=far)
            assert exported.status_code < 500
            for at in ("0001-01-01T00:00", "9999-12-31T23:59"):
                preview = await admin.post(
                    "/admin/broadcasts/preview", data={"csrf": token, "region": "广州市", "text": "提醒", "at": at}
                )
                assert preview.status_code < 500 and ("有效范围" in preview.text or "180 天" in preview.text), at
        finally:
            await admin.aclose()


async def test_json_nested_thousands_deep_is_a_bad_request(console_settings: Settings, clock: MovableClock) -> None:
    app = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base, httpx.AsyncClient(base_url=base, headers={"Origin": base}) as visitor:
        await visitor.get("/")
        deep = await visitor.post("/api/chat", content=b"[" * 4000, headers={"content-type": "application/json"})
        assert deep.status_code == 400 and "JSON" in deep.json()["error"]
        cookie_bomb = await visitor.get("/admin/login", headers={"Cookie": f"{FLASH_COOKIE}=" + "%5B" * 3000})
        assert cookie_bomb.status_code == 200


async def test_a_client_hanging_up_mid_form_is_one_log_line(
    console_settings: Settings, clock: MovableClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    with caplog.at_level(logging.INFO):
        async with serving(app) as base:
            async with httpx.AsyncClient(base_url=base) as client:
                page = await client.get("/admin/login")
                token, cookie = csrf_in(page.text), page.headers["set-cookie"].split(";")[0]
            port = int(base.rsplit(":", 1)[1])
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = (
                "POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000\r\n"
                f"Cookie: {cookie}\r\n\r\n"
            )
            writer.write(head.encode() + f"csrf={token}&name=boss&pass".encode())
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            for _ in range(100):
                if any("client went away" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
    assert any("client went away during POST /admin/login" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], "no traceback"
