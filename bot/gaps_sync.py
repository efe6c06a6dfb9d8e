"""Keeps every process's question variants in step with the database, without a restart.

Staff add a variant in the console (one process); each server process polls the cheap
`variants_version` every few seconds and, when it changed, builds a PolicyQA with the active
variants (sharing the current one's analyzer and index) and publishes it. So a change reaches
every worker within one poll interval.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette

from bot.polling import Poller
from knowledge.qa import PolicyQA
from knowledge.variants import Variant
from storage.database import Database
from storage.gaps import active_variants, variants_version

log = logging.getLogger(__name__)


class VariantSync(Poller):
    """Keeps `qa` answering with the active variants: when the database's version changes, `qa`
    becomes a PolicyQA with the new ones, handed to `publish`."""

    what = "question variants"

    def __init__(
        self,
        db: Database,
        qa: PolicyQA,
        *,
        interval: float = 30.0,
        publish: Callable[[PolicyQA], None] | None = None,
    ) -> None:
        super().__init__(interval)
        self.db = db
        self.qa = qa
        """The latest PolicyQA, with the variants last loaded."""
        self.publish = publish
        self.version: str | None = None

    async def refresh(self) -> bool:
        """Reloads the variants if they changed since the last load; True when it reloaded."""
        async with self.db.transaction() as session:
            version = await variants_version(session)
            if version == self.version:
                return False
            rows = await active_variants(session)
        variants = [Variant(r.question, r.entry_id) for r in rows]
        # A variant whose fact has since left the knowledge base is skipped, not fatal: the
        # others must still load, and staff see the warning in the log.
        unknown = sorted({v.entry_id for v in variants if not self.qa.has_entry(v.entry_id)})
        if unknown:
            log.warning("question variants point at unknown knowledge-base entries, skipped: %s", ", ".join(unknown))
        # Read after the awaits: a knowledge-base rebuild may have handed over a new PolicyQA meanwhile.
        self.qa = self.qa.with_variants([v for v in variants if self.qa.has_entry(v.entry_id)])
        if self.publish is not None:
            self.publish(self.qa)
        self.version = version
        log.info("loaded %d question variants", self.qa.variant_count)
        return True


@contextlib.asynccontextmanager
async def variants_syncing(app: Starlette, interval: float) -> AsyncIterator[VariantSync]:
    """Loads the variants before the server takes messages, then polls for changes while it runs."""
    runtime = app.state.runtime
    sync = VariantSync(
        runtime.db, runtime.services.qa, interval=interval, publish=lambda qa: runtime.use_knowledge(qa.kb, qa)
    )
    await sync.refresh()
    app.state.variant_sync = sync
    sync.start()
    try:
        yield sync
    finally:
        await sync.stop()


async def load_variants_once(db: Database, qa: PolicyQA) -> PolicyQA:
    """For commands that do not poll (chat, ask), and rebuilds: `qa` with the active variants."""
    sync = VariantSync(db, qa)
    await sync.refresh()
    return sync.qa
