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


@pytest.mark.parametrize("spec", SPECS, ids=[str(s["id"]) for s in SPECS])
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
