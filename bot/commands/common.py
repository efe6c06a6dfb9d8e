"""What several commands share: the database and the time, as the settings give them.

Light to import (everything heavy is imported where it is used): every command module is imported
to build the parser, for `--help` as for a one-shot `ask`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import argparse

    from bot.config import Settings
    from storage.database import Database

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """What `register(subparsers)` of each command module adds its parser to."""


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The bot's database, migrated (created on first use, in DATA_DIR for SQLite); with
    MIGRATE_ON_START=false, only checked to be at the code's version, as the server does."""
    from storage.database import Database
    from storage.private_files import private_dir

    private_dir(settings.data_dir)
    db = Database(settings.effective_database_url)
    try:
        if settings.migrate_on_start:
            await db.migrate()
        else:
            await db.require_current()
        yield db
    finally:
        await db.dispose()


def current_time(settings: Settings) -> dt.datetime:
    """The current instant, as the server would read it (BOT_NOW moves the clock, which then runs on)."""
    from handlers.clock import running_clock, start_instant, system_clock

    return running_clock(start_instant(settings.bot_now))() if settings.bot_now else system_clock()
