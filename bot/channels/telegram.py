"""Telegram channel: updates from a webhook or long polling become `Inbound`, replies go out with sendMessage.

Only private chats are served: the withdrawal form asks for ID numbers, which must not be typed into a group.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Bot, Chat, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import runtime_of
from bot.channels import dispatch
from bot.channels.http_body import read_limited
from bot.channels.telegram_push import RateLimiter, TelegramPush
from bot.config import Settings
from handlers.messages import Command, ConversationKey, Inbound, Reply

log = logging.getLogger(__name__)

CHANNEL = "telegram"
PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BODY = 1024 * 1024
"""An update is a message with its metadata: a few KB, far less than this."""
ALLOWED_UPDATES = ["message", "callback_query"]
COMMANDS = {
    "help": Command.HELP,
    "withdraw": Command.WITHDRAW,
    "status": Command.MY_REQUESTS,
    "remind": Command.REMIND,
    "cancel": Command.CANCEL,
    "human": Command.HUMAN,
}
MEDIA = (
    (filters.PHOTO, "image"),
    (filters.VOICE | filters.AUDIO, "voice"),
    (filters.VIDEO | filters.VIDEO_NOTE, "video"),
    (filters.Sticker.ALL, "sticker"),
    (filters.LOCATION | filters.VENUE, "location"),
    (filters.Document.ALL, "file"),
)
# Edited messages are left alone: answering an old message again would confuse the conversation.
NEW_MESSAGE = filters.UpdateType.MESSAGE
POLL_TIMEOUT = 30
CONCURRENT_UPDATES = 64
SEEN_UPDATES = 4096
REPLY_RETRIES = 3

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def routes(settings: Settings) -> list[BaseRoute]:
    """The webhook route, only in webhook mode (token and TELEGRAM_WEBHOOK_URL both set)."""
    if settings.telegram_token is None or settings.telegram_webhook_url is None:
        return []
    expected = _webhook_secret(settings).encode()

    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        body = await read_limited(request, MAX_UPDATE_BODY)
        if body is None:
            return Response(status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            application = runtime_of(request).telegram
            assert application is not None, "routed only when Telegram is configured"
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return Response(status_code=400)
        # Queued, not processed here: Telegram gets its 200 at once and never re-sends a slow update.
        await application.update_queue.put(update)
        return Response()

    return [Route(PATH, webhook, methods=["POST"])]


@contextlib.asynccontextmanager
async def running(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    """Runs the PTB application for the server's lifetime: polling without a webhook URL, webhook otherwise.

    Only one process may poll a token (Telegram answers 409 Conflict to the others): run one worker in polling
    mode. In webhook mode every worker registers the same webhook, which is harmless."""
    if settings.telegram_token is None:
        yield
        return
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    webhook_url = settings.telegram_webhook_url
    base_url = settings.telegram_api_base_url
    builder = (
        Application.builder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(base_url)
        # Set too, so that with a local Bot API server (or a test fake) nothing reaches api.telegram.org.
        .base_file_url(_file_url(base_url))
        # Keeps the bot under ~30 messages/s. Replies sleep out Telegram's 429 retry_after (up to three tries);
        # pushes ask for no retries and hand the 429 back to the outbox (see RateLimiter).
        .rate_limiter(RateLimiter(max_retries=REPLY_RETRIES))
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if webhook_url is not None:
        builder = builder.updater(None)
    application = builder.build()
    TelegramChannel(app).register(application)
    runtime_of(app).telegram = application
    async with application:
        await application.start()
        # Registered once the bot is initialized, in both modes: sending needs no updater.
        runtime_of(app).pushers[CHANNEL] = TelegramPush(application.bot)
        try:
            if webhook_url is None:
                assert application.updater is not None
                await application.updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
                log.info("telegram polling started")
            else:
                await application.bot.set_webhook(
                    webhook_url, secret_token=_webhook_secret(settings), allowed_updates=ALLOWED_UPDATES
                )
                log.info("telegram webhook registered")
            yield
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()


class TelegramChannel:
    """The PTB handlers: each turns an update into an `Inbound`, asks the engine and sends the replies."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.seen: OrderedDict[int, None] = OrderedDict()
        # A lock lives while some update of its chat holds or awaits it, then drops out of the map.
        self.locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        handlers: list[BaseHandler[Update, Any, Any]] = [
            CallbackQueryHandler(self._callback_query),
            CommandHandler("start", self._reply_to(event="subscribe"), filters=NEW_MESSAGE),
            *(CommandHandler(name, self._reply_to(command=c), filters=NEW_MESSAGE) for name, c in COMMANDS.items()),
            MessageHandler(NEW_MESSAGE & filters.COMMAND, self._reply_to(command=Command.HELP)),
            MessageHandler(NEW_MESSAGE & filters.TEXT, self._message_text),
            *(MessageHandler(NEW_MESSAGE & kind, self._reply_to(event=event)) for kind, event in MEDIA),
            MessageHandler(NEW_MESSAGE, self._reply_to(event="unsupported")),
        ]
        application.add_handlers(handlers)
        application.add_error_handler(_log_error)

    def _reply_to(self, *, event: str | None = None, command: Command | None = None) -> Handler:
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await self.answer(update, event=event, command=command)

        return handle

    async def _message_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await self.answer(update, text=update.message.text or "")

    async def _callback_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        # Unanswered, the button keeps spinning on the candidate's screen.
        with contextlib.suppress(TelegramError):
            await query.answer()
        await self.answer(update, text=query.data or "")

    async def answer(
        self, update: Update, *, text: str = "", event: str | None = None, command: Command | None = None
    ) -> None:
        """Runs one update through the engine and sends the replies, in order within each chat."""
        chat = update.effective_chat
        if chat is None or chat.type != Chat.PRIVATE:
            return
        if not self._first_delivery(update.update_id):
            # Already answered (or being answered) here: sending the recorded replies again would only repeat them.
            log.info("telegram update %s delivered again; not answered twice", update.update_id)
            return
        inbound = Inbound(
            ConversationKey(CHANNEL, str(chat.id)),
            text=text,
            event=event,
            message_id=str(update.update_id),
            command=command,
        )
        lock = self.locks.get(chat.id)
        if lock is None:
            lock = self.locks[chat.id] = asyncio.Lock()
        # Updates are handled concurrently; PTB starts their tasks in update order and the lock wakes waiters first
        # come first served, so one chat's replies never overtake each other.
        async with lock:
            replies = await dispatch.handle(runtime_of(self.app), inbound)
            await send_replies(update.get_bot(), chat.id, replies)

    def _first_delivery(self, update_id: int) -> bool:
        if update_id in self.seen:
            return False
        self.seen[update_id] = None
        if len(self.seen) > SEEN_UPDATES:
            self.seen.popitem(last=False)
        return True


async def send_replies(bot: Bot, chat_id: int, replies: list[Reply]) -> None:
    """Sends each reply, split to Telegram's length limit. Never raises: a failed send is logged, the rest dropped.

    The keyboard goes on the last message only: it is the question the candidate is being asked now. Tapped
    buttons arrive as the candidate's own text, so the chat reads like the conversation it is."""
    messages = [part for reply in replies for part in split_text(reply.text)]
    choices = replies[-1].choices if replies else ()
    for i, part in enumerate(messages):
        markup: ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None
        if i == len(messages) - 1:
            markup = keyboard(choices) if choices else ReplyKeyboardRemove()
        try:
            await bot.send_message(chat_id, part, reply_markup=markup)
        except TelegramError as exc:
            # Blocked or deleted chats are deactivated by the reminders; here there is nobody left to tell.
            # Later parts would read out of context without this one, so they are dropped too.
            gone = isinstance(exc, Forbidden) or (
                isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()
            )
            log.warning(
                "telegram chat %s %s: %s", mask_chat(chat_id), "unreachable" if gone else "send failed", exc.message
            )
            return


def keyboard(choices: tuple[str, ...]) -> ReplyKeyboardMarkup:
    """Choices as buttons, two to a row (Chinese labels are short; three rows still fit a phone screen)."""
    rows = [list(choices[i : i + 2]) for i in range(0, len(choices), 2)]
    return ReplyKeyboardMarkup(rows, one_time_keyboard=True, resize_keyboard=True)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cuts text into messages within `limit`, at line ends where possible.

    Telegram counts UTF-16 code units, so an emoji counts twice."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        while _units(line) > limit:
            head = _prefix(line, limit)
            pieces.append(head)
            line = line[len(head) :]
        pieces.append(line)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if current and _units(current) + _units(piece) > limit:
            parts.append(current)
            current = ""
        current += piece
    parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix(text: str, limit: int) -> str:
    units = 0
    for i, char in enumerate(text):
        units += _units(char)
        if units > limit:
            return text[:i]
    return text


def mask_chat(chat_id: int) -> str:
    return "***" + str(chat_id)[-4:]


def _webhook_secret(settings: Settings) -> str:
    # Settings refuses a webhook URL without a well-formed secret.
    secret = settings.telegram_webhook_secret
    assert secret is not None
    return secret.get_secret_value()


def _file_url(base_url: str) -> str:
    """https://api.telegram.org/bot → https://api.telegram.org/file/bot (also with a `{token}` placeholder)."""
    root, sep, tail = base_url.rpartition("/bot")
    return f"{root}/file/bot{tail}" if sep else base_url


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # PTB's default handler logs the whole update, including what the candidate typed.
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("telegram update %s failed", update_id, exc_info=context.error)
