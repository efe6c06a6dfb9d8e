"""The few WeChat API calls the bot makes (custom messages, template messages, the menu), over aiohttp.

wechatpy's client is synchronous and fetches its token from a hard-coded URL, so it suits neither
an event loop nor an API gateway. Every call here goes through WECHAT_API_BASE_URL, and the
access_token comes from the stable-token endpoint through a `SharedToken`, so all workers use one.

aiohttp rather than httpx: a reminder dispatch sends up to 1,000 requests a second from one process,
and httpx's connection pool costs about 2 ms of CPU per request at 16 concurrent requests, aiohttp
about 0.2 ms (measured with `python -m benchmarks.reminders`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.config import Settings
from storage.api_tokens import SharedToken

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
"""invalid credential, invalid access_token, access_token expired: fetch a new token, retry once."""


def _json(payload: dict[str, Any]) -> bytes:
    # Raw UTF-8, not \\u escapes: WeChat shows escaped Chinese literally in messages and menus
    # (wechatpy encodes the same way).
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


class WeChatApiError(Exception):
    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatHttpError(Exception):
    """The request did not get a JSON answer: a transport failure (`status` None) or an HTTP error."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason if status is None else f"HTTP {status}: {reason}")
        self.reason = reason
        self.status = status


def new_http_session(*, timeout: float = 10, connections: int = 32) -> aiohttp.ClientSession:
    """A client session for WeChatApi: bounded connections, a total timeout per request."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), connector=aiohttp.TCPConnector(limit=connections)
    )


class WeChatApi:
    def __init__(
        self,
        settings: Settings,
        client: aiohttp.ClientSession,
        token: SharedToken,
        *,
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self.on_token = on_token
        """Told "ok" or "failed" after each access-token fetch (metrics)."""
        self.base = settings.wechat_api_base_url.rstrip("/") + "/"
        self.app_id = settings.wechat_app_id or ""
        self.secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
        self.client = client
        self.token = token
        # Tells workers apart in an API gateway's log (and in the two-worker test).
        self.headers = {"User-Agent": f"jianding-bot pid/{os.getpid()}"}
        self.json_headers = {**self.headers, "Content-Type": "application/json; charset=utf-8"}

    async def _post(self, url: str, body: bytes, params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            async with self.client.post(url, data=body, params=params, headers=self.json_headers) as response:
                if response.status >= 400:
                    raise WeChatHttpError(response.reason or "error", response.status)
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeChatHttpError(type(exc).__name__) from exc
        if not isinstance(data, dict):
            raise WeChatHttpError("not a JSON object")
        return data

    async def _fetch_token(self, force: bool) -> tuple[str, int]:
        try:
            token = await self._fetch_token_once(force)
        except (WeChatApiError, WeChatHttpError):
            if self.on_token is not None:
                self.on_token("failed")
            raise
        if self.on_token is not None:
            self.on_token("ok")
        return token

    async def _fetch_token_once(self, force: bool) -> tuple[str, int]:
        data = await self._post(
            self.base + "cgi-bin/stable_token",
            _json(
                {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret, "force_refresh": force}
            ),
        )
        if "access_token" not in data:
            raise WeChatApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POSTs `payload` with the shared token; raises WeChatApiError on a non-zero errcode and
        WeChatHttpError on transport and HTTP failures."""
        rejected: str | None = None
        for _ in range(2):
            token = await self.token.get(self._fetch_token, rejected=rejected)
            data = await self._post(self.base + path, _json(payload), {"access_token": token})
            errcode = int(data.get("errcode", 0) or 0)
            if errcode in TOKEN_ERRORS and rejected is None:
                log.info("WeChat rejected the access_token (errcode %s); fetching a new one", errcode)
                rejected = token
                continue
            if errcode != 0:
                raise WeChatApiError(errcode, str(data.get("errmsg", "")))
            return data
        raise WeChatApiError(errcode, str(data.get("errmsg", "")))

    async def send_text(self, openid: str, text: str) -> dict[str, Any]:
        return await self.call(
            "cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}}
        )

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], *, url: str | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
        }
        if url:
            payload["url"] = url
        return await self.call("cgi-bin/message/template/send", payload)

    async def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return await self.call("cgi-bin/menu/create", menu)
