"""What staff do about knowledge gaps (questions the bot abstained on): mark a group handled, add a
question variant that maps a phrasing to an existing fact, withdraw a variant.

A reviewer picks only facts that apply to their regions (a province's facts for a city reviewer
too), since a variant changes the bot's answers there. Each workflow runs in the caller's
transaction, writes the change with its audit entry, and raises `GapNotFound` or `GapRefused`
(with the reason staff read) before any write when it may not happen. The caller reloads the
variants afterwards (`bot.knowledge_sync`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.base import Entry, KnowledgeBase
from knowledge.qa import PolicyQA
from storage import gaps as store
from storage.audit import append_entry
from storage.models import GapGroup, QuestionVariant

MAX_VARIANT = 200


class GapNotFound(Exception):
    """No such gap group or variant."""


class GapRefused(Exception):
    """The change may not happen; `message` says why, in Chinese. Nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def may_use(kb: KnowledgeBase, regions: Sequence[str], entry: Entry) -> bool:
    """Whether a member of staff responsible for `regions` (empty: every region) may point variants
    at `entry`: it applies to one of their regions, or a region inside or around it."""
    if not regions:
        return True
    return any(kb.applicability(entry, region) > 0 for region in regions)


def _variant_snapshot(variant: QuestionVariant) -> dict[str, Any]:
    return {"question": variant.question, "entry_id": variant.entry_id, "active": variant.active}


def _group_snapshot(group: GapGroup) -> dict[str, Any]:
    return {"status": group.status, "handled_by": group.handled_by}


async def _mark(session: AsyncSession, group: GapGroup, *, actor: str, now: dt.datetime) -> None:
    before = _group_snapshot(group)
    await store.mark_handled(session, group_id=group.id, by=actor, now=now)
    await append_entry(
        session,
        at=now,
        actor=actor,
        action="gap.handled",
        target_type="gap",
        target_id=group.id,
        before=before,
        after=_group_snapshot(group),
    )


async def mark_handled(session: AsyncSession, *, group_id: int, actor: str, now: dt.datetime) -> bool:
    """Marks the group handled; False when it already was (whoever handled it first is kept)."""
    group = await store.get_group(session, group_id=group_id)
    if group is None:
        raise GapNotFound(group_id)
    if group.status == "handled":
        return False
    await _mark(session, group, actor=actor, now=now)
    return True


async def add_variant(
    session: AsyncSession,
    *,
    group_id: int,
    question: str,
    entry_id: str,
    also_handled: bool,
    actor: str,
    regions: Sequence[str],
    qa: PolicyQA,
    kb: KnowledgeBase,
    now: dt.datetime,
) -> QuestionVariant:
    """Maps a phrasing to an existing fact (and marks the group handled when asked). An unknown fact
    id, or one outside the staff member's regions, is refused: a select list can be edited in the
    browser."""
    if not question:
        raise GapRefused("请填写问法。")
    if len(question) > MAX_VARIANT:
        raise GapRefused(f"问法不能超过 {MAX_VARIANT} 字。")
    if not qa.has_entry(entry_id):
        raise GapRefused("请从列表中选择知识库里已有的条目。")
    if not may_use(kb, regions, kb.by_id[entry_id]):
        raise GapRefused("该条目不适用于您负责的地区，不能为它添加问法。")
    group = await store.get_group(session, group_id=group_id)
    if group is None:
        raise GapNotFound(group_id)
    try:
        variant = await store.add_variant(
            session, question=question, entry_id=entry_id, by=actor, now=now, group_id=group_id
        )
    except ValueError:
        raise GapRefused("问法不能为空。") from None
    await append_entry(
        session,
        at=now,
        actor=actor,
        action="gap.variant_add",
        target_type="variant",
        target_id=variant.id,
        after=_variant_snapshot(variant),
        note=f"知识缺口 {group_id}",
    )
    if also_handled and group.status != "handled":
        await _mark(session, group, actor=actor, now=now)
    return variant


async def deactivate_variant(
    session: AsyncSession, *, variant_id: int, actor: str, regions: Sequence[str], kb: KnowledgeBase, now: dt.datetime
) -> bool:
    """Withdraws a variant (kept, inactive); False when it already was inactive."""
    variant = await session.get(QuestionVariant, variant_id)
    if variant is None:
        raise GapNotFound(variant_id)
    entry = kb.by_id.get(variant.entry_id)
    if entry is not None and not may_use(kb, regions, entry):
        raise GapRefused("该问法的条目不适用于您负责的地区，不能停用。")
    if not variant.active:
        return False
    before = _variant_snapshot(variant)
    await store.deactivate_variant(session, variant_id=variant_id, by=actor, now=now)
    await append_entry(
        session,
        at=now,
        actor=actor,
        action="gap.variant_deactivate",
        target_type="variant",
        target_id=variant_id,
        before=before,
        after=_variant_snapshot(variant),
    )
    return True


def trial(qa: PolicyQA, kb: KnowledgeBase, question: str, entry_id: str, *, today: dt.date) -> str:
    """What the bot now answers to `question` in the fact's first region: tells staff whether the
    variant does what they meant (a variant never changes an answer the bot already gives)."""
    entry = kb.by_id[entry_id]
    region = entry.regions[0] if entry.regions else None
    answer = qa.answer(question, region=region, now=today)
    where = f"试答（{region}）" if region else "试答"
    if answer.matched and entry_id in answer.fact_ids:
        return f"{where}：已能用所选条目回答。"
    if answer.matched:
        return f"{where}：机器人已用其他条目回答此问题，问法不会改变已有的回答。"
    return f"{where}：仍未能回答，问法与考生的说法差别可能太大。"
