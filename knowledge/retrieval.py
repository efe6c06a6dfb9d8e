"""Which facts answer a question: the fact index searched with the question's region, dates and
the notices it names, and the picks made from the ranking (one region or several, a related fact)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import NamedTuple

from knowledge.analyzer import Analyzer
from knowledge.base import Entry, KnowledgeBase
from knowledge.fact_index import build_index
from knowledge.query import Query
from knowledge.schema import DateRange, Event, OnDate, Rule
from knowledge.search import Hit
from knowledge.timeline import relative_rules

MULTI_REGION_RATIO = 0.6
"""Hits scoring at least this share of the top one, from other regions, make a per-region answer."""
RELATED_RATIO = 0.75
"""A runner-up from the same region scoring this share of the top one is added as related."""
LIST_ASKED = 1.3
"""Weight of an occupation list when the question asks which occupations."""
WHEN_ASKED = 1.2
"""Weight of a fact holding a date or a period when the question asks when."""
MONTH_ASKED = 1.2
"""Weight of a fact with a date in the month a question names (11月几号)."""
KIND_ASKED = 1.2
"""Weight of the kind of fact a question asks for: a contact (联系谁), a rule naming the bodies
responsible (归哪里鉴定), a fact naming a place (去哪办)."""
OTHER_EXAM_KIND = 0.6
"""Weight of a fact about another kind of exam than the one the named occupation sits (电子商务师
报名截止哪天: the unified exam's registration, not the daily exam's deadline rule)."""
OWN_REGION_RATIO = 0.85
"""A hit from the region's own notice scoring this share of an enclosing region's top hit, on the
same words, answers instead of it."""
NOT_YET_ISSUED = 0.5
"""Weight of a notice issued after the day of the question: below an enclosing region's notice in
force (0.8), so that on 2017-09-21 广州 is answered from 广东's 70号 rather than from 145号 of
09-26; an answer that still comes from it says it was not yet issued (`knowledge.wording`)."""

_WEIGHINGS_KEPT = 512
"""Ways of weighing whose class factors are kept (a few hundred classes each)."""


class _Weighing(NamedTuple):
    """What of a query weighs facts: two queries alike in these weigh every fact alike."""

    region: str | None
    now: dt.date
    docs: frozenset[str]
    dated: bool
    wants_list: bool
    asks_when: bool
    asks_whom: bool
    asks_who_does: bool
    asks_where: bool
    exam_kinds: frozenset[str]
    notices: frozenset[str] | None


_PLACE = re.compile(r"\d+楼|窗口|地址|办公地点|路\d+号|大厦")
_TIME_TOPIC = re.compile(r"时间|日期|时限|截止|期限")


class Retriever:
    """Searches the facts of one knowledge base. Built once; searching is cheap."""

    def __init__(self, kb: KnowledgeBase, analyzer: Analyzer, region_words: frozenset[str]) -> None:
        self.kb = kb
        self.form_words = analyzer.lexicon.form_words
        self.index = build_index(kb.entries, analyzer, region_words)
        self.position = {e.fact.id: i for i, e in enumerate(kb.entries)}
        """Fact id → its place in `kb.entries` (what a Hit's index refers to)."""
        calculable = frozenset(
            i for i, e in enumerate(kb.entries) if isinstance(e.fact, Event | Rule) and relative_rules(e.fact)
        )
        # Facts a newer notice replaces (same topic and region) give way to it in retrieval,
        # unless the question names their notice.
        replaced = frozenset(self.position[fact_id] for fact_id in kb.replaced)
        # Facts that a search weighs alike (same notice and regions, both replaced or not, both
        # calculable or not, both occupation lists or not) form a class: a search weighs each class
        # once, not each of the thousands of facts its words reach.
        classes: dict[tuple[str, tuple[str, ...], bool, bool, bool, bool, bool, bool, bool, frozenset[str]], int] = {}
        self._class_of = [
            classes.setdefault(
                (
                    e.doc_no,
                    e.regions,
                    i in replaced,
                    i in calculable,
                    e.fact.kind == "occupation_list",
                    holds_date(e),
                    e.fact.kind == "contact",
                    _names_bodies(e),
                    names_place(e),
                    frozenset(e.fact.applies.exam_kinds),
                ),
                len(classes),
            )
            for i, e in enumerate(kb.entries)
        ]
        self._classes = list(classes)
        self._months = [_months(e) for e in kb.entries]
        """The months of each fact's dates."""
        self._class_entry = {c: kb.entries[i] for i, c in reversed(list(enumerate(self._class_of)))}
        """A fact of each class, for its regions' applicability."""
        self._clause_members: dict[tuple[str, str], list[tuple[int, Entry]]] = {}
        for i, e in enumerate(kb.entries):
            self._clause_members.setdefault((e.doc_no, e.fact.source.clause), []).append((i, e))
        self._factors: dict[_Weighing, dict[int, float]] = {}
        """Per way of weighing, the factor of each class weighed so far."""
        self._vocabularies: dict[str, frozenset[str]] = {}
        """Region → the words of its facts, built when a follow-up first switches to it."""

    def vocabulary(self, region: str) -> frozenset[str]:
        """Every word the facts that apply to `region` use (江苏 says 第一批, 福建 never does)."""
        found = self._vocabularies.get(region)
        if found is None:
            words: set[str] = set()
            for i, e in enumerate(self.kb.entries):
                if self.kb.applicability(e, region) > 0:
                    words |= self.index.vocab_of[i]
            found = self._vocabularies[region] = frozenset(words)
        return found

    def search(self, query: Query, words: Sequence[str], notices: set[str] | None = None) -> list[Hit]:
        """The best facts for `words`, weighed by how well each applies to the query's region, the
        notices it names and its dates; `notices` restricts the search to those notices."""
        weighing = _Weighing(
            query.region,
            query.now,
            query.docs,
            bool(query.dates),
            query.wants_list,
            query.asks_when,
            query.asks_whom,
            query.asks_who_does,
            query.asks_where,
            query.exam_kinds,
            frozenset(notices) if notices is not None else None,
        )
        # A class weighs the same in every search that weighs alike: kept across searches (a
        # follow-up's readings, the same region asked again), within bounds.
        factors = self._factors.setdefault(weighing, {})
        if len(self._factors) > _WEIGHINGS_KEPT:
            self._factors.clear()
            factors = self._factors[weighing] = {}
        class_of = self._class_of
        month = query.month_asked

        def boost(i: int) -> float:
            c = class_of[i]
            factor = factors.get(c)
            if factor is None:
                factor = factors[c] = self._factor(c, weighing)
            if month is not None and month in self._months[i]:
                return factor * MONTH_ASKED
            return factor

        return self.index.search(words, boost=boost, limit=12, ignore_in_coverage=self.form_words)

    def _factor(self, c: int, w: _Weighing) -> float:
        """How much a search weighing `w` weighs the facts of class `c` (0: not at all)."""
        doc_no, _, replaced, calculable, is_list, dated, contact, bodies, place, kinds = self._classes[c]
        if w.notices is not None and doc_no not in w.notices:
            return 0.0
        if replaced and doc_no not in w.docs:
            return 0.0
        entry = self._class_entry[c]
        factor = self.kb.applicability(entry, w.region)
        if not entry.notice.issued_by(w.now):
            factor *= NOT_YET_ISSUED
        if w.docs:
            factor *= 1.5 if doc_no in w.docs else 0.5
        if w.dated and calculable:
            factor *= 1.3  # a concrete date asks for a calculation
        if w.wants_list and is_list:
            factor *= LIST_ASKED
        if w.asks_when and dated:
            factor *= WHEN_ASKED
        if w.asks_whom and contact:
            factor *= KIND_ASKED
        if w.asks_who_does and bodies:
            factor *= KIND_ASKED
        if w.asks_where and place:
            factor *= KIND_ASKED
        if w.exam_kinds and kinds and not kinds & w.exam_kinds:
            factor *= OTHER_EXAM_KIND
        return factor

    def find(self, query: Query, words: Sequence[str]) -> list[Hit]:
        """The ranking for a question. An occupation named without a region selects the notices
        whose lists name it (and the notices forwarding them), when any of their facts match."""
        hits = self.search(query, words)
        occupation = query.known_occupation
        if occupation and query.region is None:
            docs = {e.doc_no for e in self.kb.occupation_lists if occupation in e.fact.occupations}  # type: ignore[union-attr]
            docs |= {n.doc_no for d in list(docs) for n in self.kb.forwarders(d)}
            hits = self.search(query, words, notices=docs) or hits
        return hits

    def own_region_first(self, query: Query, good: list[Hit]) -> Hit:
        """The top hit, unless it comes from an enclosing region's notice and the region's own
        notice says the same thing nearly as well: the city's notice implements the province's,
        so a 广州 question about refunds is answered from 145号 rather than from 广东's 70号."""
        top = good[0]
        if query.region is None or self.kb.applicability(self.kb.entries[top.index], query.region) >= 1.0:
            return top
        for h in good[1:]:
            if (
                h.score >= top.score * OWN_REGION_RATIO
                and set(top.matched) <= set(h.matched)
                and self.kb.applicability(self.kb.entries[h.index], query.region) >= 1.0
            ):
                return h
        return top

    def region_groups(self, hits: Sequence[Hit]) -> dict[tuple[str, ...], Hit]:
        """The best hit of each region set among those close to the top one, best region first."""
        top = hits[0]
        groups: dict[tuple[str, ...], Hit] = {}
        for h in hits:
            if h.score < top.score * MULTI_REGION_RATIO:
                continue
            groups.setdefault(self.kb.entries[h.index].regions, h)
        return groups

    def provincial(self, groups: dict[tuple[str, ...], Hit]) -> Hit | None:
        """The one group's hit whose regions are all provinces (no region contains them), if one."""
        found = [h for key, h in groups.items() if key and all(len(self.kb.regions.lineage(r)) == 1 for r in key)]
        return found[0] if len(found) == 1 else None

    def dated_beside(self, entry: Entry, words: Sequence[str] = ()) -> Entry | None:
        """The fact of the same clause that says by when, for candidates (三、…可以继续考试…并在
        12月31日前完成: the rule to continue and its deadline are one clause, two facts); of
        several, the one covering most of `words` (补考 picks the make-up dates, not the exam dates)."""
        dated = [
            (i, other)
            for i, other in self._clause_members.get((entry.doc_no, entry.fact.source.clause), ())
            if other is not entry
            and holds_date(other)
            and (not other.fact.applies.audience or "考生" in other.fact.applies.audience)
        ]
        if not dated:
            return None
        return max(dated, key=lambda pair: self.index.coverage(words, pair[0])[0] if words else 0.0)[1]

    def related(self, hits: Sequence[Hit]) -> Entry | None:
        """A fact from the top one's regions, nearly as good, that says something else."""
        top = hits[0]
        entry = self.kb.entries[top.index]
        for h in hits[1:3]:
            other = self.kb.entries[h.index]
            if (
                h.score >= top.score * RELATED_RATIO
                and other.regions == entry.regions
                and other.fact.answer != entry.fact.answer
            ):
                return other
        return None


def names_place(entry: Entry) -> bool:
    """Whether a fact names a place to go (what a where-question wants: 5楼窗口, an address)."""
    return bool(_PLACE.search(entry.fact.answer))


def holds_date(entry: Entry) -> bool:
    """Whether a fact holds a date or a period: an event, a rule with a time limit, or a fact whose
    topic is a time (鉴定时间: the schedule is in an attachment, but it is the answer to "when")."""
    fact = entry.fact
    return (
        isinstance(fact, Event)
        or (isinstance(fact, Rule) and bool(fact.periods))
        or bool(_TIME_TOPIC.search(fact.topic))
    )


def _months(entry: Entry) -> frozenset[int]:
    fact = entry.fact
    if not isinstance(fact, Event):
        return frozenset()
    months: set[int] = set()
    for when in fact.dates:
        if isinstance(when, OnDate):
            months.add(when.date.month)
        elif isinstance(when, DateRange):
            months.update({when.start.month, when.end.month})
    return frozenset(months)


def _names_bodies(entry: Entry) -> bool:
    """Whether a fact says which body is responsible for what (the authorities of a rule)."""
    return isinstance(entry.fact, Rule) and bool(entry.fact.authorities)
