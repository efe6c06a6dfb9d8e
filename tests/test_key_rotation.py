"""Changing the PII key on a real database with the real commands: `privacy new-key` makes a new key
file and keeps the old one, servers read rows of both, `privacy rotate-key` re-encrypts everything in
batches (again and again, each run finishing what the last left), printed declaration codes still
verify, and once done the old key can go."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.__main__ import main
from knowledge.timezone import SHANGHAI
from storage.database import Database
from storage.declarations import verification_code, verify
from storage.models import Conversation, Setting, WithdrawalRequest
from storage.pii import PiiCipher, PiiDecryptError, load_or_create_key
from storage.requests import NewRequest, create_request
from tests.dialogs import make_id_number

WHEN = dt.datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)


def new_request(n: int) -> NewRequest:
    id_number = make_id_number("440103", dt.date(1990, 5, 5), 100 + n)
    return NewRequest(
        channel="web",
        user_id=f"u{n}",
        name="张三",
        id_number=id_number,
        phone=f"1390000{n:04d}",
        region="广州市",
        doc_no="穗人社职鉴函〔2017〕145号",
        occupation="电工",
        occupation_listed=True,
        level="中级",
        exam_date=dt.date(2026, 12, 20),
        institution="广州市第一技工学校",
        receipt_no=None,
        deadline=None,
        declaration=f"本人身份证号{id_number}，自愿放弃考试。",
    )


async def seed(database_url: str, cipher: PiiCipher, numbers: range) -> dict[int, str]:
    """Requests under `cipher`, and one open form holding an encrypted ID number; their codes."""
    db = Database(database_url)
    codes = {}
    try:
        async with db.transaction() as session:
            for n in numbers:
                request = await create_request(session, new_request(n), cipher=cipher, now=WHEN, today=WHEN.date())
                codes[request.id] = verification_code(cipher, request)
            form = {
                "name": "withdrawal",
                "values": {
                    "id_number": {
                        "v": cipher.encrypt("X", context="form:id_number"),
                        "d": "4401**",
                        "t": None,
                        "enc": True,
                    }
                },
            }
            session.add(
                Conversation(
                    channel="web",
                    user_id=f"form{numbers.start}",
                    state={"form": form},
                    created_at=WHEN,
                    updated_at=WHEN,
                )
            )
    finally:
        await db.dispose()
    return codes


async def rows(database_url: str) -> tuple[list[WithdrawalRequest], list[dict], str]:  # type: ignore[type-arg]
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            requests = list((await session.execute(select(WithdrawalRequest).order_by(WithdrawalRequest.id))).scalars())
            states = list((await session.execute(select(Conversation.state))).scalars())
            fingerprint = (
                await session.execute(select(Setting.value).where(Setting.name == "pii_key_fingerprint"))
            ).scalar_one()
    finally:
        await db.dispose()
    return requests, states, fingerprint


def test_a_key_is_rotated_without_losing_a_row(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("PII_KEY", "PII_PREVIOUS_KEYS", "BOT_NOW"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(["privacy", *args])

    assert run("status") == 0  # creates the key file and records its fingerprint
    old = PiiCipher(load_or_create_key(tmp_path / "pii.key", configured=None, encrypted_rows_exist=True))
    codes = asyncio.run(seed(database_url, old, range(0, 5)))

    assert run("new-key") == 0
    new = PiiCipher(load_or_create_key(tmp_path / "pii.key", configured=None, encrypted_rows_exist=True))
    assert new.fingerprint != old.fingerprint
    for file in ("pii.key", "pii.key.previous"):
        assert stat.S_IMODE((tmp_path / file).stat().st_mode) == 0o600
    # A server not restarted yet still writes under the old key: the rotation takes those rows too.
    codes |= asyncio.run(seed(database_url, old, range(5, 8)))
    assert run("status") == 0, "the start-up check accepts the database's (old) fingerprint beside the new key"
    person = make_id_number("440103", dt.date(1990, 5, 5), 102)
    assert run("export", "--out", str(tmp_path / "mid.json"), stdin=person) == 0, "old rows are found and read"
    assert person in (tmp_path / "mid.json").read_text(encoding="utf-8")

    assert run("rotate-key") == 0
    assert "已重新加密 8 份申请、2 个填写中的表单值" in capsys.readouterr().out
    requests, states, fingerprint = asyncio.run(rows(database_url))
    assert fingerprint == new.fingerprint
    for request in requests:
        number = new.decrypt(request.id_number_cipher, context="id_number")
        assert request.id_number_hash == new.keyed_hash(number)
        assert new.decrypt(request.phone_cipher, context="phone").startswith("1390000")
        with pytest.raises(PiiDecryptError):
            old.decrypt(request.id_number_cipher, context="id_number")
        assert verification_code(new, request) == codes[request.id] and verify(new, request, codes[request.id])
    for state in states:
        assert new.decrypt(state["form"]["values"]["id_number"]["v"], context="form:id_number") == "X"

    assert run("rotate-key") == 0 and "已重新加密 0 份申请" in capsys.readouterr().out, "nothing left: idempotent"
    (tmp_path / "pii.key.previous").unlink()
    assert run("status") == 0, "the old key is no longer needed"
    assert (
        run("export", "--out", str(tmp_path / "p.json"), stdin=make_id_number("440103", dt.date(1990, 5, 5), 101)) == 0
    )
