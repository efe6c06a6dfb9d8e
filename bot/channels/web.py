"""The web chat page: `GET /` serves it, `POST /api/chat` answers it, `GET /api/inbox` hands it the
reminders and other messages the bot sent first (stored by `WebPush`).

A visitor is known only by a random session id in an HttpOnly cookie that `GET /` sets, signed by
the server so that a made-up id is refused rather than opening a new conversation; the conversation
key is `ConversationKey("web", <that id>)`. Posts need the cookie and must come from the
page's own origin, so another site cannot talk to the bot in a visitor's name; the inbox answers only
the session in the cookie, so nobody can read another visitor's messages."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.app import runtime_of
from bot.channels.dispatch import handle
from bot.channels.http_body import read_limited
from bot.channels.web_push import WebPush, inbox_after, recent_inbox
from bot.config import Settings
from bot.rate_limits import SLOW_DOWN
from handlers.messages import ConversationKey, Inbound
from handlers.resume import recent_lines, request_timelines
from storage.models import InboxMessage

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CHANNEL = "web"
COOKIE = "jd_chat"
COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_BODY = 8 * 1024
MAX_TEXT = 2000
SESSION_ID = re.compile(r"([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})")
"""A random id and its HMAC under a key derived from the PII key: ids are issued by `GET /` only."""
SESSION_PURPOSE = b"web-chat session v1"
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
INBOX_AFTER = re.compile(r"[0-9]{1,18}")
WAIT = re.compile(r"[0-9]{1,3}")
MAX_WAIT = 25
"""Seconds a long poll of the inbox is held at most: below the usual 30-60 s proxy read timeouts."""
OTHER_PROCESS_CHECK = 2.0
"""Seconds between looks at the database while a long poll waits: another process may have stored it."""
# The page loads nothing from elsewhere; a strict policy keeps injected markup inert too.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def routes(settings: Settings) -> list[BaseRoute]:
    """The page, its assets and the chat API; always enabled."""
    return [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/inbox", inbox, methods=["GET"]),
        Route("/api/history", history, methods=["GET"]),
        Route("/api/requests", my_requests, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]


@contextlib.asynccontextmanager
async def running(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    """Nothing to start: the page is served by the routes alone. Messages the bot sends first wait in the inbox."""
    runtime = runtime_of(app)
    runtime.pushers[CHANNEL] = WebPush(runtime.db)
    yield


async def page(request: Request) -> Response:
    response = FileResponse(STATIC_DIR / "chat.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
    # Keep a visitor's id (and so their conversation); a missing, malformed or unsigned one is replaced.
    session = _session(request) or _new_session(request)
    response.set_cookie(
        COOKIE,
        session,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


async def chat(request: Request) -> Response:
    if not _same_origin(request):
        return _error(403, "请求来源不被允许，请在本站页面内发送消息。")
    runtime = runtime_of(request)
    # Before the body is read: a flooding address costs a counter increment per request.
    if not runtime.rate_limits.address_allowed(request.client.host if request.client else "unknown"):
        return _error(429, SLOW_DOWN)
    session = _session(request)
    if session is None:
        return _error(403, "会话已失效，请刷新页面后再试。")
    body = await read_limited(request, MAX_BODY)
    if body is None:
        return _error(413, "消息过大，请精简后再发送。")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: [[[[… thousands deep
        return _error(400, "请求格式错误：需要 JSON 对象。")
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return _error(400, "请求格式错误：缺少文字内容（text）。")
    text: str = data["text"].strip()
    if not text:
        return _error(400, "请输入内容后再发送。")
    if len(text) > MAX_TEXT:
        return _error(400, f"消息太长，请控制在{MAX_TEXT}字以内。")
    client_id = data.get("id")
    if client_id is not None and not (isinstance(client_id, str) and CLIENT_ID.fullmatch(client_id)):
        return _error(400, "请求格式错误：消息编号（id）无效。")

    inbound = Inbound(
        key=ConversationKey(CHANNEL, session),
        text=text,
        # Scoped to the session, so one visitor's ids never meet another's; a resend is answered once.
        message_id=f"{session}:{client_id}" if client_id else None,
    )
    replies = await handle(runtime, inbound)
    payload = [{"text": r.text, "choices": list(r.choices), "sources": list(r.sources)} for r in replies]
    return JSONResponse({"replies": payload}, headers={"Cache-Control": "no-store"})


async def inbox(request: Request) -> Response:
    """The visitor's messages after the id `after` (the last one the page showed), oldest first, 50 at most."""
    # A GET reads nothing but the visitor's own messages, and another site's page cannot read the answer;
    # refusing a cross-site request all the same costs nothing and covers browsers without SameSite.
    session = _visitor(request)
    if isinstance(session, Response):
        return session
    after = request.query_params.get("after", "0")
    wait = request.query_params.get("wait", "0")
    if not INBOX_AFTER.fullmatch(after) or not WAIT.fullmatch(wait):
        return _error(400, "请求格式错误：after 应为消息编号，wait 应为秒数。")
    runtime = runtime_of(request)
    rows = await inbox_after(runtime.db, session, int(after))
    pusher = runtime.pushers.get(CHANNEL)
    if not rows and int(wait) and isinstance(pusher, WebPush):
        # A long poll: answered as soon as a message is stored here, or found stored by another process.
        deadline = time.monotonic() + min(int(wait), MAX_WAIT)
        event = pusher.waiter(session)
        try:
            while not rows and (left := deadline - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=min(left, OTHER_PROCESS_CHECK))
                if await request.is_disconnected():
                    break  # the page went away: nothing holds the server's shutdown
                event.clear()
                rows = await inbox_after(runtime.db, session, int(after))
        finally:
            pusher.done(session, event)
    return JSONResponse({"messages": [_inbox_json(row) for row in rows]}, headers={"Cache-Control": "no-store"})


def _inbox_json(row: InboxMessage) -> dict[str, object]:
    return {"id": row.id, "text": row.text, "at": row.created_at.isoformat(), "kind": row.kind}


async def history(request: Request) -> Response:
    """What a reloaded page shows again: the conversation's recent lines (masked), the messages the bot
    sent first, and the question an open form waits on, with its buttons."""
    session = _visitor(request)
    if isinstance(session, Response):
        return session
    runtime = runtime_of(request)
    key = ConversationKey(CHANNEL, session)
    async with runtime.db.sessions() as db_session:
        lines = await recent_lines(db_session, key)
    pushed = await recent_inbox(runtime.db, session, since=lines[0].at if lines else None)
    waiting = await runtime.engine.waiting_for(key)
    return JSONResponse(
        {
            "lines": [{"dir": line.direction, "text": line.text, "at": line.at.isoformat()} for line in lines],
            "messages": [_inbox_json(row) for row in pushed],
            "waiting": {"text": waiting.text, "choices": list(waiting.choices)} if waiting else None,
        },
        headers={"Cache-Control": "no-store"},
    )


async def my_requests(request: Request) -> Response:
    """我的办件: the visitor's requests, each with its steps (已提交 → 审核中 → 已通过/未通过 → 已退费)."""
    session = _visitor(request)
    if isinstance(session, Response):
        return session
    async with runtime_of(request).db.sessions() as db_session:
        timelines = await request_timelines(db_session, ConversationKey(CHANNEL, session))
    return JSONResponse({"requests": [asdict(t) for t in timelines]}, headers={"Cache-Control": "no-store"})


def _visitor(request: Request) -> str | Response:
    """The visitor's session id for a GET of their own data, or the refusal: another site's page, or no
    session the server issued."""
    if not _same_origin(request):
        return _error(403, "请求来源不被允许。")
    # Counted with the chat's posts: a page asks once per long poll, a flood is refused before any query.
    if not runtime_of(request).rate_limits.address_allowed(request.client.host if request.client else "unknown"):
        return _error(429, SLOW_DOWN)
    return _session(request) or _error(403, "会话已失效，请刷新页面后再试。")


def _session_signature(request: Request, token: str) -> str:
    key = runtime_of(request).services.cipher.derive_key(SESSION_PURPOSE)
    return base64.urlsafe_b64encode(hmac.digest(key, token.encode(), "sha256")).decode().rstrip("=")


def _new_session(request: Request) -> str:
    token = secrets.token_urlsafe(24)
    return f"{token}.{_session_signature(request, token)}"


def _session(request: Request) -> str | None:
    """The cookie's session id when the server issued it, else None."""
    value = request.cookies.get(COOKIE)
    found = SESSION_ID.fullmatch(value) if value else None
    if found is None or not hmac.compare_digest(found.group(2), _session_signature(request, found.group(1))):
        return None
    return value


def _same_origin(request: Request) -> bool:
    """Refuses posts a browser made for another site (CSRF). Clients that are not browsers send
    neither header and carry no visitor's cookie unless they were given it."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    # Compare with the Host the browser used: behind a TLS-terminating proxy the scheme seen here may differ.
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == host.lower()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store"})
