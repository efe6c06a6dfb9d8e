"""Proactive messages for web visitors: `WebPush` stores them, `GET /api/inbox` hands each visitor their own,
and the page shows them as reminders, in a headless Chromium against a real server on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect
from starlette.applications import Starlette

from bot.channels.web import COOKIE
from bot.channels.web_push import INBOX_PAGE, WebPush, inbox_after
from handlers.messages import Outbound
from storage.database import Database
from storage.outbox import Delivery
from tests.channels.conftest import serving
from tests.channels.test_web import CHROMIUM, require_chromium

NOW = dt.datetime(2017, 9, 25, 2, 0, tzinfo=dt.UTC)
REMINDER = Outbound(
    text="提醒：广州市退考退费登记将于2017年9月30日截止，请尽快办理。\n来源：穗人社职鉴函〔2017〕145号",
    kind="reminder",
)


@pytest.fixture
async def server(make_app: Callable[..., Starlette]) -> AsyncIterator[tuple[Starlette, str]]:
    app = make_app()
    async with serving(app) as url:
        yield app, url


@asynccontextmanager
async def visit(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client that has opened the page, so it holds a session cookie of its own."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        (await client.get("/")).raise_for_status()
        yield client


async def deliver(app: Starlette, session: str, text: str, kind: str = "reminder") -> Delivery:
    pusher = app.state.runtime.pushers["web"]
    delivery: Delivery = await pusher.send(session, Outbound(text, kind=kind), last_seen=None, now=NOW)
    return delivery


async def inbox(client: httpx.AsyncClient, after: int | str | None = None) -> list[dict[str, object]]:
    response = await client.get("/api/inbox", params={} if after is None else {"after": after})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    messages: list[dict[str, object]] = response.json()["messages"]
    return messages


# -- the pusher -----------------------------------------------------------------------------------


async def test_web_push_stores_the_message_for_the_visitor(db: Database) -> None:
    push = WebPush(db)
    delivery = await push.send("visitor-a", REMINDER, last_seen=None, now=NOW)
    assert delivery == Delivery("sent", via="inbox")
    await push.send("visitor-b", Outbound("别人的提醒"), last_seen=None, now=NOW)
    [row] = await inbox_after(db, "visitor-a", 0)
    assert (row.channel, row.user_id, row.text, row.created_at) == ("web", "visitor-a", REMINDER.text, NOW)
    assert await inbox_after(db, "visitor-a", row.id) == []


async def test_a_database_failure_asks_for_a_retry(tmp_path: Path) -> None:
    unmigrated = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # no inbox table: every insert fails
    try:
        delivery = await WebPush(unmigrated).send("visitor-a", REMINDER, last_seen=None, now=NOW)
    finally:
        await unmigrated.dispose()
    assert delivery.status == "retry"


# -- the inbox API --------------------------------------------------------------------------------


async def test_each_visitor_reads_only_their_own_messages(server: tuple[Starlette, str]) -> None:
    app, url = server
    async with visit(url) as alice, visit(url) as bob:
        assert await inbox(alice) == []
        assert (await deliver(app, alice.cookies[COOKIE], REMINDER.text)).ok
        await deliver(app, bob.cookies[COOKIE], "给另一位访客的提醒")

        [message] = await inbox(alice)
        assert set(message) == {"id", "text", "at", "kind"} and message["kind"] == "reminder"
        assert message["text"] == REMINDER.text
        assert dt.datetime.fromisoformat(str(message["at"])) == NOW
        [other] = await inbox(bob)
        assert other["text"] == "给另一位访客的提醒"


async def test_after_pages_through_the_inbox_oldest_first(server: tuple[Starlette, str]) -> None:
    app, url = server
    async with visit(url) as visitor:
        session = visitor.cookies[COOKIE]
        for i in range(INBOX_PAGE + 3):
            await deliver(app, session, f"第{i}条")
        first = await inbox(visitor)
        assert [m["text"] for m in first] == [f"第{i}条" for i in range(INBOX_PAGE)]
        ids = [int(str(m["id"])) for m in first]
        assert ids == sorted(ids)
        rest = await inbox(visitor, after=ids[-1])
        assert [m["text"] for m in rest] == [f"第{i}条" for i in range(INBOX_PAGE, INBOX_PAGE + 3)]
        assert await inbox(visitor, after=int(str(rest[-1]["id"]))) == []
        assert len(await inbox(visitor, after=ids[1])) == INBOX_PAGE


async def test_the_inbox_needs_the_session_cookie(server: tuple[Starlette, str]) -> None:
    app, url = server
    async with visit(url) as visitor:
        await deliver(app, visitor.cookies[COOKIE], REMINDER.text)
        for bad in ("-1", "abc", "1.5", "9" * 19):
            response = await visitor.get("/api/inbox", params={"after": bad})
            assert response.status_code == 400, bad
        # A request another site's page made is refused even with the cookie.
        cross = await visitor.get("/api/inbox", headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
    async with httpx.AsyncClient(base_url=url) as stranger:
        response = await stranger.get("/api/inbox")
        assert response.status_code == 403
        assert "刷新页面" in response.json()["error"]
        stranger.cookies.set(COOKIE, "not a session")
        assert (await stranger.get("/api/inbox")).status_code == 403
        # A made-up session id of the right shape is refused too: only the server issues them.
        stranger.cookies.set(COOKIE, "x" * 32 + "." + "y" * 43)
        assert (await stranger.get("/api/inbox")).status_code == 403


# -- the page in a browser ------------------------------------------------------------------------


async def session_of(page: Page) -> str:
    [cookie] = [c for c in await page.context.cookies() if c["name"] == COOKIE]
    return cookie["value"]


async def test_a_reminder_appears_on_the_open_page(server: tuple[Starlette, str]) -> None:
    require_chromium()
    app, url = server
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await browser.new_page(viewport={"width": 375, "height": 740})
            page.set_default_timeout(5000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{url}/?poll=1")
            await expect(page.locator(".msg.bot").first).to_contain_text("您好")

            await deliver(app, await session_of(page), REMINDER.text)
            reminder = page.locator(".msg.reminder")
            await expect(reminder).to_have_count(1)
            await expect(reminder.locator(".bubble")).to_have_text(REMINDER.text)
            await expect(reminder.locator(".label")).to_have_text("提醒")
            assert await reminder.locator("time").get_attribute("datetime") == "2017-09-25T02:00:00.000Z"
            # Marked apart from the bot's answers.
            background = await reminder.locator(".bubble").evaluate("el => getComputedStyle(el).backgroundColor")
            answer = await page.locator(".msg.bot .bubble").first.evaluate("el => getComputedStyle(el).backgroundColor")
            assert background != answer

            # A reload shows it again, once, as part of the conversation; a newer one still comes, once.
            await page.reload()
            await expect(page.locator(".msg.reminder .bubble")).to_have_text([REMINDER.text])
            await deliver(app, await session_of(page), "提醒：第二条")
            await expect(page.locator(".msg.reminder .bubble")).to_have_text([REMINDER.text, "提醒：第二条"])
            assert await page.evaluate("document.documentElement.scrollWidth") <= 375
            assert errors == []
        finally:
            await browser.close()


async def test_an_open_page_gets_a_message_at_once_not_at_the_next_poll(server: tuple[Starlette, str]) -> None:
    require_chromium()
    app, url = server
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await browser.new_page()
            page.set_default_timeout(3000)
            await page.goto(url)  # the 20-second fallback interval: only the long poll can show it in time
            await expect(page.locator(".msg.bot").first).to_contain_text("您好")
            await page.wait_for_timeout(300)  # the page is now holding its long poll
            await deliver(app, await session_of(page), REMINDER.text)
            await expect(page.locator(".msg.reminder .bubble")).to_have_text(REMINDER.text, timeout=1500)
        finally:
            await browser.close()


async def test_a_long_poll_answers_when_a_message_comes_and_lets_go_when_the_page_leaves(
    server: tuple[Starlette, str],
) -> None:
    app, url = server
    pusher = app.state.runtime.pushers["web"]
    async with visit(url) as visitor:
        session = visitor.cookies[COOKIE]
        waiting = asyncio.ensure_future(visitor.get("/api/inbox", params={"after": 0, "wait": 20}))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "held while nothing is there"
        await deliver(app, session, REMINDER.text)
        response = await asyncio.wait_for(waiting, timeout=2)
        assert [m["text"] for m in response.json()["messages"]] == [REMINDER.text]
        # A page that goes away mid-poll is let go within the check interval, holding nothing.
        with pytest.raises(httpx.ReadTimeout):
            await visitor.get("/api/inbox", params={"after": 10**6, "wait": 20}, timeout=0.5)
        for _ in range(40):
            if not pusher._waiting:
                break
            await asyncio.sleep(0.1)
        assert not pusher._waiting
