"""Requests for a human (转人工)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_text
from storage.models import Handoff


async def open_handoff(session: AsyncSession, *, channel: str, user_id: str) -> Handoff | None:
    stmt = select(Handoff).where(
        Handoff.channel == channel, Handoff.user_id == user_id, Handoff.status.in_(("pending", "open"))
    )
    return (await session.execute(stmt)).scalars().first()


async def request_handoff(
    session: AsyncSession, *, channel: str, user_id: str, reason: str, now: dt.datetime
) -> tuple[Handoff, bool]:
    """The user's open handoff, or a new one; the flag says whether it was created now."""
    existing = await open_handoff(session, channel=channel, user_id=user_id)
    if existing is not None:
        return existing, False
    handoff = Handoff(
        channel=channel, user_id=user_id, status="pending", reason=mask_text(reason), created_at=now, updated_at=now
    )
    session.add(handoff)
    await session.flush()
    return handoff, True
