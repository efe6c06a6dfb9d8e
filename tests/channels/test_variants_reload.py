"""A question variant staff add in the database reaches a running server's answers without a
restart, and the command line answers with it too."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.__main__ import main
from bot.gaps_sync import VariantSync
from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from storage import gaps
from storage.database import Database
from tests.channels.conftest import serving

ABSTAINED = "鉴定费几号前得打过去"
FEE_DAILY = "gz145.fee-daily"
NOW = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)


async def add_variant(database_url: str, question: str = ABSTAINED, entry_id: str = FEE_DAILY) -> int:
    """As the console does, from its own connection."""
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            return (await gaps.add_variant(session, question=question, entry_id=entry_id, by="staff", now=NOW)).id
    finally:
        await db.dispose()


async def ask(client: httpx.AsyncClient, text: str, message_id: str) -> str:
    response = await client.post("/api/chat", json={"text": text, "id": message_id})
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


async def until_answer_contains(client: httpx.AsyncClient, expected: str, *, present: bool, within: float) -> float:
    """Asks the question until the answer does (or no longer does) contain `expected`; the wait."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(1000):
        if (expected in await ask(client, ABSTAINED, f"poll-{present}-{n}")) == present:
            return loop.time() - started
        assert loop.time() - started < within, f"the server did not reload the variants within {within} s"
        await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def test_a_variant_reaches_the_running_server_and_leaves_it_again(
    make_app: Callable[..., Starlette], database_url: str
) -> None:
    app = make_app(variants_poll_seconds=0.3, reminders_enabled=False)
    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers={"Origin": url}) as client:
        (await client.get("/")).raise_for_status()
        assert "没有找到可靠的答案" in await ask(client, ABSTAINED, "before")

        variant_id = await add_variant(database_url)
        waited = await until_answer_contains(client, "考前7个工作日", present=True, within=5)
        assert waited < 5
        answer = await ask(client, ABSTAINED, "after")
        assert "来源：穗人社职鉴函〔2017〕145号" in answer

        db = Database(database_url)
        try:
            async with db.transaction() as session:
                await gaps.deactivate_variant(session, variant_id=variant_id, by="staff", now=NOW)
        finally:
            await db.dispose()
        await until_answer_contains(client, "考前7个工作日", present=False, within=5)


async def test_variants_in_the_database_are_loaded_before_the_server_answers(
    make_app: Callable[..., Starlette], database_url: str
) -> None:
    db = Database(database_url)
    await db.migrate()
    await db.dispose()
    await add_variant(database_url)
    # The default interval: the first answer cannot come from a poll, only from the start-up load.
    async with serving(make_app(reminders_enabled=False)) as url:
        async with httpx.AsyncClient(base_url=url, headers={"Origin": url}) as client:
            (await client.get("/")).raise_for_status()
            assert "考前7个工作日" in await ask(client, ABSTAINED, "first")


async def test_a_variant_whose_entry_left_the_knowledge_base_is_skipped(
    db: Database, kb: KnowledgeBase, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await add_variant(database_url, question="证书丢了咋整", entry_id="js239.removed-since")
    await add_variant(database_url)
    qa = PolicyQA(kb)
    sync = VariantSync(db, qa, interval=120)
    assert sync.interval == 60, "at most a minute between polls"
    with caplog.at_level(logging.WARNING):
        assert await sync.refresh() is True
    assert "js239.removed-since" in caplog.text
    assert sync.qa.variant_count == 1 and sync.qa.answer(ABSTAINED).kind == "variant"
    assert qa.variant_count == 0, "the PolicyQA it started from is left as it was"
    assert await sync.refresh() is False, "nothing changed: nothing reloaded"


async def test_ask_answers_with_the_databases_variants(
    db: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_variant(database_url)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("DATABASE_URL", database_url)
    # `ask` runs its own event loop, as from the shell.
    assert await asyncio.to_thread(main, ["ask", ABSTAINED, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["matched"] is True and answer["kind"] == "variant" and answer["facts"] == [FEE_DAILY]

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'none' / 'bot.db'}")
    assert await asyncio.to_thread(main, ["ask", ABSTAINED, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matched"] is False
    assert not (tmp_path / "none").exists(), "ask creates no database"
