"""A normalised view of a piece of text that maps every position back to the original.

Extraction runs on the view (half-width digits and punctuation, Arabic numerals for 二〇二〇年七月),
while quotes and highlighted fragments are cut from the original, so a draft quotes the notice
verbatim however it was typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from knowledge.datetext import CN_NUMERAL_RUN, cn_number

# Chinese numerals are read as numbers only before a unit, so 统一, 第一批 and 一次一报制 stay words.
_CN_BEFORE_UNIT = re.compile(rf"{CN_NUMERAL_RUN}(?=\s*(?:年|月|日|号|个|天|项|份|张|分钟|小时|周岁|名))")


@cache
def _half_width(char: str) -> str:
    return unicodedata.normalize("NFKC", char)


@dataclass(frozen=True)
class View:
    """`text` is the normalised form of `raw`; character i of `text` comes from
    raw[starts[i]:ends[i]]."""

    raw: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, raw: str) -> View:
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for i, c in enumerate(raw):
            for n in _half_width(c):
                chars.append(n)
                starts.append(i)
                ends.append(i + 1)
        text = "".join(chars)
        out: list[str] = []
        out_starts: list[int] = []
        out_ends: list[int] = []
        pos = 0
        for m in _CN_BEFORE_UNIT.finditer(text):
            out += chars[pos : m.start()]
            out_starts += starts[pos : m.start()]
            out_ends += ends[pos : m.start()]
            digits = str(cn_number(m.group(0)))
            out += list(digits)
            out_starts += [starts[m.start()]] * len(digits)
            out_ends += [ends[m.end() - 1]] * len(digits)
            pos = m.end()
        out += chars[pos:]
        out_starts += starts[pos:]
        out_ends += ends[pos:]
        return cls(raw, "".join(out), tuple(out_starts), tuple(out_ends))

    def original(self, start: int, end: int) -> str:
        """The original text behind view[start:end]."""
        if end <= start:
            return ""
        return self.raw[self.starts[start] : self.ends[end - 1]]
