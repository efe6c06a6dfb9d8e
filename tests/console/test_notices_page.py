"""通知管理 at /admin/notices: a notice pasted as text, reviewed fact by fact, published, answered
from at once (in this process, and in another within its poll interval), revised as a new version
the answers cite, superseded by a newer notice, withdrawn; refusals, permissions and the audit."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import async_playwright, expect
from sqlalchemy import select
from starlette.applications import Starlette

from bot.config import Settings
from bot.reminders.planner import Planner
from bot.server import create_app
from handlers.messages import ConversationKey, Inbound
from handlers.reminder_schedule import DEFAULT_SCHEDULE
from knowledge.reminders import Interest
from storage import gaps
from storage import notices as store
from storage.database import Database
from storage.models import AuditEntry, NoticeDraft
from storage.staff import create_account
from tests.channels.conftest import serving
from tests.console.conftest import CHEAP_HASHER, PASSWORD, SQLITE_ONLY, MovableClock, SignedIn, csrf_in
from tests.dialogs import make_id_number
from tests.knowledge.notice_samples import (
    DOC_A,
    DOC_B,
    KEEP_A,
    NOTICE_A,
    NOTICE_B,
    REGISTER_A,
    REGISTER_B,
    REGISTER_QUESTION,
)

SUMMARY = "2027年上半年职业技能等级认定考试安排。"
VARIANT = "鉴定费几号前得打过去"
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "test-artifacts")) / "console"


async def ask(app: Starlette, text: str, user: str) -> str:
    """A candidate's question through the conversation engine, as every channel asks it."""
    key = ConversationKey("web", user)
    replies = await app.state.runtime.engine.handle(Inbound(key=key, text=text, message_id=f"{user}:{text}"))
    return "\n".join(r.text for r in replies)


async def flash_after(c: httpx.AsyncClient, response: httpx.Response) -> tuple[str, str]:
    """Follows the redirect; (the message shown, the page)."""
    assert response.status_code == 303, response.text
    page = await c.get(response.headers["location"])
    found = re.search(r'<p class="flash (?:ok|error)"[^>]*>([^<]*)</p>', page.text)
    assert found, "no message shown"
    return found.group(1), page.text


async def new_draft(c: httpx.AsyncClient, text: str, **extra: Any) -> httpx.Response:
    token = csrf_in((await c.get("/admin/notices")).text)
    return await c.post("/admin/notices/drafts", data={"csrf": token, "text": text, **extra})


async def draft_row(db: Database, draft_id: int) -> NoticeDraft:
    async with db.sessions() as session:
        draft = await store.get_draft(session, draft_id)
    assert draft is not None
    return draft


def draft_id_of(response: httpx.Response) -> int:
    found = re.search(r"/admin/notices/drafts/(\d+)$", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


async def review(
    c: httpx.AsyncClient,
    db: Database,
    draft_id: int,
    accept: tuple[str, ...],
    *,
    publish: bool = False,
    submit: bool = False,
    topic: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    """Submits the draft page's form as a reviewer would: `accept` these facts, reject the others,
    header checked, drafting problems resolved, a summary, and any other `fields`."""
    draft = await draft_row(db, draft_id)
    page = await c.get(f"/admin/notices/drafts/{draft_id}")
    form: dict[str, Any] = {
        "csrf": csrf_in(page.text),
        "revision": str(draft.revision),
        "summary": SUMMARY,
        "header_shown": "1",
        "header_checked": "1",
        "resolved": [str(k) for k in range(len(draft.data.get("problems") or []))],
    }
    for i, fact in enumerate(draft.data["facts"]):
        form[f"f{i}_decision"] = "accept" if fact["id"] in accept else "reject"
        if topic and fact["id"] in topic:
            form[f"f{i}_topic"] = topic[fact["id"]]
    form.update(fields)
    path = f"/admin/notices/drafts/{draft_id}" + ("/publish" if publish else "/submit" if submit else "")
    return await c.post(path, data=form)


def errors_of(page: str, fact_id: str) -> str:
    """The problems the draft page lists on one fact's card."""
    found = re.search(rf'aria-label="条目 {re.escape(fact_id)} 的问题">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def index_of(draft: NoticeDraft, fact_id: str) -> int:
    return next(i for i, f in enumerate(draft.data["facts"]) if f["id"] == fact_id)


async def test_paste_review_publish_revise_and_withdraw_a_notice(app: Starlette, signed_in: SignedIn) -> None:
    db: Database = app.state.runtime.db
    assert DOC_A not in await ask(app, REGISTER_QUESTION, "u0")
    admin = await signed_in("admin", name="boss")

    created = await new_draft(admin, NOTICE_A)
    message, page = await flash_after(admin, created)
    draft_id = draft_id_of(created)
    assert "已生成 1 份草稿，共 8 条待审核条目" in message
    # Each fact beside its source sentence, the extracted pieces marked.
    assert "考生须于<mark>2027年3月15日前</mark>登录报名系统完成网上报名" in page
    # …and in the notice's full text, each linked to the other.
    assert '<mark id="src-0"><a href="#fact-0">考生须于2027年3月15日前' in page and 'href="#src-0"' in page
    assert 'value="2027-03-15"' in page and "待审核 <strong>8</strong> 条" in page

    # Publishing straight away is refused, fact by fact, and nothing goes live.
    token = csrf_in(page)
    draft = await draft_row(db, draft_id)
    refused = await admin.post(
        f"/admin/notices/drafts/{draft_id}/publish", data={"csrf": token, "revision": str(draft.revision)}
    )
    message, page = await flash_after(admin, refused)
    assert message.startswith("未能发布：还有") and "文头尚待核对" in page
    assert "尚待审核：请对照原文核对后选择“采用”或“不采用”" in errors_of(page, REGISTER_A)
    assert "本文概要（summary）不能为空" in page
    assert DOC_A not in await ask(app, REGISTER_QUESTION, "u1")

    published = await review(admin, db, draft_id, KEEP_A, publish=True, topic={REGISTER_A: "报名"})
    message, page = await flash_after(admin, published)
    assert f"已发布 {DOC_A}，机器人已开始使用" in message
    assert "生效中" in page and "第 1 版" in page
    answer = await ask(app, REGISTER_QUESTION, "u2")
    assert "2027年3月15日" in answer and f"来源：{DOC_A}（一）" in answer, answer

    # 修改: a new draft from the published version; publishing it makes version 2, which answers cite.
    version_id = int(re.search(r"/published/(\d+)", published.headers["location"]).group(1))  # type: ignore[union-attr]
    revised = await admin.post(f"/admin/notices/published/{version_id}/revise", data={"csrf": token})
    second_id = draft_id_of(revised)
    second = await draft_row(db, second_id)
    assert (second.base_doc_no, second.base_version, second.status) == (DOC_A, 1, "draft")
    i = index_of(second, REGISTER_A)
    again = await review(admin, db, second_id, KEEP_A, publish=True, **{f"f{i}_d0_date": "2027-03-20"})
    message, page = await flash_after(admin, again)
    assert f"已发布 {DOC_A}（第2版）" in message
    answer = await ask(app, REGISTER_QUESTION, "u3")
    assert "2027年3月20日" in answer and f"来源：{DOC_A}（第2版）（一）" in answer, answer
    listing = (await admin.get("/admin/notices")).text
    assert "已被新版本取代" in listing and listing.count("生效中") == 1

    # Withdrawn: the answer is gone, the record stays.
    async with db.sessions() as session:
        (live,) = await store.live_versions(session)
    path = f"/admin/notices/published/{live.id}/withdraw"
    assert "请填写撤回原因" in (await flash_after(admin, await admin.post(path, data={"csrf": token})))[0]
    message, page = await flash_after(admin, await admin.post(path, data={"csrf": token, "reason": "通知已作废"}))
    assert f"已撤回 {DOC_A}（第2版）" in message and "已撤回" in page and "通知已作废" in page
    answer = await ask(app, REGISTER_QUESTION, "u4")
    assert DOC_A not in answer and "3月20日" not in answer, answer

    async with db.sessions() as session:
        actions = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.target_id).where(AuditEntry.action.like("notice.%"))
            )
        ).all()
    assert [a for a, _ in actions if a != "notice.draft_save"] == [
        "notice.draft_create",
        "notice.publish",
        "notice.revise",
        "notice.publish",
        "notice.withdraw",
    ]
    assert (("notice.publish", f"{DOC_A}#2")) in [tuple(a) for a in actions]
    audit = (await admin.get("/admin/audit")).text
    assert "发布通知" in audit and "撤回通知" in audit


@SQLITE_ONLY
async def test_a_newer_notice_supersedes_the_older_ones_rule(app: Starlette, signed_in: SignedIn) -> None:
    db: Database = app.state.runtime.db
    # The reminder planner reads the knowledge too (reminders are off in these tests: a real planner
    # over the server's knowledge, as the reminder service builds it).
    runtime = app.state.runtime
    planner = Planner(runtime.knowledge, db, runtime.clock, DEFAULT_SCHEDULE)
    interest = Interest(region="广州市")
    planner.dates_for(interest, dt.date(2026, 1, 1))
    admin = await signed_in("admin")
    first = draft_id_of(await new_draft(admin, NOTICE_A))
    await review(admin, db, first, KEEP_A, publish=True, topic={REGISTER_A: "报名"})
    assert planner.kb is runtime.knowledge.current.kb and DOC_A in planner.kb.notices
    assert planner._dates == {}, "due dates worked out from the old knowledge base are forgotten"
    newer = draft_id_of(await new_draft(admin, NOTICE_B))
    page = (await admin.get(f"/admin/notices/drafts/{newer}")).text
    assert f'name="supersedes" value="{DOC_A}"' in page, "live notices of the region are offered"
    published = await review(
        admin,
        db,
        newer,
        (REGISTER_B,),
        publish=True,
        topic={REGISTER_B: "报名"},
        supersedes_shown="1",
        supersedes=DOC_A,
    )
    assert "已发布" in (await flash_after(admin, published))[0]
    answer = await ask(app, REGISTER_QUESTION, "u1")
    assert "2027年3月25日" in answer and f"{DOC_B}已取代{DOC_A}的相应规定" in answer, answer
    assert "3月15日" not in answer
    old_page = (await admin.get("/admin/notices")).text
    assert old_page.count("生效中") == 2, "the older notice stays live for what the newer does not cover"


@SQLITE_ONLY
async def test_publishing_refuses_an_impossible_date_and_lists_it_under_its_fact(
    app: Starlette, signed_in: SignedIn
) -> None:
    db: Database = app.state.runtime.db
    admin = await signed_in("admin")
    draft_id = draft_id_of(await new_draft(admin, NOTICE_A))
    i = index_of(await draft_row(db, draft_id), REGISTER_A)
    refused = await review(admin, db, draft_id, KEEP_A, publish=True, **{f"f{i}_d0_date": "2027-02-30"})
    message, page = await flash_after(admin, refused)
    assert message == "未能发布：还有 1 个问题，已在下方各条目旁列出。已保存您的修改。"
    assert "日期1 · 日期：日期无效：应为存在的日期" in errors_of(page, REGISTER_A), page
    assert (await draft_row(db, draft_id)).status == "draft"
    async with db.sessions() as session:
        assert await store.live_versions(session) == []

    # Two reviewers on one draft: the second save, made over an older form, is refused.
    stale = await admin.post(
        f"/admin/notices/drafts/{draft_id}",
        data={"csrf": csrf_in(page), "revision": "0", "summary": "别人的修改"},
    )
    assert "您这次的修改未保存" in (await flash_after(admin, stale))[0]
    assert (await draft_row(db, draft_id)).data["summary"] == SUMMARY


@SQLITE_ONLY
async def test_uploads_are_read_as_utf8_or_gb18030_and_anything_else_is_refused_politely(
    app: Starlette, signed_in: SignedIn
) -> None:
    reviewer = await signed_in("reviewer", regions=["广东省"])
    token = csrf_in((await reviewer.get("/admin/notices")).text)

    def upload(content: bytes, name: str = "notice.txt") -> Any:
        return reviewer.post(
            "/admin/notices/drafts", data={"csrf": token}, files={"file": (name, content, "text/plain")}
        )

    message, page = await flash_after(reviewer, await upload(NOTICE_A.encode("gb18030")))
    assert "已生成 1 份草稿" in message and DOC_A in page and "notice.txt" in page
    message, _ = await flash_after(reviewer, await upload(b"%PDF-1.7\x00\x01\x02binary", "notice.pdf"))
    assert message.startswith("无法读取文件 notice.pdf：这不是文本文件")
    too_big = await upload(("通知" * 200_000).encode())
    assert too_big.status_code == 413 and "不能超过 512 KiB" in too_big.text
    message, _ = await flash_after(reviewer, await new_draft(reviewer, "   "))
    assert message == "请粘贴通知全文，或选择通知的 .txt 文件。"


@SQLITE_ONLY
async def test_reviewers_prepare_drafts_of_their_regions_and_only_admins_publish(
    app: Starlette, signed_in: SignedIn
) -> None:
    db: Database = app.state.runtime.db
    jilin = await signed_in("reviewer", regions=["吉林省"], name="jl")
    message, _ = await flash_after(jilin, await new_draft(jilin, NOTICE_A))
    assert "该通知的地区（广东省）不在您负责的范围内" in message
    message, _ = await flash_after(jilin, await new_draft(jilin, NOTICE_A, region="广东省"))
    assert message == "请从列表中选择您负责的地区。"

    guangdong = await signed_in("reviewer", regions=["广东省"], name="gd")
    draft_id = draft_id_of(await new_draft(guangdong, NOTICE_A))
    assert "已保存" in (await flash_after(guangdong, await review(guangdong, db, draft_id, KEEP_A)))[0]
    page = (await guangdong.get(f"/admin/notices/drafts/{draft_id}")).text
    assert "保存并提交管理员发布" in page and "保存并发布" not in page and "可以发布" in page
    assert (await review(guangdong, db, draft_id, KEEP_A, publish=True)).status_code == 403
    submitted = await review(guangdong, db, draft_id, KEEP_A, submit=True)
    assert "已保存并提交" in (await flash_after(guangdong, submitted))[0]
    assert "已提交，等待管理员发布" in (await guangdong.get(f"/admin/notices/drafts/{draft_id}")).text
    moved = await review(guangdong, db, draft_id, KEEP_A, regions="吉林")
    assert "不能把地区设为您负责范围以外的 吉林省" in (await flash_after(guangdong, moved))[0]
    assert (await jilin.get(f"/admin/notices/drafts/{draft_id}")).status_code == 404
    assert f"/admin/notices/drafts/{draft_id}" not in (await jilin.get("/admin/notices")).text

    viewer = await signed_in("viewer", name="v")
    page = (await viewer.get(f"/admin/notices/drafts/{draft_id}")).text
    assert '<fieldset class="plain" disabled>' in page and "新建草稿" not in (await viewer.get("/admin/notices")).text
    assert (await review(viewer, db, draft_id, KEEP_A)).status_code == 403

    admin = await signed_in("admin", name="boss")
    assert re.search(r"待发布的通知草稿<strong>1</strong>", (await admin.get("/admin/")).text)
    assert "待发布的通知草稿" not in (await guangdong.get("/admin/")).text, "only admins publish"
    assert "已发布" in (await flash_after(admin, await review(admin, db, draft_id, KEEP_A, publish=True)))[0]
    assert re.search(r"待发布的通知草稿<strong>0</strong>", (await admin.get("/admin/")).text)
    async with db.sessions() as session:
        (version,) = await store.live_versions(session)
    withdraw = f"/admin/notices/published/{version.id}/withdraw"
    token = csrf_in((await guangdong.get(f"/admin/notices/published/{version.id}")).text)
    assert (await guangdong.post(withdraw, data={"csrf": token, "reason": "x"})).status_code == 403
    revise = f"/admin/notices/published/{version.id}/revise"
    assert (
        "这份通知的地区不在您负责的范围内"
        in (
            await flash_after(
                jilin, await jilin.post(revise, data={"csrf": csrf_in((await jilin.get("/admin/notices")).text)})
            )
        )[0]
    )


@SQLITE_ONLY
async def test_another_server_process_answers_from_a_publication_within_its_poll_interval(
    app: Starlette, signed_in: SignedIn, console_settings: Settings, clock: MovableClock
) -> None:
    """Two applications on one database, as two workers are: one publishes, the other polls; a third
    started afterwards loads the notice before it takes messages."""
    other = create_app(
        console_settings.model_copy(update={"variants_poll_seconds": 0.3}), clock=clock, password_hasher=CHEAP_HASHER
    )
    async with other.router.lifespan_context(other):
        assert DOC_A not in await ask(other, REGISTER_QUESTION, "w0")
        db: Database = app.state.runtime.db
        # A question variant added behind this process's back (its own poll is 30 s away): the
        # rebuild at publication loads the variants afresh into the new PolicyQA.
        async with db.transaction() as session:
            await gaps.add_variant(session, question=VARIANT, entry_id="gz145.fee-daily", by="staff", now=clock())
        assert "没有找到可靠的答案" in await ask(app, f"广州{VARIANT}", "v0")
        admin = await signed_in("admin")
        draft_id = draft_id_of(await new_draft(admin, NOTICE_A))
        await review(admin, db, draft_id, KEEP_A, publish=True)
        assert "没有找到可靠的答案" not in await ask(app, f"广州{VARIANT}", "v1")
        loop = asyncio.get_running_loop()
        started = loop.time()
        n = 0
        while DOC_A not in await ask(other, REGISTER_QUESTION, f"w{n}"):
            assert loop.time() - started < 5, "the other process did not reload within 5 s"
            n += 1
            await asyncio.sleep(0.1)
        assert REGISTER_B not in other.state.runtime.knowledge.current.kb.by_id
        assert "没有找到可靠的答案" not in await ask(other, f"广州{VARIANT}", "v2"), "variants survive the rebuild"
    # A process started afterwards loads the published notice before it takes messages.
    later = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with later.router.lifespan_context(later):
        assert DOC_A in await ask(later, REGISTER_QUESTION, "l0")


@SQLITE_ONLY
async def test_in_a_browser_paste_a_notice_review_it_and_publish_it(
    console_settings: Settings, clock: MovableClock
) -> None:
    """Headless Chromium (Debian's) against a real server; screenshots under test-artifacts/console/."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    app = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base_url:
        async with app.state.runtime.db.transaction() as session:
            await create_account(
                session, name="boss", role="admin", regions=[], password_hash=CHEAP_HASHER.hash(PASSWORD), now=clock()
            )
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(10_000)
                problems: list[str] = []
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

                await page.goto(f"{base_url}/admin/")
                await page.get_by_label("用户名").fill("boss")
                await page.get_by_label("密码").fill(PASSWORD)
                await page.get_by_role("button", name="登录").click()
                await page.get_by_role("navigation", name="主导航").get_by_role("link", name="通知管理").click()
                await expect(page.get_by_role("heading", name="通知管理", exact=True)).to_be_visible()

                await page.get_by_label("粘贴通知全文").fill(NOTICE_A)
                await page.get_by_role("button", name="生成草稿").click()
                await expect(page.get_by_role("status")).to_contain_text("已生成 1 份草稿")
                register = page.get_by_role("region", name=f"条目 {REGISTER_A}")
                await expect(register.locator("mark")).to_have_text("2027年3月15日前")
                await expect(register.get_by_label("日期", exact=True)).to_have_value("2027-03-15")
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "notice-draft.png"), full_page=True)

                ids = await page.locator("section.fact").evaluate_all(
                    "cards => cards.map(c => c.getAttribute('aria-label').slice(3))"
                )
                for fact_id in ids:
                    card = page.get_by_role("region", name=f"条目 {fact_id}")
                    await card.get_by_label("不采用" if fact_id not in KEEP_A else "采用", exact=True).check()
                await register.get_by_label("主题（如 报名、考试安排、退考退费；新通知按主题取代旧通知）").fill("报名")
                await page.get_by_label("本文概要（面向考生，一两句话）").fill(SUMMARY)
                await page.get_by_label("文头已核对（文号、发文单位、日期、标题、地区）").check()
                await page.get_by_label("已解决：summary（本文概要）待填写").check()
                await page.get_by_role("button", name="保存并发布（第 1 版）").click()

                await expect(page.get_by_role("status")).to_contain_text(f"已发布 {DOC_A}，机器人已开始使用")
                await expect(page.get_by_role("heading", name=f"{DOC_A} 第 1 版")).to_contain_text("生效中")
                await page.screenshot(path=str(ARTIFACTS / "notice-published.png"), full_page=True)
                assert problems == []
            finally:
                await browser.close()
        answer = await ask(app, REGISTER_QUESTION, "browser")
        assert "2027年3月15日" in answer and f"来源：{DOC_A}" in answer, answer


async def test_a_fact_the_draft_missed_is_added_published_and_answered(app: Starlette, signed_in: SignedIn) -> None:
    db: Database = app.state.runtime.db
    admin = await signed_in("admin", name="boss")
    draft_id = draft_id_of(await new_draft(admin, NOTICE_A))
    added = {
        "new_kind": "deadline",
        "new_title": "现场确认资格审核",
        "new_answer": "网上报名后，考生须于2027年3月20日17:00前到报名点现场确认资格。",
        "new_quote": "网上报名后须于3月20日17:00前到报名点现场确认资格。",
        "new_clause": "一",
        "new_date": "2027-03-20",
        "new_time": "17:00",
        "new_bound": "by",
    }
    assert "已保存" in (await flash_after(admin, await review(admin, db, draft_id, KEEP_A, **added)))[0]
    draft = await draft_row(db, draft_id)
    (fact,) = [f for f in draft.data["facts"] if f["id"].endswith("added-1")]
    assert fact["dates"] == [{"kind": "date", "bound": "by", "date": "2027-03-20", "time": "17:00"}]
    page = (await admin.get(f"/admin/notices/drafts/{draft_id}")).text
    assert "现场确认资格审核" in page and 'value="17:00"' in page, "listed and editable like the others"
    published = await review(admin, db, draft_id, (*KEEP_A, fact["id"]), publish=True, topic={REGISTER_A: "报名"})
    assert "已发布" in (await flash_after(admin, published))[0]
    reply = await ask(app, "广东现场确认资格截止到哪天", "u-added")
    assert "2027年3月20日17:00" in reply and DOC_A in reply, reply


SHANGHAI_REFUND = """上海市职业技能鉴定中心

沪职鉴〔2027〕3号

关于2027年职业技能等级认定考试退考退费有关事项的通知

各区人力资源和社会保障局，各有关单位：

一、已报名考生因故不能参加考试的，可以申请退考退费。

二、退考退费登记须于2027年4月30日前完成，逾期不予办理。

三、咨询电话：021-63521234。

上海市职业技能鉴定中心
2027年3月1日
"""


async def test_a_refund_notice_published_from_the_console_opens_the_withdrawal_form(
    app: Starlette, signed_in: SignedIn, clock: MovableClock
) -> None:
    clock.at = dt.datetime(2027, 3, 10, 2, 0, tzinfo=dt.UTC)
    db: Database = app.state.runtime.db
    before = await ask(app, "退考退费", "sh-before")
    before += "\n" + await ask(app, "上海", "sh-before")
    assert "没有可在线登记的退考退费规定" in before

    admin = await signed_in("admin", name="boss")
    draft_id = draft_id_of(await new_draft(admin, SHANGHAI_REFUND))
    facts = (await draft_row(db, draft_id)).data["facts"]
    grant = next(f["id"] for f in facts if f.get("topic") == "退考退费")
    deadline = next(f["id"] for f in facts if f["kind"] == "deadline")
    rule = {
        "withdrawal_shown": "1",
        "withdrawal_on": "1",
        "wd_grant": grant,
        "wd_deadline": deadline,
        "wd_scope_question": "您报考的是上海市2027年的职业技能等级认定考试吗？",
        "wd_template": "本人{姓名}（身份证号{身份证号}）自愿放弃{原定考试日期}的{职业}考试，申请退考退费。",
        "wd_register_with": "原报考机构",
    }
    accepted = tuple(f["id"] for f in facts)
    published = await review(admin, db, draft_id, accepted, publish=True, **rule)
    assert "已发布" in (await flash_after(admin, published))[0]

    reply = await ask(app, "退考退费", "sh-after")
    reply = await ask(app, "上海", "sh-after")
    assert "没有可在线登记" not in reply and "上海市2027年的职业技能等级认定考试吗" in reply, reply
    assert "沪职鉴〔2027〕3号" in reply
    for said in (
        "是",
        "电工",
        "2027年5月10日",
        "同意",
        "张三",
        make_id_number("310101"),
        "中级",
        "上海市技师学院",
        "跳过",
    ):
        await ask(app, said, "sh-after")
    await ask(app, "13812345678", "sh-after")
    receipt = await ask(app, "确认弃考", "sh-after")
    assert "受理编号：QK-" in receipt and "沪职鉴〔2027〕3号" in receipt, receipt


async def chat_send(page: Any, text: str, expected: str) -> str:
    """Types into the web chat page and waits for the bot's newest message to contain `expected`."""
    await page.get_by_label("输入您的问题或回答").fill(text)
    await page.keyboard.press("Enter")
    last = page.locator(".msg.bot").last
    await expect(last).to_contain_text(expected)
    return str(await last.inner_text())


@SQLITE_ONLY
async def test_in_a_browser_a_refund_notice_is_completed_published_and_used(
    console_settings: Settings, clock: MovableClock
) -> None:
    """Issue 19's end to end, in headless Chromium against a real server: a refund notice is drafted,
    a missed fact and the withdrawal rule are added in the console, it is published, the bot answers
    about the added fact on the web chat page, and a candidate files a withdrawal there."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    clock.at = dt.datetime(2027, 3, 10, 2, 0, tzinfo=dt.UTC)
    app = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base_url:
        db: Database = app.state.runtime.db
        async with db.transaction() as session:
            await create_account(
                session, name="boss", role="admin", regions=[], password_hash=CHEAP_HASHER.hash(PASSWORD), now=clock()
            )
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(10_000)
                await page.goto(f"{base_url}/admin/")
                await page.get_by_label("用户名").fill("boss")
                await page.get_by_label("密码").fill(PASSWORD)
                await page.get_by_role("button", name="登录").click()
                await page.goto(f"{base_url}/admin/notices")
                await page.get_by_label("粘贴通知全文").fill(SHANGHAI_REFUND)
                await page.get_by_role("button", name="生成草稿").click()
                await expect(page.get_by_role("status")).to_contain_text("已生成 1 份草稿")
                draft_id = int(page.url.rstrip("/").split("/")[-1])
                facts = (await draft_row(db, draft_id)).data["facts"]
                for fact in facts:
                    card = page.get_by_role("region", name=f"条目 {fact['id']}")
                    await card.get_by_label("采用", exact=True).check()

                extra = page.get_by_role("region", name="补充条目")
                await extra.get_by_label("类型").select_option("deadline")
                await extra.get_by_label("标题").fill("现场提交退考材料")
                await extra.get_by_label("回答（面向考生，忠实于原文）").fill(
                    "申请退考的考生须于2027年4月20日16:00前到报名点现场提交退考材料。"
                )
                await extra.get_by_label("日期", exact=True).fill("2027-04-20")
                await extra.get_by_label("钟点", exact=True).fill("16:00")

                rule = page.get_by_role("region", name="退考退费办理规则")
                await rule.get_by_label("本通知允许退考退费，开启在线登记").check()
                grant = next(f["id"] for f in facts if f.get("topic") == "退考退费")
                deadline = next(f["id"] for f in facts if f["kind"] == "deadline")
                await rule.get_by_label("允许退考退费的条款").select_option(grant)
                await rule.get_by_label("登记截止（截止期限条目）").select_option(deadline)
                await rule.get_by_label("无名单时向考生确认的问题（正面提问，回答“是”即属于）").fill(
                    "您报考的是上海市2027年的职业技能等级认定考试吗？"
                )
                await rule.get_by_label("声明正文（占位符：{姓名}、{身份证号}、{原定考试日期}、{职业}）").fill(
                    "本人{姓名}（身份证号{身份证号}）自愿放弃{原定考试日期}的{职业}考试，申请退考退费。"
                )
                await page.get_by_label("本文概要（面向考生，一两句话）").fill(SUMMARY)
                await page.get_by_label("文头已核对（文号、发文单位、日期、标题、地区）").check()
                for box in await page.locator("input[name=resolved]").all():
                    await box.check()
                await page.get_by_role("button", name="保存").first.click()
                await expect(page.get_by_role("status")).to_contain_text("已保存")
                added = page.get_by_role(
                    "region",
                    name="条目 "
                    + next(f["id"] for f in (await draft_row(db, draft_id)).data["facts"] if "added" in f["id"]),
                )
                await added.get_by_label("采用", exact=True).check()
                await page.get_by_role("button", name="保存并发布（第 1 版）").click()
                await expect(page.get_by_role("status")).to_contain_text("已发布 沪职鉴〔2027〕3号")

                chat = await browser.new_page(viewport={"width": 390, "height": 844})
                chat.set_default_timeout(10_000)
                await chat.goto(base_url + "/")
                said = await chat_send(chat, "上海现场提交退考材料截止到什么时候", "2027年4月20日")
                assert "16:00" in said and "沪职鉴〔2027〕3号" in said, said
                await chat_send(chat, "我要退考退费", "哪个省份或城市")
                await chat_send(chat, "上海", "上海市2027年的职业技能等级认定考试吗")
                await chat_send(chat, "是", "职业")
                await chat_send(chat, "电工", "考试日期")
                await chat_send(chat, "2027年5月10日", "个人信息处理说明")
                await chat_send(chat, "同意", "姓名")
                await chat_send(chat, "张三", "身份证号码")
                await chat_send(chat, make_id_number("310101"), "申报等级")
                await chat_send(chat, "中级", "报考机构")
                await chat_send(chat, "上海市技师学院", "票据号")
                await chat_send(chat, "跳过", "手机号码")
                await chat_send(chat, "13812345678", "确认")
                receipt = await chat_send(chat, "确认弃考", "受理编号：QK-")
                assert "沪职鉴〔2027〕3号" in receipt
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await chat.screenshot(path=str(ARTIFACTS / "refund-notice-receipt-phone.png"), full_page=True)
            finally:
                await browser.close()


async def test_a_relative_deadline_a_list_a_venue_and_a_form_are_added_by_hand(
    app: Starlette, signed_in: SignedIn
) -> None:
    db: Database = app.state.runtime.db
    admin = await signed_in("admin", name="boss")
    draft_id = draft_id_of(await new_draft(admin, NOTICE_A))
    relative = {
        "new_kind": "deadline",
        "new_title": "申请成绩复核",
        "new_answer": "对成绩有异议的，可在成绩发布后5个工作日内申请复核。",
        "new_amount": "5",
        "new_unit": "working_days",
        "new_direction": "after",
        "new_anchor": "成绩发布",
    }
    await review(admin, db, draft_id, KEEP_A, **relative)
    listed = {
        "new_kind": "occupation_list",
        "new_title": "本次统考职业",
        "new_answer": "本次统考职业：电工、焊工、车工。",
        "new_members": "电工、焊工、车工",
        "new_stated_count": "3",
    }
    await review(admin, db, draft_id, KEEP_A, **listed)
    venue = {
        "new_kind": "contact",
        "new_title": "考点：广东省职业技能鉴定指导中心考场",
        "new_answer": "考点设在广州市越秀区惠福东路546号。",
        "new_organization": "广东省职业技能鉴定指导中心",
        "new_address": "广州市越秀区惠福东路546号",
    }
    await review(admin, db, draft_id, KEEP_A, **venue)
    form = {
        "new_kind": "form",
        "new_title": "退考申请表",
        "new_answer": "申请退考须填写《退考申请表》。",
        "new_form_name": "退考申请表",
        "new_form_fields": "姓名、身份证号、报考职业、退考原因",
    }
    await review(admin, db, draft_id, KEEP_A, **form)
    added = [f for f in (await draft_row(db, draft_id)).data["facts"] if "added" in f["id"]]
    assert added[2]["address"] == "广州市越秀区惠福东路546号"
    assert added[3]["name"] == "退考申请表" and [f["label"] for f in added[3]["fields"]][-1] == "退考原因"
    assert added[0]["dates"] == [
        {"kind": "relative", "amount": 5, "unit": "working_days", "direction": "after", "anchor": "成绩发布"}
    ]
    assert (added[1]["occupations"], added[1]["stated_count"]) == (["电工", "焊工", "车工"], 3)
    ids = (*KEEP_A, *(f["id"] for f in added))
    published = await review(admin, db, draft_id, ids, publish=True, topic={REGISTER_A: "报名"})
    assert "已发布" in (await flash_after(admin, published))[0]
