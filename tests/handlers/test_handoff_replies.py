"""handlers.handoff_replies against a real database: how a reply would travel, a reply queued once
per form, the handoff taken on by whoever answers, region scoping, and refusals that write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from handlers import handoff_replies as replies
from knowledge.base import KnowledgeBase
from storage.database import Database
from storage.handoffs import request_handoff
from storage.models import AuditEntry, Handoff, OutboxMessage, TranscriptLine

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
WEB_ONLY = replies.Reach(pushable=frozenset({"web"}), wechat_window=dt.timedelta(hours=47), wechat_template=False)
TOKEN = "form-token-0123456789"


async def handoff(db: Database, *, channel: str = "web", region: str | None = "广州市") -> Handoff:
    async with db.transaction() as session:
        made, _ = await request_handoff(
            session, channel=channel, user_id=f"{channel}-user", reason="转人工", now=NOW, region=region
        )
    return made


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def reply(db: Database, handoff_id: int, text: str = "您好", **changes: object) -> replies.Result:
    arguments: dict[str, object] = {
        "handoff_id": handoff_id,
        "text": text,
        "token": TOKEN,
        "actor": "li",
        "visible": None,
        "reach": WEB_ONLY,
        "now": NOW,
        **changes,
    }
    async with db.transaction() as session:
        return await replies.reply(session, **arguments)  # type: ignore[arg-type]


def test_a_reply_travels_as_the_channel_and_wechats_window_allow() -> None:
    wechat = Handoff(id=7, channel="wechat", user_id="o1", status="open")
    reach = replies.Reach(pushable=frozenset({"wechat"}), wechat_window=dt.timedelta(hours=47), wechat_template=False)
    recent, old = NOW - dt.timedelta(hours=1), NOW - dt.timedelta(hours=48)

    inside = replies.delivery(wechat, seen=recent, reachable=True, now=NOW, reach=reach)
    assert inside.possible and inside.info is not None and "客服消息" in inside.info
    closed = replies.delivery(wechat, seen=old, reachable=True, now=NOW, reach=reach)
    assert not closed.possible and closed.warning is not None and "无法送达" in closed.warning
    template = replies.delivery(
        wechat, seen=old, reachable=True, now=NOW, reach=replies.Reach(reach.pushable, reach.wechat_window, True)
    )
    assert template.possible and template.warning is not None and "模板消息" in template.warning
    blocked = replies.delivery(wechat, seen=recent, reachable=False, now=NOW, reach=reach)
    assert not blocked.possible
    cli = Handoff(id=8, channel="cli", user_id="c1", status="open")
    refused = replies.delivery(cli, seen=recent, reachable=True, now=NOW, reach=reach)
    assert not refused.possible and refused.warning is not None and "命令行" in refused.warning


async def test_a_reply_is_queued_once_and_takes_the_handoff_on(db: Database) -> None:
    waiting = await handoff(db)
    first = await reply(db, waiting.id)
    assert first.changed and not first.refused and "回复已提交" in first.message
    again = await reply(db, waiting.id)  # the same form sent twice
    assert not again.changed and "没有重复发送" in again.message

    async with db.sessions() as session:
        [message] = (await session.execute(select(OutboxMessage))).scalars().all()
        taken = await session.get(Handoff, waiting.id)
        [line] = (await session.execute(select(TranscriptLine))).scalars().all()
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert (message.key, message.kind, message.capped, message.text) == (
        f"staff:{waiting.id}:{TOKEN}",
        "staff_reply",
        False,
        "【人工客服】您好",
    )
    assert message.fields["source"] == f"RG-{waiting.id:05d}"
    assert taken is not None and (taken.status, taken.assigned_to) == ("open", "li")
    assert line.text == "【人工客服】您好"
    assert actions == ["handoff.reply"]


async def test_refusals_write_nothing(db: Database) -> None:
    waiting = await handoff(db)
    assert (await reply(db, 424242, text="")).message == "请填写回复内容。"  # checked before anything is read
    assert "不能超过" in (await reply(db, waiting.id, text="字" * (replies.MAX_REPLY + 1))).message
    assert "表单已过期" in (await reply(db, waiting.id, token=None)).message
    unpushable = replies.Reach(frozenset(), dt.timedelta(hours=47), False)
    assert "不能主动发送消息" in (await reply(db, waiting.id, reach=unpushable)).message
    with pytest.raises(replies.HandoffNotFound):
        await reply(db, waiting.id, visible=frozenset({"福建省"}))
    assert (await count(db, OutboxMessage), await count(db, AuditEntry)) == (0, 0)

    async with db.transaction() as session:
        done = await replies.resolve(
            session, handoff_id=waiting.id, note=None, actor="li", visible=None, reach=unpushable, now=NOW
        )
    assert done.changed
    assert "考生不会收到结束通知" in done.message and "不能主动发送消息" in done.message
    late = await reply(db, waiting.id)
    assert late.refused and "已办结" in late.message
    assert await count(db, OutboxMessage) == 0


async def test_a_handoff_of_no_known_region_is_everyones(db: Database, kb: KnowledgeBase) -> None:
    anyone = await handoff(db, region=None)
    async with db.transaction() as session:
        opened = await replies.open_handoff(
            session, handoff_id=anyone.id, actor="wang", visible=frozenset({"福建省"}), now=NOW
        )
    assert opened.status == "open"
    async with db.transaction() as session:
        assigned = await replies.assign(
            session,
            handoff_id=anyone.id,
            to="nobody-such",
            actor="wang",
            visible=frozenset({"福建省"}),
            registry=kb.regions,
            now=NOW,
        )
    assert assigned.refused and "不能分配给 nobody-such" in assigned.message
