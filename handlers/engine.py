"""The conversation engine: messages in, replies out, inside one database transaction.

The engine is the wiring around the router (`handlers.features`): it opens the transaction, answers
a message delivered again from the record of its first handling, loads the conversation's state,
hands the message to the router, and saves the state, the transcript, the replies kept for retries
and the answer counts. What a message means is the features' business, not the engine's: a new
feature registers its routes and the engine does not change.

`handle` runs one message in its own transaction, retried on a conflict; `handle_together` runs
several in one (what `handlers.group_commit` uses when the server is busy).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_incrementing

from handlers.clock import Clock, system_clock
from handlers.context import Context, Services
from handlers.conversation_state import ConversationState
from handlers.features import build_router
from handlers.form_steps import prompt_again
from handlers.messages import ConversationKey, Inbound, Reply
from handlers.routing import Router
from handlers.text import clean_text
from storage.answer_stats import AnswerTally
from storage.conversations import (
    ConversationRow,
    StaleState,
    append_transcript_rows,
    load_conversations,
    read_state,
    save_conversations,
    transcript_rows,
)
from storage.database import Database
from storage.handled_messages import MessageKey, find_handled, prune_handled, record_handled
from storage.masking import mask_text

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_TEXT = 2000
PRUNE_EVERY = 600.0
"""Seconds between two deletions of handled-message records older than a day, per process."""
SORRY = Reply("抱歉，系统暂时无法处理您的消息，请稍后再试；也可以回复“转人工”。", ("转人工",))
UNROUTED = Reply("收到。请用文字描述您的问题，或回复“帮助”查看我能做什么。", ("帮助",))
"""For a message no route took (a command whose handlers all declined)."""


def retryable(exc: BaseException) -> bool:
    """Conflicts worth handling the message again: someone saved the conversation or inserted the
    same row first, a serialization failure or deadlock, SQLite's busy lock."""
    if isinstance(exc, StaleState | IntegrityError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc.orig).lower()
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40001", "40P01") or "locked" in text or "deadlock" in text or "serializ" in text


@dataclass
class _UnitOfWork:
    """What one transaction writes besides the features' own rows."""

    answers: AnswerTally = field(default_factory=AnswerTally)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    handled: dict[MessageKey, list[dict[str, Any]]] = field(default_factory=dict)
    changed: dict[int, ConversationRow] = field(default_factory=dict)


class ConversationEngine:
    """Handles messages for every channel. Build once; safe to call concurrently."""

    def __init__(self, db: Database, services: Services, clock: Clock = system_clock, *, router: Router | None = None):
        self.db = db
        self.services = services
        self.clock = clock
        self.router = router or build_router()
        self._next_prune = time.monotonic() + PRUNE_EVERY
        self.transactions = 0
        """Transactions committed, and the messages they carried: their ratio says how much group
        commit saves (exported by bot.metrics)."""
        self.transaction_messages = 0

    def submit(self, inbound: Inbound) -> asyncio.Future[list[Reply]]:
        """Handles the message in a task of its own; the future gets its replies (never an exception).
        A task, so that a caller that goes away (a closed connection) does not abandon the message."""
        return asyncio.ensure_future(self.handle(inbound))

    async def waiting_for(self, key: ConversationKey) -> Reply | None:
        """The question an open form of this conversation waits on (to show a candidate coming back),
        or None. Reads the state without changing it."""
        async with self.db.sessions() as session:
            stored = await read_state(session, channel=key.channel, user_id=key.user_id)
            if not stored:
                return None
            ctx = Context(
                inbound=Inbound(key=key, text=""),
                services=self.services,
                session=session,
                now=self.clock(),
                knowledge=self.services.knowledge.current,
                state=ConversationState.from_json(stored),
            )
            return prompt_again(ctx)

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """One message in its own transaction, tried again on a conflict. Never raises: a failure is
        logged (masked) and the candidate gets an apology."""
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(MAX_ATTEMPTS),
                wait=wait_incrementing(start=0.01, increment=0.01),
                retry=retry_if_exception(retryable),
                before_sleep=lambda state: log.info(
                    "retrying message after %s", type(state.outcome.exception()).__name__ if state.outcome else "?"
                ),
                reraise=True,
            ):
                with attempt:
                    return (await self.handle_together(lambda: [inbound]))[0]
        except DBAPIError as exc:
            log.error("database error: %s", mask_text(str(exc.orig))[:300])
        except Exception:
            log.exception("failed to handle message from %s", inbound.key.channel)
        return [SORRY]

    async def handle_together(self, take: Callable[[], list[Inbound]]) -> list[list[Reply]]:
        """Handles the messages `take` gives, once the transaction has begun, in order, in that one
        transaction; any exception rolls all of them back. Each message's replies, in order."""
        work = _UnitOfWork()
        # Inline: the engine's statements are short and indexed (see storage.sqlite_driver).
        async with self.db.transaction(inline=True) as session:
            messages = take()
            results = await self._run_all(session, messages, work)
            now = self.clock()
            await save_conversations(session, list(work.changed.values()), now)
            await record_handled(session, work.handled, now)
            await append_transcript_rows(session, work.transcript)
            await work.answers.flush(session)
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY
                await prune_handled(session, now)
        self.transactions += 1
        self.transaction_messages += len(messages)
        return results

    async def _run_all(self, session: AsyncSession, messages: list[Inbound], work: _UnitOfWork) -> list[list[Reply]]:
        # The conversation rows are locked: a retry of a message being handled elsewhere waits
        # here, then finds the recorded replies instead of running the message again.
        conversations = await load_conversations(
            session, [(m.key.channel, m.key.user_id) for m in messages], now=self.clock()
        )
        ids = [(m.key.channel, m.key.user_id, m.message_id) for m in messages if m.message_id is not None]
        recorded = await find_handled(session, ids) if ids else {}
        snapshot = self.services.knowledge.current
        results: list[list[Reply]] = []
        for inbound in messages:
            key = (inbound.key.channel, inbound.key.user_id, inbound.message_id or "")
            seen = work.handled.get(key, recorded.get(key))
            if inbound.message_id is not None and seen is not None:
                results.append([Reply.from_json(r) for r in seen])
                continue
            conversation = conversations[(inbound.key.channel, inbound.key.user_id)]
            now = self.clock()
            ctx = Context(
                inbound=replace(inbound, text=clean_text(inbound.text, limit=MAX_TEXT)),
                services=self.services,
                session=session,
                now=now,
                knowledge=snapshot,
                # This transaction's own copy: a failure discards it.
                state=ConversationState.from_json(conversation.state),
                answers=work.answers,
            )
            replies = await self._route(ctx)
            results.append(replies)
            if inbound.message_id is not None:
                work.handled[key] = [r.to_json() for r in replies]
            # A later message of the same user in this batch sees this state.
            conversation.state = ctx.state.to_json()
            conversation.handled += 1
            work.changed[conversation.id] = conversation
            # A form answer is kept as the form shows it back (an ID number masked), not as typed.
            incoming = ctx.transcript_in or ctx.inbound.transcript_text()
            lines = [("in", incoming), *(("out", r.text) for r in replies)]
            work.transcript.extend(
                transcript_rows(channel=inbound.key.channel, user_id=inbound.key.user_id, lines=lines, now=now)
            )
        return results

    async def _route(self, ctx: Context) -> list[Reply]:
        handled = await self.router.dispatch(ctx.inbound, ctx)
        return handled.replies if handled is not None else [UNROUTED]
