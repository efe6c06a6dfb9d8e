"""Follow-up questions read with the previous one (那报名呢, 证书呢, 那江苏呢, 现在还能申请吗): the
region, notice and subject carry over unless the follow-up names others, and the reading used is
one whose answer speaks of the follow-up's own subject."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from knowledge.analyzer import MAX_QUESTION, Analyzer, normalize
from knowledge.answer import Answer
from knowledge.base import KnowledgeBase
from knowledge.follow_up_cues import CORRECTION, FOLLOW_UP_LEAD, STILL, is_elliptical
from knowledge.occupations import OccupationMatcher
from knowledge.query import asks_province_level, asks_where
from knowledge.retrieval import Retriever, names_place
from knowledge.schema import Event, OnDate
from knowledge.subjects import Subjects
from knowledge.wording import CONFIDENT
from knowledge.workdays import format_date

_READINGS = 4
"""Readings of a follow-up tried by leaving out one of the previous question's words: its first
few words (a question rarely has more that carry meaning; each reading costs an answer)."""

INFORMATIVE = 3.0
_YEAR_NAMED = re.compile(r"\d{4}\s*年|明年|后年|去年|前年|今年")
"""A follow-up naming a year: what no notice of that year says stays unsaid, whatever the reading."""
_LEANING = 12
"""The longest a still-question (还能…吗) naming a new subject may be and still lean on the previous one."""
"""A word's weight (`FactIndex.word_weight`) from which it names a subject of its own: 变更 (4.6),
登记 (3.1), 照片 (3.3), not 申请 (2.3) or 报名 (1.3), which a still-question repeats loosely."""

_WHOM = re.compile(r"找谁问|找谁咨询|联系谁|问谁|联系方式|联系人|电话")
"""A follow-up asking whom to contact."""

_ASKING = re.compile(r"怎么|咋|多久|多长|多少|哪|什么|啥|谁|几|吗|能不能|是不是")
"""Question words: a correction with one asks a new question rather than naming another subject."""
_WHICH_BODY = re.compile(r"找谁|找哪|报给谁|交给谁|报哪|交哪|送哪|哪个部门|哪个单位")
"""A follow-up asking which body to go to or report to."""
_REPORT_TO = re.compile(r"报给谁|交给谁|报哪|交哪|送哪")
"""…to report or hand something to, which a fact says with 报/送 (报属地鉴定中心备案)."""
_BODY = r"[^，。；]{0,16}(?:机构|中心|部门|单位|窗口|命题部)"
_GOES_TO = re.compile(rf"(?:向|到|找){_BODY}")
"""A fact naming the body the candidate goes to (向原报考机构登记, 到中心5楼窗口办理)."""
_REPORTS_TO = re.compile(rf"(?:向|到|由|报送?至?|送至?|交至?){_BODY}")
"""A fact naming the body something is reported or handed to (报属地鉴定中心备案, 由…指导中心存档)."""

AnswerFn = Callable[..., Answer]
"""How a reading is answered: PolicyQA's own pipeline (question, region=, now=, analysed=)."""


class FollowUps:
    def __init__(
        self,
        kb: KnowledgeBase,
        analyzer: Analyzer,
        subjects: Subjects,
        occupations: OccupationMatcher,
        answer: AnswerFn,
        retriever: Retriever,
    ) -> None:
        self.kb = kb
        self.retriever = retriever
        self.weight = retriever.index.word_weight
        self.analyzer = analyzer
        self.subjects = subjects
        self.occupations = occupations
        self._answer = answer

    def answering_with(self, answer: AnswerFn) -> FollowUps:
        """The same reader over another answerer (a PolicyQA with variants)."""
        return FollowUps(self.kb, self.analyzer, self.subjects, self.occupations, answer, self.retriever)

    def read(self, question: str, previous: str, *, region: str | None, now: dt.date) -> Answer | None:
        """An elliptical question (那报名呢, 成绩多久出来, 那江苏呢) read together with the previous one:
        its region, notice and subject carry over unless the new question names others. None when
        the question stands alone, is about something the notices never cover, or the combined
        reading finds nothing."""
        text = self.analyzer.repair(normalize(question)[:MAX_QUESTION])
        if self.analyzer.is_foreign(text) or self.analyzer.is_smalltalk(text):
            return None
        rest = self.kb.regions.without_names(text)
        before = self.analyzer.repair(normalize(previous)[:MAX_QUESTION])
        still = bool(STILL.search(rest)) and len(re.sub(r"\W", "", rest)) <= 10
        occupation = self.occupations.find(text)
        # The topics the follow-up names, not counting an occupation's certificate (厨师证 is about
        # 厨师, not a switch to certificates).
        asked = text
        if occupation is not None and occupation.known:
            for name in self.occupations.written(text, occupation.name):
                asked = re.sub(rf"{re.escape(name)}证?", " ", asked)
        topics = self.analyzer.lexicon.topics.intersection(self.analyzer.words(asked))
        new_topics = topics - set(self.analyzer.words(before))
        if still and occupation is not None:
            return None  # 美容师还能考吗 names what it asks about: it stands alone
        # 现在还能报名吗 after 哪天考: whether registration is still open, not the exam again; 退了还能
        # 反悔吗 after the withdrawal deadline: whether the choice can be undone, not the deadline.
        asks_more = bool(new_topics) or self._asks_more(STILL.sub(" ", rest), before)
        still = still and not asks_more
        # 退了还能反悔吗 leans on the previous question; a long one naming its own subject does not
        # (我们学校是双证书招生的，国务院取消的职业学生还能考吗).
        leans = asks_more and STILL.search(rest) and len(re.sub(r"\W", "", rest)) <= _LEANING
        if not still and not is_elliptical(rest) and not leans:
            return None
        if self.kb.regions.spans(text):
            # 那江苏呢: the previous question, asked for the region named now.
            before = self.kb.regions.without_names(before)
        earlier = self.occupations.find(before) if occupation is not None and occupation.known else None
        switched = occupation is not None and earlier is not None and earlier.name != occupation.name
        if switched and earlier is not None:
            # 那修电梯的呢 after 做面点的: the previous question, asked of the occupation named now
            # (and of it alone, when that question named several: 茶艺师跟评茶员).
            for each in self.occupations.named(before) or [earlier]:
                for name in self.occupations.written(before, each.name):
                    before = before.replace(name, " ")
        if topics:
            # 那证书呢 after 统一鉴定成绩多久出来: how long for the certificates of the unified exam.
            before = self.analyzer.without_parts(before, self.subjects.topic_pattern)
            # …and a topic written as one character (啥时候考: 考 is 考试), where it is a word alone.
            synonyms, topic_words = self.analyzer.lexicon.synonyms, self.analyzer.lexicon.topics
            before = self.analyzer.without_tokens(before, lambda w: len(w) == 1 and synonyms.get(w) in topic_words)
        # The previous question's region comes with it, unless the follow-up names its own.
        carried = self.kb.regions.detect(before)
        region = region or (carried[0] if carried else None)
        if region and asks_province_level(text):
            # 省里那个 after a city's notice: the province's, which the city's forwards.
            province = self.kb.regions.lineage(region)[-1]
            if province != region:
                before, region = self.kb.regions.without_names(before), province
        lead = FOLLOW_UP_LEAD.sub("", text).rstrip("呢?？")
        if CORRECTION.match(text):
            # 不对，是全省统一的 after 全国统一鉴定有哪些职业: what the correction names replaces its
            # kin in the previous question (全国统一鉴定, 省属 for 市属, 统一鉴定 for 日常鉴定), which a
            # fact speaking of both would otherwise match as well.
            named = self.subjects.words(lead)
            before = self.analyzer.without_tokens(
                before, lambda w: len(w) >= 2 and any(w != x and w[-1] == x[-1] for x in named)
            )
        if still:
            # 现在还能申请吗 after a deadline: the same question again, reasoned about today, and the
            # verdict first (还来得及 / 已经过了) from the first deadline it states.
            answer = self._answer(before, region=region, now=now, analysed=True)
            if not answer.matched:
                return None
            verdict = self._verdict(answer, now)
            return replace(answer, asked=before, text=f"{verdict}\n{answer.text}" if verdict else answer.text)
        readings: dict[str, Answer] = {}  # each reading answered once, however many tries repeat it

        def read(reading: str) -> Answer:
            if reading not in readings:
                readings[reading] = self._answer(reading, region=region, now=now, analysed=True)
            return readings[reading]

        combined = f"{lead} {before}"
        answer = read(combined)
        if answer.kind == "unanswerable" and _YEAR_NAMED.search(lead):
            return answer  # 那2018年呢 after a 2017 date: said so, not answered from another reading
        if self.kb.regions.spans(text):
            # 那厦门呢 after a question about Jilin's phone numbers: Xiamen's phone numbers. Another
            # region words the same thing differently (江苏's 第二批 is not 福建's), so the previous
            # question less one of its words is tried too, and a reading about the previous
            # question's subject (电话) is preferred.
            # The head noun comes last in Chinese: 报名咨询电话 is about 电话 (found in the text, for
            # the segmenter may keep 报名咨询电话 as one word).
            placed = [(before.rfind(f) + len(f), f) for f in self.subjects.topic_forms if f in before]
            subject = [max(placed)[1]] if placed else []
            words = self.analyzer.words(before)
            tries = [combined] + [
                f"{lead} {' '.join(words[:i] + words[i + 1 :])}" for i in range(min(len(words), _READINGS))
            ]
            # Only the words the new region's notices use (福建 has no 第一批 / 第二批 of 江苏).
            switched_to = self.kb.regions.detect(text)
            known = self.retriever.vocabulary(switched_to[0]) if switched_to else frozenset()
            kept = [w for w in words if w in known]
            if known and len(kept) < len(words) and kept:
                tries.append(f"{lead} {' '.join(kept)}")
            if subject:
                tries.append(f"{lead} {subject[0]}")  # the subject alone: 厦门 电话
            best = self._best_reading(
                tries, read, about=lambda a: not subject or self.subjects.answered(a, subject[0]), or_any=True
            )
            if best is not None:
                answer, combined = best
        if switched and occupation is not None and answer.matched:
            # 那厨师证呢 after 电工证还能报名吗: about the occupation named now, whatever else it says.
            if any(n in answer.text for n in (occupation.name, *occupation.alike)):
                return replace(answer, asked=combined)
        wants_contact = bool(_WHOM.search(lead))
        wants_place = asks_where(lead)
        # 交到哪, 电话呢: what is asked is a kind of fact (a place, a contact), which `_fits` checks;
        # the verb around it (交) is no subject the fact must speak of.
        asks_kind = wants_contact or wants_place
        named_now = self.kb.regions.detect(text)
        # A correction (不对，我是问…) rules out the previous answer, unless it only swaps what the
        # question was about (我是问日常鉴定的 after 统一鉴定: one fact may state both).
        corrected = bool(CORRECTION.match(text)) and bool(_ASKING.search(lead))
        # 找谁 after 还能退考吗: the body the previous fact sends the candidate to (向原报考机构登记).
        names_body = _REPORTS_TO if _REPORT_TO.search(lead) else _GOES_TO
        # 找谁交申请: an answer must name the body (or a contact), whichever fact of it does.
        body = names_body if _WHICH_BODY.search(lead) and not wants_contact else None
        goes_to = bool(_WHICH_BODY.search(lead)) and any(
            names_body.search(self.kb.by_id[f].fact.answer) for f in answer.fact_ids[:1] if f in self.kb.by_id
        )
        missed = answer.matched and not (
            (goes_to or asks_kind or self.subjects.answered(answer, lead))
            and self._fits(answer, wants_contact, wants_place, body)
        )
        # The very facts of the previous question answer a follow-up only for a word that question
        # did not have (地址呢 after 电话多少: the contact says both; 那试点什么时候开始 after 公布名单:
        # not the 公布 fact again), and never a correction asking anew (不对，我是问钱怎么退). 去哪办 and 找谁 are
        # answered by the same fact when it names the place or the contact. Checked after `missed`
        # because the previous question's answer costs an answer more.
        repeated = (
            answer.matched
            and not missed
            and not (wants_contact or wants_place)
            and not goes_to
            # 最晚哪天 after 退考找谁登记: no subject of its own, so the previous one's facts answer it
            # (but 找谁 after a date asks for someone the date fact does not name).
            and bool(self.subjects.words(lead) or _WHICH_BODY.search(lead))
            # 那广州呢: the region named is what is new, when the answer is that region's own (广州市属的
            # 呢 after 部省属院校: not 广东's rule again, which 广州 inherits).
            and not (named_now and named_now[0] in answer.regions)
            # The first fact is the answer; what follows it is related.
            and answer.fact_ids[:1] == read(before).fact_ids[:1]
            and (corrected or not self._speaks_of(answer, lead, before))
        )
        if missed or repeated or not answer.matched:
            # The previous question's words won over the new subject (证书呢 after 第一批什么时候收尾
            # answered about the 收尾 deadline again): the previous question less one of its words,
            # then the follow-up alone, for the carried region; the first reading on the new subject.
            # Words are cut out of the text, so that what the question asks (什么时候) stays.
            words = self.analyzer.words(before)
            tries = [f"{lead} {before.replace(w, ' ', 1)}" for w in words[:_READINGS]]
            # Last, the new subject with only the previous question's region and how it asks.
            bare = self.analyzer.without_tokens(before, set(self.subjects.words(before)).__contains__)
            earlier_answer = read(before)
            if earlier_answer.sources and self.subjects.words(lead):
                # The new subject in the notice the previous answer came from (邮箱多少 after the
                # 2020 pilot's conditions: that notice's mailbox, not a 2017 one of the same region).
                tries.append(f"{lead} {bare} {self._cited_as(earlier_answer.sources[0])}")
            if asks_kind and region:
                # 有问题找谁问 after talk of a deadline: the region's contact, whatever else was said.
                tries.append(f"{lead} {region}")
            previous_facts = earlier_answer.fact_ids

            def about(a: Answer) -> bool:
                return (
                    (asks_kind or self.subjects.answered(a, lead))
                    and self._fits(a, wants_contact, wants_place, body)
                    and (a.fact_ids[:1] != previous_facts[:1] or (not corrected and self._speaks_of(a, lead, before)))
                )

            # The bare reading only when no reading that keeps more of the previous question (or
            # its notice) is on the new subject: it has lost what the conversation was about.
            best = self._best_reading(tries, read, about=about) or self._best_reading(
                [f"{lead} {bare}"], read, about=about
            )
            if best is not None:
                return replace(best[0], asked=best[1])
            alone = read(text)
            if (
                alone.matched
                and self._fits(alone, wants_contact, wants_place, body)
                and not (repeated and alone.fact_ids[:1] == previous_facts[:1])
            ):
                return alone
        return replace(answer, asked=combined) if answer.matched else None

    def _verdict(self, answer: Answer, now: dt.date) -> str:
        """Whether the first deadline of the answer's facts is still ahead, in a word."""
        for fact_id in answer.fact_ids:
            entry = self.kb.by_id.get(fact_id)
            fact = entry.fact if entry is not None else None
            days = (
                [w for w in fact.dates if isinstance(w, OnDate) and w.bound == "by"] if isinstance(fact, Event) else []
            )
            if days:
                last = days[0].date
                if now <= last:
                    return f"还来得及：截止日期是{format_date(last)}。"
                return f"已经过了：截止日期{format_date(last)}已过。"
        return ""

    @staticmethod
    def _cited_as(doc_no: str) -> str:
        """How a question names a notice by its number (粤人社函〔2020〕61号 → 61号), which
        retrieval weighs toward that notice."""
        return doc_no.split("〕")[-1]

    def _speaks_of(self, answer: Answer, lead: str, before: str) -> bool:
        """Whether `answer` speaks of what the follow-up `lead` adds to `before`: of each of its
        informative new words when it has some (试点什么时候开始: 开始, not just 试点)."""
        informative = self._new_informative(lead, before)
        if informative:
            return all(self.subjects.answered(answer, w) for w in informative)
        # Else of the weightiest new word (考试最晚啥时候考完 after a withdrawal deadline: 完成, which
        # the deadline does not speak of, not 考试, which it does in passing).
        new = self.subjects.new_words(lead, before)
        return bool(new) and self.subjects.answered(answer, max(new, key=self.weight))

    def _asks_more(self, text: str, before: str) -> bool:
        """Whether `text` names an informative word (变更, 登记: one few facts use) that the previous
        question `before` does not have."""
        return bool(self._new_informative(text, before))

    def _new_informative(self, text: str, before: str) -> list[str]:
        """The subject words of `text` that `before` lacks and few facts use (weight ≥ INFORMATIVE)."""
        said = set(self.analyzer.words(before))
        return [w for w in self.subjects.words(text) if w not in said and self.weight(w) >= INFORMATIVE]

    def _fits(
        self, answer: Answer, wants_contact: bool, wants_place: bool, body: re.Pattern[str] | None = None
    ) -> bool:
        """找谁问 after a deadline wants a contact, 去哪办 a place, 找谁交 a body (named as `body` finds
        it, or a contact), whatever else the reading found."""
        entries = [e for f in answer.fact_ids if (e := self.kb.by_id.get(f)) is not None]
        if wants_contact and not any(e.fact.kind == "contact" for e in entries):
            return False
        if body is not None and not any(e.fact.kind == "contact" or body.search(e.fact.answer) for e in entries):
            return False
        return not wants_place or any(names_place(e) for e in entries)

    @staticmethod
    def _best_reading(
        tries: Sequence[str], read: Callable[[str], Answer], *, about: Callable[[Answer], bool], or_any: bool = False
    ) -> tuple[Answer, str] | None:
        """The most confident answer among readings of a follow-up that is `about` its subject (or,
        `or_any`, about anything when none is), with the reading; the first wins a tie. Readings
        are answered in order until one is certain: a follow-up costs a few answers, not ten."""
        found: list[tuple[Answer, str]] = []
        on_subject: list[tuple[Answer, str]] = []
        for reading in tries:
            answer = read(reading)
            if not answer.matched:
                continue
            found.append((answer, reading))
            if about(answer):
                if answer.confidence >= CONFIDENT:
                    return answer, reading
                on_subject.append((answer, reading))
        pool = on_subject or (found if or_any else [])
        return max(pool, key=lambda p: p[0].confidence) if pool else None
