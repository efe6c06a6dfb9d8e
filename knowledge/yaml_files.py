"""Reading the YAML files the knowledge base ships (lexicon, regions, notices)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, in C when PyYAML is built with libyaml (several times faster at start-up)."""


def load_yaml(path: Path) -> Any:
    """The data of a UTF-8 YAML file, with the safe loader."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
