"""Knowledge gaps in the database: grouping by similarity, counts, handled groups, masking, variants."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import insert, select

from storage import gaps
from storage.database import Database
from storage.models import GapGroup, QuestionVariant, UnansweredQuestion
from tests.dialogs import make_id_number

T0 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)


def key(text: str) -> str:
    """What the handler passes as the normalised form (see handlers.policy_qa.gap_key)."""
    return re.sub(r"[\W_]+", "", text).lower()


async def record(db: Database, text: str, *, minutes: int = 0, user: str = "u1", region: str | None = None) -> int:
    async with db.transaction() as session:
        question = await gaps.record_unanswered(
            session,
            channel="test",
            user_id=user,
            text=text,
            normalized=key(text),
            region=region,
            now=T0 + dt.timedelta(minutes=minutes),
        )
        return question.group_id


async def test_similar_questions_share_a_group_with_count_and_times(db: Database) -> None:
    first = await record(db, "鉴定费几号前得打过去", minutes=0, user="a")
    again = await record(db, "我的鉴定费几号前得打过去啊？", minutes=5, user="b", region="广州市")
    typo = await record(db, "鉴定费几号前要打过去", minutes=9, user="c")
    other = await record(db, "公务员考试几月报名", minutes=7)
    fee = await record(db, "培训费几号前得打过去", minutes=8)
    assert first == again == typo
    assert len({first, other, fee}) == 3, "different gaps stay apart"

    async with db.sessions() as session:
        group = await gaps.get_group(session, group_id=first)
        assert group is not None
        assert group.count == 3 and group.status == "open"
        assert group.representative == "鉴定费几号前得打过去"
        assert group.first_asked_at == T0 and group.last_asked_at == T0 + dt.timedelta(minutes=9)
        questions = await gaps.group_questions(session, group_id=first)
    assert [q.user_id for q in questions] == ["c", "b", "a"], "newest first"
    assert questions[1].region == "广州市" and questions[1].text == "我的鉴定费几号前得打过去啊？"


async def test_a_late_recording_does_not_move_last_asked_back(db: Database) -> None:
    group = await record(db, "鉴定费几号前得打过去", minutes=10)
    await record(db, "鉴定费几号前得打过去", minutes=3)
    async with db.sessions() as session:
        found = await gaps.get_group(session, group_id=group)
    assert found is not None and found.count == 2
    assert found.last_asked_at == T0 + dt.timedelta(minutes=10)


async def test_list_groups_by_count_or_recency_with_paging(db: Database) -> None:
    for minutes, text in enumerate(["公务员考试几月报名"] * 3 + ["公租房怎么申请"] + ["护士资格证在哪报名"] * 2):
        await record(db, text, minutes=minutes)
    async with db.sessions() as session:
        by_count = await gaps.list_groups(session)
        recent = await gaps.list_groups(session, order="recent")
        second_page = await gaps.list_groups(session, limit=2, offset=2)
        total = await gaps.count_groups(session)
    assert [(g.representative, g.count) for g in by_count] == [
        ("公务员考试几月报名", 3),
        ("护士资格证在哪报名", 2),
        ("公租房怎么申请", 1),
    ]
    assert [g.representative for g in recent] == ["护士资格证在哪报名", "公租房怎么申请", "公务员考试几月报名"]
    assert [g.representative for g in second_page] == ["公租房怎么申请"]
    assert total == 3


async def test_handled_groups_leave_the_open_list_and_a_new_question_starts_a_linked_group(db: Database) -> None:
    handled_id = await record(db, "公务员考试几月报名")
    await record(db, "公务员考试几月报名啊", minutes=1)
    async with db.transaction() as session:
        group = await gaps.mark_handled(session, group_id=handled_id, by="alice", now=T0 + dt.timedelta(hours=1))
        assert group is not None and group.status == "handled"
        assert await gaps.mark_handled(session, group_id=99_999, by="alice", now=T0) is None
    async with db.transaction() as session:
        again = await gaps.mark_handled(session, group_id=handled_id, by="bob", now=T0 + dt.timedelta(hours=2))
        assert again is not None and again.handled_by == "alice", "the first handler is kept"

    reopened = await record(db, "公务员考试是几月报名", minutes=90)
    assert reopened != handled_id
    async with db.sessions() as session:
        handled = await gaps.get_group(session, group_id=handled_id)
        fresh = await gaps.get_group(session, group_id=reopened)
        assert handled is not None and fresh is not None
        assert (handled.status, handled.count, handled.handled_by) == ("handled", 2, "alice")
        assert handled.handled_at == T0 + dt.timedelta(hours=1)
        assert (fresh.status, fresh.count, fresh.previous_id) == ("open", 1, handled_id)
        assert [g.id for g in await gaps.list_groups(session)] == [reopened]
        assert [g.id for g in await gaps.list_groups(session, status="handled")] == [handled_id]
        assert await gaps.count_groups(session, status=None) == 2
    assert await record(db, "公务员考试几月报名", minutes=91) == reopened, "later ones join the open group"


async def test_personal_numbers_are_masked_before_they_are_stored(db: Database) -> None:
    id_number = make_id_number(seq=456)
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in make_id_number(seq=789))
    text = f"我身份证{id_number}，手机13812345678，另一个证件{full_width}，备用１３９１２３４５６７８，为什么查不到成绩"
    group_id = await record(db, text)
    async with db.sessions() as session:
        question = (await session.execute(select(UnansweredQuestion))).scalar_one()
        group = await gaps.get_group(session, group_id=group_id)
    assert group is not None
    for stored in (question.text, question.normalized, group.representative, group.normalized):
        assert id_number not in stored and "13812345678" not in stored
        assert not re.search(r"\d{7,}", stored), stored
    assert "138****5678" in question.text and f"{id_number[:4]}**********{id_number[-4:]}" in question.text


async def test_empty_question_is_refused(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(ValueError):
            await gaps.record_unanswered(
                session, channel="test", user_id="u", text="  ", normalized="", region=None, now=T0
            )


async def test_variants_add_list_deactivate_and_version(db: Database) -> None:
    async with db.sessions() as session:
        empty = await gaps.variants_version(session)
        assert await gaps.active_variants(session) == []
    group_id = await record(db, "鉴定费几号前得打过去")
    async with db.transaction() as session:
        first = await gaps.add_variant(
            session,
            question=" 鉴定费几号前得打过去 ",
            entry_id="gz145.fee-daily",
            by="alice",
            now=T0,
            group_id=group_id,
        )
        second = await gaps.add_variant(
            session, question="电话13812345678打不通", entry_id="gz145.contact", by="alice", now=T0
        )
    async with db.sessions() as session:
        added = await gaps.variants_version(session)
        active = await gaps.active_variants(session)
        from_group = await gaps.list_variants(session, group_id=group_id)
    assert added != empty
    assert [(v.question, v.entry_id, v.created_by, v.active) for v in active] == [
        ("鉴定费几号前得打过去", "gz145.fee-daily", "alice", True),
        ("电话138****5678打不通", "gz145.contact", "alice", True),
    ]
    assert [v.id for v in from_group] == [first.id]

    async with db.transaction() as session:
        withdrawn = await gaps.deactivate_variant(session, variant_id=second.id, by="bob", now=T0)
        assert withdrawn is not None and not withdrawn.active and withdrawn.deactivated_by == "bob"
        assert await gaps.deactivate_variant(session, variant_id=99_999, by="bob", now=T0) is None
    async with db.sessions() as session:
        # Same instant, same row count, same last id: the version still changes.
        assert await gaps.variants_version(session) not in (empty, added)
        assert [v.id for v in await gaps.active_variants(session)] == [first.id]
        assert len(await gaps.list_variants(session)) == 2
        assert [v.id for v in await gaps.list_variants(session, active_only=True)] == [first.id]

    async with db.transaction() as session:
        with pytest.raises(ValueError):
            await gaps.add_variant(session, question="   ", entry_id="gz145.fee-daily", by="alice", now=T0)


async def test_recording_stays_fast_with_thousands_of_groups(db: Database) -> None:
    rows = [
        {
            "representative": f"问题{i}关于第{i}种没有收录的证书怎么办理",
            "normalized": f"问题{i}关于第{i}种没有收录的证书怎么办理",
            "status": "open" if i % 4 else "handled",
            "count": 1,
            "first_asked_at": T0,
            "last_asked_at": T0 + dt.timedelta(seconds=i),
        }
        for i in range(5000)
    ]
    async with db.transaction() as session:
        await session.execute(insert(GapGroup), rows)
    started = time.perf_counter()
    for n in range(20):
        await record(db, f"第{n}个全新的问题：公租房怎么申请", minutes=n)
    per_question = (time.perf_counter() - started) / 20
    assert per_question < 0.05, f"{per_question * 1000:.1f} ms per recorded question"
    async with db.sessions() as session:
        assert await gaps.count_groups(session, status=None) > 5000
        assert not (await session.execute(select(QuestionVariant))).first()
