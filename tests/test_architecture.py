"""Import direction: bot → handlers → (knowledge, storage); knowledge and storage stand alone."""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "knowledge": {"bot", "handlers", "storage", "sqlalchemy", "telegram", "wechatpy", "starlette", "fastapi"},
    "storage": {"bot", "handlers", "knowledge", "telegram", "wechatpy", "starlette", "fastapi"},
    "handlers": {"bot", "telegram", "wechatpy", "starlette", "fastapi", "apscheduler", "uvicorn"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_imports_point_the_right_way():
    wrong = []
    for package, forbidden in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            bad = imported_roots(path) & forbidden
            if bad:
                wrong.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not wrong, "\n".join(wrong)


def test_the_walk_sees_the_packages():
    assert list((ROOT / "knowledge").rglob("*.py")), "nothing walked: the test would pass vacuously"
    assert "yaml" in imported_roots(ROOT / "knowledge" / "loader.py")


def test_the_product_does_not_ship_or_import_the_benchmarks():
    """Benchmarks are tools: not installed (one wipes a database schema), and nothing installed uses them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(fnmatch.fnmatch("benchmarks", pattern) for pattern in included), included
    users = [
        str(path.relative_to(ROOT))
        for package in ("bot", "handlers", "knowledge", "storage")
        for path in (ROOT / package).rglob("*.py")
        if "benchmarks" in imported_roots(path)
    ]
    assert not users, users
