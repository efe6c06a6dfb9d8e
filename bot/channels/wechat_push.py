"""Proactive WeChat messages: a customer-service message inside the 48-hour window after the user's
last interaction, a template message outside it, and what each API error means for the caller."""

from __future__ import annotations

import datetime as dt
import logging
import re

from bot.channels.wechat_api import WeChatApi, WeChatApiError, WeChatHttpError
from bot.config import WeChatTemplate
from handlers.messages import Outbound
from storage.masking import mask_text
from storage.outbox import Delivery

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=48)
# Keep a margin: our record of the last interaction and WeChat's may differ by a few seconds.
WINDOW_MARGIN = dt.timedelta(minutes=5)
TEMPLATE_FIELD_MAX = 20

UNREACHABLE = frozenset({43004, 40003, 43019})
"""unsubscribed, not an openid of this account, user blacklisted the account: stop sending."""
OUTSIDE_WINDOW = frozenset({45015, 45047})
"""no interaction within 48 hours; custom-message quota of the window used up: use a template."""
TRANSIENT = frozenset({-1, 45009, 45011, 40001, 40014, 42001})
"""system busy, daily API quota, call frequency, token trouble: worth trying again later."""
QUOTA_REACHED = 45009
"""The day's quota of this API is used up: nothing more goes this way until Beijing midnight."""


def template_value(text: str) -> str:
    """A template field: one line, at most 20 characters (WeChat rejects or cuts longer ones)."""
    line = re.sub(r"\s+", " ", text).strip()
    if len(line) <= TEMPLATE_FIELD_MAX:
        return line
    return line[: TEMPLATE_FIELD_MAX - 1] + "…"


def template_data(template: WeChatTemplate, message: Outbound) -> dict[str, str]:
    return {keyword: template_value(message.fields.get(name, "") or "—") for keyword, name in template.fields.items()}


def _failure(exc: Exception, via: str) -> Delivery:
    """What a refused or failed send of `via` (custom, template) means for the caller."""
    if isinstance(exc, WeChatApiError):
        if exc.errcode in UNREACHABLE:
            return Delivery("unreachable", via, error=f"errcode {exc.errcode}")
        if exc.errcode in TRANSIENT:
            return Delivery("retry", via, error=f"errcode {exc.errcode}", quota_exhausted=exc.errcode == QUOTA_REACHED)
        return Delivery("failed", via, error=f"errcode {exc.errcode}: {exc.errmsg}")
    if isinstance(exc, WeChatHttpError) and exc.status is not None and exc.status < 500:
        return Delivery("failed", via, error=f"HTTP {exc.status}")
    return Delivery("retry", via, error=mask_text(f"{type(exc).__name__}: {exc}"))


class WeChatPush:
    def __init__(self, api: WeChatApi, templates: dict[str, WeChatTemplate]) -> None:
        self.api = api
        self.templates = templates

    @staticmethod
    def in_window(last_seen: dt.datetime | None, now: dt.datetime) -> bool:
        return last_seen is not None and now - last_seen < WINDOW - WINDOW_MARGIN

    def route(self, last_seen: dt.datetime | None, now: dt.datetime) -> str:
        """A customer-service message inside the user's 48-hour window, a template outside it."""
        return "custom" if self.in_window(last_seen, now) else "template"

    async def send(
        self, openid: str, message: Outbound, *, last_seen: dt.datetime | None, now: dt.datetime
    ) -> Delivery:
        if self.in_window(last_seen, now):
            try:
                await self.api.send_text(openid, message.text)
                return Delivery("sent", via="custom")
            except WeChatApiError as exc:
                if exc.errcode not in OUTSIDE_WINDOW:
                    return _failure(exc, "custom")
                log.info("customer-service message refused (errcode %s); trying a template", exc.errcode)
            except WeChatHttpError as exc:
                return _failure(exc, "custom")
        template = self.templates.get(message.kind)
        if template is None:
            return Delivery(
                "failed",
                "template",
                error=f"outside the 48-hour window and no template configured for {message.kind!r}",
            )
        try:
            await self.api.send_template(
                openid, template.template_id, template_data(template, message), url=template.url
            )
        except (WeChatApiError, WeChatHttpError) as exc:
            return _failure(exc, "template")
        return Delivery("sent", via="template")
