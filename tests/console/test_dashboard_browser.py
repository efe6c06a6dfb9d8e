"""The dashboard's report of what WeChat's daily quota leaves behind, as staff see it in Debian's
chromium on a phone and a desktop: the lines are there, readable (contrast), and the page does not
scroll sideways. Screenshots under test-artifacts/console/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from bot.config import Settings
from bot.server import create_app
from knowledge.timezone import SHANGHAI
from storage.outbox import enqueue
from storage.staff import create_account
from tests.a11y import low_contrast
from tests.channels.conftest import serving
from tests.channels.fake_wechat import APP_ID
from tests.console.conftest import CHEAP_HASHER, PASSWORD, SQLITE_ONLY, MovableClock
from tests.console.test_request_browser import shot
from tests.reminders.conftest import waiting_reminders

CHROMIUM = Path("/usr/bin/chromium")


@SQLITE_ONLY
async def test_the_quota_report_reads_well_on_a_phone_and_a_desktop(
    console_settings: Settings, clock: MovableClock
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    settings = console_settings.model_copy(update={"wechat_daily_quota_template": 3, "wechat_app_id": APP_ID})
    app = create_app(settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base_url:
        now = clock()
        today = now.astimezone(SHANGHAI).date()
        rows = waiting_reminders({today - dt.timedelta(days=1): 40, today + dt.timedelta(days=1): 250}, due_at=now)
        async with app.state.runtime.db.transaction() as session:
            await create_account(
                session, name="boss", role="admin", regions=[], password_hash=CHEAP_HASHER.hash(PASSWORD), now=now
            )
            await enqueue(session, rows, now=now)

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                for width, height, name in ((390, 844, "phone"), (1366, 768, "desktop")):
                    page = await browser.new_page(viewport={"width": width, "height": height})
                    page.set_default_timeout(10_000)
                    await page.goto(f"{base_url}/admin/")
                    await page.get_by_label("用户名").fill("boss")
                    await page.get_by_label("密码").fill(PASSWORD)
                    await page.get_by_role("button", name="登录").click()
                    report = page.get_by_role("list", name="发送配额")
                    await expect(report).to_be_visible()
                    await expect(report).to_contain_text("微信 模板消息：今日已用 0 / 3")
                    # 250 for tomorrow against 3 left today and 3 tomorrow; yesterday's 40 never went.
                    await expect(report).to_contain_text("按当前配额，截止日")
                    await expect(report).to_contain_text("的 244 条提醒将无法在截止前发出")
                    await expect(report).to_contain_text("的 40 条提醒未能在截止前发出")
                    await report.scroll_into_view_if_needed()
                    await shot(page, f"dashboard-quota-{name}.png")
                    assert await page.evaluate("document.documentElement.scrollWidth") <= width
                    assert await low_contrast(page, "ul.quota li") == []
                    await expect(report.locator("li.warning")).to_have_count(2)
                    await page.close()
            finally:
                await browser.close()
