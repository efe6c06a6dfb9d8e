"""Keeps every process's knowledge in step with what staff change in the console: the notices they
publish or withdraw, and the question variants they add.

One poller reads two cheap stamps (`published_version`, `variants_version`) every
VARIANTS_POLL_SECONDS (at most a minute). When the published notices changed, it rebuilds the
knowledge base from the shipped files plus the live published versions and a new answerer over it;
when only the variants changed, it keeps the answerer's index and swaps its variants. Either way it
publishes one new `KnowledgeSnapshot` to the holder, which everything reads: the engine per message,
the reminder planner per run, the console per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.polling import Poller
from knowledge.base import KnowledgeBase
from knowledge.published import PublishedNotice, build_knowledge_base
from knowledge.qa import PolicyQA
from knowledge.schema import Notice
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from knowledge.variants import Variant
from storage import gaps, notices
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Stamps:
    notices: str | None
    variants: str | None


class KnowledgeSync(Poller):
    """Publishes a new snapshot to `holder` whenever the database's notices or variants change.

    The holder must start with the shipped knowledge base: its notices are the base every rebuild
    adds the published ones to (the shipped files do not change while the process runs)."""

    what = "the knowledge base"

    def __init__(self, db: Database, holder: KnowledgeHolder, *, interval: float = 30.0) -> None:
        super().__init__(interval)
        self.db = db
        self.holder = holder
        shipped = holder.current.kb
        self.shipped: list[Notice] = list(shipped.notices.values())
        """The notices shipped with the code: the base of every rebuild (and of the console's checks)."""
        self.regions = shipped.regions
        self._base = holder.current.qa
        """The answerer over the current knowledge base, without variants."""
        self._published: tuple[str, ...] = ()
        """The published versions in the current knowledge base, by name."""
        self._lock = asyncio.Lock()
        self._tables: tuple[bool, bool] | None = None

    async def refresh(self, *, force: bool = False) -> bool:
        """Publishes a new snapshot if the notices or variants changed since the last one; True
        when it did."""
        async with self._lock:
            current = self.holder.current
            stamps = await self._stamps()
            if not force and stamps == _Stamps(current.notices_version, current.variants_version):
                return False
            kb, base = current.kb, self._base
            if force or stamps.notices != current.notices_version:
                kb, base = await self._rebuild(kb, base)
            qa = await self._with_variants(base)
            self._base = base
            self.holder.publish(KnowledgeSnapshot(kb, qa, stamps.notices, stamps.variants))
            return True

    async def _has_tables(self) -> tuple[bool, bool]:
        """Whether the database has the published notices' and the variants' tables: one that
        predates the console (an old file `ask` reads) has neither, and `ask` never migrates."""
        if self._tables is None or not all(self._tables):
            self._tables = (await self.db.has_table("published_notices"), await self.db.has_table("question_variants"))
        return self._tables

    async def _stamps(self) -> _Stamps:
        has_notices, has_variants = await self._has_tables()
        notices_stamp = variants_stamp = None
        async with self.db.sessions() as session:
            if has_notices:
                notices_stamp = await notices.published_version(session)
            if has_variants:
                variants_stamp = await gaps.variants_version(session)
        return _Stamps(notices_stamp, variants_stamp)

    async def _rebuild(self, kb: KnowledgeBase, base: PolicyQA) -> tuple[KnowledgeBase, PolicyQA]:
        """The knowledge base with the live published versions, and an answerer over it (the
        current pair when the live set is what it already holds)."""
        rows = []
        if (await self._has_tables())[0]:
            async with self.db.sessions() as session:
                rows = await notices.live_versions(session)
        published = [PublishedNotice.of(r.data, r.doc_no, r.version) for r in rows]
        names = tuple(p.name for p in published)
        if names == self._published:
            # A stamp can change without the live set changing (a version published and withdrawn
            # in between, or the first poll of a database with nothing published).
            return kb, base
        # Building takes a fraction of a second of CPU: in a thread, the loop keeps serving.
        kb, problems = await asyncio.to_thread(build_knowledge_base, self.shipped, published, self.regions)
        for problem in problems:
            log.error("published notice left out of the knowledge base: %s", problem)
        base = await asyncio.to_thread(PolicyQA, kb)
        self._published = names
        log.info("knowledge base: %d notices, %d of them published from the console", len(kb.notices), len(names))
        return kb, base

    async def _with_variants(self, base: PolicyQA) -> PolicyQA:
        if not (await self._has_tables())[1]:
            return base
        async with self.db.sessions() as session:
            rows = await gaps.active_variants(session)
        variants = [Variant(r.question, r.entry_id) for r in rows]
        # A variant whose fact has since left the knowledge base is skipped, not fatal: the others
        # must still load, and staff see the warning in the log.
        unknown = sorted({v.entry_id for v in variants if not base.has_entry(v.entry_id)})
        if unknown:
            log.warning("question variants point at unknown knowledge-base entries, skipped: %s", ", ".join(unknown))
        qa = base.with_variants([v for v in variants if base.has_entry(v.entry_id)])
        log.info("loaded %d question variants", qa.variant_count)
        return qa


async def load_knowledge(db: Database, holder: KnowledgeHolder) -> None:
    """For commands that do not poll (chat, ask): the published notices and variants, loaded once."""
    await KnowledgeSync(db, holder).refresh()


@contextlib.asynccontextmanager
async def knowledge_syncing(db: Database, holder: KnowledgeHolder, interval: float) -> AsyncIterator[KnowledgeSync]:
    """Loads the published notices and variants before the server takes messages, then polls."""
    sync = KnowledgeSync(db, holder, interval=interval)
    await sync.refresh()
    sync.start()
    try:
        yield sync
    finally:
        await sync.stop()
