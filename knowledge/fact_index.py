"""Which text of a fact is searchable, in which field, and the index built from it."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.analyzer import Analyzer
from knowledge.base import Entry
from knowledge.datetext import day_word
from knowledge.schema import Contact, DateRange, Event, Form, OccupationList, OnDate, Rule
from knowledge.search import FactIndex


def searchable_texts(entry: Entry) -> dict[str, list[str]]:
    """The texts of a fact per index field (field weights are in `knowledge.search`)."""
    f = entry.fact
    fields: dict[str, list[str]] = {
        "title": [f.title],
        "topic": [f.topic],
        "keywords": list(f.keywords),
        "questions": list(f.questions),
        # A notice card's answer summarises every topic of its notice; indexed, the card would
        # win any broad question.
        "answer": [] if f.id.endswith(".notice-card") else [f.answer],
    }
    details: list[str] = []
    if isinstance(f, Event):
        fields["answer"].append(f.action)
    elif isinstance(f, OccupationList):
        fields["names"] = list(f.occupations)
    elif isinstance(f, Rule):
        details += f.materials
        details += [f"{a.body} {a.scope}" for a in f.authorities]
        details += [f"{d.subject} {d.text or ''}" for d in f.durations]
    elif isinstance(f, Form):
        details += [f.name, *(x.label for x in f.fields), *f.columns, *f.notes]
    elif isinstance(f, Contact):
        details += [f.organization, f.department or "", f.person or "", f.address or ""]
        details += [p.label or "" for p in f.phones]
    if details:
        fields["details"] = details
    return fields


def build_index(entries: Sequence[Entry], analyzer: Analyzer, ignored: frozenset[str]) -> FactIndex:
    """Segment every searchable text once (memoised across runs) and index the words, without
    the `ignored` ones (region names: a region filters facts, it does not describe them)."""
    per_entry = [searchable_texts(e) for e in entries]
    memo = analyzer.words_memo(t for fields in per_entry for texts in fields.values() for t in texts)
    docs = [
        {field: [w for t in texts for w in memo[t] if w not in ignored] for field, texts in fields.items()}
        for fields in per_entry
    ]
    for doc, entry in zip(docs, entries, strict=True):
        days = held_days(entry)
        if days:
            doc["dates"] = days
    return FactIndex(docs, is_topic_word=analyzer.is_topic_word)


def held_days(entry: Entry) -> list[str]:
    """The days an event holds, as search words (see `day_word`): its dates, a period's first
    and last day (not a month-precision period's, which names no day)."""
    fact = entry.fact
    if not isinstance(fact, Event):
        return []
    days = []
    for when in fact.dates:
        if isinstance(when, OnDate):
            days.append(day_word(when.date))
        elif isinstance(when, DateRange) and when.precision == "day":
            days += [day_word(when.start), day_word(when.end)]
    return list(dict.fromkeys(days))
