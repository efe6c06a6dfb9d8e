"""What the console keeps in the runtime (`Runtime.console`), built once in `bot.console.running`,
and typed accessors for it and for what the server shares with the console (settings, knowledge,
the channels that can send first, the knowledge poller, the dispatcher)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cachetools import TTLCache
from starlette.requests import Request

from bot.app import Runtime, runtime_of
from bot.config import Settings
from bot.console.canned import Phrases
from bot.console.passwords import Passwords
from knowledge.regions import RegionRegistry
from knowledge.snapshot import KnowledgeSnapshot
from storage.database import Database

if TYPE_CHECKING:
    from bot.channels.push import Push
    from bot.knowledge_sync import KnowledgeSync

SUGGESTIONS_SECONDS = 60.0
"""How long the request list's suggestions (occupations, institutions) are kept per set of regions."""
Suggestions = tuple[list[str], list[str], list[str]]
"""Occupations, institutions and regions of the requests a set of regions covers."""
"""The occupations and the institutions offered in the request list's filters."""


def _suggestion_cache() -> TTLCache[frozenset[str] | None, Suggestions]:
    return TTLCache(maxsize=256, ttl=SUGGESTIONS_SECONDS)


@dataclass(frozen=True)
class LoginPolicy:
    """Throttling of failed logins, counted in the database so it holds across worker processes."""

    max_failures: int = 5
    """Failures under one name within `window` that lock the account."""
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    max_ip_failures: int = 20
    """Failures from one client address within `window` after which it is refused for a while."""


@dataclass(frozen=True)
class ConsoleState:
    passwords: Passwords
    idle: dt.timedelta
    """A session unused for this long has ended (ADMIN_IDLE_MINUTES)."""
    max_age: dt.timedelta = dt.timedelta(hours=12)
    """A session ends this long after login however busy it was: a stolen cookie does not last."""
    policy: LoginPolicy = field(default_factory=LoginPolicy)
    phrases: Phrases = field(default_factory=Phrases)
    """Ready-made handoff replies and rejection reasons (CONSOLE_PHRASES_FILE)."""
    suggestions: TTLCache[frozenset[str] | None, Suggestions] = field(default_factory=_suggestion_cache)
    """The request list's suggestions by the staff member's visible regions (None: every region).
    Reading them scans two indexes (about 20 ms at 100,000 requests), and a hint may be a minute old."""


def console_state(request: Request) -> ConsoleState:
    state = runtime(request).console
    assert state is not None, "bot.console.running sets it before the server takes requests"
    return state


def runtime(request: Request) -> Runtime:
    return runtime_of(request)


def database(request: Request) -> Database:
    return runtime(request).db


def now(request: Request) -> dt.datetime:
    """The server's clock (BOT_NOW or a test's clock), as an aware UTC instant."""
    return runtime(request).clock()


def knowledge(request: Request) -> KnowledgeSnapshot:
    """The knowledge the bot answers from now; a page reads it once and uses that one throughout."""
    return runtime(request).knowledge.current


def regions(request: Request) -> RegionRegistry:
    return knowledge(request).kb.regions


def settings(request: Request) -> Settings:
    return runtime(request).settings


def pushers(request: Request) -> Mapping[str, Push]:
    """The channels that can send first (a reply, a reminder), by name."""
    return runtime(request).pushers


def knowledge_sync(request: Request) -> KnowledgeSync:
    """The poller that keeps this process's knowledge current: published notices and variants."""
    sync = runtime(request).knowledge_sync
    assert sync is not None, "the server starts it before taking requests"
    return sync


def wake_dispatcher(request: Request) -> None:
    """Tells the reminder dispatcher (if this server runs one) that a message is due now."""
    service = runtime(request).reminders
    if service is not None:
        service.wake()


def client_ip(request: Request) -> str:
    """The client's address: uvicorn has already applied X-Forwarded-For from trusted proxies."""
    return request.client.host if request.client else "unknown"
