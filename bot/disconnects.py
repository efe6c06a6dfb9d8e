"""A client that goes away while its request body is being read is a line in the log, not a traceback.

Starlette raises `ClientDisconnect` from whatever was reading the body (a form, a JSON post); nobody is
left to answer, so the request simply ends."""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


class ClientDisconnects:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            if scope["type"] == "http":
                log.info("client went away during %s %s", scope.get("method"), scope.get("path"))
