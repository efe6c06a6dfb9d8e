"""Notices published from the staff console, joined with the shipped files into one knowledge base.

The console keeps a notice as the mapping `kb draft` produced and a person reviewed (JSON in the
database). Here such mappings are validated exactly as `kb check` validates a file (review marks
and unresolved problems, the schema, then the checks across all notices: regions, fact ids,
references) and built into the knowledge base the bot answers from. Nothing here touches a
database: the caller hands over the mappings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.base import KnowledgeBase, citation
from knowledge.loader import LoadProblem, cross_checks, validate_mapping
from knowledge.regions import RegionRegistry
from knowledge.schema import Notice, citation_of

ACCEPT, REJECT = "accept", "reject"
"""A reviewer's decision on one drafted fact; a fact with neither is still to be reviewed."""
_FACT_REFS = ("grant", "deadline", "exam_by", "occupation_list", "declaration", "refund", "report")


@dataclass(frozen=True)
class PublishedNotice:
    """One published version: its knowledge-base mapping and the name problems give it."""

    data: Mapping[str, Any]
    name: str
    """As answers cite it (knowledge.base.citation): 粤人社职鉴〔2027〕5号（第2版）."""

    @classmethod
    def of(cls, data: Mapping[str, Any], doc_no: str, version: int) -> PublishedNotice:
        """`doc_no` is the stored key; a notice without a number is named by its citation instead."""
        return cls(data, citation(citation_of(data) or doc_no, version))


def jsonable(value: Any) -> Any:
    """A draft mapping as plain JSON: dates as YYYY-MM-DD, the YAML flow helpers as dicts and lists."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def reviewed_mapping(data: Mapping[str, Any], decisions: Mapping[str, str]) -> dict[str, Any]:
    """The mapping to publish: rejected facts left out, accepted ones without their review mark.
    A fact nobody decided on keeps `review: true`, so validation refuses it as `kb check` would."""
    out = {k: v for k, v in data.items() if k not in ("review", "problems", "facts")}
    if data.get("review") is True:
        out["review"] = True
    if data.get("problems"):
        out["problems"] = list(data["problems"])
    facts = []
    for fact in data.get("facts") or []:
        decision = decisions.get(str(fact.get("id")))
        if decision == REJECT:
            continue
        kept = {k: v for k, v in fact.items() if k != "review"}
        if decision != ACCEPT:
            kept["review"] = True
        facts.append(kept)
    out["facts"] = facts
    return out


def fact_prefix(data: Mapping[str, Any]) -> str | None:
    """The part of the fact ids before the first dot (yue5 in yue5.date-3)."""
    for fact in data.get("facts") or []:
        ident = str(fact.get("id") or "")
        if "." in ident:
            return ident.split(".", 1)[0]
    return None


def with_unique_prefix(data: Mapping[str, Any], taken: Collection[str]) -> dict[str, Any]:
    """`data` with its fact ids renamed when another notice already uses their prefix: two
    bureaus' 5号 both draft as yue5.*, and fact ids must be unique across the knowledge base.
    References to the ids (occupation lists, the withdrawal section) follow the rename."""
    prefix = fact_prefix(data)
    if prefix is None or prefix not in taken:
        return dict(data)
    year = re.search(r"〔(\d{4})〕", str(data.get("doc_no") or ""))
    base = f"{prefix}-{year.group(1)}" if year else prefix
    new, n = base, 1
    while new in taken:
        n += 1
        new = f"{base}-{n}"

    def rename(ident: Any) -> Any:
        return f"{new}.{ident.split('.', 1)[1]}" if isinstance(ident, str) and ident.startswith(f"{prefix}.") else ident

    facts = []
    for fact in data.get("facts") or []:
        fact = {**fact, "id": rename(fact.get("id"))}
        applies = fact.get("applies")
        if isinstance(applies, Mapping) and applies.get("occupation_lists"):
            fact["applies"] = {**applies, "occupation_lists": [rename(r) for r in applies["occupation_lists"]]}
        facts.append(fact)
    out = {**data, "facts": facts}
    withdrawal = data.get("withdrawal")
    if isinstance(withdrawal, Mapping):
        out["withdrawal"] = {k: rename(v) if k in _FACT_REFS else v for k, v in withdrawal.items()}
    return out


def _parsed(
    published: Sequence[PublishedNotice], known: Mapping[str, Notice]
) -> tuple[list[tuple[PublishedNotice, Notice]], list[LoadProblem]]:
    """Each mapping validated on its own; a number already taken is a problem of the later one."""
    taken = dict(known)
    good: list[tuple[PublishedNotice, Notice]] = []
    problems: list[LoadProblem] = []
    for item in published:
        notice, found = validate_mapping(item.name, dict(item.data))
        if notice is not None and notice.doc_no in taken:
            message = f"文号 {notice.doc_no} 已在知识库中（同一文号只能有一个生效版本）"
            found = [LoadProblem(item.name, "doc_no", message)]
        if notice is None or found:
            problems.extend(found)
            continue
        taken[notice.doc_no] = notice
        good.append((item, notice))
    return good, problems


def build_knowledge_base(
    shipped: Sequence[Notice], published: Sequence[PublishedNotice], regions: RegionRegistry
) -> tuple[KnowledgeBase, list[LoadProblem]]:
    """The shipped notices plus every published one that is still valid, and the problems of those
    left out. Each was validated when it was published, but a later change (a shipped file that
    now uses the same fact id, a renamed region) must cost that notice, not the whole bot.

    A newer notice may name in `supersedes` one that has since been withdrawn: that reference is
    dropped quietly, since the withdrawal is the staff's decision, not a fault of the newer notice."""
    shipped_by_no = {n.doc_no: n for n in shipped}
    good, problems = _parsed(published, shipped_by_no)
    docs = set(shipped_by_no) | {n.doc_no for _, n in good}
    good = [(item, n.model_copy(update={"supersedes": [d for d in n.supersedes if d in docs]})) for item, n in good]
    while True:
        notices = {**shipped_by_no, **{n.doc_no: n for _, n in good}}
        files = {doc: doc for doc in shipped_by_no} | {n.doc_no: item.name for item, n in good}
        names = {item.name for item, _ in good}
        found = [p for p in cross_checks(notices, files, regions) if p.file in names]
        if not found:
            return KnowledgeBase(list(notices.values()), regions), problems
        problems.extend(found)
        bad = {p.file for p in found}
        good = [(item, n) for item, n in good if item.name not in bad]


def check_candidate(
    candidate: PublishedNotice,
    shipped: Sequence[Notice],
    live: Sequence[PublishedNotice],
    regions: RegionRegistry,
) -> tuple[KnowledgeBase | None, list[LoadProblem]]:
    """Validate a notice about to be published against everything live, as `kb check` would.

    `live` should leave out the version the candidate replaces (same number). Returns the knowledge
    base with the candidate in it, or None and the candidate's own problems."""
    base, _ = build_knowledge_base(shipped, live, regions)
    notice, problems = validate_mapping(candidate.name, dict(candidate.data))
    if notice is None:
        return None, problems
    if notice.doc_no in base.notices:
        where = "知识库文件" if notice.doc_no in {n.doc_no for n in shipped} else "已发布的通知"
        return None, [LoadProblem(candidate.name, "doc_no", f"文号 {notice.doc_no} 与{where}重复")]
    notices = {**base.notices, notice.doc_no: notice}
    files = {doc: doc for doc in base.notices} | {notice.doc_no: candidate.name}
    problems = [p for p in cross_checks(notices, files, regions) if p.file == candidate.name]
    if problems:
        return None, problems
    return KnowledgeBase(list(notices.values()), regions), []


def fact_of_problem(problem: LoadProblem, data: Mapping[str, Any]) -> str | None:
    """The id of the fact a problem is about, or None for the notice's header. The schema names
    a fact by its position (facts.3.dates.0.date), the cross-checks by its id (facts.yue5.date-3)."""
    location = problem.location
    if not location.startswith("facts."):
        return None
    rest = location[len("facts.") :]
    facts = data.get("facts") or []
    head = rest.split(".", 1)[0]
    if head.isdigit():
        index = int(head)
        return str(facts[index].get("id")) if index < len(facts) else None
    ids = sorted((str(f.get("id")) for f in facts), key=len, reverse=True)
    return next((i for i in ids if rest == i or rest.startswith(f"{i}.")), None)
