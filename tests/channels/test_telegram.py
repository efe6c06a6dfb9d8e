"""The Telegram channel with the real python-telegram-bot against a fake Bot API server on loopback."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram import SECRET_HEADER, split_text
from tests.channels.conftest import serving

log = logging.getLogger(__name__)

TOKEN = "123:ABC"
SECRET = "s3cret-Token_1"
DATE = 1506477600  # 2017-09-27 10:00 Beijing time
CANDIDATE = {"id": 42, "is_bot": False, "first_name": "考生"}
BOT = {"id": 123, "is_bot": True, "first_name": "鉴定助手", "username": "jianding_bot"}


class FakeBotApi:
    """The Bot API methods PTB calls, answering from memory and recording every call."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.blocked: set[int] = set()
        self.send_delay = 0.0
        self.message_ids = itertools.count(1000)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self.endpoint, methods=["GET", "POST"])])

    def sent(self, chat_id: int = 42) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == "sendMessage" and int(p["chat_id"]) == chat_id]

    def texts(self, chat_id: int = 42) -> list[str]:
        return [p["text"] for p in self.sent(chat_id)]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == method]

    async def endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        if request.path_params["token"] != TOKEN:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        # PTB posts form fields, with objects such as reply_markup JSON-encoded inside them.
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            params = dict(parse_qsl((await request.body()).decode()))
        if method == "getUpdates":
            return await self.get_updates(params)
        self.calls.append((method, params))
        if method == "getMe":
            return ok(BOT)
        if method == "sendMessage":
            await asyncio.sleep(self.send_delay)
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked:
                return JSONResponse(
                    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}, 403
                )
            chat = {"id": chat_id, "type": "private", "first_name": "考生"}
            message = {"message_id": next(self.message_ids), "date": DATE, "chat": chat, "from": BOT}
            return ok({**message, "text": params["text"]})
        if method not in {"setWebhook", "deleteWebhook", "answerCallbackQuery"}:
            log.warning("fake Bot API: unknown method %s", method)
        return ok(True)

    async def get_updates(self, params: dict[str, Any]) -> Response:
        offset = int(params.get("offset") or 0)
        # A short long-poll: answer as soon as something is queued, else after a moment.
        for _ in range(10):
            batch = [u for u in self.updates if u["update_id"] >= offset]
            if batch or float(params.get("timeout") or 0) == 0:
                return ok(batch)
            await asyncio.sleep(0.02)
        return ok([])


def ok(result: object) -> Response:
    return JSONResponse({"ok": True, "result": result})


def message_update(update_id: int, text: str | None = None, *, chat_id: int = 42, **extra: Any) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "考生"}
    message: dict[str, Any] = {"message_id": update_id, "date": DATE, "chat": chat, "from": CANDIDATE, **extra}
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, data: str, *, chat_id: int = 42) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private", "first_name": "考生"}
    message = {"message_id": 1, "date": DATE, "chat": chat, "from": BOT, "text": "请选择"}
    query = {"id": f"cb{update_id}", "from": CANDIDATE, "chat_instance": "ci", "data": data, "message": message}
    return {"update_id": update_id, "callback_query": query}


def buttons(params: dict[str, Any]) -> list[str]:
    markup = json.loads(params.get("reply_markup") or "{}")
    return [button["text"] for row in markup.get("keyboard", []) for button in row]


async def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeBotApi, str]]:
    api = FakeBotApi()
    async with serving(api.app) as url:
        yield api, url


@dataclass
class Webhook:
    api: FakeBotApi
    client: httpx.AsyncClient

    async def post(self, update: object, secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        content = update if isinstance(update, bytes) else json.dumps(update).encode()
        return await self.client.post("/telegram", content=content, headers=headers)

    async def say(self, update: dict[str, Any], replies: int = 1, chat_id: int = 42) -> list[dict[str, Any]]:
        """Posts an update and waits until `replies` more messages have gone to the chat."""
        before = len(self.api.sent(chat_id))
        assert (await self.post(update)).status_code == 200
        await wait_until(lambda: len(self.api.sent(chat_id)) >= before + replies)
        return self.api.sent(chat_id)[before : before + replies]


@pytest.fixture
async def webhook(fake: tuple[FakeBotApi, str], make_app: Callable[..., Starlette]) -> AsyncIterator[Webhook]:
    api, url = fake
    app = make_app(
        telegram_token=TOKEN,
        telegram_api_base_url=f"{url}/bot",
        telegram_webhook_url="https://bot.example.com/telegram",
        telegram_webhook_secret=SECRET,
    )
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        yield Webhook(api, client)


async def test_polling_answers_a_policy_question(fake: tuple[FakeBotApi, str], make_app: Callable[..., Starlette]):
    api, url = fake
    api.updates.append(message_update(1, "广州退考退费登记截止到哪天？"))
    async with serving(make_app(telegram_token=TOKEN, telegram_api_base_url=f"{url}/bot")):
        await wait_until(lambda: bool(api.sent()))
    [answer] = api.texts()
    assert "2017年9月30日" in answer
    assert "穗人社职鉴函〔2017〕145号" in answer
    assert api.called("getMe")
    assert not api.called("setWebhook")


async def test_webhook_checks_the_secret_and_answers(webhook: Webhook):
    [params] = webhook.api.called("setWebhook")
    assert params["url"] == "https://bot.example.com/telegram"
    assert params["secret_token"] == SECRET

    assert (await webhook.post(message_update(1, "帮助"), secret="wrong")).status_code == 403
    assert (await webhook.post(message_update(2, "帮助"), secret=None)).status_code == 403
    assert (await webhook.post(b"{not json")).status_code == 400
    assert (await webhook.post([1, 2])).status_code == 400

    [reply] = await webhook.say(message_update(3, "广州退考退费登记截止到哪天？"))
    assert "2017年9月30日" in reply["text"]
    # Updates of one chat are answered in order, so the refused ones would have shown up first.
    assert len(webhook.api.sent()) == 1


def test_webhook_without_secret_refuses_to_start(make_app: Callable[..., Starlette]):
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        make_app(telegram_token=TOKEN, telegram_webhook_url="https://bot.example.com/telegram")
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        make_app(
            telegram_token=TOKEN, telegram_webhook_url="https://bot.example.com/telegram", telegram_webhook_secret="a b"
        )


async def test_withdraw_command_starts_the_form_and_choices_become_buttons(webhook: Webhook):
    intro, first = await webhook.say(message_update(1, "/withdraw"), replies=2)
    assert intro["text"].startswith("开始办理退考退费登记")
    assert "请问您是在哪个省份或城市报考的" in first["text"]
    assert "广州市" in buttons(first), "the regions with online withdrawal are offered as buttons"
    assert "reply_markup" not in intro

    [scope] = await webhook.say(message_update(2, "广州"))
    assert "《国家职业资格目录》" in scope["text"]
    assert buttons(scope) == ["是", "否", "不确定"]
    assert json.loads(scope["reply_markup"])["one_time_keyboard"] is True


async def test_start_welcomes_with_the_menu(webhook: Webhook):
    [welcome] = await webhook.say(message_update(1, "/start"))
    assert welcome["text"].startswith("欢迎")
    assert "退考退费" in buttons(welcome)
    [help_for_unknown] = await webhook.say(message_update(2, "/foo"))
    assert "退考退费" in help_for_unknown["text"]


async def test_callback_query_is_answered_and_dispatched_as_text(webhook: Webhook):
    await webhook.say(message_update(1, "/withdraw"), replies=2)
    await webhook.say(message_update(2, "广州"))
    [next_question] = await webhook.say(callback_update(3, "是"))
    assert "请输入您报考的职业" in next_question["text"]
    assert webhook.api.called("answerCallbackQuery")[0]["callback_query_id"] == "cb3"


async def test_an_update_delivered_twice_is_answered_once(webhook: Webhook):
    question = message_update(7, "广州退考退费登记截止到哪天？")
    await webhook.post(question)
    await webhook.post(question)
    # Updates are handled off the request; wait for the answer before the next message, so that
    # the next wait counts only the help text.
    await wait_until(lambda: len(webhook.api.texts()) >= 1)
    [help_text] = await webhook.say(message_update(8, "帮助"))
    texts = webhook.api.texts()
    assert len(texts) == 2 and texts[1] == help_text["text"]
    assert "2017年9月30日" in texts[0]


async def test_other_messages_become_events_and_groups_are_ignored(webhook: Webhook):
    await webhook.post(message_update(1, "广州退考退费登记截止到哪天？", chat_id=-100))
    [photo] = await webhook.say(
        message_update(2, photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}])
    )
    assert "图片" in photo["text"]
    [location] = await webhook.say(message_update(3, location={"latitude": 23.1, "longitude": 113.3}))
    assert "位置" in location["text"]
    assert webhook.api.sent(-100) == []


async def test_a_blocked_chat_does_not_stop_the_bot(webhook: Webhook, caplog: pytest.LogCaptureFixture):
    webhook.api.blocked.add(987654321)
    assert (await webhook.post(message_update(1, "帮助", chat_id=987654321))).status_code == 200
    await wait_until(lambda: "***4321 unreachable" in caplog.text)
    assert "987654321" not in caplog.text
    [reply] = await webhook.say(message_update(2, "帮助"))
    assert "退考退费" in reply["text"]


def test_long_replies_are_split_on_line_ends():
    lines = [f"第{i}行" + "政" * 90 for i in range(100)]
    parts = split_text("\n".join(lines), limit=1000)
    assert all(len(p) <= 1000 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert all(p.startswith("第") for p in parts)
    assert split_text("字" * 2500, limit=1000) == ["字" * 1000, "字" * 1000, "字" * 500]
    assert split_text("😀" * 3, limit=4) == ["😀😀", "😀"]
    assert split_text("") == []


async def test_replies_to_one_chat_keep_the_order_of_its_messages(webhook: Webhook):
    # Sending as slowly as the real Telegram gives a later message time to overtake an earlier one.
    webhook.api.send_delay = 0.1
    for update in (message_update(1, "/withdraw"), message_update(2, "广州"), callback_update(3, "是")):
        assert (await webhook.post(update)).status_code == 200
    await wait_until(lambda: len(webhook.api.sent()) >= 4)
    intro, region, scope, occupation = webhook.api.texts()
    assert intro.startswith("开始办理")
    assert "哪个省份或城市" in region
    assert "《国家职业资格目录》" in scope
    assert "请输入您报考的职业" in occupation
