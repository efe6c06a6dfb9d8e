"""`python -m bot bench wechat`: signed, encrypted WeChat text messages posted over loopback to a
running server, and in the same run to a bare endpoint that only verifies, decrypts and echoes with
wechatpy: the floor our stack cannot beat.

Both servers run as separate processes (`python -m bot serve` on a temporary SQLite database, and
uvicorn with `echo_app`), so the load generator does not share their CPU time slices unfairly.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

TOKEN = "benchtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wxbench0000000000"
QUESTIONS = (
    "广州退考退费登记截止到哪天？",
    "钳工还能报名吗",
    "吉林技师理论考试多长时间",
    "退费怎么退给我",
    "帮助",
    "福建电工退出目录了吗",
)


def echo_app() -> Starlette:
    """Verify, decrypt, parse and answer with an encrypted echo: nothing else."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    async def endpoint(request: Request) -> Response:
        q = request.query_params
        expected = hashlib.sha1("".join(sorted([TOKEN, q["timestamp"], q["nonce"]])).encode()).hexdigest()
        if expected != q.get("signature"):
            return PlainTextResponse("invalid signature", status_code=403)
        xml = crypto.decrypt_message(await request.body(), q["msg_signature"], q["timestamp"], q["nonce"])
        message = parse_message(xml)
        reply = TextReply(content=str(message.content), message=message).render()
        return Response(crypto.encrypt_message(reply, q["nonce"], q["timestamp"]), media_type="application/xml")

    return Starlette(routes=[Route("/wechat", endpoint, methods=["POST"])])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _requests(count: int, users: int, first_id: int = 10_000_000) -> list[tuple[dict[str, str], str]]:
    """Pre-built (query, body) pairs, so that building them is not timed."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    out = []
    for i in range(count):
        timestamp, nonce = str(1700000000 + i), str(100000 + i)
        xml = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[user{i % users}]]>"
            f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{QUESTIONS[i % len(QUESTIONS)]}]]></Content><MsgId>{first_id + i}</MsgId></xml>"
        )
        sealed = crypto.encrypt_message(xml, nonce, timestamp)
        msg_signature = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", sealed)
        assert msg_signature
        query = {
            "signature": _sign(TOKEN, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": f"user{i % users}",
            "encrypt_type": "aes",
            "msg_signature": msg_signature.group(1),
        }
        out.append((query, sealed))
    return out


async def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def _load(base: str, requests: list[tuple[dict[str, str], str]], clients: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[tuple[dict[str, str], str]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                query, body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.post(f"{base}/wechat", params=query, content=body)
                    ok = response.status_code == 200 and "<Encrypt>" in response.text
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "throughput": len(requests) / wall,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "mean": statistics.fmean(latencies) * 1000,
        "errors": errors,
    }


async def _handled_count(base: str) -> int:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base}/metrics")).text
    return int(sum(float(m) for m in re.findall(r'^bot_messages_total\{channel="wechat",[^}]*\} (\S+)$', text, re.M)))


async def _bench(args: argparse.Namespace) -> int:
    requests = _requests(args.messages, args.users)
    warmup = _requests(50, 5, first_id=1)
    env = {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_APP_ID": APP_ID,
        "BOT_NOW": "2017-09-25",
        "LOG_LEVEL": "WARNING",
    }
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-wechat-") as tmp:
        env["DATA_DIR"] = tmp
        env.pop("DATABASE_URL", None)
        for name in ("bare", "bot"):
            port = _free_port()
            if name == "bare":
                cmd = [sys.executable, "-m", "uvicorn", "--factory", "bot.commands.bench_wechat:echo_app"]
                cmd += ["--port", str(port), "--log-level", "warning"]
            else:
                cmd = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
            proc = subprocess.Popen(cmd, env=env, cwd=Path.cwd())
            base = f"http://127.0.0.1:{port}"
            try:
                await _wait_ready(base + ("/healthz" if name == "bot" else "/"), proc)
                await _load(base, warmup, 5)
                results[name] = await _load(base, requests, args.clients)
                if name == "bot":
                    results[name]["handled"] = await _handled_count(base) - len(warmup)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    bare, bot = results["bare"], results["bot"]
    print(f"messages: {args.messages} from {args.users} users, {args.clients} concurrent clients, one worker, SQLite")
    for name, r in results.items():
        print(
            f"{name:>4}: {r['throughput']:.0f} msg/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
            f"mean {r['mean']:.1f} ms, errors {int(r['errors'])}"
        )
    ratio = bot["throughput"] / bare["throughput"]
    print(f"throughput ratio bot/bare: {ratio:.0%} (目标 ≥ 50%：{'达标' if ratio >= 0.5 else '未达标'})")
    print(f"bot p99: {bot['p99']:.1f} ms (目标 ≤ 100 ms：{'达标' if bot['p99'] <= 100 else '未达标'})")
    handled = int(bot.get("handled", -1))
    print(f"handled by the engine: {handled} of {args.messages} (each exactly once: {handled == args.messages})")
    failed = bot["errors"] or handled != args.messages
    if failed:
        print("FAIL: errors or messages not handled exactly once")
    return 1 if failed else 0


def run_wechat_bench(args: argparse.Namespace) -> int:
    return asyncio.run(_bench(args))
