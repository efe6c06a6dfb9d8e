"""The ASGI application: one place that declares routes, middleware and the lifespan.

Everything the server shares lives in one typed `Runtime` (bot.app), built in the lifespan and
read with `runtime_of(request)`."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

from argon2 import PasswordHasher
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import interpreter
from bot.app import build_runtime, runtime_of
from bot.config import Settings
from bot.disconnects import ClientDisconnects
from bot.knowledge_sync import knowledge_syncing
from bot.reminders.wiring import reminders_running
from bot.transport_security import StrictTransportSecurity
from handlers.clock import Clock
from knowledge.snapshot import KnowledgeSnapshot
from storage.operations_stats import operations_stats

log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    runtime = runtime_of(request)
    checks = {"knowledge_base": bool(runtime.knowledge.current.kb.notices)}
    try:
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported below
        checks["database"] = False
    ok = all(checks.values())
    body = {"status": "ok" if ok else "fail", **checks, "worker": os.getpid()}
    return JSONResponse(body, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.sessions() as session:
        stats = await operations_stats(session, now=runtime.clock(), quotas=runtime.services.schedule.rules.quotas)
    snapshot = runtime.knowledge.current
    versions = {
        "notices": str(len(snapshot.kb.notices)),
        "published": snapshot.notices_version or "",
        "variants": snapshot.variants_version or "",
    }
    runtime.metrics.leading.set(1 if runtime.reminders is not None and runtime.reminders.leading else 0)
    body = runtime.metrics.render(stats, versions=versions)
    return Response(body, media_type="text/plain; version=0.0.4")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    password_hasher: PasswordHasher | None = None,
    knowledge: KnowledgeSnapshot | None = None,
    serving: bool = False,
) -> Starlette:
    """The server. `password_hasher` lets tests use cheap argon2 parameters for staff passwords and
    `knowledge` share one loaded knowledge base; `serving` is for the process that runs one server
    for its whole life (`serving_app`), which may apply the process-wide settings of bot.interpreter."""
    settings = settings or Settings()
    from bot import console
    from bot.channels import telegram, web, wechat

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await build_runtime(settings, clock=clock, knowledge=knowledge)
        app.state.runtime = runtime
        async with contextlib.AsyncExitStack() as stack:
            # The published notices and the variants before any channel: a channel may take
            # messages as soon as it starts.
            runtime.knowledge_sync = await stack.enter_async_context(
                knowledge_syncing(runtime.db, runtime.knowledge, settings.variants_poll_seconds)
            )
            for channel in (wechat, telegram, web):
                await stack.enter_async_context(channel.running(app, settings))
            if settings.reminders_enabled:
                await stack.enter_async_context(reminders_running(app, settings))
            await stack.enter_async_context(console.running(app, settings, hasher=password_hasher))
            if serving:
                interpreter.tune_switch_interval()
                interpreter.freeze_startup_objects()
            log.info("server ready")
            yield
        await runtime.close()

    routes: list[BaseRoute] = [Route("/healthz", healthz), Route("/metrics", metrics)]
    for channel in (wechat, telegram, web):
        routes.extend(channel.routes(settings))
    routes.extend(console.routes(settings))
    middleware = [
        # Outermost: a request for another host is refused before anything builds a URL from it.
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_host_list, www_redirect=False),
        Middleware(StrictTransportSecurity),
        Middleware(ClientDisconnects),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def serving_app() -> Starlette:
    """The application `python -m bot serve` runs: one per process, for the life of the process."""
    return create_app(serving=True)
