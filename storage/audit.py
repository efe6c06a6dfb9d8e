"""The append-only audit log of staff actions: entries are inserted and read, never changed.

The database backs this up: triggers from migration 0004 refuse UPDATE and DELETE on the table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def append_entry(
    session: AsyncSession,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """Records one action. `before`/`after` are JSON snapshots of the target; the caller leaves out
    secrets (password hashes) and masks personal data."""
    entry = AuditEntry(
        at=at,
        actor=actor[:64],
        action=action[:64],
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:64],
        before=before,
        after=after,
        note=note,
    )
    session.add(entry)
    await session.flush()
    return entry


def _filtered(stmt: Select[Any], actor: str | None, action: str | None) -> Select[Any]:
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt


async def list_entries(
    session: AsyncSession, *, actor: str | None = None, action: str | None = None, limit: int = 50, offset: int = 0
) -> list[AuditEntry]:
    """Newest first (by id: entries are numbered in the order they were written)."""
    stmt = _filtered(select(AuditEntry), actor, action).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars())


async def count_entries(session: AsyncSession, *, actor: str | None = None, action: str | None = None) -> int:
    stmt = _filtered(select(func.count()).select_from(AuditEntry), actor, action)
    return int((await session.execute(stmt)).scalar_one())


async def entry_actors(session: AsyncSession) -> list[str]:
    """Every actor that appears in the log, for the filter."""
    return list((await session.execute(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor))).scalars())


async def entry_actions(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action))).scalars())
