"""Notices published from the staff console: drafts under review and published versions.

A draft holds the pasted or uploaded text and the knowledge-base mapping made from it, edited by
a reviewer. Publishing inserts an immutable version (doc_no, version number, the validated
mapping); a later version of the same number supersedes it, a withdrawal takes it out of the
knowledge base, and neither ever edits or deletes its content (triggers from migration 0008 make
the database refuse that too). Every server process polls `published_version` to reload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import NoticeDraft, NoticeVersion

DRAFT, SUBMITTED, PUBLISHED, WITHDRAWN, DISCARDED = "draft", "submitted", "published", "withdrawn", "discarded"
DRAFT_STATUSES = (DRAFT, SUBMITTED, PUBLISHED, WITHDRAWN, DISCARDED)
OPEN = (DRAFT, SUBMITTED)
"""Still being worked on: a reviewer's draft submitted for an admin to publish may still be edited."""
PUBLISH_LOCK = 0x6E6F7469  # advisory lock key ("noti"): one publication at a time across processes


class StaleDraftError(Exception):
    """Someone saved the draft since the form was loaded; nothing was changed."""


def _header(data: dict[str, Any]) -> tuple[str | None, str | None, list[str]]:
    doc_no = data.get("doc_no")
    title = data.get("title")
    regions = data.get("regions")
    return (
        str(doc_no)[:64] if doc_no else None,
        str(title) if title else None,
        [str(r) for r in regions] if isinstance(regions, list) else [],
    )


async def create_draft(
    session: AsyncSession,
    *,
    source_name: str,
    source_text: str,
    data: dict[str, Any],
    by: str,
    now: dt.datetime,
    decisions: dict[str, str] | None = None,
    base: NoticeVersion | None = None,
) -> NoticeDraft:
    """A new draft. `base` is the published version 修改 starts from (its facts already accepted)."""
    doc_no, title, regions = _header(data)
    draft = NoticeDraft(
        status=DRAFT,
        doc_no=doc_no,
        title=title,
        regions=regions,
        source_name=source_name[:255],
        source_text=source_text,
        data=data,
        decisions=dict(decisions or {}),
        revision=0,
        base_doc_no=base.doc_no if base else None,
        base_version=base.version if base else None,
        created_by=by,
        created_at=now,
        updated_by=by,
        updated_at=now,
    )
    session.add(draft)
    await session.flush()
    return draft


async def get_draft(session: AsyncSession, draft_id: int, *, lock: bool = False) -> NoticeDraft | None:
    stmt = select(NoticeDraft).where(NoticeDraft.id == draft_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_drafts(
    session: AsyncSession, *, statuses: Sequence[str] = (DRAFT,), limit: int = 200
) -> list[NoticeDraft]:
    """Newest first."""
    stmt = select(NoticeDraft).where(NoticeDraft.status.in_(statuses)).order_by(NoticeDraft.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def save_draft(
    session: AsyncSession,
    draft: NoticeDraft,
    *,
    data: dict[str, Any],
    decisions: dict[str, str],
    by: str,
    now: dt.datetime,
    expected_revision: int,
) -> None:
    """Stores the reviewer's edits. Raises StaleDraftError when the draft was saved by someone else
    since `expected_revision` (the caller loaded `draft` with `lock=True`)."""
    if draft.revision != expected_revision:
        raise StaleDraftError(draft.id)
    draft.doc_no, draft.title, draft.regions = _header(data)
    draft.data = data
    draft.decisions = dict(decisions)
    draft.revision += 1
    draft.updated_by = by
    draft.updated_at = now
    await session.flush()


async def discard_draft(session: AsyncSession, draft: NoticeDraft, *, by: str, now: dt.datetime) -> None:
    draft.status = DISCARDED
    draft.updated_by = by
    draft.updated_at = now
    await session.flush()


async def lock_publishing(session: AsyncSession) -> None:
    """Serialises publications and withdrawals across processes, so that each is validated against
    what is live. SQLite's `BEGIN IMMEDIATE` already does; PostgreSQL takes an advisory lock."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK})


async def live_versions(session: AsyncSession) -> list[NoticeVersion]:
    """Every version the bot answers from: neither superseded nor withdrawn, oldest first (so that
    when two conflict, the later publication is the one reported)."""
    stmt = (
        select(NoticeVersion)
        .where(NoticeVersion.withdrawn_at.is_(None), NoticeVersion.superseded_at.is_(None))
        .order_by(NoticeVersion.published_at, NoticeVersion.id)
    )
    return list((await session.execute(stmt)).scalars())


async def list_versions(session: AsyncSession, *, limit: int = 200) -> list[NoticeVersion]:
    """Every published version, newest first."""
    stmt = select(NoticeVersion).order_by(NoticeVersion.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def get_version(session: AsyncSession, version_id: int) -> NoticeVersion | None:
    return await session.get(NoticeVersion, version_id)


async def versions_of(session: AsyncSession, doc_no: str) -> list[NoticeVersion]:
    """Every version of one notice, newest first."""
    stmt = select(NoticeVersion).where(NoticeVersion.doc_no == doc_no).order_by(NoticeVersion.version.desc())
    return list((await session.execute(stmt)).scalars())


async def version_of_draft(session: AsyncSession, draft_id: int) -> NoticeVersion | None:
    stmt = select(NoticeVersion).where(NoticeVersion.draft_id == draft_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def publish(
    session: AsyncSession, *, draft: NoticeDraft, doc_no: str, data: dict[str, Any], by: str, now: dt.datetime
) -> NoticeVersion:
    """Inserts the next version of `doc_no` with the validated mapping `data` (whose `version` the
    caller set with `next_version`), supersedes the live one if any, and marks the draft published.
    Call within `lock_publishing`."""
    earlier = await versions_of(session, doc_no)
    replaced = next((v for v in earlier if v.withdrawn_at is None and v.superseded_at is None), None)
    _, title, regions = _header(data)
    version = NoticeVersion(
        doc_no=doc_no,
        version=int(data.get("version") or 1),
        title=title or doc_no,
        regions=regions,
        data=data,
        draft_id=draft.id,
        published_by=by,
        published_at=now,
        supersedes_id=replaced.id if replaced else None,
    )
    if replaced is not None:
        replaced.superseded_at = now
    session.add(version)
    draft.status = PUBLISHED
    draft.updated_by = by
    draft.updated_at = now
    await session.flush()
    return version


async def next_version(session: AsyncSession, doc_no: str) -> int:
    """1 for a new notice, else one more than its latest version (withdrawn ones count: numbers
    are never reused, so a citation always names one text)."""
    stmt = select(func.max(NoticeVersion.version)).where(NoticeVersion.doc_no == doc_no)
    latest = (await session.execute(stmt)).scalar()
    return int(latest or 0) + 1


async def withdraw(
    session: AsyncSession, version: NoticeVersion, *, by: str, now: dt.datetime, reason: str | None
) -> None:
    """Takes a live version out of the knowledge base; its content stays, as published."""
    version.withdrawn_at = now
    version.withdrawn_by = by
    version.withdrawn_reason = reason or None
    if version.draft_id is not None:
        draft = await session.get(NoticeDraft, version.draft_id)
        if draft is not None and draft.status == PUBLISHED:
            draft.status = WITHDRAWN
            draft.updated_by = by
            draft.updated_at = now
    await session.flush()


async def published_version(session: AsyncSession) -> str:
    """A stamp that changes whenever a version is published, superseded or withdrawn: one aggregate
    over a small table, cheap enough for every process to poll. Rows are never deleted and each
    mark is set once, so the counts only grow."""
    stmt = select(
        func.count(),
        func.max(NoticeVersion.id),
        func.count(NoticeVersion.superseded_at),
        func.count(NoticeVersion.withdrawn_at),
    )
    total, last_id, superseded, withdrawn = (await session.execute(stmt)).one()
    return f"{total}:{last_id or 0}:{superseded}:{withdrawn}"


KEY_LENGTH = 64


def notice_key(citation: str) -> str:
    """The key a notice's versions are stored under: its citation, or for a long one (a notice
    without a number is cited by issuer, title and date) its beginning with a digest of the whole."""
    if len(citation) <= KEY_LENGTH:
        return citation
    return citation[: KEY_LENGTH - 11] + "#" + hashlib.sha256(citation.encode()).hexdigest()[:10]


async def count_submitted(session: AsyncSession, *, regions: frozenset[str] | None) -> int:
    """Drafts waiting for an admin to publish them, of `regions` (None: every region)."""
    rows = (await session.execute(select(NoticeDraft.regions).where(NoticeDraft.status == SUBMITTED))).scalars()
    return sum(1 for r in rows if regions is None or not r or any(x in regions for x in r))
