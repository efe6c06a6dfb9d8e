"""The record of handled channel messages: found per (channel, user, message id), kept a day."""

from __future__ import annotations

import datetime as dt

from storage.database import Database
from storage.handled_messages import RETAIN, find_handled, prune_handled, record_handled

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
REPLIES = [{"text": "您好", "choices": ["帮助"], "sources": [], "kind": ""}]


async def test_found_only_for_the_same_channel_user_and_id_then_pruned_after_a_day(db: Database) -> None:
    async with db.transaction() as session:
        await record_handled(session, {("wechat", "oA", "1"): REPLIES, ("wechat", "oB", "2"): []}, NOW)
    async with db.transaction() as session:
        wanted = [("wechat", "oA", "1"), ("wechat", "oB", "1"), ("telegram", "oA", "1"), ("wechat", "oB", "2")]
        found = await find_handled(session, wanted)
    # An empty reply list (an event answered with nothing) is a record too.
    assert found == {("wechat", "oA", "1"): REPLIES, ("wechat", "oB", "2"): []}

    async with db.transaction() as session:
        await record_handled(session, {("wechat", "oA", "3"): REPLIES}, NOW + RETAIN)
    async with db.transaction() as session:
        assert await prune_handled(session, NOW + RETAIN - dt.timedelta(seconds=1)) == 0
        assert await prune_handled(session, NOW + RETAIN + dt.timedelta(seconds=1)) == 2
    async with db.transaction() as session:
        found = await find_handled(session, [("wechat", "oA", "1"), ("wechat", "oA", "3")])
    assert list(found) == [("wechat", "oA", "3")]
