"""Groups of the listed occupations that candidates ask about as a category (建筑类工种, 做饭做点心的),
from `occupation_categories.yaml`: data, so that a group is added without code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from knowledge.analyzer import normalize
from knowledge.yaml_files import load_yaml

CATEGORIES_FILE = Path(__file__).parent / "occupation_categories.yaml"


@dataclass(frozen=True)
class Category:
    name: str
    words: tuple[str, ...]
    """How a question names the group (substrings of the normalised question)."""
    members: frozenset[str]
    """Official occupation names."""


@cache
def categories(path: Path = CATEGORIES_FILE) -> tuple[Category, ...]:
    raw = (load_yaml(path) or {}) if path.exists() else {}
    return tuple(
        Category(
            str(name),
            tuple(normalize(str(w)) for w in spec.get("words") or ()),
            frozenset(str(m) for m in spec.get("members") or ()),
        )
        for name, spec in raw.items()
    )


def named_category(text: str) -> tuple[Category, str] | None:
    """The category `text` names and the word it is named with, the longest word winning."""
    found = [(len(w), c, w) for c in categories() for w in c.words if w and w in text]
    if not found:
        return None
    _, category, word = max(found, key=lambda f: f[0])
    return category, word
