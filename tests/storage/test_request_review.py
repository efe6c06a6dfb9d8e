"""storage.request_review against a real database: which status changes are allowed, what each one
writes (request, history, audit, outbox) and that a refusal writes nothing; region scoping; the
list's filters, counts and search; reading an export batch in chunks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.context import Services
from handlers.request_status import status_notice
from knowledge.timezone import SHANGHAI
from knowledge.workdays import format_date
from storage import request_review as review
from storage.database import Database
from storage.models import AuditEntry, OutboxMessage, RequestEvent, WithdrawalRequest
from storage.requests import NewRequest, create_request
from tests.dialogs import make_id_number

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
_seq = iter(range(1, 10_000))


async def make(
    db: Database,
    services: Services,
    *,
    name: str = "张三",
    region: str = "广州市",
    status: str = "submitted",
    occupation: str = "电工",
    institution: str = "广州市第一技工学校",
    confirmed: dt.datetime = dt.datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI),
) -> WithdrawalRequest:
    id_number = make_id_number("440103", dt.date(1990, 1, 1), next(_seq))
    new = NewRequest(
        channel="test",
        user_id=f"u{id_number}",
        name=name,
        id_number=id_number,
        phone="13812345678",
        region=region,
        doc_no="穗人社职鉴函〔2017〕145号",
        occupation=occupation,
        occupation_listed=True,
        level="中级",
        exam_date=dt.date(2026, 4, 18),
        institution=institution,
        receipt_no=None,
        deadline=None,
        declaration=f"本人{name}，身份证号{id_number}，自愿放弃考试。",
    )
    async with db.transaction() as session:
        request = await create_request(
            session, new, cipher=services.cipher, now=confirmed.astimezone(dt.UTC), today=confirmed.date()
        )
        request.status = status
    return request


async def counts(db: Database) -> tuple[int, int, int]:
    """Events, audit entries, outbox rows."""
    async with db.sessions() as session:
        found = [
            int((await session.execute(select(func.count()).select_from(model))).scalar_one())
            for model in (RequestEvent, AuditEntry, OutboxMessage)
        ]
    return found[0], found[1], found[2]


Act = Callable[..., Awaitable[review.StatusChange]]
ACTS: dict[str, tuple[Act, dict[str, Any]]] = {
    "approve": (review.approve, {}),
    "reject": (review.reject, {"reason": "材料不全"}),
    "refund": (review.refund, {"refunded_on": dt.date(2026, 3, 2), "method": "原路退回", "note": None}),
}


@pytest.mark.parametrize("status", ["submitted", "approved", "rejected", "refunded"])
@pytest.mark.parametrize("action", ["approve", "reject", "refund"])
async def test_only_the_allowed_transitions_happen(db: Database, services: Services, status: str, action: str) -> None:
    request = await make(db, services, status=status)
    before = await counts(db)
    act, extra = ACTS[action]
    allowed = review.ACTIONS[action][0] == status
    if allowed:
        async with db.transaction() as session:
            change = await act(session, request_id=request.id, actor="li", now=NOW, notice=status_notice, **extra)
        assert change.queued and change.status == review.ACTIONS[action][1]
        assert await counts(db) == (before[0] + 1, before[1] + 1, before[2] + 1)
    else:
        with pytest.raises(review.TransitionRefused) as refused:
            async with db.transaction() as session:
                await act(session, request_id=request.id, actor="li", now=NOW, notice=status_notice, **extra)
        assert (refused.value.action, refused.value.status) == (action, status)
        assert await counts(db) == before
    async with db.sessions() as session:
        after = await session.get(WithdrawalRequest, request.id)
    assert after is not None
    assert after.status == (review.ACTIONS[action][1] if allowed else status)


async def test_a_change_writes_history_audit_and_one_notice(db: Database, services: Services) -> None:
    request = await make(db, services)
    async with db.transaction() as session:
        change = await review.reject(
            session, request_id=request.id, reason=" 不符合条件 ", actor="li", now=NOW, notice=status_notice
        )
    assert change.before == {"status": "submitted", "status_reason": None, "refunded_on": None}
    assert change.after == {"status": "rejected", "status_reason": "不符合条件", "refunded_on": None}
    async with db.sessions() as session:
        event = (await session.execute(select(RequestEvent).where(RequestEvent.id == change.event_id))).scalar_one()
        entry = (await session.execute(select(AuditEntry))).scalar_one()
        notice = (await session.execute(select(OutboxMessage))).scalar_one()
    assert (event.action, event.from_status, event.to_status, event.note, event.actor) == (
        "reject",
        "submitted",
        "rejected",
        "不符合条件",
        "li",
    )
    assert (entry.action, entry.target_type, entry.target_id, entry.note) == (
        "request.reject",
        "request",
        str(request.id),
        request.reference,
    )
    # The audit log never holds a personal number, masked or not.
    assert "4401" not in str(entry.before) + str(entry.after) + (entry.note or "")
    assert notice.key == f"request:{request.id}:reject:{change.event_id}"
    assert (notice.kind, notice.capped, notice.due_at, notice.channel, notice.user_id) == (
        "request_status",
        False,
        NOW,
        "test",
        request.user_id,
    )
    assert notice.fields == {
        "title": "退考退费申请未通过",
        "reference": request.reference,
        "status": "未通过",
        "reason": "不符合条件",
        "date": format_date(dt.date(2026, 3, 2)),
    }


async def test_requests_outside_the_visible_regions_are_not_found(db: Database, services: Services) -> None:
    fujian = await make(db, services, region="福建省")
    guangdong = frozenset({"广东省", "广州市"})
    for request_id in (fujian.id, 999_999):
        with pytest.raises(review.RequestNotFound):
            async with db.transaction() as session:
                await review.approve(
                    session, request_id=request_id, actor="li", now=NOW, notice=status_notice, visible=guangdong
                )
    async with db.sessions() as session:
        assert await review.find_request(session, request_id=fujian.id, visible=guangdong) is None
        assert await review.find_request(session, request_id=fujian.id, visible=None) is not None
        assert await review.find_request(session, request_id=fujian.id, visible=frozenset()) is None
    assert await counts(db) == (1, 0, 0)


async def test_bad_input_is_refused_before_anything_changes(db: Database, services: Services) -> None:
    submitted = await make(db, services)
    approved = await make(db, services, status="approved")
    attempts: list[tuple[Act, int, dict[str, Any], str]] = [
        (review.reject, submitted.id, {"reason": "  "}, "请填写驳回原因"),
        (review.reject, submitted.id, {"reason": "x" * 501}, "最多 500 个字"),
        (review.refund, approved.id, {**ACTS["refund"][1], "method": "现金"}, "原路退回"),
        (review.refund, approved.id, {**ACTS["refund"][1], "refunded_on": dt.date(2026, 3, 3)}, "不能晚于今天"),
        (review.refund, approved.id, {**ACTS["refund"][1], "refunded_on": dt.date(2026, 2, 28)}, "不能早于"),
        (review.refund, approved.id, {**ACTS["refund"][1], "note": "y" * 501}, "备注最多"),
    ]
    for act, request_id, extra, message in attempts:
        with pytest.raises(review.InvalidInput) as refused:
            async with db.transaction() as session:
                await act(session, request_id=request_id, actor="li", now=NOW, notice=status_notice, **extra)
        assert message in refused.value.message
    assert await counts(db) == (2, 0, 0)


async def test_two_reviewers_approving_at_once_approve_once(db: Database, services: Services) -> None:
    request = await make(db, services)

    async def click(actor: str) -> str:
        try:
            async with db.transaction() as session:
                await review.approve(session, request_id=request.id, actor=actor, now=NOW, notice=status_notice)
        except review.TransitionRefused:
            return "refused"
        return "approved"

    assert sorted(await asyncio.gather(click("li"), click("wang"))) == ["approved", "refused"]
    assert await counts(db) == (2, 1, 1)


async def test_bulk_approval_skips_what_it_may_not_touch(db: Database, services: Services) -> None:
    ok = [await make(db, services) for _ in range(2)]
    rejected = await make(db, services, status="rejected")
    fujian = await make(db, services, region="福建省")
    async with db.transaction() as session:
        result = await review.bulk_approve(
            session,
            request_ids=[ok[0].id, ok[1].id, ok[0].id, rejected.id, fujian.id, 424242],
            actor="li",
            now=NOW,
            notice=status_notice,
            visible=frozenset({"广州市"}),
        )
    assert sorted(c.request_id for c in result.approved) == sorted(r.id for r in ok)
    assert result.skipped == 3  # the duplicate id counts once
    with pytest.raises(review.InvalidInput):
        async with db.transaction() as session:
            await review.bulk_approve(
                session, request_ids=range(1, review.BULK_LIMIT + 2), actor="li", now=NOW, notice=status_notice
            )


async def test_filters_counts_and_search(db: Database, services: Services) -> None:
    day = lambda d: dt.datetime(2026, 2, d, 23, 30, tzinfo=SHANGHAI)  # noqa: E731 - late evening: a UTC day earlier
    a = await make(db, services, name="张_三", confirmed=day(1))
    b = await make(db, services, name="张a三", confirmed=day(2), status="approved", occupation="秘书")
    c = await make(db, services, name="李四", confirmed=day(3), region="福建省", institution="学校乙")

    async def ids(**kwargs: Any) -> list[int]:
        async with db.sessions() as session:
            found = await review.list_requests(session, review.RequestFilter(**kwargs))
            assert await review.count_requests(session, review.RequestFilter(**kwargs)) == len(found)
        return [r.id for r in found]

    assert await ids() == [c.id, b.id, a.id]
    assert await ids(query="张_") == [a.id]  # _ is a character here, not a wildcard
    assert await ids(query="张%") == []
    assert await ids(query="QK-2026020") == [c.id, b.id, a.id]
    assert await ids(query=a.reference[:-1]) == [a.id]
    assert await ids(query=a.reference) == [a.id]
    assert await ids(query=a.reference.lower()[3:]) == [a.id]
    assert await ids(submitted_from=dt.date(2026, 2, 2), submitted_to=dt.date(2026, 2, 2)) == [b.id]  # Beijing days
    assert await ids(visible=frozenset({"福建省"})) == [c.id]
    assert await ids(visible=frozenset({"福建省"}), regions=frozenset({"广州市"})) == []
    assert await ids(visible=frozenset()) == []
    assert await ids(occupation="秘书", status="approved") == [b.id]
    assert await ids(institution="学校乙") == [c.id]
    async with db.sessions() as session:
        assert await review.status_counts(session, review.RequestFilter(status="approved")) == {
            "submitted": 2,
            "approved": 1,
            "rejected": 0,
            "refunded": 0,
        }
        assert await review.list_requests(session, review.RequestFilter(), limit=1, offset=1) == [
            await session.get(WithdrawalRequest, b.id)
        ]
        assert await review.distinct_values(session, "institution", visible=frozenset({"广州市"})) == [
            "广州市第一技工学校"
        ]
        assert await review.distinct_values(session, "occupation", visible=None) == ["电工", "秘书"]


async def test_an_export_batch_is_read_oldest_first_in_chunks(db: Database, services: Services) -> None:
    made = [
        await make(db, services, name=f"张{i}", confirmed=dt.datetime(2026, 2, 1, 10, i, tzinfo=SHANGHAI))
        for i in range(5)
    ]
    async with db.sessions() as session:
        chunks = [list(chunk) async for chunk in review.stream_requests(session, review.RequestFilter(), chunk=2)]
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [r.id for c in chunks for r in c] == [r.id for r in made]


async def test_a_conversation_is_read_up_to_the_confirmation(db: Database, services: Services) -> None:
    from storage.conversations import append_transcript

    request = await make(db, services)
    async with db.transaction() as session:
        for minutes, text in ((-2, "退考退费"), (0, "确认弃考"), (3, "之后的问题")):
            await append_transcript(
                session,
                channel="test",
                user_id=request.user_id,
                lines=[("in", text)],
                now=request.confirmed_at + dt.timedelta(minutes=minutes),
            )
        await append_transcript(session, channel="test", user_id="someone-else", lines=[("in", "别人")], now=NOW)
    async with db.sessions() as session:
        lines = await review.conversation(session, request)
    assert [line.text for line in lines] == ["退考退费", "确认弃考"]
