"""Every date, duration, phone number, e-mail, count and listed occupation in the seed notices
is in the knowledge base as a structured value (not merely quoted), or in the ignore list below
with the reason it is left out."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.schema import Contact, DateRange, Event, OccupationList, OnDate, Relative, Rule

# (seed file, text as found) → why it is not a fact of its own.
IGNORED = {
    # Web-page footer of the Guangdong site: an ICP licence number, not a phone number.
    ("003_8405ba536889d27f.txt", "12027628"),
}


def seed_texts(seeds_dir: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(seeds_dir.glob("*.txt")):
        yield path.name, path.read_text(encoding="utf-8")


def facts_of(kb: KnowledgeBase, seed: str) -> list:
    return [e.fact for e in kb.entries if e.notice.seed == seed]


def structured_dates(kb: KnowledgeBase, seed: str) -> set[tuple[int, int, int]]:
    out: set[tuple[int, int, int]] = set()
    for n in kb.notices.values():
        if n.seed == seed and n.issued:
            out.add((n.issued.year, n.issued.month, n.issued.day))
    for f in facts_of(kb, seed):
        for w in getattr(f, "dates", []):
            if isinstance(w, OnDate):
                out.add((w.date.year, w.date.month, w.date.day))
            elif isinstance(w, DateRange):
                out.add((w.start.year, w.start.month, w.start.day))
                out.add((w.end.year, w.end.month, w.end.day))
    return out


def relative_amounts(kb: KnowledgeBase, seed: str, unit: str) -> set[int]:
    out: set[int] = set()
    for f in facts_of(kb, seed):
        rules = [w for w in getattr(f, "dates", []) if isinstance(w, Relative)]
        if isinstance(f, Rule):
            rules += f.periods
        out.update(r.amount for r in rules if r.unit == unit)
        out.update(c.value for c in f.counts if unit == "working_days" and "工作日" in c.unit)
    return out


@pytest.fixture(scope="module")
def seeds(seeds_dir: Path) -> list[tuple[str, str]]:
    found = list(seed_texts(seeds_dir))
    assert len(found) == 5, "expected the five seed notices"
    return found


def test_every_seed_is_covered_by_notices(kb, seeds):
    for name, _ in seeds:
        assert any(n.seed == name for n in kb.notices.values()), name


def test_full_dates(kb, seeds):
    missing = []
    for name, text in seeds:
        have = structured_dates(kb, name)
        for m in re.finditer(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", text):
            key = (int(m[1]), int(m[2]), int(m[3]))
            if key not in have and (name, m[0]) not in IGNORED:
                missing.append(f"{name}: {m[0]}")
    assert not missing, missing


def test_dates_without_year(kb, seeds):
    """X月Y日 and the list form 5月20、21日: month and day must be a structured date."""
    missing = []
    for name, text in seeds:
        have = {(m, d) for _, m, d in structured_dates(kb, name)}
        for m in re.finditer(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*((?:、\s*\d{1,2}\s*)*)日", text):
            days = [int(m[2])] + [int(x) for x in re.findall(r"\d{1,2}", m[3])]
            for day in days:
                if (int(m[1]), day) not in have and (name, m[0]) not in IGNORED:
                    missing.append(f"{name}: {m[0]}")
    assert not missing, missing


def test_months(kb, seeds):
    """2020年4月, 2014年10月前: the month must be covered by a structured date."""
    missing = []
    for name, text in seeds:
        have = {(y, m) for y, m, _ in structured_dates(kb, name)}
        for m in re.finditer(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?!\s*\d)", text):
            if (int(m[1]), int(m[2])) not in have and (name, m[0]) not in IGNORED:
                missing.append(f"{name}: {m[0]}")
    assert not missing, missing


def test_working_day_and_day_durations(kb, seeds):
    missing = []
    for name, text in seeds:
        working = relative_amounts(kb, name, "working_days")
        days = relative_amounts(kb, name, "days")
        for m in re.finditer(r"(\d+)\s*个工作日", text):
            if int(m[1]) not in working and (name, m[0]) not in IGNORED:
                missing.append(f"{name}: {m[0]}")
        for m in re.finditer(r"(\d+)\s*天内", text):
            if int(m[1]) not in days and (name, m[0]) not in IGNORED:
                missing.append(f"{name}: {m[0]}")
    assert not missing, missing


def test_minutes(kb, seeds):
    missing = []
    for name, text in seeds:
        minutes = {d.minutes for f in facts_of(kb, name) if isinstance(f, Rule) for d in f.durations}
        for m in re.finditer(r"(\d+)\s*分钟", text):
            if int(m[1]) not in minutes:
                missing.append(f"{name}: {m[0]}")
    assert not missing, missing


PHONE = re.compile(r"(?<![\d-])(?:[(（]\s*0\d{2,3}\s*[)）]\s*|0\d{2,3}-)?\d{5,8}(?![\d-])")


def test_phone_numbers(kb, seeds):
    missing = []
    for name, text in seeds:
        phones = {re.sub(r"\D", "", p.number) for f in facts_of(kb, name) if isinstance(f, Contact) for p in f.phones}
        for m in PHONE.finditer(text):
            digits = re.sub(r"\D", "", m[0])
            if len(digits) < 7 or (name, digits) in IGNORED:
                continue
            # A number written without its area code matches the stored one that has it.
            if not any(p == digits or p.endswith(digits) for p in phones):
                missing.append(f"{name}: {m[0]}")
    assert not missing, missing


def test_emails(kb, seeds):
    missing = []
    for name, text in seeds:
        emails = {e for f in facts_of(kb, name) if isinstance(f, Contact) for e in f.emails}
        for m in re.finditer(r"[\w.]+@[\w.]+\w", text):
            if m[0] not in emails:
                missing.append(f"{name}: {m[0]}")
    assert not missing, missing


def test_counts_of_occupations_and_qualifications(kb, seeds):
    missing = []
    for name, text in seeds:
        values = {c.value for f in facts_of(kb, name) for c in f.counts}
        values |= {f.stated_count for f in facts_of(kb, name) if isinstance(f, OccupationList) and f.stated_count}
        for m in re.finditer(r"(\d+)\s*(?:个职业|项职业资格|个职业（工种）)", text):
            if int(m[1]) not in values:
                missing.append(f"{name}: {m[0]}")
    assert not missing, missing


def test_enumerated_occupation_lists(kb, seeds):
    """'企业人力资源管理师、心理咨询师…5 个职业' and the 42-row exit table, name by name."""
    listed = {o for e in kb.occupation_lists for o in e.fact.occupations}  # type: ignore[union-attr]
    missing = []
    for name, text in seeds:
        for m in re.finditer(r"：([^：。\n]+?)\s*(\d+)\s*个职业", text):
            names = [n.strip() for n in m[1].split("、")]
            assert len(names) == int(m[2]), m[0]
            missing += [f"{name}: {n}" for n in names if n not in listed]
        for row in re.finditer(r"^(\d+)\t(\S+)\t(\d+)\t(\S+)$", text, re.M):
            missing += [f"{name}: {n}" for n in (row[2], row[4]) if n not in listed]
    assert not missing, missing
    exit_list = next(e.fact for e in kb.occupation_lists if e.fact.status == "exiting_catalog")
    assert len(exit_list.occupations) == 42


def test_quotes_are_verbatim(kb, seeds):
    """Every source quote is in its seed text (whitespace and page-break markers aside)."""
    texts = {name: re.sub(r"\s+|---", "", text) for name, text in seeds}
    wrong = []
    for e in kb.entries:
        if e.fact.id.endswith((".notice-card", ".attachments-card")) or e.notice.seed not in texts:
            continue
        quote = re.sub(r"\s+", "", e.fact.source.quote)
        for part in re.split(r"……|…", quote):
            if len(part) >= 4 and part not in texts[e.notice.seed]:
                wrong.append(f"{e.fact.id}: {part[:40]}")
    assert not wrong, wrong


def test_attachment_names_are_in_their_seed(kb, seeds):
    """The derived attachments card is not a quote; each name it lists is in the seed text
    (full- and half-width brackets alike)."""
    texts = {name: unicodedata.normalize("NFKC", re.sub(r"\s+|---", "", text)) for name, text in seeds}
    wrong = [
        f"{n.doc_no}: {name}"
        for n in kb.notices.values()
        for name in n.attachments
        if unicodedata.normalize("NFKC", re.sub(r"\s+", "", name)) not in texts.get(n.seed or "", "")
    ]
    assert not wrong, wrong
    assert sum(len(n.attachments) for n in kb.notices.values()) >= 10


def test_events_are_typed(kb):
    """Sanity of the walk above: it would pass vacuously on an empty base."""
    events = [e for e in kb.entries if isinstance(e.fact, Event)]
    assert len(events) >= 40
