"""Notice drafts: made from a notice's text, edited by reviewers fact by fact, discarded, or started
again from a published version (修改). Publishing and withdrawing are `handlers.notice_publishing`.

Reviewers prepare drafts of their regions (nested ones included); a draft whose region the drafting
could not tell is editable until a region is set. Each workflow runs in the caller's transaction,
checks who may do it, writes the change with its audit entry, and raises `NoticeRefused` (with the
reason staff read) or `NoticeNotFound` before any write when it may not happen."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.staff_scope import sees
from knowledge.base import KnowledgeBase, citation
from knowledge.drafting import draft_notice
from knowledge.published import ACCEPT, REJECT, fact_prefix, jsonable
from knowledge.published import with_unique_prefix as unique_prefix
from knowledge.regions import RegionRegistry
from storage import notices as store
from storage.audit import append_entry
from storage.models import NoticeDraft

DRAFT_LABELS = {
    store.DRAFT: "草稿",
    store.SUBMITTED: "待管理员发布",
    store.PUBLISHED: "已发布",
    store.WITHDRAWN: "已撤回",
    store.DISCARDED: "已放弃",
}
"""A draft's status as staff read it."""
Edit = Callable[[Mapping[str, Any], Mapping[str, str]], tuple[dict[str, Any], dict[str, str]]]
"""Staff's edits: the draft's mapping and decisions, as locked now, to what they become."""


class NoticeNotFound(Exception):
    """No such draft or version, or a draft the staff member may not see."""


class NoticeRefused(Exception):
    """The change may not happen; `message` says why, in Chinese. Nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Editor:
    """Who is changing a notice: their name and the regions they see (None: every region)."""

    name: str
    visible: frozenset[str] | None


def may_edit(visible: frozenset[str] | None, regions: Sequence[str]) -> bool:
    """Whether a writer who sees `visible` may edit a notice of `regions`: all of them theirs."""
    return all(sees(visible, r) for r in regions)


def may_see(editor: Editor, draft: NoticeDraft) -> bool:
    """A draft of the editor's regions, their own, or one of no known region yet."""
    return (
        editor.visible is None
        or not draft.regions
        or draft.created_by == editor.name
        or any(sees(editor.visible, r) for r in draft.regions)
    )


def snapshot(draft: NoticeDraft) -> dict[str, Any]:
    """What the audit log records of a draft before and after a change."""
    facts = [str(f.get("id")) for f in draft.data.get("facts") or []]
    return {
        "doc_no": draft.doc_no,
        "title": draft.title,
        "regions": list(draft.regions),
        "status": DRAFT_LABELS.get(draft.status, draft.status),
        "accepted": sum(draft.decisions.get(f) == ACCEPT for f in facts),
        "rejected": sum(draft.decisions.get(f) == REJECT for f in facts),
    }


def prepare_drafts(
    text: str, *, region: str | None, registry: RegionRegistry, visible: frozenset[str] | None
) -> list[dict[str, Any]]:
    """The drafting library's mapping of each document in `text` (one per document: a forwarded notice
    holds several). `region` is the first one's; every region must be the editor's. CPU work, done
    before a transaction begins."""
    if region is not None and (region not in registry.regions or not sees(visible, region)):
        raise NoticeRefused("请从列表中选择您负责的地区。")
    drafted = draft_notice(text, region=region, registry=registry)
    datas = [jsonable(n.to_data()) for n in drafted.notices]
    outside = sorted({r for d in datas for r in d.get("regions") or [] if not sees(visible, r)})
    if outside:
        raise NoticeRefused(
            f"该通知的地区（{'、'.join(outside)}）不在您负责的范围内，请联系管理员或负责该地区的审核员。"
        )
    return datas


async def create_drafts(
    session: AsyncSession,
    *,
    datas: Sequence[dict[str, Any]],
    text: str,
    source: str,
    editor: Editor,
    kb: KnowledgeBase,
    now: dt.datetime,
) -> list[NoticeDraft]:
    """One draft per prepared mapping, audited. Fact ids must be unique across the knowledge base: a
    prefix another notice uses (two bureaus' 5号 both draft as yue5.*) is made unique before anyone
    refers to it."""
    created: list[NoticeDraft] = []
    open_drafts = await store.list_drafts(session)
    for data in datas:
        doc_no = data.get("doc_no")
        taken = {e.fact.id.split(".", 1)[0] for e in kb.entries if e.doc_no != doc_no}
        taken |= {fact_prefix(d.data) or "" for d in open_drafts if d.doc_no != doc_no}
        taken |= {fact_prefix(c.data) or "" for c in created}
        draft = await store.create_draft(
            session, source_name=source, source_text=text, data=unique_prefix(data, taken), by=editor.name, now=now
        )
        created.append(draft)
        await _audit(session, draft, action="notice.draft_create", editor=editor, now=now, note=source)
    return created


async def _audit(
    session: AsyncSession,
    draft: NoticeDraft,
    *,
    action: str,
    editor: Editor,
    now: dt.datetime,
    before: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """The audit entry of a change to `draft`: a new draft is recorded by its header, a changed one by
    its snapshot before and after."""
    after = (
        snapshot(draft)
        if before is not None
        else {"doc_no": draft.doc_no, "title": draft.title, "regions": draft.regions}
    )
    await append_entry(
        session,
        at=now,
        actor=editor.name,
        action=action,
        target_type="notice_draft",
        target_id=draft.id,
        before=before,
        after=after,
        note=note,
    )


async def editable_draft(session: AsyncSession, *, draft_id: int, editor: Editor, doing: str) -> NoticeDraft:
    """The draft, locked, when it is still a draft of the editor's regions; `doing` words the refusal
    (修改, 放弃)."""
    draft = await store.get_draft(session, draft_id, lock=True)
    if draft is None or not may_see(editor, draft):
        raise NoticeNotFound(draft_id)
    if draft.status not in store.OPEN:
        raise NoticeRefused(f"这份草稿{DRAFT_LABELS[draft.status]}，不能{doing}。")
    if not may_edit(editor.visible, draft.regions):
        raise NoticeRefused("这份草稿的地区不在您负责的范围内。")
    return draft


async def save_draft(
    session: AsyncSession, *, draft_id: int, revision: int | None, edit: Edit, editor: Editor, now: dt.datetime
) -> NoticeDraft:
    """Applies `edit` to the draft, unless someone saved it since the editor loaded `revision`."""
    draft = await editable_draft(session, draft_id=draft_id, editor=editor, doing="再修改")
    data, decisions = edit(draft.data, draft.decisions)
    outside = [r for r in data.get("regions") or [] if not sees(editor.visible, r)]
    if outside:
        raise NoticeRefused(f"不能把地区设为您负责范围以外的 {'、'.join(outside)}，未保存。")
    before = snapshot(draft)
    try:
        await store.save_draft(
            session,
            draft,
            data=data,
            decisions=decisions,
            by=editor.name,
            now=now,
            expected_revision=-1 if revision is None else revision,
        )
    except store.StaleDraftError:
        raise NoticeRefused(
            f"这份草稿已被 {draft.updated_by} 于您打开页面之后修改，您这次的修改未保存。请核对后重新修改。"
        ) from None
    await _audit(session, draft, action="notice.draft_save", editor=editor, now=now, before=before)
    return draft


async def discard_draft(session: AsyncSession, *, draft_id: int, editor: Editor, now: dt.datetime) -> None:
    """Gives a draft up; it stays on record."""
    draft = await editable_draft(session, draft_id=draft_id, editor=editor, doing="放弃")
    before = snapshot(draft)
    await store.discard_draft(session, draft, by=editor.name, now=now)
    await _audit(session, draft, action="notice.draft_discard", editor=editor, now=now, before=before)


async def revise_version(session: AsyncSession, *, version_id: int, editor: Editor, now: dt.datetime) -> NoticeDraft:
    """修改: a new draft from a published version, its facts already accepted. The version itself never
    changes; publishing the draft makes the next version."""
    version = await store.get_version(session, version_id)
    if version is None:
        raise NoticeNotFound(version_id)
    if not may_edit(editor.visible, list(version.regions)):
        raise NoticeRefused("这份通知的地区不在您负责的范围内。")
    source = await store.get_draft(session, version.draft_id) if version.draft_id else None
    data = copy.deepcopy(version.data)
    data.pop("version", None)  # set again when the draft is published
    name = citation(version.doc_no, version.version)
    draft = await store.create_draft(
        session,
        source_name=source.source_name if source else name,
        source_text=source.source_text if source else "",
        data=data,
        decisions={str(f.get("id")): ACCEPT for f in data.get("facts") or []},
        by=editor.name,
        now=now,
        base=version,
    )
    await _audit(session, draft, action="notice.revise", editor=editor, now=now, note=f"据 {name} 修改")
    return draft


async def submit_draft(session: AsyncSession, *, draft_id: int, editor: Editor, now: dt.datetime) -> NoticeDraft:
    """A reviewer hands the draft to the admins to publish; it stays editable until then."""
    draft = await editable_draft(session, draft_id=draft_id, editor=editor, doing="提交")
    if draft.status == store.SUBMITTED:
        return draft
    before = snapshot(draft)
    draft.status = store.SUBMITTED
    draft.updated_by, draft.updated_at = editor.name, now
    await append_entry(
        session,
        at=now,
        actor=editor.name,
        action="notice.submit",
        target_type="notice_draft",
        target_id=draft.id,
        before=before,
        after=snapshot(draft),
    )
    return draft
