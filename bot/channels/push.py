"""What every channel that can send first offers the dispatcher: one method, one outcome."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from handlers.messages import Outbound
from storage.outbox import Delivery


class Push(Protocol):
    async def send(
        self, user_id: str, message: Outbound, *, last_seen: dt.datetime | None, now: dt.datetime
    ) -> Delivery:
        """Sends `message` to `user_id`; `last_seen` is the user's last message to us (WeChat's
        48-hour window), `now` the bot's clock. Never raises for a failed send: the Delivery says."""
        ...

    def route(self, last_seen: dt.datetime | None, now: dt.datetime) -> str | None:
        """The way `send` would send to a user last seen at `last_seen` (its `Delivery.via`), where the
        channel has a daily quota per way (WeChat: template, custom); None where it has none."""
        ...
