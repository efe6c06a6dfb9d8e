"""Caps on what a console form may send, enforced before and while the body is read.

Starlette reads a form body of any size, and spools multipart files to disk: one anonymous POST to
the login page could take the server's memory or disk. Each path gets a cap fitting its form (the
login form a few KB), multipart only where a file is expected, and a body that declares or turns out
to be larger is refused with 413 before the handler sees a byte too many."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.console.templates import error_page

BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
TOO_LARGE = "提交的内容过大，请检查后重试。"


class BodyTooLarge(Exception):
    """The body went past its cap while being read."""


class BodyLimits:
    """ASGI middleware for the console mount. `limits` and `multipart` are keyed by the path inside
    the mount ("/login"); any other path gets `default` and no multipart."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        limits: Mapping[str, int],
        multipart: frozenset[str] = frozenset(),
        too_large: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.limits = dict(limits)
        self.multipart = multipart
        self.too_large = dict(too_large or {})
        """What to tell the user when a path's cap is passed, where a generic message would not do."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        path = _inside_mount(scope)
        limit = self.limits.get(path, self.default)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if headers.get("content-type", "").lower().startswith("multipart/") and path not in self.multipart:
            await _refuse(scope, send, 415, "此页面不接受文件上传。")
            return
        declared = headers.get("content-length")
        too_large = self.too_large.get(path, TOO_LARGE)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(scope, send, 413, too_large)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watching_send)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, send, 413, too_large)


def _inside_mount(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    response = error_page(Request(scope, nothing), status, message)
    await response(scope, nothing, send)
