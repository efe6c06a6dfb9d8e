"""handlers.request_review against a real database: which status changes are allowed, what each one
writes (request, history, audit, outbox) and that a refusal writes nothing; region scoping; bulk
approval."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers import request_review as review
from handlers.context import Services
from knowledge.workdays import format_date
from storage import request_queries as queries
from storage.database import Database
from storage.models import AuditEntry, OutboxMessage, RequestEvent, WithdrawalRequest
from tests.storage.request_factory import NOW, make


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
            change = await act(session, request_id=request.id, actor="li", now=NOW, **extra)
        assert change.queued and change.status == review.ACTIONS[action][1]
        assert await counts(db) == (before[0] + 1, before[1] + 1, before[2] + 1)
    else:
        with pytest.raises(review.TransitionRefused) as refused:
            async with db.transaction() as session:
                await act(session, request_id=request.id, actor="li", now=NOW, **extra)
        assert (refused.value.action, refused.value.status) == (action, status)
        assert await counts(db) == before
    async with db.sessions() as session:
        after = await session.get(WithdrawalRequest, request.id)
    assert after is not None
    assert after.status == (review.ACTIONS[action][1] if allowed else status)


async def test_a_change_writes_history_audit_and_one_notice(db: Database, services: Services) -> None:
    request = await make(db, services)
    async with db.transaction() as session:
        change = await review.reject(session, request_id=request.id, reason=" 不符合条件 ", actor="li", now=NOW)
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
                await review.approve(session, request_id=request_id, actor="li", now=NOW, visible=guangdong)
    async with db.sessions() as session:
        assert await queries.find_request(session, request_id=fujian.id, visible=guangdong) is None
        assert await queries.find_request(session, request_id=fujian.id, visible=None) is not None
        assert await queries.find_request(session, request_id=fujian.id, visible=frozenset()) is None
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
                await act(session, request_id=request_id, actor="li", now=NOW, **extra)
        assert message in refused.value.message
    assert await counts(db) == (2, 0, 0)


async def test_two_reviewers_approving_at_once_approve_once(db: Database, services: Services) -> None:
    request = await make(db, services)

    async def click(actor: str) -> str:
        try:
            async with db.transaction() as session:
                await review.approve(session, request_id=request.id, actor=actor, now=NOW)
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
            visible=frozenset({"广州市"}),
        )
    assert sorted(c.request_id for c in result.approved) == sorted(r.id for r in ok)
    assert result.skipped == 3  # the duplicate id counts once
    with pytest.raises(review.InvalidInput):
        async with db.transaction() as session:
            await review.bulk_approve(session, request_ids=range(1, review.BULK_LIMIT + 2), actor="li", now=NOW)
