"""`python -m benchmarks.reminders`: 100,000 subscribers, the real planner and dispatcher sending through
the real WeChatPush to a fake WeChat API in another process on loopback, under a send-rate limit.

Prints the planner's time, the achieved send rate as a fraction of the limit, the benchmark
process's peak RSS, and duplicates and losses as counted by the fake API. With `--quota N`, the
subscribers' reminders fall on three dates and WeChat's template quota is N a day: it also checks that
exactly N were sent, all of the nearest dates, and prints the staff's report of what is left.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import func, insert, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from benchmarks.common import child_env, free_port, machine, prepare_database
from bot import interpreter
from bot.channels.wechat_api import WeChatApi, new_http_session
from bot.channels.wechat_push import WeChatPush
from bot.config import Settings, WeChatTemplate
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.planner import Planner
from handlers.reminder_schedule import DEFAULT_SCHEDULE
from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from knowledge.timezone import SHANGHAI
from storage.api_tokens import SharedToken
from storage.database import Database
from storage.models import OutboxMessage, Subscription
from storage.outbox import outlook_lines, quota_outlook
from storage.pii import PiiCipher

APP_ID, SECRET = "wxbenchreminders", "bench-secret"
START = dt.datetime(2026, 9, 4, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
"""One day before Jilin's registration opens: every subscriber has exactly one reminder due."""


def fake_api() -> Starlette:
    """Accepts template and custom messages and counts them per user; nothing else."""
    counts: Counter[str] = Counter()

    async def token(request: Request) -> JSONResponse:
        return JSONResponse({"access_token": "BENCH-TOKEN", "expires_in": 7200})

    async def send(request: Request) -> JSONResponse:
        counts[(await request.json())["touser"]] += 1
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(
            {"total": sum(counts.values()), "distinct": len(counts), "max": max(counts.values(), default=0)}
        )

    return Starlette(
        routes=[
            Route("/cgi-bin/stable_token", token, methods=["POST"]),
            Route("/cgi-bin/message/template/send", send, methods=["POST"]),
            Route("/cgi-bin/message/custom/send", send, methods=["POST"]),
            Route("/stats", stats),
        ]
    )


class _Clock:
    """Business time stands at 09:00 on the day; the benchmark measures real seconds separately."""

    def __call__(self) -> dt.datetime:
        return START


def _subscriber(i: int, quota: bool) -> dict[str, object]:
    """Without a quota: a subscriber of 吉林, one reminder due each. With one: a candidate in 广州 with
    their own exam date, so that reminders of three dates compete for the quota: 5% sit their exam
    today, 10% tomorrow (one reminder today, one tomorrow), 85% in a week."""
    if not quota:
        return {"region": "吉林省", "exam_kind": "全国统一鉴定"}
    share = i % 20
    days = 0 if share == 0 else 1 if share <= 2 else 7
    return {"region": "广州市", "exam_date": START.astimezone(SHANGHAI).date() + dt.timedelta(days=days)}


async def _subscribe(db_url: str, count: int, *, quota: bool) -> None:
    db = await prepare_database(db_url)
    try:
        for start in range(0, count, 5000):
            async with db.transaction() as session:
                await session.execute(
                    insert(Subscription),
                    [
                        {
                            "channel": "wechat",
                            "user_id": f"oBench{i:07d}",
                            "active": True,
                            "created_at": START,
                            **_subscriber(i, quota),
                        }
                        for i in range(start, min(count, start + 5000))
                    ],
                )
    finally:
        await db.dispose()


async def _urgency_order(db: Database, now: dt.datetime) -> tuple[dt.date | None, dt.date | None, int]:
    """(the latest date sent, the earliest date still waiting and due, how many wait): the quota went to
    the most urgent when the first is no later than the second."""
    o = OutboxMessage
    async with db.sessions() as session:
        sent = (await session.execute(select(func.max(o.event_day)).where(o.status == "sent"))).scalar()
        due = (o.status == "pending") & (o.next_attempt_at <= now)
        waiting = (await session.execute(select(func.min(o.event_day), func.count()).where(due))).one()
    return sent, waiting[0], int(waiting[1])


async def _run(args: argparse.Namespace, db_url: str, api: str) -> int:
    interpreter.tune_switch_interval()  # as the server does
    quota = args.quota is not None
    await _subscribe(db_url, args.subscribers, quota=quota)
    db = Database(db_url)
    kb = KnowledgeBase.load()
    clock = _Clock()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, wechat_app_id=APP_ID, wechat_app_secret=SecretStr(SECRET), wechat_api_base_url=api + "/"
    )
    templates = {"reminder": WeChatTemplate(template_id="TPL", fields={"thing1": "title", "time2": "date"})}
    rules = DEFAULT_SCHEDULE.rules
    if quota:
        rules = dataclasses.replace(rules, quotas={"wechat": {"template": args.quota, "custom": args.quota * 5}})
    try:
        async with new_http_session(connections=16) as client:
            token = SharedToken(db, PiiCipher(secrets.token_bytes(32)), f"wechat:{APP_ID}")
            push = WeChatPush(WeChatApi(settings, client, token), templates)
            planner = Planner(KnowledgeHolder(KnowledgeSnapshot(kb, PolicyQA(kb))), db, clock, DEFAULT_SCHEDULE)
            started = time.perf_counter()
            plan = await planner.run_once()
            plan_seconds = time.perf_counter() - started
            plan_rss = _rss()
            print(
                f"planner: {plan.subscriptions:,} subscriptions → {plan.created:,} outbox rows "
                f"in {plan_seconds:.1f} s ({plan.subscriptions / plan_seconds:,.0f} subscriptions/s); "
                f"peak RSS so far {plan_rss:.0f} MB"
            )
            dispatcher = Dispatcher(db, {"wechat": push}, clock, rules, rates={"wechat": args.rate}, worker="bench")
            sent = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            while True:
                stats = await dispatcher.run_once(budget=3600)
                sent += stats.sent
                if not (stats.sent or stats.retried):
                    break
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            counts = httpx.get(api + "/stats").json()
            latest_sent, earliest_waiting, waiting = await _urgency_order(db, clock())
            started = time.perf_counter()
            async with db.sessions() as session:
                outlooks = await quota_outlook(session, rules, now=clock())
            outlook_seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    rate = sent / seconds
    rss = _rss()
    due = min(args.quota, plan.created) if quota else args.subscribers
    share = rate / args.rate
    print(f"dispatcher: {sent:,} sent in {seconds:.1f} s = {rate:,.0f} msg/s, {share:.1%} of the {args.rate:,.0f}/s")
    print(f"dispatcher CPU (all threads of this process): {cpu / max(sent, 1) * 1000:.2f} ms per message")
    print(f"peak RSS of this process: {rss:.0f} MB")
    print(
        f"fake API: {counts['total']:,} received, {counts['distinct']:,} distinct users, "
        f"duplicates {counts['total'] - counts['distinct']}, lost {due - counts['distinct']}"
    )
    rss_target = 300 if quota else 250
    checks = {
        "rate ≥ 95% of limit": share >= 0.95,
        f"RSS ≤ {rss_target} MB": rss <= rss_target,
        "duplicates 0 and none lost": counts["total"] == counts["distinct"] == due,
    }
    if quota:
        print(
            f"quota {args.quota:,}: {sent:,} sent; latest date sent {latest_sent}, earliest date still waiting "
            f"{earliest_waiting} ({waiting:,} due and waiting)"
        )
        print(f"report ({outlook_seconds:.2f} s to compute):")
        for outlook in outlooks:
            for line in outlook_lines(outlook):
                print(f"  {line}")
        checks["exactly the quota sent"] = sent == due
        checks["the most urgent first"] = earliest_waiting is None or (
            latest_sent is not None and latest_sent <= earliest_waiting
        )
        checks["the rest reported"] = waiting == 0 or any(o.at_risk or o.queued for o in outlooks)
    print("targets: " + "; ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in checks.items()))
    return 0 if all(checks.values()) else 1


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_reminders_bench(args: argparse.Namespace) -> int:
    print(machine())
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.reminders:fake_api",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=child_env(),
    )
    api = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(api + "/stats")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            # The server runs the dispatcher on uvicorn's loop, which is uvloop where it is installed.
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                return runner.run(_run(args, url, api))
    finally:
        server.terminate()
        server.wait()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reminders",
        description="十万订阅者的规划与限速发送：规划耗时、发送速率、峰值内存、重复",
    )
    parser.add_argument("--subscribers", type=int, default=100_000, help="订阅者人数（默认 100000）")
    parser.add_argument("--rate", type=float, default=1000.0, help="发送速率上限，条/秒（默认 1000）")
    parser.add_argument(
        "--quota", type=int, help="微信模板消息每日额度：订阅者改为三种考试日期，检查额度先给最紧急的、其余被报告"
    )
    parser.add_argument("--database-url", help="数据库地址；警告：PostgreSQL 会先清空 public 模式！默认临时 SQLite")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_reminders_bench(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
