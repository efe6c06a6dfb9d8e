"""Publishing a reviewed notice draft and withdrawing a published version (admins only; the console
checks the role). A published version never changes: 修改 (`handlers.notice_drafts.revise_version`)
starts a new draft from it, and publishing that makes the next version.

Publishing validates the draft as `kb check` does, against everything live: a fact still to be
reviewed, an unresolved drafting problem, a date that does not exist, an unknown region stop it.
Both workflows run in the caller's transaction, one at a time across processes
(`storage.notices.lock_publishing`), write their audit entry, and raise `NoticeRefused` or
`NoticeNotFound` (from `handlers.notice_drafts`) before any write when they may not happen. The
caller then reloads the knowledge base (`bot.knowledge_sync`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.notice_drafts import DRAFT_LABELS, NoticeNotFound, NoticeRefused
from knowledge.base import KnowledgeBase, citation
from knowledge.loader import LoadProblem
from knowledge.published import PublishedNotice, check_candidate, jsonable, reviewed_mapping
from knowledge.regions import RegionRegistry
from knowledge.schema import Notice, citation_of
from storage import notices as store
from storage.audit import append_entry
from storage.models import NoticeDraft, NoticeVersion


@dataclass(frozen=True)
class Baseline:
    """What a candidate is validated against besides the live published versions: the notices shipped
    with the bot and the region registry."""

    shipped: Sequence[Notice]
    regions: RegionRegistry


@dataclass(frozen=True)
class Candidate:
    """What a draft would publish: the mapping (with its version number), and the knowledge base it
    would make, or None and the problems that stop it."""

    mapping: dict[str, Any]
    kb: KnowledgeBase | None
    problems: list[LoadProblem]


@dataclass(frozen=True)
class Published:
    name: str
    """As answers cite it: 粤人社职鉴〔2027〕5号（第2版）."""
    version_id: int


def version_status(version: NoticeVersion) -> str:
    """A published version's state as staff read it."""
    if version.withdrawn_at is not None:
        return "已撤回"
    if version.superseded_at is not None:
        return "已被新版本取代"
    return "生效中"


async def candidate(session: AsyncSession, draft: NoticeDraft, baseline: Baseline) -> Candidate:
    """The draft checked as `kb check` would, plus a summary, which candidates must have."""
    mapping = reviewed_mapping(draft.data, draft.decisions)
    doc_no = citation_of(mapping) or ""
    key = store.notice_key(doc_no)
    version = await store.next_version(session, key) if doc_no else 1
    mapping["version"] = version
    name = citation(doc_no or f"草稿 {draft.id}", version)
    live = [
        PublishedNotice.of(v.data, v.doc_no, v.version)
        for v in await store.live_versions(session)
        if v.doc_no != key  # the version this one replaces
    ]
    kb, problems = check_candidate(PublishedNotice(mapping, name), baseline.shipped, live, baseline.regions)
    if not str(mapping.get("summary") or "").strip():
        problems = [LoadProblem(name, "summary", "本文概要（summary）不能为空：用一两句话说明通知的内容"), *problems]
        kb = None
    return Candidate(mapping, kb, problems)


async def publish_draft(
    session: AsyncSession, *, draft_id: int, actor: str, baseline: Baseline, now: dt.datetime
) -> Published:
    """Publishes the draft as the next version of its notice, superseding the live one."""
    await store.lock_publishing(session)
    draft = await store.get_draft(session, draft_id, lock=True)
    if draft is None:
        raise NoticeNotFound(draft_id)
    if draft.status not in store.OPEN:  # another admin published it meanwhile
        raise NoticeRefused(f"这份草稿{DRAFT_LABELS[draft.status]}。")
    checked = await candidate(session, draft, baseline)
    if checked.kb is None:
        raise NoticeRefused(f"未能发布：还有 {len(checked.problems)} 个问题，已在下方各条目旁列出。已保存您的修改。")
    mapping = checked.mapping
    doc_no = citation_of(mapping) or ""
    key = store.notice_key(doc_no)
    version = await store.publish(session, draft=draft, doc_no=key, data=jsonable(mapping), by=actor, now=now)
    await append_entry(
        session,
        at=now,
        actor=actor,
        action="notice.publish",
        target_type="notice",
        target_id=f"{doc_no}#{version.version}",
        after={
            "doc_no": doc_no,
            "version": version.version,
            "title": version.title,
            "regions": list(version.regions),
            "facts": len(mapping["facts"]),
            "supersedes": list(mapping.get("supersedes") or []),
        },
        note=f"草稿 {draft.id}" + (f"，取代第 {version.version - 1} 版" if version.supersedes_id else ""),
    )
    return Published(citation(doc_no, version.version), version.id)


async def withdraw_version(session: AsyncSession, *, version_id: int, reason: str, actor: str, now: dt.datetime) -> str:
    """Takes a live version out of the knowledge base (its content stays); returns its name. The
    reason is required."""
    if not reason:
        raise NoticeRefused("请填写撤回原因。")
    await store.lock_publishing(session)
    version = await store.get_version(session, version_id)
    if version is None:
        raise NoticeNotFound(version_id)
    if version.withdrawn_at is not None or version.superseded_at is not None:
        raise NoticeRefused(f"这个版本{version_status(version)}，无需撤回。")
    await store.withdraw(session, version, by=actor, now=now, reason=reason)
    await append_entry(
        session,
        at=now,
        actor=actor,
        action="notice.withdraw",
        target_type="notice",
        target_id=f"{version.doc_no}#{version.version}",
        before={"status": "生效中"},
        after={"status": "已撤回"},
        note=reason,
    )
    return citation(version.doc_no, version.version)
