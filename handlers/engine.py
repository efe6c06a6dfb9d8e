"""The conversation engine: one inbound message in, replies out, inside one transaction.

Order of business for a message: a retry of a message already handled gets the recorded
replies; channel events; global commands (帮助, 取消, 我的申请, 订阅提醒, 转人工); the form in
progress; starting the withdrawal form; otherwise a policy question.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from handlers.clock import Clock, system_clock
from handlers.context import Context, Services
from handlers.field_parsers import looks_like_question
from handlers.forms import FormContext, FormRunner
from handlers.handoff import handoff_reply
from handlers.help import help_reply, welcome_reply
from handlers.messages import Inbound, Reply
from handlers.my_requests import my_requests_reply
from handlers.policy_qa import answer_reply
from handlers.reminder_form import FORM_NAME as REMINDER_FORM
from handlers.reminder_form import (
    build_reminder_form,
    my_reminders_reply,
    subscribe_request_reply,
    unsubscribe_reply,
)
from handlers.text import compact
from handlers.withdrawal_form import FORM_NAME, build_withdrawal_form
from storage.answer_stats import AnswerTally
from storage.conversations import (
    ConversationRow,
    StaleState,
    append_transcript_rows,
    load_conversations,
    save_conversations,
    transcript_rows,
)
from storage.database import Database
from storage.handled_messages import MessageKey, find_handled, prune_handled, record_handled
from storage.masking import mask_text
from storage.subscriptions import set_reachable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_TEXT = 2000
MAX_BATCH = 64
"""Messages handled in one transaction at most; a batch waits for the slowest of its messages."""
PRUNE_EVERY = 600.0
"""Seconds between two deletions of handled-message records older than a day, per process."""
SORRY = Reply("抱歉，系统暂时无法处理您的消息，请稍后再试；也可以回复“转人工”。", ("转人工",))

HELP_WORDS = frozenset({"帮助", "菜单", "help", "menu", "start", "功能", "主菜单", "使用说明", "怎么用"})
CANCEL_WORDS = frozenset({"取消", "退出", "不办了", "算了", "取消办理", "结束", "cancel", "stop"})
MY_REQUESTS_WORDS = frozenset({"我的申请", "查询申请", "申请进度", "查进度", "进度查询", "我的退费", "申请状态"})
REMIND_WORDS = frozenset({"订阅提醒", "提醒", "订阅", "截止提醒", "提醒我", "设置提醒"})
MY_REMINDERS_WORDS = frozenset({"我的提醒", "查看提醒", "我的订阅", "提醒列表", "查看订阅"})
REQUEST_REMINDER_WORDS = frozenset({"订阅截止提醒", "订阅申请提醒", "提醒我截止日期"})
UNSUBSCRIBE_PREFIXES = ("退订", "取消订阅", "取消提醒", "不要提醒", "关闭提醒")
HUMAN_WORDS = frozenset({"转人工", "人工", "人工客服", "人工服务", "找人工", "客服", "联系人工"})
QA_WORDS = frozenset({"政策问答", "问答", "咨询"})
WITHDRAW_STARTS = (
    "退考退费",
    "我要退考",
    "我想退考",
    "申请退考",
    "办理退考",
    "我要退费",
    "我想退费",
    "申请退费",
    "办理退费",
    "我要弃考",
    "我想弃考",
    "申请弃考",
    "退考登记",
    "弃考登记",
)
WITHDRAW_WORDS = frozenset({"退考", "退费", "弃考"})
MEDIA_EVENTS = {
    "image": "图片",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "视频",
    "location": "位置",
    "link": "链接",
    "file": "文件",
    "sticker": "表情",
}


class ConversationEngine:
    """Handles messages for every channel. Build once; `handle` is safe to call concurrently.

    Messages that arrive while a transaction runs, or while the next one begins, wait and are then
    handled together, in order, in that next transaction (group commit): one read of their conversations, one write of
    each kind. A busy server thus pays the per-transaction cost (SQLAlchemy, the database
    driver's thread hand-offs, the commit) once per batch instead of once per message."""

    def __init__(
        self, db: Database, services: Services, clock: Clock = system_clock, *, max_batch: int = MAX_BATCH
    ) -> None:
        self.db = db
        self.services = services
        self.clock = clock
        self.max_batch = max_batch
        self.forms = FormRunner([build_withdrawal_form(answer_question=self._form_question), build_reminder_form()])
        self._waiting: collections.deque[tuple[Inbound, asyncio.Future[list[Reply]]]] = collections.deque()
        self._runner: asyncio.Task[None] | None = None
        self._next_prune = time.monotonic() + PRUNE_EVERY
        self.transactions = 0
        """Transactions committed (a batch or a message on its own), and the messages they carried:
        their ratio says how much group commit saves (exported by bot.metrics)."""
        self.transaction_messages = 0

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Never raises: a failure is logged (masked) and the candidate gets an apology."""
        return await self.submit(inbound)

    def submit(self, inbound: Inbound) -> asyncio.Future[list[Reply]]:
        """Queues the message; the future gets its replies (it never gets an exception)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Reply]] = loop.create_future()
        self._waiting.append((inbound, done))
        # (A runner of another, closed event loop never finishes: a CLI or test may build a new loop.)
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            # Its own task: a caller that goes away (a closed connection) must not abandon the
            # batch that carries other callers' messages.
            self._runner = asyncio.create_task(self._run())
        return done

    async def _run(self) -> None:
        """Handles what is waiting, batch after batch, until nothing is."""
        while self._waiting:
            await self._handle_batch()

    async def _handle_batch(self) -> None:
        batch: list[tuple[Inbound, asyncio.Future[list[Reply]]]] = []

        def take() -> list[Inbound]:
            # Taken once the transaction has begun: what arrived while it began joins it.
            batch.extend(self._waiting.popleft() for _ in range(min(self.max_batch, len(self._waiting))))
            return [inbound for inbound, _ in batch]

        try:
            results = await self._handle_once(take)
        except Exception as exc:  # noqa: BLE001 - every message is tried again on its own below
            if not batch:  # failed before it began: the waiting messages are tried alone, with retries
                take()
            log.info("batch of %d rolled back (%s); handling each alone", len(batch), type(exc).__name__)
        else:
            for (_, done), replies in zip(batch, results, strict=True):
                _settle(done, replies)
            return
        for inbound, done in batch:
            _settle(done, await self._handle_alone(inbound))

    async def _handle_alone(self, inbound: Inbound) -> list[Reply]:
        for attempt in range(MAX_ATTEMPTS):
            try:
                replies = (await self._handle_once(lambda: [inbound]))[0]
            except (StaleState, IntegrityError) as exc:
                log.info("retrying message after conflict: %s", type(exc).__name__)
            except DBAPIError as exc:
                if not _retryable(exc):
                    log.error("database error: %s", mask_text(str(exc.orig))[:300])
                    return [SORRY]
                log.info("retrying message after %s", type(exc.orig).__name__)
            except Exception:
                log.exception("failed to handle message from %s", inbound.key.channel)
                return [SORRY]
            else:
                return replies
            await asyncio.sleep(0.01 * (attempt + 1))
        return [SORRY]

    async def _handle_once(self, take: Callable[[], list[Inbound]]) -> list[list[Reply]]:
        """Handles the messages `take` gives, once the transaction has begun, in order, in that
        one transaction; any exception rolls all of them back."""
        answers = AnswerTally()
        lines: list[dict[str, Any]] = []
        results: list[list[Reply]] = []
        handled: dict[MessageKey, list[dict[str, Any]]] = {}
        # Inline: the engine's statements are short and indexed (see storage.sqlite_driver).
        async with self.db.transaction(inline=True) as session:
            messages = take()
            # The conversation rows are locked: a retry of a message being handled elsewhere
            # waits here, then finds the recorded replies instead of running the message again.
            conversations = await load_conversations(
                session, [(m.key.channel, m.key.user_id) for m in messages], now=self.clock()
            )
            ids = [(m.key.channel, m.key.user_id, m.message_id) for m in messages if m.message_id is not None]
            recorded = await find_handled(session, ids) if ids else {}
            changed: dict[int, ConversationRow] = {}
            for inbound in messages:
                key = inbound.key
                message_key = (key.channel, key.user_id, inbound.message_id or "")
                seen = handled.get(message_key, recorded.get(message_key))
                if inbound.message_id is not None and seen is not None:
                    results.append([Reply.from_json(r) for r in seen])
                    continue
                conversation = conversations[(key.channel, key.user_id)]
                now = self.clock()
                # The state as loaded is this transaction's own copy: a failure discards it.
                ctx = Context(
                    inbound=inbound,
                    services=self.services,
                    session=session,
                    now=now,
                    state=conversation.state,
                    answers=answers,
                )
                replies = await self._dispatch(ctx)
                if inbound.message_id is not None:
                    handled[message_key] = [r.to_json() for r in replies]
                # Kept there before handled_messages existed (migration 0010).
                ctx.state.pop("recent", None)
                # A later message of the same user in this batch sees this state.
                conversation.state = ctx.state
                conversation.handled += 1
                changed[conversation.id] = conversation
                incoming = inbound.text[:MAX_TEXT] if inbound.text else f"[{inbound.event or 'empty'}]"
                lines.extend(
                    transcript_rows(
                        channel=key.channel,
                        user_id=key.user_id,
                        lines=[("in", incoming), *(("out", r.text) for r in replies)],
                        now=now,
                    )
                )
                results.append(replies)
            now = self.clock()
            await save_conversations(session, list(changed.values()), now)
            await record_handled(session, handled, now)
            await append_transcript_rows(session, lines)
            await answers.flush(session)
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY
                await prune_handled(session, now)
        self.transactions += 1
        self.transaction_messages += len(messages)
        return results

    # -- routing --------------------------------------------------------------------------------
    async def _dispatch(self, ctx: Context) -> list[Reply]:
        inbound = ctx.inbound
        if inbound.event:
            return await self._event(ctx, inbound.event)
        text = inbound.text[:MAX_TEXT]
        return await self._text(ctx, text)

    async def _event(self, ctx: Context, event: str) -> list[Reply]:
        if event == "subscribe":
            ctx.state.pop("unsubscribed", None)
            await set_reachable(ctx.session, channel=ctx.channel, user_id=ctx.user_id, reachable=True, now=ctx.now)
            return [welcome_reply(ctx)]
        if event == "unsubscribe":
            # Nothing can be delivered to someone who left: stop every pending send to them.
            ctx.state["unsubscribed"] = True
            await set_reachable(
                ctx.session,
                channel=ctx.channel,
                user_id=ctx.user_id,
                reachable=False,
                now=ctx.now,
                reason="用户取消关注",
            )
            return []
        if event.startswith("menu:"):
            return await self._text(ctx, event[len("menu:") :])
        kind = MEDIA_EVENTS.get(event)
        if kind is not None:
            return [Reply(f"暂时无法识别{kind}消息，请用文字描述您的问题，或回复“帮助”查看我能做什么。", ("帮助",))]
        return [Reply("收到。请用文字描述您的问题，或回复“帮助”查看我能做什么。", ("帮助",))]

    async def _text(self, ctx: Context, text: str) -> list[Reply]:
        word = compact(text)
        in_form = self.forms.active(ctx)
        command = self._command(word)
        if command is not None:
            replies = await command(ctx, text)
            resume = self.forms.prompt_again(ctx) if in_form and command is not self._cancel else None
            return replies + ([resume] if resume else [])
        if in_form:
            return await self.forms.step(ctx, text)
        if word.startswith(("修改", "更改", "撤回", "撤销")) and not looks_like_question(text):
            return [
                Reply(
                    "当前没有正在填写的表单。已提交的退考退费申请（个人弃考声明）不可由本人更改或撤回；"
                    "如信息有误，请回复“转人工”由工作人员处理。回复“我的申请”可查看已提交的内容。",
                    ("转人工", "我的申请"),
                )
            ]
        if self._starts_withdrawal(text, word):
            detected = ctx.services.regions_in(text)
            prefill = {"region": detected[0]} if detected else None
            return await self.forms.start(ctx, FORM_NAME, prefill)
        if word:
            # Kept (masked) so that a later 转人工 tells staff what the candidate asked.
            ctx.state["last_question"] = mask_text(text[:200])
        return [await answer_reply(ctx, text)]

    def _command(self, word: str) -> Callable[[Context, str], Awaitable[list[Reply]]] | None:
        if word in HELP_WORDS:
            return self._help
        if word in CANCEL_WORDS:
            return self._cancel
        if word in MY_REQUESTS_WORDS:
            return self._my_requests
        if word in REMIND_WORDS:
            return self._remind
        if word in MY_REMINDERS_WORDS:
            return self._my_reminders
        if word in REQUEST_REMINDER_WORDS:
            return self._remind_request
        if word.startswith(UNSUBSCRIBE_PREFIXES):
            return self._unsubscribe
        if word in HUMAN_WORDS or word.startswith("转人工"):
            return self._human
        if word in QA_WORDS:
            return self._qa_hint
        return None

    @staticmethod
    def _starts_withdrawal(text: str, word: str) -> bool:
        if word in WITHDRAW_WORDS:
            return True
        return word.startswith(WITHDRAW_STARTS) and not looks_like_question(text)

    # -- commands -------------------------------------------------------------------------------
    async def _help(self, ctx: Context, text: str) -> list[Reply]:
        return [help_reply(ctx)]

    async def _cancel(self, ctx: Context, text: str) -> list[Reply]:
        title = self.forms.cancel(ctx)
        if title is None:
            return [Reply("当前没有正在办理的事项。需要帮助请回复“帮助”。", ("帮助",))]
        return [Reply(f"已取消{title}，您填写的信息未提交、已清除。需要时可随时重新办理。", ("退考退费", "帮助"))]

    async def _my_requests(self, ctx: Context, text: str) -> list[Reply]:
        return [await my_requests_reply(ctx)]

    async def _remind(self, ctx: Context, text: str) -> list[Reply]:
        if self.forms.active(ctx):
            return [Reply("您正在办理其他事项，请先完成，或回复“取消”后再订阅提醒。")]
        detected = ctx.services.regions_in(text)
        return await self.forms.start(ctx, REMINDER_FORM, {"region": detected[0]} if detected else None)

    async def _my_reminders(self, ctx: Context, text: str) -> list[Reply]:
        return [await my_reminders_reply(ctx)]

    async def _remind_request(self, ctx: Context, text: str) -> list[Reply]:
        return [await subscribe_request_reply(ctx)]

    async def _unsubscribe(self, ctx: Context, text: str) -> list[Reply]:
        return [await unsubscribe_reply(ctx, text)]

    async def _human(self, ctx: Context, text: str) -> list[Reply]:
        recent = ctx.state.get("last_question", "")
        return [await handoff_reply(ctx, f"{text} {recent}".strip())]

    async def _qa_hint(self, ctx: Context, text: str) -> list[Reply]:
        return [Reply("请直接输入您的问题，例如：“广州退考退费登记截止到哪天？”“钳工还能报名吗？”")]

    def _form_question(self, text: str, fctx: FormContext) -> Reply | None:
        """A question asked in the middle of a form, answered for the form's region."""
        ctx = fctx.ctx
        region = fctx.values.get("region") if "region" in fctx.values else ctx.state.get("region")
        answer = ctx.services.qa.answer(text, region=region, now=ctx.today)
        if not answer.matched:
            return None
        return Reply(answer.text, sources=answer.sources, kind="answer")


def _settle(done: asyncio.Future[list[Reply]], replies: list[Reply]) -> None:
    # A caller cancelled while waiting (a closed connection) cancelled its future with it; the
    # message was handled all the same.
    if not done.done():
        done.set_result(replies)


def _retryable(exc: DBAPIError) -> bool:
    """Serialization failures, deadlocks and SQLite's busy lock are worth another try."""
    text = str(exc.orig).lower()
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40001", "40P01") or "locked" in text or "deadlock" in text or "serializ" in text
