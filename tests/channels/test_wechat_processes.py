"""Separate processes against a fake WeChat API on loopback: `python -m bot serve --workers 2` sharing
one access_token, and `python -m bot wechat menu` (one test runs it as a new process, the others
inside this one: tests/cli.py)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx

from tests.channels.conftest import free_port, serving
from tests.channels.fake_wechat import APP_ID, SECRET, FakeWeChatApi
from tests.channels.test_wechat import TOKEN, query, text_xml
from tests.cli import in_process

ROOT = Path(__file__).resolve().parents[2]


def bot_env(tmp_path: Path, database_url: str, api: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": SECRET,
        "WECHAT_API_BASE_URL": api + "/",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def run_bot(*args: str, env: dict[str, str], subprocess: bool = False) -> tuple[int, str, str]:
    if not subprocess:
        # The command runs its own event loop; this one keeps serving the fake API meanwhile.
        done = await asyncio.to_thread(in_process, *args, env=env)
        return done.returncode, done.stdout, done.stderr
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def both_workers_ready(base: str) -> None:
    """Waits until two different worker processes have answered /healthz (each on a new connection,
    so that the kernel can hand it to either)."""
    workers: set[int] = set()
    for _ in range(600):
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as probe:
                response = await probe.get("/healthz")
                if response.status_code == 200:
                    workers.add(response.json()["worker"])
        except httpx.TransportError:
            pass
        if len(workers) == 2:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"workers ready: {workers}")


async def test_two_workers_share_one_access_token(tmp_path: Path, database_url: str) -> None:
    fake = FakeWeChatApi(token_delay=0.5)  # a slow token endpoint widens the window for a race
    port = free_port()
    async with serving(fake.app) as api:
        env = bot_env(tmp_path, database_url, api, REPLY_BUDGET_SECONDS="0", BOT_NOW="2017-09-27")
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2", cwd=ROOT, env=env
        )
        try:
            # No keep-alive: every message is a new connection that either worker may accept.
            fresh = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=fresh) as client:
                await both_workers_ready(f"http://127.0.0.1:{port}")
                # Every reply goes out as a customer-service message (budget 0). The first round
                # races both workers for the token; later rounds go on until both have sent.
                sent = 0
                for round_ in range(20):
                    batch = [
                        client.post(
                            "/wechat", params=query(), content=text_xml("帮助", f"7{round_:02d}{i:03d}", f"oU{i}")
                        )
                        for i in range(30 if round_ == 0 else 5)
                    ]
                    responses = await asyncio.gather(*batch)
                    assert all(r.text == "success" for r in responses)
                    sent += len(batch)
                    for _ in range(300):
                        if len(fake.sent) >= sent:
                            break
                        await asyncio.sleep(0.05)
                    if len(set(fake.agents)) >= 2:
                        break
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), timeout=30)
    assert len(fake.sent) == sent, "every reply was delivered once"
    assert len(set(fake.agents)) == 2, "both worker processes sent messages"
    assert len(fake.token_calls) == 1, "one token fetch for both workers"
    assert fake.rejected_tokens == 0


async def test_menu_command_creates_the_configured_menu(tmp_path: Path, database_url: str) -> None:
    fake = FakeWeChatApi()
    async with serving(fake.app) as api:
        code, out, err = await run_bot("wechat", "menu", env=bot_env(tmp_path, database_url, api), subprocess=True)
        assert code == 0, err
        assert "自定义菜单已创建" in out
        [menu] = fake.menus
        keys = [b.get("key") for b in menu["button"]] + [
            s["key"] for b in menu["button"] for s in b.get("sub_button", [])
        ]
        assert {k for k in keys if k} == {"QA", "WITHDRAW", "MY_REQUESTS", "REMIND", "HUMAN"}
        assert menu["button"][0]["name"] == "政策问答"

        # A second command reuses the stored token instead of fetching (and revoking) another.
        code, _, err = await run_bot("wechat", "menu", env=bot_env(tmp_path, database_url, api))
        assert code == 0, err
        assert len(fake.menus) == 2 and len(fake.token_calls) == 1


async def test_menu_command_refuses_a_bad_menu_and_sends_nothing(tmp_path: Path, database_url: str) -> None:
    fake = FakeWeChatApi()
    bad = {"button": [{"type": "click", "name": "查询", "key": "NOPE"}] * 4}
    async with serving(fake.app) as api:
        env = bot_env(tmp_path, database_url, api, WECHAT_MENU=json.dumps(bad, ensure_ascii=False))
        code, _, err = await run_bot("wechat", "menu", env=env)
        assert code == 1 and "1–3 个一级按钮" in err and "Traceback" not in err
        bad["button"] = bad["button"][:1]
        code, _, err = await run_bot("wechat", "menu", env={**env, "WECHAT_MENU": json.dumps(bad)})
        assert code == 1 and "NOPE" in err
        code, out, _ = await run_bot("wechat", "menu", "--dry-run", env={**env, "WECHAT_MENU": ""})
    assert fake.menus == [] and fake.token_calls == []
    assert code == 0 and json.loads(out)["button"][1]["key"] == "WITHDRAW"


async def test_menu_command_reports_an_api_refusal(tmp_path: Path, database_url: str) -> None:
    fake = FakeWeChatApi()
    async with serving(fake.app) as api:
        env = bot_env(tmp_path, database_url, api, WECHAT_APP_SECRET="wrong")
        code, _, err = await run_bot("wechat", "menu", env=env)
    assert code == 1 and "40013" in err and "Traceback" not in err
