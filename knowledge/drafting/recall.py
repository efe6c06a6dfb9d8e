"""How much of a hand-made knowledge-base entry a draft recovers, per kind of fact.

For a seed file, the expected values are those the hand-made notices from that file hold as
structured data: document numbers (own, forwarded, cited), dates (issue dates, days and the two
ends of periods), relative deadlines (amount, unit, direction), occupation lists (names and
stated count) and phone numbers. Recall is the share of them the draft holds too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from knowledge.drafting.docnumbers import normalise_doc_number
from knowledge.drafting.draft import Draft
from knowledge.schema import Contact, DateRange, Event, Notice, OccupationList, OnDate, Relative, Rule

KINDS = ("doc_numbers", "dates", "relative", "occupation_lists", "phones")
KIND_NAMES = {
    "doc_numbers": "文号",
    "dates": "日期",
    "relative": "相对期限",
    "occupation_lists": "职业名单",
    "phones": "电话",
}
TARGETS = {"doc_numbers": 1.0, "dates": 1.0, "relative": 0.95, "occupation_lists": 0.95, "phones": 0.95}


@dataclass(frozen=True)
class KindRecall:
    kind: str
    found: int
    expected: int
    missing: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0


@dataclass(frozen=True)
class Values:
    """The comparable values of one side (hand-made or drafted) for one seed file."""

    doc_numbers: set[str]
    dates: set[dt.date]
    relative: Counter[tuple[int, str, str]]
    occupation_lists: list[tuple[frozenset[str], int | None]]
    phones: set[str]


def _doc(number: str) -> str:
    return normalise_doc_number(number) or number


def expected_values(notices: Iterable[Notice]) -> Values:
    """What the hand-made notices hold as structured values."""
    docs: set[str] = set()
    dates: set[dt.date] = set()
    relative: Counter[tuple[int, str, str]] = Counter()
    lists: list[tuple[frozenset[str], int | None]] = []
    phones: set[str] = set()
    for notice in notices:
        docs |= {_doc(n) for n in [notice.doc_no, *notice.forwards, *notice.cites]}
        if notice.issued:
            dates.add(notice.issued)
        for fact in notice.facts:
            whens = list(fact.dates) if isinstance(fact, Event) else []
            whens += list(fact.periods) if isinstance(fact, Rule) else []
            for when in whens:
                if isinstance(when, OnDate):
                    dates.add(when.date)
                elif isinstance(when, DateRange):
                    dates |= {when.start, when.end}
                elif isinstance(when, Relative):
                    relative[(when.amount, when.unit, when.direction)] += 1
            if isinstance(fact, OccupationList):
                lists.append((frozenset(fact.occupations), fact.stated_count))
            if isinstance(fact, Contact):
                phones |= {re.sub(r"\D", "", p.number) for p in fact.phones}
    return Values(docs, dates, relative, lists, phones)


def drafted_values(draft: Draft) -> Values:
    """The same values read from a draft."""
    docs: set[str] = set()
    dates: set[dt.date] = set()
    relative: Counter[tuple[int, str, str]] = Counter()
    lists: list[tuple[frozenset[str], int | None]] = []
    phones: set[str] = set()
    for notice in draft.notices:
        docs |= {n for n in [notice.doc_no, *notice.forwards, *notice.cites] if n}
        if notice.issued:
            dates.add(notice.issued)
        for fact in notice.facts:
            for when in fact.get("dates", []):
                dates |= {when.get(k) for k in ("date", "start", "end") if isinstance(when.get(k), dt.date)}
                if when["kind"] == "relative":
                    relative[(when["amount"], when["unit"], when["direction"])] += 1
            if fact["kind"] == "occupation_list":
                lists.append((frozenset(fact["occupations"]), fact.get("stated_count")))
            phones |= {re.sub(r"\D", "", p["number"]) for p in fact.get("phones", [])}
    return Values(docs, dates, relative, lists, phones)


def _same_phone(a: str, b: str) -> bool:
    """A number written without its area code (88690738) is the one stored with it."""
    return a == b or (min(len(a), len(b)) >= 7 and (a.endswith(b) or b.endswith(a)))


def compare(expected: Values, drafted: Values) -> list[KindRecall]:
    """Recall per kind of the drafted values against the expected ones."""
    out = []
    missing_docs = sorted(expected.doc_numbers - drafted.doc_numbers)
    out.append(
        KindRecall(
            "doc_numbers", len(expected.doc_numbers) - len(missing_docs), len(expected.doc_numbers), tuple(missing_docs)
        )
    )
    missing_dates = sorted(expected.dates - drafted.dates)
    out.append(
        KindRecall(
            "dates", len(expected.dates) - len(missing_dates), len(expected.dates), tuple(map(str, missing_dates))
        )
    )
    lacking = expected.relative - drafted.relative
    total = sum(expected.relative.values())
    out.append(
        KindRecall("relative", total - sum(lacking.values()), total, tuple(f"{a} {u} {d}" for a, u, d in lacking))
    )
    missing_lists = [
        f"{'、'.join(sorted(names))[:30]}…（{count}）"
        for names, count in expected.occupation_lists
        if (names, count) not in drafted.occupation_lists
    ]
    n = len(expected.occupation_lists)
    out.append(KindRecall("occupation_lists", n - len(missing_lists), n, tuple(missing_lists)))
    missing_phones = sorted(p for p in expected.phones if not any(_same_phone(p, q) for q in drafted.phones))
    out.append(
        KindRecall("phones", len(expected.phones) - len(missing_phones), len(expected.phones), tuple(missing_phones))
    )
    return out


def total(rows: Iterable[list[KindRecall]]) -> dict[str, KindRecall]:
    """Recall per kind over several seed files."""
    sums: dict[str, Any] = {k: [0, 0, []] for k in KINDS}
    for row in rows:
        for item in row:
            sums[item.kind][0] += item.found
            sums[item.kind][1] += item.expected
            sums[item.kind][2] += list(item.missing)
    return {k: KindRecall(k, f, e, tuple(m)) for k, (f, e, m) in sums.items()}


def targets_met(totals: dict[str, KindRecall]) -> dict[str, bool]:
    return {k: totals[k].recall >= TARGETS[k] for k in KINDS}
