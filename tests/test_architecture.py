"""The shape of the code: imports point one way (bot → handlers → knowledge, storage), storage
and knowledge stand alone even through type-only imports, modules stay readable in one sitting,
features register their own routes, and the benchmarks are not part of what gets installed."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge", "storage")
FORBIDDEN = {
    "knowledge": {"bot", "handlers", "storage", "sqlalchemy", "telegram", "wechatpy", "starlette", "fastapi"},
    "storage": {"bot", "handlers", "knowledge", "telegram", "wechatpy", "starlette", "fastapi"},
    "handlers": {"bot", "telegram", "wechatpy", "starlette", "fastapi", "apscheduler", "uvicorn", "benchmarks"},
    "bot": {"benchmarks"},
}
MAX_LINES = 450
"""A production module longer than this is more than one concept (migrations are generated)."""


def production_modules(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def imported_roots(path: Path) -> set[str]:
    """Every top-level package `path` imports, wherever the import stands (inside functions and
    `if TYPE_CHECKING:` blocks too: a type-only import is still a dependency on the other layer)."""
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
    assert "handlers" in imported_roots(ROOT / "bot" / "app.py")


def test_storage_calls_nothing_above_it_through_a_callback():
    """A callable parameter or alias in storage whose type names a handler's type would be a call
    up into handlers by another road (as `NoticeFor` was)."""
    handler_types = {
        node.name
        for path in production_modules("handlers")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    }
    assert "Reply" in handler_types
    wrong = []
    for path in production_modules("storage"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("Callable"):
                named = {n.id for n in ast.walk(node.slice) if isinstance(n, ast.Name)} & handler_types
                if named:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert not wrong, "\n".join(wrong)


def test_modules_are_readable_in_one_sitting():
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for package in PACKAGES
        for path in production_modules(package)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, "\n".join(long)


def test_benchmarks_are_outside_the_installed_packages():
    assert (ROOT / "benchmarks").is_dir()
    assert not list((ROOT / "bot").rglob("bench*.py")), "benchmark code inside the bot package"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(pattern.startswith("benchmarks") for pattern in included)


def test_features_are_routers_and_the_engine_knows_none_of_them():
    from handlers.features import FEATURES

    engine_imports = {
        node.module
        for node in ast.walk(ast.parse((ROOT / "handlers" / "engine.py").read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    for feature in FEATURES:
        assert feature.__name__ not in engine_imports, f"the engine imports the feature {feature.__name__}"
        assert (
            list(feature.router.routes("event"))
            + list(feature.router.routes("command"))
            + list(feature.router.routes("text"))
        ), f"{feature.__name__} registers no route"
