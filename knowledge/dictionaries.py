"""The tables text analysis is built on: jieba's dictionary cut to its most frequent words (as the
prefix table jieba segments with, and as part-of-speech tags) and a character-to-pinyin table.

Each is built once per user and kept in `knowledge.disk_cache`: building them reads jieba's whole
dictionary or imports pypinyin, most of a second; reading them back takes a few milliseconds.
"""

from __future__ import annotations

import io
import sys
import unicodedata
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from knowledge.disk_cache import user_cache

DICT_WORDS = 60_000
"""Words kept of jieba's dictionary: its full one would cost most of the start-up budget, and the
rare words it adds do not help retrieval over a few hundred facts."""


def _import_jieba() -> ModuleType:
    """jieba, imported without pkg_resources.

    jieba imports pkg_resources (part of setuptools, when that is installed) only to open its own
    data files, and opens them directly when it is missing; importing pkg_resources costs a fifth
    of a second of every start. So it is made to look missing while jieba is imported, and only
    then: anything imported later that needs pkg_resources gets it as usual."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba

        module: ModuleType = jieba
        return module
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # `import pkg_resources` raises ImportError
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    loaded: ModuleType = jieba
    return loaded


jieba: Any = _import_jieba()  # no type information: jieba ships none
_TABLES = f"jieba-{jieba.__version__}-{DICT_WORDS}"


def _frequent_lines() -> list[bytes]:
    """The lines of jieba's dictionary (word, frequency, tag) for its most frequent words."""
    rows = []
    with (Path(jieba.__file__).parent / "dict.txt").open("rb") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2:
                rows.append((int(parts[1]), line))
    rows.sort(key=lambda r: -r[0])
    return [line for _, line in rows[:DICT_WORDS]]


def _is_prefix_table(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], dict)
        and type(value[1]) is int
        and all(type(f) is int for f in value[0].values())
    )


def _is_str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(type(v) is str for v in value.values())


def _build_dictionary_tables() -> tuple[list[Any], dict[str, str]]:
    """jieba's prefix table (what `Tokenizer.initialize` builds from a dictionary file) and the
    part-of-speech tags, both over the frequent words; stored in the user's cache."""
    lines = _frequent_lines()
    freq, total = jieba.Tokenizer.gen_pfdict(io.BytesIO(b"".join(lines)))
    tags = {parts[0].decode("utf-8"): parts[2].decode("utf-8") for parts in map(bytes.split, lines) if len(parts) >= 3}
    user_cache().store(f"{_TABLES}-prefixes", [freq, total])
    user_cache().store(f"{_TABLES}-tags", tags)
    return [freq, total], tags


@cache
def prefix_table() -> tuple[dict[str, int], int]:
    """jieba's word → frequency table, with every word's prefixes at 0, and the total frequency.
    Shared by every analyzer of the process: copy it before changing it."""
    table = user_cache().load(f"{_TABLES}-prefixes", _is_prefix_table) or _build_dictionary_tables()[0]
    return table[0], table[1]


@cache
def word_tags() -> dict[str, str]:
    """jieba's part-of-speech tag of each frequent word (n, v, nz …); loaded on first use."""
    tags: dict[str, str] = user_cache().load(f"{_TABLES}-tags", _is_str_map) or _build_dictionary_tables()[1]
    return tags


@cache
def char_pinyin() -> dict[str, str]:
    """Toneless first reading of every CJK character; loaded only when a typo is suspected.

    Importing pypinyin pulls in its phrase dictionary (a quarter of a second), so the table is
    built once and kept in the user's cache."""
    from importlib.metadata import version

    name = f"pinyin-{version('pypinyin')}"
    cached: dict[str, str] | None = user_cache().load(name, _is_str_map)
    if cached is not None:
        return cached
    from pypinyin.pinyin_dict import pinyin_dict

    out: dict[str, str] = {}
    for code, readings in pinyin_dict.items():
        first = readings.split(",")[0]
        out[chr(code)] = "".join(c for c in unicodedata.normalize("NFD", first) if not unicodedata.combining(c))
    user_cache().store(name, out)
    return out
