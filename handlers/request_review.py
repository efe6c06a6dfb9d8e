"""Staff review of withdrawal requests: approve, reject, register a refund, approve many at once.

Allowed changes: submitted → approved, submitted → rejected (with a reason), approved → refunded
(date, method, note). Each workflow runs in the caller's transaction: it checks that the request
lies in the staff member's regions (`visible`, None for all; a request outside them is treated
exactly like a missing one), that the action applies to its status and that what staff typed can
be used; then it writes the new state and its `RequestEvent`, an audit entry with the state before
and after (status, reason, refund date; never an ID number) and the candidate's message in the
outbox (worded by `handlers.request_status`), under a key made from the event so that it is queued
once. Anything refused raises a `ReviewError` before any write."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.request_status import status_notice
from knowledge.timezone import beijing_date
from storage.audit import append_entry
from storage.models import WithdrawalRequest
from storage.outbox import Planned, enqueue
from storage.request_queries import find_request
from storage.requests import change_status

ACTIONS: dict[str, tuple[str, str]] = {
    "approve": ("submitted", "approved"),
    "reject": ("submitted", "rejected"),
    "refund": ("approved", "refunded"),
}
"""action → (the status it applies to, the status it leads to)."""
REFUND_METHODS = ("原路退回",)
"""The notices say the fee is refunded the way it was paid; nothing else is offered."""
MAX_TEXT = 500
BULK_LIMIT = 200


class ReviewError(Exception):
    """A review action refused; nothing was changed."""


class RequestNotFound(ReviewError):
    """No such request, or not in the staff member's regions (the two are indistinguishable on purpose)."""


class TransitionRefused(ReviewError):
    """The action does not apply to the request's current status."""

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"{action} refused in status {status}")
        self.action = action
        self.status = status


class InvalidInput(ReviewError):
    """What staff typed cannot be used; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StatusChange:
    """One status change as it was made, for the caller's message and for the candidate's notice."""

    request_id: int
    reference: str
    channel: str
    user_id: str
    action: str
    """approve, reject or refund."""
    before: dict[str, Any]
    after: dict[str, Any]
    event_id: int
    at: dt.datetime
    reason: str | None = None
    refunded_on: dt.date | None = None
    refund_method: str | None = None
    note: str | None = None
    queued: bool = False
    """True when this call put the candidate's notice in the outbox."""

    @property
    def status(self) -> str:
        return ACTIONS[self.action][1]


@dataclass(frozen=True)
class BulkResult:
    approved: list[StatusChange]
    skipped: int
    """Chosen requests left alone: not awaiting review, outside the staff member's regions, or missing."""


@dataclass(frozen=True)
class _Details:
    """What an action records besides the new status (all checked already)."""

    reason: str | None = None
    refunded_on: dt.date | None = None
    refund_method: str | None = None
    note: str | None = None
    audit_note: str | None = None

    def event_note(self, action: str) -> str | None:
        if action == "reject":
            return self.reason
        return "；".join(v for v in (self.refund_method, self.note) if v) or None


def _snapshot(request: WithdrawalRequest) -> dict[str, Any]:
    """The audited state: never a personal number, which the audit log must not hold."""
    return {
        "status": request.status,
        "status_reason": request.status_reason,
        "refunded_on": request.refunded_on.isoformat() if request.refunded_on else None,
    }


def _clean(text: str | None, *, what: str) -> str | None:
    value = (text or "").strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what}最多 {MAX_TEXT} 个字，请精简后再提交。")
    return value or None


async def _reviewable(
    session: AsyncSession, *, request_id: int, action: str, visible: frozenset[str] | None
) -> WithdrawalRequest:
    """The request, locked until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers), so that two reviewers clicking at once cannot both move it on."""
    request = await find_request(session, request_id=request_id, visible=visible, for_update=True)
    if request is None:
        raise RequestNotFound(request_id)
    if request.status != ACTIONS[action][0]:
        raise TransitionRefused(action, request.status)
    return request


async def _tell_candidate(session: AsyncSession, change: StatusChange) -> bool:
    """Queues the candidate's notice; False when the same event's notice was queued already."""
    told = status_notice(change)
    planned = Planned(
        key=f"request:{change.request_id}:{change.action}:{change.event_id}",
        channel=change.channel,
        user_id=change.user_id,
        kind="request_status",
        text=told.text,
        fields=told.fields,
        due_at=change.at,
        capped=False,  # an answer about the candidate's own request, not a reminder
    )
    return await enqueue(session, [planned], now=change.at) == 1


async def _change(
    session: AsyncSession,
    *,
    request_id: int,
    action: str,
    actor: str,
    now: dt.datetime,
    visible: frozenset[str] | None,
    details: _Details,
) -> StatusChange:
    request = await _reviewable(session, request_id=request_id, action=action, visible=visible)
    if details.refunded_on is not None:
        submitted = beijing_date(request.confirmed_at)
        if details.refunded_on < submitted:
            raise InvalidInput(f"退费日期不能早于申请提交日期（{submitted.isoformat()}）。")
    before = _snapshot(request)
    if action == "refund":
        request.refunded_on = details.refunded_on
    else:
        request.status_reason = details.reason  # None when approving
    target = ACTIONS[action][1]
    event = await change_status(
        session, request, status=target, action=action, actor=actor, now=now, note=details.event_note(action)
    )
    after = _snapshot(request)
    if action == "refund":
        after |= {"refund_method": details.refund_method, "note": details.note}
    await append_entry(
        session,
        at=now,
        actor=actor,
        action=f"request.{action}",
        target_type="request",
        target_id=request.id,
        before=before,
        after=after,
        note=" ".join(v for v in (request.reference, details.audit_note) if v),
    )
    change = StatusChange(
        request_id=request.id,
        reference=request.reference,
        channel=request.channel,
        user_id=request.user_id,
        action=action,
        before=before,
        after=after,
        event_id=event.id,
        at=now,
        reason=details.reason,
        refunded_on=details.refunded_on,
        refund_method=details.refund_method,
        note=details.note,
    )
    return dataclasses.replace(change, queued=await _tell_candidate(session, change))


async def approve(
    session: AsyncSession,
    *,
    request_id: int,
    actor: str,
    now: dt.datetime,
    visible: frozenset[str] | None = None,
    audit_note: str | None = None,
) -> StatusChange:
    """submitted → approved."""
    return await _change(
        session,
        request_id=request_id,
        action="approve",
        actor=actor,
        now=now,
        visible=visible,
        details=_Details(audit_note=audit_note),
    )


async def reject(
    session: AsyncSession,
    *,
    request_id: int,
    reason: str,
    actor: str,
    now: dt.datetime,
    visible: frozenset[str] | None = None,
) -> StatusChange:
    """submitted → rejected. The reason is required: the candidate reads it in 我的申请."""
    cleaned = _clean(reason, what="驳回原因")
    if cleaned is None:
        raise InvalidInput("请填写驳回原因：考生会在“我的申请”和通知中看到它。")
    return await _change(
        session,
        request_id=request_id,
        action="reject",
        actor=actor,
        now=now,
        visible=visible,
        details=_Details(reason=cleaned),
    )


async def refund(
    session: AsyncSession,
    *,
    request_id: int,
    refunded_on: dt.date,
    method: str,
    note: str | None,
    actor: str,
    now: dt.datetime,
    visible: frozenset[str] | None = None,
) -> StatusChange:
    """approved → refunded, on `refunded_on` (not after today, Beijing time; not before the submission)."""
    if method not in REFUND_METHODS:
        raise InvalidInput(f"退费方式只能是：{'、'.join(REFUND_METHODS)}。")
    if refunded_on > beijing_date(now):
        raise InvalidInput("退费日期不能晚于今天：请在退费办理后再登记。")
    details = _Details(refunded_on=refunded_on, refund_method=method, note=_clean(note, what="备注"))
    return await _change(
        session, request_id=request_id, action="refund", actor=actor, now=now, visible=visible, details=details
    )


async def bulk_approve(
    session: AsyncSession,
    *,
    request_ids: Collection[int],
    actor: str,
    now: dt.datetime,
    visible: frozenset[str] | None = None,
) -> BulkResult:
    """Approves each chosen request that is awaiting review and visible; skips the others."""
    chosen = sorted(set(request_ids))
    if len(chosen) > BULK_LIMIT:
        raise InvalidInput(f"一次最多批量通过 {BULK_LIMIT} 份申请，请分批操作。")
    approved: list[StatusChange] = []
    for request_id in chosen:
        try:
            approved.append(
                await approve(
                    session, request_id=request_id, actor=actor, now=now, visible=visible, audit_note="批量通过"
                )
            )
        except (RequestNotFound, TransitionRefused):
            continue  # checked before any write: nothing to undo
    return BulkResult(approved=approved, skipped=len(chosen) - len(approved))


async def record_reveal(
    session: AsyncSession, *, request_id: int, actor: str, now: dt.datetime, visible: frozenset[str] | None = None
) -> WithdrawalRequest:
    """Audits an admin's look at the full ID number, phone and declaration of a request, before they
    are shown."""
    request = await find_request(session, request_id=request_id, visible=visible)
    if request is None:
        raise RequestNotFound(request_id)
    await append_entry(
        session,
        at=now,
        actor=actor,
        action="request.reveal",
        target_type="request",
        target_id=request.id,
        note=f"{request.reference} 查看完整身份证号、手机号与声明",
    )
    return request
