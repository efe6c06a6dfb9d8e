"""Finding the occupation a candidate names, despite typos (电功 → 电工, 育婴园 → 育婴员)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from knowledge.analyzer import Analyzer
from knowledge.occupation_names import everyday_names

# Words shaped like an occupation (…工/…师/…员) that are not one.
_NOT_OCCUPATIONS = frozenset(
    "员工 职工 人员 学员 考生员 工作人员 考评员 考评人员 督导员 督导人员 监考人员 "
    "技工 高级工 中级工 初级工 技师 高级技师 "
    "老师 教师 公务员 会员 成员 动员 官员 专员 社工 打工 务工 用工 开工 完工 分工 加工 施工 志愿者 技工院校".split()
)
_FOUND_MEMO = 4096
_SHAPE = re.compile(r"[\u4e00-\u9fff]{1,7}?(?:工|师|员)")
_STOPS = ("的", "了", "吗", "是", "在", "我", "考", "报", "还", "能", "想", "有", "当", "做", "个", "和")
"""Characters before which a shaped word is not part of the name (我想考的育婴员 → 育婴员)."""


def looks_like_occupation(name: str) -> bool:
    """A whole name shaped like an occupation (电工, 育婴员, 企业人力资源管理师) and not one of the
    look-alikes (工作人员, 技师 as a level). Used where no list of known names can help."""
    return (
        len(name) >= 2
        and re.fullmatch(
            r"[\u4e00-\u9fff（）()]{1,14}?(?:工|师|员|人员|经理人|经纪人)(?:[（(][\u4e00-\u9fff]{1,8}[)）])?", name
        )
        is not None
        and name not in _NOT_OCCUPATIONS
        and not name.endswith(("工作人员", "考评人员", "督导人员", "监考人员"))
    )


@dataclass(frozen=True)
class OccupationMatch:
    name: str
    known: bool
    """On some occupation list of the knowledge base."""
    corrected_from: str | None = None
    """What the candidate typed when it was not the exact name."""
    alternatives: tuple[str, ...] = ()
    """Listed occupations an everyday name may mean (厨师: 中式烹调师, 西式烹调师): ask which."""
    alike: tuple[str, ...] = ()
    """The others it may mean, which every list treats as it treats `name`: answered together."""


class OccupationMatcher:
    def __init__(
        self,
        names: Sequence[str],
        analyzer: Analyzer,
        region_names: Sequence[str] = (),
        lists: Sequence[frozenset[str]] = (),
    ) -> None:
        """`lists`: the members of each occupation list, to tell names the lists treat alike."""
        self.names = sorted(names, key=len, reverse=True)
        self._official = frozenset(names)
        self.lists = list(lists)
        self.analyzer = analyzer
        self.region_prefixes = sorted(region_names, key=len, reverse=True)
        self.everyday = everyday_names(names)
        self._everyday_longest = sorted(self.everyday, key=len, reverse=True)
        self._all_longest = sorted({*self.names, *self.everyday}, key=len, reverse=True)
        self._found: dict[tuple[str, str | None], OccupationMatch | None] = analyzer.memo()

    def find(self, text: str, original: str | None = None) -> OccupationMatch | None:
        """`text` has been through typo repair; `original` is what the candidate typed. Memoised
        (bounded): a follow-up's readings look the same texts up again."""
        key = (text, original)
        if key in self._found:
            return self._found[key]
        if len(self._found) >= _FOUND_MEMO:
            self._found.clear()
        found = self._found[key] = self._find(text, original)
        return found

    def _find(self, text: str, original: str | None) -> OccupationMatch | None:
        exact, everyday = self._exact(text, original), self._everyday(text)
        if exact and everyday and everyday.corrected_from and exact.name in everyday.corrected_from:
            # 叉车工 holds 车工, 模具钳工 holds 钳工: the longer name is the one meant.
            return everyday
        return exact or everyday or self._misspelt(text) or self._unknown(text)

    def alike(self, match: OccupationMatch) -> OccupationMatch | None:
        """An ambiguous match read as its first alternative when every list holding one of the
        alternatives holds them all (so the answer is the same whichever is meant); else None."""
        on = [frozenset(i for i, members in enumerate(self.lists) if name in members) for name in match.alternatives]
        if not on or not on[0] or any(lists != on[0] for lists in on):
            return None
        first, *others = match.alternatives
        return OccupationMatch(first, True, match.corrected_from, alike=tuple(others))

    def named(self, text: str) -> list[OccupationMatch]:
        """Every listed occupation `text` names, in the order named (茶艺师跟评茶员): the longest name
        at each place (叉车工, not its 车工), an everyday name only where it means one occupation."""
        lowered = text.lower()
        taken = [False] * len(lowered)
        found: list[tuple[int, OccupationMatch]] = []
        for name in self._all_longest:
            start = lowered.find(name)
            while start >= 0:
                end = start + len(name)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * len(name)
                    meant = self.everyday.get(name, ()) if name not in self._official else (name,)
                    if len(meant) == 1:
                        found.append((start, OccupationMatch(meant[0], True, None if meant[0] == name else name)))
                start = lowered.find(name, end)
        names = [m for _, m in sorted(found, key=lambda f: f[0])]
        return [m for i, m in enumerate(names) if all(m.name != n.name for n in names[:i])]

    def written(self, text: str, official: str) -> list[str]:
        """Every way `text` names the listed occupation `official`: its name and everyday names."""
        lowered = text.lower()
        return [n for n in (official, *(e for e, meant in self.everyday.items() if official in meant)) if n in lowered]

    def _everyday(self, text: str) -> OccupationMatch | None:
        """An everyday name (木匠): the one listed occupation it means, or those it may mean."""
        lowered = text.lower()
        found = [name for name in self._everyday_longest if name in lowered]
        if not found:
            return None
        name, meant = found[0], self.everyday[found[0]]
        if len(meant) > 1:
            # Another name in the question may settle it: 炒菜 in 炒菜厨师 means 中式烹调师.
            settled = [
                n for n in found[1:] if n not in name and len(self.everyday[n]) == 1 and self.everyday[n][0] in meant
            ]
            if settled:
                return OccupationMatch(self.everyday[settled[0]][0], True, settled[0])
            return OccupationMatch(meant[0], True, name, alternatives=meant)
        return OccupationMatch(meant[0], True, name)

    def _exact(self, text: str, original: str | None) -> OccupationMatch | None:
        """The longest known name in the text, with what was typed when repair changed it."""
        for name in self.names:
            at = text.find(name)
            if at >= 0:
                typed = None
                if original is not None and name not in original:
                    # Homophone repair swaps equal-length windows, so the typed form sits at the same place.
                    same = len(original) == len(text)
                    typed = original[at : at + len(name)] if same else self._typed(original, name)
                return OccupationMatch(name, True, typed)
        return None

    def _misspelt(self, text: str) -> OccupationMatch | None:
        """Character typos that are not homophones: compare with partial alignment, long names only,
        because two-character names (电工, 车工) would match half the questions."""
        best: tuple[float, str] | None = None
        for name in self.names:
            if len(name) < 4:
                continue
            # One wrong character in four is 75; in five, 80. Shorter names need an exact or
            # homophone match, or every question would look like 电工.
            cutoff = 75 if len(name) == 4 else 80
            score = fuzz.partial_ratio(name, text, score_cutoff=cutoff)
            if score and (best is None or score > best[0]):
                best = (score, name)
        if best is None:
            return None
        return OccupationMatch(best[1], True, self._typed(text, best[1]))

    def _unknown(self, text: str) -> OccupationMatch | None:
        """A word shaped like an occupation that no list names (一级建造师)."""
        # An unknown occupation must end where a word ends: 鉴定工作 holds no 鉴定工. The text is
        # segmented only when something shaped like an occupation is in it (most questions: not).
        boundaries: set[int] = set()
        for m in _SHAPE.finditer(text):
            if not boundaries:
                pos = 0
                for token in self.analyzer.tokenizer.cut(text):
                    pos += len(token)
                    boundaries.add(pos)
            if m.end() not in boundaries:
                continue
            candidate = m.group(0)
            # Cut after the last stop that ends a word: 考 of 我想考育婴员, not of 考评员 (考评 is a word).
            cuts = [i + 1 for i, c in enumerate(candidate) if c in _STOPS and m.start() + i + 1 in boundaries]
            candidate = candidate[max(cuts, default=0) :]
            for region in self.region_spans(candidate):
                candidate = candidate[region:]
            if (
                len(candidate) >= 2
                and candidate not in _NOT_OCCUPATIONS
                and not any(candidate.endswith(w) for w in _NOT_OCCUPATIONS if len(w) >= 2)
            ):
                return OccupationMatch(candidate, False)
        return None

    def region_spans(self, text: str) -> list[int]:
        """Ends of region names at the start of `text` (福建焊工 → 焊工)."""
        return [len(r) for r in self.region_prefixes if text.startswith(r) and len(r) < len(text)][:1]

    @staticmethod
    def _typed(text: str, name: str) -> str | None:
        alignment = fuzz.partial_ratio_alignment(name, text)
        if alignment is None:
            return None
        typed = text[alignment.dest_start : alignment.dest_end]
        return typed if typed and typed != name else None
