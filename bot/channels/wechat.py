"""WeChat Official Account message server at /wechat (wechatpy), plaintext, compatible and safe modes.

Every request is authenticated by its signature before anything else is read, and refused when its
timestamp is outside the freshness window: WeChat retries within seconds, so an old signed URL is a
captured one. With an EncodingAESKey configured only encrypted requests are taken (their
`msg_signature` covers the body); in plaintext mode, where the signature does not, a (timestamp,
nonce) pair may carry one body only (`storage.wechat_nonces`).

A reply that is not ready within the budget is answered with `success` and delivered later as a
customer-service message, because WeChat shows "该公众号暂时无法提供服务" after 5 seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

from bot.app import runtime_of
from bot.channels.dispatch import submit
from bot.channels.http_body import read_limited
from bot.channels.wechat_api import WeChatApi, WeChatApiError, new_http_session
from bot.channels.wechat_menu import MENU_COMMANDS
from bot.channels.wechat_push import WeChatPush
from bot.config import Settings
from handlers.messages import Command, ConversationKey, Inbound, Reply
from storage.api_tokens import SharedToken
from storage.masking import mask_text
from storage.wechat_nonces import prune_nonces, remember_nonce

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
UNREADABLE = "抱歉，暂时无法识别这条消息，请用文字描述您的问题。"
MEDIA = {"image", "voice", "video", "shortvideo", "location", "link", "file"}
MAX_NONCE = 64
PRUNE_EVERY = 60.0
PLAINTEXT_WARNING = (
    "微信公众号使用明文模式：消息正文不在签名范围内。生产环境请在公众号后台把消息加解密方式改为安全模式，"
    "并设置 WECHAT_AES_KEY（安全模式下 msg_signature 覆盖消息正文）。"
)


def _signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _valid(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")


def render(replies: list[Reply]) -> str:
    """WeChat shows one passive reply: the texts joined, choices as a line to copy."""
    parts = []
    for reply in replies:
        text = reply.text
        if reply.choices:
            text += "\n（可回复：" + "｜".join(reply.choices) + "）"
        parts.append(text)
    return "\n\n".join(parts)


PASSIVE_LIMIT = 2048
"""Bytes of UTF-8 a text message may hold (a passive reply, and a customer-service message)."""
MORE_FOLLOWS = "\n（内容较长，其余部分随后发送）"
CUT_SHORT = "\n（内容较长，已省略其余部分；可回复“原文”查看依据，或回复“转人工”）"


def split_for_wechat(text: str, limit: int = PASSIVE_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` bytes, cut at line ends where possible, leaving room in
    each piece but the last for a note that more follows."""
    room = limit - len(MORE_FOLLOWS.encode())
    pieces: list[str] = []
    while len(text.encode()) > limit:
        cut = text.encode()[:room].decode("utf-8", errors="ignore")
        at = cut.rfind("\n")
        head = cut[:at] if at > len(cut) // 2 else cut
        pieces.append(head)
        text = text[len(head) :].lstrip("\n")
    return [*pieces, text]


def to_inbound(message: Any) -> Inbound | None:
    """wechatpy's message → our Inbound; None for events that need no answer (VIEW, template receipts)."""
    key = ConversationKey("wechat", str(message.source))
    if message.type == "text":
        return Inbound(key=key, text=str(message.content or ""), message_id=str(message.id))
    event_id = f"{message.source}:{message.create_time}"
    if message.type == "event":
        event = str(message.event or "").lower()
        if event in ("subscribe", "subscribe_scan"):
            return Inbound(key=key, event="subscribe", message_id=f"{event_id}:subscribe")
        if event == "unsubscribe":
            return Inbound(key=key, event="unsubscribe", message_id=f"{event_id}:unsubscribe")
        if event == "click":
            # A key the menu check refused cannot arrive; one from an older menu shows the help.
            command = MENU_COMMANDS.get(str(message.key or ""), Command.HELP)
            return Inbound(key=key, command=command, message_id=f"{event_id}:click:{message.key}")
        return None
    kind = message.type if message.type in MEDIA else "unknown"
    return Inbound(key=key, event=kind, message_id=str(message.id or event_id))


class WeChatChannel:
    def __init__(self, settings: Settings) -> None:
        assert settings.wechat_token is not None
        self.settings = settings
        self.token = settings.wechat_token.get_secret_value()
        aes = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None
        self.crypto = WeChatCrypto(self.token, aes, settings.wechat_app_id or "") if aes else None
        self.budget = settings.reply_budget_seconds
        self.window = settings.wechat_signature_window_seconds
        self.wall_clock: Callable[[], float] = time.time
        """Seconds since the epoch, as WeChat's timestamps count them (not the bot's date clock)."""
        self.api: WeChatApi | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._next_prune = 0.0

    def fresh(self, timestamp: str) -> bool:
        """A timestamp within the window either side of now (clocks differ a little)."""
        return timestamp.isdigit() and len(timestamp) <= 12 and abs(self.wall_clock() - int(timestamp)) <= self.window

    async def endpoint(self, request: Request) -> Response:
        q = request.query_params
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if not _valid(_signature(self.token, timestamp, nonce), q.get("signature")):
            return PlainTextResponse("invalid signature", status_code=403)
        if not self.fresh(timestamp) or not nonce or len(nonce) > MAX_NONCE:
            return PlainTextResponse("expired signature", status_code=403)
        if request.method == "GET":
            return PlainTextResponse(q.get("echostr", ""))
        encrypted = q.get("encrypt_type") == "aes"
        if self.crypto is not None and not encrypted:
            # Compatible and safe modes both send encrypt_type=aes: a plaintext request here has a
            # signature that does not cover its body.
            log.warning("plaintext WeChat request refused: an EncodingAESKey is configured")
            return PlainTextResponse("encryption required", status_code=403)
        body = await read_limited(request, MAX_BODY)
        if body is None:
            return PlainTextResponse("body too large", status_code=413)
        if not encrypted and not await self._first_body(request.app, f"{timestamp}:{nonce}", body):
            log.warning("WeChat request refused: its signed timestamp and nonce came with another body")
            return PlainTextResponse("nonce reused", status_code=403)
        try:
            envelope = safe_fromstring(body)  # refuses DOCTYPE, entities and external references
        except (DefusedXmlException, SyntaxError, ValueError):
            return PlainTextResponse("bad xml", status_code=400)
        if encrypted:
            if self.crypto is None:
                return PlainTextResponse("encryption not configured", status_code=400)
            try:
                encrypt = envelope.findtext("Encrypt")
                if encrypt is None:
                    return PlainTextResponse("bad message", status_code=400)
                # The envelope as parsed above (defused): wechatpy would parse the body again.
                xml = self.crypto.decrypt_message({"Encrypt": encrypt}, q.get("msg_signature", ""), timestamp, nonce)
            except (InvalidSignatureException, InvalidAppIdException):
                return PlainTextResponse("invalid signature", status_code=403)
            except Exception:  # noqa: BLE001 - malformed ciphertext or envelope
                return PlainTextResponse("bad message", status_code=400)
        else:
            xml = body.decode("utf-8", errors="replace")
        try:
            message = parse_message(xml)
        except (ExpatError, KeyError, ValueError, TypeError):
            message = None
        if message is None or not getattr(message, "source", None):
            # Signed by WeChat but incomplete: answer politely when we know whom to answer.
            sender, receiver = envelope.findtext("FromUserName"), envelope.findtext("ToUserName")
            if not sender or not receiver or encrypted:
                return PlainTextResponse("success")
            polite = TextReply(source=receiver, target=sender, content=UNREADABLE)
            return Response(polite.render(), media_type="application/xml")
        inbound = to_inbound(message)
        if inbound is None:
            return PlainTextResponse("success")
        replies = await self._answer(request.app, inbound)
        if replies is None or not replies:
            return PlainTextResponse("success")
        pieces = split_for_wechat(render(replies))
        if len(pieces) > 1 and self.api is not None:
            # The first piece now, the rest as customer-service messages right after.
            rest = asyncio.create_task(self._send_pieces(pieces[1:], inbound.key.user_id))
            self._background.add(rest)
            rest.add_done_callback(self._background.discard)
            content = pieces[0] + MORE_FOLLOWS
        elif len(pieces) > 1:
            content = split_for_wechat(pieces[0], PASSIVE_LIMIT - len(CUT_SHORT.encode()))[0] + CUT_SHORT
        else:
            content = pieces[0]
        reply_xml = TextReply(content=content, message=message).render()
        if encrypted:
            assert self.crypto is not None
            reply_xml = self.crypto.encrypt_message(reply_xml, nonce, timestamp)
        return Response(reply_xml, media_type="application/xml")

    async def _first_body(self, app: Starlette, key: str, body: bytes) -> bool:
        """True unless this (timestamp, nonce) came before with a different body."""
        now = dt.datetime.fromtimestamp(self.wall_clock(), dt.UTC)
        async with runtime_of(app).db.transaction() as session:
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY
                await prune_nonces(session, before=now - dt.timedelta(seconds=2 * self.window))
            return await remember_nonce(session, key=key, digest=hashlib.sha256(body).hexdigest(), now=now)

    async def _answer(self, app: Starlette, inbound: Inbound) -> list[Reply] | None:
        """The replies if ready within the budget; otherwise None, and they are sent later."""
        pending = submit(runtime_of(app), inbound)
        try:
            # Shielded: running out of budget must not cancel the handling, only the wait.
            async with asyncio.timeout(self.budget):
                return await asyncio.shield(pending)
        except TimeoutError:
            pass
        followup = asyncio.create_task(self._send_later(pending, inbound.key.user_id))
        self._background.add(followup)
        followup.add_done_callback(self._background.discard)
        return None

    async def _send_later(self, pending: asyncio.Future[list[Reply]], openid: str) -> None:
        replies = await pending
        if not replies or self.api is None:
            return
        await self._send_pieces(split_for_wechat(render(replies)), openid)

    async def _send_pieces(self, pieces: list[str], openid: str) -> None:
        if self.api is None:
            return
        try:
            for n, piece in enumerate(pieces):
                await self.api.send_text(openid, piece + (MORE_FOLLOWS if n < len(pieces) - 1 else ""))
        except WeChatApiError as exc:
            log.warning("customer-service message failed: errcode %s", exc.errcode)
        except Exception as exc:  # noqa: BLE001 - a failed follow-up must not kill the server
            log.warning("customer-service message failed: %s", mask_text(str(exc)))

    async def drain(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


async def _endpoint(request: Request) -> Response:
    channel = runtime_of(request).wechat
    assert channel is not None, "routed only when WeChat is configured"
    return await channel.endpoint(request)


def routes(settings: Settings) -> list[BaseRoute]:
    if settings.wechat_token is None:
        return []
    return [Route("/wechat", _endpoint, methods=["GET", "POST"])]


@contextlib.asynccontextmanager
async def running(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    if settings.wechat_token is None:
        yield
        return
    channel = WeChatChannel(settings)
    runtime = runtime_of(app)
    runtime.wechat = channel
    if channel.crypto is None:
        log.warning(PLAINTEXT_WARNING)
    async with new_http_session() as client:
        if settings.wechat_app_id and settings.wechat_app_secret:
            token = SharedToken(runtime.db, runtime.services.cipher, f"wechat:{settings.wechat_app_id}")
            channel.api = WeChatApi(settings, client, token, on_token=runtime.metrics.count_token_fetch)
            runtime.pushers["wechat"] = WeChatPush(channel.api, settings.wechat_templates)
        try:
            yield
        finally:
            await channel.drain()
