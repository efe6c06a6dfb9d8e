"""The engine under concurrent delivery, on a real database (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set): retries run once, one user's messages never interleave or lose a save,
reference numbers stay unique and gap-free, and one person cannot file the same exam twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.context import Services
from handlers.engine import SORRY, ConversationEngine
from handlers.messages import ConversationKey, Inbound, Reply
from storage.conversations import transcript
from storage.database import Database
from storage.masking import mask_text
from storage.models import Conversation, HandledMessage, ReferenceCounter, WithdrawalRequest
from tests.dialogs import SettableClock, dialog, make_id_number

DAY = dt.date(2017, 9, 27)
CHANNEL = "test"
REFERENCE = re.compile(r"受理编号：(QK-\d{8}-\d{4})")


def id_number(i: int) -> str:
    """A distinct valid ID number per index, so that each simulated candidate is a different person."""
    return make_id_number(birth=dt.date(1990, 1, 1) + dt.timedelta(days=i), seq=i % 1000)


def dialog_until_summary(number: str) -> list[str]:
    """Guangzhou, valid on 2017-09-27, up to the summary that waits for 确认弃考."""
    return dialog("广州", "电工", "2017年10月15日", number)


@pytest.fixture
def engine(db: Database, services: Services) -> ConversationEngine:
    return ConversationEngine(db, services, SettableClock(DAY))


async def send(engine: ConversationEngine, user: str, text: str, message_id: str) -> list[Reply]:
    return await engine.handle(Inbound(key=ConversationKey(CHANNEL, user), text=text, message_id=message_id))


async def run_dialog(engine: ConversationEngine, user: str, messages: list[str]) -> list[Reply]:
    replies: list[Reply] = []
    for n, text in enumerate(messages, start=1):
        replies = await send(engine, user, text, f"{user}-{n}")
        assert replies and SORRY not in replies, f"{user}: {text!r} → {replies}"
    return replies


async def conversation(db: Database, user: str) -> Conversation:
    async with db.sessions() as session:
        stmt = select(Conversation).where(Conversation.channel == CHANNEL, Conversation.user_id == user)
        return (await session.execute(stmt)).scalar_one()


async def lines_of(db: Database, user: str) -> list[tuple[str, str]]:
    async with db.sessions() as session:
        return [(line.direction, line.text) for line in await transcript(session, channel=CHANNEL, user_id=user)]


async def handled_ids(db: Database, user: str) -> list[str]:
    """The message ids recorded as handled for the user, oldest first."""
    async with db.sessions() as session:
        stmt = (
            select(HandledMessage.message_id)
            .where(HandledMessage.channel == CHANNEL, HandledMessage.user_id == user)
            .order_by(HandledMessage.id)
        )
        return list((await session.execute(stmt)).scalars())


async def count(db: Database, column: Any, *where: Any) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count(column)).where(*where))).scalar_one())


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The state without ciphertexts, which differ on every encryption of the same value, and without
    the time of the last question, which is the clock's (replayed later, it is later)."""
    state = {k: v for k, v in state.items() if k != "last_asked"}
    form = state.get("form")
    if not form:
        return state
    values = {
        name: {k: v for k, v in item.items() if k != "v" or not item.get("enc")}
        for name, item in form["values"].items()
    }
    return {**state, "form": {**form, "values": values}}


def turns(lines: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """The transcript cut into (inbound text, outbound texts) turns, in stored order."""
    result: list[tuple[str, list[str]]] = []
    for direction, text in lines:
        if direction == "in":
            result.append((text, []))
        else:
            assert result, "an outbound line before any inbound one"
            result[-1][1].append(text)
    return result


async def test_the_same_message_delivered_three_times_at_once_runs_once(db: Database, engine: ConversationEngine):
    await run_dialog(engine, "dup", ["退考退费"])
    before = (await conversation(db, "dup")).version

    results = await asyncio.gather(*(send(engine, "dup", "广州", "dup-twice") for _ in range(3)))

    assert results[0] and SORRY not in results[0]
    assert "属于目录之外的职业吗" in joined(results[0])  # the question after the region
    assert results[0] == results[1] == results[2]
    assert (await conversation(db, "dup")).version == before + 1
    lines = await lines_of(db, "dup")
    assert [t for d, t in lines if d == "in"] == ["退考退费", "广州"]
    assert [t for d, t in lines if d == "out"][-len(results[0]) :] == [mask_text(r.text) for r in results[0]]
    assert (await handled_ids(db, "dup")).count("dup-twice") == 1
    # The form moved one step: the region is recorded once, and a later retry still replays.
    assert list((await conversation(db, "dup")).state["form"]["values"]) == ["region"]
    assert await send(engine, "dup", "广州", "dup-twice") == results[0]


@pytest.mark.parametrize("first_contact", [False, True], ids=["form-in-progress", "first-contact"])
async def test_concurrent_messages_of_one_user_are_serialised(
    db: Database, engine: ConversationEngine, first_contact: bool
):
    user = "busy"
    sent_before = [] if first_contact else ["退考退费"]
    await run_dialog(engine, user, sent_before)
    burst = (
        ["退考退费", "广州", "是", "电工", "帮助", "2017年10月15日"]
        if first_contact
        else ["广州", "是", "电工", "帮助"]
    )

    results = await asyncio.gather(*(send(engine, user, text, f"burst-{n}") for n, text in enumerate(burst)))

    for text, replies in zip(burst, results, strict=True):
        assert replies and SORRY not in replies, f"{text!r} → {replies}"
    total = len(sent_before) + len(burst)
    final = await conversation(db, user)
    assert final.version == total
    lines = await lines_of(db, user)
    stored_turns = turns(lines)
    assert len(stored_turns) == total
    assert sorted(t for t, _ in stored_turns) == sorted(sent_before + burst)
    # No interleaving: each message's replies follow its own inbound line, exactly as returned.
    returned = dict(zip(burst, results, strict=True))
    for text, outs in stored_turns[len(sent_before) :]:
        assert outs == [mask_text(r.text) for r in returned[text]]
    recorded = await handled_ids(db, user)
    assert sorted(recorded[-len(burst) :]) == sorted(f"burst-{n}" for n in range(len(burst)))

    # Serialisable: replaying the stored order one by one gives the same replies and the same state.
    replay_user = "serial"
    for n, (text, outs) in enumerate(stored_turns):
        replies = await send(engine, replay_user, text, f"serial-{n}")
        assert [mask_text(r.text) for r in replies] == outs
    assert comparable((await conversation(db, replay_user)).state) == comparable(final.state)


async def test_concurrent_submissions_get_unique_gap_free_references(db: Database, engine: ConversationEngine):
    users = [f"cand{i:02d}" for i in range(24)]
    await asyncio.gather(*(run_dialog(engine, u, dialog_until_summary(id_number(i))) for i, u in enumerate(users)))

    results = await asyncio.gather(*(send(engine, u, "确认弃考", f"{u}-confirm") for u in users))

    references = []
    for user, replies in zip(users, results, strict=True):
        found = REFERENCE.findall(joined(replies))
        assert len(found) == 1 and "已提交" in joined(replies), f"{user}: {joined(replies)}"
        references.append(found[0])
    assert sorted(references) == [f"QK-20170927-{n:04d}" for n in range(1, len(users) + 1)]
    async with db.sessions() as session:
        stored = dict((await session.execute(select(WithdrawalRequest.user_id, WithdrawalRequest.reference))).all())
        counter = (await session.execute(select(ReferenceCounter.last))).scalar_one()
    assert stored == dict(zip(users, references, strict=True))
    assert counter == len(users)


async def test_the_same_person_filing_from_two_accounts_at_once_is_stored_once(
    db: Database, engine: ConversationEngine
):
    rounds = 4  # several people, so that both the look-up and the unique constraint get their chance
    accounts = [(f"wx{r}", f"tg{r}") for r in range(rounds)]
    await asyncio.gather(
        *(
            run_dialog(engine, a, dialog_until_summary(id_number(100 + r)))
            for r, pair in enumerate(accounts)
            for a in pair
        )
    )

    results = await asyncio.gather(*(send(engine, a, "确认弃考", f"{a}-confirm") for pair in accounts for a in pair))

    for r, pair in enumerate(accounts):
        texts = [joined(results[2 * r]), joined(results[2 * r + 1])]
        submitted = [t for t in texts if t.startswith("已提交，受理编号：")]
        duplicate = [t for t in texts if "已为这场考试提交过" in t]
        assert len(submitted) == 1 and len(duplicate) == 1, texts
        reference = REFERENCE.search(submitted[0])
        assert reference is not None
        # The other account is not shown the first one's reference (it may be someone else's).
        assert reference.group(1) not in duplicate[0] and "QK-" not in duplicate[0]
        for user in pair:
            assert "form" not in (await conversation(db, user)).state
    assert await count(db, WithdrawalRequest.id) == rounds
    async with db.sessions() as session:
        references = sorted((await session.execute(select(WithdrawalRequest.reference))).scalars())
    # The refused duplicate must not consume a number either.
    assert references == [f"QK-20170927-{n:04d}" for n in range(1, rounds + 1)]
