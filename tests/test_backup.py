"""A backup drill on a real SQLite database: requests filed through the conversation engine, a backup
taken while messages are being handled, the database wiped, restored with `python -m bot restore`,
and every request read back decrypted. A key that did not encrypt the backup, and a database that is
not empty, are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import build_runtime
from bot.config import Settings
from handlers.messages import ConversationKey, Inbound
from storage.database import Database
from storage.models import WithdrawalRequest
from storage.pii import PiiCipher, existing_key
from tests.cli import in_process
from tests.conftest import PG_URL, _ensure_database
from tests.dialogs import dialog, make_id_number, reset_postgres

NOW = "2017-09-27T10:00:00+08:00"


def env_for(data: Path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(data), "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'bot.db'}", "PII_KEY": "", **extra}


async def file_requests(data: Path, count: int, dest: Path) -> dict[str, str]:
    """Files `count` requests, then backs up while other candidates keep writing; reference → ID number."""
    settings = Settings(_env_file=None, data_dir=data, bot_now=dt.datetime.fromisoformat(NOW))  # type: ignore[call-arg]
    runtime = await build_runtime(settings)
    filed: dict[str, str] = {}
    try:
        for n in range(count):
            id_number = make_id_number(seq=100 + n)
            key = ConversationKey("test", f"cand-{n}")
            for i, line in enumerate([*dialog("广州", "秘书", "2017年10月15日", id_number), "确认弃考"]):
                replies = await runtime.engine.handle(Inbound(key=key, text=line, message_id=f"{n}-{i}"))
            reference = next(r.text.split("受理编号：")[1][:16] for r in replies if "受理编号：" in r.text)
            filed[reference] = id_number
        stop = asyncio.Event()

        async def chatter() -> int:
            sent = 0
            while not stop.is_set():
                key = ConversationKey("test", f"busy-{sent % 7}")
                await runtime.engine.handle(
                    Inbound(key=key, text="广州退考退费登记截止到哪天？", message_id=f"b{sent}")
                )
                sent += 1
            return sent

        writer = asyncio.ensure_future(chatter())
        await asyncio.sleep(0.2)
        result = await asyncio.to_thread(in_process, "backup", str(dest), env=env_for(data))
        stop.set()
        assert await writer > 0, "messages were handled while the backup ran"
        assert result.returncode == 0, result.stderr
        assert "个人信息密钥不在备份中" in result.stdout
    finally:
        await runtime.db.dispose()
    return filed


async def read_back(data: Path) -> dict[str, str]:
    key = existing_key(data / "pii.key", configured=None)
    assert key is not None
    cipher = PiiCipher(key)
    db = Database(f"sqlite+aiosqlite:///{data / 'bot.db'}")
    try:
        async with db.sessions() as session:
            rows = (await session.execute(select(WithdrawalRequest))).scalars().all()
            return {r.reference: cipher.decrypt(r.id_number_cipher, context="id_number") for r in rows}
    finally:
        await db.dispose()


def wipe(data: Path) -> None:
    for name in ("bot.db", "bot.db-wal", "bot.db-shm"):
        (data / name).unlink(missing_ok=True)


async def test_backup_while_busy_wipe_restore_and_read_every_request_back(tmp_path: Path) -> None:
    data, dest = tmp_path / "data", tmp_path / "backup-1"
    filed = await file_requests(data, 3, dest)
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"] == "sqlite" and manifest["counts"]["requests"] == 3
    assert manifest["migration"] and manifest["key_fingerprint"]
    assert oct((dest / "bot.db").stat().st_mode & 0o777) == "0o600" and oct(dest.stat().st_mode & 0o777) == "0o700"
    again = await asyncio.to_thread(in_process, "backup", str(dest), env=env_for(data))
    assert again.returncode == 2 and "不是空的" in again.stderr, "an earlier backup is never overwritten"

    wipe(data)
    restored = await asyncio.to_thread(in_process, "restore", str(dest), env=env_for(data))
    assert restored.returncode == 0, restored.stderr
    assert await read_back(data) == filed

    # Into a database that is not empty: refused, nothing changed.
    twice = await asyncio.to_thread(in_process, "restore", str(dest), env=env_for(data))
    assert twice.returncode == 2 and "不是空的" in twice.stderr
    # With a key that did not encrypt the backup: refused before anything is written.
    wipe(data)
    wrong = await asyncio.to_thread(in_process, "restore", str(dest), env=env_for(data, PII_KEY="11" * 32))
    assert wrong.returncode == 2 and "不是加密这份备份的密钥" in wrong.stderr
    assert not (data / "bot.db").exists() or (data / "bot.db").stat().st_size == 0


@pytest.mark.skipif(
    not PG_URL or shutil.which("pg_dump") is None, reason="needs TEST_DATABASE_URL and PostgreSQL's client tools"
)
async def test_a_postgresql_backup_restores_into_an_empty_database(tmp_path: Path) -> None:
    assert PG_URL
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    source = make_url(PG_URL).set(database=f"backup_src_{worker}").render_as_string(hide_password=False)
    target = make_url(PG_URL).set(database=f"backup_dst_{worker}").render_as_string(hide_password=False)
    for url in (source, target):
        await _ensure_database(url)
        await reset_postgres(url)
    data, dest = tmp_path / "data", tmp_path / "pg-backup"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data, database_url=source, bot_now=dt.datetime.fromisoformat(NOW)
    )
    runtime = await build_runtime(settings)
    try:
        key = ConversationKey("test", "pg-cand")
        id_number = make_id_number(seq=321)
        for i, line in enumerate([*dialog("广州", "秘书", "2017年10月15日", id_number), "确认弃考"]):
            await runtime.engine.handle(Inbound(key=key, text=line, message_id=f"pg-{i}"))
    finally:
        await runtime.db.dispose()
    made = await asyncio.to_thread(in_process, "backup", str(dest), env=env_for(data, DATABASE_URL=source))
    assert made.returncode == 0, made.stderr
    assert json.loads((dest / "manifest.json").read_text(encoding="utf-8"))["database"] == "postgresql"
    restored = await asyncio.to_thread(in_process, "restore", str(dest), env=env_for(data, DATABASE_URL=target))
    assert restored.returncode == 0, restored.stderr
    cipher = PiiCipher(existing_key(data / "pii.key", configured=None) or b"")
    db = Database(target)
    try:
        async with db.sessions() as session:
            [request] = (await session.execute(select(WithdrawalRequest))).scalars().all()
        assert cipher.decrypt(request.id_number_cipher, context="id_number") == id_number
    finally:
        await db.dispose()
