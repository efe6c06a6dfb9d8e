"""The ASGI application: one place that declares routes, middleware and the lifespan.

Shared services (the runtime, metrics, channels) live on `app.state`, built in the lifespan."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator

from argon2 import PasswordHasher
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import Runtime, build_runtime
from bot.config import Settings
from bot.gaps_sync import variants_syncing
from bot.metrics import Metrics
from bot.notices_sync import notices_syncing
from bot.reminders.wiring import reminders_running
from handlers.clock import Clock

log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    checks = {"knowledge_base": bool(runtime.services.kb.notices)}
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
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    password_hasher: PasswordHasher | None = None,
    freeze_gc: bool = False,
) -> Starlette:
    """The server. `password_hasher` lets tests use cheap argon2 parameters for staff passwords;
    `freeze_gc` is for a process that runs one server for its whole life (see `serving_app`)."""
    settings = settings or Settings()
    from bot import console
    from bot.channels import telegram, web, wechat

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await build_runtime(settings, clock=clock)
        app.state.runtime = runtime
        app.state.metrics = Metrics()
        app.state.metrics.watch_engine(runtime.engine)
        app.state.settings = settings
        app.state.pushers = {}  # channel → Push, filled by the channels that can send first
        async with contextlib.AsyncExitStack() as stack:
            # Published notices, then variants (which load into the PolicyQA the notices built),
            # before any channel: a channel may take messages as soon as it starts.
            await stack.enter_async_context(notices_syncing(app, settings.variants_poll_seconds))
            await stack.enter_async_context(variants_syncing(app, settings.variants_poll_seconds))
            for channel in (wechat, telegram, web):
                await stack.enter_async_context(channel.running(app, settings))
            if settings.reminders_enabled:
                await stack.enter_async_context(reminders_running(app, settings))
            await stack.enter_async_context(console.running(app, settings, hasher=password_hasher))
            # Everything built so far (the knowledge base, its indexes, the templates) lives as
            # long as the server: out of the collector's reach, a full collection no longer walks
            # it (about 180 ms every few hundred requests, seen in `bench console`'s p99).
            if freeze_gc:
                gc.collect()
                gc.freeze()
            log.info("server ready")
            yield
        await runtime.close()

    routes = [Route("/healthz", healthz), Route("/metrics", metrics)]
    for channel in (wechat, telegram, web):
        routes.extend(channel.routes(settings))
    routes.extend(console.routes(settings))
    return Starlette(routes=routes, lifespan=lifespan)


def serving_app() -> Starlette:
    """The application `python -m bot serve` runs: one per process, for the life of the process, so
    what start-up built may be frozen out of the garbage collector's reach (tests build many apps
    in one process and must not)."""
    return create_app(freeze_gc=True)
