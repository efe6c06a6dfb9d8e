"""Normalising what a candidate typed, for matching commands and short answers."""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[\s\u3000,.!?;:'\"，。！？；：、“”‘’（）()【】\[\]《》<>~～…—\-_/\\|]+")


def compact(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation: '  取消！' → '取消'."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()
