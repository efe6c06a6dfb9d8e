"""The loaded knowledge base: notices, their facts with the regions they govern, occupation lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from knowledge.loader import NOTICES_DIR, load_notices
from knowledge.regions import RegionRegistry
from knowledge.schema import Fact, Notice, OccupationList, Rule, Source
from knowledge.workdays import format_date

ENCLOSING = 0.8
"""Applicability of the notices of the nearest enclosing region that has any."""
ENCLOSING_STEP = 0.05
ENCLOSING_FLOOR = 0.7
"""Applicability of the notices of farther enclosing regions: less, but more than INSIDE."""
INSIDE = 0.6
"""Applicability of the notices of a region inside the candidate's."""


def citation(doc_no: str, version: int = 1) -> str:
    """How answers name a notice: its number, and its version once it has been revised
    (粤人社职鉴〔2027〕5号（第2版）), so that a candidate can tell which text was used."""
    return doc_no if version <= 1 else f"{doc_no}（第{version}版）"


def _derived_id(notice: Notice, what: str) -> str:
    """The id of a fact derived from a notice's header, in its facts' namespace (gz145.notice-card)."""
    return f"{notice.facts[0].id.split('.')[0]}.{what}"


def notice_card(notice: Notice) -> Rule:
    """A fact about the notice itself (number, issuer, date, what it implements), derived from
    its header so that "145号文是哪天发的" has an answer without anyone writing one by hand."""
    when = format_date(notice.issued) if notice.issued else f"{notice.issued_year}年"
    parts = [f"《{notice.title}》（{notice.doc_no}）由{notice.issuer}于{when}发布。", notice.summary.strip()]
    if notice.forwards:
        parts.append(f"本文转发或落实：{'、'.join(notice.forwards)}。")
    if notice.cites:
        parts.append(f"文中引用的文件：{'、'.join(notice.cites)}。")
    return Rule(
        id=_derived_id(notice, "notice-card"),
        kind="rule",
        title=f"{notice.doc_no} {notice.title}",
        topic="通知文号 发文单位 发文日期 依据文件",
        answer="".join(parts),
        keywords=[notice.doc_no, notice.issuer, "文号", "发文日期", "发布", "依据", "文件"],
        questions=["这个通知是哪天发的", "通知的文号是多少", "是根据哪个文件制定的", "依据哪些文件", "是谁发的通知"],
        source=Source(clause="文头", quote=f"{notice.doc_no} {notice.title}"),
    )


def attachments_card(notice: Notice) -> Rule | None:
    """A fact listing the notice's attachments, derived from its header like `notice_card`, so
    that "这个通知有几个附件" is answered from the list rather than from whichever fact says 附件."""
    if not notice.attachments:
        return None
    # A title inside a title takes the inner marks: 《关于落实〈国家职业资格目录〉…》.
    titles = [name.replace("《", "〈").replace("》", "〉") for name in notice.attachments]
    listed = "；".join(f"附件{i}《{name}》" for i, name in enumerate(titles, 1))
    return Rule(
        id=_derived_id(notice, "attachments-card"),
        kind="rule",
        title=f"{notice.doc_no}的附件",
        topic="附件",
        answer=f"{notice.doc_no}共有{len(notice.attachments)}个附件：{listed}。",
        keywords=["附件", "附件清单", "几个附件", "哪些附件", notice.doc_no],
        questions=["这个通知有几个附件", "通知带了哪些附件", "附件都有什么"],
        source=Source(clause="附件", quote="附件：" + "；".join(notice.attachments)),
    )


@dataclass(frozen=True)
class Entry:
    """A fact together with the notice that states it and the regions it governs."""

    fact: Fact
    notice: Notice
    regions: tuple[str, ...]

    @property
    def doc_no(self) -> str:
        return self.notice.doc_no

    @property
    def citation(self) -> str:
        return citation(self.notice.doc_no, self.notice.version)


class KnowledgeBase:
    def __init__(self, notices: list[Notice], regions: RegionRegistry) -> None:
        self.notices = {n.doc_no: n for n in notices}
        self.entries = [Entry(f, n, tuple(f.regions or n.regions)) for n in notices for f in n.facts]
        self.entries += [Entry(notice_card(n), n, tuple(n.regions)) for n in notices]
        self.entries += [Entry(card, n, tuple(n.regions)) for n in notices if (card := attachments_card(n))]
        self.by_id = {e.fact.id: e for e in self.entries}
        # Names several regions share are read as the one the notices govern (朝阳区 is 长春's here),
        # and the counties of those regions are recognised by their short names (番禺, 天河).
        self.regions = regions.preferring(self.governed)

    @classmethod
    def load(cls, directory: Path = NOTICES_DIR) -> KnowledgeBase:
        regions = RegionRegistry.load()
        return cls(load_notices(directory, regions), regions)

    @cached_property
    def occupation_lists(self) -> list[Entry]:
        return [e for e in self.entries if isinstance(e.fact, OccupationList)]

    @cached_property
    def occupations(self) -> list[str]:
        names = {o for e in self.occupation_lists for o in e.fact.occupations}  # type: ignore[union-attr]
        return sorted(names, key=lambda n: (-len(n), n))

    @cached_property
    def governed(self) -> frozenset[str]:
        """The regions some notice names as governed (广东省, 广州市 …)."""
        return frozenset(r for e in self.entries for r in e.regions)

    def applicability(self, entry: Entry, region: str | None) -> float:
        """How well an entry fits a candidate's region: 1 same region; 0.8 the nearest enclosing
        region some notice governs, 0.75 the next (番禺区 is answered by 广州市's notice before
        广东省's, as 广州市 itself is; the city's notice implements the province's); 0.6 a region
        inside it (广州 rules for someone who said 广东); 0 unrelated."""
        if region is None:
            return 1.0
        if region in entry.regions:
            return 1.0
        enclosing = [r for r in self.regions.lineage(region)[1:] if r in self.governed]
        ranks = [enclosing.index(r) for r in entry.regions if r in enclosing]
        if ranks:
            return max(ENCLOSING - ENCLOSING_STEP * min(ranks), ENCLOSING_FLOOR)
        if any(self.regions.contains(region, r) for r in entry.regions):
            return INSIDE
        return 0.0

    def covers(self, region: str) -> bool:
        """Some notice governs the region, an enclosing region, or a region inside it."""
        lineage = set(self.regions.lineage(region))
        return any(r in lineage or self.regions.contains(region, r) for r in self.governed)

    def forwarders(self, doc_no: str) -> list[Notice]:
        return [n for n in self.notices.values() if doc_no in n.forwards]

    # -- newer notices -------------------------------------------------------------------------
    @cached_property
    def successors(self) -> dict[str, list[Notice]]:
        """doc_no → the notices that name it in `supersedes`, newest first."""
        found: dict[str, list[Notice]] = {}
        for notice in self.notices.values():
            for old in notice.supersedes:
                found.setdefault(old, []).append(notice)
        for newer in found.values():
            newer.sort(key=lambda n: (n.issued or dt.date(max(n.year, 1), 1, 1), n.version), reverse=True)
        return found

    @cached_property
    def replaced(self) -> dict[str, Entry]:
        """Fact id → the newer fact that replaces it: one of a notice that supersedes the fact's
        notice, on the same topic, for the same region or one nested in or around it. A newer
        notice replaces only what it speaks about; the older notice's other facts still stand."""
        out: dict[str, Entry] = {}
        facts = [e for e in self.entries if not e.fact.id.endswith(".notice-card")]  # a card is about its own notice
        for entry in facts:
            for newer in self.successors.get(entry.doc_no, ()):
                match = next(
                    (
                        e
                        for e in facts
                        if e.notice is newer and e.fact.topic == entry.fact.topic and self._overlap(e, entry)
                    ),
                    None,
                )
                if match is not None:
                    out[entry.fact.id] = match
                    break
        return out

    @cached_property
    def replacing(self) -> dict[str, list[Entry]]:
        """The inverse of `replaced`: fact id → the older facts it replaces."""
        out: dict[str, list[Entry]] = {}
        for old_id, newer in self.replaced.items():
            out.setdefault(newer.fact.id, []).append(self.by_id[old_id])
        return out

    def _overlap(self, a: Entry, b: Entry) -> bool:
        return any(
            x == y or self.regions.contains(x, y) or self.regions.contains(y, x) for x in a.regions for y in b.regions
        )
