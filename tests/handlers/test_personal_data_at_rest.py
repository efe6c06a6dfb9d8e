"""ID and phone numbers typed in any format never reach the database files in clear: not the
requests, not the transcript, the conversation state, the replies kept for retries, a handoff's
reason or the knowledge-gap tables. Checked on the bytes of the SQLite file and its WAL, for numbers
generated with random separators, in the form and in free text."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from handlers.context import Services
from handlers.engine import ConversationEngine
from storage.database import Database
from tests.conftest import fresh_sqlite
from tests.dialogs import Chat, SettableClock, make_id_number

SEPARATORS = st.sampled_from(["", " ", "-", ".", "  ", " - ", "\u3000", "—"])
_users = itertools.count()
_filed: set[str] = set()


def spread(digits: str, cuts: list[int], separator: str) -> str:
    """`digits` with `separator` at each of `cuts`."""
    out, last = [], 0
    for cut in sorted({c for c in cuts if 0 < c < len(digits)}):
        out.append(digits[last:cut])
        last = cut
    out.append(digits[last:])
    return separator.join(out)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


@st.composite
def typed_numbers(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(ID number, phone number, the ID as typed, the phone as typed)."""
    birth = draw(st.dates(dt.date(1950, 1, 1), dt.date(2000, 12, 31)))
    number = make_id_number(
        draw(st.sampled_from(["440106", "440103", "350203", "320102"])), birth, draw(st.integers(100, 999))
    )
    phone = draw(st.sampled_from(["138", "139", "150", "186", "199"])) + f"{draw(st.integers(0, 99_999_999)):08d}"
    typed_id = spread(number, [6, 14] if draw(st.booleans()) else [4, 8, 12, 16], draw(SEPARATORS))
    typed_phone = spread(phone, [3, 7], draw(SEPARATORS))
    if draw(st.booleans()):
        typed_phone = draw(st.sampled_from(["+86 ", "+86-", "0086 ", "86"])) + typed_phone
    if draw(st.booleans()):
        typed_id, typed_phone = full_width(typed_id), full_width(typed_phone)
    return number, phone, typed_id, typed_phone


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[asyncio.Runner, Database, Path]]:
    """One event loop and one SQLite file for every example (each example is a new candidate)."""
    path = tmp_path / "bot.db"
    with asyncio.Runner() as runner:
        db = Database(fresh_sqlite(sqlite_template, path))
        try:
            yield runner, db, path
        finally:
            runner.run(db.dispose())


def stored_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],  # shared on purpose
)
@given(typed_numbers())
def test_numbers_typed_any_way_are_never_stored_in_clear(
    database: tuple[asyncio.Runner, Database, Path], services: Services, numbers: tuple[str, str, str, str]
) -> None:
    runner, db, path = database
    number, phone, typed_id, typed_phone = numbers
    # Examples share the database: a number filed by an earlier example would be a duplicate request.
    assume(number not in _filed)
    _filed.add(number)

    async def conversation() -> None:
        chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 27))), user=f"u{next(_users)}")
        answers = ["退考退费", "广州", "是", "秘书", "2017年10月15日", "同意", "张三", typed_id, "中级"]
        answers += ["广州市第一技工学校", "跳过", typed_phone, "确认弃考"]
        for line in answers:
            await chat.say(line)
        assert "受理编号" in "\n".join(r.text for r in chat.replies), f"the form took {typed_id!r} and {typed_phone!r}"
        await chat.say(f"我的电话是{typed_phone}，身份证{typed_id}，这个星期能退钱吗")
        await chat.say(f"转人工 我的身份证号是{typed_id} 手机{typed_phone}")

    runner.run(conversation())
    stored = stored_bytes(path)
    for secret in (number, number.lower(), phone):
        assert secret.encode() not in stored, f"{secret} stored in clear (typed {typed_id!r} / {typed_phone!r})"
