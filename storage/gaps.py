"""Knowledge gaps: questions the bot abstained on, grouped by similarity, and the question
variants staff add so that such questions get an existing answer.

Grouping compares a new question's normalised text (rapidfuzz ratio) with the open groups' most
recently asked representatives, not with every group: recording stays a couple of small queries
however many groups accumulate. A question like an old, long-quiet group starts a new group; the
staff list, ordered by count or by last asked time, still shows it.

A question like a handled group does not reopen it: it starts a new open group that points back
at the handled one (`previous_id`), so the handled group remains the record of what was done and
the new group counts the questions asked since.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from rapidfuzz import fuzz, process
from sqlalchemy import Select, case, func, or_, select, true, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_text
from storage.models import GapGroup, QuestionVariant, UnansweredQuestion
from storage.statuses import GapStatus

GROUP_SIMILARITY = 82.0
"""rapidfuzz ratio (0–100) from which two questions are one gap: 鉴定费几号前得打过去 and
我的鉴定费几号前得打过去啊 (87) group; 鉴定费… and 培训费几号前得打过去 (80) do not."""
OPEN_CANDIDATES = 300
"""Open groups, most recently asked first, that a new question is compared with."""
HANDLED_CANDIDATES = 100
"""Handled groups a question with no open group is compared with, to link it to the earlier one."""
MAX_TEXT = 500
MAX_NORMALIZED = 200
STATUSES: tuple[str, ...] = tuple(status.value for status in GapStatus)

GroupOrder = Literal["count", "recent"]


# An ID number or phone typed in full-width digits (４４０１…) must be masked too; the rest of the
# text keeps the candidate's own characters.
_HALF_WIDTH_DIGITS = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "x"})


def _masked(text: str) -> str:
    return mask_text(text.translate(_HALF_WIDTH_DIGITS)).strip()


async def record_unanswered(
    session: AsyncSession,
    *,
    channel: str,
    user_id: str,
    text: str,
    normalized: str,
    region: str | None,
    now: dt.datetime,
) -> UnansweredQuestion:
    """Stores a question the bot abstained on (masked) in the gap group it resembles, or a new one.

    `normalized` is the question as the knowledge layer normalises it (simplified, half-width,
    typos repaired, no punctuation); similar questions are found by comparing it."""
    shown = _masked(text)[:MAX_TEXT]
    key = _masked(normalized)[:MAX_NORMALIZED] or shown[:MAX_NORMALIZED]
    if not key:
        raise ValueError("empty question")
    open_id, handled_id = await _groups_like(session, key)
    if open_id is None:
        group = GapGroup(
            representative=shown,
            normalized=key,
            status=GapStatus.OPEN,
            count=1,
            first_asked_at=now,
            last_asked_at=now,
            previous_id=handled_id,
        )
        session.add(group)
        await session.flush()
        group_id = group.id
    else:
        group_id = open_id
        # One statement, so that concurrent recordings in other processes add up.
        await session.execute(
            update(GapGroup)
            .where(GapGroup.id == group_id)
            .values(
                count=GapGroup.count + 1,
                last_asked_at=case((GapGroup.last_asked_at < now, now), else_=GapGroup.last_asked_at),
            )
            .execution_options(synchronize_session=False)
        )
    question = UnansweredQuestion(
        group_id=group_id,
        channel=channel,
        user_id=user_id,
        text=shown,
        normalized=key,
        region=region,
        asked_at=now,
    )
    session.add(question)
    await session.flush()
    return question


async def _groups_like(session: AsyncSession, key: str) -> tuple[int | None, int | None]:
    """The open group most like `key`, else the handled one, as (open id, handled id).

    Candidates, fetched in one statement: an open group with exactly this text however old, the
    most recently asked open groups, and the most recently asked handled ones."""

    def recent(status: str, limit: int) -> Select[tuple[int, str, str]]:
        return (
            select(GapGroup.id, GapGroup.normalized, GapGroup.status)
            .where(GapGroup.status == status)
            .order_by(GapGroup.last_asked_at.desc(), GapGroup.id.desc())
            .limit(limit)
        )

    exact = (
        select(GapGroup.id, GapGroup.normalized, GapGroup.status)
        .where(GapGroup.normalized == key, GapGroup.status == GapStatus.OPEN)
        .limit(1)
    )
    # Each part is wrapped as a subquery: SQLite allows no LIMIT on the members of a UNION.
    parts = [
        q.subquery().select()
        for q in (exact, recent(GapStatus.OPEN, OPEN_CANDIDATES), recent(GapStatus.HANDLED, HANDLED_CANDIDATES))
    ]
    rows = (await session.execute(union_all(*parts))).all()
    for status in STATUSES:
        choices = {row.id: row.normalized for row in rows if row.status == status}
        best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=GROUP_SIMILARITY)
        if best is not None:
            found = int(best[2])
            return (found, None) if status == GapStatus.OPEN else (None, found)
    return None, None


# -- for the staff console ---------------------------------------------------------------------------


async def list_groups(
    session: AsyncSession,
    *,
    status: str | None = GapStatus.OPEN,
    limit: int = 50,
    offset: int = 0,
    order: GroupOrder = "count",
    visible: frozenset[str] | None = None,
) -> list[GapGroup]:
    """Gap groups with their counts and last asked time: the most asked first (`order="count"`),
    or the most recently asked first (`"recent"`). `status=None` lists every status; `visible` (a
    reviewer's regions) keeps the groups asked about those regions or about none."""
    stmt = _within(select(GapGroup), visible)
    if status is not None:
        stmt = stmt.where(GapGroup.status == status)
    if order == "count":
        stmt = stmt.order_by(GapGroup.count.desc(), GapGroup.last_asked_at.desc(), GapGroup.id.desc())
    else:
        stmt = stmt.order_by(GapGroup.last_asked_at.desc(), GapGroup.id.desc())
    return list((await session.execute(stmt.limit(limit).offset(offset))).scalars())


def _within(stmt: Any, visible: frozenset[str] | None) -> Any:
    if visible is None:
        return stmt
    q = UnansweredQuestion
    asked = select(q.id).where(q.group_id == GapGroup.id, or_(q.region.is_(None), q.region.in_(sorted(visible))))
    return stmt.where(asked.exists())


async def count_groups(
    session: AsyncSession, *, status: str | None = GapStatus.OPEN, visible: frozenset[str] | None = None
) -> int:
    """How many groups `list_groups` pages through."""
    stmt = _within(select(func.count()).select_from(GapGroup), visible)
    if status is not None:
        stmt = stmt.where(GapGroup.status == status)
    return int((await session.execute(stmt)).scalar_one())


async def get_group(session: AsyncSession, *, group_id: int) -> GapGroup | None:
    return await session.get(GapGroup, group_id)


async def group_questions(
    session: AsyncSession, *, group_id: int, limit: int = 100, offset: int = 0, visible: frozenset[str] | None = None
) -> list[UnansweredQuestion]:
    """The questions of one group, newest first (already masked); of `visible` regions or of none."""
    q = UnansweredQuestion
    stmt = (
        select(UnansweredQuestion)
        .where(UnansweredQuestion.group_id == group_id)
        .where(true() if visible is None else or_(q.region.is_(None), q.region.in_(sorted(visible))))
        .order_by(UnansweredQuestion.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(stmt)).scalars())


async def mark_handled(session: AsyncSession, *, group_id: int, by: str, now: dt.datetime) -> GapGroup | None:
    """Marks an open group handled; None if there is no such group. A group already handled is
    returned unchanged, keeping who handled it first."""
    group = await session.get(GapGroup, group_id, with_for_update=True)
    if group is None:
        return None
    if group.status != GapStatus.HANDLED:
        group.status = GapStatus.HANDLED
        group.handled_by = by
        group.handled_at = now
        await session.flush()
    return group


async def add_variant(
    session: AsyncSession,
    *,
    question: str,
    entry_id: str,
    by: str,
    now: dt.datetime,
    group_id: int | None = None,
) -> QuestionVariant:
    """Stores a question variant for the knowledge-base fact `entry_id`.

    Storage cannot know the knowledge base: the caller checks `entry_id` first
    (`PolicyQA.has_entry`). Server processes pick the variant up at their next poll."""
    text = _masked(question)[:MAX_TEXT]
    if not text:
        raise ValueError("问法不能为空")
    variant = QuestionVariant(
        question=text,
        entry_id=entry_id.strip(),
        group_id=group_id,
        active=True,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(variant)
    await session.flush()
    return variant


async def deactivate_variant(
    session: AsyncSession, *, variant_id: int, by: str, now: dt.datetime
) -> QuestionVariant | None:
    """Withdraws a variant (kept, inactive, for the record); None if there is no such variant."""
    variant = await session.get(QuestionVariant, variant_id, with_for_update=True)
    if variant is None:
        return None
    if variant.active:
        variant.active = False
        variant.deactivated_by = by
        variant.updated_at = now
        await session.flush()
    return variant


async def list_variants(
    session: AsyncSession, *, group_id: int | None = None, active_only: bool = False, limit: int = 200
) -> list[QuestionVariant]:
    """Variants, newest first: all, or those added from one gap group."""
    stmt = select(QuestionVariant)
    if group_id is not None:
        stmt = stmt.where(QuestionVariant.group_id == group_id)
    if active_only:
        stmt = stmt.where(QuestionVariant.active.is_(True))
    return list((await session.execute(stmt.order_by(QuestionVariant.id.desc()).limit(limit))).scalars())


async def active_variants(session: AsyncSession) -> list[QuestionVariant]:
    """Every active variant, oldest first: what the question answering loads."""
    stmt = select(QuestionVariant).where(QuestionVariant.active.is_(True)).order_by(QuestionVariant.id)
    return list((await session.execute(stmt)).scalars())


async def variants_version(session: AsyncSession) -> str:
    """Changes whenever a variant is added or withdrawn; one aggregate over a small table, cheap
    enough for every process to poll. The active count covers two edits in the same instant."""
    stmt = select(
        func.count(),
        func.max(QuestionVariant.id),
        func.count().filter(QuestionVariant.active.is_(True)),
        func.max(QuestionVariant.updated_at),
    )
    total, last_id, active, updated = (await session.execute(stmt)).one()
    stamp = updated.isoformat() if updated is not None else ""
    return f"{total}:{last_id or 0}:{active}:{stamp}"
