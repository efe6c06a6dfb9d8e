"""群发 at /admin/broadcasts: the form, the preview with the audience size and masked sample, the
confirmation (once, however often it is sent), progress from the outbox after the planner queued it,
cancelling, region scoping for reviewers, and the audit entries."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from bot.reminders.planner import Planner
from bot.reminders.policy import schedule_from_settings
from storage.database import Database
from storage.models import AuditEntry, Broadcast, OutboxMessage
from storage.subscriptions import NewSubscription, subscribe
from tests.console.conftest import SQLITE_ONLY, MovableClock, SignedIn, csrf_in

ONCE = re.compile(r'name="once" value="([^"]+)"')
FORM = {"region": "广东", "occupation": "", "channel": "", "text": "3月15日考场调整，请留意准考证。", "at": ""}


async def subscribers(db: Database, clock: MovableClock) -> None:
    """Guangdong: three users (one with two matching subscriptions), one in Guangzhou on Telegram;
    Jilin: one."""
    rows = [
        ("web", "web-user-0001", "广东省", "电工"),
        ("web", "web-user-0001", "广州市", None),
        ("wechat", "oWeChatUser0002", "广州市", "电工"),
        ("telegram", "700000003", "广州市", None),
        ("web", "web-user-jilin", "吉林省", None),
    ]
    async with db.transaction() as session:
        for channel, user, region, occupation in rows:
            await subscribe(session, NewSubscription(channel, user, region, occupation=occupation), now=clock())


async def preview(c: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    token = csrf_in((await c.get("/admin/broadcasts")).text)
    return await c.post("/admin/broadcasts/preview", data={"csrf": token, **form})


def confirmation(page: httpx.Response) -> dict[str, str]:
    """The preview page's confirmation form, as the browser would submit it."""
    form = page.text.split('action="/admin/broadcasts"')[1].split("</form>")[0]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    return {k: v.replace("&amp;", "&") for k, v in fields.items()}


async def audit_actions(db: Database) -> list[tuple[str, str]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.action.like("broadcast.%"))
        )
        return [(a, b) for a, b in rows]


async def test_preview_confirm_progress_and_cancel(app: Starlette, signed_in: SignedIn, clock: MovableClock) -> None:
    db: Database = app.state.runtime.db
    await subscribers(db, clock)
    admin = await signed_in("admin", name="boss")

    shown = await preview(admin, FORM)
    assert shown.status_code == 200
    assert "<strong>3</strong> 人" in shown.text, "three Guangdong users, each once"
    assert "web…001" in shown.text and "web-user-0001" not in shown.text  # masked sample
    assert "【通知】3月15日考场调整" in shown.text and "每位考生每天最多收到 3 条" in shown.text
    only_wechat = await preview(admin, {**FORM, "occupation": "电工", "channel": "wechat"})
    assert "<strong>1</strong> 人" in only_wechat.text

    confirm = confirmation(shown)
    created = await admin.post("/admin/broadcasts", data=confirm)
    assert created.status_code == 303
    again = await admin.post("/admin/broadcasts", data=confirm)  # the confirmation sent twice
    assert "没有重复创建" in (await admin.get(again.headers["location"])).text
    async with db.sessions() as session:
        (broadcast,) = (await session.execute(select(Broadcast))).scalars()
    assert (broadcast.region, broadcast.audience, broadcast.created_by, broadcast.status) == (
        "广东省",
        3,
        "boss",
        "scheduled",
    )
    assert broadcast.send_at == clock()

    # The running server's planner queues it; the list shows the progress from the outbox.
    planner = Planner(app.state.runtime.knowledge, db, clock, schedule_from_settings(app.state.runtime.settings))
    assert await planner.queue_broadcast(broadcast, clock()) == 3
    async with db.transaction() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.user_id == "700000003").values(status="sent", sent_at=clock())
        )
    listed = await admin.get("/admin/broadcasts")
    assert "已发 1，待发 2，失败 0" in listed.text and "约 3 人；boss 创建" in listed.text
    assert 'class="sent w35"' in listed.text  # 1 of 3, in 5% steps

    token = csrf_in(listed.text)
    cancelled = await admin.post(f"/admin/broadcasts/{broadcast.id}/cancel", data={"csrf": token})
    assert "2 条未发出的消息不再发送" in (await admin.get(cancelled.headers["location"])).text
    async with db.sessions() as session:
        statuses = sorted((await session.execute(select(OutboxMessage.status))).scalars())
    assert statuses == ["cancelled", "cancelled", "sent"]
    assert await audit_actions(db) == [("boss", "broadcast.create"), ("boss", "broadcast.cancel")]
    async with db.sessions() as session:
        cancel_entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "broadcast.cancel"))
        ).scalar_one()
    assert cancel_entry.after is not None and cancel_entry.after["cancelled"] == 2
    assert "取消群发" in (await admin.get("/admin/audit")).text


@SQLITE_ONLY
async def test_reviewers_broadcast_to_their_regions_only_and_viewers_only_read(
    app: Starlette, signed_in: SignedIn, clock: MovableClock
) -> None:
    db: Database = app.state.runtime.db
    await subscribers(db, clock)
    admin = await signed_in("admin")
    created = await admin.post("/admin/broadcasts", data=confirmation(await preview(admin, FORM)))
    assert created.status_code == 303

    jilin = await signed_in("reviewer", regions=["吉林省"], name="jl")
    page = await jilin.get("/admin/broadcasts")
    assert '<option value="吉林省"' in page.text and '<option value="广东省"' not in page.text
    assert "考场调整" not in page.text, "another region's broadcast"
    refused = await preview(jilin, FORM)
    assert refused.status_code == 400 and "您只能向负责的地区群发" in refused.text
    forged = {**confirmation(await preview(admin, FORM)), "csrf": csrf_in(page.text)}
    assert (await jilin.post("/admin/broadcasts", data=forged)).status_code == 400
    assert (await jilin.post("/admin/broadcasts/1/cancel", data={"csrf": csrf_in(page.text)})).status_code == 404
    own = await preview(jilin, {**FORM, "region": "吉林"})
    assert "<strong>1</strong> 人" in own.text
    assert (await jilin.post("/admin/broadcasts", data=confirmation(own))).status_code == 303

    viewer = await signed_in("viewer", regions=["吉林省"], name="watcher")
    seen = await viewer.get("/admin/broadcasts")
    assert seen.status_code == 200 and "新建群发" not in seen.text and "取消</button>" not in seen.text
    assert "吉林省" in seen.text and "广东省 ·" not in seen.text
    assert (await preview(viewer, FORM)).status_code == 403
    assert await audit_actions(db) == [("admin1", "broadcast.create"), ("jl", "broadcast.create")]


@SQLITE_ONLY
async def test_the_form_says_what_is_wrong(app: Starlette, signed_in: SignedIn) -> None:
    admin = await signed_in("admin")
    cases = [
        ({"region": ""}, "请选择受众地区"),
        ({"region": "火星"}, "请选择受众地区"),
        ({"text": ""}, "请填写群发内容"),
        ({"text": "字" * 601}, "不能超过 600 字"),
        ({"channel": "fax"}, "渠道不正确"),
        ({"at": "2026-03-01T09:00"}, "发送时间已经过去"),
        ({"at": "明天上午"}, "发送时间格式应为"),
    ]
    for change, problem in cases:
        response = await preview(admin, {**FORM, **change})
        assert response.status_code == 400 and problem in response.text, change
    later = await preview(admin, {**FORM, "at": "2026-03-02T22:30"})
    assert "2026-03-02 22:30（北京时间）" in later.text and "免打扰时段（21:00–08:00）" in later.text
    back = await admin.post("/admin/broadcasts/preview", data={**confirmation(later), "edit": "1"})
    assert back.status_code == 200 and "3月15日考场调整" in back.text and 'value="2026-03-02T22:30"' in back.text
    async with app.state.runtime.db.sessions() as session:
        assert (await session.execute(select(Broadcast))).first() is None
