"""Keeps every process's knowledge base in step with the notices published from the console.

An admin publishes or withdraws a notice in one process, which applies it at once. Every server
process polls the cheap `published_version` stamp (every VARIANTS_POLL_SECONDS, at most a minute)
and, when it changed, rebuilds the knowledge base from the shipped files plus the live published
versions, builds a new PolicyQA with the question variants applied, and swaps both in whole:
a message being answered keeps the pair it started with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from bot.app import Runtime
from bot.gaps_sync import load_variants_once
from bot.polling import Poller
from knowledge.base import KnowledgeBase
from knowledge.published import PublishedNotice, build_knowledge_base
from knowledge.qa import PolicyQA
from knowledge.regions import RegionRegistry
from knowledge.schema import Notice
from storage import notices as store

log = logging.getLogger(__name__)


class NoticeSync(Poller):
    """Rebuilds `runtime`'s knowledge base when the published notices change.

    `app_state` (the server's) lets a rebuild reach the parts that hold the old knowledge base:
    the variant poller and the reminder planner."""

    what = "the published notices"

    def __init__(self, runtime: Runtime, *, interval: float = 30.0, app_state: Any = None) -> None:
        super().__init__(interval)
        self.runtime = runtime
        self.app_state = app_state
        kb = runtime.services.kb
        self.regions: RegionRegistry = kb.regions
        # The runtime starts with the shipped files alone, and they do not change while the process
        # runs: its notices are the base of every rebuild.
        self.shipped: list[Notice] = list(kb.notices.values())
        self.version: str | None = None
        self.loaded: tuple[str, ...] = ()
        """The published versions in the current knowledge base, by name."""
        self._lock = asyncio.Lock()

    async def refresh(self, *, force: bool = False) -> bool:
        """Rebuilds if the published notices changed since the last load; True when it did."""
        async with self._lock:
            async with self.runtime.db.sessions() as session:
                # The stamp first: should a publication land in between, the next poll reloads once more.
                version = await store.published_version(session)
                if version == self.version and not force:
                    return False
                rows = await store.live_versions(session)
            published = [PublishedNotice.of(r.data, r.doc_no, r.version) for r in rows]
            names = tuple(p.name for p in published)
            if names == self.loaded and not force:
                # A stamp can change without the live set changing (a version published and
                # withdrawn in between, or the first poll of a database with nothing published).
                self.version = version
                return False
            # Building takes a fraction of a second of CPU: in a thread, the loop keeps serving.
            kb, problems = await asyncio.to_thread(build_knowledge_base, self.shipped, published, self.regions)
            for problem in problems:
                log.error("published notice left out of the knowledge base: %s", problem)
            qa = await asyncio.to_thread(PolicyQA, kb)
            await self._use(kb, qa)
            self.version, self.loaded = version, names
            added = len(kb.notices) - len(self.shipped)
            log.info("knowledge base: %d notices, %d of them published from the console", len(kb.notices), added)
            return True

    async def _use(self, kb: KnowledgeBase, qa: PolicyQA) -> None:
        """Swaps in the new pair, with the question variants applied first so that no answer is
        ever given without them."""
        qa = await load_variants_once(self.runtime.db, qa)
        self.runtime.use_knowledge(kb, qa)
        variant_sync = getattr(self.app_state, "variant_sync", None)
        if variant_sync is not None:
            # It derives the PolicyQA it publishes from the one it holds; from now on that is the new
            # one. A variant changed while this rebuild ran may have gone to the old one: reload at
            # its next poll.
            variant_sync.qa = qa
            variant_sync.version = None
        reminders = getattr(self.app_state, "reminders", None)
        planner = getattr(reminders, "planner", None)
        if planner is not None:
            planner.use_knowledge(kb)


@contextlib.asynccontextmanager
async def notices_syncing(app: Starlette, interval: float) -> AsyncIterator[NoticeSync]:
    """Loads the published notices before the server takes messages, then polls for changes."""
    sync = NoticeSync(app.state.runtime, interval=interval, app_state=app.state)
    await sync.refresh()
    app.state.notice_sync = sync
    sync.start()
    try:
        yield sync
    finally:
        await sync.stop()
