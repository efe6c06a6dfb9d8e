"""Finding ID and mobile numbers in what people type, however they type them.

One tokenizer serves both reading a form answer and masking text before it is stored or logged, so
that a number the form accepts is always a number the masking hides: 138 1234 5678, 138-1234-5678,
+86 139 0000 1111, 440106 19900101 1235, full-width digits (１３８…), a number inside a sentence.

A chain is digit groups joined by at most three separator characters (" - ") (spaces, dashes, dots, the middle
dot, underscores), with an optional +86 / 0086 in front. Within a chain, consecutive groups are
combined into numbers of the lengths that mean something (an 18-character ID number, an old 15-digit
one, an 11-digit mobile number with or without 86), so that an ID number and a phone number typed
one after the other with a space between are two numbers, not one 29-digit run."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

Kind = Literal["id", "id15", "phone", "long", "other"]
"""id: 17 digits and a digit or X; id15: an old 15-digit ID; phone: a mainland mobile number;
long: another run of 16 or more digits (masked all the same: nobody needs it in a transcript);
other: a shorter number (a date, a receipt number, an amount)."""

_SEPARATOR = r"[ \t\u3000\-‐‑‒–—_.·]"
_CHAIN = re.compile(rf"(?:(?:\+|00)?86{_SEPARATOR}{{0,3}})?[0-9][0-9Xx]*(?:{_SEPARATOR}{{1,3}}[0-9][0-9Xx]*)*")
_GROUP = re.compile(r"[0-9][0-9Xx]*")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_ID = re.compile(r"[0-9]{17}[0-9X]")


@dataclass(frozen=True)
class Number:
    """A number found in text: where it stands in the text as typed, and its digits."""

    start: int
    end: int
    digits: str
    """Half-width digits, X upper case; a phone number without its 86."""
    kind: Kind

    @property
    def personal(self) -> bool:
        return self.kind in ("id", "id15", "phone", "long")


def _classify(digits: str) -> tuple[Kind, str] | None:
    # A phone number first: 0086 + a mobile number is 15 digits, but no ID number starts 00 or 86.
    for prefix in ("0086", "86", ""):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and _MOBILE.fullmatch(rest):
            return "phone", rest
    if len(digits) == 18 and _ID.fullmatch(digits):
        return "id", digits
    if len(digits) == 15 and digits.isdigit():
        return "id15", digits
    return None


def _segment(groups: list[tuple[int, int, str]]) -> list[Number]:
    """Splits a chain's groups into the most meaningful numbers (fewest groups left as 'other')."""

    @cache
    def best(i: int) -> tuple[int, tuple[Number, ...]]:
        if i == len(groups):
            return 0, ()
        # Group i on its own, as whatever it is.
        start, end, digits = groups[i]
        kind = _classify(digits)
        alone = Number(start, end, kind[1] if kind else digits, kind[0] if kind else _loose(digits))
        score, rest = best(i + 1)
        # A number that means something scores; a group left meaning nothing costs (so "+86 139…"
        # keeps its 86 with the phone number rather than beside it).
        options = [(score + (2 if kind else -1), (alone, *rest))]
        joined = digits
        for j in range(i + 1, len(groups)):
            joined += groups[j][2]
            if len(joined) > 22:
                break
            found = _classify(joined)
            if found:
                tail_score, tail = best(j + 1)
                options.append((tail_score + 2, (Number(start, groups[j][1], found[1], found[0]), *tail)))
        return max(options, key=lambda o: o[0])

    return list(best(0)[1])


def _loose(digits: str) -> Kind:
    return "long" if len(digits) >= 16 else "other"


def find_numbers(text: str) -> list[Number]:
    """Every number in `text`, in order; spans index `text` as given."""
    found: list[Number] = []
    for chain in _CHAIN.finditer(_half_width(text)):
        base = chain.start()
        groups = [(base + m.start(), base + m.end(), m.group(0).upper()) for m in _GROUP.finditer(chain.group(0))]
        for number in _segment(groups):
            # The + of +86 belongs to the phone number: what is left of the text should not keep it.
            if number.start == base + 1 and chain.group(0).startswith("+"):
                number = Number(base, number.end, number.digits, number.kind)
            found.append(number)
    return found


def _half_width(text: str) -> str:
    """Full-width digits, letters and spaces half-width, one character for one, so that spans found in
    the result index `text` too."""
    return "".join(
        folded
        if ("\uff00" <= ch <= "\uffef" or ch == "\u3000") and len(folded := unicodedata.normalize("NFKC", ch)) == 1
        else ch
        for ch in text
    )


def personal_numbers(text: str) -> list[Number]:
    """The ID, phone and other long numbers in `text`."""
    return [n for n in find_numbers(text) if n.personal]
