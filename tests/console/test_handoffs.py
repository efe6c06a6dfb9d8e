"""转人工 at /admin/handoffs: candidates ask for a human through the engine, staff see the inbox of
their regions, open, assign, reply (through the outbox, once per form, not capped, in quiet hours
too) and resolve, every step audited. The last test does it in Chromium against a real server and
a fake WeChat API that receives the reply from the real dispatcher."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect
from sqlalchemy import select, update
from starlette.applications import Starlette

from bot.config import Settings, WeChatTemplate
from bot.server import create_app
from handlers.messages import ConversationKey, Inbound
from knowledge.timezone import SHANGHAI
from storage.database import Database
from storage.models import AuditEntry, Conversation, Handoff, OutboxMessage, Recipient, TranscriptLine
from storage.outbox import Planned, Rules, claim, enqueue
from storage.staff import create_account
from tests.channels.conftest import serving
from tests.channels.fake_wechat import APP_ID, SECRET, FakeWeChatApi
from tests.channels.test_wechat import TOKEN, query, text_xml
from tests.console.conftest import CHEAP_HASHER, PASSWORD, SQLITE_ONLY, MovableClock, SignedIn, csrf_in

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "test-artifacts")) / "console"
CHROMIUM = Path("/usr/bin/chromium")
ONCE = re.compile(r'name="once" value="([^"]+)"')


async def ask(app: Starlette, user: str, *texts: str, channel: str = "web") -> None:
    """The candidate writes `texts` in order, as their channel would hand them to the engine."""
    for i, text in enumerate(texts):
        key = ConversationKey(channel, user)
        await app.state.runtime.engine.handle(Inbound(key=key, text=text, message_id=f"{user}-{i}-{text}"))


async def handoff_of(db: Database, user: str) -> Handoff:
    async with db.sessions() as session:
        return (await session.execute(select(Handoff).where(Handoff.user_id == user))).scalar_one()


async def audit_actions(db: Database) -> list[tuple[str, str, str | None]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.target_id)
            .where(AuditEntry.action.like("handoff.%"))
            .order_by(AuditEntry.id)
        )
        return [(a, b, c) for a, b, c in rows]


async def post_on(c: httpx.AsyncClient, page: str, path: str, data: dict[str, str]) -> httpx.Response:
    """Submits a form of `page` (its CSRF and one-time tokens included), as the browser would."""
    html = (await c.get(page)).text
    once = ONCE.search(html)
    fields = {"csrf": csrf_in(html), **({"once": once.group(1)} if once else {}), **data}
    return await c.post(path, data=fields)


async def flash_after(c: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    page = await c.get(response.headers["location"])
    found = re.search(r'<p class="flash (?:ok|error)"[^>]*>([^<]*)</p>', page.text)
    assert found, "no message shown"
    return found.group(1)


@pytest.fixture
def db(app: Starlette) -> Database:
    database: Database = app.state.runtime.db
    return database


async def test_the_inbox_shows_the_handoffs_of_ones_regions_and_those_of_no_known_region(
    app: Starlette, db: Database, signed_in: SignedIn
) -> None:
    await ask(app, "gz-user", "广州退考截止哪天", "转人工")
    await ask(app, "jl-user", "吉林报名什么时候", "转人工")
    await ask(app, "anon-user", "转人工 我的申请填错了")
    gz, jl, anon = [await handoff_of(db, u) for u in ("gz-user", "jl-user", "anon-user")]
    assert (gz.region, jl.region, anon.region) == ("广州市", "吉林省", None)

    reviewer = await signed_in("reviewer", regions=["广东省"])
    page = await reviewer.get("/admin/handoffs")
    assert page.status_code == 200
    assert f"RG-{gz.id:05d}" in page.text and f"RG-{anon.id:05d}" in page.text
    assert f"RG-{jl.id:05d}" not in page.text, "another region's candidate"
    assert "我的申请填错了" in page.text
    assert "gz-…ser" in page.text and "gz-user" not in page.text  # user ids are masked
    assert (await reviewer.get(f"/admin/handoffs/{jl.id}")).status_code == 404
    assert (await reviewer.get("/admin/handoffs/9999")).status_code == 404
    refused = await post_on(reviewer, "/admin/", f"/admin/handoffs/{jl.id}/resolve", {})
    assert refused.status_code == 404

    admin = await signed_in("admin")
    everything = await admin.get("/admin/handoffs?status=all")
    assert all(f"RG-{h.id:05d}" in everything.text for h in (gz, jl, anon))
    assert f"RG-{gz.id:05d}" not in (await admin.get("/admin/handoffs?status=resolved")).text

    # A viewer reads the conversation but opening it changes nothing, and no form is offered.
    viewer = await signed_in("viewer")
    detail = await viewer.get(f"/admin/handoffs/{gz.id}")
    assert detail.status_code == 200 and "广州退考截止哪天" in detail.text and "转人工" in detail.text
    assert "发送回复" not in detail.text and f"/admin/handoffs/{gz.id}/resolve" not in detail.text
    assert (await handoff_of(db, "gz-user")).status == "pending"
    for action in ("reply", "assign", "resolve"):
        response = await post_on(viewer, f"/admin/handoffs/{gz.id}", f"/admin/handoffs/{gz.id}/{action}", {})
        assert response.status_code == 403, action
    assert await audit_actions(db) == []


async def test_open_assign_reply_resolve_each_audited_and_the_reply_queued_once(
    app: Starlette, db: Database, signed_in: SignedIn
) -> None:
    await ask(app, "gz-user", "广州退考截止哪天", "转人工")
    handoff = await handoff_of(db, "gz-user")
    page_path = f"/admin/handoffs/{handoff.id}"
    reviewer = await signed_in("reviewer", regions=["广东省"], name="li")
    await signed_in("reviewer", regions=["吉林省"], name="jilin")

    page = await reviewer.get(page_path)
    assert page.status_code == 200 and "广州退考截止哪天" in page.text
    opened = await handoff_of(db, "gz-user")
    assert opened.status == "open" and opened.opened_at is not None
    await reviewer.get(page_path)  # opening again changes nothing more

    # Assign: to a colleague who does not cover Guangzhou → refused; to oneself; then undone.
    refusal = await flash_after(reviewer, await post_on(reviewer, page_path, f"{page_path}/assign", {"to": "jilin"}))
    assert "不能分配给 jilin" in refusal
    assert "已分配给 li" in await flash_after(
        reviewer, await post_on(reviewer, page_path, f"{page_path}/assign", {"to": "me"})
    )
    assert (await handoff_of(db, "gz-user")).assigned_to == "li"

    # Reply: queued in the outbox (uncapped), written to the transcript as li's line.
    reply = {"text": "您好，广州的退考登记截止到考前7个工作日，身份证440103199001011234请勿外传。"}
    html = (await reviewer.get(page_path)).text
    form = {"csrf": csrf_in(html), "once": ONCE.search(html).group(1), **reply}  # type: ignore[union-attr]
    first = await reviewer.post(f"{page_path}/reply", data=form)
    assert "回复已提交" in await flash_after(reviewer, first)
    again = await reviewer.post(f"{page_path}/reply", data=form)  # the same form twice (a double click)
    assert "没有重复发送" in await flash_after(reviewer, again)
    async with db.sessions() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        lines = (
            (await session.execute(select(TranscriptLine).where(TranscriptLine.user_id == "gz-user"))).scalars().all()
        )
    assert len(rows) == 1
    (row,) = rows
    assert (row.channel, row.user_id, row.kind, row.capped, row.status) == (
        "web",
        "gz-user",
        "staff_reply",
        False,
        "pending",
    )
    assert row.text.startswith("【人工客服】您好") and row.fields["source"] == f"RG-{handoff.id:05d}"
    assert lines[-1].direction == "out" and lines[-1].staff == "li"
    assert "4401**********1234" in lines[-1].text, "the transcript keeps numbers masked"
    shown = (await reviewer.get(page_path)).text
    assert "人工客服·li" in shown

    for problem, text in (("请填写回复内容", ""), ("不能超过", "字" * 1001)):
        message = await flash_after(reviewer, await post_on(reviewer, page_path, f"{page_path}/reply", {"text": text}))
        assert problem in message

    assert "已办结" in await flash_after(
        reviewer, await post_on(reviewer, page_path, f"{page_path}/resolve", {"note": "已电话说明"})
    )
    done = await handoff_of(db, "gz-user")
    assert (done.status, done.resolved_by) == ("resolved", "li")
    late = {"text": "还在吗", "once": "a-late-form-0123456789"}
    refused = await flash_after(reviewer, await post_on(reviewer, "/admin/", f"{page_path}/reply", late))
    assert "已办结" in refused

    assert [a[1] for a in await audit_actions(db)] == [
        "handoff.open",
        "handoff.assign",
        "handoff.reply",
        "handoff.resolve",
    ]
    async with db.sessions() as session:
        entries = (await session.execute(select(AuditEntry).where(AuditEntry.action.like("handoff.%")))).scalars().all()
    assert entries[0].before == {"status": "pending", "assigned_to": None, "region": "广州市"}
    assert entries[2].note is not None and "4401**********1234" in entries[2].note
    assert entries[3].note == "已电话说明"
    audit_page = await reviewer.get("/admin/audit")
    assert "回复考生" in audit_page.text and "办结转人工" in audit_page.text

    # A new 转人工 after the old one was resolved starts a new handoff.
    await ask(app, "gz-user", "转人工 还有问题")
    async with db.sessions() as session:
        statuses = (await session.execute(select(Handoff.status).order_by(Handoff.id))).scalars().all()
    assert statuses == ["resolved", "pending"]


async def test_the_candidates_messages_are_new_until_staff_who_can_act_open_the_handoff(
    app: Starlette, db: Database, signed_in: SignedIn
) -> None:
    await ask(app, "gz-user", "广州退考截止哪天", "转人工", "我的准考证丢了", "电话13812345678")
    await ask(app, "quiet-user", "转人工")  # asked, wrote nothing since: nothing unread
    handoff = await handoff_of(db, "gz-user")
    path = f"/admin/handoffs/{handoff.id}"
    reviewer = await signed_in("reviewer", regions=["广东省"], name="li")
    viewer = await signed_in("viewer")

    listing = (await reviewer.get("/admin/handoffs")).text
    assert listing.count("条新消息</span>") == 1 and "2 条新消息" in listing
    assert "有新消息 <strong>1</strong>" in listing
    looked = (await viewer.get(path)).text  # a viewer reads; the messages stay new for those who act
    assert looked.count('class="in new"') == 2
    assert "2 条新消息" in (await reviewer.get("/admin/handoffs")).text

    page = (await reviewer.get(path)).text
    assert page.count('class="in new"') == 2 and "2 条新消息" in page
    assert f"—— 转人工 RG-{handoff.id:05d} ——" in page
    assert "138****5678" in page and "13812345678" not in page, "the thread is the masked transcript"
    assert "没有找到可靠的答案" not in page, "the bot did not answer them"
    assert "条新消息" not in (await reviewer.get("/admin/handoffs")).text, "opened: read"
    assert 'class="in new"' not in (await reviewer.get(path)).text

    await ask(app, "gz-user", "还在吗")
    assert "1 条新消息" in (await reviewer.get("/admin/handoffs")).text
    sent = await post_on(reviewer, path, f"{path}/reply", {"text": "在的，请稍等"})
    assert "回复已提交" in await flash_after(reviewer, sent)
    assert "有新消息 <strong>0</strong>" in (await reviewer.get("/admin/handoffs")).text

    closed = await post_on(reviewer, path, f"{path}/resolve", {"note": "已补办", "message": "请到窗口领取"})
    assert "已办结" in await flash_after(reviewer, closed)
    async with db.sessions() as session:
        closing = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.key == f"handoff:{handoff.id}:closed"))
        ).scalar_one()
    assert closing.text.startswith("【人工客服】请到窗口领取\n人工服务已结束") and "已补办" not in closing.text
    assert "人工服务已结束" in (await reviewer.get(path)).text


@SQLITE_ONLY
async def test_wechat_replies_warn_when_the_48_hour_window_has_closed(
    app: Starlette, db: Database, signed_in: SignedIn, clock: MovableClock
) -> None:
    app.state.runtime.pushers["wechat"] = object()  # WeChat is on; nothing is dispatched in this test
    await ask(app, "oWeChatUser1", "转人工", channel="wechat")
    handoff = await handoff_of(db, "oWeChatUser1")
    path = f"/admin/handoffs/{handoff.id}"
    admin = await signed_in("admin")

    inside = await admin.get(path)
    assert "以微信客服消息发送" in inside.text and "发送回复" in inside.text

    async with db.transaction() as session:  # the candidate last wrote 48 hours ago (window: 48 h less 5 min)
        await session.execute(
            update(Conversation)
            .where(Conversation.user_id == "oWeChatUser1")
            .values(updated_at=clock() - dt.timedelta(hours=48))
        )
    closed = await admin.get(path)
    assert "窗口已关闭" in closed.text and "回复无法送达" in closed.text
    assert "发送回复" not in closed.text
    stale_form = {"text": "您好", "once": "opened-before-it-closed-01"}  # the form was open in another tab
    refused = await flash_after(admin, await post_on(admin, path, f"{path}/reply", stale_form))
    assert "回复无法送达" in refused

    templates = {"staff_reply": WeChatTemplate(template_id="TPL", fields={"thing1": "title", "thing2": "note"})}
    app.state.runtime.settings = app.state.runtime.settings.model_copy(update={"wechat_templates": templates})
    with_template = await admin.get(path)
    assert "将以模板消息发送" in with_template.text and "发送回复" in with_template.text
    sent = await flash_after(admin, await post_on(admin, path, f"{path}/reply", {"text": "您好，请致电咨询"}))
    assert "以模板消息发送" in sent

    # A channel that cannot send first (the command line) is refused outright.
    await ask(app, "cli-user", "转人工", channel="cli")
    cli = await handoff_of(db, "cli-user")
    page = await admin.get(f"/admin/handoffs/{cli.id}")
    assert "不能主动发送消息" in page.text and "发送回复" not in page.text


@SQLITE_ONLY
async def test_a_staff_reply_goes_out_in_quiet_hours_and_counts_against_no_cap(db: Database) -> None:
    rules = Rules(quiet_start=dt.time(21), quiet_end=dt.time(8), daily_cap=1, zone=SHANGHAI)
    night = dt.datetime(2026, 3, 2, 22, 30, tzinfo=SHANGHAI).astimezone(dt.UTC)
    async with db.transaction() as session:
        await enqueue(
            session,
            [
                Planned("r1", "web", "u1", "reminder", "提醒", due_at=night),
                Planned("s1", "web", "u1", "staff_reply", "【人工客服】您好", due_at=night, capped=False),
                Planned("s2", "web", "u1", "staff_reply", "【人工客服】还有", due_at=night, capped=False),
            ],
            now=night,
        )
    async with db.transaction() as session:
        claimed, _ = await claim(session, worker="w", now=night, rules=rules, limit=10, lease=dt.timedelta(seconds=60))
    assert sorted(c.text for c in claimed) == ["【人工客服】您好", "【人工客服】还有"], "the reminder waits for morning"
    async with db.sessions() as session:
        recipient = await session.get(Recipient, ("web", "u1"))
    assert recipient is not None and recipient.sent_today == 0


@SQLITE_ONLY
async def test_in_a_browser_a_reply_reaches_the_candidate_through_the_dispatcher(
    tmp_path: Path, database_url: str, clock: MovableClock
) -> None:
    """A WeChat candidate asks for a human; staff log in, open the handoff, reply; the real
    dispatcher sends a customer-service message to the fake WeChat API. The scheduler ticks only
    every 60 seconds here, so the reply arriving within seconds shows the page woke the dispatcher."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    fake = FakeWeChatApi()
    async with serving(fake.app) as api:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=tmp_path,
            database_url=database_url,
            wechat_token=TOKEN,
            wechat_app_id=APP_ID,
            wechat_app_secret=SECRET,
            wechat_api_base_url=api + "/",
            reminders_enabled=True,
            scheduler_interval_seconds=60,
        )
        app = create_app(settings, clock=clock, password_hasher=CHEAP_HASHER)
        async with serving(app) as base_url, httpx.AsyncClient() as client:
            async with app.state.runtime.db.transaction() as session:
                await create_account(
                    session,
                    name="li",
                    role="reviewer",
                    regions=["广东省"],
                    password_hash=CHEAP_HASHER.hash(PASSWORD),
                    now=clock(),
                )
            for msg_id, text in (("7001", "广州鉴定费几号前得打过去"), ("7002", "转人工")):
                answer = await client.post(
                    f"{base_url}/wechat", params=query(), content=text_xml(text, msg_id, user="oCandidate42")
                )
                assert answer.status_code == 200
            assert "RG-" in answer.text
            handoff = await handoff_of(app.state.runtime.db, "oCandidate42")
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
                try:
                    page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
                    page.set_default_timeout(5000)
                    await page.goto(f"{base_url}/admin/")
                    await page.get_by_label("用户名").fill("li")
                    await page.get_by_label("密码").fill(PASSWORD)
                    await page.get_by_role("button", name="登录").click()
                    await expect(page.get_by_role("heading", name="仪表盘")).to_be_visible()
                    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="转人工").click()
                    await page.get_by_role("link", name=f"RG-{handoff.id:05d}").click()
                    await expect(page.get_by_role("heading", name=f"转人工 RG-{handoff.id:05d}")).to_be_visible()
                    await expect(page.locator(".transcript")).to_contain_text("广州鉴定费几号前得打过去")
                    await expect(page.get_by_text("以微信客服消息发送")).to_be_visible()
                    await page.get_by_label("回复内容").fill("您好，广州日常鉴定的鉴定费请在考前7个工作日前缴纳。")
                    await page.get_by_role("button", name="发送回复").click()
                    await expect(page.get_by_role("status")).to_contain_text("回复已提交")
                    await expect(page.locator(".transcript li.staff")).to_contain_text("人工客服·li")
                    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    await page.screenshot(path=str(ARTIFACTS / "handoff-detail.png"), full_page=True)
                finally:
                    await browser.close()
            for _ in range(200):
                if fake.sent:
                    break
                await asyncio.sleep(0.05)
            assert [m["touser"] for m in fake.sent] == ["oCandidate42"]
            assert fake.sent[0]["text"]["content"].startswith("【人工客服】您好，广州日常鉴定")
            for _ in range(100):  # the outcome is written just after the send
                async with app.state.runtime.db.sessions() as session:
                    row = (await session.execute(select(OutboxMessage))).scalar_one()
                if row.status == "sent":
                    break
                await asyncio.sleep(0.05)
            assert (row.status, row.via) == ("sent", "custom")
