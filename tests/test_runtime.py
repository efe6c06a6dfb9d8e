"""Start-up: the personal-data key is created once, kept private, and checked against the data."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from bot.app import build_runtime
from bot.config import Settings
from handlers.messages import ConversationKey, Inbound
from storage.pii import PiiKeyError
from tests.dialogs import SettableClock, dialog, make_id_number


async def file_one_request(data_dir: Path) -> None:
    runtime = await build_runtime(Settings(data_dir=data_dir), clock=SettableClock(dt.date(2017, 9, 27)))
    key = ConversationKey("test", "u1")
    try:
        for i, line in enumerate([*dialog("广州", "秘书", "2017年10月15日", make_id_number()), "确认弃考"]):
            replies = await runtime.engine.handle(Inbound(key=key, text=line, message_id=str(i)))
        assert "受理编号" in replies[0].text
    finally:
        await runtime.close()


async def test_first_start_creates_a_private_key_and_later_starts_reuse_it(tmp_path: Path) -> None:
    await file_one_request(tmp_path)
    key_file = tmp_path / "pii.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    before = key_file.read_bytes()
    runtime = await build_runtime(Settings(data_dir=tmp_path))
    await runtime.close()
    assert key_file.read_bytes() == before


async def test_refuses_to_start_without_the_key_once_data_is_encrypted(tmp_path: Path) -> None:
    await file_one_request(tmp_path)
    (tmp_path / "pii.key").unlink()
    with pytest.raises(PiiKeyError) as error:
        await build_runtime(Settings(data_dir=tmp_path))
    assert "PII_KEY" in str(error.value)
    assert not (tmp_path / "pii.key").exists(), "no new key is written over encrypted data"


async def test_refuses_a_different_key(tmp_path: Path) -> None:
    await file_one_request(tmp_path)
    with pytest.raises(PiiKeyError) as error:
        await build_runtime(Settings(data_dir=tmp_path, pii_key="00" * 32))
    assert "不匹配" in str(error.value)


def test_a_deployment_words_its_own_privacy_notice(tmp_path: Path) -> None:
    from bot.app import privacy_notice
    from bot.config import Settings

    own = tmp_path / "notice.txt"
    own.write_text("本中心收集姓名、身份证号，办结后{retention_days}天删除。同意请回复“同意”。\n", encoding="utf-8")
    settings = Settings(_env_file=None, privacy_notice_file=own, request_retention_days=90)  # type: ignore[call-arg]
    notice = privacy_notice(settings)
    assert notice.text == "本中心收集姓名、身份证号，办结后90天删除。同意请回复“同意”。"
    default = privacy_notice(Settings(_env_file=None))  # type: ignore[call-arg]
    assert "180 天" in default.text and default.version != notice.version
