"""The example alert rules (deploy/prometheus/alerts.yml) name only metrics a running server exports,
so they cannot silently watch nothing; promtool (from Debian's prometheus package, unpacked by .ci/run)
checks them and runs their unit tests (alerts_test.yml): each fires on its situation and not on the
look-alike, such as a queue held back by a spent quota."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from storage.outbox import Planned, enqueue
from storage.outbox.quotas import add_used, mark_exhausted
from tests.channels.conftest import serving
from tests.channels.fake_wechat import APP_ID
from tests.dialogs import Chat, dialog, make_id_number

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (.ci/run unpacks it)")
def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    promtool = shutil.which("promtool")
    assert promtool
    for args in (("check", "rules", RULES.name), ("test", "rules", "alerts_test.yml")):
        done = subprocess.run([promtool, *args], cwd=RULES.parent, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout


async def test_every_alert_names_metrics_the_server_exports(make_app: Callable[..., Starlette]) -> None:
    rules = [r for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for r in group["rules"]]
    assert {r["alert"] for r in rules} >= {"BotOutboxStuck", "BotHandoffUnanswered", "BotDeliveriesFailing"}
    async with serving(make_app()) as url, httpx.AsyncClient(base_url=url) as client:
        await client.post("/api/chat")  # refused, but the process is warm
        exported = (await client.get("/metrics")).text
    families = set(re.findall(r"^# TYPE (\S+) ", exported, re.M))
    families |= {f.removesuffix("_total") for f in families} | {f + "_total" for f in families}
    for rule in rules:
        for name in set(re.findall(r"\bbot_[a-z_]+", rule["expr"])):
            assert name in families, f"{rule['alert']} watches {name}, which /metrics does not export"
    for metric in ("bot_outbox_depth", "bot_handoffs_open", "bot_requests_awaiting_review", "bot_knowledge_info"):
        assert metric in exported


async def test_the_metrics_hold_what_the_database_holds(make_app: Callable[..., Starlette]) -> None:
    app = make_app(wechat_app_id=APP_ID)  # an account that can send: its quotas are configured
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        runtime = app.state.runtime
        chat = Chat(runtime.engine, user="m1", channel="test")
        for line in [*dialog("广州", "秘书", "2017年10月15日", make_id_number(seq=55)), "确认弃考"]:
            await chat.say(line)
        await chat.say("转人工")
        past = runtime.clock() - dt.timedelta(minutes=30)
        async with runtime.db.transaction() as session:
            await enqueue(session, [Planned("stuck-1", "web", "u9", "reminder", "提醒", due_at=past)], now=past)
            today = dt.date(2017, 9, 27)
            await add_used(session, Counter({("wechat", "template"): 7, ("wechat", "custom"): 2}), day=today)
            await mark_exhausted(session, "wechat", "template", day=today, at=past)
        text = (await client.get("/metrics")).text
    assert 'bot_outbox_depth{channel="web"} 1.0' in text
    age = re.search(r'bot_outbox_oldest_due_seconds\{channel="web"\} ([0-9.]+)', text)
    assert age and 1790 <= float(age.group(1)) <= 1810
    assert "bot_handoffs_open 1.0" in text and "bot_requests_awaiting_review 1.0" in text
    assert 'bot_send_quota_used{channel="wechat",route="template"} 7.0' in text
    assert 'bot_send_quota_exhausted{channel="wechat",route="template"} 1.0' in text
    assert 'bot_send_quota_exhausted{channel="wechat",route="custom"} 0.0' in text
    assert 'bot_send_quota_limit{channel="wechat",route="custom"} 500000.0' in text
