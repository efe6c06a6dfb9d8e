"""The Host header, HSTS and trusted proxies, on `python -m bot serve` itself: a foreign Host gets no
redirect to itself, HTTPS (as a trusted proxy reports it) gets HSTS, and X-Forwarded-* from an
address that is not a configured proxy is ignored."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.channels.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def bot_server(tmp_path: Path, **env: str) -> AsyncIterator[str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--port",
        str(port),
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(tmp_path), "REMINDERS_ENABLED": "false", "LOG_LEVEL": "WARNING", **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                async with httpx.AsyncClient(base_url=base) as probe:
                    if (await probe.get("/healthz")).status_code == 200:
                        break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("the server did not start")
        yield base
    finally:
        process.terminate()
        await process.wait()


async def test_host_validation_hsts_and_trusted_proxies(tmp_path: Path) -> None:
    env = {"TRUSTED_HOSTS": "bot.example.cn,127.0.0.1", "TRUSTED_PROXIES": "127.0.0.1"}
    async with bot_server(tmp_path / "a", **env) as base, httpx.AsyncClient(base_url=base) as client:
        for path in ("/", "/admin", "/admin/", "/admin/requests"):
            evil = await client.get(path, headers={"Host": "evil.example"})
            assert evil.status_code == 400 and "evil.example" not in evil.headers.get("location", ""), path
        slash = await client.get("/admin", headers={"Host": "bot.example.cn"})
        assert slash.headers["location"] == "http://bot.example.cn/admin/", "the redirect that once went anywhere"
        ok = await client.get("/admin/", headers={"Host": "bot.example.cn"})
        assert ok.status_code == 303 and ok.headers["location"].startswith("/admin/login")
        assert "strict-transport-security" not in ok.headers, "plain HTTP gets no HSTS"
        https = await client.get("/", headers={"Host": "bot.example.cn", "X-Forwarded-Proto": "https"})
        assert https.status_code == 200 and https.headers["strict-transport-security"].startswith("max-age=")

    # The same header from an address that is not a configured proxy is not believed.
    untrusted = {**env, "TRUSTED_PROXIES": "10.9.9.9"}
    async with bot_server(tmp_path / "b", **untrusted) as base, httpx.AsyncClient(base_url=base) as client:
        forged = await client.get("/", headers={"Host": "bot.example.cn", "X-Forwarded-Proto": "https"})
        assert forged.status_code == 200 and "strict-transport-security" not in forged.headers
