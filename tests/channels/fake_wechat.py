"""A fake WeChat API server (run on loopback with `serving`): the stable-token endpoint, customer-service
and template messages, and the menu. It checks the access_token on every call like the real one,
records what it was sent, and can be told to answer a user's messages with an error code."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

APP_ID = "wx2c2769f8efd9abc2"
SECRET = "s3cret"


class FakeWeChatApi:
    def __init__(self, *, token_delay: float = 0.0, send_delay: float = 0.0) -> None:
        self.token_delay = token_delay
        self.send_delay = send_delay
        """Seconds each message send takes, as a real API's round trip does."""
        self.token_calls: list[dict[str, Any]] = []
        self.current_token = ""
        self.sent: list[dict[str, Any]] = []
        self.templates: list[dict[str, Any]] = []
        self.menus: list[dict[str, Any]] = []
        self.agents: list[str] = []
        self.rejected_tokens = 0
        self.custom_errors: dict[str, int] = {}
        """openid → errcode that custom/send answers for that user."""
        self.template_errors: dict[str, int] = {}
        self.template_quota: int | None = None
        """Templates the account may still send today; at 0 every template is refused with 45009."""
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/stable_token", self.stable_token, methods=["POST"]),
                Route("/cgi-bin/message/custom/send", self.custom_send, methods=["POST"]),
                Route("/cgi-bin/message/template/send", self.template_send, methods=["POST"]),
                Route("/cgi-bin/menu/create", self.menu_create, methods=["POST"]),
            ]
        )

    def invalidate_token(self) -> None:
        """As if someone else had forced a refresh: the current token stops working."""
        self.current_token = f"{self.current_token}-revoked"

    async def stable_token(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.token_calls.append(body)
        if body.get("appid") != APP_ID or body.get("secret") != SECRET:
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        await asyncio.sleep(self.token_delay)
        if not self.current_token or body.get("force_refresh"):
            self.current_token = f"TOKEN-{len(self.token_calls)}"
        return JSONResponse({"access_token": self.current_token, "expires_in": 7200})

    async def _authorised(self, request: Request) -> dict[str, Any] | JSONResponse:
        if not self.current_token or request.query_params.get("access_token") != self.current_token:
            self.rejected_tokens += 1
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        self.agents.append(request.headers.get("user-agent", ""))
        body: dict[str, Any] = await request.json()
        return body

    async def custom_send(self, request: Request) -> JSONResponse:
        await asyncio.sleep(self.send_delay)
        body = await self._authorised(request)
        if isinstance(body, JSONResponse):
            return body
        errcode = self.custom_errors.get(body["touser"], 0)
        if errcode:
            return JSONResponse({"errcode": errcode, "errmsg": "refused"})
        self.sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def template_send(self, request: Request) -> JSONResponse:
        await asyncio.sleep(self.send_delay)
        body = await self._authorised(request)
        if isinstance(body, JSONResponse):
            return body
        errcode = self.template_errors.get(body["touser"], 0)
        if errcode:
            return JSONResponse({"errcode": errcode, "errmsg": "refused"})
        if self.template_quota is not None:
            if self.template_quota <= 0:
                return JSONResponse({"errcode": 45009, "errmsg": "reach max api daily quota limit"})
            self.template_quota -= 1
        self.templates.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": len(self.templates)})

    async def menu_create(self, request: Request) -> JSONResponse:
        body = await self._authorised(request)
        if isinstance(body, JSONResponse):
            return body
        self.menus.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})
