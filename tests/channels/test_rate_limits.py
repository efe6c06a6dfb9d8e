"""Floods against a running server (real HTTP on loopback): one web chat session sending as fast as it
can, made-up session ids, one address opening many sessions, and one WeChat user. Each is told
politely to slow down; nobody else notices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette
from wechatpy import parse_message

from bot.channels.web import COOKIE
from bot.rate_limits import SLOW_DOWN, RateLimits
from handlers.messages import ConversationKey
from storage.models import Conversation, TranscriptLine
from tests.channels.conftest import serving
from tests.channels.test_wechat import TOKEN, query, text_xml

QUESTION = "广州退考退费登记截止到哪天？"


async def count(app: Starlette, column: object, *where: object) -> int:
    async with app.state.runtime.db.sessions() as session:
        return int((await session.execute(select(func.count(column)).where(*where))).scalar_one())


async def opened(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, headers={"Origin": base})
    (await client.get("/")).raise_for_status()
    return client


async def test_a_flooding_web_session_is_told_to_slow_down(make_app: Callable[..., Starlette]) -> None:
    app = make_app(user_rate_limit="5 per 10 seconds")
    async with serving(app) as base:
        flooder, bystander = await opened(base), await opened(base)
        try:
            answers = await asyncio.gather(
                *(flooder.post("/api/chat", json={"text": QUESTION, "id": f"f{n}"}) for n in range(30))
            )
            texts = [r.json()["replies"][0]["text"] for r in answers]
            calm = await bystander.post("/api/chat", json={"text": QUESTION, "id": "b1"})
            flooder_id = flooder.cookies[COOKIE]
        finally:
            await flooder.aclose()
            await bystander.aclose()
    assert all(r.status_code == 200 for r in answers), "a polite reply, not an error"
    assert sum(t == SLOW_DOWN for t in texts) == 25
    assert sum("2017年9月30日" in t for t in texts) == 5
    assert "2017年9月30日" in calm.json()["replies"][0]["text"], "another visitor is not affected"
    handled = await count(
        app, TranscriptLine.id, TranscriptLine.user_id == flooder_id, TranscriptLine.direction == "in"
    )
    assert handled == 5, "refused messages cost no database work"


async def test_made_up_session_ids_open_no_conversations(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        for n in range(50):
            made_up = f"{n:032d}.{'A' * 43}"
            response = await client.post(
                "/api/chat", json={"text": QUESTION}, headers={"Cookie": f"{COOKIE}={made_up}"}
            )
            assert response.status_code == 403 and "刷新页面" in response.json()["error"]
    assert await count(app, Conversation.user_id) == 0


async def test_one_address_is_limited_across_its_sessions(make_app: Callable[..., Starlette]) -> None:
    app = make_app(web_address_rate_limit="20 per minute", user_rate_limit="off")
    async with serving(app) as base:
        sessions = [await opened(base) for _ in range(30)]
        try:
            statuses = [(await c.post("/api/chat", json={"text": "你好", "id": "x"})).status_code for c in sessions]
            refused = await sessions[-1].post("/api/chat", json={"text": "你好", "id": "y"})
        finally:
            for c in sessions:
                await c.aclose()
    assert statuses.count(200) == 20 and statuses.count(429) == 10
    assert refused.json()["error"] == SLOW_DOWN
    assert await count(app, Conversation.user_id) == 20


async def test_a_flooding_wechat_user_gets_a_polite_reply(make_app: Callable[..., Starlette]) -> None:
    app = make_app(wechat_token=TOKEN, user_rate_limit="3 per minute")
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        replies = []
        for n in range(6):
            response = await client.post("/wechat", params=query(), content=text_xml(QUESTION, msg_id=f"80{n}"))
            replies.append(parse_message(response.text).content)
        other = await client.post("/wechat", params=query(), content=text_xml(QUESTION, "900", user="oOther"))
        unsubscribe = (
            "<xml><ToUserName>gh_test</ToUserName><FromUserName>oUser1</FromUserName><CreateTime>1700000009"
            "</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event></xml>"
        )
        left = await client.post("/wechat", params=query(), content=unsubscribe)
    assert replies[3:] == [SLOW_DOWN] * 3 and all("2017年9月30日" in r for r in replies[:3])
    assert "2017年9月30日" in parse_message(other.text).content
    assert left.status_code == 200, "events are never throttled: WeChat's record of an unsubscribe must land"
    async with app.state.runtime.db.sessions() as session:
        state = (await session.execute(select(Conversation.state).where(Conversation.user_id == "oUser1"))).scalar()
    assert state and state.get("unsubscribed") is True


def test_several_limits_apply_together_and_off_turns_a_check_off() -> None:
    limits = RateLimits(per_user="100 per minute; 3 per hour", per_address="off")
    key = ConversationKey("web", "u")
    assert [limits.user_allowed(key) for _ in range(4)] == [True, True, True, False]
    assert limits.user_allowed(ConversationKey("telegram", "u")), "a user is a channel and an id"
    assert all(limits.address_allowed("10.0.0.1") for _ in range(1000))


async def test_the_pages_reads_count_against_the_address_too(make_app: Callable[..., Starlette]) -> None:
    app = make_app(web_address_rate_limit="10 per minute", user_rate_limit="off")
    async with serving(app) as base:
        page = await opened(base)
        try:
            statuses = [
                (await page.get(path)).status_code for path in ("/api/inbox", "/api/history", "/api/requests") * 4
            ]
        finally:
            await page.aclose()
    assert statuses.count(200) == 10 and set(statuses[10:]) == {429}
