"""Rules a notice states in a sentence that candidates need to know: who may apply, what to bring,
how the exam is held, how certificates are issued, how scores are reviewed, who pays.

A sentence is a rule when one of its clauses that carries no date says what must, may or may not
be done (须、应、可、不得、只能、视为、优先、免收…). Dates in the same sentence become their own facts;
the rule keeps the whole sentence as its answer so nothing said around it is lost. Its topic comes
from the section heading first (二、报名条件), then from the sentence's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from knowledge.drafting.view import View

if TYPE_CHECKING:
    from knowledge.drafting.facts import Fact, Numbering

_CLAUSES = re.compile(r"[^,;:，；：。]+")
_NORMATIVE = re.compile(
    r"须|应当?|不得|严禁|禁止|必须|方可|均可|可(?:以|申请|申报|报考|报名|通过|凭|按|根据|结合|在|到|向|就近|延期|选择)"
    r"|只能|仅限|限报|限复核|限\d|不予|不再|视为|优先|免收|免于|减半|不收取|不缴纳|只收取|一律|不纳入|不安排|不超过|不少于"
    r"|由.{1,24}?(?:颁发|组织|受理|负责|收取|收缴|统一|办理|审核|核发|支付|承担|安排|发放|实施|命题)"
    r"|按.{1,30}?执行|为主|采用|实行|凭.{1,20}?(?:进入|参加|领取|办理|申请)|享受"
    r"|携带|上传|提交|提供|面向|至少|就近|颁发|核发|到.{2,30}?(?:报名|办理|参加|领取|确认)"
    r"|原则上|暂不|暂停|作废|无效|按.{1,20}?(?:实施|进行|组织|安排|收取)"
)
"""What must, may or may not be done: the words that make a clause a rule rather than a statement."""

_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "报名条件",
        re.compile(r"条件|对象|范围|资格|年满|周岁|户籍|在校生|在校学生|劳动者|人员均可|可申报|可报考|不得报考|限报"),
    ),
    ("报名材料", re.compile(r"材料|身份证|照片|复印件|原件|证明|扫描件|承诺书")),
    ("报名方式", re.compile(r"报名方式|报名|平台|登录|注册|网上")),
    ("证书发放", re.compile(r"证书")),
    ("成绩复核与补考", re.compile(r"复核|补考|成绩|重新报名")),
    ("费用说明", re.compile(r"费|收取|缴纳|补贴|票据")),
    ("考试安排", re.compile(r"考试|考核|考场|考点|准考证|场次|命题|考务")),
)
"""Topics in the order they are tried; the heading is tried before the sentence."""

_RULE_SECTION = re.compile(r"条件|对象|材料|要求|须知|纪律|注意事项|其他事项|证书|复核|补考|范围")
"""Headings whose sentences are all rules (二、报名条件: 遵守国家法律法规，具有完全民事行为能力)."""

_NOT_A_RULE = re.compile(r"\s*(?:联系|咨询|电话|地址|邮编|传真|附件|[\d\s()（）\-—－]{7,})")
"""Lines of contacts and attachments: facts of their own kinds, never rules."""

_LEANS_ON_CONTEXT = 12
"""A rule sentence shorter than this (in Chinese characters) is read with the sentence before it."""

_CJK = re.compile(r"[\u4e00-\u9fff]")

_LEAD_LABEL = re.compile(r"^[^,;:，；：。]{2,12}[:：]")
"""报名方式：… — a label that says what the sentence is about."""


def _topic(text: str, heading: str) -> str:
    label = _LEAD_LABEL.match(text)
    for source in (heading, label.group(0) if label else "", text):
        for topic, words in _TOPICS:
            if source and words.search(source):
                return topic
    return "办理规定"


def rule_fact(
    view: View,
    quote: str,
    clause: str,
    ids: Numbering,
    source: Callable[[list[str]], Fact],
    heading: str,
    dated_spans: list[tuple[int, int]],
    previous: str = "",
) -> Fact | None:
    """The rule of one sentence, or None when no clause without a date says what must or may be done.
    A short rule that leans on the sentence before it (未备案的，不得组织认定) is given that sentence."""
    if _NOT_A_RULE.match(view.text) or view.text.strip(" 。") == heading:
        return None
    found: list[str] = []
    every = _RULE_SECTION.search(heading) is not None
    for part in _CLAUSES.finditer(view.text):
        if any(a < part.end() and part.start() < b for a, b in dated_spans):
            continue  # 须于3月29日17:00前完成缴费 is a deadline, kept by the dated fact
        if _NORMATIVE.search(part.group(0)) is not None or (every and _CJK.search(part.group(0))):
            found.append(view.original(*part.span()).strip())
    if not found or len(_CJK.findall("".join(found))) < 6:
        return None
    topic = _topic(view.text, heading)
    cited = source(found)
    if previous and len(_CJK.findall(quote)) < _LEANS_ON_CONTEXT:
        quote = f"{previous}{quote}"
        cited["quote"] = quote
    return {
        "id": ids.next("rule"),
        "kind": "rule",
        "review": True,
        "title": f"{topic}（{clause}）",
        "topic": topic,
        "answer": quote,
        "source": cited,
    }


def merge_adjacent_rules(facts: list[Fact], sentence_of: dict[int, int], limit: int = 3) -> list[Fact]:
    """Consecutive rule sentences of one line on one topic as one fact (at most `limit` sentences),
    as a notice's 报名条件 section reads as one answer. `sentence_of` maps id(fact) to the number of
    its sentence in the line: only sentences next to each other are joined, so the quote stays verbatim."""
    out: list[Fact] = []
    run = 0
    last_sentence = -2
    for fact in facts:
        last = out[-1] if out else None
        at = sentence_of.get(id(fact), -10)
        if (
            last is not None
            and at == last_sentence + 1
            and fact["kind"] == "rule"
            and last["kind"] == "rule"
            and last.get("topic") == fact.get("topic")
            and last.get("title") == fact.get("title")
            and fact["topic"] != "收费标准"  # each fee line is its own amount
            and run < limit
        ):
            # A short rule read with the sentence before it already holds that sentence: not twice.
            shared = _overlap(last["source"]["quote"], fact["source"]["quote"])
            last["answer"] = f"{last['answer']}{fact['answer'][shared:]}"
            last["source"]["quote"] = f"{last['source']['quote']}{fact['source']['quote'][shared:]}"
            last["source"]["found"] = type(last["source"]["found"])(
                [*last["source"]["found"], *fact["source"]["found"]]
            )
            run += 1
        else:
            out.append(fact)
            run = 1
        last_sentence = at
    return out


def _overlap(before: str, after: str) -> int:
    """The length of the longest end of `before` that `after` starts with."""
    return next((n for n in range(min(len(before), len(after)), 3, -1) if before.endswith(after[:n])), 0)
