"""The example alert rules (deploy/prometheus/alerts.yml) name only metrics a running server exports,
so they cannot silently watch nothing. (promtool is not packaged on these machines; the rules' syntax
is Prometheus's ordinary YAML, read here.)"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml
from starlette.applications import Starlette

from storage.outbox import Planned, enqueue
from tests.channels.conftest import serving
from tests.dialogs import Chat, dialog, make_id_number

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"


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
    app = make_app()
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        runtime = app.state.runtime
        chat = Chat(runtime.engine, user="m1", channel="test")
        for line in [*dialog("广州", "秘书", "2017年10月15日", make_id_number(seq=55)), "确认弃考"]:
            await chat.say(line)
        await chat.say("转人工")
        past = runtime.clock() - dt.timedelta(minutes=30)
        async with runtime.db.transaction() as session:
            await enqueue(session, [Planned("stuck-1", "web", "u9", "reminder", "提醒", due_at=past)], now=past)
        text = (await client.get("/metrics")).text
    assert 'bot_outbox_depth{channel="web"} 1.0' in text
    age = re.search(r'bot_outbox_oldest_due_seconds\{channel="web"\} ([0-9.]+)', text)
    assert age and 1790 <= float(age.group(1)) <= 1810
    assert "bot_handoffs_open 1.0" in text and "bot_requests_awaiting_review 1.0" in text
