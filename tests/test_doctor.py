"""`python -m bot doctor` and the checks `serve` runs before it starts: each finding with its fix, and a
fatal one stopping `serve` with that message instead of a traceback. Run on real data directories and
databases; the database checks are read-only, so nothing is created by looking."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.app import build_runtime
from bot.config import Settings
from tests.cli import in_process, in_subprocess

CLEAN = {"PII_KEY": "", "WECHAT_TOKEN": "", "WECHAT_APP_ID": "", "TELEGRAM_TOKEN": ""}


def env_for(data: Path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(data), "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'bot.db'}", **extra}


def started_once(data: Path) -> None:
    """A server that ran once: the database migrated, the key created and its fingerprint recorded."""

    async def start() -> None:
        runtime = await build_runtime(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
        await runtime.db.dispose()

    asyncio.run(start())


def test_a_fresh_directory_passes_and_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = in_process("doctor", env=env_for(data))
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("数据目录", "磁盘空间", "时区", "数据库", "个人信息密钥", "微信公众号", "Telegram", "可信域名"):
        assert check in result.stdout
    assert "首次启动时生成" in result.stdout and "可以启动" in result.stdout
    assert not data.exists(), "looking creates no directory, database or key"


def test_a_missing_key_stops_serve_with_the_fix_not_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    started_once(data)
    (data / "pii.key").unlink()
    doctor = in_process("doctor", env=env_for(data))
    assert doctor.returncode == 1
    assert "[无法启动] 个人信息密钥" in doctor.stdout and "从备份恢复密钥文件" in doctor.stdout
    # The real command, as an operator runs it.
    serve = in_subprocess("serve", "--port", "0", env=env_for(data), timeout=60)
    assert serve.returncode == 2
    assert "无法启动" in serve.stderr and "个人信息密钥" in serve.stderr and "Traceback" not in serve.stderr
    assert not (data / "pii.key").exists(), "no new key was made that could not read the stored data"


def test_a_key_that_does_not_match_the_database_is_fatal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    started_once(data)
    other = "00" * 32
    result = in_process("doctor", env=env_for(data, PII_KEY=other))
    assert result.returncode == 1 and "与数据库记录的" in result.stdout and "privacy rotate-key" in result.stdout
    matching = in_process("doctor", env=env_for(data))
    assert matching.returncode == 0 and "与数据库一致" in matching.stdout and "已迁移到最新版本" in matching.stdout


def test_a_database_newer_than_the_code_or_out_of_reach_is_fatal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    started_once(data)
    with sqlite3.connect(data / "bot.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    newer = in_process("doctor", env=env_for(data))
    assert newer.returncode == 1 and "比本程序" in newer.stdout
    unreachable = in_process(
        "doctor", env=env_for(data, DATABASE_URL="postgresql+asyncpg://bot:secret@127.0.0.1:1/bot")
    )
    assert unreachable.returncode == 1 and "[无法启动] 数据库：无法连接" in unreachable.stdout
    assert "secret" not in unreachable.stdout, "the password is not printed"


def test_channel_settings_are_checked_for_format_and_safe_modes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    wrong = in_process("doctor", env=env_for(data, WECHAT_TOKEN="token123", WECHAT_APP_ID="not-an-app-id"))
    assert wrong.returncode == 1 and "[无法启动] 微信 AppID" in wrong.stdout
    plain = in_process(
        "doctor", env=env_for(data, WECHAT_TOKEN="token123", WECHAT_APP_ID="wx1234567890abcdef", WECHAT_APP_SECRET="s")
    )
    assert plain.returncode == 0 and "[注意] 微信消息加密" in plain.stdout and "安全模式" in plain.stdout
    webhook = in_process(
        "doctor", env=env_for(data, TELEGRAM_TOKEN="1:x", TELEGRAM_WEBHOOK_URL="https://bot.example.cn/telegram")
    )
    # Refused when the settings are read, before any check: a clear message, no traceback.
    assert webhook.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in webhook.stderr and "Traceback" not in webhook.stderr
    proxies = in_process("doctor", env=env_for(data, TRUSTED_PROXIES="10.0.0.0/8,nginx"))
    assert proxies.returncode == 1 and "nginx" in proxies.stdout
