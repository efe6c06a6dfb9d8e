"""The few WeChat API calls the bot makes (custom messages, template messages, the menu), over httpx.

wechatpy's client is synchronous and fetches its token from a hard-coded URL, so it suits neither
an event loop nor an API gateway. Every call here goes through WECHAT_API_BASE_URL, and the
access_token comes from the stable-token endpoint through a `SharedToken`, so all workers use one.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import httpx

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


class WeChatApi:
    def __init__(self, settings: Settings, client: httpx.AsyncClient, token: SharedToken) -> None:
        self.base = settings.wechat_api_base_url.rstrip("/") + "/"
        self.app_id = settings.wechat_app_id or ""
        self.secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
        self.client = client
        self.token = token
        # Tells workers apart in an API gateway's log (and in the two-worker test).
        self.headers = {"User-Agent": f"jianding-bot pid/{os.getpid()}"}
        self.json_headers = {**self.headers, "Content-Type": "application/json; charset=utf-8"}

    async def _fetch_token(self, force: bool) -> tuple[str, int]:
        response = await self.client.post(
            self.base + "cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": self.app_id,
                "secret": self.secret,
                "force_refresh": force,
            },
            headers=self.headers,
        )
        response.raise_for_status()
        data = response.json()
        if "access_token" not in data:
            raise WeChatApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POSTs `payload` with the shared token; raises WeChatApiError on a non-zero errcode and
        httpx errors on transport failures."""
        rejected: str | None = None
        for _ in range(2):
            token = await self.token.get(self._fetch_token, rejected=rejected)
            response = await self.client.post(
                self.base + path, params={"access_token": token}, content=_json(payload), headers=self.json_headers
            )
            response.raise_for_status()
            data: dict[str, Any] = response.json()
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
