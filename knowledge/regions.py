"""Region names, their aliases and nesting (广州市 within 广东省), and detection in text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from knowledge.yaml_files import load_yaml

REGIONS_FILE = Path(__file__).parent / "regions.yaml"


@dataclass(frozen=True)
class Region:
    name: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True)
class RegionRegistry:
    regions: dict[str, Region] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = REGIONS_FILE) -> RegionRegistry:
        rows = load_yaml(path)
        regions = {r["name"]: Region(r["name"], tuple(r.get("aliases") or ()), r.get("parent")) for r in rows}
        return cls(regions)

    def __contains__(self, name: object) -> bool:
        return name in self.regions

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
    def _alias_pattern(self) -> tuple[re.Pattern[str], dict[str, str]]:
        names: dict[str, str] = {}
        for r in self.regions.values():
            names[r.name] = r.name
            for a in r.aliases:
                names[a] = r.name
        # Longest first so that 吉林省 wins over 吉林 and 苏州 is not read as 江苏.
        alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        return re.compile(alternation), names

    def resolve(self, text: str | None) -> str | None:
        """A region name or alias given on its own (e.g. the --region option)."""
        if not text:
            return None
        text = text.strip()
        _, names = self._alias_pattern
        if text in names:
            return names[text]
        found = self.detect(text)
        return found[0] if found else None

    def detect(self, text: str) -> list[str]:
        """Regions named in free text, in order of appearance, without duplicates."""
        pattern, names = self._alias_pattern
        out: list[str] = []
        for m in pattern.finditer(text):
            name = names[m.group(0)]
            if name not in out:
                out.append(name)
        return out
