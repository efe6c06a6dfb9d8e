"""Staff review of withdrawal requests: what the console's list reads (filters, counts per status,
pages, export batches) and the status changes staff make.

Allowed changes: submitted → approved, submitted → rejected (with a reason), approved → refunded
(date, method, note). Each writes, in the caller's transaction, the new state, a `RequestEvent`,
an audit entry with the state before and after (status, reason, refund date; never an ID number)
and a message to the candidate in the outbox, under a key made from the event so that it is queued
once. Anything else raises a `ReviewError` and changes nothing.

Every function takes the staff member's visible regions (`visible`, None for all): a request
outside them is treated exactly like a missing one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import append_entry
from storage.models import RequestEvent, TranscriptLine, WithdrawalRequest
from storage.outbox import Planned, enqueue
from storage.requests import STATUSES

__all__ = [
    "ACTIONS",
    "REFUND_METHODS",
    "BulkResult",
    "InvalidInput",
    "Notice",
    "NoticeFor",
    "RequestFilter",
    "RequestNotFound",
    "ReviewError",
    "StatusChange",
    "TransitionRefused",
    "approve",
    "bulk_approve",
    "conversation",
    "count_requests",
    "distinct_values",
    "find_request",
    "history",
    "list_requests",
    "refund",
    "reject",
    "status_counts",
    "stream_requests",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
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
_TOP = "\U0010ffff"  # the highest code point: q ≤ s < q + _TOP holds exactly for the strings s starting with q
_REFERENCE_DIGITS = re.compile(r"\d{8}(-\d{0,4})?")


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


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilter:
    """The list's filters. Regions are canonical names with their nested regions already included."""

    visible: frozenset[str] | None = None
    """The staff member's regions; None means every region."""
    regions: frozenset[str] | None = None
    """The region filter; None means no filter."""
    status: str | None = None
    occupation: str | None = None
    institution: str | None = None
    exam_date: dt.date | None = None
    submitted_from: dt.date | None = None
    """Beijing-time day, inclusive."""
    submitted_to: dt.date | None = None
    """Beijing-time day, inclusive."""
    query: str | None = None
    """The start of a reference (QK-20170925-0001, or 20170925-0001) or of a name."""

    def without_status(self) -> RequestFilter:
        return dataclasses.replace(self, status=None)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), SHANGHAI).astimezone(dt.UTC)


def _prefix(column: Any, text: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        # A range on the column's index; SQLite's LIKE is case-insensitive and never uses a plain index.
        return (column >= text) & (column < text + _TOP)
    # PostgreSQL compares by the database's collation, where a range can miss matches: LIKE is right.
    return column.startswith(text, autoescape=True)  # type: ignore[no-any-return]


def _search(query: str, dialect: str) -> ColumnElement[bool]:
    r = WithdrawalRequest
    reference = query.upper()
    if _REFERENCE_DIGITS.fullmatch(reference):
        reference = "QK-" + reference
    return _prefix(r.reference, reference, dialect) | _prefix(r.name, query, dialect)


def _regions(f: RequestFilter) -> frozenset[str] | None:
    """The regions `f` reaches: the staff member's, narrowed by the region filter; None for all."""
    if f.regions is None or f.visible is None:
        return f.visible if f.regions is None else f.regions
    return f.visible & f.regions


def _conditions(f: RequestFilter, dialect: str) -> list[ColumnElement[bool]]:
    r = WithdrawalRequest
    out: list[ColumnElement[bool]] = []
    regions = _regions(f)
    if regions is not None:
        out.append(r.region.in_(sorted(regions)) if regions else false())
    if f.status is not None:
        narrower = any((f.occupation, f.institution, f.exam_date, f.submitted_from, f.submitted_to, f.query))
        # Alongside a narrower filter, SQLite (without statistics) would walk the status index, whose
        # order matches the list's, and visit the table for every row of that status. `status || ''`
        # cannot use an index, so the narrower filter's index is read; it holds the status anyway.
        out.append((r.status.concat("") if narrower else r.status) == f.status)
    if f.occupation:
        out.append(r.occupation == f.occupation)
    if f.institution:
        out.append(r.institution == f.institution)
    if f.exam_date is not None:
        out.append(r.exam_date == f.exam_date)
    if f.submitted_from is not None:
        out.append(r.created_at >= _day_start(f.submitted_from))
    if f.submitted_to is not None:
        out.append(r.created_at < _day_start(f.submitted_to + dt.timedelta(days=1)))
    if f.query:
        out.append(_search(f.query, dialect))
    return out


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name


def _newest_first(stmt: Select[Any]) -> Select[Any]:
    return stmt.order_by(WithdrawalRequest.created_at.desc(), WithdrawalRequest.id.desc())


async def list_requests(
    session: AsyncSession, f: RequestFilter, *, limit: int = 50, offset: int = 0
) -> list[WithdrawalRequest]:
    """One page of matching requests, newest first."""
    if _regions(f) == frozenset():
        return []  # only regions the staff member may not see: nothing to ask the database
    # Ids first, then the rows: the page is chosen from an index alone, and only its rows (with their
    # kilobytes of ciphertext) are read from the table, not those of every match a sort would need.
    ids_stmt = _newest_first(select(WithdrawalRequest.id).where(*_conditions(f, _dialect(session))))
    ids = list((await session.execute(ids_stmt.limit(limit).offset(offset))).scalars())
    if not ids:
        return []
    rows = await session.execute(_newest_first(select(WithdrawalRequest).where(WithdrawalRequest.id.in_(ids))))
    return list(rows.scalars())


async def count_requests(session: AsyncSession, f: RequestFilter) -> int:
    stmt = select(func.count()).select_from(WithdrawalRequest).where(*_conditions(f, _dialect(session)))
    return int((await session.execute(stmt)).scalar_one())


async def status_counts(session: AsyncSession, f: RequestFilter) -> dict[str, int]:
    """How many requests match `f` in each status (its own status filter ignored), every status present."""
    if _regions(f) == frozenset():
        return dict.fromkeys(STATUSES, 0)
    r = WithdrawalRequest
    # Grouped by region too: every filter's index holds (…, region, status), so the groups come in index
    # order and SQLite needs no temporary B-tree; the regions are added up here (a few dozen rows).
    stmt = (
        select(r.status, func.count())
        .where(*_conditions(f.without_status(), _dialect(session)))
        .group_by(r.region, r.status)
    )
    found = dict.fromkeys(STATUSES, 0)
    for status, n in (await session.execute(stmt)).all():
        if status in found:
            found[status] += int(n)
    return found


async def distinct_values(
    session: AsyncSession, column: str, *, visible: frozenset[str] | None, limit: int = 500
) -> list[str]:
    """The occupations or institutions of the requests `visible` covers, for the filters' suggestions."""
    if column not in ("occupation", "institution"):
        raise ValueError(column)
    r = WithdrawalRequest
    # Distinct (value, region) pairs, read in order from the value's index (which holds the region),
    # then narrowed here: a region condition in SQL would lead SQLite to the region index and the table.
    pairs = await session.execute(select(getattr(r, column), r.region).distinct())
    return sorted({value for value, region in pairs if visible is None or region in visible})[:limit]


async def stream_requests(
    session: AsyncSession, f: RequestFilter, *, chunk: int = 500
) -> AsyncIterator[Sequence[WithdrawalRequest]]:
    """Every matching request, oldest first, `chunk` at a time from a server-side cursor: an export of
    any size holds one chunk of rows in memory."""
    r = WithdrawalRequest
    stmt = (
        select(r)
        .where(*_conditions(f, _dialect(session)))
        .order_by(r.created_at, r.id)
        .execution_options(yield_per=chunk)
    )
    result = await session.stream(stmt)
    # The session's identity map holds unchanged rows weakly: a chunk the caller drops is freed.
    async for partition in result.scalars().partitions(chunk):
        yield partition


def _visible(request: WithdrawalRequest | None, visible: frozenset[str] | None) -> bool:
    return request is not None and (visible is None or request.region in visible)


async def find_request(
    session: AsyncSession, *, request_id: int, visible: frozenset[str] | None, for_update: bool = False
) -> WithdrawalRequest | None:
    """The request, or None when it does not exist or lies outside `visible`."""
    stmt = select(WithdrawalRequest).where(WithdrawalRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    request = (await session.execute(stmt)).scalar_one_or_none()
    return request if _visible(request, visible) else None


async def history(session: AsyncSession, *, request_id: int) -> list[RequestEvent]:
    stmt = select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)
    return list((await session.execute(stmt)).scalars())


async def conversation(session: AsyncSession, request: WithdrawalRequest, *, limit: int = 80) -> list[TranscriptLine]:
    """The conversation that produced `request`: the user's last `limit` transcript lines up to the
    confirmation (the confirming message and its reply carry the same time). Already masked."""
    t = TranscriptLine
    stmt = (
        select(t)
        .where(t.channel == request.channel, t.user_id == request.user_id, t.at <= request.confirmed_at)
        .order_by(t.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))


# --- changing ---------------------------------------------------------------------------------------------------


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
class Notice:
    """What the candidate is told: the text, and the fields a WeChat template shows."""

    text: str
    fields: dict[str, str]


NoticeFor = Callable[[StatusChange], Notice]
"""Words the notice for a change; the conversation layer owns the wording (handlers.request_status)."""


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


async def _change(
    session: AsyncSession,
    *,
    request_id: int,
    action: str,
    actor: str,
    now: dt.datetime,
    visible: frozenset[str] | None,
    notice: NoticeFor,
    reason: str | None = None,
    refunded_on: dt.date | None = None,
    refund_method: str | None = None,
    note: str | None = None,
    audit_note: str | None = None,
) -> StatusChange:
    # Locked until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
    # writers): two reviewers clicking at once cannot both move the request on.
    request = await find_request(session, request_id=request_id, visible=visible, for_update=True)
    if request is None:
        raise RequestNotFound(request_id)
    source, target = ACTIONS[action]
    if request.status != source:
        raise TransitionRefused(action, request.status)
    if refunded_on is not None:
        submitted = request.confirmed_at.astimezone(SHANGHAI).date()
        if refunded_on < submitted:
            raise InvalidInput(f"退费日期不能早于申请提交日期（{submitted.isoformat()}）。")
    before = _snapshot(request)
    request.status = target
    if action == "refund":
        request.refunded_on = refunded_on
    else:
        request.status_reason = reason  # None when approving
    request.updated_at = now
    event_note = reason if action == "reject" else "；".join(v for v in (refund_method, note) if v) or None
    event = RequestEvent(
        request_id=request.id, at=now, actor=actor, action=action, from_status=source, to_status=target, note=event_note
    )
    session.add(event)
    await session.flush()
    after = _snapshot(request)
    if action == "refund":
        after |= {"refund_method": refund_method, "note": note}
    await append_entry(
        session,
        at=now,
        actor=actor,
        action=f"request.{action}",
        target_type="request",
        target_id=request.id,
        before=before,
        after=after,
        note=" ".join(v for v in (request.reference, audit_note) if v),
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
        reason=reason,
        refunded_on=refunded_on,
        refund_method=refund_method,
        note=note,
    )
    told = notice(change)
    queued = await enqueue(
        session,
        [
            Planned(
                key=f"request:{request.id}:{action}:{event.id}",
                channel=request.channel,
                user_id=request.user_id,
                kind="request_status",
                text=told.text,
                fields=told.fields,
                due_at=now,
                capped=False,  # an answer about the candidate's own request, not a reminder
            )
        ],
        now=now,
    )
    return dataclasses.replace(change, queued=queued == 1)


async def approve(
    session: AsyncSession,
    *,
    request_id: int,
    actor: str,
    now: dt.datetime,
    notice: NoticeFor,
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
        notice=notice,
        audit_note=audit_note,
    )


async def reject(
    session: AsyncSession,
    *,
    request_id: int,
    reason: str,
    actor: str,
    now: dt.datetime,
    notice: NoticeFor,
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
        notice=notice,
        reason=cleaned,
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
    notice: NoticeFor,
    visible: frozenset[str] | None = None,
) -> StatusChange:
    """approved → refunded, on `refunded_on` (not after today, Beijing time; not before the submission)."""
    if method not in REFUND_METHODS:
        raise InvalidInput(f"退费方式只能是：{'、'.join(REFUND_METHODS)}。")
    if refunded_on > now.astimezone(SHANGHAI).date():
        raise InvalidInput("退费日期不能晚于今天：请在退费办理后再登记。")
    return await _change(
        session,
        request_id=request_id,
        action="refund",
        actor=actor,
        now=now,
        visible=visible,
        notice=notice,
        refunded_on=refunded_on,
        refund_method=method,
        note=_clean(note, what="备注"),
    )


@dataclass(frozen=True)
class BulkResult:
    approved: list[StatusChange]
    skipped: int
    """Chosen requests left alone: not awaiting review, outside the staff member's regions, or missing."""


async def bulk_approve(
    session: AsyncSession,
    *,
    request_ids: Collection[int],
    actor: str,
    now: dt.datetime,
    notice: NoticeFor,
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
                    session,
                    request_id=request_id,
                    actor=actor,
                    now=now,
                    notice=notice,
                    visible=visible,
                    audit_note="批量通过",
                )
            )
        except (RequestNotFound, TransitionRefused):
            continue  # checked before any write: nothing to undo
    return BulkResult(approved=approved, skipped=len(chosen) - len(approved))
