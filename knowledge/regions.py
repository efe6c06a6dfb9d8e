"""Regions of China as candidates name them: every province, prefecture-level and county-level
division (GB/T 2260, vendored in `divisions.tsv`), the short names people write (汕头, 番禺, 内蒙古),
the colloquial ones (`regions.yaml`: 羊城, 鹭岛), their nesting, and detection in free text.

Detection reads the innermost region named first, whatever the order of words: 福建厦门 and 厦门 福建
both give 厦门市 before 福建省. A name several divisions share (鼓楼区 is in 福州, 南京, 徐州 and 开封) is
resolved by another region named in the same text (福州鼓楼区), else by the highest level (朝阳 is the
city of 辽宁, not a district), else by the preferred regions (those some notice governs) when exactly
one of them has the name; otherwise it stands for the regions' nearest common ancestor, or for none
(`ambiguous` tells which regions a name could be)."""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from knowledge.yaml_files import load_yaml

DIVISIONS_FILE = Path(__file__).parent / "divisions.tsv"
REGIONS_FILE = Path(__file__).parent / "regions.yaml"

PROVINCE, PREFECTURE, COUNTY = 1, 2, 3
"""Levels of the administrative divisions (省级, 地级, 县级)."""

_ETHNIC_GROUPS = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 "
    "东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 "
    "俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
# 延边朝鲜族自治州 → 延边, 黔东南苗族侗族自治州 → 黔东南, 博尔塔拉蒙古自治州 → 博尔塔拉 (names of
# two characters or more also appear without 族 before 自治).
_ETHNIC_TAIL = re.compile(
    "(?:"
    + "|".join(sorted([f"{g}族" for g in _ETHNIC_GROUPS] + [g for g in _ETHNIC_GROUPS if len(g) >= 2], key=len)[::-1])
    + ")+$"
)
_READS_KEPT = 4096
_AUTONOMOUS = ("特别行政区", "自治区", "自治州", "自治县", "自治旗")
_SUFFIXES = {
    PROVINCE: ("省", "市"),
    PREFECTURE: ("市", "地区", "盟"),
    COUNTY: ("林区", "特区", "市", "区", "县", "旗"),
}
MIN_SHORT = 2
"""A short name keeps at least two characters: 沛县 is not 沛, 城区 is not 城."""


def short_names(name: str, level: int) -> list[str]:
    """What people write for a division: its name without the suffix of its kind (汕头市 → 汕头,
    番禺区 → 番禺, 广西壮族自治区 → 广西, 延边朝鲜族自治州 → 延边), when at least two characters remain."""
    for suffix in _AUTONOMOUS:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            bare = _ETHNIC_TAIL.sub("", stem)
            return [s for s in dict.fromkeys((bare, stem)) if len(s) >= MIN_SHORT and s != name]
    for suffix in _SUFFIXES.get(level, _SUFFIXES[COUNTY]):
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_SHORT:
            return [name[: -len(suffix)]]
    return []


def _level_of_code(code: str) -> int:
    if code.endswith("0000"):
        return PROVINCE
    return PREFECTURE if code.endswith("00") else COUNTY


@dataclass(frozen=True)
class Region:
    name: str
    """Canonical and unique: the division's name (广州市), or, for a name several divisions share,
    the name of the enclosing one before it (福州市鼓楼区, 北京市朝阳区)."""
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    code: str | None = None
    """GB/T 2260 code, for divisions of the data set."""
    level: int = PREFECTURE
    official: str = ""
    """The division's own name (鼓楼区 for 福州市鼓楼区); the canonical name when empty."""

    @property
    def short(self) -> str:
        return self.official or self.name


def _read_divisions(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name, parent = line.split("\t")[:3]
            rows.append((code, name, parent))
    return rows


class RegionRegistry:
    """The regions, by canonical name, and what text names them. Built once; lookups are cheap.

    `preferred` are the regions (with all they contain) that settle an ambiguous name: a knowledge
    base prefers the regions its notices govern (`preferring`)."""

    def __init__(
        self,
        regions: dict[str, Region] | None = None,
        *,
        common_words: Collection[str] = (),
        preferred: Collection[str] = (),
    ) -> None:
        self.regions: dict[str, Region] = dict(regions or {})
        self.common_words = frozenset(common_words)
        """Names that are ordinary words too (资源, 东方): never read as a region on their own."""
        self.preferred = frozenset(preferred)
        self._reads: dict[Any, Any] | None = None

    @classmethod
    def load(cls, path: Path = REGIONS_FILE, divisions: Path = DIVISIONS_FILE) -> RegionRegistry:
        """The divisions of the data set, then regions.yaml: its aliases for them and the regions it adds."""
        extra = load_yaml(path) or {}
        regions = cls._from_divisions(_read_divisions(divisions)) if divisions.is_file() else {}
        for row in extra.get("regions") or ():
            name = row["name"]
            aliases = tuple(row.get("aliases") or ())
            if name in regions:
                old = regions[name]
                regions[name] = Region(name, old.aliases + aliases, old.parent, old.code, old.level, old.official)
            else:
                parent = row.get("parent")
                level = regions[parent].level + 1 if parent in regions else PROVINCE
                regions[name] = Region(name, aliases, parent, None, level)
        return cls(regions, common_words=extra.get("common_words") or ())

    @staticmethod
    def _from_divisions(rows: Sequence[tuple[str, str, str]]) -> dict[str, Region]:
        by_code = {code: name for code, name, _ in rows}
        uses: dict[str, int] = {}
        for _, name, _ in rows:
            uses[name] = uses.get(name, 0) + 1
        # A name several divisions share is qualified by the enclosing division's (福州市鼓楼区).
        canonical = {code: by_code[parent] + name if uses[name] > 1 else name for code, name, parent in rows}
        regions: dict[str, Region] = {}
        for code, name, parent in rows:
            own = canonical[code]
            qualified = own != name
            regions[own] = Region(
                own,
                (name,) if qualified else (),
                canonical.get(parent),
                code,
                _level_of_code(code),
                name if qualified else "",
            )
        return regions

    def preferring(self, names: Iterable[str]) -> RegionRegistry:
        """This registry preferring `names` (and the regions inside them): for ambiguous names, and
        for the short names of their counties."""
        other = copy.copy(self)
        other.preferred = frozenset(names)
        for built in ("_names", "_lengths", "_preferred_all"):
            other.__dict__.pop(built, None)  # these depend on the preferred regions
        return other

    def __contains__(self, name: object) -> bool:
        return name in self.regions

    # -- nesting -------------------------------------------------------------------------------
    def lineage(self, name: str) -> list[str]:
        """The region and every region that contains it, innermost first."""
        out: list[str] = []
        cur: str | None = name
        while cur and cur in self.regions and cur not in out:
            out.append(cur)
            cur = self.regions[cur].parent
        return out

    def contains(self, outer: str, inner: str) -> bool:
        return outer in self.lineage(inner)

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {}
        for r in self.regions.values():
            if r.parent is not None:
                children.setdefault(r.parent, []).append(r.name)
        return children

    def inside(self, name: str) -> list[str]:
        """Every region `name` contains, at any depth (广东省: its cities and their districts)."""
        out: list[str] = []
        todo = list(self._children.get(name, ()))
        while todo:
            region = todo.pop()
            out.append(region)
            todo.extend(self._children.get(region, ()))
        return out

    def full_name(self, name: str, outermost: int = PROVINCE) -> str:
        """The region with those containing it down from level `outermost`: 广东省广州市番禺区,
        四川省成都市; from PREFECTURE, 广州市番禺区 (a province stays itself)."""
        parts = [self.regions[r].short for r in reversed(self.lineage(name)) if self.regions[r].level >= outermost]
        return "".join(parts) or name

    def name_within(self, name: str, outer: str) -> str:
        """The region named from just inside `outer`: 思明区 within 福建省 is 厦门市思明区, within
        厦门市 it is 思明区 (for "厦门市思明区属于福建省")."""
        lineage = self.lineage(name)
        inner = lineage[: lineage.index(outer)] if outer in lineage else lineage
        return "".join(self.regions[r].short for r in reversed(inner)) or name

    def city_of(self, name: str) -> str:
        """The prefecture-level region (or province) containing `name`, or `name` itself when it is
        one: 番禺区 → 广州市, 汕头市 → 汕头市. Records are kept by city: it is where exams are run,
        and what staff are given."""
        for region in self.lineage(name):
            if self.regions[region].level <= PREFECTURE:
                return region
        return name

    @cached_property
    def main_regions(self) -> list[str]:
        """Provinces and prefecture-level cities, each province before its cities: what a list of
        choices offers (three thousand counties would not make a usable list)."""
        return [r.name for r in self.regions.values() if r.level <= PREFECTURE]

    # -- names ---------------------------------------------------------------------------------
    @cached_property
    def _preferred_all(self) -> frozenset[str]:
        """The preferred regions and every region inside them."""
        return frozenset(self.preferred).union(*(self.inside(p) for p in self.preferred))

    def _is_preferred(self, name: str) -> bool:
        return name in self._preferred_all

    def names_of(self, region: Region) -> tuple[list[str], list[str]]:
        """What text may call `region`: its names, aliases and short names, and the weak ones among
        them. A name is weak when it is a common word, or the short name of a county outside the
        preferred regions: across China, two thousand of those are ordinary words too (资源, 合作,
        定日 in 鉴定日), while the candidates these notices concern live in the preferred ones. A
        weak name counts only right after its city (北京朝阳, 阳泉矿区) or as the whole text."""
        shorts = short_names(region.short, region.level)
        names = list(dict.fromkeys([region.name, *region.aliases, *shorts]))
        derived = set(shorts) - set(region.aliases) - {region.name}
        if region.level != COUNTY or self._is_preferred(region.name):
            derived = set()
        weak = [n for n in names if n in self.common_words or n in derived]
        return [n for n in names if n not in weak], weak

    @cached_property
    def _names(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Every name → the regions it stands for, and those it may stand for only when weak."""
        strong: dict[str, list[str]] = {}
        weak: dict[str, list[str]] = {}
        for r in self.regions.values():
            names, weak_names = self.names_of(r)
            for table, found in ((strong, names), (weak, weak_names)):
                for n in found:
                    regions = table.setdefault(n, [])
                    if r.name not in regions:
                        regions.append(r.name)
        return {n: (tuple(strong.get(n, ())), tuple(weak.get(n, ()))) for n in {*strong, *weak}}

    def names_near_notices(self) -> list[str]:
        """The names of the provinces, and of the cities within the preferred regions."""
        return [
            n
            for r in self.regions.values()
            if r.level == PROVINCE or (r.level == PREFECTURE and self._is_preferred(r.name))
            for n in self.names_of(r)[0]
        ]

    @property
    def all_names(self) -> list[str]:
        """Every name text may use for a region on its own (for vocabularies): no weak names."""
        return [n for n, (strong, _) in self._names.items() if strong]

    @cached_property
    def _lengths(self) -> tuple[int, ...]:
        """The lengths of the names, longest first: a scan tries 吉林省 before 吉林."""
        return tuple(sorted({len(n) for n in self._names}, reverse=True))

    @cached_property
    def _starts(self) -> frozenset[str]:
        """The characters names begin with."""
        return frozenset(n[0] for n in self._names)

    def _scan(self, text: str) -> list[_Match]:
        """The names in `text` from left to right, each the longest one starting where it starts."""
        names, lengths, starts = self._names, self._lengths, self._starts
        found: list[_Match] = []
        i = 0
        while i < len(text):
            if text[i] not in starts:  # most characters begin no name: skip the slicing
                i += 1
                continue
            for n in lengths:
                word = text[i : i + n]
                if len(word) == n and word in names:
                    strong, weak = names[word]
                    found.append(_Match(word, i, i + n, strong, weak))
                    i += n
                    break
            else:
                i += 1
        return found

    def _common_ancestor(self, names: Sequence[str]) -> str | None:
        shared = set(self.lineage(names[0]))
        for name in names[1:]:
            shared &= set(self.lineage(name))
        return next((r for r in self.lineage(names[0]) if r in shared), None)

    def _choose(self, candidates: Sequence[str], context: Collection[str]) -> str | None:
        """The region a name several regions share stands for (see the module's docstring)."""
        if len(candidates) == 1:
            return candidates[0]
        within = [c for c in candidates if any(self.contains(outer, c) and outer != c for outer in context)]
        pool = within or list(candidates)
        top = min(self.regions[c].level for c in pool)
        pool = [c for c in pool if self.regions[c].level == top]
        if len(pool) > 1:
            preferred = [c for c in pool if self._is_preferred(c)]
            if len(preferred) == 1:
                return preferred[0]
            pool = preferred or pool
        return pool[0] if len(pool) == 1 else self._common_ancestor(pool)

    def remember_in(self, memo: dict[Any, Any]) -> None:
        """Keep what each text names in `memo` (bounded here, cleared by its owner): a question is
        read for its regions several times over, and a follow-up's readings repeat its texts."""
        self._reads = memo

    def _read(self, text: str) -> list[tuple[_Match, tuple[str, ...], str | None]]:
        """Each name in `text` with the regions it may stand for and the one chosen (None: none)."""
        memo = self._reads
        if memo is None:
            return self._read_now(text)
        found = memo.get(text)
        if found is None:
            if len(memo) >= _READS_KEPT:
                memo.clear()
            found = memo[text] = self._read_now(text)
        return list(found)

    def _read_now(self, text: str) -> list[tuple[_Match, tuple[str, ...], str | None]]:
        scanned = self._scan(text)
        context = [m.strong[0] for m in scanned if len(m.strong) == 1]
        out: list[tuple[_Match, tuple[str, ...], str | None]] = []
        before: tuple[int, str] | None = None  # where the last region named ends, and which it is
        for m in scanned:
            candidates = m.strong
            if before is not None and not text[before[0] : m.start].strip():
                # Right after a region: the regions of this name inside it (北京朝阳, 福州鼓楼).
                inside = tuple(c for c in (*m.strong, *m.weak) if self.contains(before[1], c) and c != before[1])
                candidates = inside or candidates
            if m.weak and not text[: m.start].strip() and not text[m.end :].strip():
                candidates = candidates or m.weak  # the whole message: 新兴 answers 哪个地区?
            chosen = self._choose(candidates, context) if candidates else None
            out.append((m, candidates, chosen))
            if chosen is not None:
                before = (m.end, chosen)
        return out

    def named(self, text: str) -> str | None:
        """The region a whole name or alias stands for (广东 → 广东省), None for anything else."""
        found = self._names.get(text.strip())
        if not found:
            return None
        strong, weak = found
        return self._choose(strong or weak, ())

    def resolve(self, text: str | None) -> str | None:
        """A region name or alias given on its own (e.g. the --region option), or the innermost
        region the text names."""
        if not text:
            return None
        found = self.named(text) or next(iter(self.detect(text)), None)
        return found

    def detect(self, text: str) -> list[str]:
        """Regions named in free text without duplicates, innermost first: a region goes after
        every named region it contains (广东佛山 → 佛山市, 广东省); others keep their order."""
        named: list[str] = []
        for _, _, chosen in self._read(text):
            if chosen is not None and chosen not in named:
                named.append(chosen)
        out: list[str] = []
        for name in named:
            outer = next((i for i, placed in enumerate(out) if self.contains(placed, name)), None)
            if outer is None:
                out.append(name)
            else:
                out.insert(outer, name)
        return out

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where `text` names a region (start, end), for reading the rest of it without them."""
        return [(m.start, m.end) for m, _, chosen in self._read(text) if chosen is not None]

    def without_names(self, text: str) -> str:
        """`text` with the regions it names taken out (江苏的 → 的)."""
        for start, end in sorted(self.spans(text), reverse=True):
            text = text[:start] + text[end:]
        return text

    def short_name(self, name: str) -> str:
        """How people write a region (广州市 → 广州, 内蒙古自治区 → 内蒙古), when that name still
        means only it; else its own name."""
        region = self.regions.get(name)
        if region is None:
            return name
        shorts = [s for s in short_names(region.short, region.level) if self.resolve(s) == name]
        return shorts[0] if shorts else region.short

    def ambiguous(self, text: str) -> dict[str, tuple[str, ...]]:
        """Names in `text` that stand for several regions and that nothing in the text settles,
        with the regions each may be (鼓楼区 → 福州市鼓楼区, 南京市鼓楼区 …)."""
        return {
            m.word: candidates
            for m, candidates, chosen in self._read(text)
            if len(candidates) > 1 and chosen not in candidates
        }


@dataclass(frozen=True)
class _Match:
    """A name found in text: where, and the regions it stands for (strong) or may (weak)."""

    word: str
    start: int
    end: int
    strong: tuple[str, ...]
    weak: tuple[str, ...]
