"""The console in a real headless Chromium (Debian's, driven by Playwright) against a real server:
log in through the form, see the dashboard, open the audit log, log out."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from bot.config import Settings
from bot.server import create_app
from storage.staff import create_account
from tests.channels.conftest import serving
from tests.console.conftest import CHEAP_HASHER, PASSWORD, SQLITE_ONLY, MovableClock

CHROMIUM = Path("/usr/bin/chromium")


@SQLITE_ONLY
async def test_log_in_see_the_dashboard_and_log_out(console_settings: Settings, clock: MovableClock) -> None:
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
                page = await browser.new_page(viewport={"width": 375, "height": 740})  # a phone screen
                page.set_default_timeout(5000)
                problems: list[str] = []
                page.on("pageerror", lambda error: problems.append(str(error)))
                # Chromium reports every 4xx page as a console error; the failed login's 400 is expected.
                expected = "the server responded with a status of 400"
                page.on(
                    "console",
                    lambda m: problems.append(m.text) if m.type == "error" and expected not in m.text else None,
                )

                await page.goto(f"{base_url}/admin/")
                await expect(page.get_by_role("heading", name="员工登录")).to_be_visible()
                await page.get_by_label("用户名").fill("boss")
                await page.get_by_label("密码").fill("not the password")
                await page.get_by_role("button", name="登录").click()
                await expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")

                await page.get_by_label("密码").fill(PASSWORD)
                await page.get_by_role("button", name="登录").click()
                await expect(page.get_by_role("heading", name="仪表盘")).to_be_visible()
                nav = page.get_by_role("navigation", name="主导航")
                await expect(nav.get_by_role("link", name="账号管理")).to_be_visible()
                assert await page.evaluate("document.documentElement.scrollWidth") <= 375
                # The stylesheet applied (nothing else styles the page).
                header_bg = await page.locator("header.top").evaluate("el => getComputedStyle(el).backgroundColor")
                assert header_bg == "rgb(23, 50, 77)"

                await nav.get_by_role("link", name="审计日志").click()
                await expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
                await expect(page.locator("tbody tr").first).to_contain_text("登录")
                assert await page.evaluate("document.documentElement.scrollWidth") <= 375

                await page.get_by_role("button", name="退出登录").click()
                await expect(page.get_by_role("status")).to_have_text("您已退出登录。")
                await page.goto(f"{base_url}/admin/")
                await expect(page.get_by_role("heading", name="员工登录")).to_be_visible()
                assert problems == []
            finally:
                await browser.close()
