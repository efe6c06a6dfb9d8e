"""Retrieval over facts: BM25 over weighted fields, and a coverage score used to abstain.

BM25 ranks; it is not a confidence. Coverage asks how much of what the candidate asked
(weighted by how informative each word is) the fact actually speaks about; a question about
公务员 matches registration facts on 报名 but leaves its most informative word unexplained.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Field weights: what a fact is *about* (title, keywords, phrasings) counts more than the
# words its answer happens to use.
FIELD_WEIGHTS = {
    "title": 2.0,
    "keywords": 2.5,
    "questions": 1.5,
    "topic": 1.5,
    "names": 2.0,
    "answer": 1.0,
    "dates": 2.0,
}
_K1 = 1.2
_B = 0.6
_PARTIAL = 0.8  # a query word inside a fact word (填 in 填写), or a fact word inside it
_RARE = 3
"""A compound held by fewer facts than this is also looked for in its two parts."""


def in_two(word: str, known: Callable[[str], bool]) -> tuple[str, str] | tuple[()]:
    """The two `known` words of two characters or more that `word` is made of (证书发放: 证书,
    发放), or () when it is not."""
    for i in range(2, len(word) - 1):
        if known(word[:i]) and known(word[i:]):
            return word[:i], word[i:]
    return ()


@dataclass(frozen=True)
class Hit:
    index: int
    score: float
    coverage: float
    matched: tuple[str, ...]


class FactIndex:
    """An inverted index of analysed documents (one per fact)."""

    def __init__(
        self, docs: Sequence[dict[str, list[str]]], is_topic_word: Callable[[str], bool] | None = None
    ) -> None:
        self.size = len(docs)
        self.is_topic_word = is_topic_word
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.vocab_of: list[frozenset[str]] = []
        lengths: list[float] = []
        for i, fields in enumerate(docs):
            tf: dict[str, float] = defaultdict(float)
            for field, words in fields.items():
                weight = FIELD_WEIGHTS.get(field, 1.0)
                for w in words:
                    tf[w] += weight
            for w, f in tf.items():
                self.postings[w].append((i, f))
            self.vocab_of.append(frozenset(tf))
            # A fact's days are looked up, not read: many days do not make a fact say less of each word.
            lengths.append(sum(tf.values()) - sum(FIELD_WEIGHTS["dates"] for _ in fields.get("dates", ())))
        self.lengths = lengths
        self.avg_length = (sum(lengths) / len(lengths)) if lengths else 1.0
        n = max(self.size, 1)
        self.idf = {w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.postings.items()}
        # BM25's term weight depends only on the document, so it is computed once here.
        self.weighted: dict[str, list[tuple[int, float]]] = {
            w: [
                (doc, self.idf[w] * f * (_K1 + 1) / (f + _K1 * (1 - _B + _B * lengths[doc] / self.avg_length)))
                for doc, f in p
            ]
            for w, p in self.postings.items()
        }
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        ordered = sorted(self.idf.values())
        self.unknown_weight = ordered[len(ordered) // 2] if ordered else 1.0

    def word_weight(self, word: str) -> float:
        """How informative a query word is. A word no fact uses weighs like the rarest words when
        it names a thing (公务员, 公租房: the question is about something the notices do not
        cover) and lightly when it is colloquial filler (那边, 到手)."""
        weight = self.idf.get(word)
        if weight is None:
            topical = self.is_topic_word is None or self.is_topic_word(word)
            weight = self.max_idf if topical else self.unknown_weight * 0.5
        # A single character (公, 师, 表) says little on its own, known or not.
        return weight * 0.3 if len(word) == 1 else weight

    def _match(self, word: str, vocab: frozenset[str]) -> float:
        if word in vocab:
            return 1.0
        for v in vocab:
            # A query word inside a fact's word is that fact speaking of it (对象 in 试点对象,
            # 填 in 填写). A fact's word inside a longer query word counts only when it is most of
            # it (职业资格 in 职业资格证), not a generic tail (资格 in 执业资格, 技师 in 建造技师) nor a short
            # word another suffix makes a different thing of (鉴定 in 鉴定费).
            if word in v or (v in word and len(v) >= 3 and len(v) * 3 >= len(word) * 2):
                return _PARTIAL
        # A compound the fact says in two words (证书发放: 证书…不得发放), as a term of another notice.
        return _PARTIAL if in_two(word, vocab.__contains__) else 0.0

    def _parts(self, word: str) -> tuple[str, ...]:
        """The two indexed words a word is made of (身份证复印件: 身份证, 复印件), if any."""
        return in_two(word, self.weighted.__contains__)

    def coverage(self, words: Sequence[str], doc: int) -> tuple[float, tuple[str, ...]]:
        vocab = self.vocab_of[doc]
        total = got = 0.0
        matched: list[str] = []
        for w in dict.fromkeys(words):
            weight = self.word_weight(w)
            total += weight
            m = self._match(w, vocab)
            if m:
                got += weight * m
                matched.append(w)
        return (got / total if total else 0.0), tuple(matched)

    def search(
        self,
        words: Sequence[str],
        *,
        boost: Callable[[int], float] | None = None,
        limit: int = 10,
        ignore_in_coverage: frozenset[str] = frozenset(),
    ) -> list[Hit]:
        """Rank documents for the query words; `boost` scales (or with 0 excludes) a document."""
        scores: dict[int, float] = defaultdict(float)
        for w in dict.fromkeys(words):
            for doc, weight in self.weighted.get(w, ()):
                scores[doc] += weight
            # A rare compound (身份证复印件) ranks, at half weight, the facts that say it in two words
            # (身份证及复印件), which coverage counts as speaking of it.
            if len(w) >= 4 and len(self.postings.get(w, ())) < _RARE:
                for part in self._parts(w):
                    for doc, weight in self.weighted[part]:
                        scores[doc] += weight * 0.5
        if boost is not None:
            ranked = heapq.nlargest(limit, [(b, doc) for doc, s in scores.items() if (b := s * boost(doc)) > 0])
        else:
            ranked = heapq.nlargest(limit, ((s, doc) for doc, s in scores.items()))
        hits = []
        topical = [w for w in words if w not in ignore_in_coverage] or list(words)
        for s, doc in ranked:
            cov, matched = self.coverage(topical, doc)
            hits.append(Hit(doc, s, cov, matched))
        return hits
