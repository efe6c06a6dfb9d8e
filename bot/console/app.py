"""The console's route table: the stylesheet plus the `routes` of every module in `bot.console.pages`,
mounted at /admin behind headers that keep pages from being framed, cached or fed foreign content."""

from __future__ import annotations

import importlib
import pkgutil

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.console import pages
from bot.console.body_limits import BodyLimits
from bot.console.pages.notices import MAX_BODY as NOTICE_UPLOAD_BODY
from bot.console.pages.notices import UPLOAD_TOO_LARGE
from bot.console.templates import MOUNT_NAME, STATIC_DIR

PREFIX = "/admin"
FORM_BODY = 1024 * 1024
"""A console form's body: a notice draft's facts are the largest (urlencoded, no files)."""
LOGIN_BODY = 4 * 1024
UPLOADS = frozenset({"/notices/drafts"})
SECURITY_HEADERS = {
    # No script at all: the console is plain forms, so injected markup can run nothing.
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every console response (pages, redirects, refusals, the stylesheet)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def page_routes() -> list[BaseRoute]:
    """The routes of every page module, in module-name order (modules are found, not listed, so a
    new page is one new file)."""
    found: list[BaseRoute] = []
    for module in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{pages.__name__}.{module.name}")
        found.extend(getattr(loaded, "routes", []))
    return found


def console_mount() -> Mount:
    routes: list[BaseRoute] = [Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"), *page_routes()]
    limits = {"/login": LOGIN_BODY, **dict.fromkeys(UPLOADS, NOTICE_UPLOAD_BODY)}
    return Mount(
        PREFIX,
        routes=routes,
        name=MOUNT_NAME,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                BodyLimits,
                default=FORM_BODY,
                limits=limits,
                multipart=UPLOADS,
                too_large=dict.fromkeys(UPLOADS, UPLOAD_TOO_LARGE),
            ),
        ],
    )
