"""The composition root: builds the database, the key, the knowledge base and the engine once."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

from sqlalchemy import select

from bot.config import Settings
from bot.reminders.policy import schedule_from_settings
from handlers.clock import Clock, running_clock, start_instant, system_clock
from handlers.context import Services
from handlers.engine import ConversationEngine
from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from storage.database import Database
from storage.models import Setting
from storage.pii import PiiCipher, PiiKeyError, load_or_create_key
from storage.requests import count_encrypted_rows

KEY_FINGERPRINT = "pii_key_fingerprint"

GIL_SWITCH_INTERVAL = 0.0005
"""Seconds. aiosqlite runs every statement on its own thread; at CPython's default 5 ms the event
loop, handing a statement over, can wait up to 5 ms for the GIL while that thread holds it. At
0.5 ms the reminder dispatcher sends about a fifth more per second on less CPU (`python -m benchmarks.reminders`)."""


def tune_interpreter() -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    services: Services
    engine: ConversationEngine
    clock: Clock
    """What every part of the server asks the time: the engine, the reminders, the console."""

    async def close(self) -> None:
        await self.db.dispose()

    def use_knowledge(self, kb: KnowledgeBase, qa: PolicyQA) -> None:
        """Swaps in a rebuilt knowledge base and its PolicyQA (published notices or question variants
        changed; `qa` must be built over `kb`). Services
        is frozen, so a new one replaces it here and in the engine: a message already being handled
        keeps the Services it started with, and no one sees a new kb with an old qa."""
        self.services = replace(self.services, kb=kb, qa=qa)
        self.engine.services = self.services


async def open_cipher(db: Database, settings: Settings) -> PiiCipher:
    """Loads (or, on an empty database, creates) the PII key and checks it is the one that
    encrypted the stored rows: a wrong key would make every stored ID number unreadable."""
    async with db.transaction() as session:
        await db.serialize_startup(session)
        recorded = await session.get(Setting, KEY_FINGERPRINT)
        rows = await count_encrypted_rows(session)
        configured = settings.pii_key.get_secret_value() if settings.pii_key else None
        key = load_or_create_key(
            settings.key_file, configured=configured, encrypted_rows_exist=rows > 0 or recorded is not None
        )
        cipher = PiiCipher(key)
        if recorded is None:
            session.add(Setting(name=KEY_FINGERPRINT, value=cipher.fingerprint))
        elif recorded.value != cipher.fingerprint:
            raise PiiKeyError(
                f"加密密钥与数据库不匹配（数据库记录的密钥指纹 {recorded.value}，当前密钥 {cipher.fingerprint}）。"
                "请恢复原来的密钥文件或 PII_KEY，否则已加密的个人信息将无法读取。"
            )
    return cipher


async def build_runtime(settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
    settings = settings or Settings()
    tune_interpreter()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
        cipher = await open_cipher(db, settings)
        kb = KnowledgeBase.load()
        services = Services(kb=kb, qa=PolicyQA(kb), cipher=cipher, schedule=schedule_from_settings(settings))
    except BaseException:
        await db.dispose()
        raise
    if clock is None:
        clock = running_clock(start_instant(settings.bot_now)) if settings.bot_now else system_clock
    return Runtime(settings, db, services, ConversationEngine(db, services, clock), clock)


async def key_fingerprint(db: Database) -> str | None:
    async with db.sessions() as session:
        return (await session.execute(select(Setting.value).where(Setting.name == KEY_FINGERPRINT))).scalar()
