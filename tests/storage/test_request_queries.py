"""storage.request_queries against a real database: the list's filters, counts and search, region
scoping, reading an export batch in chunks, and the conversation behind a request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.context import Services
from knowledge.timezone import SHANGHAI
from storage import request_queries as queries
from storage.database import Database
from storage.models import WithdrawalRequest
from tests.storage.request_factory import NOW, make


async def test_filters_counts_and_search(db: Database, services: Services) -> None:
    day = lambda d: dt.datetime(2026, 2, d, 23, 30, tzinfo=SHANGHAI)  # noqa: E731 - late evening: a UTC day earlier
    a = await make(db, services, name="张_三", confirmed=day(1))
    b = await make(db, services, name="张a三", confirmed=day(2), status="approved", occupation="秘书")
    c = await make(db, services, name="李四", confirmed=day(3), region="福建省", institution="学校乙")

    async def ids(**kwargs: Any) -> list[int]:
        async with db.sessions() as session:
            found = await queries.list_requests(session, queries.RequestFilter(**kwargs))
            assert await queries.count_requests(session, queries.RequestFilter(**kwargs)) == len(found)
        return [r.id for r in found]

    assert await ids() == [c.id, b.id, a.id]
    assert await ids(query="张_") == [a.id]  # _ is a character here, not a wildcard
    assert await ids(query="张%") == []
    assert await ids(query="QK-2026020") == [c.id, b.id, a.id]
    assert await ids(query=a.reference[:-1]) == [a.id]
    assert await ids(query=a.reference) == [a.id]
    assert await ids(query=a.reference.lower()[3:]) == [a.id]
    since, before = dt.datetime(2026, 2, 2, tzinfo=SHANGHAI), dt.datetime(2026, 2, 3, tzinfo=SHANGHAI)
    assert await ids(submitted_since=since, submitted_before=before) == [b.id]  # a Beijing day, as instants
    assert await ids(visible=frozenset({"福建省"})) == [c.id]
    assert await ids(visible=frozenset({"福建省"}), regions=frozenset({"广州市"})) == []
    assert await ids(visible=frozenset()) == []
    assert await ids(occupation="秘书", status="approved") == [b.id]
    assert await ids(institution="学校乙") == [c.id]
    async with db.sessions() as session:
        assert await queries.status_counts(session, queries.RequestFilter(status="approved")) == {
            "submitted": 2,
            "approved": 1,
            "rejected": 0,
            "refunded": 0,
        }
        assert await queries.list_requests(session, queries.RequestFilter(), limit=1, offset=1) == [
            await session.get(WithdrawalRequest, b.id)
        ]
        assert await queries.distinct_values(session, "institution", visible=frozenset({"广州市"})) == [
            "广州市第一技工学校"
        ]
        assert await queries.distinct_values(session, "occupation", visible=None) == ["电工", "秘书"]


async def test_an_export_batch_is_read_oldest_first_in_chunks(db: Database, services: Services) -> None:
    made = [
        await make(db, services, name=f"张{i}", confirmed=dt.datetime(2026, 2, 1, 10, i, tzinfo=SHANGHAI))
        for i in range(5)
    ]
    async with db.sessions() as session:
        chunks = [list(chunk) async for chunk in queries.stream_requests(session, queries.RequestFilter(), chunk=2)]
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [r.id for c in chunks for r in c] == [r.id for r in made]


async def test_requests_outside_the_visible_regions_are_not_found(db: Database, services: Services) -> None:
    fujian = await make(db, services, region="福建省")
    guangdong = frozenset({"广东省", "广州市"})
    async with db.sessions() as session:
        assert await queries.find_request(session, request_id=fujian.id, visible=guangdong) is None
        assert await queries.find_request(session, request_id=fujian.id, visible=None) is not None
        assert await queries.find_request(session, request_id=fujian.id, visible=frozenset()) is None
        assert await queries.find_request(session, request_id=999_999, visible=None) is None


async def test_a_conversation_is_read_up_to_the_confirmation(db: Database, services: Services) -> None:
    from storage.conversations import append_transcript

    request = await make(db, services)
    async with db.transaction() as session:
        for minutes, text in ((-2, "退考退费"), (0, "确认弃考"), (3, "之后的问题")):
            await append_transcript(
                session,
                channel="test",
                user_id=request.user_id,
                lines=[("in", text)],
                now=request.confirmed_at + dt.timedelta(minutes=minutes),
            )
        await append_transcript(session, channel="test", user_id="someone-else", lines=[("in", "别人")], now=NOW)
    async with db.sessions() as session:
        lines = await queries.conversation(session, request)
    assert [line.text for line in lines] == ["退考退费", "确认弃考"]
