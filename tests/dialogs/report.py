"""Runs a scenario set and prints its pass rate, per class, and the stored requests' plausibility:

python -m tests.dialogs.report            # the development set (tests/dialogs/scenarios/)
python -m tests.dialogs.report --heldout  # the held-out set: run it only to measure, never to tune
python -m tests.dialogs.report --show     # also each failure (development set only)
python -m tests.dialogs.report --write-known  # rewrite scenarios/known-failures.txt from this run
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import secrets
import sys
import tempfile
from pathlib import Path

from handlers.context import Services
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from storage.database import Database
from storage.pii import PiiCipher
from tests.dialogs.scenarios import DEV, HELDOUT, Outcome, Scenario, load


async def run_all(directory: Path, only: str | None = None) -> list[tuple[dict[str, object], Outcome]]:
    services = Services(
        knowledge=KnowledgeHolder(KnowledgeSnapshot.shipped()), cipher=PiiCipher(secrets.token_bytes(32))
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, spec in enumerate(load(directory)):
            if only is not None and spec["id"] != only:
                continue
            path = Path(tmp) / f"s{n}.db"
            db = Database(f"sqlite+aiosqlite:///{path}")
            await db.migrate()
            try:
                results.append((spec, await Scenario(spec, db, services, path, echo=only is not None).run()))
            finally:
                await db.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.dialogs.report")
    parser.add_argument("--heldout", action="store_true", help="the held-out set")
    parser.add_argument("--dir", type=Path, help="another directory of scenarios (a fresh probe)")
    parser.add_argument("--show", action="store_true", help="print each failure (not with --heldout)")
    parser.add_argument("--echo", metavar="ID", help="run one development scenario, printing every turn")
    parser.add_argument("--write-known", action="store_true", help="rewrite the development set's known failures")
    args = parser.parse_args(argv)
    directory = HELDOUT if args.heldout else args.dir or DEV
    results = asyncio.run(run_all(directory, None if args.heldout else args.echo))
    passed = sum(1 for _, o in results if not o.failures)
    by_class: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for spec, outcome in results:
        counts = by_class[str(spec.get("class"))]
        counts[0] += not outcome.failures
        counts[1] += 1
    name = "held-out" if args.heldout else str(args.dir) if args.dir else "development"
    print(f"{name} set: {passed}/{len(results)} conversations pass ({passed / max(len(results), 1):.0%})")
    for cls, (ok, total) in sorted(by_class.items()):
        print(f"  {cls:<18} {ok}/{total}")
    stored = [o for _, o in results if o.stored_requests]
    implausible = [o for o in stored if o.implausible_requests]
    print(
        f"conversations ending with a stored request: {len(stored)}; with every field plausible: "
        f"{len(stored) - len(implausible)}; with any field not plausible: {len(implausible)}"
    )
    if args.show and not args.heldout:
        for spec, outcome in results:
            if outcome.failures:
                print(f"\n{spec['id']} ({spec.get('class')}): {spec.get('title')}")
                for failure in outcome.failures:
                    print(f"  - {failure}")
    if args.write_known and directory == DEV:
        write_known(results)
    return 0


def write_known(results: list[tuple[dict[str, object], Outcome]]) -> None:
    path = DEV / "known-failures.txt"
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    lines = [
        f"{spec['id']}  # {spec.get('class')}: {outcome.failures[0].splitlines()[0]}"
        for spec, outcome in results
        if outcome.failures
    ]
    path.write_text("\n".join(header + sorted(lines)) + "\n", encoding="utf-8")
    print(f"{path}: {len(lines)} known failures")


if __name__ == "__main__":
    sys.exit(main())
