"""A handoff's thread as staff work it, in Chromium at 1366×768 and 390×844: the newest message at the
bottom of a box that opens there, the reply box in view under a long history, unread counts in the
navigation and on the dashboard, the candidate's requests linked, and a ready-made reply sent as it is.
Screenshots go to test-artifacts/console/ and were looked at."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from bot.config import Settings
from bot.server import create_app
from knowledge.timezone import SHANGHAI
from storage.requests import requests_of_user
from storage.staff import create_account
from tests.a11y import low_contrast, unnamed_controls
from tests.channels.conftest import serving
from tests.console.conftest import CHEAP_HASHER, PASSWORD, MovableClock
from tests.console.test_handoffs import ARTIFACTS, CHROMIUM, ask, handoff_of
from tests.dialogs import dialog, make_id_number


async def test_the_reply_box_stays_in_view_under_a_long_thread_and_a_ready_made_reply_is_sent(
    tmp_path: Path, database_url: str
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=database_url)  # type: ignore[call-arg]
    clock = MovableClock(dt.datetime(2017, 9, 27, 10, 0, tzinfo=SHANGHAI))  # Guangzhou's withdrawal is open
    app = create_app(settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base_url:
        async with app.state.runtime.db.transaction() as session:
            await create_account(
                session,
                name="li",
                role="reviewer",
                regions=["广东省"],
                password_hash=CHEAP_HASHER.hash(PASSWORD),
                now=clock(),
            )
        # A candidate who filed a request, asked thirty questions, then asked for a human and wrote on.
        await ask(app, "visitor", *dialog("广州", "秘书", "2017年10月15日", make_id_number(seq=31)), "确认弃考")
        await ask(app, "visitor", *(f"第{n}个问题：广州的退考退费登记截止到哪天？" for n in range(30)))
        await ask(app, "visitor", "转人工", "我还想问一下退费多久到账", "最新的一条：谢谢")
        handoff = await handoff_of(app.state.runtime.db, "visitor")
        async with app.state.runtime.db.sessions() as session:
            assert [r.reference for r in await requests_of_user(session, channel="web", user_id="visitor")] == [
                "QK-20170927-0001"
            ]
        number = f"RG-{handoff.id:05d}"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1366, "height": 768})
                page.set_default_timeout(5000)
                await page.goto(f"{base_url}/admin/")
                await page.get_by_label("用户名").fill("li")
                await page.get_by_label("密码").fill(PASSWORD)
                await page.get_by_role("button", name="登录").click()
                # Unread: counted beside 转人工 in the navigation and on the dashboard.
                nav = page.get_by_role("navigation", name="主导航")
                await expect(nav.locator(".count")).to_have_text("1")
                await expect(page.get_by_role("link", name="有新消息的转人工")).to_contain_text("1")
                for name, viewport in (
                    ("desktop", {"width": 1366, "height": 768}),
                    ("phone", {"width": 390, "height": 844}),
                ):
                    await page.set_viewport_size(viewport)
                    await page.goto(f"{base_url}/admin/handoffs/{handoff.id}")
                    await expect(page.get_by_role("heading", name=f"转人工 {number}")).to_be_visible()
                    # The thread opens at its newest line, and the reply box follows it closely.
                    newest = page.locator(".transcript li").last
                    await expect(newest).to_contain_text("最新的一条：谢谢")
                    box = await page.locator(".thread").bounding_box()
                    line = await newest.bounding_box()
                    assert box and line
                    assert box["y"] <= line["y"] and line["y"] + line["height"] <= box["y"] + box["height"] + 1
                    assert box["height"] <= 0.46 * viewport["height"] + 20, "the history scrolls in its own box"
                    assert box["height"] >= 200, "and shows a good part of it"
                    reply = await page.get_by_role("textbox", name=re.compile("^回复内容")).bounding_box()
                    assert reply
                    assert reply["y"] + reply["height"] <= viewport["height"], "the reply box is in view"
                    # Nothing covers the newest line.
                    covered = await newest.evaluate(
                        "el => { const r = el.getBoundingClientRect();"
                        " const hit = document.elementFromPoint(r.x + 10, r.y + r.height / 2);"
                        " return !(hit && el.contains(hit)); }"
                    )
                    assert not covered
                    # The candidate's request is one click away.
                    link = page.get_by_role("link", name="QK-20170927-0001")
                    await expect(link).to_have_attribute("href", "/admin/requests/1")
                    await page.screenshot(path=str(ARTIFACTS / f"handoff-thread-{name}.png"))
                    assert await unnamed_controls(page) == []
                    assert (
                        await low_contrast(page, ".transcript .said, .transcript .who, main label, button, nav a") == []
                    )
                    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
                await page.set_viewport_size({"width": 1366, "height": 768})
                await page.get_by_label("常用回复").select_option(index=3)
                await page.get_by_role("button", name="发送回复").click()
                await expect(page.get_by_role("status")).to_contain_text("回复已提交")
                await expect(page.locator(".transcript li.staff").last).to_contain_text("退费将在审核通过后")
                # Read now: the count is gone.
                await expect(page.get_by_role("navigation", name="主导航").locator(".count")).to_have_count(0)
            finally:
                await browser.close()
