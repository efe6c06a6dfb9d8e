"""`python -m benchmarks.reminders`: 100,000 subscribers, the real planner and dispatcher sending through
the real WeChatPush to a fake WeChat API in another process on loopback, under a send-rate limit.

Prints the planner's time, the achieved send rate as a fraction of the limit, the benchmark
process's peak RSS, and duplicates and losses as counted by the fake API.
"""

from __future__ import annotations

import argparse
import asyncio
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
from sqlalchemy import insert
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
from storage.models import Subscription
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


async def _subscribe(db_url: str, count: int) -> None:
    db = await prepare_database(db_url)
    try:
        for start in range(0, count, 5000):
            async with db.transaction() as session:
                await session.execute(
                    insert(Subscription),
                    [
                        {
                            "channel": "wechat",
                            "user_id": f"oBench{i:06d}",
                            "region": "吉林省",
                            "exam_kind": "全国统一鉴定",
                            "active": True,
                            "created_at": START,
                        }
                        for i in range(start, min(count, start + 5000))
                    ],
                )
    finally:
        await db.dispose()


async def _run(args: argparse.Namespace, db_url: str, api: str) -> int:
    interpreter.tune_switch_interval()  # as the server does
    await _subscribe(db_url, args.subscribers)
    db = Database(db_url)
    kb = KnowledgeBase.load()
    clock = _Clock()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, wechat_app_id=APP_ID, wechat_app_secret=SecretStr(SECRET), wechat_api_base_url=api + "/"
    )
    templates = {"reminder": WeChatTemplate(template_id="TPL", fields={"thing1": "title", "time2": "date"})}
    try:
        async with new_http_session(connections=16) as client:
            token = SharedToken(db, PiiCipher(secrets.token_bytes(32)), f"wechat:{APP_ID}")
            push = WeChatPush(WeChatApi(settings, client, token), templates)
            planner = Planner(KnowledgeHolder(KnowledgeSnapshot(kb, PolicyQA(kb))), db, clock, DEFAULT_SCHEDULE)
            started = time.perf_counter()
            plan = await planner.run_once()
            plan_seconds = time.perf_counter() - started
            print(
                f"planner: {plan.subscriptions:,} subscriptions → {plan.created:,} outbox rows "
                f"in {plan_seconds:.1f} s ({plan.subscriptions / plan_seconds:,.0f} subscriptions/s)"
            )
            dispatcher = Dispatcher(
                db, {"wechat": push}, clock, DEFAULT_SCHEDULE.rules, rates={"wechat": args.rate}, worker="bench"
            )
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
    finally:
        await db.dispose()
    rate = sent / seconds
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    due = args.subscribers
    share = rate / args.rate
    print(f"dispatcher: {sent:,} sent in {seconds:.1f} s = {rate:,.0f} msg/s, {share:.1%} of the {args.rate:,.0f}/s")
    print(f"dispatcher CPU (all threads of this process): {cpu / max(sent, 1) * 1000:.2f} ms per message")
    print(f"peak RSS of this process: {rss:.0f} MB")
    print(
        f"fake API: {counts['total']:,} received, {counts['distinct']:,} distinct users, "
        f"duplicates {counts['total'] - counts['distinct']}, lost {due - counts['distinct']}"
    )
    ok = rate / args.rate >= 0.95 and rss <= 250 and counts["total"] == counts["distinct"] == due
    print(
        f"targets: rate ≥ 95% of limit {'met' if rate / args.rate >= 0.95 else 'MISSED'}; "
        f"RSS ≤ 250 MB {'met' if rss <= 250 else 'MISSED'}; "
        f"duplicates 0 and none lost {'met' if counts['total'] == counts['distinct'] == due else 'MISSED'}"
    )
    return 0 if ok else 1


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
    parser.add_argument("--database-url", help="数据库地址；警告：PostgreSQL 会先清空 public 模式！默认临时 SQLite")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_reminders_bench(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
