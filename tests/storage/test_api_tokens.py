"""The shared access token: one fetch however many processes ask at once, refreshed once when
expiring or rejected, taken over when the refresher dies, and never stored in clear."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import pytest
from sqlalchemy import select

from storage.api_tokens import SharedToken, TokenUnavailable
from storage.database import Database
from storage.models import ApiToken
from storage.pii import PiiCipher

CIPHER = PiiCipher(secrets.token_bytes(32))


class FakeTokenApi:
    """Counts fetches; each fetch issues a new token, as WeChat's token endpoint does."""

    def __init__(self, *, delay: float = 0.2, valid_for: int = 7200) -> None:
        self.delay = delay
        self.valid_for = valid_for
        self.calls: list[bool] = []
        self.fail_next = False

    async def fetch(self, force: bool) -> tuple[str, int]:
        self.calls.append(force)
        await asyncio.sleep(self.delay)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("token endpoint down")
        return f"TOKEN-{len(self.calls)}", self.valid_for


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at


def workers(db_url: str, count: int, **kwargs: object) -> list[tuple[Database, SharedToken]]:
    """Separate engines and owners, as separate processes would have."""
    out = []
    for _ in range(count):
        database = Database(db_url)
        out.append((database, SharedToken(database, CIPHER, "wechat:wxtest", **kwargs)))  # type: ignore[arg-type]
    return out


async def close(pairs: list[tuple[Database, SharedToken]]) -> None:
    for database, _ in pairs:
        await database.dispose()


async def test_many_workers_asking_at_once_fetch_one_token(db: Database, database_url: str) -> None:
    api = FakeTokenApi(delay=0.3)
    pairs = workers(database_url, 4)
    try:
        tokens = await asyncio.gather(*(token.get(api.fetch) for _, token in pairs for _ in range(3)))
    finally:
        await close(pairs)
    assert api.calls == [False], "one fetch for twelve callers in four processes"
    assert set(tokens) == {"TOKEN-1"}


async def test_the_token_is_stored_encrypted(db: Database) -> None:
    token = SharedToken(db, CIPHER, "wechat:wxtest")
    assert await token.get(FakeTokenApi(delay=0).fetch) == "TOKEN-1"
    async with db.sessions() as session:
        row = (await session.execute(select(ApiToken))).scalar_one()
    assert row.token_cipher and "TOKEN-1" not in row.token_cipher
    assert row.refresh_count == 1 and row.lease_owner is None


async def test_an_expiring_token_is_refreshed_once_by_one_worker(db: Database, database_url: str) -> None:
    clock = Clock()
    api = FakeTokenApi(delay=0.1)
    pairs = workers(database_url, 2, now=clock)
    try:
        first = await asyncio.gather(*(token.get(api.fetch) for _, token in pairs))
        clock.at += dt.timedelta(seconds=7200 - 400)  # still more than 5 minutes left
        same = await asyncio.gather(*(token.get(api.fetch) for _, token in pairs))
        clock.at += dt.timedelta(seconds=200)  # now less than 5 minutes left
        renewed = await asyncio.gather(*(token.get(api.fetch) for _, token in pairs for _ in range(2)))
    finally:
        await close(pairs)
    assert set(first) == set(same) == {"TOKEN-1"}
    assert set(renewed) == {"TOKEN-2"} and api.calls == [False, False]


async def test_a_rejected_token_is_replaced_once_however_many_report_it(db: Database, database_url: str) -> None:
    api = FakeTokenApi(delay=0.1)
    pairs = workers(database_url, 3)
    try:
        await pairs[0][1].get(api.fetch)
        replaced = await asyncio.gather(
            *(token.get(api.fetch, rejected="TOKEN-1") for _, token in pairs for _ in range(2))
        )
        # A late report of the old token does not throw away the new one.
        late = await pairs[2][1].get(api.fetch, rejected="TOKEN-1")
    finally:
        await close(pairs)
    assert set(replaced) == {"TOKEN-2"} and late == "TOKEN-2"
    assert api.calls == [False, True], "the second fetch asks the API to force a new token"


async def test_a_refresher_that_died_is_taken_over_when_its_lease_runs_out(db: Database, database_url: str) -> None:
    api = FakeTokenApi(delay=0)
    pairs = workers(database_url, 2, lease=dt.timedelta(seconds=0.5))
    dead, alive = pairs[0][1], pairs[1][1]
    try:
        assert await dead._read_or_lease(None) is True  # took the lease, then "crashed" before fetching
        started = asyncio.get_running_loop().time()
        token = await alive.get(api.fetch)
        waited = asyncio.get_running_loop().time() - started
    finally:
        await close(pairs)
    assert token == "TOKEN-1" and api.calls == [False]
    assert waited >= 0.3, "it waited for the lease instead of fetching beside the other process"


async def test_a_failed_fetch_is_reported_and_the_next_call_recovers(db: Database) -> None:
    api = FakeTokenApi(delay=0)
    api.fail_next = True
    token = SharedToken(db, CIPHER, "wechat:wxtest", failure_backoff=dt.timedelta(seconds=0.2))
    with pytest.raises(ConnectionError):
        await token.get(api.fetch)
    assert await token.get(api.fetch) == "TOKEN-2"


async def test_waiting_gives_up_when_nobody_delivers(db: Database, database_url: str) -> None:
    pairs = workers(database_url, 2, wait=0.3, lease=dt.timedelta(seconds=10))
    try:
        assert await pairs[0][1]._read_or_lease(None) is True
        with pytest.raises(TokenUnavailable):
            await pairs[1][1].get(FakeTokenApi(delay=0).fetch)
    finally:
        await close(pairs)
