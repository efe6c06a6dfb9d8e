"""Proactive Telegram messages with the real python-telegram-bot against a fake Bot API on loopback: the pusher the
running server registers sends a plain message, and each kind of Bot API failure becomes the right Delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram.error import RetryAfter

from bot.channels.telegram_push import NO_RETRIES, RateLimiter, TelegramPush
from handlers.messages import Outbound
from storage.outbox import Delivery
from tests.channels.conftest import serving
from tests.channels.test_telegram import TOKEN, FakeBotApi

NOW = dt.datetime(2017, 9, 25, 2, 0, tzinfo=dt.UTC)
MESSAGE = Outbound(
    text="提醒：广州市退考退费登记将于2017年9月30日截止，请尽快办理。\n来源：穗人社职鉴函〔2017〕145号",
    kind="reminder",
    fields={"title": "广州市退考退费登记截止", "date": "2017年9月30日"},
)

BLOCKED, DEACTIVATED, NO_CHAT, TOO_LONG, FLOOD, SERVER_ERROR, BAD_GATEWAY, UNAUTHORIZED, HANGS = range(1001, 1010)
FAILURES: dict[int, tuple[int, str]] = {
    BLOCKED: (403, "Forbidden: bot was blocked by the user"),
    DEACTIVATED: (403, "Forbidden: user is deactivated"),
    NO_CHAT: (400, "Bad Request: chat not found"),
    TOO_LONG: (400, "Bad Request: message is too long"),
    FLOOD: (429, "Too Many Requests: retry after 30"),
    SERVER_ERROR: (500, "Internal Server Error"),
    UNAUTHORIZED: (401, "Unauthorized"),
}


class FailingBotApi(FakeBotApi):
    """The fake Bot API, with chats whose sendMessage fails on purpose, the way Telegram fails."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[int] = []
        self.release = asyncio.Event()

    async def endpoint(self, request: Request) -> Response:
        if request.path_params["method"] != "sendMessage":
            return await super().endpoint(request)
        # The body is cached on the request, so the base class can still read it.
        chat_id = int(dict(parse_qsl((await request.body()).decode()))["chat_id"])
        if chat_id == HANGS:
            self.attempts.append(chat_id)
            await self.release.wait()
            return Response(status_code=504)
        if chat_id == BAD_GATEWAY:
            self.attempts.append(chat_id)
            return Response("<html>502 Bad Gateway</html>", status_code=502, media_type="text/html")
        if chat_id not in FAILURES:
            return await super().endpoint(request)
        self.attempts.append(chat_id)
        code, description = FAILURES[chat_id]
        body: dict[str, object] = {"ok": False, "error_code": code, "description": description}
        if code == 429:
            body["parameters"] = {"retry_after": 30}
        return JSONResponse(body, status_code=code)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FailingBotApi, str]]:
    api = FailingBotApi()
    async with serving(api.app) as url:
        try:
            yield api, url
        finally:
            api.release.set()


@pytest.fixture
async def server(fake: tuple[FailingBotApi, str], make_app: Callable[..., Starlette]) -> AsyncIterator[Starlette]:
    """The bot's server in polling mode, its Telegram channel talking to the fake."""
    _, url = fake
    app = make_app(telegram_token=TOKEN, telegram_api_base_url=f"{url}/bot")
    async with serving(app):
        yield app


async def push(app: Starlette, user_id: object) -> Delivery:
    pusher = app.state.runtime.pushers["telegram"]
    delivery: Delivery = await pusher.send(str(user_id), MESSAGE, last_seen=None, now=NOW)
    return delivery


async def test_a_reminder_goes_out_as_a_plain_message(fake: tuple[FailingBotApi, str], server: Starlette) -> None:
    api, _ = fake
    assert isinstance(server.state.runtime.pushers["telegram"], TelegramPush)
    # A user who last wrote long ago is still reachable: Telegram has no 48-hour window.
    delivery = await push(server, 42)
    assert delivery == Delivery("sent", via="telegram")
    [sent] = api.sent(42)
    assert sent["text"] == MESSAGE.text
    assert sent["chat_id"] == "42"
    # No keyboard: a form's buttons, if one is in progress, stay on the candidate's screen.
    assert "reply_markup" not in sent


async def test_blocked_deactivated_and_unknown_chats_are_unreachable(server: Starlette) -> None:
    for chat_id, description in ((BLOCKED, "blocked"), (DEACTIVATED, "deactivated"), (NO_CHAT, "chat not found")):
        delivery = await push(server, chat_id)
        assert delivery.status == "unreachable", chat_id
        assert delivery.error is not None and description in delivery.error.lower()


async def test_flood_control_is_handed_back_at_once_with_retry_after(
    fake: tuple[FailingBotApi, str], server: Starlette
) -> None:
    api, _ = fake
    started = time.monotonic()
    delivery = await push(server, FLOOD)
    assert delivery.status == "retry"
    assert delivery.retry_after == 30
    # The channel's limiter sleeps out a 429 for replies (three tries); a push is not retried inside PTB.
    assert api.attempts == [FLOOD]
    assert time.monotonic() - started < 5
    # Nor does the refused push pause the bot: the next message goes out at once.
    started = time.monotonic()
    assert (await push(server, 42)).ok
    assert time.monotonic() - started < 2


async def test_server_errors_and_timeouts_are_worth_a_retry(fake: tuple[FailingBotApi, str], server: Starlette) -> None:
    for chat_id in (SERVER_ERROR, BAD_GATEWAY):
        delivery = await push(server, chat_id)
        assert delivery.status == "retry", chat_id
        assert delivery.retry_after is None

    bot = server.state.runtime.telegram.bot
    started = time.monotonic()
    timed_out = await TelegramPush(bot, read_timeout=0.3).send(str(HANGS), MESSAGE, last_seen=None, now=NOW)
    assert timed_out.status == "retry" and timed_out.error is not None and "timed out" in timed_out.error.lower()
    past_deadline = await TelegramPush(bot, deadline=0.3).send(str(HANGS), MESSAGE, last_seen=None, now=NOW)
    assert past_deadline.status == "retry" and past_deadline.error is not None and "0.3 s" in past_deadline.error
    assert time.monotonic() - started < 3


async def test_other_errors_fail_with_the_reason_and_nothing_escapes(server: Starlette) -> None:
    too_long = await push(server, TOO_LONG)
    assert too_long.status == "failed"
    assert too_long.error is not None and "message is too long" in too_long.error.lower()
    unauthorized = await push(server, UNAUTHORIZED)
    assert unauthorized.status == "failed"
    assert (await push(server, "oWeChatOpenId")).status == "failed"
    for delivery in (too_long, unauthorized):
        assert TOKEN not in (delivery.error or "")


async def test_webhook_mode_registers_the_pusher_too(
    fake: tuple[FailingBotApi, str], make_app: Callable[..., Starlette]
) -> None:
    api, url = fake
    app = make_app(
        telegram_token=TOKEN,
        telegram_api_base_url=f"{url}/bot",
        telegram_webhook_url="https://bot.example.com/telegram",
        telegram_webhook_secret="s3cret-Token_1",
    )
    async with serving(app):
        assert (await push(app, 42)).ok
        assert (await push(app, BLOCKED)).status == "unreachable"
    assert api.texts(42) == [MESSAGE.text]


async def test_the_limiter_retries_a_429_for_replies_but_not_for_pushes() -> None:
    limiter = RateLimiter(max_retries=2)
    calls = 0

    async def flooded() -> bool:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RetryAfter(dt.timedelta(0))
        return True

    # PTB passes rate_limit_args=None unless the caller set it: replies get the default retries.
    assert await limiter.process_request(flooded, (), {}, "sendMessage", {"chat_id": 42}, None) is True
    assert calls == 3
    calls = 0
    with pytest.raises(RetryAfter):
        await limiter.process_request(flooded, (), {}, "sendMessage", {"chat_id": 42}, NO_RETRIES)
    assert calls == 1
