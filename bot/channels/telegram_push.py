"""Proactive Telegram messages: a plain sendMessage to the user's private chat, and what each Bot API error
means for the caller.

A Telegram user can always be written to once they have started the bot, until they block it or delete their
account; there is no window as on WeChat, so `last_seen` is not needed here."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

from handlers.messages import Outbound
from storage.outbox import Delivery

log = logging.getLogger(__name__)

READ_TIMEOUT = 10.0
"""Seconds to wait for Telegram's answer. Longer than PTB's 5 s default: after a timeout the message may still
have been delivered, and the retry that follows would send it twice."""
DEADLINE = 30.0
"""Seconds a send may take in all, waiting in the flood limiter included: the dispatcher's claim on the message
(60 s by default) must outlive it."""


@dataclass(frozen=True)
class Retries:
    """A call's `rate_limit_args` for `RateLimiter`: how many times to sleep out a 429 and try again."""

    count: int


NO_RETRIES = Retries(0)


class RateLimiter(AIORateLimiter):
    """PTB's `AIORateLimiter`, except that a call can ask for no retries at all.

    PTB cannot be told 0 retries per call: `ExtBot` drops a falsy `rate_limit_args` and `AIORateLimiter` reads
    it as `rate_limit_args or max_retries`. So the count travels wrapped in `Retries` (truthy) and the default is
    kept here. Replies retry a 429 (the candidate is waiting for them); pushes do not (the outbox tries again
    later, and a send sleeping out a long `retry_after` would hold the dispatcher's batch)."""

    def __init__(self, *, max_retries: int) -> None:
        super().__init__(max_retries=0)
        self.default_retries = max_retries

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Retries | int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if isinstance(rate_limit_args, Retries):
            retries = rate_limit_args.count
        else:
            retries = self.default_retries if rate_limit_args is None else rate_limit_args
        # With max_retries=0 underneath, `retries or 0` is exactly `retries`.
        return await super().process_request(callback, args, kwargs, endpoint, data, retries)


class TelegramPush:
    """Sends proactive messages with the channel's own bot, so they share its flood limiter with the replies.

    A 429 is handed back at once as a "retry" with Telegram's `retry_after`, not slept out here. While a reply
    is sleeping out a 429 the limiter holds every request, pushes included; past `deadline` the push gives up
    with a "retry". (Giving up ends PTB's pause early for the other waiting requests too: a reply may then
    meet another 429 and sleep it out again.)"""

    def __init__(self, bot: Bot, *, read_timeout: float = READ_TIMEOUT, deadline: float = DEADLINE) -> None:
        self.bot = bot
        self.read_timeout = read_timeout
        self.deadline = deadline

    def route(self, last_seen: dt.datetime | None, now: dt.datetime) -> None:
        """No daily quota on this channel."""
        return None

    async def send(
        self, user_id: str, message: Outbound, *, last_seen: dt.datetime | None, now: dt.datetime
    ) -> Delivery:
        try:
            chat_id = int(user_id)
        except ValueError:
            return Delivery("failed", error="not a Telegram chat id")
        # No reply_markup: the keyboard of a form in progress stays as it is under the reminder.
        kwargs: dict[str, Any] = {"read_timeout": self.read_timeout}
        if isinstance(self.bot, ExtBot) and self.bot.rate_limiter is not None:
            kwargs["rate_limit_args"] = NO_RETRIES
        try:
            async with asyncio.timeout(self.deadline):
                await self.bot.send_message(chat_id, message.text, **kwargs)
        except TelegramError as exc:
            return self._failure(exc)
        except TimeoutError:
            return Delivery("retry", error=f"no answer from Telegram within {self.deadline:g} s")
        except Exception as exc:  # noqa: BLE001 - the protocol promises a Delivery, never an exception
            log.exception("telegram push failed unexpectedly")
            return Delivery("retry", error=self._scrub(f"{type(exc).__name__}: {exc}"))
        return Delivery("sent", via="telegram")

    def _failure(self, exc: TelegramError) -> Delivery:
        # Order matters: BadRequest and TimedOut are both NetworkError subclasses.
        if isinstance(exc, RetryAfter):
            return Delivery("retry", error=self._scrub(exc.message), retry_after=_seconds(exc))
        if isinstance(exc, Forbidden):
            # Blocked by the user, account deleted, or the user never started the bot.
            return Delivery("unreachable", error=self._scrub(exc.message))
        if isinstance(exc, BadRequest):
            status = "unreachable" if "chat not found" in exc.message.lower() else "failed"
            return Delivery(status, error=self._scrub(exc.message))
        if isinstance(exc, NetworkError):
            # Connection trouble, timeouts (TimedOut) and Telegram's 5xx answers.
            return Delivery("retry", error=self._scrub(exc.message))
        # InvalidToken, an unparsable answer, ChatMigrated (groups only): sending again will not help.
        return Delivery("failed", error=self._scrub(exc.message))

    def _scrub(self, text: str) -> str:
        # Errors from the HTTP layer may quote the request URL, and Bot API URLs contain the token.
        return text.replace(self.bot.token, "***")


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 returns an int (and warns that it will become a timedelta); accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
