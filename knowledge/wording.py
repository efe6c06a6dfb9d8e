"""How answers are worded: the fact for one region or several, the reasoning over its dates, the
notices that replaced it, its source clause, and what the bot says when it does not answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property

from rapidfuzz import fuzz

from knowledge.answer import HUMAN_HINT, Answer
from knowledge.base import Entry, KnowledgeBase, citation
from knowledge.occupations import OccupationMatch
from knowledge.query import Query
from knowledge.schema import DateRange, Event, Form, OccupationList, OnDate, Relative, Rule
from knowledge.search import Hit
from knowledge.timeline import compute_relative, relative_rules, status_now
from knowledge.workdays import format_date

CONFIDENT = 0.8
"""Coverage from which an answer no longer offers a human in case it misread the question."""
GIST_OVER = 80
"""A region's answer longer than this is shown by its title when regions differ."""
MAX_REGIONS = 4
"""Regions listed at most when the question named none."""
SAID_ALIKE = 90
"""How alike (rapidfuzz ratio) regions' rules must be to be said once: the same sentence with
another attachment number or a word changed."""
_ATTACHMENT = re.compile(r"附件\s*\d+")
EXAMPLES = "例如：“广州退考退费登记截止到哪天？”"


def cannot_say(reason: str, region: str | None) -> Answer:
    """An abstention that says why the notices cannot answer."""
    return Answer(
        f"抱歉，这个问题我在现有通知里没有找到可靠的答案：{reason}。为避免误导您，暂不作答。" + HUMAN_HINT,
        matched=False,
        region=region,
        kind="unanswerable",
    )


def _numbers(text: str) -> list[str]:
    """The numbers a rule states (dates, counts, amounts), not its attachments' numbers."""
    return re.findall(r"\d+", _ATTACHMENT.sub("", text))


def region_label(regions: Sequence[str]) -> str:
    return "、".join(regions)


def typo_lead(occupation: OccupationMatch) -> str:
    """Says how a misspelt occupation was read, so that a wrong guess is visible."""
    typed = occupation.corrected_from
    if typed and occupation.alike:
        names = "、".join((occupation.name, *occupation.alike))
        return f"（您说的“{typed}”可能是{names}，各名单对它们的规定相同，以下按“{occupation.name}”说明）"
    return f"（按“{occupation.name}”理解您说的“{typed}”）" if typed else ""


def source_line(entry: Entry) -> str:
    """One short citation line: the document and its clause. The verbatim text is `quote_line`,
    given on request (原文), so that an answer does not say the same thing twice."""
    return f"来源：{entry.citation}（{entry.fact.source.clause}）"


def quote_line(entry: Entry) -> str:
    src = entry.fact.source
    return f"{entry.citation}（{src.clause}）原文：“{src.quote}”"


def _label_keys(label: str) -> list[str]:
    return [k for k in ("日常", "统一", "全国", "全省", "竞赛", "补考") if k in label]


def _pick_rules(rules: list[Relative], query: Query) -> list[Relative]:
    """When a fact has several rules (15 working days for daily exams, 20 for unified ones),
    keep those whose label the question mentions; otherwise all of them."""
    named = [r for r in rules if r.label and any(k in query.text for k in _label_keys(r.label))]
    return named or rules


def not_yet_issued_note(query: Query, entry: Entry) -> str:
    """Says so when the answer's notice had not been issued on the day of the question."""
    notice = entry.notice
    if notice.issued_by(query.now):
        return ""
    when = format_date(notice.issued) if notice.issued else f"{notice.year}年"
    return f"（注意：{entry.citation}于{when}才印发，{format_date(query.now)}尚未发布，以上规定那时还不适用。）"


def _dated_caveat(query: Query, entries: Sequence[Entry]) -> str:
    """Old notices are still the ground truth, but a candidate should know how old they are."""
    years = sorted({e.notice.year for e in entries if isinstance(e.fact, Event)})
    if years and query.now.year - years[-1] >= 2:
        return f"（{'、'.join(map(str, years))}年的通知，以最新为准）"
    return ""


def gist(entry: Entry) -> str:
    """A fact in one short line: its title, with its dates (an event) or the fields to fill (a
    form) when the title leaves them out; empty when the title is no shorter than the answer."""
    fact = entry.fact
    line = fact.title.strip()
    if isinstance(fact, Event):
        days = [
            format_date(w.date) if isinstance(w, OnDate) else f"{format_date(w.start)}至{format_date(w.end)}"
            for w in fact.dates
            if isinstance(w, OnDate | DateRange)
        ]
        if days and not re.search(r"\d+月\d+日", line):
            line = f"{line}：{'、'.join(days)}"
    elif isinstance(fact, Form) and fact.fields:
        line = f"{line}，须填写{'、'.join(f.label for f in fact.fields)}"
    return line if len(line) < len(fact.answer.strip()) else ""


class Wording:
    """Writes the answers over one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def applies_lead(self, query: Query, entry: Entry) -> str:
        """Which region's rules answer, when the question's region has none of its own here:
        番禺区属于广州市 …, and why, when its own notice was not issued yet on the day asked."""
        region = query.region
        if region is None or region in entry.regions:
            return ""
        lineage = self.kb.regions.lineage(region)
        governing = next((r for r in lineage if r in entry.regions), None)
        if governing is None:
            return ""
        closer = lineage[: lineage.index(governing)]
        unissued = [n for n in self.kb.notices.values() if set(closer) & set(n.regions) and not n.issued_by(query.now)]
        if unissued:
            notice = unissued[0]
            when = format_date(notice.issued) if notice.issued else f"{notice.year}年"
            return f"（{citation(notice.doc_no, notice.version)}于{when}才印发，{region}此前按{governing}的规定。）"
        return f"（{self.kb.regions.name_within(region, governing)}属于{governing}，按{governing}的规定答复。）"

    # -- no answer -----------------------------------------------------------------------------
    @cached_property
    def covered(self) -> str:
        """The provinces some notice governs, as candidates read them (吉林省、广东省 …)."""
        return "、".join(sorted({self.kb.regions.lineage(r)[-1] for r in self.kb.governed}))

    @staticmethod
    def empty() -> Answer:
        return Answer(
            f"您好，请用文字描述您想咨询的问题，{EXAMPLES}“钳工还能报名吗？”",
            matched=False,
            kind="empty",
        )

    def smalltalk(self) -> Answer:
        return Answer(
            "您好！我是职业技能鉴定政策助手，可以解答"
            f"{self.covered}通知中的报名时间、考试安排、鉴定费缴纳、退考退费、补考、证书办理、"
            "职业是否退出目录等问题，并按法定节假日帮您推算截止日期。"
            f"请直接输入您的问题，{EXAMPLES}“吉林技师理论考多久？”"
            "需要人工服务时，可回复“转人工”。",
            matched=False,
            kind="smalltalk",
        )

    @staticmethod
    def bad_date(text: str, region: str | None) -> Answer:
        return Answer(
            f"您提供的日期“{text}”不存在，请检查后重新输入（例如：2026年6月22日）。",
            matched=False,
            region=region,
            kind="bad_date",
        )

    def uncovered(self, region: str) -> Answer:
        return Answer(
            f"抱歉，知识库中还没有{self.kb.regions.full_name(region)}的职业技能鉴定通知，无法给出准确答复，以免误导您。"
            f"目前收录的地区：{self.covered}。{HUMAN_HINT}",
            matched=False,
            region=region,
            kind="region_not_covered",
        )

    @staticmethod
    def which_occupation(occupation: OccupationMatch, region: str | None) -> Answer:
        choices = "、".join(f"“{name}”" for name in occupation.alternatives)
        return Answer(
            f"您说的“{occupation.corrected_from}”可能是{choices}，这些职业的规定不同。"
            f"请告诉我是哪一个，例如：“{occupation.alternatives[0]}还能考吗？”",
            matched=False,
            region=region,
            kind="clarify",
        )

    def abstain(self, query: Query, confidence: float) -> Answer:
        return self.abstain_on(query.text, query.region, confidence)

    def abstain_on(self, text: str, region: str | None, confidence: float = 0.0) -> Answer:
        return Answer(
            "抱歉，这个问题我在现有通知里没有找到可靠的答案，为避免误导您，暂不作答。"
            f"我可以解答{self.covered}职业技能鉴定通知中的报名、考试、缴费、退考退费、补考、证书等问题。" + HUMAN_HINT,
            matched=False,
            confidence=confidence,
            region=region,
            kind="abstain",
        )

    def cannot_say(self, reason: str, region: str | None) -> Answer:
        """An abstention that says why (the fact found is about another year, another document…)."""
        return cannot_say(reason, region)

    # -- parts of an answer --------------------------------------------------------------------
    def reasoning(self, query: Query, entry: Entry) -> str:
        """The fact's relative deadlines computed from the date the question gives (or a request
        for that date), and where today stands relative to the fact's own dates."""
        fact = entry.fact
        parts: list[str] = []
        if isinstance(fact, Event | Rule):
            rules = relative_rules(fact)
            days = [d.date for d in query.dates if d.date is not None]
            anchor = query.dates[0].date if query.dates else None
            if rules and anchor is not None:
                for rel in _pick_rules(rules, query):
                    action = fact.action if isinstance(fact, Event) else fact.title
                    # An exam over several days: "after" counts from its last day, "before" from its first.
                    start = (max(days) if rel.direction == "after" else min(days)) if days else anchor
                    parts.append(compute_relative(rel, start, action, query.now).text)
            if rules and anchor is None:
                # 考试（日常鉴定）and 考试（统一鉴定）are both the exam date to the candidate.
                anchors = "、".join(dict.fromkeys(re.sub(r"[（(].*", "", r.anchor) for r in rules))
                parts.append(f"告诉我{anchors}是哪天（如“6月22日”），可按工作日帮您算出具体日期。")
        if isinstance(fact, Event):
            status = status_now(fact, query.now)
            if status:
                parts.append(status.text)
        return "".join(parts)

    def newer_note(self, entry: Entry) -> str:
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

    # -- answers -------------------------------------------------------------------------------
    def single(
        self, query: Query, entry: Entry, hit: Hit, related: Entry | None, prefix: str, *, related_answers: bool = False
    ) -> Answer:
        """One fact (and perhaps a related one from the same regions), reasoned about and cited."""
        lines = [prefix] if prefix else []
        lines.append(self.applies_lead(query, entry))
        # The region in brackets says whose rule it is, unless it is the very region asked about.
        label = "" if query.region in entry.regions else f"【{region_label(entry.regions)}】"
        lines.append(f"{label}{entry.fact.answer.strip()}")
        lines.append(self.reasoning(query, entry))
        lines.append(not_yet_issued_note(query, entry))
        sources, facts, cited = [entry.doc_no], [entry.fact.id], [entry]
        # Shown with the answer when it answers another part of the question, or when the top fact
        # is not certain enough to stand alone (the related one may be what was meant).
        related_answers = related_answers or hit.coverage < CONFIDENT
        if related is not None and related_answers:
            lines.append(f"另外：{related.fact.answer.strip()}{self.reasoning(query, related)}")
            facts.append(related.fact.id)
            cited.append(related)
            if related.doc_no not in sources:
                sources.append(related.doc_no)
        lines.append(self.newer_note(entry))
        lines.append(_dated_caveat(query, [entry]))
        lines.append("；".join(dict.fromkeys(source_line(e) for e in cited)))
        if hit.coverage < CONFIDENT:
            lines.append("不是您要问的？请回复“转人工”。")
        return Answer(
            "\n".join(line for line in lines if line),
            matched=True,
            sources=tuple(sources),
            confidence=hit.coverage,
            fact_ids=tuple(facts),
            region=query.region,
            regions=entry.regions,
            kind="lookup",
            # A related fact that answers nothing asked waits until the candidate asks for more.
            more=(related.fact.id,) if related is not None and not related_answers else (),
        )

    def category_members(self, query: Query, entry: Entry, hit: Hit) -> Answer:
        """Which occupations of a list belong to the group asked about (建筑类工种有哪些): the
        members in the list's order; the whole list when none belongs, for the grouping is ours,
        not the notice's."""
        assert query.category is not None and isinstance(entry.fact, OccupationList)
        listed = entry.fact.occupations
        members = [o for o in listed if o in query.category.members]
        label = "" if query.region in entry.regions else f"【{region_label(entry.regions)}】"
        group = query.category.name
        if members:
            body = f"{label}《{entry.fact.title}》中属于{group}类的有{len(members)}个：{'、'.join(members)}。"
        else:
            body = f"{label}《{entry.fact.title}》中没有{group}类的职业。名单共{len(listed)}个：{'、'.join(listed)}。"
        lines = [self.applies_lead(query, entry), body, "（分类是本服务按常见叫法归纳的，以名单原文为准）"]
        lines += [not_yet_issued_note(query, entry), self.newer_note(entry), source_line(entry)]
        return Answer(
            "\n".join(line for line in lines if line),
            matched=True,
            sources=(entry.doc_no,),
            confidence=hit.coverage,
            fact_ids=(entry.fact.id,),
            region=query.region,
            regions=entry.regions,
            kind="lookup",
        )

    def _said_alike(self, query: Query, groups: dict[tuple[str, ...], Hit], prefix: str) -> Answer | None:
        """When every region's rule says the same thing (广东's 70号 and 广州's 145号 both ask for the
        弃考声明, worded alike), the rule in full once, with each notice that says it; else None."""
        hits = list(groups.values())[:MAX_REGIONS]
        entries = [self.kb.entries[h.index] for h in hits]
        first = entries[0].fact.answer
        if any(
            fuzz.ratio(first, e.fact.answer) < SAID_ALIKE or _numbers(first) != _numbers(e.fact.answer)
            for e in entries[1:]
        ):
            return None  # a date or an amount apart (9月22日, 9月30日) is another rule
        answer = self.single(query, entries[0], hits[0], None, prefix)
        also = "；".join(f"【{region_label(e.regions)}】{e.citation}" for e in entries[1:]) + "的规定相同。"
        lines = answer.text.split("\n")
        at = next((i for i, line in enumerate(lines) if line.startswith("来源：")), len(lines))
        return replace(
            answer,
            text="\n".join([*lines[:at], also, *lines[at:]]),
            sources=tuple(dict.fromkeys([*answer.sources, *(e.doc_no for e in entries[1:])])),
            fact_ids=tuple(dict.fromkeys([*answer.fact_ids, *(e.fact.id for e in entries[1:])])),
            regions=tuple(dict.fromkeys(r for e in entries for r in e.regions)),
        )

    def multi_region(self, query: Query, groups: dict[tuple[str, ...], Hit], prefix: str) -> Answer:
        """The question named no region and regions differ: one line per region, then a request
        for the candidate's region."""
        said_alike = self._said_alike(query, groups, prefix)
        if said_alike is not None:
            return said_alike
        lines = [prefix] if prefix else []
        lines.append("各地规定不同（您没说地区），分别是：")
        sources: list[str] = []
        facts: list[str] = []
        regions: list[str] = []
        best = max(h.coverage for h in groups.values())
        for key, hit in list(groups.items())[:MAX_REGIONS]:
            entry = self.kb.entries[hit.index]
            reasoning = self.reasoning(query, entry)
            newer = self.newer_note(entry).split("\n")[0]  # the region's line stays one line
            unissued = not_yet_issued_note(query, entry)
            # A long answer is given as its gist (the fact's title); the region's full answer is one
            # tap away (region buttons) or one word (the region's name).
            said = entry.fact.answer.strip()
            if len(said) > GIST_OVER:
                said = gist(entry) or said
            lines.append(f"【{region_label(key)}】{said}{reasoning}（{entry.citation}）{newer}{unissued}")
            if entry.doc_no not in sources:
                sources.append(entry.doc_no)
            facts.append(entry.fact.id)
            regions.extend(r for r in key if r not in regions)
        caveat = _dated_caveat(query, [self.kb.entries[h.index] for h in groups.values()])
        if caveat:
            lines.append(caveat)
        lines.append("告诉我您报考的地区，可只看该地的规定。")
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
