"""Normalising what a candidate typed, for matching commands and short answers."""

from __future__ import annotations

import re
import unicodedata

# Lone surrogates (a broken emoji from a client) cannot be encoded for the database or a log line;
# NUL is refused by PostgreSQL; other control characters and zero-width marks only hide what was typed.
_UNUSABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")
# Everything but letters, digits, the middle dot of minority names and the + of +86: punctuation,
# spaces, and the emoji and symbols people type around an answer (跳过😂, 好滴👌).
_PUNCT = re.compile(r"[^\w·+]|_")


def compact(text: str) -> str:
    """NFKC, lower case, no spaces, punctuation or emoji: '  取消！😂' → '取消'."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def clean_text(text: str, *, limit: int) -> str:
    """What a candidate typed, without characters nothing downstream can store or match, cut at `limit`."""
    return _UNUSABLE.sub("", text)[:limit]
