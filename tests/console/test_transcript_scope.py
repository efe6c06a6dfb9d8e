"""A reviewer reading a request over HTTP (a running server on loopback) sees the conversation that
produced it and nothing of the same candidate's request in another region."""

from __future__ import annotations

import datetime as dt

import httpx

from bot.config import Settings
from bot.server import create_app
from knowledge.timezone import SHANGHAI
from storage import staff as staff_store
from storage.conversations import append_transcript
from tests.channels.conftest import serving
from tests.console.conftest import CHEAP_HASHER, MovableClock, login
from tests.console.request_helpers import store_request


async def test_a_reviewer_sees_no_other_regions_request_in_a_conversation(
    console_settings: Settings, clock: MovableClock
) -> None:
    """Finding 7 over HTTP: a candidate filed in 吉林 and then in 广州; 广州's reviewer reads only 广州's."""

    def at(day: int) -> dt.datetime:
        return dt.datetime(2026, 2, day, 10, 0, tzinfo=SHANGHAI)

    app = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base:
        first = await store_request(
            app, region="吉林省", institution="吉林省职业技能鉴定中心", user_id="two", confirmed=at(1)
        )
        second = await store_request(app, region="广州市", user_id="two", confirmed=at(3))
        async with app.state.runtime.db.transaction() as session:
            for day, said in (
                (1, "吉林的退考"),
                (2, f"{first.reference} 吉林省职业技能鉴定中心 审核中"),
                (3, "广州的也要退"),
            ):
                await append_transcript(session, channel="test", user_id="two", lines=[("out", said)], now=at(day))
            await staff_store.create_account(
                session,
                name="gd",
                role="reviewer",
                regions=["广东省"],
                password_hash=CHEAP_HASHER.hash("correct-horse-42"),
                now=clock(),
            )
        async with httpx.AsyncClient(base_url=base) as reviewer:
            assert (await login(reviewer, "gd", "correct-horse-42")).status_code == 303
            page = (await reviewer.get(f"/admin/requests/{second.id}")).text
    assert "广州的也要退" in page and "吉林" not in page and first.reference not in page
