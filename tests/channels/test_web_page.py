"""The web chat page as a candidate uses it, in headless Chromium on a phone (390×844) and a desktop
(1366×768): the stylesheet whole, tap targets, a reload that keeps the conversation and the question
waiting, the confirmation step, 我的办件 with its timeline, messages the bot sends first shown as what
they are and delivered at once, large text, accessible names and contrast, and a server that does not
answer. Screenshots go to test-artifacts/web/ and were looked at."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from starlette.applications import Starlette

from bot.channels.web import COOKIE
from handlers import request_review
from handlers.messages import Outbound
from storage.requests import requests_of_user
from tests.a11y import low_contrast, unnamed_controls
from tests.channels.conftest import serving
from tests.channels.test_web import ARTIFACTS, CHROMIUM, QUESTION, choose, require_chromium, send
from tests.dialogs import make_id_number

STYLESHEET = Path(__file__).resolve().parents[2] / "bot" / "static" / "chat.css"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
async def served(make_app: Callable[..., Starlette]) -> AsyncIterator[tuple[Starlette, str]]:
    app = make_app(scheduler_interval_seconds=0.3)  # a request's new status reaches the page within a second
    async with serving(app) as url:
        yield app, url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def open_page(browser: Browser, url: str, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    page = await browser.new_page(viewport=viewport)
    page.set_default_timeout(5000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{url}/?poll=1")
    await expect(page.locator(".msg.bot").first).to_contain_text("您好")
    return page, errors


def top_level_rules(css: str) -> int:
    """Rules at the top of the stylesheet, counted by braces; a `{` inside a plain rule's declarations
    (`.sources {.sources {`) is reported, since the browser then drops what follows."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    depth, count, at_rule = 0, 0, [False]
    for k, char in enumerate(css):
        if char == "{":
            if depth == 0:
                count += 1
                at_rule = [css[:k].rsplit("}", 1)[-1].strip().startswith("@")]
            elif not at_rule[0] or depth >= 2:
                raise AssertionError(f"a block opens inside a rule near: {css[max(0, k - 40) : k + 1]!r}")
            depth += 1
        elif char == "}":
            depth -= 1
    assert depth == 0, "unbalanced braces"
    return count


async def to_the_id_number(page: Page, id_number: str) -> None:
    """From the question to the form's level question, the ID number given."""
    await send(page, QUESTION, "2017年9月30日")
    await choose(page, "广州退考退费", "属于目录之外的职业吗")
    await choose(page, "是", "请输入您报考的职业")
    await send(page, "秘书", "原定考试日期")
    await send(page, "2017年10月15日", "个人信息处理说明")
    await choose(page, "同意", "姓名")
    await send(page, "张三", "身份证号码")
    await send(page, id_number, "申报等级")


async def to_the_confirmation(page: Page, seq: int) -> None:
    await to_the_id_number(page, make_id_number(seq=seq))
    await choose(page, "四级/中级工", "报考机构名称")
    await send(page, "广州市第一技工学校", "票据号")
    await choose(page, "跳过", "手机号码")
    await send(page, "13812345678", "确认无误")


async def header_fits(page: Page) -> None:
    """The title and the header's buttons do not overlap, and the title keeps to one line."""
    title, tools = await page.evaluate(
        "['.top h1', '.tools'].map(s => { const r = document.querySelector(s).getBoundingClientRect();"
        " return {left: r.left, right: r.right, height: r.height}; })"
    )
    line = await page.evaluate("parseFloat(getComputedStyle(document.querySelector('.top h1')).lineHeight)")
    assert title["right"] <= tools["left"] and title["height"] <= line * 1.5, (title, tools, line)


async def test_the_stylesheet_parses_whole_and_every_button_is_a_44px_target(
    served: tuple[Starlette, str], browser: Browser
) -> None:
    _, url = served
    defined = top_level_rules(STYLESHEET.read_text(encoding="utf-8"))
    page, errors = await open_page(browser, url, PHONE)
    parsed = await page.evaluate(
        "[...document.styleSheets].find(s => s.href && s.href.endsWith('chat.css')).cssRules.length"
    )
    assert parsed == defined
    await send(page, QUESTION, "2017年9月30日")
    boxes = await page.evaluate(
        """[...document.querySelectorAll('button, textarea, summary')]
             .filter(el => el.offsetParent !== null)
             .map(el => { const r = el.getBoundingClientRect();
                          return [el.textContent.trim() || el.getAttribute('aria-label'), r.width, r.height]; })"""
    )
    assert boxes and all(w >= 44 and h >= 44 for _, w, h in boxes), [b for b in boxes if b[1] < 44 or b[2] < 44]
    await header_fits(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_timeout(400)  # the smooth scroll to the answer settles
    await page.screenshot(path=str(ARTIFACTS / "question-phone.png"))
    await page.set_viewport_size(DESKTOP)
    await page.wait_for_timeout(200)
    await page.screenshot(path=str(ARTIFACTS / "question-desktop.png"))
    assert errors == []


async def test_a_reload_shows_the_conversation_masked_and_the_question_waiting(
    served: tuple[Starlette, str], browser: Browser
) -> None:
    _, url = served
    page, errors = await open_page(browser, url, PHONE)
    id_number = make_id_number()
    await to_the_id_number(page, id_number)

    await page.reload()
    await expect(page.locator(".divider")).to_have_text("以下是您最近的对话")
    await expect(page.locator(".msg.user").first).to_have_text(QUESTION)
    # The ID number comes back masked, as staff read the transcript; the form's question waits, with its buttons.
    history = await page.locator(".messages").inner_text()
    assert id_number not in history and id_number[:4] in history
    waiting = page.locator(".msg.waiting")
    await expect(waiting).to_contain_text("申报等级")
    await expect(waiting.get_by_role("button", name="四级/中级工", exact=True)).to_be_enabled()
    await choose(page, "四级/中级工", "报考机构名称")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "reload-history-phone.png"), full_page=True)
    assert errors == []


async def test_the_confirmation_step_my_requests_and_a_status_change(
    served: tuple[Starlette, str], browser: Browser
) -> None:
    app, url = served
    for seq, (name, viewport) in enumerate((("phone", PHONE), ("desktop", DESKTOP)), start=1):
        page, errors = await open_page(browser, url, viewport)
        await to_the_confirmation(page, seq)
        summary = page.locator(".msg.confirm")
        await expect(summary.get_by_role("button", name="确认弃考", exact=True)).to_be_visible()
        await summary.scroll_into_view_if_needed()
        await page.wait_for_timeout(600)  # the smooth scroll settles before the screenshot
        await page.screenshot(path=str(ARTIFACTS / f"confirmation-{name}.png"))
        # Measured in one go: the chat scrolls smoothly, so boxes read one at a time may disagree.
        item, button, away = await summary.evaluate(
            """el => [el, ...['.choice.primary', '.choice.cancel'].map(s => el.querySelector(s))]
                 .map(e => e.getBoundingClientRect())
                 .map(r => ({y: r.y, width: r.width, height: r.height}))"""
        )
        assert await summary.locator(".choice.primary").inner_text() == "确认弃考"
        assert await summary.locator(".choice.secondary").inner_text() == "修改"
        wide = await page.locator(".msg.confirm-summary").evaluate("el => el.getBoundingClientRect().width")
        assert wide >= item["width"] - 1, "the summary above the buttons is as wide"
        assert (await summary.locator(".choice.cancel").inner_text()).startswith("取消")
        assert item["width"] >= 0.9 * (viewport["width"] if name == "phone" else 760) - 40, "the summary is full width"
        assert button["height"] >= 48 and button["width"] >= 0.5 * item["width"], "确认弃考 is the large primary"
        assert away["y"] - (button["y"] + button["height"]) >= 24, "取消 is set apart from 确认弃考"
        await choose(page, "确认弃考", "受理编号：QK-")

        # 我的办件, without typing a command: the reference with a copy button and the steps so far.
        await page.get_by_role("button", name="我的办件").click()
        panel = page.locator("#requests-panel")
        await expect(panel.locator(".request")).to_have_count(1)
        reference = (await panel.locator(".reference code").inner_text()).strip()
        assert reference.startswith("QK-")
        await expect(panel.get_by_role("button", name=f"复制受理编号 {reference}")).to_be_visible()
        await expect(panel.locator(".timeline li.done .step")).to_have_text(["已提交", "审核中"])
        await page.screenshot(path=str(ARTIFACTS / f"my-requests-{name}.png"), full_page=True)
        await page.get_by_role("button", name="关闭").click()
        await expect(panel).to_be_hidden()

        # Staff approve it: the page shows 办件进度 at once, with the button that opens 我的办件.
        [cookie] = [c for c in await page.context.cookies() if c["name"] == COOKIE]
        async with app.state.runtime.db.transaction() as session:
            [request] = await requests_of_user(session, channel="web", user_id=cookie["value"])
            await request_review.approve(session, request_id=request.id, actor="li", now=app.state.runtime.clock())
        status = page.locator(".msg.status")
        await expect(status.locator(".label")).to_have_text("办件进度", timeout=4000)
        await status.get_by_role("button", name="查看我的申请").click()
        await expect(panel.locator(".timeline li.done .step")).to_have_text(["已提交", "审核中", "已通过"])
        await page.reload()  # the receipt and the status change are still there
        await expect(page.locator(".messages")).to_contain_text(reference)
        await expect(page.locator(".msg.status .label")).to_have_text("办件进度")
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert errors == []
        await page.close()


async def test_a_staff_reply_is_labelled_and_its_button_returns_to_the_input(
    served: tuple[Starlette, str], browser: Browser
) -> None:
    app, url = served
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page, errors = await open_page(browser, url, viewport)
        await send(page, "转人工", "")
        [cookie] = [c for c in await page.context.cookies() if c["name"] == COOKIE]
        pusher = app.state.runtime.pushers["web"]
        reply = Outbound("您好，您的问题已收到：退费将在审核通过后10个工作日内原路退回。", kind="staff_reply")
        await pusher.send(cookie["value"], reply, last_seen=None, now=app.state.runtime.clock())
        staff = page.locator(".msg.staff")
        await expect(staff.locator(".label")).to_have_text("人工客服回复")
        reminder = Outbound("提醒：广州市退考退费登记将于2017年9月30日截止。", kind="reminder")
        await pusher.send(cookie["value"], reminder, last_seen=None, now=app.state.runtime.clock())
        await expect(page.locator(".msg.reminder .label")).to_have_text("提醒")
        # Each kind looks different.
        colours = [
            await page.locator(f".msg.{kind} .bubble").first.evaluate("el => getComputedStyle(el).backgroundColor")
            for kind in ("staff", "reminder")
        ]
        assert len(set(colours)) == 2
        await staff.get_by_role("button", name="回复").click()
        assert await page.evaluate("document.activeElement.id") == "input"
        await page.screenshot(path=str(ARTIFACTS / f"staff-reply-{name}.png"), full_page=True)
        assert errors == []
        await page.close()


async def test_keyboard_names_contrast_and_large_text(served: tuple[Starlette, str], browser: Browser) -> None:
    _, url = served
    page, errors = await open_page(browser, url, PHONE)
    await send(page, QUESTION, "2017年9月30日")
    # After a quick reply the keyboard is back in the input.
    await choose(page, "广州退考退费", "属于目录之外的职业吗")
    assert await page.evaluate("document.activeElement.id") == "input"
    # Every control has a name a screen reader can say; text and buttons meet WCAG AA.
    assert await unnamed_controls(page) == []
    shown = ".bubble, .choice:not(:disabled), .send, .tool, .sources, .subtitle, .top h1"
    assert await low_contrast(page, shown) == []
    # 大字模式 makes the text larger and is remembered.
    before = await page.locator(".bubble").first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    await page.get_by_role("button", name="大字模式").click()
    await expect(page.get_by_role("button", name="大字模式")).to_have_attribute("aria-pressed", "true")
    after = await page.locator(".bubble").first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert after >= before * 1.2
    await page.reload()
    await expect(page.get_by_role("button", name="大字模式")).to_have_attribute("aria-pressed", "true")
    await page.screenshot(path=str(ARTIFACTS / "large-text-phone.png"), full_page=True)
    await header_fits(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert errors == []


async def test_a_server_that_does_not_answer_leaves_the_page_working(
    served: tuple[Starlette, str], browser: Browser
) -> None:
    _, url = served
    page = await browser.new_page(viewport=PHONE)
    page.set_default_timeout(5000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.route("**/api/**", lambda route: route.abort("connectionrefused"))
    await page.goto(f"{url}/?poll=1")
    await expect(page.locator(".msg.error").first).to_contain_text("暂时无法连接服务器")
    await page.get_by_label("输入您的问题或回答").fill("你好")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.error").last).to_contain_text("网络异常")
    await expect(page.locator(".msg.error").last.get_by_role("button", name="重试")).to_be_visible()
    # Back online: the retry goes through.
    await page.unroute("**/api/**")
    await page.locator(".msg.error").last.get_by_role("button", name="重试").click()
    await expect(page.locator(".msg.bot:not(.error):not(.typing)").last).not_to_contain_text("网络异常")
    await page.screenshot(path=str(ARTIFACTS / "offline-phone.png"), full_page=True)
    assert errors == []
