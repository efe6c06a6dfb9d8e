"""Requests for a human (转人工), and what the staff console does with them: list, open, assign,
resolve. Region scoping: a handoff carries the candidate's region as known when they asked; one
without a region is visible to every member of staff.

A handoff's thread is the candidate's transcript: nothing is copied. What staff have not read yet is
one marker per handoff (`unread_after`, a transcript line id): the candidate's lines after it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_text
from storage.models import Handoff, Subscription, TranscriptLine, WithdrawalRequest

STATUSES = ("pending", "open", "resolved")
WAITING = ("pending", "open")
"""Not resolved yet: what the inbox shows by default."""
CANDIDATE = "candidate"
"""`resolved_by` of a handoff the candidate ended (结束人工); reserved as an account name."""


async def open_handoff(session: AsyncSession, *, channel: str, user_id: str) -> Handoff | None:
    stmt = select(Handoff).where(Handoff.channel == channel, Handoff.user_id == user_id, Handoff.status.in_(WAITING))
    return (await session.execute(stmt)).scalars().first()


async def _latest_region(
    session: AsyncSession, model: type[WithdrawalRequest] | type[Subscription], *, channel: str, user_id: str
) -> str | None:
    stmt = (
        select(model.region)
        .where(model.channel == channel, model.user_id == user_id)
        .order_by(model.id.desc())
        .limit(1)
    )
    region = (await session.execute(stmt)).scalar()
    return str(region) if region else None


async def latest_request_region(session: AsyncSession, *, channel: str, user_id: str) -> str | None:
    """The region of the user's latest withdrawal request."""
    return await _latest_region(session, WithdrawalRequest, channel=channel, user_id=user_id)


async def latest_subscription_region(session: AsyncSession, *, channel: str, user_id: str) -> str | None:
    """The region of the user's latest reminder subscription."""
    return await _latest_region(session, Subscription, channel=channel, user_id=user_id)


async def request_handoff(
    session: AsyncSession, *, channel: str, user_id: str, reason: str, now: dt.datetime, region: str | None = None
) -> tuple[Handoff, bool]:
    """The user's open handoff, or a new one; the flag says whether it was created now. `region`
    is the candidate's current region (None: not known, every member of staff sees it)."""
    existing = await open_handoff(session, channel=channel, user_id=user_id)
    if existing is not None:
        return existing, False
    handoff = Handoff(
        channel=channel,
        user_id=user_id,
        status="pending",
        reason=mask_text(reason),
        region=region,
        created_at=now,
        updated_at=now,
    )
    session.add(handoff)
    await session.flush()
    return handoff, True


# -- for the staff console ---------------------------------------------------------------------------


def _in_regions(regions: Collection[str] | None) -> ColumnElement[bool] | None:
    """Handoffs of `regions` and those of no known region; None (no condition) for every region."""
    if regions is None:
        return None
    return or_(Handoff.region.is_(None), Handoff.region.in_(sorted(regions)))


def _filtered(
    stmt: Select[Any], statuses: Collection[str], regions: Collection[str] | None, assignee: str | None
) -> Select[Any]:
    stmt = stmt.where(Handoff.status.in_(sorted(statuses)))
    scope = _in_regions(regions)
    if scope is not None:
        stmt = stmt.where(scope)
    if assignee is not None:
        stmt = stmt.where(Handoff.assigned_to == assignee)
    return stmt


async def list_handoffs(
    session: AsyncSession,
    *,
    statuses: Collection[str] = WAITING,
    regions: Collection[str] | None = None,
    assignee: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Handoff]:
    """Handoffs in `statuses`, oldest waiting first (the candidate who waited longest comes first);
    resolved ones newest first. `regions=None` means every region."""
    stmt = _filtered(select(Handoff), statuses, regions, assignee)
    if set(statuses) <= set(WAITING):
        stmt = stmt.order_by(Handoff.created_at, Handoff.id)
    else:
        stmt = stmt.order_by(Handoff.created_at.desc(), Handoff.id.desc())
    return list((await session.execute(stmt.limit(limit).offset(offset))).scalars())


async def count_handoffs(
    session: AsyncSession,
    *,
    statuses: Collection[str] = WAITING,
    regions: Collection[str] | None = None,
    assignee: str | None = None,
) -> int:
    stmt = _filtered(select(func.count()).select_from(Handoff), statuses, regions, assignee)
    return int((await session.execute(stmt)).scalar_one())


async def status_counts(session: AsyncSession, *, regions: Collection[str] | None = None) -> dict[str, int]:
    """Status → number of handoffs, within `regions` (None: all)."""
    stmt = select(Handoff.status, func.count()).group_by(Handoff.status)
    scope = _in_regions(regions)
    if scope is not None:
        stmt = stmt.where(scope)
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}


async def get_handoff(session: AsyncSession, *, handoff_id: int, for_update: bool = False) -> Handoff | None:
    return await session.get(Handoff, handoff_id, with_for_update=for_update)


def handoff_snapshot(handoff: Handoff) -> dict[str, Any]:
    """What the audit log records of a handoff before and after a change."""
    return {"status": handoff.status, "assigned_to": handoff.assigned_to, "region": handoff.region}


def set_open(handoff: Handoff, *, now: dt.datetime) -> bool:
    """pending → open (a member of staff looked at it); False when it was not pending."""
    if handoff.status != "pending":
        return False
    handoff.status = "open"
    handoff.opened_at = now
    handoff.updated_at = now
    return True


def assign(handoff: Handoff, *, to: str | None, now: dt.datetime) -> None:
    handoff.assigned_to = to
    handoff.updated_at = now


def resolve(handoff: Handoff, *, by: str, now: dt.datetime) -> None:
    handoff.status = "resolved"
    handoff.resolved_at = now
    handoff.resolved_by = by
    handoff.updated_at = now


def close_by_candidate(handoff: Handoff, *, now: dt.datetime) -> None:
    """The candidate ended the handoff themselves (结束人工)."""
    resolve(handoff, by=CANDIDATE, now=now)


# -- what staff have not read --------------------------------------------------------------------------


async def mark_unread(session: AsyncSession, handoff: Handoff) -> None:
    """The candidate is writing to staff: their lines from now on are unread, until staff look.
    Called before the message's own transcript line is written (the engine writes it last)."""
    if handoff.unread_after is not None:
        return
    stmt = select(func.max(TranscriptLine.id)).where(
        TranscriptLine.channel == handoff.channel, TranscriptLine.user_id == handoff.user_id
    )
    handoff.unread_after = int((await session.execute(stmt)).scalar() or 0)


async def staff_have_written(session: AsyncSession, handoff: Handoff) -> bool:
    """Whether a member of staff has written to the candidate since the handoff was asked for."""
    stmt = (
        select(TranscriptLine.id)
        .where(
            TranscriptLine.channel == handoff.channel,
            TranscriptLine.user_id == handoff.user_id,
            TranscriptLine.staff.is_not(None),
            TranscriptLine.at >= handoff.created_at,
        )
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


def mark_read(handoff: Handoff) -> bool:
    """Staff have read the thread (opened it, or replied); False when nothing was unread."""
    if handoff.unread_after is None:
        return False
    handoff.unread_after = None
    return True


async def unread_counts(session: AsyncSession, handoffs: Collection[Handoff]) -> dict[int, int]:
    """Handoff id → the candidate's messages staff have not read, for those that have any."""
    marked = [h for h in handoffs if h.unread_after is not None]
    if not marked:
        return {}
    stmt = (
        select(Handoff.id, func.count(TranscriptLine.id))
        .join(
            TranscriptLine,
            (TranscriptLine.channel == Handoff.channel)
            & (TranscriptLine.user_id == Handoff.user_id)
            & (TranscriptLine.id > Handoff.unread_after),
        )
        .where(Handoff.id.in_(sorted(h.id for h in marked)), TranscriptLine.direction == "in")
        .group_by(Handoff.id)
    )
    return {int(i): int(n) for i, n in (await session.execute(stmt)).all()}


async def count_unread(session: AsyncSession, *, regions: Collection[str] | None = None) -> int:
    """Waiting handoffs with messages staff have not read, within `regions` (None: all)."""
    stmt = _filtered(select(func.count()).select_from(Handoff), WAITING, regions, None)
    return int((await session.execute(stmt.where(Handoff.unread_after.is_not(None)))).scalar_one())
