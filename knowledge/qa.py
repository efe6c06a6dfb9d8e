"""Answers a candidate's question from the knowledge base, or abstains.

The pipeline: normalise and repair typos; find the region, any dates and any occupation
named (`knowledge.query`); answer structured questions (is occupation X still in the catalog?)
by reasoning over the occupation lists and their dates (`knowledge.occupation_status`);
otherwise retrieve the best fact (`knowledge.retrieval`), reason about its dates relative to
today or to the candidate's exam date, and cite the clause it comes from (`knowledge.wording`).
Below the coverage threshold the bot says it does not know and offers a human. Staff phrasings
(`knowledge.variants`) rescue questions the retrieval abstains on, and only those.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace

from cachetools import LRUCache

from knowledge.analyzer import MAX_QUESTION, Analyzer, Lexicon, normalize
from knowledge.answer import Answer
from knowledge.base import KnowledgeBase
from knowledge.datetext import FoundDate, day_word, find_dates
from knowledge.follow_up_cues import comma_parts, is_elliptical, split_parts
from knowledge.follow_ups import FollowUps
from knowledge.occupation_categories import named_category
from knowledge.occupation_names import everyday_names
from knowledge.occupation_status import OccupationStatus
from knowledge.occupations import OccupationMatcher
from knowledge.query import Query, asks_province_level
from knowledge.retrieval import Retriever, holds_date
from knowledge.search import Hit
from knowledge.subjects import Subjects
from knowledge.timezone import today_in_shanghai
from knowledge.unanswerable import AMOUNT as _AMOUNT_ASKED
from knowledge.unanswerable import Unanswerable, asks_detail, asks_members
from knowledge.variants import UnknownEntryError, Variant, VariantIndex
from knowledge.wording import CONFIDENT, Wording

THRESHOLD = 0.55
"""Coverage below which the bot abstains; calibrated on tests/knowledge/questions.yaml
(see tests/knowledge/test_accuracy.py, which prints the abstention trade-off)."""

COMPANION_COVERAGE = 0.8
"""Share of the threshold a dated fact must cover to say when, beside a top fact with no date."""

ANSWER_CACHE_SIZE = 4096
"""Answers kept, the least recently asked dropped first; each is a few kilobytes at most."""

_CacheKey = tuple[str, str | None, dt.date]


def _answer_cache(size: int) -> tuple[LRUCache[_CacheKey, Answer], threading.Lock]:
    """An empty cache of `size` recent answers, and the lock that guards it (cachetools' caches
    are not thread-safe, and a PolicyQA may answer on several threads)."""
    return LRUCache(maxsize=size), threading.Lock()


_WORD_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


_BESIDES = re.compile(r"除了([^，,。？?]{1,16}?)(?:以外|之外)?[，,]?还")
"""除了X(以外)还…: X is what the candidate knows already."""

_NUMBER_CITED = re.compile(r"(?<!\d)(\d+)\s*号")
"""A notice named by its number (145号文)."""

_NAMES_EXAM_KIND = re.compile(r"统一鉴定|统考|日常鉴定|补考")

VALIDITY = "有效"
"""The canonical word of 还算数, 还管用, 有用: whether something still holds."""

_WHICH = re.compile(r"哪些|哪几|有啥|有什么|都有")
_LIST_NOUNS = ("职业", "工种", "项目")


class PolicyQA:
    """Question answering over one loaded knowledge base. Build once; `answer` is cheap.

    Immutable but for its answer cache: no method changes what it answers. `with_variants` makes
    a new one, a shallow copy, so every field it does not replace must itself never change."""

    def __init__(
        self,
        kb: KnowledgeBase,
        lexicon: Lexicon | None = None,
        threshold: float = THRESHOLD,
        *,
        cache_size: int = ANSWER_CACHE_SIZE,
    ) -> None:
        """`cache_size` answers are kept (0: none, every question is answered afresh)."""
        self.kb = kb
        self.threshold = threshold
        lexicon = lexicon or Lexicon.load()
        keywords = {k for e in kb.entries for k in e.fact.keywords if 2 <= len(k) <= 8}
        # The data set's names are in simplified characters already: normalising four thousand of
        # them (traditional to simplified) would cost a tenth of a second at every start.
        region_names = set(kb.regions.all_names)
        # A misspelt region is repaired (广洲 → 广州) into the provinces and the cities of the regions
        # the notices govern; the other region names are only kept from being repaired.
        typo_targets = set(kb.regions.names_near_notices())
        self.analyzer = Analyzer(
            lexicon,
            extra_terms=[*kb.occupations, *keywords],
            protected_terms=kb.occupations,
            # Everyday occupation names are kept from repair as place names are (我是电梯工 is not
            # 我试点梯工); the occupation matcher finds them in the text.
            # Not those inside an official name (咨询师): 心里咨询师 must still become 心理咨询师.
            names=[
                *region_names,
                *(n for n in everyday_names(kb.occupations) if not any(n in o for o in kb.occupations)),
            ],
            places=typo_targets,
        )
        kb.regions.remember_in(self.analyzer.memo())
        self._region_words = frozenset(region_names) | {"省", "市", "全省", "我省", "我市", "本省", "本市", "地区"}
        self._docs_numbered: dict[str, set[str]] = {}
        """A notice's number (145 of 穗人社职鉴函〔2017〕145号) → the notices with it."""
        for doc in kb.notices:
            number = re.sub(r"\D", "", doc.split("〕")[-1])
            if number:
                self._docs_numbered.setdefault(number, set()).add(doc)
        self.occupations = OccupationMatcher(
            kb.occupations,
            self.analyzer,
            sorted(region_names),
            [frozenset(e.fact.occupations) for e in kb.occupation_lists],  # type: ignore[union-attr]
        )
        self._retriever = Retriever(kb, self.analyzer, self._region_words)
        self.index = self._retriever.index
        self._wording = Wording(kb)
        self._status = OccupationStatus(kb, self._retriever)
        self._variants = VariantIndex((), self.index.word_weight)
        self._cache, self._cache_lock = _answer_cache(cache_size)
        self._subjects = Subjects(kb, self.analyzer, self._region_words)
        self._unanswerable = Unanswerable(kb)
        self._follow_ups = FollowUps(kb, self.analyzer, self._subjects, self.occupations, self._answer, self._retriever)

    @classmethod
    def load(cls) -> PolicyQA:
        return cls(KnowledgeBase.load())

    # -- question variants ---------------------------------------------------------------------
    def has_entry(self, entry_id: str) -> bool:
        """Whether a variant may point at `entry_id` (a fact id, e.g. 'gz145.fee-daily')."""
        return entry_id in self._retriever.position

    def with_variants(self, variants: Iterable[Variant]) -> PolicyQA:
        """A PolicyQA that answers with `variants` (staff phrasings mapped to existing facts) in place
        of this one's; this one is left as it was. The new one shares everything built from the
        knowledge base (analyzer, index, …), so only the small variant index is built, and it starts
        with an empty answer cache. Raises UnknownEntryError if any entry id is unknown."""
        variants = list(variants)
        unknown = sorted({v.entry_id for v in variants if not self.has_entry(v.entry_id)})
        if unknown:
            raise UnknownEntryError(unknown)
        index = VariantIndex(((v, self._variant_words(v.question)) for v in variants), self.index.word_weight)
        other = copy.copy(self)  # shallow: the parts built from the knowledge base are shared, never changed
        other._variants = index
        other._follow_ups = self._follow_ups.answering_with(other._answer)
        # Answers given without these variants may differ.
        other._cache, other._cache_lock = _answer_cache(int(self._cache.maxsize))
        return other

    @property
    def variant_count(self) -> int:
        return len(self._variants)

    def _variant_words(self, question: str) -> list[str]:
        repaired = self.analyzer.repair(normalize(question)[:MAX_QUESTION])
        return self._content_words(repaired, find_dates(repaired, today_in_shanghai()))

    def _from_variants(self, query: Query) -> Answer | None:
        """The fact of the variant most like the question, if one fits the question's region."""
        best: tuple[float, float, int] | None = None
        for match in self._variants.matches(query.plain_words):
            position = self._retriever.position[match.variant.entry_id]
            fit = self.kb.applicability(self.kb.entries[position], query.region)
            if fit > 0 and (best is None or (match.similarity, fit) > best[:2]):
                best = (match.similarity, fit, position)
        if best is None:
            return None
        similarity, _, position = best
        hit = Hit(position, 0.0, similarity, ())
        return replace(self._wording.single(query, self.kb.entries[position], hit, None, ""), kind="variant")

    # -- entry point ---------------------------------------------------------------------------
    def answer(
        self, question: str, *, region: str | None = None, now: dt.date | None = None, previous: str | None = None
    ) -> Answer:
        """The answer to `question` for `region` on the day `now` (default: today in Beijing).

        Answers depend on nothing else (a PolicyQA's knowledge base and variants never change), and
        candidates ask the same few questions over and over: a bounded cache of recent answers saves
        the analysis and the search."""
        now = now or today_in_shanghai()
        parts, by_comma = split_parts(question), False
        if len(parts) < 2:
            parts, by_comma = comma_parts(question), True  # only when every part is answered surely
        if len(parts) >= 2:
            both = self._parts(parts, question, region=region, now=now)
            if both is not None and not (by_comma and both.confidence < CONFIDENT):
                return both
        if previous is not None:
            followed = self._follow_ups.read(question, previous, region=region, now=now)
            if followed is not None:
                return followed
        if not self._cache.maxsize:
            return self._answer(question, region=region, now=now)
        key = (question, region, now)
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        answer = self._answer(question, region=region, now=now)
        with self._cache_lock:
            self._cache[key] = answer
        return answer

    def _parts(self, parts: Sequence[str], question: str, *, region: str | None, now: dt.date) -> Answer | None:
        """A question in several parts (证书谁来发？补考最晚哪天？): each part answered, in order, for the
        region the whole names; None unless every part is answered, by facts of their own."""
        named = self.kb.regions.detect(self.analyzer.repair(normalize(question)))
        where = named[0] if named else region
        answers: list[Answer] = []
        for i, part in enumerate(parts):
            alone = self.answer(part, region=where, now=now)
            # 报名又是啥时候 after 哪天考: short, with no subject of its own beyond the topic.
            leans = is_elliptical(self.kb.regions.without_names(part.strip()))
            if i and alone.kind != "unanswerable" and (leans or not (alone.matched and alone.confidence >= CONFIDENT)):
                # Not sure on its own: read as a follow-up of the part before (哪天考？报名什么时候？).
                followed = self.answer(part, region=where, now=now, previous=parts[i - 1])
                found_before = any(followed.fact_ids == a.fact_ids for a in answers)
                if followed.matched and found_before and not self._subjects.words(part):
                    continue  # 最晚哪天 after 退考找谁登记: the fact found for that part says when too
                # Unless it only finds what an earlier part found (试点从几月开始 is not the 备案 date).
                if followed.matched and not found_before:
                    alone = followed
            answers.append(alone)
        if not all(a.matched for a in answers) or len({a.fact_ids for a in answers}) < len(answers):
            return None
        if len(answers) == 1:
            return answers[0]
        # A line two parts share (the same fact found for both) is shown once.
        lines = dict.fromkeys(line for a in answers for line in a.text.split("\n"))
        return Answer(
            "\n".join(lines),
            matched=True,
            sources=tuple(dict.fromkeys(s for a in answers for s in a.sources)),
            confidence=min(a.confidence for a in answers),
            fact_ids=tuple(dict.fromkeys(f for a in answers for f in a.fact_ids)),
            region=answers[0].region,
            regions=tuple(dict.fromkeys(r for a in answers for r in a.regions)),
            kind="parts",
        )

    def _answer(self, question: str, *, region: str | None, now: dt.date, analysed: bool = False) -> Answer:
        """`analysed`: the question is made of texts already normalised and repaired (a follow-up's
        readings), which are taken as they are."""
        text = (question if analysed else normalize(question))[:MAX_QUESTION]
        if not _WORD_CHAR.search(text):
            return self._wording.empty()
        if self.analyzer.is_smalltalk(text):
            return self._wording.smalltalk()
        repaired = text if analysed else self.analyzer.repair(text)
        if self.analyzer.is_foreign(repaired):
            return self._wording.abstain_on(text, region)
        named = self.kb.regions.detect(repaired)  # innermost first: 广东佛山 is about 佛山市
        # An unknown --region value is ignored rather than guessed.
        chosen = named[0] if named else self.kb.regions.resolve(region) if region else None
        if chosen and not named and asks_province_level(repaired):  # 省里的 asked from a city
            chosen = self.kb.regions.lineage(chosen)[-1]
        if chosen and not self.kb.covers(chosen):
            return self._wording.uncovered(chosen)
        after = self.analyzer.has_cue(repaired, "after_cues")
        dates = find_dates(repaired, now, future=not after)
        bad = [d for d in dates if d.date is None]
        if bad:
            return self._wording.bad_date(bad[0].text, chosen)
        query = self._query(text, repaired, chosen, dates, now)
        if query.occupation and query.occupation.alternatives:
            # An everyday name that fits several listed occupations (厨师): ask, never guess, unless
            # every list treats them alike (中式 and 西式烹调师 both leave the catalog in 福建).
            alike = self.occupations.alike(query.occupation)
            if alike is None:
                return self._wording.which_occupation(query.occupation, chosen)
            query = replace(query, occupation=alike)
        # Whether a certificate one holds still counts (电工证退出目录以后还算数吗) is answered by the
        # rule on certificates issued, not by the occupation's exam status.
        holds_one = VALIDITY in query.words
        # An amount, a pass mark, a web address, a list of institutions: asked of the rules, which
        # say it or are said not to, not answered with the occupation's list.
        detail = (
            _AMOUNT_ASKED.search(repaired)
            or asks_detail(repaired)
            or asks_members(repaired)
            or query.asks_beyond_status
        )
        several = self.occupations.named(repaired) if query.occupation else []
        # 修车、开吊车的是哪几个: which of several named occupations a list holds.
        which = len(several) > 1 and (query.wants_list or bool(_WHICH.search(repaired)))
        status = self.analyzer.has_cue(repaired, "status_cues") or which
        if query.occupation and status and not (holds_one or detail):
            answer = (
                (self._status.answer_each(query, several) if len(several) > 1 else None)
                or self._status.answer(query)
                or self._lookup(query, self._status.not_listed_prefix(query))
            )
        else:
            answer = self._lookup(query)
        if answer.kind == "abstain":
            # Variants only rescue abstentions: an answer the retrieval stands behind never changes.
            return self._from_variants(query) or answer
        return answer

    # -- analysis ------------------------------------------------------------------------------
    def _content_words(self, repaired: str, dates: Sequence[FoundDate]) -> list[str]:
        """The question's words without its dates and region names (both are matched structurally)."""
        plain = repaired
        cut = len(plain)  # spans are cut from the end; one that overlaps an earlier cut is skipped
        spans = [self._region_span(repaired, span) for span in self.kb.regions.spans(repaired)]
        for start, end in sorted([d.span for d in dates] + spans, reverse=True):
            if end <= cut:
                plain, cut = plain[:start] + " " + plain[end:], start
        return [w for w in self.analyzer.words(plain) if w not in self._region_words]

    def _region_span(self, text: str, span: tuple[int, int]) -> tuple[int, int]:
        """A region's span, less its last character when that begins a phrase the lexicon rewrites:
        吉林省统一鉴定 is 吉林 + 省统一鉴定 (the provincial unified exam), not 吉林省 + 统一鉴定."""
        start, end = span
        if end - start > 2 and any(p.match(text, end - 1) for p, _ in self.analyzer.lexicon.rewrites):
            return start, end - 1
        return span

    def _query(self, text: str, repaired: str, region: str | None, dates: list[FoundDate], now: dt.date) -> Query:
        words = plain = self._content_words(repaired, dates)
        besides = _BESIDES.search(repaired)
        if besides:
            # 除了笔试和实操还有啥: what is named after 除了 is known already; the rest asks for more.
            known = set(self.analyzer.words(besides.group(1)))
            words = [w for w in words if w not in known] or words
        occupation = self.occupations.find(repaired, original=text)
        docs = frozenset(
            doc for number in _NUMBER_CITED.findall(repaired) for doc in self._docs_numbered.get(number, ())
        )
        if occupation and occupation.known:
            # The occupation is matched as a whole: the words of the names it is written with
            # (搞HR人力资源的 → hr, 人力, 资源) are not also words for the facts to match.
            # The official name's own words stay: the list facts are written with them.
            official = set(self.analyzer.words(occupation.name)) | {occupation.name}
            named = {w for n in self.occupations.written(repaired, occupation.name) for w in self.analyzer.words(n)}
            words = [w for w in words if w not in named - official]
        if occupation and not occupation.known:
            # An occupation no list names is the topic of the question: keep it whole, so that
            # 一级建造师 weighs as one unknown thing rather than as 一级 / 建造 / 师.
            pieces = set(self.analyzer.words(occupation.name))
            words = [occupation.name, *(w for w in words if w not in pieces)]
        query = Query(repaired, words, region, dates, now, occupation, docs, tuple(plain))
        # A day the question names, where some fact holds it, is a word of what it asks about (9月30日
        # 当天系统怎么处理), unless the question asks for a date: then the day is what it is counted
        # from (11月18日考，成绩哪天出). A day no fact holds (today's, a made-up one) says nothing.
        held = self._retriever.index.weighted
        days = [w for d in dates if d.date and "月" in d.text and (w := day_word(d.date)) in held]
        if days and not query.asks_when:
            query = replace(query, words=[*words, *dict.fromkeys(days)])
        category = named_category(repaired) if query.wants_list or _WHICH.search(repaired) else None
        if category is not None:
            # 建筑类工种有哪些, 做饭做点心的有哪些: the group is matched as a whole (not as the one
            # occupation 做点心的 names), and it and the word 工种 select no fact: the list does.
            group, _ = category
            # Every word of the group the question uses (建筑工地: 建筑 and 工地), not just one.
            named = {w for word in group.words if word in repaired for w in self.analyzer.words(word)}
            named.update(_LIST_NOUNS)
            kept = [w for w in self._content_words(repaired, dates) if w not in named]
            query = replace(query, words=kept or words, occupation=None, category=group)
        return query

    # -- retrieval to answer -------------------------------------------------------------------
    def _lookup(self, query: Query, prefix: str = "") -> Answer:
        words = query.words
        occupation = query.known_occupation
        asks_more = False
        if occupation:
            # The occupation selects the notice; the rest of the question selects the fact.
            prefix = prefix or self._status.membership(query)
            if not _NAMES_EXAM_KIND.search(query.text):
                query = replace(query, exam_kinds=self._status.exam_kinds(query))
            # When the prefix says which list holds it and the question asks when (秘书考试是哪天),
            # every word of its name is left out (秘书 of 秘书（涉外秘书）): the date is the answer.
            asks_more = bool(prefix) and not query.wants_list and query.asks_when
            named = {occupation, *self.analyzer.words(occupation)} if asks_more else {occupation}
            words = [w for w in words if w not in named] or words
        hits = self._retriever.find(query, words)
        good = [h for h in hits if h.coverage >= self.threshold]
        if asks_more:
            # The prefix already says which list holds the occupation: 秘书考试是哪天 asks the date.
            good = [h for h in good if self.kb.entries[h.index].fact.kind != "occupation_list"] or good
        if not good:
            return self._wording.abstain(query, hits[0].coverage if hits else 0.0)
        good = self._unanswerable.stating_first(query, good)  # 查询要钱吗: the fact saying 免费 first
        why_not = self._unanswerable.reason(query, self.kb.entries[good[0].index])
        if why_not:
            return self._wording.cannot_say(why_not, query.region)
        if query.region is None:
            groups = self._retriever.region_groups(good)
            if len(groups) > 1 and query.asks_province_level:
                # 找省里谁: the province's rule, of the regions' (广东's 70号, not 广州's 145号).
                provincial = self._retriever.provincial(groups)
                if provincial is not None:
                    groups, good = {(): provincial}, [provincial, *(h for h in good if h is not provincial)]
            if len(groups) > 1:
                return self._wording.multi_region(query, groups, prefix)
        top = self._retriever.own_region_first(query, good)
        entry = self.kb.entries[top.index]
        if query.category is not None and entry.fact.kind == "occupation_list":
            return self._wording.category_members(query, entry, top)
        related = self._retriever.related(good)
        if query.asks_when and not holds_date(entry):
            # A when-question answered by a rule with no date: the dated fact beside it says when
            # (去年没考过的还能补考吗: who may, and the make-up dates), however it scored.
            # It may cover less of the question (考没过的还能补考吗: the dates do not say 不合格); else
            # the dated fact of the same clause (已受理报名的可以继续考试 … 12月31日前完成).
            related = (
                next(
                    (
                        self.kb.entries[h.index]
                        for h in hits[:3]
                        if h.index != top.index
                        and h.coverage >= self.threshold * COMPANION_COVERAGE
                        and self.kb.entries[h.index].regions == entry.regions
                        and holds_date(self.kb.entries[h.index])
                    ),
                    None,
                )
                or self._retriever.dated_beside(entry, words)
                or related
            )
        # A related fact that matches words the top one does not answers another part of the
        # question (谁来发？补考最晚哪天？): it is part of the answer. Otherwise it waits for 更多.
        # So is a dated one when the question asks when and the top one holds no date (去年没考过的
        # 还能补考吗: who may, and the make-up dates).
        part = related is not None and (
            any(set(h.matched) - set(top.matched) for h in good[1:3] if self.kb.entries[h.index] is related)
            or (query.asks_when and holds_date(related) and not holds_date(entry))
        )
        return self._wording.single(query, self.kb.entries[top.index], top, related, prefix, related_answers=part)
