"""The staff console against the real application and a real database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set): httpx talks to the ASGI app in-process, the clock can be moved.

Fixtures for console pages: `app` (started, with cheap argon2 parameters), `make_account`, `client`
(a browser-like httpx client, optionally from another address or over https) and `signed_in`
(a client already logged in as a new account of the given role)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette

from bot.config import Settings
from bot.server import create_app
from knowledge.base import KnowledgeBase
from knowledge.timezone import SHANGHAI
from storage import staff as staff_store
from storage.database import Database

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For tests of HTTP behaviour that no database backend can change: PostgreSQL would only double their time."""

# Test-only parameters: hashing with argon2-cffi's defaults takes ~0.3 s here, per hash and per login.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class MovableClock:
    """Stands still at a chosen instant until a test moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture(autouse=True)
def _shared_kb(shared_knowledge_base: KnowledgeBase) -> None:
    """Applications started here skip re-reading the shipped notices (see tests/conftest.py)."""


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC))


@pytest.fixture
def console_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        database_url=database_url,
        reminders_enabled=False,
        trusted_hosts="console.test,127.0.0.1",
    )


@pytest.fixture
async def app(console_settings: Settings, clock: MovableClock) -> AsyncIterator[Starlette]:
    application = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def app_db(app: Starlette) -> Database:
    """The running application's database."""
    database: Database = app.state.runtime.db
    return database


MakeAccount = Callable[..., Awaitable[int]]


@pytest.fixture
def make_account(app_db: Database, clock: MovableClock) -> MakeAccount:
    """Creates an account directly in the database; returns its id."""

    async def make(
        name: str, role: str = "admin", regions: Sequence[str] = (), password: str = PASSWORD, active: bool = True
    ) -> int:
        async with app_db.transaction() as session:
            account = await staff_store.create_account(
                session,
                name=name,
                role=role,
                regions=list(regions),
                password_hash=CHEAP_HASHER.hash(password),
                now=clock(),
            )
            account.active = active
            return account.id

    return make


MakeClient = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[MakeClient]:
    """`client(ip="127.0.0.1", https=False)`: a new httpx client with its own cookie jar."""
    async with AsyncExitStack() as stack:

        def make(ip: str = "127.0.0.1", https: bool = False) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(ip, 50000))
            base = "https://console.test" if https else "http://console.test"
            c = httpx.AsyncClient(transport=transport, base_url=base)
            stack.push_async_callback(c.aclose)
            return c

        yield make


def csrf_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def login(c: httpx.AsyncClient, name: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    """Opens the login page and submits its form, as a browser would."""
    page = await c.get("/admin/login")
    assert page.status_code == 200
    return await c.post("/admin/login", data={"csrf": csrf_in(page.text), "name": name, "password": password, **extra})


async def post_form(c: httpx.AsyncClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    """A console form posted with the session's CSRF token (read from the dashboard)."""
    token = csrf_in((await c.get("/admin/")).text)
    return await c.post(path, data={"csrf": token, **(data or {})})


SignedIn = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def signed_in(make_account: MakeAccount, client: MakeClient) -> SignedIn:
    """`await signed_in("reviewer", regions=["广东省"], name=...)`: a client logged in as a new account."""

    async def make(role: str = "admin", regions: Sequence[str] = (), name: str | None = None) -> httpx.AsyncClient:
        name = name or f"{role}1"
        await make_account(name, role, regions)
        c = client()
        response = await login(c, name)
        assert response.status_code == 303, response.text
        return c

    return make
