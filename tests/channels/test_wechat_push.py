"""Proactive WeChat messages against a fake API on loopback: the 48-hour window decides between a
customer-service and a template message; error codes become retry, failed or unreachable."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.wechat_api import WeChatApi, new_http_session
from bot.channels.wechat_push import TEMPLATE_FIELD_MAX, WeChatPush, template_value
from bot.config import Settings, WeChatTemplate
from handlers.messages import Outbound
from storage.api_tokens import SharedToken
from storage.database import Database
from storage.pii import PiiCipher
from tests.channels.conftest import free_port, serving
from tests.channels.fake_wechat import APP_ID, SECRET, FakeWeChatApi

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
REMINDER = WeChatTemplate(
    template_id="TPL-reminder", fields={"thing1": "title", "time2": "date", "thing3": "source"}, url=None
)
MESSAGE = Outbound(
    text="提醒：广州市退考退费登记将于2017年9月30日截止。\n来源：穗人社函〔2017〕145号",
    kind="reminder",
    fields={
        "title": "广州市职业技能鉴定退考退费登记截止\n（请尽快办理）",
        "date": "2017年9月30日",
        "source": "穗人社函〔2017〕145号",
    },
)


@pytest.fixture
async def fake_and_push(db: Database, tmp_path: Path) -> AsyncIterator[tuple[FakeWeChatApi, WeChatPush]]:
    fake = FakeWeChatApi()
    async with serving(fake.app) as base, new_http_session() as client:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_api_base_url=base
        )
        token = SharedToken(db, PiiCipher(secrets.token_bytes(32)), f"wechat:{APP_ID}")
        yield fake, WeChatPush(WeChatApi(settings, client, token), {"reminder": REMINDER})


def test_template_values_are_one_short_line() -> None:
    assert template_value("第一行\n第二行") == "第一行 第二行"
    long = template_value("广州市职业技能鉴定指导中心关于二〇一七年退考退费登记的补充说明")
    assert len(long) == TEMPLATE_FIELD_MAX and long.endswith("…")
    assert template_value("  9月30日 ") == "9月30日"


async def test_inside_the_window_a_customer_service_message_carries_the_full_text(
    fake_and_push: tuple[FakeWeChatApi, WeChatPush],
) -> None:
    fake, push = fake_and_push
    delivery = await push.send("oUser1", MESSAGE, last_seen=NOW - dt.timedelta(hours=47), now=NOW)
    assert (delivery.status, delivery.via) == ("sent", "custom")
    assert fake.sent == [{"touser": "oUser1", "msgtype": "text", "text": {"content": MESSAGE.text}}]
    assert fake.templates == []


async def test_outside_the_window_a_template_message_with_short_fields(
    fake_and_push: tuple[FakeWeChatApi, WeChatPush],
) -> None:
    fake, push = fake_and_push
    delivery = await push.send("oUser1", MESSAGE, last_seen=NOW - dt.timedelta(hours=49), now=NOW)
    assert (delivery.status, delivery.via) == ("sent", "template")
    assert fake.sent == []
    [sent] = fake.templates
    assert sent["template_id"] == "TPL-reminder" and sent["touser"] == "oUser1"
    values = {key: item["value"] for key, item in sent["data"].items()}
    assert values["time2"] == "2017年9月30日" and values["thing3"] == "穗人社函〔2017〕145号"
    assert all(len(v) <= 20 and "\n" not in v for v in values.values())
    assert values["thing1"].startswith("广州市职业技能鉴定退考退费登记截止")


async def test_a_user_never_seen_gets_a_template(fake_and_push: tuple[FakeWeChatApi, WeChatPush]) -> None:
    fake, push = fake_and_push
    assert (await push.send("oNew", MESSAGE, last_seen=None, now=NOW)).via == "template"


async def test_window_closed_on_wechat_side_falls_back_to_a_template(
    fake_and_push: tuple[FakeWeChatApi, WeChatPush],
) -> None:
    fake, push = fake_and_push
    fake.custom_errors["oUser1"] = 45015
    delivery = await push.send("oUser1", MESSAGE, last_seen=NOW - dt.timedelta(hours=1), now=NOW)
    assert (delivery.status, delivery.via) == ("sent", "template") and len(fake.templates) == 1


async def test_outside_the_window_without_a_template_fails_with_the_reason(
    fake_and_push: tuple[FakeWeChatApi, WeChatPush],
) -> None:
    fake, push = fake_and_push
    other = Outbound(text="您的退费申请已通过", kind="request_status", fields={"title": "退费申请已通过"})
    delivery = await push.send("oUser1", other, last_seen=NOW - dt.timedelta(days=3), now=NOW)
    assert delivery.status == "failed" and "request_status" in (delivery.error or "")
    assert fake.sent == [] and fake.templates == []


@pytest.mark.parametrize(
    ("errcode", "status"),
    [(43004, "unreachable"), (40003, "unreachable"), (-1, "retry"), (45009, "retry"), (40035, "failed")],
)
async def test_error_codes_tell_the_caller_what_to_do(
    fake_and_push: tuple[FakeWeChatApi, WeChatPush], errcode: int, status: str
) -> None:
    fake, push = fake_and_push
    fake.custom_errors["oUser1"] = errcode
    delivery = await push.send("oUser1", MESSAGE, last_seen=NOW - dt.timedelta(hours=1), now=NOW)
    assert delivery.status == status and str(errcode) in (delivery.error or "")


async def test_a_revoked_token_is_replaced_and_the_message_still_sent(
    fake_and_push: tuple[FakeWeChatApi, WeChatPush],
) -> None:
    fake, push = fake_and_push
    await push.send("oUser1", MESSAGE, last_seen=NOW, now=NOW)
    fake.invalidate_token()
    delivery = await push.send("oUser2", MESSAGE, last_seen=NOW, now=NOW)
    assert delivery.ok and [m["touser"] for m in fake.sent] == ["oUser1", "oUser2"]
    assert [call["force_refresh"] for call in fake.token_calls] == [False, True]


async def test_an_unreachable_api_is_a_transient_failure(db: Database, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        wechat_app_id=APP_ID,
        wechat_app_secret=SECRET,
        wechat_api_base_url=f"http://127.0.0.1:{free_port()}/",
    )
    async with new_http_session(timeout=2) as client:
        token = SharedToken(db, PiiCipher(secrets.token_bytes(32)), f"wechat:{APP_ID}")
        push = WeChatPush(WeChatApi(settings, client, token), {"reminder": REMINDER})
        delivery = await push.send("oUser1", MESSAGE, last_seen=NOW, now=NOW)
    assert delivery.status == "retry" and "ClientConnectorError" in (delivery.error or "")


async def test_access_token_fetches_are_counted_ok_and_failed(db: Database, tmp_path: Path) -> None:
    fake = FakeWeChatApi()
    fetched: list[str] = []
    async with serving(fake.app) as base, new_http_session() as client:
        for app_id, cache in ((APP_ID, "a"), ("wx0000000000000000", "b")):  # the second: an AppID WeChat refuses
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                data_dir=tmp_path,
                wechat_app_id=app_id,
                wechat_app_secret=SECRET,
                wechat_api_base_url=base,
            )
            token = SharedToken(db, PiiCipher(secrets.token_bytes(32)), f"wechat:{cache}")
            push = WeChatPush(WeChatApi(settings, client, token, on_token=fetched.append), {"reminder": REMINDER})
            await push.send("oUser1", Outbound("提醒", kind="reminder"), last_seen=NOW, now=NOW)
    assert fetched == ["ok", "failed"]
