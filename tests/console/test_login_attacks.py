"""Attacks on the login form of a running server (uvicorn on loopback, the real database): a burst of
simultaneous guesses, and bodies far larger than the form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.config import Settings
from bot.server import create_app
from storage import staff as staff_store
from storage.models import StaffSession
from tests.channels.conftest import serving
from tests.console.conftest import PASSWORD, MovableClock, csrf_in

WRONG = "wrong-password-1"


class CountingHasher(PasswordHasher):
    """Cheap argon2 that counts the passwords it was asked to check."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 - argon2's own name
        CountingHasher.verified += 1
        return super().verify(hash, password)


HASHER = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
async def running(console_settings: Settings, clock: MovableClock) -> AsyncIterator[tuple[Starlette, str]]:
    """The console served on loopback with the counting hasher: (app, base URL)."""
    app = create_app(console_settings, clock=clock, password_hasher=HASHER)
    async with serving(app) as base:
        yield app, base


async def form_client(base: str) -> tuple[httpx.AsyncClient, str]:
    """A browser-like client that has opened the login page: its cookie jar and the form's token."""
    c = httpx.AsyncClient(base_url=base)
    page = await c.get("/admin/login")
    return c, csrf_in(page.text)


@asynccontextmanager
async def opened_form(base: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    c, token = await form_client(base)
    try:
        yield c, token
    finally:
        await c.aclose()


async def sessions_of(app: Starlette) -> int:
    async with app.state.runtime.db.sessions() as session:
        return int((await session.execute(select(func.count(StaffSession.token_hash)))).scalar_one())


async def test_a_burst_of_thirty_simultaneous_logins_checks_at_most_five_wrong_passwords(
    running: tuple[Starlette, str], clock: MovableClock
) -> None:
    app, base = running
    async with app.state.runtime.db.transaction() as session:
        await staff_store.create_account(
            session, name="boss", role="admin", regions=[], password_hash=HASHER.hash(PASSWORD), now=clock()
        )
    prepared = [await form_client(base) for _ in range(30)]
    CountingHasher.verified = 0
    passwords = [WRONG] * 29
    passwords.insert(17, PASSWORD)  # the right one somewhere in the burst
    try:
        responses = await asyncio.gather(
            *(
                c.post("/admin/login", data={"csrf": token, "name": "boss", "password": password})
                for (c, token), password in zip(prepared, passwords, strict=True)
            )
        )
        checked = CountingHasher.verified
        signed_in = [r for r in responses if r.status_code == 303]
        after = await prepared[0][0].post(
            "/admin/login", data={"csrf": prepared[0][1], "name": "boss", "password": PASSWORD}
        )
    finally:
        for c, _ in prepared:
            await c.aclose()
    # Five wrong guesses at most; a success is not a failure, so one more may be checked after it.
    assert checked - len(signed_in) <= 5, f"{checked} passwords were checked in one burst"
    assert sum(r.status_code == 429 for r in responses) >= 25
    assert len(signed_in) <= 1 and await sessions_of(app) == len(signed_in)
    if not signed_in:
        assert after.status_code == 429, "the burst locked the account: the right password waits too"


async def test_the_address_limit_holds_in_a_burst_of_different_names(
    running: tuple[Starlette, str], clock: MovableClock
) -> None:
    app, base = running
    prepared = [await form_client(base) for _ in range(40)]
    CountingHasher.verified = 0
    try:
        responses = await asyncio.gather(
            *(
                c.post("/admin/login", data={"csrf": token, "name": f"guess{n}", "password": WRONG})
                for n, (c, token) in enumerate(prepared)
            )
        )
    finally:
        for c, _ in prepared:
            await c.aclose()
    assert CountingHasher.verified <= 20
    assert sum("频繁" in r.text for r in responses) >= 20


async def test_oversized_and_multipart_bodies_are_refused_before_they_are_read(
    running: tuple[Starlette, str], clock: MovableClock
) -> None:
    app, base = running
    async with opened_form(base) as (c, token):
        CountingHasher.verified = 0
        declared = await c.post(
            "/admin/login",
            content=b"csrf=" + token.encode() + b"&name=boss&password=" + b"x" * (8 * 1024 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert declared.status_code == 413 and "过大" in declared.text

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap holds while reading
            yield b"csrf=" + token.encode() + b"&name=boss&password="
            for _ in range(64):
                yield b"x" * 16384

        chunked = await c.post(
            "/admin/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert chunked.status_code == 413
        upload = await c.post(
            "/admin/login", data={"csrf": token, "name": "boss"}, files={"password": ("p.txt", b"secret")}
        )
        assert upload.status_code == 415
        elsewhere = await c.post("/admin/requests/approve", files={"f": ("a.txt", b"a")})
        assert elsewhere.status_code == 415
        assert CountingHasher.verified == 0, "no refused body reached the password check"
        ordinary = await c.post("/admin/login", data={"csrf": token, "name": "boss", "password": WRONG})
        assert ordinary.status_code == 400, "a form of ordinary size is still read"


async def test_a_throttled_address_is_answered_before_its_form_is_read(
    running: tuple[Starlette, str], clock: MovableClock
) -> None:
    app, base = running
    async with opened_form(base) as (c, token):
        for n in range(20):
            await c.post("/admin/login", data={"csrf": token, "name": f"guess{n}", "password": WRONG})
        # No CSRF token at all: had the form been read first, this would be the CSRF refusal (403).
        throttled = await c.post("/admin/login", data={"name": "boss", "password": WRONG})
    assert throttled.status_code == 429 and "频繁" in throttled.text


async def test_a_real_name_and_an_unknown_one_lock_alike(running: tuple[Starlette, str], clock: MovableClock) -> None:
    app, base = running
    async with app.state.runtime.db.transaction() as session:
        await staff_store.create_account(
            session, name="boss", role="admin", regions=[], password_hash=HASHER.hash(PASSWORD), now=clock()
        )
    seen = {}
    for name in ("boss", "ghost"):
        async with opened_form(base) as (c, token):
            seen[name] = [
                (r.status_code, r.text.split('role="alert">')[1].split("<")[0])
                for r in [
                    await c.post("/admin/login", data={"csrf": token, "name": name, "password": WRONG})
                    for _ in range(6)
                ]
            ]
    assert seen["boss"] == seen["ghost"] and [s for s, _ in seen["boss"]] == [400, 400, 400, 400, 429, 429]


async def test_weak_passwords_are_refused_over_http(running: tuple[Starlette, str], clock: MovableClock) -> None:
    app, base = running
    async with app.state.runtime.db.transaction() as session:
        await staff_store.create_account(
            session, name="boss", role="admin", regions=[], password_hash=HASHER.hash(PASSWORD), now=clock()
        )
    async with opened_form(base) as (c, token):
        assert (
            await c.post("/admin/login", data={"csrf": token, "name": "boss", "password": PASSWORD})
        ).status_code == 303
        csrf = csrf_in((await c.get("/admin/accounts")).text)
        for password, reason in (
            ("password12", "太容易被猜到"),
            ("aaaaaaaaaa", "太容易被猜到"),
            ("wangwu-2026-pass", "不能包含账号名"),
        ):
            form = {"csrf": csrf, "name": "wangwu", "role": "viewer", "regions": "", "password": password}
            refused = await c.post("/admin/accounts", data=form)
            assert refused.status_code == 400 and reason in refused.text, password
        form = {"csrf": csrf, "name": "wangwu", "role": "viewer", "regions": "", "password": "Tq7-renshe-Lk2w"}
        assert (await c.post("/admin/accounts", data=form)).status_code == 303
