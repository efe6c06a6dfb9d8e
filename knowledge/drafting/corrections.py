"""Corrections: a notice that moves a date names the old one too (由原定的9月13日调整为9月20日);
the old day is no fact of the notice."""

from __future__ import annotations

import re

from knowledge.drafting.dates import FoundDate
from knowledge.drafting.view import View

_REPLACED_BEFORE = re.compile(r"(?:原定|原计划|原通知|原)(?:的|于|在)?\s*$")
_REPLACED_AFTER = re.compile(
    r"^\s*(?:举行|举办|进行|开始|截止)?(?:的)?\s*(?:\S{0,8}?)(?:调整为|调整至|改为|改至|变更为|更改为|更正为|推迟至|推迟到|延期至|延后至|提前至|提前到)"
)
"""由原定的9月13日调整为9月20日: the first day is the one a correction replaces."""


def replaced_dates(view: View, dates: list[FoundDate]) -> list[FoundDate]:
    """The dates of a sentence that a correction replaces."""
    text = view.text
    return [d for d in dates if _REPLACED_BEFORE.search(text[: d.span[0]]) and _REPLACED_AFTER.match(text[d.span[1] :])]
