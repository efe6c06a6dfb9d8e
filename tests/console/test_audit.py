"""The audit log: the database refuses to change or delete an entry, and the console shows entries
newest first, paginated and filtered, to those allowed to read them, in Chinese: actions by their
names, statuses, roles and channels by their labels."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.applications import Starlette

from bot.console.pages import audit as audit_page
from storage.audit import append_entry, count_entries, list_entries
from storage.database import Database
from tests.console.conftest import SQLITE_ONLY, SignedIn
from tests.console.request_helpers import post_on, store_request

AT = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


async def test_the_database_refuses_to_change_or_delete_an_entry(db: Database) -> None:
    async with db.transaction() as session:
        entry = await append_entry(
            session,
            at=AT,
            actor="boss",
            action="staff.create",
            target_type="staff",
            target_id=1,
            after={"role": "admin"},
        )
    for statement in (
        "UPDATE audit_log SET actor = 'someone else'",
        "UPDATE audit_log SET after = NULL WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
        "DELETE FROM audit_log",
    ):
        with pytest.raises((IntegrityError, DBAPIError)) as refused:
            async with db.transaction() as session:
                await session.execute(text(statement), {"id": entry.id})
        assert "append-only" in str(refused.value)
    if not db.is_sqlite:
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text("TRUNCATE audit_log"))
    async with db.sessions() as session:
        [kept] = await list_entries(session)
    assert (kept.actor, kept.after) == ("boss", {"role": "admin"})


async def test_entries_come_newest_first_and_filter(db: Database) -> None:
    async with db.transaction() as session:
        for i in range(7):
            await append_entry(
                session, at=AT + dt.timedelta(minutes=i), actor="a" if i % 2 else "b", action=f"x{i % 3}"
            )
    async with db.sessions() as session:
        newest = await list_entries(session, limit=3)
        assert [e.at.minute for e in newest] == [6, 5, 4]
        assert [e.at.minute for e in await list_entries(session, limit=3, offset=3)] == [3, 2, 1]
        assert await count_entries(session, actor="a") == 3
        assert [e.at.minute for e in await list_entries(session, actor="b", action="x0")] == [6, 0]


async def test_the_audit_page_paginates_and_filters(app: Starlette, signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    db: Database = app.state.runtime.db
    async with db.transaction() as session:
        for i in range(60):
            await append_entry(
                session, at=AT + dt.timedelta(seconds=i), actor="cli", action="staff.unlock", note=f"第{i}条"
            )
    first = await admin.get("/admin/audit")
    assert first.status_code == 200
    assert "共 61 条" in first.text and "第 1 / 2 页" in first.text  # the admin's login and the 60
    assert first.text.index("第59条") < first.text.index("第58条") < first.text.index("第10条")
    assert "第9条" not in first.text
    assert "下一页" in first.text and "上一页" not in first.text
    assert 'href="/admin/audit" aria-current="page">审计日志' in first.text
    second = await admin.get("/admin/audit?page=2")
    rows = second.text.split("<tbody>")[1]
    assert rows.index("第9条") < rows.index("第0条") < rows.index("IP 127.0.0.1")  # the login came first
    assert "第10条" not in rows and "上一页" in second.text and "下一页" not in second.text
    only = await admin.get("/admin/audit?actor=boss&action=login")
    assert "共 1 条" in only.text and "第59条" not in only.text
    nothing = await admin.get("/admin/audit?action=nothing-like-this")
    assert "没有符合条件的记录" in nothing.text
    assert (await admin.get("/admin/audit?page=abc")).status_code == 200
    # Times are shown in Beijing time: 01:00 UTC is 09:00 there.
    assert "2026-03-02 09:00:59" in first.text


@SQLITE_ONLY
async def test_the_audit_page_has_no_way_to_change_anything(signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    page = (await admin.get("/admin/audit")).text
    main = page.split("<main>")[1]
    assert 'method="post"' not in main
    assert (await admin.post("/admin/audit")).status_code == 405


async def test_a_reviewer_sees_only_their_own_entries(app: Starlette, signed_in: SignedIn) -> None:
    await signed_in("admin", name="boss")
    reviewer = await signed_in("reviewer", regions=["吉林省"], name="zhang")
    page = await reviewer.get("/admin/audit?actor=boss")
    assert page.status_code == 200
    assert "您只能查看自己的操作记录" in page.text
    rows = page.text.split("<tbody>")[1]
    assert "zhang" in rows and "boss" not in rows


async def test_actions_statuses_roles_and_channels_are_shown_in_chinese(app: Starlette, signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    request = await store_request(app)
    page = f"/admin/requests/{request.id}"
    await post_on(admin, page, f"{page}/reject", {"confirmed": "1", "reason": "材料不全"})
    db: Database = app.state.runtime.db
    entries = [
        ("handoff.open", "handoff", {"status": "pending"}, {"status": "open"}),
        ("gap.handled", "gap", {"status": "open"}, {"status": "handled"}),
        ("broadcast.create", "broadcast", None, {"channel": "wechat", "status": "scheduled"}),
        ("broadcast.cancel", "broadcast", {"status": "queued"}, {"status": "cancelled"}),
        ("staff.update", "staff", {"role": "reviewer"}, {"role": "admin"}),
    ]
    async with db.transaction() as session:
        for n, (action, target, before, after) in enumerate(entries):
            at = AT + dt.timedelta(minutes=n)
            await append_entry(
                session, at=at, actor="boss", action=action, target_type=target, target_id=7, before=before, after=after
            )
    rows = (await admin.get("/admin/audit")).text.split("<tbody>")[1]
    assert "驳回申请" in rows
    assert "状态：<del>已提交，待审核</del> → <ins>未通过</ins>" in rows
    assert "状态：<del>待处理</del> → <ins>处理中</ins>" in rows
    assert "状态：<del>未处理</del> → <ins>已处理</ins>" in rows
    assert "渠道：<ins>微信</ins>" in rows and "状态：<ins>待发送</ins>" in rows
    assert "状态：<del>发送中</del> → <ins>已取消</ins>" in rows
    assert "角色：<del>审核员</del> → <ins>管理员</ins>" in rows
    for raw in ("request.reject", "submitted", "rejected", "pending", "handled", "scheduled", "reviewer", "wechat"):
        assert raw not in rows, raw


def test_a_value_without_a_label_is_shown_as_stored() -> None:
    assert audit_page.shown_value("request", "status", "archived") == "archived"
    assert audit_page.shown_value("notice_draft", "status", "已撤回") == "已撤回"
    assert audit_page.shown_value("request", "status_reason", "submitted") == "submitted"
    assert audit_page.shown_value("request", "status", None) is None


ROOT = Path(__file__).resolve().parents[2]


def test_every_action_the_code_audits_has_a_chinese_name() -> None:
    found: set[str] = {"request.approve", "request.reject", "request.refund"}  # written as f"request.{action}"
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]:
        if path == Path(audit_page.__file__):
            continue
        text = path.read_text(encoding="utf-8")
        if "append_entry(" in text and not path.is_relative_to(ROOT / "storage"):  # storage's name request events
            # Undotted names are audit actions only for the session's own (login, logout…); elsewhere
            # action="approve" is a workflow's argument, audited as request.approve.
            found.update(n for n in re.findall(r'action="([a-z_.]+)"', text) if "." in n or n.startswith("log"))
        dotted = re.findall(r'"((?:staff|request|handoff|gap|broadcast|notice)\.[a-z_]+)"', text)
        found.update(name for name in dotted if not name.endswith(".html"))
    assert {"login", "handoff.resolve", "notice.publish"} <= found, "the walk sees the audited actions"
    assert found - set(audit_page.ACTION_LABELS) == set()
