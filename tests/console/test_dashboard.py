"""The dashboard at /admin/: questions answered and abstained per day (counted by the engine as it
answers), requests per status, reminders sent and failed today and in the last 7 days, handoffs
waiting and open knowledge gaps, scoped to the staff member's regions where the data has one."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.config import Settings
from bot.console.pages.dashboard import answer_rows, width_class
from handlers.messages import ConversationKey, Inbound
from knowledge.timezone import SHANGHAI
from storage.database import Database
from storage.models import AnswerStat, OutboxMessage
from storage.outbox import Claimed, Delivery, Planned, Rules, enqueue, record
from storage.requests import NewRequest, create_request
from tests.channels.fake_wechat import APP_ID
from tests.console.conftest import MovableClock, SignedIn
from tests.dialogs import make_id_number
from tests.reminders.conftest import waiting_reminders

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


async def ask(app: Starlette, user: str, text: str) -> None:
    key = ConversationKey("web", user)
    await app.state.runtime.engine.handle(Inbound(key=key, text=text, message_id=f"{user}:{text}"))


async def add_request(app: Starlette, region: str, seq: int, status: str = "submitted") -> None:
    new = NewRequest(
        channel="web",
        user_id=f"req-{seq}",
        name="张三",
        id_number=make_id_number(seq=seq),
        phone="13812345678",
        region=region,
        doc_no="测试文件",
        occupation="电工",
        occupation_listed=True,
        level="中级",
        exam_date=dt.date(2026, 4, 18),
        institution="第一技工学校",
        receipt_no=None,
        deadline=None,
        declaration="本人自愿放弃考试。",
    )
    async with app.state.runtime.db.transaction() as session:
        request = await create_request(
            session, new, cipher=app.state.runtime.services.cipher, now=NOW.astimezone(dt.UTC), today=NOW.date()
        )
        request.status = status


async def add_deliveries(db: Database) -> None:
    """Reminders, a broadcast and a staff reply, whose outcomes the dispatcher's `record` writes at
    various times; only reminders and broadcasts that are done (sent, or failed for good) count."""
    rules = Rules(quiet_start=dt.time(21), quiet_end=dt.time(8), daily_cap=3, zone=SHANGHAI)
    at = NOW.astimezone(dt.UTC)
    kinds = ["reminder"] * 6 + ["broadcast", "staff_reply"]
    async with db.transaction() as session:
        await enqueue(
            session, [Planned(f"k{n}", "web", f"u{n}", kind, "提醒", due_at=at) for n, kind in enumerate(kinds)], now=at
        )
        ids = list((await session.execute(select(OutboxMessage.id).order_by(OutboxMessage.id))).scalars())
    message = {n: Claimed(ids[n], "web", f"u{n}", kind, "提醒", {}, True, 1) for n, kind in enumerate(kinds)}
    batches = [
        # (hours before now, [(message, status)])
        (10 * 24, [(0, "sent")]),  # older than 7 days
        (3 * 24, [(1, "sent")]),
        (2, [(2, "retry"), (3, "unreachable")]),  # the retry is not an outcome yet
        (1, [(2, "failed"), (4, "sent"), (5, "sent"), (6, "sent"), (7, "sent")]),  # 7 is a staff reply
    ]
    for hours, outcomes in batches:
        async with db.transaction() as session:
            await record(
                session,
                [(message[n], Delivery(status)) for n, status in outcomes],
                worker="w",
                now=at - dt.timedelta(hours=hours),
                rules=rules,
            )


def cells(html: str, row_label: str) -> tuple[str, str]:
    found = re.search(rf'<th scope="row">{row_label}</th><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>', html)
    assert found, row_label
    return found.group(1), found.group(2)


def day_row(html: str, day: str) -> list[str]:
    found = re.search(rf'<td data-label="日期">{day}[^<]*</td>\s*(.*?)</tr>', html, re.S)
    assert found, day
    return re.findall(r'<td data-label="[^"]+">([^<]*)</td>', found.group(1))


async def test_the_dashboard_counts_and_scopes_them_by_region(
    app: Starlette, signed_in: SignedIn, clock: MovableClock
) -> None:
    db: Database = app.state.runtime.db
    clock.advance(days=-1)
    await ask(app, "q1", "广州退考截止哪天")
    clock.advance(days=1)
    for user, text in (
        ("q2", "广州退考截止哪天"),
        ("q3", "吉林报名什么时候"),
        ("q4", "公务员考试几月报名"),
        ("q5", "你好"),
    ):
        await ask(app, user, text)
    await ask(app, "h1", "广州退考截止哪天")
    await ask(app, "h1", "转人工")  # a Guangzhou handoff (and one more answered question above)
    await ask(app, "h2", "转人工")  # region unknown
    await ask(app, "h3", "吉林报名什么时候")
    await ask(app, "h3", "转人工")
    for seq, (region, status) in enumerate(
        [("广州市", "submitted"), ("广州市", "submitted"), ("广州市", "approved"), ("吉林省", "submitted")]
    ):
        await add_request(app, region, 200 + seq, status)
    await add_deliveries(db)
    async with db.sessions() as session:
        slots = (await session.execute(select(func.count()).select_from(AnswerStat))).scalar_one()
    assert slots >= 2, "counts are spread over slots"

    admin = await signed_in("admin")
    page = (await admin.get("/admin/")).text
    assert day_row(page, "03-02 周一") == ["4", "1", "20%"], "吉林 twice, 广州 twice answered; 公务员 abstained"
    assert day_row(page, "03-01 周日") == ["1", "0", "0%"]
    assert day_row(page, "02-17 周二") == ["0", "0", "—"]  # 14 days shown, the empty ones too
    assert "已回答 <strong>5</strong> 次，未能回答 <strong>1</strong> 次" in page
    assert re.search(r'data-label="待审核">3<', page) and re.search(r'data-label="已通过">1<', page)
    assert "等待人工<strong>3</strong>" in page
    assert "未处理的知识缺口<strong>1</strong>" in page
    assert cells(page, "已送达") == ("3", "4")  # today: 2 reminders and the broadcast; 3 days ago: 1
    assert cells(page, "发送失败") == ("2", "2")  # unreachable, and the retried one that failed for good

    reviewer = await signed_in("reviewer", regions=["广东省"])
    scoped = (await reviewer.get("/admin/")).text
    assert "您负责的地区：广东省" in scoped
    assert re.search(r'data-label="待审核">2<', scoped) and re.search(r'data-label="已通过">1<', scoped)
    assert "等待人工<strong>2</strong>" in scoped, "Guangzhou's and the one of no known region"
    assert day_row(scoped, "03-02 周一") == ["4", "1", "20%"], "questions have no region: shown whole"
    assert cells(scoped, "已送达") == ("3", "4"), "nor have outbox messages"
    assert "账号管理" not in scoped


def test_bars_are_widths_in_five_percent_steps() -> None:
    assert [width_class(v, 40) for v in (0, 1, 10, 39, 40)] == ["w0", "w5", "w25", "w100", "w100"]
    today = dt.date(2026, 3, 2)
    rows = answer_rows({today: (30, 10), today - dt.timedelta(days=1): (6, 0)}, today)
    assert len(rows) == 14 and rows[0]["day"] == "03-02 周一"
    assert (rows[0]["answered_width"], rows[0]["abstained_width"], rows[0]["rate"]) == ("w75", "w25", "25%")
    assert (rows[1]["answered_width"], rows[1]["abstained_width"]) == ("w15", "w0")


@pytest.fixture
def console_settings(console_settings: Settings) -> Settings:
    """A small WeChat template quota, so that a few queued reminders exceed it."""
    return console_settings.model_copy(update={"wechat_daily_quota_template": 3, "wechat_app_id": APP_ID})


async def test_the_dashboard_says_which_reminders_the_daily_quota_leaves_behind(
    app: Starlette, signed_in: SignedIn
) -> None:
    db: Database = app.state.runtime.db
    at = NOW.astimezone(dt.UTC)
    # Reminders queued for two days ago and for tomorrow.
    days = {NOW.date() + dt.timedelta(days=-2): 4, NOW.date() + dt.timedelta(days=1): 8}
    rows = waiting_reminders(days, due_at=at)
    async with db.transaction() as session:
        await enqueue(session, rows, now=at)
    page = (await (await signed_in("admin")).get("/admin/")).text
    assert "微信 模板消息：今日已用 0 / 3" in page
    # Two days ago is over: those 4 were never sent. Tomorrow's 8 have today's 3 and tomorrow's 3.
    assert "截止日 2026-02-28 的 4 条提醒未能在截止前发出" in page
    assert "按当前配额，截止日 2026-03-03 的 2 条提醒将无法在截止前发出" in page
    assert page.count('<li class="warning">') == 2, "the two findings stand out; today's use does not"
