"""How well a draft matches the facts a person listed for a notice (a corpus file's `NN.expected.yaml`).

Each expected fact is fully correct, found but needing a fix (the right day without its time, a
list missing a member, the year left undetermined), or missed; each drafted date, period, relative
deadline, list and phone that matches nothing expected is wrong. Kinds the drafter does not
structure (fees, venues, refund rules, other rules) are scored by whether a drafted fact of the
matching kind holds their key value. The expected format is described in the corpus's README.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from knowledge.drafting.docnumbers import normalise_doc_number
from knowledge.drafting.draft import Draft, DraftNotice
from knowledge.loader import strings_outside_sources
from knowledge.regions import RegionRegistry

CORRECT, FIX, MISSED = "correct", "fix", "missed"
SCORED_KINDS = (
    "header",
    "date",
    "period",
    "month",
    "relative",
    "list",
    "contact",
    "form",
    "venue",
    "fee",
    "refund_rule",
    "rule",
)


@dataclass
class Tally:
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(kind, outcome) → count."""
    wrong: Counter[str] = field(default_factory=Counter)
    """kind → drafted values matching nothing expected."""
    notes: list[str] = field(default_factory=list)
    extra_rules: list[str] = field(default_factory=list)
    """Drafted rules stating nothing listed: counted apart from precision, as they hold no value."""

    def add(self, other: Tally) -> None:
        self.outcomes.update(other.outcomes)
        self.wrong.update(other.wrong)
        self.notes += other.notes
        self.extra_rules += other.extra_rules

    def count(self, kind: str | None = None, outcome: str | None = None) -> int:
        return sum(
            n
            for (k, o), n in self.outcomes.items()
            if (kind is None or k == kind) and (outcome is None or o == outcome)
        )

    @property
    def fully_correct(self) -> float:
        total = self.count()
        return self.count(outcome=CORRECT) / total if total else 1.0

    @property
    def precision(self) -> float:
        found = self.count(outcome=CORRECT) + self.count(outcome=FIX)
        wrong = sum(self.wrong.values())
        return found / (found + wrong) if found + wrong else 1.0


@cache
def _registry() -> RegionRegistry:
    return RegionRegistry.load()


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _time(value: Any) -> str | None:
    if not value:
        return None
    h, m = str(value).split(":")
    return f"{int(h):02d}:{int(m):02d}"


def _digits(text: Any) -> str:
    return re.sub(r"\D", "", str(text or ""))


def _compact(text: Any) -> str:
    return re.sub(r"\s+", "", str(text or ""))


def _whens(notice: DraftNotice) -> list[dict[str, Any]]:
    return [w for f in notice.facts for w in f.get("dates", [])]


def score(draft: Draft, expected: Mapping[str, Any]) -> Tally:
    """The draft's first notice (the one the text is) against the expected facts."""
    tally = Tally()
    if not draft.notices:
        tally.outcomes[("header", MISSED)] += 5
        return tally
    notice = draft.notices[0]
    _score_header(notice, expected, tally)
    used: set[int] = set()
    whens = _whens(notice)
    for fact in expected.get("facts") or []:
        kind = str(fact.get("kind"))
        outcome = _score_fact(kind, fact, notice, whens, used)
        tally.outcomes[(kind, outcome)] += 1
        if outcome != CORRECT:
            tally.notes.append(f"{kind} {outcome}: {_describe(fact)}")
    for i, when in enumerate(whens):
        if when.get("kind") == "date" and when.get("date") == notice.issued and when.get("label") in ("发文", "印发"):
            continue  # the issue date, scored with the header
        if i not in used and when.get("kind") in ("date", "range", "relative"):
            kind = {"date": "date", "range": "period", "relative": "relative"}[when["kind"]]
            if when.get("precision") == "month":
                kind = "month"
            tally.wrong[kind] += 1
            tally.notes.append(f"{kind} wrong: {_describe(when)}")
    expected_lists = [f for f in expected.get("facts") or [] if f.get("kind") == "list"]
    for fact in notice.facts:
        if fact["kind"] == "occupation_list" and not any(
            _overlap(set(fact["occupations"]), set(e.get("members") or [])) >= 0.5 for e in expected_lists
        ):
            tally.wrong["list"] += 1
            tally.notes.append(f"list wrong: {'、'.join(fact['occupations'])[:40]}")
    expected_phones = [_digits(f.get("phone")) for f in expected.get("facts") or [] if f.get("kind") == "contact"]
    for fact in notice.facts:
        for phone in fact.get("phones", []):
            digits = _digits(phone["number"])
            if not any(_same_phone(digits, p) for p in expected_phones):
                tally.wrong["contact"] += 1
                tally.notes.append(f"contact wrong: {phone['number']}")
    tally.extra_rules = extra_rules(notice, expected)
    tally.notes += [f"rule extra: {text}" for text in tally.extra_rules]
    return tally


def _describe(item: Mapping[str, Any]) -> str:
    return "，".join(f"{k}={v}" for k, v in item.items() if k != "kind" and v not in (None, ""))[:120]


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _same_phone(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or (min(len(a), len(b)) >= 7 and (a.endswith(b) or b.endswith(a))))


def _score_header(notice: DraftNotice, expected: Mapping[str, Any], tally: Tally) -> None:
    want_doc = expected.get("doc_no")
    got_doc = notice.doc_no
    same_doc = (want_doc is None and got_doc is None) or (
        want_doc is not None and got_doc is not None and normalise_doc_number(str(want_doc)) == got_doc
    )
    tally.outcomes[("header", CORRECT if same_doc else MISSED)] += 1
    if not same_doc:
        tally.notes.append(f"header doc_no: want {want_doc}, got {got_doc}")
    want_issued = _day(expected.get("issued"))
    same_issued = want_issued == notice.issued
    tally.outcomes[("header", CORRECT if same_issued else MISSED)] += 1
    if not same_issued:
        tally.notes.append(f"header issued: want {want_issued}, got {notice.issued}")
    want_title, got_title = _compact(expected.get("title")), _compact(notice.title)
    title = CORRECT if want_title == got_title else FIX if got_title and (got_title in want_title) else MISSED
    tally.outcomes[("header", title)] += 1
    if title != CORRECT:
        tally.notes.append(f"header title {title}: want {want_title}, got {got_title}")
    registry = _registry()
    # The person may write a city's full name (甘肃省天水市); the registry's name for it is the comparison.
    want_regions = {registry.resolve(str(r)) or str(r) for r in expected.get("regions") or []}
    got_regions = set(notice.regions)
    regions = CORRECT if want_regions == got_regions else FIX if want_regions & got_regions else MISSED
    tally.outcomes[("header", regions)] += 1
    if regions != CORRECT:
        tally.notes.append(f"header regions {regions}: want {sorted(want_regions)}, got {sorted(got_regions)}")
    got_numbers = {n for n in [*notice.cites, *notice.forwards] if n}
    for cite in expected.get("cites") or []:
        found = normalise_doc_number(str(cite)) in got_numbers
        tally.outcomes[("header", CORRECT if found else MISSED)] += 1
        if not found:
            tally.notes.append(f"header cite missed: {cite}")


def _score_fact(
    kind: str, fact: Mapping[str, Any], notice: DraftNotice, whens: list[dict[str, Any]], used: set[int]
) -> str:
    if kind == "date":
        day, time = _day(fact.get("date")), _time(fact.get("time"))
        for i, w in enumerate(whens):
            if w.get("kind") == "date" and w.get("date") == day and i not in used:
                used.add(i)
                return CORRECT if _time(w.get("time")) == time else FIX
        for i, w in enumerate(whens):
            if w.get("kind") == "range" and day in (w.get("start"), w.get("end")) and i not in used:
                used.add(i)
                return FIX
        return MISSED
    if kind == "period":
        start, end = _day(fact.get("start")), _day(fact.get("end"))
        times = (_time(fact.get("start_time")), _time(fact.get("end_time")))
        for i, w in enumerate(whens):
            if w.get("kind") == "range" and (w.get("start"), w.get("end")) == (start, end) and i not in used:
                used.add(i)
                same = (_time(w.get("start_time")), _time(w.get("end_time"))) == times
                return CORRECT if same else FIX
        halves = [
            i
            for i, w in enumerate(whens)
            if w.get("kind") == "date" and w.get("date") in (start, end) and i not in used
        ]
        used.update(halves)
        return FIX if halves else MISSED
    if kind == "month":
        year, first, last = int(fact.get("year") or 0), int(fact.get("from_month") or 0), int(fact.get("to_month") or 0)
        if not (year and 1 <= first <= 12 and 1 <= last <= 12):
            return MISSED
        start = dt.date(year, first, 1)
        end = dt.date(year, last, calendar.monthrange(year, last)[1])
        for i, w in enumerate(whens):
            if w.get("kind") == "range" and (w.get("start"), w.get("end")) == (start, end) and i not in used:
                used.add(i)
                return CORRECT
        # A narrower reading of the same month (5月中下旬 as the 11th to the 31st, 12月底 as the 31st)
        # found the fact; the person wrote the month, so it counts as needing a fix.
        for i, w in enumerate(whens):
            days: list[dt.date] = [w[k] for k in ("date", "start", "end") if isinstance(w.get(k), dt.date)]
            if days and all(start <= d <= end for d in days) and i not in used:
                used.add(i)
                return FIX
        return MISSED
    if kind == "relative":
        amount, unit = int(fact.get("amount") or 0), str(fact.get("unit"))
        direction = "after" if fact.get("direction") == "within" else str(fact.get("direction"))
        partial = None
        for i, w in enumerate(whens):
            if w.get("kind") == "relative" and i not in used and w.get("amount") == amount:
                if w.get("unit") == unit and w.get("direction") == direction:
                    used.add(i)
                    return CORRECT
                partial = partial if partial is not None else i
        if partial is not None:
            used.add(partial)
            return FIX
        return MISSED
    if kind == "list":
        members, count = set(fact.get("members") or []), fact.get("stated_count")
        best = 0.0
        for f in notice.facts:
            if f["kind"] == "occupation_list":
                got = set(f["occupations"])
                if got == members and f.get("stated_count") == count:
                    return CORRECT
                best = max(best, _overlap(got, members))
        return FIX if best >= 0.5 else MISSED
    if kind == "contact":
        want = _digits(fact.get("phone"))
        phones = [_digits(p["number"]) for f in notice.facts for p in f.get("phones", [])]
        return CORRECT if any(_same_phone(want, p) for p in phones) else MISSED
    if kind == "form":
        name = _compact(fact.get("name"))
        names = [_compact(f.get("name") or f.get("title")) for f in notice.facts if f["kind"] == "form"]
        return CORRECT if any(name and (name in n or n in name) for n in names if n) else MISSED
    if kind == "rule":
        return CORRECT if any(_states(str(fact.get("what") or ""), f) for f in notice.facts) else MISSED
    key = {"venue": "address", "fee": "amount", "refund_rule": "consequence"}.get(kind)
    value = _compact(fact.get(key)) if key else ""
    if kind == "fee":
        value = str(fact.get("amount") or "")
    if not value:
        return MISSED
    structured = {"venue": ("contact", "venue"), "fee": ("rule", "fee"), "refund_rule": ("rule",)}
    for f in notice.facts:
        if f["kind"] in structured.get(kind, ()) and any(
            value[:12] in _compact(s) for _, s in strings_outside_sources(f)
        ):
            return CORRECT
    return MISSED


RULE_COVERAGE = 0.6
"""Share of a listed rule's character pairs a drafted rule must hold: the person summarises a rule in
their own words (申报人员应符合… for the notice's 报考人员须符合…), so the exact text cannot be the test."""


def _pairs(text: str) -> list[str]:
    text = re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", text)
    return [text[i : i + 2] for i in range(len(text) - 1)]


def _states(rule: str, fact: Mapping[str, Any]) -> bool:
    """Whether a drafted rule's answer says the listed rule: most of its character pairs, in an
    answer no longer than a few such rules (a whole section pasted as one answer says nothing)."""
    if fact.get("kind") != "rule":
        return False
    answer = str(fact.get("answer") or "")
    return len(answer) <= max(4 * len(rule) + 60, 240) and _holds(answer, rule)


def extra_rules(notice: DraftNotice, expected: Mapping[str, Any]) -> list[str]:
    """Drafted rules that state nothing the person listed (as a rule, refund rule or fee): not wrong
    values, but sentences a reviewer reads and drops."""
    listed = [
        str(f.get(key) or "")
        for f in expected.get("facts") or []
        if f.get("kind") in ("rule", "refund_rule", "fee")
        for key in ("what", "who", "how", "consequence")
    ]
    listed = [t for t in listed if len(t) >= 5]
    out = []
    for fact in notice.facts:
        if fact["kind"] == "rule" and not any(_holds(str(fact.get("answer") or ""), t) for t in listed):
            out.append(str(fact.get("answer") or "")[:60])
    return out


def _holds(answer: str, listed: str) -> bool:
    """Whether `answer` holds at least RULE_COVERAGE of the listed text's character pairs."""
    want, have = _pairs(listed), set(_pairs(answer))
    return bool(want) and sum(p in have for p in want) / len(want) >= RULE_COVERAGE
