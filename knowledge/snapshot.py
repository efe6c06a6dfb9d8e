"""The knowledge the bot answers from at one moment, and the holder that swaps it whole.

A snapshot is never changed: a new notice published in the console or a new question variant makes
a new snapshot, which the holder publishes in one assignment. A message being answered keeps the
snapshot it started with, so it never sees a new knowledge base with an old answerer."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA


@dataclass(frozen=True)
class KnowledgeSnapshot:
    kb: KnowledgeBase
    qa: PolicyQA
    """Built over `kb`, with the question variants of `variants_version` applied."""
    notices_version: str | None = None
    """The published-notices stamp `kb` was built from (None: the shipped files alone)."""
    variants_version: str | None = None
    """The question-variants stamp `qa` carries (None: no variants loaded)."""

    @classmethod
    def shipped(cls) -> KnowledgeSnapshot:
        """The notices shipped with the code, without variants or console publications."""
        kb = KnowledgeBase.load()
        return cls(kb, PolicyQA(kb))


class KnowledgeHolder:
    """Holds the current snapshot. Readers take `current` when they need it and keep that one
    for the work at hand; a refresh publishes a whole new snapshot."""

    def __init__(self, snapshot: KnowledgeSnapshot) -> None:
        self._current = snapshot

    @property
    def current(self) -> KnowledgeSnapshot:
        return self._current

    def publish(self, snapshot: KnowledgeSnapshot) -> None:
        self._current = snapshot
