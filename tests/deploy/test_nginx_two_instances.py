"""The production layout end to end: the shipped nginx site (deploy/nginx/jianding-bot.conf, rendered
with a self-signed certificate and high ports) terminating TLS in front of two separate
`python -m bot serve` instances on one PostgreSQL database, with the environment of deploy/env.example
and the migration run first, as the systemd units do. Over https: a WeChat message in safe mode is
answered, its retry lands on the other instance and is answered from the record, a staff login gets
Secure cookies and the console loads, a reminder and a broadcast go out once each, and the static files
are nginx's own: still served with both instances stopped."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import ssl
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import func, select
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from storage.database import Database
from storage.models import AuditEntry, HandledMessage, OutboxMessage, Subscription, TranscriptLine
from tests.channels.conftest import serving
from tests.channels.fake_wechat import APP_ID, SECRET
from tests.channels.test_wechat import AES_KEY, TOKEN, query, text_xml
from tests.cli import in_process
from tests.console.conftest import PASSWORD, csrf_in
from tests.deploy.instances import Instance, deployment_env, reported_on_failure, running_instances
from tests.deploy.nginx_site import NGINX, Nginx, free_port, prepare, running
from tests.deploy.recording_api import RecordingWeChatApi
from tests.dialogs import PG_URL

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL: two instances share one PostgreSQL database"),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt install nginx-light)"),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

NOW = "2026-09-04T10:00"
"""BOT_NOW of both instances: daytime in Beijing, so the broadcast is not held for the quiet hours."""
QUESTION = "广州退考退费登记截止到哪天？"
REGION = "西藏自治区"
"""No notice governs it: the subscribers get the broadcast and no reminder besides."""
SUBSCRIBERS = 20
REMINDED = "oRemind1"
"""A subscriber of 吉林's unified exam: at NOW one reminder is due (registration opens on 09-05)."""
TEMPLATES = {
    "broadcast": {"template_id": "TPL-b", "fields": {"thing1": "title", "thing2": "note"}},
    "reminder": {"template_id": "TPL-r", "fields": {"thing1": "title", "time2": "date"}},
}


async def test_two_instances_behind_nginx(tmp_path: Path, database_url: str) -> None:
    fake = RecordingWeChatApi()
    reports: dict[str, Callable[[], str]] = {}
    with reported_on_failure(reports):
        async with serving(fake.app) as api:
            data = tmp_path / "data"
            data.mkdir(mode=0o700)
            env = deployment_env(
                data,
                database_url,
                TRUSTED_HOSTS="localhost,127.0.0.1",
                WECHAT_TOKEN=TOKEN,
                WECHAT_AES_KEY=AES_KEY,
                WECHAT_APP_ID=APP_ID,
                WECHAT_APP_SECRET=SECRET,
                WECHAT_API_BASE_URL=api + "/",
                WECHAT_TEMPLATES=json.dumps(TEMPLATES),
                SCHEDULER_INTERVAL_SECONDS="0.5",
                BOT_NOW=NOW,
            )
            assert env["MIGRATE_ON_START"] == "false", "the instances run as deploy/env.example sets them up"
            # What jianding-bot-migrate.service does before the instances start.
            migrated = await asyncio.to_thread(in_process, "migrate", env=env)
            assert migrated.returncode == 0, migrated.stdout + migrated.stderr
            await _subscribe(database_url)

            ports = (free_port(), free_port())
            nginx = prepare(tmp_path / "nginx", upstreams=ports)
            reports["nginx error log"] = nginx.errors
            async with running_instances(ports, env, tmp_path) as instances, running(nginx):
                for instance in instances:
                    reports[f"instance on {instance.port} (pid {instance.pid})"] = instance.output
                tls = ssl.create_default_context(cafile=str(nginx.values.certificate.cert))
                await _tls_and_http2(nginx, tls)
                await _port_80(nginx)
                async with httpx.AsyncClient(base_url=nginx.base_url(), verify=tls, timeout=15) as client:
                    await _wechat_retry_on_the_other_instance(client, nginx, database_url, ports)
                    await _staff_login(client, env, database_url)
                    await _broadcast_sent_once(client, fake, env, database_url, instances)
                    await _static_files_and_limits(client, nginx)
                for instance in instances:
                    await instance.stop()
                async with httpx.AsyncClient(base_url=nginx.base_url(), verify=tls, timeout=15) as client:
                    css = await client.get("/static/chat.css")
                    assert css.status_code == 200, "static files are nginx's own, with or without the instances"
                    assert (await client.get("/admin/static/console.css")).status_code == 200
                    assert (await client.get("/")).status_code == 502


async def _subscribe(database_url: str) -> None:
    db = Database(database_url)
    at = dt.datetime.fromisoformat(NOW).replace(tzinfo=dt.UTC)
    try:
        async with db.transaction() as session:
            session.add_all(
                Subscription(channel="wechat", user_id=f"oSub{i:03d}", region=REGION, active=True, created_at=at)
                for i in range(SUBSCRIBERS)
            )
            session.add(
                Subscription(
                    channel="wechat",
                    user_id=REMINDED,
                    region="吉林省",
                    exam_kind="全国统一鉴定",
                    active=True,
                    created_at=at,
                )
            )
    finally:
        await db.dispose()


async def _tls_and_http2(nginx: Nginx, tls: ssl.SSLContext) -> None:
    """TLS 1.3 by default, TLS 1.2 for a client that has no more, and HTTP/2 offered by ALPN."""

    async def negotiate(context: ssl.SSLContext) -> tuple[str | None, str | None]:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", nginx.values.https_port, ssl=context, server_hostname=nginx.values.server_name
        )
        secured: ssl.SSLObject = writer.get_extra_info("ssl_object")
        found = secured.version(), secured.selected_alpn_protocol()
        writer.close()
        return found

    modern = ssl.create_default_context(cafile=str(nginx.values.certificate.cert))
    modern.set_alpn_protocols(["h2", "http/1.1"])
    assert await negotiate(modern) == ("TLSv1.3", "h2")
    older = ssl.create_default_context(cafile=str(nginx.values.certificate.cert))
    older.maximum_version = ssl.TLSVersion.TLSv1_2
    assert (await negotiate(older))[0] == "TLSv1.2"


async def _port_80(nginx: Nginx) -> None:
    """Port 80 answers the certificate's ACME challenge and sends the rest to https; other names get nothing."""
    challenge = nginx.values.acme_root / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True)
    (challenge / "token-1").write_text("token-1.thumbprint")
    plain = f"http://127.0.0.1:{nginx.values.http_port}"
    async with httpx.AsyncClient(base_url=plain, headers={"Host": nginx.values.server_name}) as client:
        acme = await client.get("/.well-known/acme-challenge/token-1")
        assert acme.status_code == 200 and acme.text == "token-1.thumbprint"
        moved = await client.get("/admin/?x=1")
        assert moved.status_code == 301
        assert moved.headers["location"] == f"https://{nginx.values.server_name}/admin/?x=1"
        with pytest.raises(httpx.RemoteProtocolError):  # 444: the connection closed without an answer
            await client.get("/", headers={"Host": "203.0.113.5"})


def _upstreams(nginx: Nginx, request: str) -> list[str]:
    """The instance (`127.0.0.1:port`, or `-` for none) that served each logged `request` ("POST /wechat")."""
    return [
        found.group(1)
        for line in nginx.access_lines()
        if f'"{request}"' in line and (found := re.search(r"upstream=(\S+)", line))
    ]


async def _logged(nginx: Nginx, request: str, count: int) -> list[str]:
    # nginx writes the line as the request ends, which may be a moment after the client has the answer.
    for _ in range(100):
        if len(found := _upstreams(nginx, request)) >= count:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} × {request} not in the access log:\n" + "\n".join(nginx.access_lines()))


def _decrypted(envelope: str) -> str:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    fields = {
        name: re.search(rf"<{name}>(?:<!\[CDATA\[)?([^<\]]+)", envelope).group(1)  # type: ignore[union-attr]
        for name in ("MsgSignature", "TimeStamp", "Nonce")
    }
    xml = crypto.decrypt_message(envelope, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
    return str(parse_message(xml).content)


async def _wechat_retry_on_the_other_instance(
    client: httpx.AsyncClient, nginx: Nginx, database_url: str, ports: tuple[int, int]
) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    timestamp, nonce = str(int(time.time())), "730519"
    sealed = crypto.encrypt_message(text_xml(QUESTION, msg_id="88001", user="oRetry1"), nonce, timestamp)
    encrypt = re.search(r"<Encrypt><!\[CDATA\[([^\]]+)\]\]>", sealed).group(1)  # type: ignore[union-attr]
    signature = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", sealed).group(1)  # type: ignore[union-attr]
    # Safe mode as WeChat posts it: the account's id and the ciphertext, nothing in clear.
    body = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    params = query(timestamp=timestamp, nonce=nonce, encrypt_type="aes", msg_signature=signature)

    first = await client.post("/wechat", params=params, content=body)
    assert first.status_code == 200 and "<Encrypt>" in first.text, first.text
    answer = _decrypted(first.text)
    assert "2017年9月30日" in answer and "穗人社职鉴函〔2017〕145号" in answer, answer
    # WeChat's retry is the same request again: nginx's round robin hands it to the other instance.
    retry = await client.post("/wechat", params=params, content=body)
    assert retry.status_code == 200 and _decrypted(retry.text) == answer
    served = await _logged(nginx, "POST /wechat", 2)
    assert sorted(served[-2:]) == sorted(f"127.0.0.1:{port}" for port in ports), served

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            handled = await session.scalar(
                select(func.count()).select_from(HandledMessage).where(HandledMessage.message_id == "88001")
            )
            lines = await session.scalar(
                select(func.count())
                .select_from(TranscriptLine)
                .where(TranscriptLine.user_id == "oRetry1", TranscriptLine.direction == "in")
            )
    finally:
        await db.dispose()
    assert (handled, lines) == (1, 1), "the retry was answered from the record, not handled again"


def _cookie(response: httpx.Response, name: str) -> str:
    [found] = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    return found.lower()


async def _staff_login(client: httpx.AsyncClient, env: dict[str, str], database_url: str) -> None:
    """A staff account made with the CLI, two-step login enrolled (ADMIN_TWO_STEP_REQUIRED=true in
    deploy/env.example), logged in over https through nginx."""
    added = await asyncio.to_thread(
        in_process, "staff", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n", env=env
    )
    assert added.returncode == 0, added.stderr
    enrolled = await asyncio.to_thread(in_process, "staff", "totp", "boss", env=env)
    assert enrolled.returncode == 0, enrolled.stderr
    secret = enrolled.stdout.split("或手动输入密钥：")[1].split()[0]

    page = await client.get("/admin/login")
    assert page.status_code == 200
    assert {"secure", "httponly"} <= set(re.split(r";\s*", _cookie(page, "jd_admin_login")))
    form = {"csrf": csrf_in(page.text), "name": "boss", "password": PASSWORD, "code": pyotp.TOTP(secret).now()}
    # A client's own X-Forwarded-For must not reach the app: nginx sets it to the address it sees.
    signed_in = await client.post("/admin/login", data=form, headers={"X-Forwarded-For": "203.0.113.9"})
    assert signed_in.status_code == 303, signed_in.text[-500:]
    assert {"secure", "httponly"} <= set(re.split(r";\s*", _cookie(signed_in, "jd_admin")))
    dashboard = await client.get("/admin/")
    assert dashboard.status_code == 200 and "boss（" in dashboard.text
    assert dashboard.headers["strict-transport-security"].startswith("max-age=")
    assert dashboard.headers["server"] == "nginx", "uvicorn's Server header stays behind the proxy"

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            notes = (await session.scalars(select(AuditEntry.note).where(AuditEntry.action == "login"))).all()
    finally:
        await db.dispose()
    assert notes in (["IP 127.0.0.1"], ["IP ::1"]), notes


async def _broadcast_sent_once(
    client: httpx.AsyncClient,
    fake: RecordingWeChatApi,
    env: dict[str, str],
    database_url: str,
    instances: list[Instance],
) -> None:
    queued = await asyncio.to_thread(
        in_process, "broadcast", "--region", REGION, "--channel", "wechat", "--text", "补报名通知", env=env
    )
    assert queued.returncode == 0, queued.stderr
    everyone = SUBSCRIBERS + 1  # the broadcast's audience, and the reminder planned by whichever instance leads
    for _ in range(300):
        if len(fake.deliveries) >= everyone and await _sent(database_url) == everyone:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)  # three more ticks of both schedulers: nothing goes out a second time
    received = Counter(d.user for d in fake.deliveries)
    assert received == Counter({**{f"oSub{i:03d}": 1 for i in range(SUBSCRIBERS)}, REMINDED: 1}), received
    reminders = [t for t in fake.templates if t["touser"] == REMINDED]
    assert [t["template_id"] for t in reminders] == ["TPL-r"], reminders
    assert await _sent(database_url) == everyone
    # Sent by one of the two instances, the one elected: each instance's healthz pid is known.
    senders = {d.pid for d in fake.deliveries}
    assert len(senders) == 1 and senders <= {i.pid for i in instances}, senders


async def _sent(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
            return int(await session.scalar(stmt) or 0)
    finally:
        await db.dispose()


async def _static_files_and_limits(client: httpx.AsyncClient, nginx: Nginx) -> None:
    css = await client.get("/static/chat.css")
    shipped = (nginx.values.app_root / "bot" / "static" / "chat.css").read_bytes()
    assert css.status_code == 200 and css.content == shipped
    assert css.headers["cache-control"] == "no-cache" and css.headers["x-content-type-options"] == "nosniff"
    js = await client.get("/static/chat.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert (await _logged(nginx, "GET /static/chat.css", 1)) == ["-"], "served without an upstream"
    # Too large for the chat API's 8 KiB: refused by nginx, no instance sees it.
    big = await client.post("/api/chat", content=b"x" * (20 * 1024), headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and (await _logged(nginx, "POST /api/chat", 1)) == ["-"]
    # Per-instance metrics stay on loopback; health is answered to this machine.
    assert (await client.get("/metrics")).status_code == 404
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
