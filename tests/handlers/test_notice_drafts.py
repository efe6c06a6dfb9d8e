"""handlers.notice_drafts and handlers.notice_publishing against a real database: drafts made from a
notice's text, an edit refused when someone saved the draft since it was loaded, a draft outside the
editor's regions, and publishing refused while facts await review."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from handlers import notice_drafts as drafts
from handlers import notice_publishing as publishing
from knowledge.base import KnowledgeBase
from storage.database import Database
from storage.models import AuditEntry, NoticeDraft
from tests.knowledge.notice_samples import DOC_A, NOTICE_A

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
GUANGDONG = drafts.Editor("li", frozenset({"广东省", "广州市"}))


async def make_draft(db: Database, kb: KnowledgeBase) -> NoticeDraft:
    datas = drafts.prepare_drafts(NOTICE_A, region=None, registry=kb.regions, visible=GUANGDONG.visible)
    async with db.transaction() as session:
        [draft] = await drafts.create_drafts(
            session, datas=datas, text=NOTICE_A, source="粘贴的文本", editor=GUANGDONG, kb=kb, now=NOW
        )
    return draft


def retitle(title: str) -> drafts.Edit:
    def edit(data: Any, decisions: Any) -> tuple[dict[str, Any], dict[str, str]]:
        return {**data, "title": title}, dict(decisions)

    return edit


async def test_an_edit_on_a_stale_page_is_refused(db: Database, kb: KnowledgeBase) -> None:
    draft = await make_draft(db, kb)
    assert draft.doc_no == DOC_A and draft.revision == 0
    async with db.transaction() as session:
        saved = await drafts.save_draft(
            session, draft_id=draft.id, revision=0, edit=retitle("第一次"), editor=GUANGDONG, now=NOW
        )
    assert saved.revision == 1
    with pytest.raises(drafts.NoticeRefused) as stale:
        async with db.transaction() as session:
            await drafts.save_draft(
                session, draft_id=draft.id, revision=0, edit=retitle("第二次"), editor=GUANGDONG, now=NOW
            )
    assert "于您打开页面之后修改" in stale.value.message
    async with db.sessions() as session:
        stored = await session.get(NoticeDraft, draft.id)
        actions = (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert stored is not None and stored.data["title"] == "第一次"
    assert actions == ["notice.draft_create", "notice.draft_save"]


async def test_other_regions_drafts_are_neither_made_nor_seen(db: Database, kb: KnowledgeBase) -> None:
    jilin = drafts.Editor("zhao", frozenset({"吉林省"}))
    with pytest.raises(drafts.NoticeRefused) as outside:
        drafts.prepare_drafts(NOTICE_A, region=None, registry=kb.regions, visible=jilin.visible)
    assert "不在您负责的范围内" in outside.value.message
    draft = await make_draft(db, kb)
    assert not drafts.may_see(jilin, draft) and drafts.may_see(GUANGDONG, draft)
    with pytest.raises(drafts.NoticeNotFound):
        async with db.transaction() as session:
            await drafts.discard_draft(session, draft_id=draft.id, editor=jilin, now=NOW)


async def test_a_draft_with_facts_to_review_is_not_published(db: Database, kb: KnowledgeBase) -> None:
    draft = await make_draft(db, kb)
    baseline = publishing.Baseline(shipped=list(kb.notices.values()), regions=kb.regions)
    with pytest.raises(drafts.NoticeRefused) as refused:
        async with db.transaction() as session:
            await publishing.publish_draft(session, draft_id=draft.id, actor="boss", baseline=baseline, now=NOW)
    assert refused.value.message.startswith("未能发布：还有")
    async with db.sessions() as session:
        stored = await session.get(NoticeDraft, draft.id)
    assert stored is not None and stored.status == "draft"
