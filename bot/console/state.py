"""What the console keeps in the runtime (`Runtime.console`), built once in `bot.console.running`,
and typed accessors for it and for the shared runtime (database, clock, knowledge base)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from starlette.requests import Request

from bot.app import Runtime, runtime_of
from bot.console.passwords import Passwords
from knowledge.regions import RegionRegistry
from knowledge.snapshot import KnowledgeSnapshot
from storage.database import Database


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


def client_ip(request: Request) -> str:
    """The client's address: uvicorn has already applied X-Forwarded-For from trusted proxies."""
    return request.client.host if request.client else "unknown"
