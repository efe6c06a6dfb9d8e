"""Storage keeps instants, never a zone of its own: the one zone is `knowledge.timezone`'s, which
storage may not import, so whoever reckons in Beijing days hands storage aware instants (or a zone)."""

from __future__ import annotations

import ast
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[2] / "storage"


def test_no_storage_module_builds_a_zone() -> None:
    found = []
    walked = 0
    for path in STORAGE.rglob("*.py"):
        walked += 1
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "zoneinfo":
                found.append(f"{path.relative_to(STORAGE.parent)}:{node.lineno} imports zoneinfo")
            if isinstance(node, ast.Import) and any(a.name == "zoneinfo" for a in node.names):
                found.append(f"{path.relative_to(STORAGE.parent)}:{node.lineno} imports zoneinfo")
    assert walked > 10, "nothing walked: the test would pass vacuously"
    assert not found, "\n".join(found)
