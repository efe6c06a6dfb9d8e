"""Question variants: phrasings staff map to an existing fact, for questions the bot abstained on.

A variant does not change the fact index. It is consulted only when retrieval would abstain, so
that adding one can rescue the question it was written for without moving the answer to any
other question. Matching compares content words weighted by how informative each is in the
knowledge base (the same weights as the coverage score), in both directions: the question must be
mostly about what the variant says, and the variant mostly about what the question says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

MATCH_THRESHOLD = 0.75
"""Weighted word overlap, in both directions, from which a variant counts as the same question.

'鉴定费最晚几号前打过去' still matches the variant '鉴定费几号前得打过去' (0.76: one extra word,
截止), while '鉴定费打过去了怎么开发票' (0.50) and '培训费几号前得打过去' (0.34) do not."""


@dataclass(frozen=True)
class Variant:
    """Another way to ask for the fact `entry_id` (a fact id such as 'gz145.fee-daily')."""

    question: str
    entry_id: str


class UnknownEntryError(ValueError):
    """A variant names a fact the knowledge base does not have."""

    def __init__(self, entry_ids: Sequence[str]) -> None:
        self.entry_ids = tuple(entry_ids)
        super().__init__(f"知识库中没有这些条目：{'、'.join(self.entry_ids)}（问法必须指向已有的条目 id）")


@dataclass(frozen=True)
class VariantMatch:
    variant: Variant
    similarity: float


class VariantIndex:
    """Variants as weighted word sets, with an inverted index so a question is compared only
    with the variants that share a word with it."""

    def __init__(self, variants: Iterable[tuple[Variant, Sequence[str]]], weight: Callable[[str], float]) -> None:
        self._weight = weight
        self._variants: list[tuple[Variant, frozenset[str], float]] = []
        self._by_word: dict[str, list[int]] = defaultdict(list)
        for variant, words in variants:
            unique = frozenset(words)
            if not unique:
                continue  # nothing to compare: such a variant could only match by accident
            position = len(self._variants)
            self._variants.append((variant, unique, sum(weight(w) for w in unique)))
            for w in unique:
                self._by_word[w].append(position)

    def __len__(self) -> int:
        return len(self._variants)

    def matches(self, words: Sequence[str], threshold: float = MATCH_THRESHOLD) -> list[VariantMatch]:
        """Variants at least `threshold` similar to the question's words, most similar first."""
        asked = frozenset(words)
        if not asked or not self._variants:
            return []
        asked_total = sum(self._weight(w) for w in asked)
        candidates = {i for w in asked for i in self._by_word.get(w, ())}
        found = []
        for i in candidates:
            variant, vocab, total = self._variants[i]
            shared = sum(self._weight(w) for w in asked & vocab)
            similarity = min(shared / asked_total, shared / total) if asked_total and total else 0.0
            if similarity >= threshold:
                found.append(VariantMatch(variant, similarity))
        found.sort(key=lambda m: -m.similarity)
        return found
