"""Every /admin route refuses a request without a valid session, and every POST one without the
session's CSRF token. The routes are found by walking the application's route table, so pages added
later are checked without touching this test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.convertors import IntegerConvertor
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.console.route_ids import RowIdConvertor
from storage.database import Database
from storage.models import AuditEntry, StaffAccount
from tests.console.conftest import SQLITE_ONLY, MakeClient, SignedIn

OPEN_TO_ANONYMOUS = {"console:login", "console:login_submit"}


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    name: str


def walk(routes: Sequence[BaseRoute], prefix: str = "", name_prefix: str = "") -> Iterator[Endpoint | str]:
    """Every route under `routes` with its full path (path parameters filled with sample values), or
    the path of a static-files mount."""
    for route in routes:
        if isinstance(route, Mount):
            if isinstance(route.app, StaticFiles):
                yield prefix + route.path
                continue
            inner = f"{name_prefix}{route.name}:" if route.name else name_prefix
            yield from walk(route.routes, prefix + route.path, inner)
        elif isinstance(route, Route):
            values = {
                key: "1" if isinstance(conv, IntegerConvertor | RowIdConvertor) else "x"
                for key, conv in route.param_convertors.items()
            }
            yield Endpoint(
                prefix + route.path_format.format(**values), frozenset(route.methods or ()), name_prefix + route.name
            )


def console_endpoints(app: Starlette) -> tuple[list[Endpoint], list[str]]:
    endpoints: list[Endpoint] = []
    static: list[str] = []
    for found in walk(app.routes):
        path = found if isinstance(found, str) else found.path
        if path != "/admin" and not path.startswith("/admin/"):
            continue
        if isinstance(found, str):
            static.append(found)
        else:
            endpoints.append(found)
    return endpoints, static


@SQLITE_ONLY
def test_the_walk_finds_the_console(app: Starlette) -> None:
    endpoints, static = console_endpoints(app)
    names = {e.name for e in endpoints}
    assert {"console:dashboard", "console:audit", "console:accounts", "console:logout"} <= names
    assert static == ["/admin/static"]
    # Enough routes that the checks below cannot pass vacuously, of both kinds.
    assert len(endpoints) >= 10
    assert sum("GET" in e.methods for e in endpoints) >= 3
    assert sum("POST" in e.methods for e in endpoints) >= 6


async def _audit_count(db: Database) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def _accounts(db: Database) -> list[tuple[str, str, bool, str]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(StaffAccount.name, StaffAccount.role, StaffAccount.active, StaffAccount.password_hash)
        )
        return sorted((r[0], r[1], r[2], r[3]) for r in rows)


async def test_anonymous_requests_are_refused_everywhere_but_the_login_page(
    app: Starlette, client: MakeClient, signed_in: SignedIn
) -> None:
    await signed_in("admin", name="boss")  # something to change, were a refusal to leak through
    db: Database = app.state.runtime.db
    audit_before, accounts_before = await _audit_count(db), await _accounts(db)
    endpoints, _ = console_endpoints(app)
    anonymous = client()
    forged = client()
    forged.cookies.set("jd_admin", "A" * 43, domain="console.test", path="/admin")  # a well-formed but unknown token
    checked = 0
    for endpoint in endpoints:
        if endpoint.name in OPEN_TO_ANONYMOUS:
            continue
        for c in (anonymous, forged):
            if "GET" in endpoint.methods:
                response = await c.get(endpoint.path)
                assert response.status_code == 303, endpoint
                assert response.headers["location"].startswith("/admin/login?next="), endpoint
                checked += 1
            if "POST" in endpoint.methods:
                response = await c.post(endpoint.path, data={"csrf": "x", "name": "x", "password": "x" * 12})
                assert response.status_code == 403, endpoint
                checked += 1
    assert checked >= 20
    assert await _audit_count(db) == audit_before
    assert await _accounts(db) == accounts_before


async def test_posts_without_the_sessions_csrf_token_are_refused(app: Starlette, signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    db: Database = app.state.runtime.db
    audit_before, accounts_before = await _audit_count(db), await _accounts(db)
    endpoints, _ = console_endpoints(app)
    posts = [e for e in endpoints if "POST" in e.methods and e.name not in OPEN_TO_ANONYMOUS]
    for endpoint in posts:
        data = {"name": "newcomer", "role": "admin", "password": "y" * 12}
        missing = await admin.post(endpoint.path, data=data)
        wrong = await admin.post(endpoint.path, data={**data, "csrf": "A" * 43})
        header = await admin.post(endpoint.path, data=data, headers={"X-CSRF-Token": "A" * 43})
        assert (missing.status_code, wrong.status_code, header.status_code) == (403, 403, 403), endpoint
    assert len(posts) >= 6
    assert await _audit_count(db) == audit_before
    assert await _accounts(db) == accounts_before
    # The session survived all that: nothing above was a logout.
    assert (await admin.get("/admin/")).status_code == 200


@SQLITE_ONLY
async def test_a_cross_site_post_is_refused_even_with_the_token(signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    token = (await admin.get("/admin/")).text.split('name="csrf" value="')[1].split('"')[0]
    data = {"csrf": token, "name": "intruder", "role": "admin", "password": "z" * 12}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = await admin.post("/admin/accounts", data=data, headers=headers)
        assert response.status_code == 403, headers
    page = await admin.get("/admin/accounts")
    assert "intruder" not in page.text


@SQLITE_ONLY
async def test_static_files_and_the_login_page_are_open(client: MakeClient) -> None:
    c: httpx.AsyncClient = client()
    css = await c.get("/admin/static/console.css")
    assert css.status_code == 200 and "@media" in css.text
    page = await c.get("/admin/login")
    assert page.status_code == 200 and "员工登录" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script at all
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script" not in page.text
    for external in ("http://", "https://", "//cdn"):
        assert external not in page.text and external not in css.text
