"""Replaying WeChat's signed requests against a running server (real HTTP on loopback), the way the
security test did: old or empty timestamps, a captured plaintext URL carrying another user's message
(to the same server and to a second one on the same database), plaintext sent to a server in safe
mode, and the access log."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from wechatpy import parse_message

from bot.channels.wechat import PLAINTEXT_WARNING
from bot.logs import MaskingFilter
from storage.models import TranscriptLine
from tests.channels.conftest import serving
from tests.channels.test_wechat import AES_KEY, APP_ID, TOKEN, query, sign, text_xml


async def lines_from(app: Starlette, user: str) -> int:
    async with app.state.runtime.db.sessions() as session:
        stmt = select(func.count(TranscriptLine.id)).where(TranscriptLine.user_id == user)
        return int((await session.execute(stmt)).scalar_one())


def signed(timestamp: str, nonce: str) -> dict[str, str]:
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": "o"}


async def test_old_future_and_empty_timestamps_are_refused(make_app: Callable[..., Starlette]) -> None:
    app = make_app(wechat_token=TOKEN)
    now = int(time.time())
    async with serving(app) as server, httpx.AsyncClient(base_url=server) as client:
        for label, params in {
            "a week old": signed(str(now - 7 * 86400), "1"),
            "a year old": signed(str(now - 365 * 86400), "2"),
            "a day ahead": signed(str(now + 86400), "3"),
            "empty timestamp and nonce": signed("", ""),
            "not a number": signed("soon", "4"),
        }.items():
            post = await client.post("/wechat", params=params, content=text_xml("我的申请", user="oVictim"))
            handshake = await client.get("/wechat", params={**params, "echostr": "e"})
            assert post.status_code == 403 and handshake.status_code == 403, label
        assert await lines_from(app, "oVictim") == 0
        recent = await client.post("/wechat", params=signed(str(now - 20), "5"), content=text_xml("帮助"))
        assert recent.status_code == 200 and parse_message(recent.text).content


async def test_a_captured_plaintext_url_cannot_carry_another_message(make_app: Callable[..., Starlette]) -> None:
    first, second = make_app(wechat_token=TOKEN), make_app(wechat_token=TOKEN)  # one database, two servers
    captured = query()
    own = text_xml("广州退考退费登记截止到哪天？", msg_id="6001", user="oOwner")
    async with serving(first) as one, serving(second) as two, httpx.AsyncClient() as client:
        original = await client.post(f"{one}/wechat", params=captured, content=own)
        assert original.status_code == 200
        for server in (one, two):
            for text, msg_id in (("我的申请", "6002"), ("转人工", "6003")):
                forged = await client.post(
                    f"{server}/wechat", params=captured, content=text_xml(text, msg_id=msg_id, user="oVictim")
                )
                assert forged.status_code == 403 and "oVictim" not in forged.text
        # WeChat's retry is the identical request: it still gets the recorded reply, on either server.
        retry = await client.post(f"{two}/wechat", params=captured, content=own)
        assert retry.status_code == 200
        assert parse_message(retry.text).content == parse_message(original.text).content
    assert await lines_from(first, "oVictim") == 0
    assert await lines_from(first, "oOwner") == 2, "one question in, one answer out: the retry was not run again"


async def test_with_an_aes_key_a_plaintext_request_is_refused(make_app: Callable[..., Starlette]) -> None:
    app = make_app(wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_app_id=APP_ID)
    async with serving(app) as server, httpx.AsyncClient(base_url=server) as client:
        response = await client.post("/wechat", params=query(), content=text_xml("我的申请", user="oVictim"))
    assert response.status_code == 403
    assert await lines_from(app, "oVictim") == 0


async def test_plaintext_mode_is_warned_about_at_start(
    make_app: Callable[..., Starlette], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.channels.wechat"):
        async with serving(make_app(wechat_token=TOKEN)):
            pass
        warned = [r.getMessage() for r in caplog.records]
        assert PLAINTEXT_WARNING in warned
        caplog.clear()
        async with serving(make_app(wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_app_id=APP_ID)):
            pass
        assert PLAINTEXT_WARNING not in [r.getMessage() for r in caplog.records]


async def test_the_access_log_keeps_no_signature_nonce_or_openid(make_app: Callable[..., Starlette]) -> None:
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    handler.addFilter(MaskingFilter())
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    params = {**query(), "openid": "oSecretOpenId42"}
    try:
        async with (
            serving(make_app(wechat_token=TOKEN), log_level="info", access_log=True, log_config=None) as server,
            httpx.AsyncClient(base_url=server) as client,
        ):
            assert (await client.post("/wechat", params=params, content=text_xml("帮助"))).status_code == 200
    finally:
        access.removeHandler(handler)
    log = logged.getvalue()
    assert "POST /wechat?" in log, "the request is still logged"
    for secret in (params["signature"], params["nonce"], "oSecretOpenId42"):
        assert secret not in log
