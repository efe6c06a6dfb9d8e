"""Whether an occupation is still examined: reasoning over the occupation lists of the notices
(exiting the catalog, unified exams, make-up exams), the dates that govern each list, and what
followed a qualification that left the catalog."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from knowledge.answer import HUMAN_HINT, Answer
from knowledge.base import Entry, KnowledgeBase
from knowledge.occupations import OccupationMatch
from knowledge.query import Query
from knowledge.retrieval import Retriever
from knowledge.schema import Event, OccupationList
from knowledge.timeline import status_now
from knowledge.wording import cannot_say, region_label, source_line, typo_lead

STATUS_WORDS = {
    "exiting_catalog": "已列入退出国家职业资格目录的职业名单",
    "national_unified": "属于全国统一鉴定职业",
    "provincial_unified": "属于全省统一鉴定职业",
    "makeup_unified": "属于统一鉴定职业补考安排中的职业",
    "other": "在通知所列职业名单中",
}

_WHICH_LIST = re.compile(r"第[一二三]批|哪一?批|哪个名单|哪类|属于哪")
"""Which list an occupation is on (第一批还是第二批)."""

EXAM_KIND_OF_LIST = {"national_unified": "全国统一鉴定", "provincial_unified": "全省统一鉴定"}
"""The exam kind an occupation list puts its occupations in."""


def _dedupe_by_answer(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.fact.answer not in seen:
            seen.add(e.fact.answer)
            out.append(e)
    return out


class _Listing:
    """The lines, sources, facts and regions of an occupation-status answer, as they accumulate."""

    def __init__(self, lead: str) -> None:
        self.lines = [lead] if lead else []
        self.sources: list[str] = []
        self.facts: list[str] = []
        self.regions: list[str] = []
        self.counted = False
        """Whether a line already said which day the dates are counted from."""

    def add_source(self, doc_no: str, *, first: bool = False) -> None:
        if doc_no in self.sources:
            return
        if first:
            self.sources.insert(0, doc_no)
        else:
            self.sources.append(doc_no)


class OccupationStatus:
    """Answers "is occupation X still examined / on which list" questions from the lists."""

    def __init__(self, kb: KnowledgeBase, retriever: Retriever) -> None:
        self.kb = kb
        self.retriever = retriever

    def membership(self, query: Query) -> str:
        """One line per list the named occupation is on, e.g. 心理咨询师属于全国统一鉴定职业."""
        if not (query.occupation and query.occupation.known):
            return ""
        name = query.occupation.name
        lines = []
        for e in self.kb.occupation_lists:
            fact = e.fact
            if (
                isinstance(fact, OccupationList)
                and name in fact.occupations
                and self.kb.applicability(e, query.region)
                and fact.id not in self.kb.replaced
            ):
                lines.append(
                    f"【{region_label(e.regions)}】{name}{STATUS_WORDS[fact.status]}（《{fact.title}》，{e.citation}）。"
                )
        return typo_lead(query.occupation) + "".join(lines)

    def exam_kinds(self, query: Query) -> frozenset[str]:
        """The exam kinds of the unified-exam lists holding the named occupation, where they apply."""
        if not (query.occupation and query.occupation.known):
            return frozenset()
        name = query.occupation.name
        return frozenset(
            EXAM_KIND_OF_LIST[e.fact.status]
            for e in self.kb.occupation_lists
            if isinstance(e.fact, OccupationList)
            and e.fact.status in EXAM_KIND_OF_LIST
            and name in e.fact.occupations
            and self.kb.applicability(e, query.region)
            and e.fact.id not in self.kb.replaced
        )

    def answer(self, query: Query) -> Answer | None:
        """The lists holding the named occupation, each with its dates; None when the occupation
        is on no list and there is nothing list-specific to say (see `not_listed_prefix`)."""
        assert query.occupation is not None
        name = query.occupation.name
        lead = typo_lead(query.occupation)
        lists = self._lists(query)
        holding = [e for e in lists if name in e.fact.occupations]  # type: ignore[union-attr]
        if not holding:
            return self._not_on_lists(query, name, lists, lead)
        out = _Listing(lead)
        for entry in holding:
            self._list_lines(query, entry, out)
        others = sorted(
            {self.kb.regions.lineage(r)[-1] for r in self.kb.governed}
            - {self.kb.regions.lineage(r)[-1] for r in out.regions}
        )
        if query.region is None and others:
            out.lines.append(f"{'、'.join(others)}的通知没有列出{name}所在的职业名单。")
        return Answer(
            "\n".join(out.lines),
            matched=True,
            sources=tuple(out.sources),
            confidence=1.0,
            fact_ids=tuple(out.facts),
            region=query.region,
            regions=tuple(out.regions),
            kind="occupation_status",
        )

    def answer_each(self, query: Query, matches: Sequence[OccupationMatch]) -> Answer | None:
        """Several occupations asked about together (茶艺师跟评茶员都退出了吗): the list line of each,
        then the dates and sources they share, said once. None unless each has a list answer."""
        answers = [a for m in matches if (a := self.answer(replace(query, occupation=m))) is not None]
        if len(answers) < len(matches):
            return None
        heads: list[str] = []
        rest: list[str] = []
        for a in answers:
            for line in a.text.split("\n"):
                (heads if line.startswith(("【", "（按")) else rest).append(line)
        return replace(
            answers[0],
            text="\n".join(dict.fromkeys(heads + rest)),
            sources=tuple(dict.fromkeys(s for a in answers for s in a.sources)),
            fact_ids=tuple(dict.fromkeys(f for a in answers for f in a.fact_ids)),
            regions=tuple(dict.fromkeys(r for a in answers for r in a.regions)),
            confidence=min(a.confidence for a in answers),
        )

    def not_listed_prefix(self, query: Query) -> str:
        """What precedes the best matching rules when the occupation is on none of the lists: that
        it is not on them, or that the region's notices list no occupations at all (江苏)."""
        assert query.occupation is not None
        lead = typo_lead(query.occupation)
        if query.region and not self._lists(query):
            return f"{lead}{self._governing(query.region)}的通知没有列出具体职业名单，以下是与您的问题最相关的规定："
        return f"{lead}{query.occupation.name}不在通知所附的职业名单中，以下是与您的问题最相关的规定："

    def _governing(self, region: str) -> str:
        """The region whose notices govern `region` (汕头市 → 广东省), nearest first."""
        return next((r for r in self.kb.regions.lineage(region) if r in self.kb.governed), region)

    def _lists(self, query: Query) -> list[Entry]:
        return [
            e
            for e in self.kb.occupation_lists
            if self.kb.applicability(e, query.region) > 0 and e.fact.id not in self.kb.replaced
        ]

    def _list_lines(self, query: Query, entry: Entry, out: _Listing) -> None:
        """One list holding the occupation: its status, the dates that govern it and, for a
        qualification that has left the catalog once all its dates passed, what replaced it."""
        assert query.occupation is not None
        fact = entry.fact
        assert isinstance(fact, OccupationList)
        count = f"，共{fact.stated_count}个职业" if fact.stated_count is not None else "，名单未穷尽"
        name = query.occupation.name
        # The list named by where it is (闽人社办〔2020〕143号附件), not by its long title: the source
        # line below cites it in full.
        out.lines.append(
            f"【{region_label(entry.regions)}】{name}{STATUS_WORDS[fact.status]}（{entry.citation}{count}）。"
        )
        docs = {entry.doc_no} | {n.doc_no for n in self.kb.forwarders(entry.doc_no)}
        events = self._list_events(query, entry, docs)
        all_passed = bool(events)
        for ev_entry in events:
            ev = ev_entry.fact
            assert isinstance(ev, Event)
            status = status_now(ev, query.now, say_today=not out.counted)
            # An event from another notice than the list's (厦门's 141号) names its own source.
            cited = f"（{ev_entry.citation}）" if ev_entry.doc_no != entry.doc_no else ""
            # 按今天（…）计 once, on the first line whose dates are still ahead.
            out.counted = out.counted or bool(status and not status.passed and status.text)
            out.lines.append(f"· {ev.answer.strip()}" + (status.text if status else "") + cited)
            all_passed = all_passed and bool(status and status.passed)
            out.facts.append(ev.id)
            out.add_source(ev_entry.doc_no)
        if fact.status == "exiting_catalog" and all_passed:
            successor = self._successor(query, docs)
            if successor is not None:
                out.lines.append(f"· 现在：{successor.fact.answer.strip()}")
                out.facts.append(successor.fact.id)
        out.add_source(entry.doc_no, first=True)
        out.facts.insert(0, fact.id)
        out.lines.append(source_line(entry))
        out.regions.extend(r for r in entry.regions if r not in out.regions)

    def _list_events(self, query: Query, entry: Entry, docs: set[str]) -> list[Entry]:
        """Dated facts that govern a list: those that name it, else the best matches in its notices."""
        linked = [
            e
            for e in self.kb.entries
            if isinstance(e.fact, Event)
            and entry.fact.id in e.fact.applies.occupation_lists
            and self.kb.applicability(e, query.region) > 0
        ]
        if linked:
            # The region's own notice first, and one fact per topic: 厦门's 141号 restates 福建's
            # registration stop for 厦门, and a 厦门 candidate is answered (and cited) from it.
            by_topic: dict[str, Entry] = {}
            for e in sorted(linked, key=lambda e: -self.kb.applicability(e, query.region)):
                by_topic.setdefault(e.fact.topic, e)
            # In the order the topics first come (the replaced fact's place).
            topics = dict.fromkeys(e.fact.topic for e in linked)
            kept = [by_topic[t] for t in topics]
            return _dedupe_by_answer(kept)[:3]
        words = [w for w in query.words if query.occupation is None or w != query.occupation.name]
        hits = self.retriever.search(query, [*words, "报名", "截止"], notices=docs)
        return [self.kb.entries[h.index] for h in hits if isinstance(self.kb.entries[h.index].fact, Event)][:2]

    def _successor(self, query: Query, docs: set[str]) -> Entry | None:
        """What followed an exited qualification, in these notices or the newer ones that supersede them."""
        docs = docs | {n.doc_no for d in docs for n in self.kb.successors.get(d, ())}
        hits = self.retriever.search(query, ["等级认定", "职业技能等级证书"], notices=docs)
        return self.kb.entries[hits[0].index] if hits else None

    def _not_on_lists(self, query: Query, name: str, lists: list[Entry], lead: str) -> Answer | None:
        """For a region with an exiting-catalog list that lacks the occupation: says so, and that
        the notice is silent on the others. Elsewhere, None: the caller searches the rules."""
        if query.region and not lists and _WHICH_LIST.search(query.text):
            # 电工属于第一批还是第二批 where the notices name no occupation: no list says.
            return cannot_say(
                f"{self._governing(query.region)}的通知没有列出退出目录的具体职业，无法确认{name}属于哪一类",
                query.region,
            )
        exiting = [e for e in lists if isinstance(e.fact, OccupationList) and e.fact.status == "exiting_catalog"]
        if not (query.region and exiting):
            return None
        entry = exiting[0]
        fact = entry.fact
        assert isinstance(fact, OccupationList)
        text = (
            f"{lead}【{region_label(entry.regions)}】{name}不在《{fact.title}》所列的{len(fact.occupations)}个职业中。"
            f"名单之外的职业是否有调整，通知没有说明；{HUMAN_HINT}\n{source_line(entry)}"
        )
        return Answer(
            text,
            matched=True,
            sources=(entry.doc_no,),
            confidence=0.7,
            fact_ids=(fact.id,),
            region=query.region,
            regions=entry.regions,
            kind="occupation_status",
        )
