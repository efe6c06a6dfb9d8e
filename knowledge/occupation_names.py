"""Everyday names of the listed occupations (木匠 → 手工木工, 理发师 → 美发师), from
`occupation_names.yaml`: data, so that a name people use is added without code."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from knowledge.analyzer import normalize
from knowledge.yaml_files import load_yaml

NAMES_FILE = Path(__file__).parent / "occupation_names.yaml"


@cache
def _table(path: Path = NAMES_FILE) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for official, names in (load_yaml(path) or {}).items():
        for name in names or ():
            table.setdefault(normalize(str(name)), []).append(str(official))
    return {name: tuple(officials) for name, officials in table.items()}


def everyday_names(officials: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Everyday name → the official names (of `officials`) it may mean; one, or several to ask between."""
    known = set(officials)
    out = {}
    for name, meant in _table().items():
        kept = tuple(o for o in meant if o in known)
        if kept and name not in known:
            out[name] = kept
    return out


def listed_without_everyday_name(officials: Iterable[str]) -> list[str]:
    """Official names no entry covers (the data must cover every listed occupation)."""
    covered = {o for meant in _table().values() for o in meant}
    return sorted(set(officials) - covered)
