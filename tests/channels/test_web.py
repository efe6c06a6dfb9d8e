"""The web chat page against a real server on loopback: the API with httpx, the page in a headless Chromium."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect
from starlette.applications import Starlette

from bot.channels.web import COOKIE
from tests.channels.conftest import serving
from tests.dialogs import make_id_number

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts")) / "web"
QUESTION = "广州退考退费登记截止到哪天？"


@pytest.fixture
async def base_url(make_app: Callable[..., Starlette]) -> AsyncIterator[str]:
    async with serving(make_app()) as url:
        yield url


@pytest.fixture
async def visitor(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client that has opened the page, so it holds the session cookie."""
    async with httpx.AsyncClient(base_url=base_url, headers={"Origin": base_url}) as client:
        (await client.get("/")).raise_for_status()
        yield client


async def say(client: httpx.AsyncClient, text: str, message_id: str) -> list[dict[str, object]]:
    response = await client.post("/api/chat", json={"text": text, "id": message_id})
    assert response.status_code == 200, response.text
    replies: list[dict[str, object]] = response.json()["replies"]
    return replies


# -- the page -------------------------------------------------------------------------------------


async def test_page_sets_a_session_cookie_and_loads_nothing_from_elsewhere(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        assert len(client.cookies[COOKIE]) >= 32
        html = response.text
        assert 'aria-live="polite"' in html and '<label for="input"' in html
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sorted(assets) == ["static/chat.css", "static/chat.js"]
        for text in [html, *[(await client.get(f"/{asset}")).text for asset in assets]]:
            for external in ("http://", "https://", "//cdn", "@import", "url("):
                assert external not in text
        js = (await client.get("/static/chat.js")).text
        assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "textContent" in js

        # A returning visitor keeps their id, and so their conversation.
        again = await client.get("/")
        assert client.cookies[COOKIE] == cookie.split(";")[0].split("=", 1)[1]
        assert again.status_code == 200


async def test_cookie_is_secure_over_https(base_url: str) -> None:
    # uvicorn trusts X-Forwarded-Proto from loopback, as it would from a TLS-terminating proxy there.
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["set-cookie"]


# -- the API refuses what it should ---------------------------------------------------------------


async def test_post_without_the_session_cookie_is_refused(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post("/api/chat", json={"text": QUESTION, "id": "a1"})
        assert response.status_code == 403
        assert "刷新页面" in response.json()["error"]
        client.cookies.set(COOKIE, "not a session")
        assert (await client.post("/api/chat", json={"text": QUESTION, "id": "a1"})).status_code == 403


async def test_cross_site_posts_are_refused(visitor: httpx.AsyncClient) -> None:
    body = {"text": QUESTION, "id": "a1"}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        response = await visitor.post("/api/chat", json=body, headers=headers)
        assert response.status_code == 403, headers
        assert "不被允许" in response.json()["error"]
    same = await visitor.post("/api/chat", json=body, headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


async def test_malformed_requests_get_a_chinese_400(visitor: httpx.AsyncClient) -> None:
    for content in (b"{not json", b"[1, 2]", b'{"text": 5}', b'{"id": "a"}', b"\xff\xfe", b'{"text": "  "}'):
        response = await visitor.post("/api/chat", content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, content
        assert re.search(r"[\u4e00-\u9fff]", response.json()["error"])
    too_long = await visitor.post("/api/chat", json={"text": "问" * 2001, "id": "a1"})
    assert too_long.status_code == 400 and "2000" in too_long.json()["error"]
    bad_id = await visitor.post("/api/chat", json={"text": QUESTION, "id": "<script>"})
    assert bad_id.status_code == 400


async def test_oversized_body_is_refused(visitor: httpx.AsyncClient) -> None:
    response = await visitor.post("/api/chat", json={"text": "a" * 9000, "id": "a1"})
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 1024
        yield b'"}'

    streamed = await visitor.post("/api/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413


# -- the API answers ------------------------------------------------------------------------------


async def test_a_question_is_answered_with_its_sources(visitor: httpx.AsyncClient) -> None:
    replies = await say(visitor, QUESTION, "q1")
    assert len(replies) == 1
    answer = replies[0]
    assert set(answer) == {"text", "choices", "sources"}
    assert "2017年9月30日" in str(answer["text"])
    assert answer["sources"] == ["穗人社职鉴函〔2017〕145号"]


async def test_a_resent_message_is_answered_once(visitor: httpx.AsyncClient) -> None:
    first = await say(visitor, "退考退费", "m1")
    again = await say(visitor, "退考退费", "m1")
    assert again == first
    assert "哪个省份或城市" in str(first[-1]["text"])
    # Had the resend run again it would have been taken as the region; the form still asks for it.
    scope = await say(visitor, "广州", "m2")
    assert scope[-1]["choices"] == ["是", "否", "不确定"]


async def test_metrics_count_messages_answers_latency_and_engine_transactions(
    base_url: str, visitor: httpx.AsyncClient
) -> None:
    await say(visitor, QUESTION, "m-1")
    await say(visitor, "帮助", "m-2")
    await say(visitor, "帮助", "m-2")  # a resend: counted as a message, handled once
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {
        name: float(value) for name, value in re.findall(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", response.text, re.M)
    }
    assert samples['bot_messages_total{channel="web",outcome="ok"}'] == 3
    assert samples['bot_policy_answers_total{result="answer"}'] == 1
    assert samples['bot_message_seconds_count{channel="web"}'] == 3
    # Each message came alone, so each had a transaction of its own (the resend too: it was looked up).
    assert samples["bot_engine_transactions_total"] == 3
    assert samples["bot_engine_transaction_messages_total"] == 3


async def test_visitors_have_separate_conversations(base_url: str, visitor: httpx.AsyncClient) -> None:
    await say(visitor, "退考退费", "m1")
    async with httpx.AsyncClient(base_url=base_url, headers={"Origin": base_url}) as other:
        await other.get("/")
        # The same client id from someone else is a different message, and their form is not started.
        replies = await say(other, "广州", "m1")
    assert "属于目录之外的职业吗" not in str(replies[-1]["text"])


# -- the page in a browser ------------------------------------------------------------------------


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing; CI installs Debian's chromium package (.ci/run)")
    pytest.skip(f"browser test needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")


async def send(page: Page, text: str, expected: str) -> None:
    await page.get_by_label("输入您的问题或回答").fill(text)
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text(expected)


async def choose(page: Page, choice: str, expected: str) -> None:
    await page.locator(".msg.bot").last.get_by_role("button", name=choice, exact=True).click()
    await expect(page.locator(".msg.bot").last).to_contain_text(expected)


async def test_a_candidate_asks_and_files_a_request_in_the_browser(base_url: str) -> None:
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await browser.new_page(viewport={"width": 375, "height": 740})  # a phone screen
            page.set_default_timeout(5000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(base_url)
            await expect(page.locator(".msg.bot").first).to_contain_text("您好")

            await send(page, QUESTION, "2017年9月30日")
            answer = page.locator(".msg.bot").last
            await expect(answer.locator(".sources")).to_have_text("来源：穗人社职鉴函〔2017〕145号")
            await expect(page.locator(".msg.user").last).to_have_text(QUESTION)

            # The answer's button starts the request for the region the question named.
            await choose(page, "广州退考退费", "属于目录之外的职业吗")
            await choose(page, "是", "请输入您报考的职业")
            await send(page, "秘书", "原定考试日期")
            await send(page, "2017年10月15日", "个人信息处理说明")
            notice = page.locator(".msg.bot").last
            for button in ("同意", "不同意"):
                await expect(notice.get_by_role("button", name=button, exact=True)).to_be_visible()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await notice.screenshot(path=str(ARTIFACTS / "privacy-notice-phone.png"))
            await choose(page, "同意", "姓名")
            await send(page, "张三", "身份证号码")
            await send(page, make_id_number(), "申报等级")
            await choose(page, "四级/中级工", "报考机构名称")
            await send(page, "广州市第一技工学校", "票据号")
            await choose(page, "跳过", "手机号码")
            await send(page, "13812345678", "确认无误")
            await choose(page, "确认弃考", "受理编号：QK-20170927-0001")

            # Line breaks in the bot's text are shown as line breaks.
            receipt = page.locator(".msg.bot .bubble").last
            assert "\n" in await receipt.inner_text()
            assert await receipt.evaluate("el => getComputedStyle(el).whiteSpace") == "pre-wrap"
            # Nothing overflows the phone's width.
            assert await page.evaluate("document.documentElement.scrollWidth") <= 375
            assert errors == []
        finally:
            await browser.close()


async def test_the_page_shows_markup_as_text(base_url: str) -> None:
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await browser.new_page()
            page.set_default_timeout(5000)
            await page.goto(base_url)
            markup = '<img src=x onerror="document.title=1">你好'
            await page.get_by_label("输入您的问题或回答").fill(markup)
            await page.get_by_role("button", name="发送").click()
            await expect(page.locator(".msg.user").last).to_have_text(markup)
            await expect(page.locator(".msg.bot:not(.typing)")).to_have_count(2)
            assert await page.locator(".messages img").count() == 0
            assert await page.title() == "职业技能鉴定考生自助助手"
        finally:
            await browser.close()
