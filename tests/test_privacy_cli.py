"""`python -m bot privacy …` on a real database: status, a copy of one person's data, their erasure
(requests kept masked, conversations gone, other people untouched), each audited without the number."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import secrets
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.__main__ import main
from knowledge.timezone import SHANGHAI
from storage.conversations import append_transcript
from storage.database import Database
from storage.models import AuditEntry, TranscriptLine, WithdrawalRequest
from storage.pii import PiiCipher
from storage.requests import NewRequest, create_request
from tests.dialogs import make_id_number

KEY = secrets.token_bytes(32)
X = make_id_number("440103", dt.date(1991, 2, 3), 7)
Y = make_id_number("440103", dt.date(1992, 3, 4), 8)


async def seed(database_url: str) -> None:
    db = Database(database_url)
    cipher = PiiCipher(KEY)
    when = dt.datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
    try:
        async with db.transaction() as session:
            for n, (id_number, channel, user, occupation) in enumerate(
                [(X, "web", "x-web", "电工"), (X, "wechat", "x-wx", "焊工"), (Y, "web", "y-web", "电工")]
            ):
                new = NewRequest(
                    channel=channel,
                    user_id=user,
                    name="张三" if id_number == X else "李四",
                    id_number=id_number,
                    phone=f"1381234567{n}",
                    region="广州市",
                    doc_no="穗人社职鉴函〔2017〕145号",
                    occupation=occupation,
                    occupation_listed=True,
                    level="中级",
                    exam_date=dt.date(2026, 12, 20),
                    institution="广州市第一技工学校",
                    receipt_no=None,
                    deadline=None,
                    declaration=f"本人身份证号{id_number}，自愿放弃考试。",
                )
                await create_request(session, new, cipher=cipher, now=when, today=when.date())
                await append_transcript(
                    session, channel=channel, user_id=user, lines=[("in", f"{user}说的话")], now=when
                )
    finally:
        await db.dispose()


async def read(database_url: str) -> tuple[list[WithdrawalRequest], list[str], list[AuditEntry]]:
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            requests = list((await session.execute(select(WithdrawalRequest).order_by(WithdrawalRequest.id))).scalars())
            lines = list((await session.execute(select(TranscriptLine.text))).scalars())
            audit = list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
    finally:
        await db.dispose()
    return requests, lines, audit


def test_export_and_erase_one_person(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PII_KEY", KEY.hex())
    monkeypatch.delenv("BOT_NOW", raising=False)

    def run(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(["privacy", *args])

    assert run("status") == 0 and "已删除个人信息的申请：0 份" in capsys.readouterr().out
    asyncio.run(seed(database_url))

    out = tmp_path / "x.json"
    assert run("export", "--out", str(out), stdin=X + "\n") == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    copy = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id_number"] for r in copy["requests"]] == [X, X]
    assert {r["phone"] for r in copy["requests"]} == {"13812345670", "13812345671"}
    assert sorted(a["transcript"][0]["text"] for a in copy["accounts"]) == ["x-web说的话", "x-wx说的话"]
    assert Y not in out.read_text(encoding="utf-8")

    assert run("erase", stdin=X + "\n") == 1, "asks for --yes first"
    assert run("erase", "--yes", stdin=X + "\n") == 0
    requests, lines, audit = asyncio.run(read(database_url))
    assert [r.erased for r in requests] == [True, True, False]
    assert requests[0].name == "张*" and requests[2].name == "李四"
    assert lines == ["y-web说的话"]
    assert [e.action for e in audit if e.action.startswith("privacy.")] == ["privacy.export", "privacy.erase"]
    assert all(X not in (e.note or "") for e in audit)
    assert run("export", "--out", str(tmp_path / "again.json"), stdin=X + "\n") == 1, "nothing left to find"
    assert run("run") == 0
    assert run("status") == 0 and "已删除个人信息的申请：2 份" in capsys.readouterr().out
