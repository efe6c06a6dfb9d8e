"""Notice drafts and published versions: a change is a new version, a withdrawal marks and never
deletes, the database itself refuses to edit or delete a published version, and the stamp other
processes poll changes at every publication and withdrawal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from storage import notices as store
from storage.database import Database
from storage.models import NoticeVersion

NOW = dt.datetime(2027, 2, 21, 2, 0, tzinfo=dt.UTC)
DOC = "粤人社职鉴〔2027〕5号"


def mapping(answer: str = "考生须于2027年3月15日前完成网上报名。") -> dict[str, Any]:
    return {"doc_no": DOC, "title": "关于考试安排的通知", "regions": ["广东省"], "facts": [{"answer": answer}]}


async def test_a_draft_is_saved_only_over_the_revision_it_was_loaded_at(db: Database) -> None:
    async with db.transaction() as session:
        draft = await store.create_draft(
            session, source_name="粘贴的文本", source_text="…", data=mapping(), by="li", now=NOW
        )
        draft_id = draft.id
    async with db.transaction() as session:
        draft = await store.get_draft(session, draft_id, lock=True)
        assert draft is not None and (draft.doc_no, draft.regions, draft.revision) == (DOC, ["广东省"], 0)
        changed = {**mapping(), "title": "新标题"}
        await store.save_draft(
            session, draft, data=changed, decisions={"a": "accept"}, by="wang", now=NOW, expected_revision=0
        )
        assert (draft.title, draft.revision, draft.updated_by) == ("新标题", 1, "wang")
    async with db.transaction() as session:
        draft = await store.get_draft(session, draft_id, lock=True)
        assert draft is not None
        with pytest.raises(store.StaleDraftError):
            await store.save_draft(session, draft, data=mapping(), decisions={}, by="li", now=NOW, expected_revision=0)
    async with db.sessions() as session:
        assert [d.id for d in await store.list_drafts(session)] == [draft_id]


async def test_versions_supersede_each_other_and_a_withdrawal_only_marks(db: Database) -> None:
    stamps = []
    async with db.sessions() as session:
        stamps.append(await store.published_version(session))
    ids = []
    for n, answer in enumerate(("3月15日前报名。", "3月20日前报名。"), start=1):
        async with db.transaction() as session:
            await store.lock_publishing(session)
            draft = await store.create_draft(
                session, source_name="x", source_text="…", data=mapping(answer), by="li", now=NOW
            )
            assert await store.next_version(session, DOC) == n
            version = await store.publish(
                session, draft=draft, doc_no=DOC, data={**mapping(answer), "version": n}, by="boss", now=NOW
            )
            ids.append(version.id)
            assert draft.status == store.PUBLISHED
            stamps.append(await store.published_version(session))
    async with db.sessions() as session:
        live = await store.live_versions(session)
        assert [(v.doc_no, v.version, v.supersedes_id) for v in live] == [(DOC, 2, ids[0])]
        first = await store.get_version(session, ids[0])
        assert first is not None and first.superseded_at is not None and first.withdrawn_at is None
        assert first.data["facts"][0]["answer"] == "3月15日前报名。", "the earlier text stays as published"

    async with db.transaction() as session:
        second = await store.get_version(session, ids[1])
        assert second is not None
        await store.withdraw(session, second, by="boss", now=NOW, reason="发错了")
        stamps.append(await store.published_version(session))
        draft = await store.get_draft(session, second.draft_id or 0)
        assert draft is not None and draft.status == store.WITHDRAWN
    async with db.sessions() as session:
        assert await store.live_versions(session) == []
        assert [v.version for v in await store.versions_of(session, DOC)] == [2, 1]
        assert await store.next_version(session, DOC) == 3, "numbers are never reused"
    assert len(set(stamps)) == len(stamps) == 4


async def test_the_database_refuses_to_change_or_delete_a_published_version(db: Database) -> None:
    async with db.transaction() as session:
        draft = await store.create_draft(session, source_name="x", source_text="…", data=mapping(), by="li", now=NOW)
        version = await store.publish(session, draft=draft, doc_no=DOC, data=mapping(), by="boss", now=NOW)
        version_id = version.id
    for statement in (
        update(NoticeVersion).where(NoticeVersion.id == version_id).values(data={"doc_no": "改过的"}),
        update(NoticeVersion).where(NoticeVersion.id == version_id).values(version=7),
        delete(NoticeVersion).where(NoticeVersion.id == version_id),
    ):
        with pytest.raises(DBAPIError):
            async with db.transaction() as session:
                await session.execute(statement)
    async with db.transaction() as session:  # the marks may still be set
        await session.execute(update(NoticeVersion).where(NoticeVersion.id == version_id).values(withdrawn_by="boss"))
    async with db.sessions() as session:
        kept = await store.get_version(session, version_id)
        assert kept is not None and (kept.data["doc_no"], kept.version, kept.withdrawn_by) == (DOC, 1, "boss")
