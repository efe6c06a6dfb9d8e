"""Group commit: messages that arrive while a transaction runs are handled together in the next
one. Checked on a real database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set): each
message gets the reply it would get alone, and a message that fails costs only its own reply,
with nothing of the rolled-back attempt left behind or counted twice."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from handlers.context import Context, Services
from handlers.engine import SORRY, ConversationEngine
from handlers.features import build_router
from handlers.group_commit import GroupCommit
from handlers.messages import ConversationKey, Inbound, Reply
from handlers.routing import Router
from storage.database import Database
from storage.models import AnswerStat, Conversation, TranscriptLine
from tests.dialogs import SettableClock

DAY = dt.date(2017, 9, 25)
CHANNEL = "test"
QUESTION = "广州退考退费登记截止到哪天？"
POISON = "这条消息会让处理出错"


@pytest.fixture
def engine(db: Database, services: Services) -> GroupCommit:
    return GroupCommit(ConversationEngine(db, services, SettableClock(DAY)))


def commits(db: Database) -> list[int]:
    seen: list[int] = []
    event.listen(db.engine.sync_engine, "commit", lambda conn: seen.append(1))
    return seen


async def send(engine: GroupCommit, user: str, text: str, message_id: str) -> list[Reply]:
    return await engine.handle(Inbound(key=ConversationKey(CHANNEL, user), text=text, message_id=message_id))


async def scalar(db: Database, stmt: Any) -> Any:
    async with db.sessions() as session:
        return (await session.execute(stmt)).scalar_one()


async def test_messages_arriving_together_share_a_transaction_and_each_gets_its_own_answer(
    db: Database, engine: GroupCommit
) -> None:
    alone = await send(engine, "alone", QUESTION, "alone-1")
    assert alone[0].kind == "answer" and alone[0].sources
    committed = commits(db)

    users = [f"u{n:02d}" for n in range(40)]
    results = await asyncio.gather(*(send(engine, u, QUESTION, f"{u}-1") for u in users))

    assert all(replies == alone for replies in results)
    # They all arrive before the first batch starts, which takes them together.
    assert len(committed) <= 2, len(committed)
    async with db.sessions() as session:
        per_user = await session.execute(
            select(TranscriptLine.user_id, TranscriptLine.direction, func.count(TranscriptLine.id))
            .where(TranscriptLine.user_id.in_(users))
            .group_by(TranscriptLine.user_id, TranscriptLine.direction)
        )
        counted = {(user, direction): n for user, direction, n in per_user}
    assert counted == {(u, d): 1 for u in users for d in ("in", "out")}
    answered = await scalar(db, select(func.sum(AnswerStat.answered)))
    assert answered == len(users) + 1
    versions = await scalar(db, select(func.sum(Conversation.version)).where(Conversation.user_id.in_(users)))
    assert versions == len(users)


def poisoned_router() -> Router:
    """The bot's features behind one that fails on POISON, as a bug in a feature would."""
    poison = Router("poison")

    @poison.text(lambda inbound, ctx: inbound.text == POISON)
    async def explode(inbound: Inbound, ctx: Context) -> list[Reply]:
        raise RuntimeError("boom")

    root = Router("test")
    root.include_router(poison)
    root.include_router(build_router())
    return root


async def test_a_failing_message_costs_only_its_own_reply(
    db: Database, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    engine = GroupCommit(ConversationEngine(db, services, SettableClock(DAY), router=poisoned_router()))
    caplog.set_level(logging.INFO, logger="handlers.group_commit")
    await send(engine, "first", QUESTION, "first-1")
    expected = await send(engine, "reference", QUESTION, "reference-1")

    users = [f"v{n:02d}" for n in range(12)]
    texts = {u: (POISON if n == 5 else QUESTION) for n, u in enumerate(users)}
    results = await asyncio.gather(*(send(engine, u, texts[u], f"{u}-1") for u in users))

    assert any("rolled back" in r.getMessage() for r in caplog.records)  # it did run in a batch
    for u, replies in zip(users, results, strict=True):
        assert replies == ([SORRY] if texts[u] == POISON else expected), u
    good = [u for u in users if texts[u] != POISON]
    lines = await scalar(db, select(func.count(TranscriptLine.id)).where(TranscriptLine.user_id.in_(good)))
    assert lines == 2 * len(good)
    # The failed message saved nothing; the rolled-back batch counted nothing twice.
    assert await scalar(db, select(func.count(TranscriptLine.id)).where(TranscriptLine.user_id == "v05")) == 0
    assert await scalar(db, select(func.sum(AnswerStat.answered))) == len(good) + 2
    versions = await scalar(db, select(func.sum(Conversation.version)).where(Conversation.user_id.in_(good)))
    assert versions == len(good)


async def test_a_retry_in_the_same_batch_as_its_original_replays_the_replies(db: Database, engine: GroupCommit) -> None:
    await send(engine, "first", QUESTION, "first-1")
    results = await asyncio.gather(
        send(engine, "first", "帮助", "first-2"),
        send(engine, "twice", QUESTION, "twice-1"),
        send(engine, "twice", QUESTION, "twice-1"),
        send(engine, "twice", "帮助", "twice-2"),
    )
    assert results[1] == results[2] and results[1][0].kind == "answer"
    assert results[3] != results[1]
    incoming = await scalar(
        db,
        select(func.count(TranscriptLine.id)).where(
            TranscriptLine.user_id == "twice", TranscriptLine.direction == "in"
        ),
    )
    assert incoming == 2
    assert await scalar(db, select(Conversation.version).where(Conversation.user_id == "twice")) == 2


async def test_a_batch_never_exceeds_its_limit(db: Database, services: Services) -> None:
    engine = GroupCommit(ConversationEngine(db, services, SettableClock(DAY)), max_batch=4)
    committed = commits(db)
    results = await asyncio.gather(*(send(engine, f"w{n}", "帮助", f"w{n}-1") for n in range(13)))
    assert all(r and SORRY not in r for r in results)
    # All 13 are waiting before the first batch starts: 4 + 4 + 4 + 1.
    assert len(committed) == 4


async def test_messages_arriving_while_the_transaction_begins_join_it(
    db: Database, engine: ConversationEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A transaction that takes a while to begin: on SQLite, another writer holding the lock.
    begin = asyncio.Event()
    transaction = db.transaction

    @contextlib.asynccontextmanager
    async def slow_transaction(**kwargs: Any) -> AsyncIterator[Any]:
        await begin.wait()
        async with transaction(**kwargs) as session:
            yield session

    monkeypatch.setattr(db, "transaction", slow_transaction)
    first = asyncio.create_task(send(engine, "early", QUESTION, "early-1"))
    for _ in range(3):
        await asyncio.sleep(0)  # the runner has taken up the first message and waits to begin
    later = [asyncio.create_task(send(engine, f"late{n}", "帮助", f"late{n}-1")) for n in range(5)]
    before = (engine.engine.transactions, engine.engine.transaction_messages)
    begin.set()
    results = await asyncio.gather(first, *later)

    assert results[0][0].kind == "answer" and all(r and SORRY not in r for r in results)
    # One transaction for all six: the batch is taken once the transaction has begun.
    assert (engine.engine.transactions - before[0], engine.engine.transaction_messages - before[1]) == (1, 6)


async def test_a_caller_that_goes_away_leaves_the_batch_and_its_own_message_handled(
    db: Database, engine: GroupCommit
) -> None:
    tasks = [asyncio.create_task(send(engine, f"x{n}", QUESTION, f"x{n}-1")) for n in range(6)]
    await asyncio.sleep(0)  # each has queued its message
    tasks[2].cancel()  # the connection closed
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[2], asyncio.CancelledError)
    assert all(isinstance(r, list) and r[0].kind == "answer" for n, r in enumerate(results) if n != 2)
    # The engine ran on: the cancelled caller's message was handled (a retry would replay it).
    await send(engine, "later", "帮助", "later-1")
    users = [f"x{n}" for n in range(6)]
    lines = await scalar(db, select(func.count(TranscriptLine.id)).where(TranscriptLine.user_id.in_(users)))
    assert lines == 2 * len(users)
    assert await send(engine, "x2", QUESTION, "x2-1") == results[0]
