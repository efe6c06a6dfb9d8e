"""退考退费申请 in a real headless Chromium (Debian's, driven by Playwright) against a real server: log
in, filter the list, approve one request and reject another with a reason, download the XLSX and a
declaration PDF and read them back. Screenshots of the list and the detail page are kept under
test-artifacts/console/ (or $TEST_ARTIFACTS_DIR/console/)."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, async_playwright, expect

from bot.config import Settings
from bot.server import create_app
from knowledge.timezone import SHANGHAI
from storage.conversations import append_transcript
from storage.staff import create_account
from tests.a11y import low_contrast, unnamed_controls
from tests.channels.conftest import serving
from tests.console.conftest import CHEAP_HASHER, PASSWORD, SQLITE_ONLY, MovableClock
from tests.console.request_helpers import store_request

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "test-artifacts")) / "console"


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


@SQLITE_ONLY
async def test_review_requests_and_download_the_exports(console_settings: Settings, clock: MovableClock) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    app = create_app(console_settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with serving(app) as base_url:
        async with app.state.runtime.db.transaction() as session:
            await create_account(
                session, name="boss", role="admin", regions=[], password_hash=CHEAP_HASHER.hash(PASSWORD), now=clock()
            )
        when = lambda day: dt.datetime(2026, 2, day, 10, 0, tzinfo=SHANGHAI)  # noqa: E731
        li = await store_request(app, name="李四", confirmed=when(3), occupation="秘书")
        wang = await store_request(app, name="王五", confirmed=when(5), user_id="wang")
        async with app.state.runtime.db.transaction() as session:
            said = [
                "退考退费",
                "请问您在哪个地区报考？",
                "广州",
                "……",
                "确认弃考",
                f"已提交。受理编号：{wang.reference}",
            ]
            await append_transcript(
                session,
                channel="test",
                user_id="wang",
                lines=[("in" if i % 2 == 0 else "out", text) for i, text in enumerate(said)],
                now=wang.confirmed_at,
            )
        await store_request(app, name="陈七", region="福建省", confirmed=when(7), institution="福州市技工学校")

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
                page.set_default_timeout(10_000)
                problems: list[str] = []
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

                await page.goto(f"{base_url}/admin/requests")
                await page.get_by_label("用户名").fill("boss")
                await page.get_by_label("密码").fill(PASSWORD)
                await page.get_by_role("button", name="登录").click()
                await expect(page.get_by_role("heading", name="退考退费申请")).to_be_visible()  # back where we were
                await expect(page.locator("tbody tr")).to_have_count(3)

                # Filter: Guangdong (Guangzhou's requests included), awaiting review.
                await page.get_by_label("地区").select_option("广东省")
                await page.locator("select[name=status]").select_option("submitted")
                await page.get_by_role("button", name="筛选").click()
                rows = page.locator("tbody tr")
                await expect(rows).to_have_count(2)
                await expect(rows.first).to_contain_text(wang.reference)  # newest first
                await expect(page.get_by_role("navigation", name="按状态")).to_contain_text("已提交，待审核 2")
                await shot(page, "requests-list.png")
                assert await unnamed_controls(page) == []
                assert await low_contrast(page, "main p, main td, main th, main label, main a, button, nav a") == []

                # Approve 王五.
                await page.get_by_role("link", name=wang.reference).click()
                await expect(page.get_by_role("heading", name=f"申请 {wang.reference}")).to_be_visible()
                await expect(page.get_by_text("个人弃考声明（考生确认的原文）")).to_be_visible()
                await expect(page.locator(".transcript li")).to_have_count(6)
                await shot(page, "request-detail.png")
                await page.set_viewport_size({"width": 390, "height": 844})
                await shot(page, "request-detail-phone.png")
                assert await page.evaluate("document.documentElement.scrollWidth") <= 390
                await page.set_viewport_size({"width": 1280, "height": 900})
                assert await unnamed_controls(page) == []
                assert await low_contrast(page, "main dd, main dt, main p, main li, button, .badge") == []
                # Without the confirmation ticked, the browser does not send it.
                await page.get_by_role("button", name="通过", exact=True).click()
                await expect(page.locator("h1 .badge")).to_have_text("已提交，待审核")
                await page.get_by_label("已核对，确认通过").check()
                await page.get_by_role("button", name="通过", exact=True).click()
                await expect(page.get_by_role("status")).to_have_text("已通过该申请，并已通知考生。")
                await expect(page.locator("h1 .badge")).to_have_text("已通过")
                await expect(page.get_by_role("button", name="登记退费")).to_be_visible()

                # Reject 李四 with a reason.
                await page.get_by_role("link", name="← 返回申请列表").click()
                await page.get_by_role("link", name=li.reference).click()
                await page.get_by_label("驳回原因（选了常用原因可不填").fill("准考证显示已参加考试")
                await page.get_by_label("确认驳回").check()
                await page.get_by_role("button", name="驳回").click()
                await expect(page.get_by_role("status")).to_have_text("已驳回该申请，并已把原因通知考生。")
                await expect(page.get_by_text("驳回原因：准考证显示已参加考试")).to_be_visible()

                # The declaration PDF of 李四.
                async with page.expect_download() as pdf_download:
                    await page.get_by_role("link", name="下载声明 PDF（身份证号部分隐藏）").click()
                pdf = await (await pdf_download.value).path()
                from pypdf import PdfReader

                text = "".join(PdfReader(str(pdf)).pages[0].extract_text().split())
                assert "个人弃考声明" in text and f"受理编号：{li.reference}" in text and "姓名：李*" in text
                assert li.id_number_masked in text

                # The XLSX of Guangdong, with full numbers and the rejected one, both ticked by the admin
                # (unticked by default: a list for the guidance centre holds neither).
                await page.goto(f"{base_url}/admin/requests?region=广东省")
                await page.get_by_text("导出当前筛选结果").click()
                xlsx_form = page.locator("form", has=page.get_by_role("button", name="下载 XLSX 名单"))
                await expect(xlsx_form.get_by_label("含完整身份证号与手机号")).not_to_be_checked()
                await xlsx_form.get_by_label("含完整身份证号与手机号").check()
                await xlsx_form.get_by_label("包含未通过的申请").check()
                async with page.expect_download() as xlsx_download:
                    await page.get_by_role("button", name="下载 XLSX 名单").click()
                download = await xlsx_download.value
                assert download.suggested_filename.startswith(
                    "退考退费申请名单"
                ) and download.suggested_filename.endswith(".xlsx")
                data = Path(await download.path()).read_bytes()
                sheet = load_workbook(io.BytesIO(data)).active
                assert sheet is not None
                rows_read = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
                assert [(r[3], r[12]) for r in rows_read] == [("李四", "未通过"), ("王五", "已通过")]
                assert all(len(str(r[4])) == 18 and "*" not in str(r[4]) for r in rows_read)  # full ID numbers

                # The same list on a phone: no sideways scrolling.
                await page.set_viewport_size({"width": 375, "height": 740})
                await page.goto(f"{base_url}/admin/requests")
                assert await page.evaluate("document.documentElement.scrollWidth") <= 375
                await shot(page, "requests-list-phone.png")
                assert problems == [], problems
            finally:
                await browser.close()
