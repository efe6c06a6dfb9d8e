"""Answers a candidate's question from the knowledge base, or abstains.

The pipeline: normalise and repair typos; find the region, any dates and any occupation
named; answer structured questions (is occupation X still in the catalog?) by reasoning over
the occupation lists and their dates; otherwise retrieve the best fact, reason about its dates
relative to today or to the candidate's exam date, and cite the clause it comes from. Below the
coverage threshold the bot says it does not know and offers a human.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from knowledge.analyzer import Analyzer, Lexicon, normalize
from knowledge.answer import HUMAN_HINT, Answer
from knowledge.base import Entry, KnowledgeBase, citation
from knowledge.datetext import FoundDate, find_dates
from knowledge.fact_index import build_index
from knowledge.occupations import OccupationMatch, OccupationMatcher
from knowledge.schema import Event, OccupationList, Relative, Rule
from knowledge.search import Hit
from knowledge.timeline import compute_relative, relative_rules, status_now
from knowledge.timezone import today_in_shanghai
from knowledge.variants import UnknownEntryError, Variant, VariantIndex

MAX_QUESTION = 300  # characters analysed; the rest of a pasted essay adds noise, not meaning

THRESHOLD = 0.55
"""Coverage below which the bot abstains; calibrated on tests/knowledge/questions.yaml
(see tests/knowledge/test_accuracy.py, which prints the abstention trade-off)."""
CONFIDENT = 0.8
MULTI_REGION_RATIO = 0.6
RELATED_RATIO = 0.75

STATUS_WORDS = {
    "exiting_catalog": "已列入退出国家职业资格目录的职业名单",
    "national_unified": "属于全国统一鉴定职业",
    "provincial_unified": "属于全省统一鉴定职业",
    "makeup_unified": "属于统一鉴定职业补考安排中的职业",
    "other": "在通知所列职业名单中",
}


def _region_label(regions: Sequence[str]) -> str:
    return "、".join(regions)


@dataclass(frozen=True)
class _Query:
    text: str
    words: list[str]
    region: str | None
    dates: list[FoundDate]
    now: dt.date
    occupation: OccupationMatch | None
    docs: frozenset[str] = frozenset()
    """Notices the question names by number (145号文)."""
    plain_words: tuple[str, ...] = ()
    """The words as segmented, before an unknown occupation is kept whole: what variants compare."""


ANSWER_CACHE_SIZE = 4096
"""Recent answers kept; each is a few kilobytes at most."""


class PolicyQA:
    """Question answering over one loaded knowledge base. Build once; `answer` is cheap."""

    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon | None = None, threshold: float = THRESHOLD) -> None:
        self.kb = kb
        self.threshold = threshold
        lexicon = lexicon or Lexicon.load()
        keywords = {k for e in kb.entries for k in e.fact.keywords if 2 <= len(k) <= 8}
        region_names = {normalize(w) for r in kb.regions.regions.values() for w in (r.name, *r.aliases)}
        self.analyzer = Analyzer(
            lexicon, extra_terms=[*kb.occupations, *keywords, *region_names], protected_terms=kb.occupations
        )
        self._region_words = frozenset(region_names) | {"省", "市", "全省", "我省", "我市", "本省", "本市", "地区"}
        self._doc_numbers = {doc: re.sub(r"\D", "", doc.split("〕")[-1]) for doc in kb.notices}
        self.occupations = OccupationMatcher(kb.occupations, self.analyzer, sorted(region_names))
        self.index = build_index(kb.entries, self.analyzer, self._region_words)
        self._calculable = frozenset(
            i for i, e in enumerate(kb.entries) if isinstance(e.fact, Event | Rule) and relative_rules(e.fact)
        )
        self._position = {e.fact.id: i for i, e in enumerate(kb.entries)}
        # Facts a newer notice replaces (same topic and region) give way to it in retrieval,
        # unless the question names their notice.
        self._replaced = frozenset(self._position[fact_id] for fact_id in kb.replaced)
        self._variants = VariantIndex((), self.index.word_weight)
        self._cache: dict[tuple[str, str | None, dt.date], Answer] = {}

    @classmethod
    def load(cls) -> PolicyQA:
        return cls(KnowledgeBase.load())

    # -- question variants ---------------------------------------------------------------------
    def has_entry(self, entry_id: str) -> bool:
        """Whether a variant may point at `entry_id` (a fact id, e.g. 'gz145.fee-daily')."""
        return entry_id in self._position

    def set_variants(self, variants: Iterable[Variant]) -> None:
        """Replaces the question variants (staff phrasings mapped to existing facts). Only the small
        variant index is rebuilt, then swapped in whole, so concurrent `answer` calls see the old
        set or the new one. Raises UnknownEntryError, changing nothing, if any entry id is unknown."""
        variants = list(variants)
        unknown = sorted({v.entry_id for v in variants if v.entry_id not in self._position})
        if unknown:
            raise UnknownEntryError(unknown)
        self._variants = VariantIndex(((v, self._variant_words(v.question)) for v in variants), self.index.word_weight)
        self._cache = {}  # answers given without these variants may now differ

    def with_variants(self, variants: Iterable[Variant]) -> PolicyQA:
        """A new answerer over the same knowledge base and index with `variants` instead of this
        one's; this one is left as it is. Raises UnknownEntryError if any entry id is unknown."""
        other = copy.copy(self)
        other.set_variants(variants)
        return other

    @property
    def variant_count(self) -> int:
        return len(self._variants)

    def _variant_words(self, question: str) -> list[str]:
        repaired = self.analyzer.repair(normalize(question)[:MAX_QUESTION])
        return self._content_words(repaired, find_dates(repaired, today_in_shanghai()))

    def _content_words(self, repaired: str, dates: Sequence[FoundDate]) -> list[str]:
        """The question's words without its dates and region names (both are matched structurally)."""
        undated = repaired
        for d in reversed(dates):
            undated = undated[: d.span[0]] + " " + undated[d.span[1] :]
        return [w for w in self.analyzer.words(undated) if w not in self._region_words]

    def _from_variants(self, query: _Query) -> Answer | None:
        """The fact of the variant most like the question, if one fits the question's region."""
        best: tuple[float, float, int] | None = None
        for match in self._variants.matches(query.plain_words):
            position = self._position[match.variant.entry_id]
            fit = self.kb.applicability(self.kb.entries[position], query.region)
            if fit > 0 and (best is None or (match.similarity, fit) > best[:2]):
                best = (match.similarity, fit, position)
        if best is None:
            return None
        similarity, _, position = best
        hit = Hit(position, 0.0, similarity, ())
        return replace(self._single(query, self.kb.entries[position], hit, None, ""), kind="variant")

    # -- entry point ---------------------------------------------------------------------------
    def answer(self, question: str, *, region: str | None = None, now: dt.date | None = None) -> Answer:
        """The answer to `question` for `region` on the day `now` (default: today in Beijing).

        Answers depend on nothing else (the knowledge base and the variants are fixed until
        `set_variants` replaces the cache), and candidates ask the same few questions over and over:
        a bounded cache of recent answers saves the analysis and the search."""
        now = now or today_in_shanghai()
        key = (question, region, now)
        cache = self._cache
        cached = cache.get(key)
        if cached is not None:
            return cached
        answer = self._answer(question, region=region, now=now)
        if len(cache) >= ANSWER_CACHE_SIZE:
            cache.pop(next(iter(cache)), None)  # the oldest entry: dicts keep insertion order
        cache[key] = answer
        return answer

    def _answer(self, question: str, *, region: str | None, now: dt.date) -> Answer:
        text = normalize(question)[:MAX_QUESTION]
        if not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", text):
            return Answer(
                "您好，请用文字描述您想咨询的问题，例如：“广州退考退费登记截止到哪天？”“钳工还能报名吗？”",
                matched=False,
                kind="empty",
            )
        if self.analyzer.is_smalltalk(text):
            return Answer(
                "您好！我是职业技能鉴定政策助手，可以解答"
                f"{self._covered}通知中的报名时间、考试安排、鉴定费缴纳、退考退费、补考、证书办理、"
                "职业是否退出目录等问题，并按法定节假日帮您推算截止日期。"
                "请直接输入您的问题，例如：“广州退考退费登记截止到哪天？”“吉林技师理论考多久？”"
                "需要人工服务时，可回复“转人工”。",
                matched=False,
                kind="smalltalk",
            )
        repaired = self.analyzer.repair(text)
        named = self.kb.regions.detect(repaired)
        # An unknown --region value is ignored rather than guessed.
        chosen = named[0] if named else self.kb.regions.resolve(region) if region else None
        if chosen and not self.kb.covers(chosen):
            return self._uncovered(chosen)

        after = self.analyzer.has_cue(repaired, "after_cues")
        dates = find_dates(repaired, now, future=not after)
        words = plain = self._content_words(repaired, dates)
        bad = [d for d in dates if d.date is None]
        if bad:
            return Answer(
                f"您提供的日期“{bad[0].text}”不存在，请检查后重新输入（例如：2026年6月22日）。",
                matched=False,
                region=chosen,
                kind="bad_date",
            )
        occupation = self.occupations.find(repaired, original=text)
        docs = frozenset(
            doc for doc, num in self._doc_numbers.items() if num and re.search(rf"(?<!\d){num}\s*号", repaired)
        )
        if occupation and not occupation.known:
            # An occupation no list names is the topic of the question: keep it whole, so that
            # 一级建造师 weighs as one unknown thing rather than as 一级 / 建造 / 师.
            pieces = set(self.analyzer.words(occupation.name))
            words = [occupation.name, *(w for w in words if w not in pieces)]
        query = _Query(repaired, words, chosen, dates, now, occupation, docs, tuple(plain))

        if occupation and self.analyzer.has_cue(repaired, "status_cues"):
            answer = self._occupation_status(query)
        else:
            answer = self._lookup(query)
        if answer.kind == "abstain":
            # Variants only rescue abstentions: an answer the retrieval stands behind never changes.
            return self._from_variants(query) or answer
        return answer

    # -- abstentions -------------------------------------------------------------------------
    @cached_property
    def _covered(self) -> str:
        """The provinces some notice governs, as candidates read them (吉林省、广东省 …)."""
        return "、".join(sorted({self.kb.regions.lineage(r)[-1] for r in self.kb.governed}))

    @staticmethod
    def _typo_lead(occupation: OccupationMatch) -> str:
        typed = occupation.corrected_from
        return f"（按“{occupation.name}”理解您说的“{typed}”）" if typed else ""

    def _uncovered(self, region: str) -> Answer:
        return Answer(
            f"抱歉，知识库中还没有{region}的职业技能鉴定通知，无法给出准确答复，以免误导您。"
            f"目前收录的地区：{self._covered}。{HUMAN_HINT}",
            matched=False,
            region=region,
            kind="region_not_covered",
        )

    def _abstain(self, query: _Query, confidence: float) -> Answer:
        return Answer(
            "抱歉，这个问题我在现有通知里没有找到可靠的答案，为避免误导您，暂不作答。"
            f"我可以解答{self._covered}职业技能鉴定通知中的报名、考试、缴费、退考退费、补考、证书等问题。" + HUMAN_HINT,
            matched=False,
            confidence=confidence,
            region=query.region,
            kind="abstain",
        )

    # -- retrieval -----------------------------------------------------------------------------
    def _search(self, query: _Query, words: Sequence[str], notices: set[str] | None = None) -> list[Hit]:
        # Applicability depends only on an entry's regions, of which there are a handful.
        by_regions: dict[tuple[str, ...], float] = {}

        def boost(i: int) -> float:
            entry = self.kb.entries[i]
            if notices is not None and entry.doc_no not in notices:
                return 0.0
            if i in self._replaced and entry.doc_no not in query.docs:
                return 0.0
            factor = by_regions.get(entry.regions)
            if factor is None:
                factor = by_regions[entry.regions] = self.kb.applicability(entry, query.region)
            if query.docs:
                factor *= 1.5 if entry.doc_no in query.docs else 0.5
            if query.dates and i in self._calculable:
                factor *= 1.3  # a concrete date asks for a calculation
            return factor

        return self.index.search(words, boost=boost, limit=12, ignore_in_coverage=self.analyzer.lexicon.form_words)

    def _membership(self, query: _Query) -> str:
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
                    f"【{_region_label(e.regions)}】{name}{STATUS_WORDS[fact.status]}（《{fact.title}》，{e.citation}）。"
                )
        lead = self._typo_lead(query.occupation)
        return lead + "".join(lines)

    def _lookup(self, query: _Query, prefix: str = "") -> Answer:
        words = query.words
        if query.occupation and query.occupation.known:
            # The occupation selects the notice; the rest of the question selects the fact.
            words = [w for w in words if w != query.occupation.name] or words
            prefix = prefix or self._membership(query)
        hits = self._search(query, words)
        if query.occupation and query.occupation.known and query.region is None:
            docs = {e.doc_no for e in self.kb.occupation_lists if query.occupation.name in e.fact.occupations}  # type: ignore[union-attr]
            docs |= {n.doc_no for d in list(docs) for n in self.kb.forwarders(d)}
            hits = self._search(query, words, notices=docs) or hits
        good = [h for h in hits if h.coverage >= self.threshold]
        if not good:
            return self._abstain(query, hits[0].coverage if hits else 0.0)
        top = good[0]
        if query.region is None:
            groups = self._region_groups(good, top)
            if len(groups) > 1:
                return self._multi_region(query, groups, prefix)
        entry = self.kb.entries[top.index]
        related = self._related(good, top, entry)
        return self._single(query, entry, top, related, prefix)

    def _region_groups(self, hits: list[Hit], top: Hit) -> dict[tuple[str, ...], Hit]:
        groups: dict[tuple[str, ...], Hit] = {}
        for h in hits:
            if h.score < top.score * MULTI_REGION_RATIO:
                continue
            key = self.kb.entries[h.index].regions
            groups.setdefault(key, h)
        return groups

    def _related(self, hits: list[Hit], top: Hit, entry: Entry) -> Entry | None:
        for h in hits[1:3]:
            other = self.kb.entries[h.index]
            if (
                h.score >= top.score * RELATED_RATIO
                and other.regions == entry.regions
                and other.fact.answer != entry.fact.answer
            ):
                return other
        return None

    # -- composing -----------------------------------------------------------------------------
    def _reasoning(self, query: _Query, entry: Entry) -> str:
        fact = entry.fact
        parts: list[str] = []
        if isinstance(fact, Event | Rule):
            rules = relative_rules(fact)
            anchor = query.dates[0].date if query.dates else None
            if rules and anchor is not None:
                for rel in self._pick_rules(rules, query):
                    action = fact.action if isinstance(fact, Event) else fact.title
                    parts.append(compute_relative(rel, anchor, action, query.now).text)
            if rules and anchor is None:
                anchors = "、".join(dict.fromkeys(r.anchor for r in rules))
                parts.append(
                    f"如告诉我{anchors}的具体日期（例如“2026年6月22日”），我可以按法定节假日帮您算出是哪一天。"
                )
        if isinstance(fact, Event):
            status = status_now(fact, query.now)
            if status:
                parts.append(status.text)
        return "".join(parts)

    @staticmethod
    def _dated_caveat(query: _Query, entries: Sequence[Entry]) -> str:
        """Old notices are still the ground truth, but a candidate should know how old they are."""
        years = sorted({e.notice.year for e in entries if isinstance(e.fact, Event)})
        if years and query.now.year - years[-1] >= 2:
            return f"（提示：以上通知发布于{'、'.join(map(str, years))}年，如之后有新通知，以最新通知为准。）"
        return ""

    @staticmethod
    def _pick_rules(rules: list[Relative], query: _Query) -> list[Relative]:
        """When a fact has several rules (15 working days for daily exams, 20 for unified ones),
        keep those whose label the question mentions; otherwise all of them."""
        named = [r for r in rules if r.label and any(k in query.text for k in _label_keys(r.label))]
        return named or rules

    def _source_line(self, entry: Entry) -> str:
        src = entry.fact.source
        quote = src.quote if len(src.quote) <= 120 else src.quote[:118] + "……"
        return f"来源：{entry.citation}（{src.clause}）：“{quote}”"

    def _newer_note(self, entry: Entry) -> str:
        """Says so when a newer notice bears on the answer: it replaced this fact, this fact
        replaced an older one, or the fact's notice has been superseded on other topics."""
        newer = self.kb.replaced.get(entry.fact.id)
        if newer is not None:
            return (
                f"（注意：{entry.citation}的这一规定已被{newer.citation}取代，请以新通知为准。）"
                f"\n现行规定（{newer.citation}）：{newer.fact.answer.strip()}"
            )
        older = self.kb.replacing.get(entry.fact.id)
        if older:
            names = "、".join(dict.fromkeys(e.citation for e in older))
            return f"（此规定已更新：{entry.citation}已取代{names}的相应规定，以本通知为准。）"
        successors = self.kb.successors.get(entry.doc_no)
        if successors:
            names = "、".join(citation(n.doc_no, n.version) for n in successors)
            return f"（提示：{entry.citation}已被{names}取代/更新，请以新通知为准。）"
        return ""

    def _single(self, query: _Query, entry: Entry, hit: Hit, related: Entry | None, prefix: str) -> Answer:
        lines = [prefix] if prefix else []
        lines.append(f"【{_region_label(entry.regions)}】{entry.fact.answer.strip()}")
        reasoning = self._reasoning(query, entry)
        if reasoning:
            lines.append(reasoning)
        sources = [entry.doc_no]
        facts = [entry.fact.id]
        if related is not None:
            lines.append(f"相关：{related.fact.answer.strip()}")
            facts.append(related.fact.id)
            if related.doc_no not in sources:
                sources.append(related.doc_no)
        newer = self._newer_note(entry)
        if newer:
            lines.append(newer)
        caveat = self._dated_caveat(query, [entry])
        if caveat:
            lines.append(caveat)
        lines.append(self._source_line(entry))
        if related is not None and related.doc_no != entry.doc_no:
            lines.append(self._source_line(related))
        if hit.coverage < CONFIDENT:
            lines.append("如果这不是您要问的，" + HUMAN_HINT)
        return Answer(
            "\n".join(lines),
            matched=True,
            sources=tuple(sources),
            confidence=hit.coverage,
            fact_ids=tuple(facts),
            region=query.region,
            regions=entry.regions,
            kind="lookup",
        )

    def _multi_region(self, query: _Query, groups: dict[tuple[str, ...], Hit], prefix: str) -> Answer:
        lines = [prefix] if prefix else []
        lines.append("不同地区的规定不同（您没有说明地区），各地通知分别规定如下：")
        sources: list[str] = []
        facts: list[str] = []
        regions: list[str] = []
        best = max(h.coverage for h in groups.values())
        for key, hit in list(groups.items())[:4]:
            entry = self.kb.entries[hit.index]
            reasoning = self._reasoning(query, entry)
            newer = self._newer_note(entry).split("\n")[0]  # the region's line stays one line
            lines.append(f"【{_region_label(key)}】{entry.fact.answer.strip()}{reasoning}（{entry.citation}）{newer}")
            if entry.doc_no not in sources:
                sources.append(entry.doc_no)
            facts.append(entry.fact.id)
            regions.extend(r for r in key if r not in regions)
        caveat = self._dated_caveat(query, [self.kb.entries[h.index] for h in groups.values()])
        if caveat:
            lines.append(caveat)
        lines.append("请告诉我您报考的地区，我可以只给出该地区的规定。")
        return Answer(
            "\n".join(lines),
            matched=True,
            sources=tuple(sources),
            confidence=best,
            fact_ids=tuple(facts),
            region=None,
            regions=tuple(regions),
            kind="multi_region",
        )

    # -- occupations ---------------------------------------------------------------------------
    def _occupation_status(self, query: _Query) -> Answer:
        assert query.occupation is not None
        name = query.occupation.name
        lead = self._typo_lead(query.occupation)
        lists = [
            e
            for e in self.kb.occupation_lists
            if self.kb.applicability(e, query.region) > 0 and e.fact.id not in self.kb.replaced
        ]
        holding = [e for e in lists if name in e.fact.occupations]  # type: ignore[union-attr]
        if not holding:
            return self._not_on_lists(query, name, lists, lead)
        lines = [lead] if lead else []
        sources: list[str] = []
        facts: list[str] = []
        regions: list[str] = []
        for entry in holding:
            fact = entry.fact
            assert isinstance(fact, OccupationList)
            title = fact.title.strip("《》")
            count = "" if str(fact.stated_count) in title else f"，共{fact.stated_count}个职业"
            if fact.stated_count is None:
                count = "，名单未穷尽"
            lines.append(f"【{_region_label(entry.regions)}】{name}{STATUS_WORDS[fact.status]}（《{title}》{count}）。")
            docs = {entry.doc_no} | {n.doc_no for n in self.kb.forwarders(entry.doc_no)}
            events = self._list_events(query, entry, docs)
            all_passed = bool(events)
            for ev_entry in events:
                ev = ev_entry.fact
                assert isinstance(ev, Event)
                status = status_now(ev, query.now)
                lines.append(f"· {ev.answer.strip()}" + (status.text if status else ""))
                all_passed = all_passed and bool(status and status.passed)
                facts.append(ev.id)
                if ev_entry.doc_no not in sources:
                    sources.append(ev_entry.doc_no)
            if fact.status == "exiting_catalog" and all_passed:
                successor = self._successor(query, docs)
                if successor is not None:
                    lines.append(f"· 现在：{successor.fact.answer.strip()}")
                    facts.append(successor.fact.id)
            if entry.doc_no not in sources:
                sources.insert(0, entry.doc_no)
            facts.insert(0, fact.id)
            lines.append(self._source_line(entry))
            regions.extend(r for r in entry.regions if r not in regions)
        others = sorted(
            {self.kb.regions.lineage(r)[-1] for r in self.kb.governed}
            - {self.kb.regions.lineage(r)[-1] for r in regions}
        )
        if query.region is None and others:
            lines.append(f"{'、'.join(others)}的通知没有列出{name}所在的职业名单。")
        return Answer(
            "\n".join(lines),
            matched=True,
            sources=tuple(sources),
            confidence=1.0,
            fact_ids=tuple(facts),
            region=query.region,
            regions=tuple(regions),
            kind="occupation_status",
        )

    def _list_events(self, query: _Query, entry: Entry, docs: set[str]) -> list[Entry]:
        """Dated facts that govern a list: those that name it, else the best matches in its notices."""
        linked = [
            e
            for e in self.kb.entries
            if isinstance(e.fact, Event)
            and entry.fact.id in e.fact.applies.occupation_lists
            and self.kb.applicability(e, query.region) > 0
        ]
        if linked:
            return self._dedupe_by_answer(linked)[:3]
        words = [w for w in query.words if query.occupation is None or w != query.occupation.name]
        hits = self._search(query, [*words, "报名", "截止"], notices=docs)
        return [self.kb.entries[h.index] for h in hits if isinstance(self.kb.entries[h.index].fact, Event)][:2]

    @staticmethod
    def _dedupe_by_answer(entries: list[Entry]) -> list[Entry]:
        seen: set[str] = set()
        out = []
        for e in entries:
            if e.fact.answer not in seen:
                seen.add(e.fact.answer)
                out.append(e)
        return out

    def _successor(self, query: _Query, docs: set[str]) -> Entry | None:
        """What followed an exited qualification, in these notices or the newer ones that supersede them."""
        docs = docs | {n.doc_no for d in docs for n in self.kb.successors.get(d, ())}
        hits = self._search(query, ["等级认定", "职业技能等级证书"], notices=docs)
        return self.kb.entries[hits[0].index] if hits else None

    def _not_on_lists(self, query: _Query, name: str, lists: list[Entry], lead: str) -> Answer:
        exiting = [e for e in lists if isinstance(e.fact, OccupationList) and e.fact.status == "exiting_catalog"]
        if query.region and exiting:
            entry = exiting[0]
            fact = entry.fact
            assert isinstance(fact, OccupationList)
            text = (
                f"{lead}【{_region_label(entry.regions)}】{name}不在《{fact.title}》所列的{len(fact.occupations)}个职业中。"
                f"名单之外的职业是否有调整，通知没有说明；{HUMAN_HINT}\n{self._source_line(entry)}"
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
        return self._lookup(query, prefix=f"{lead}{name}不在通知所附的职业名单中，以下是与您的问题最相关的规定：")


def _label_keys(label: str) -> list[str]:
    return [k for k in ("日常", "统一", "全国", "全省", "竞赛", "补考") if k in label]
