"""The composition root: builds the database, the key, the knowledge and the engine once, and the
one typed `Runtime` every part of the server reads them from."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from bot.config import Settings
from bot.metrics import Metrics
from bot.rate_limits import RateLimits
from bot.reminders.policy import schedule_from_settings
from handlers.clock import Clock, running_clock, start_instant, system_clock
from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.group_commit import GroupCommit
from handlers.messages import Inbound, Reply
from handlers.privacy_notice import DEFAULT_NOTICE, PrivacyNotice
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from storage.database import Database
from storage.models import Setting
from storage.pii import KEY_FINGERPRINT, PiiCipher, PiiKeyError, load_or_create_key, load_previous_keys
from storage.private_files import private_dir
from storage.requests import count_encrypted_rows

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.channels.push import Push
    from bot.channels.wechat import WeChatChannel
    from bot.console.state import ConsoleState
    from bot.knowledge_sync import KnowledgeSync
    from bot.reminders.service import ReminderService


class Conversations(Protocol):
    """Where channels hand messages: the engine itself, or group commit in front of it."""

    def submit(self, inbound: Inbound) -> asyncio.Future[list[Reply]]: ...

    async def handle(self, inbound: Inbound) -> list[Reply]: ...


@dataclass
class Runtime:
    """Everything one server process shares, built once. The parts that start with the server (the
    channels, the console, the reminders) fill in their own fields as they start."""

    settings: Settings
    db: Database
    knowledge: KnowledgeHolder
    services: Services
    engine: ConversationEngine
    conversations: Conversations
    clock: Clock
    """What every part of the server asks the time: the engine, the reminders, the console."""
    rate_limits: RateLimits
    metrics: Metrics = field(default_factory=Metrics)
    pushers: dict[str, Push] = field(default_factory=dict)
    """channel → how to send it a message first, for the channels that can."""
    knowledge_sync: KnowledgeSync | None = None
    reminders: ReminderService | None = None
    console: ConsoleState | None = None
    wechat: WeChatChannel | None = None
    telegram: Application[Any, Any, Any, Any, Any, Any] | None = None

    async def close(self) -> None:
        await self.db.dispose()


def runtime_of(owner: HTTPConnection | Starlette) -> Runtime:
    """The server's runtime, from a request or the application."""
    state = owner.app.state if isinstance(owner, HTTPConnection) else owner.state
    runtime = state.runtime
    assert isinstance(runtime, Runtime), "the server's lifespan sets the runtime before any request"
    return runtime


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
        previous = settings.pii_previous_keys.get_secret_value() if settings.pii_previous_keys else None
        cipher = PiiCipher(key, load_previous_keys(settings.previous_key_file, configured=previous))
        # During a rotation the database still names the old key until every row is re-encrypted.
        known = {cipher.fingerprint, *(p.fingerprint for p in cipher.previous)}
        if recorded is None:
            session.add(Setting(name=KEY_FINGERPRINT, value=cipher.fingerprint))
        elif recorded.value not in known:
            raise PiiKeyError(
                f"加密密钥与数据库不匹配（数据库记录的密钥指纹 {recorded.value}，当前密钥 {cipher.fingerprint}）。"
                "请恢复原来的密钥文件或 PII_KEY，否则已加密的个人信息将无法读取。"
            )
    return cipher


def privacy_notice(settings: Settings) -> PrivacyNotice:
    """The deployment's notice (PRIVACY_NOTICE_FILE) or the default one, with the retention period filled in."""
    template = DEFAULT_NOTICE
    if settings.privacy_notice_file is not None:
        template = settings.privacy_notice_file.read_text(encoding="utf-8")
    return PrivacyNotice.from_template(template, retention_days=settings.request_retention_days)


async def build_runtime(
    settings: Settings | None = None, *, clock: Clock | None = None, knowledge: KnowledgeSnapshot | None = None
) -> Runtime:
    """The runtime on `settings`. `knowledge` lets tests share one loaded knowledge base; by default
    the shipped notices are loaded (the published ones come with `bot.knowledge_sync`)."""
    settings = settings or Settings()
    private_dir(settings.data_dir)
    db = Database(settings.effective_database_url, fast_path=settings.sqlite_fast_path)
    try:
        if settings.migrate_on_start:
            await db.migrate()
        else:
            await db.require_current()
        cipher = await open_cipher(db, settings)
        holder = KnowledgeHolder(knowledge or KnowledgeSnapshot.shipped())
    except BaseException:
        await db.dispose()
        raise
    if clock is None:
        clock = running_clock(start_instant(settings.bot_now)) if settings.bot_now else system_clock
    services = Services(
        knowledge=holder,
        cipher=cipher,
        schedule=schedule_from_settings(settings),
        gaps_per_user_day=settings.gap_questions_per_user_day,
        privacy_notice=privacy_notice(settings),
    )
    engine = ConversationEngine(db, services, clock)
    conversations: Conversations = GroupCommit(engine) if settings.group_commit else engine
    limits = RateLimits(per_user=settings.user_rate_limit, per_address=settings.web_address_rate_limit)
    runtime = Runtime(settings, db, holder, services, engine, conversations, clock, limits)
    runtime.metrics.watch_engine(engine)
    return runtime


async def key_fingerprint(db: Database) -> str | None:
    async with db.sessions() as session:
        return (await session.execute(select(Setting.value).where(Setting.name == KEY_FINGERPRINT))).scalar()
