"""The fake WeChat API, also noting for each template message delivered when it arrived and which
instance sent it (the bot's User-Agent names its process: `jianding-bot pid/<pid>`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse

from tests.channels.fake_wechat import FakeWeChatApi


@dataclass(frozen=True)
class Delivery:
    at: float
    """time.monotonic() when the fake accepted it."""
    user: str
    pid: int


class RecordingWeChatApi(FakeWeChatApi):
    def __init__(self, *, send_delay: float = 0.0) -> None:
        super().__init__(send_delay=send_delay)
        self.deliveries: list[Delivery] = []

    async def template_send(self, request: Request) -> JSONResponse:
        response = await super().template_send(request)
        if json.loads(bytes(response.body)).get("errcode") == 0:
            body = await request.json()  # cached by Starlette: the same body the fake read
            agent = request.headers.get("user-agent", "")
            pid = int(agent.rsplit("pid/", 1)[1]) if "pid/" in agent else 0
            self.deliveries.append(Delivery(time.monotonic(), body["touser"], pid))
        return response
