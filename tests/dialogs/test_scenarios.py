"""The multi-turn conversation scenarios of tests/dialogs/scenarios/ (how they were written:
tests/dialogs/scenarios/README.md), each through the real engine on its own SQLite database, whose
file bytes the scenarios' `never_stored` checks read. The held-out part (tests/dialogs/heldout/) is
an evaluation set, run with `python -m tests.dialogs.report --heldout`, not here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handlers.context import Services
from storage.database import Database
from tests.conftest import fresh_sqlite
from tests.dialogs.scenarios import DEV, Scenario, load

SPECS = load(DEV)
FOLLOW_UPS = DEV.parent / "followups"
FOLLOW_UP_SPECS = [
    spec
    for name in (
        "dev",
        "probe2",
        "probe3",
        "probe4",
        "probe5",
        "probe6",
        "probe7",
        "probe8",
        "probe9",
        "probe10",
        "probe11",
    )
    for spec in load(FOLLOW_UPS / name)
]
"""The follow-up dialogs we have studied (issue 17); followups/heldout* are evaluation sets."""


def _known(path: Path) -> dict[str, str]:
    return {
        line.split("#", 1)[0].strip(): line.split("#", 1)[1].strip() if "#" in line else ""
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.split("#", 1)[0].strip()
    }


KNOWN_FAILURES = _known(DEV / "known-failures.txt")
"""Scenarios the bot does not pass yet, each with why: they are expected to fail (strictly: one
that starts passing must be taken off the list), so that the list says exactly what is left."""


FOLLOW_UP_FAILURES = _known(FOLLOW_UPS / "known-failures.txt")


def _params(specs: list[dict[str, Any]], known: dict[str, str]) -> list[object]:
    return [
        pytest.param(
            spec,
            id=str(spec["id"]),
            marks=[pytest.mark.xfail(reason=known[spec["id"]], strict=True)] if spec["id"] in known else [],
        )
        for spec in specs
    ]


@pytest.mark.parametrize("spec", _params(SPECS, KNOWN_FAILURES) + _params(FOLLOW_UP_SPECS, FOLLOW_UP_FAILURES))
async def test_scenario(spec: dict[str, Any], services: Services, sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    db = Database(fresh_sqlite(sqlite_template, path))
    try:
        outcome = await Scenario(spec, db, services, path).run()
    finally:
        await db.dispose()
    assert not outcome.failures, f"{spec['title']}\n  " + "\n  ".join(outcome.failures)


def test_the_suite_is_there() -> None:
    assert len(SPECS) >= 75, "the development half of the scenario suite is missing"
    assert set(KNOWN_FAILURES) <= {s["id"] for s in SPECS}, "a known failure names no scenario"
    assert len(FOLLOW_UP_SPECS) == 335 and set(FOLLOW_UP_FAILURES) <= {s["id"] for s in FOLLOW_UP_SPECS}
