"""How fast one user, or one client address, may send messages, counted in this process's memory.

Each worker counts on its own, so with N workers a client may get up to N times the rate: a flood
is still cut to a trickle, and the counting costs a few microseconds with no database round trip.
The limits are `limits` rate strings ("20 per 10 seconds; 60 per minute"); "off" turns the check off."""

from __future__ import annotations

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from handlers.messages import ConversationKey

SLOW_DOWN = "您发送消息太频繁了，请稍后再试。"


class RateLimits:
    def __init__(self, *, per_user: str, per_address: str) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._per_user = parse_rates(per_user)
        self._per_address = parse_rates(per_address)

    def user_allowed(self, key: ConversationKey) -> bool:
        """Counts one message from `key`; False when it is over the limit."""
        return self._hit(self._per_user, "user", key.channel, key.user_id)

    def address_allowed(self, address: str) -> bool:
        """Counts one request from `address` (web chat); False when it is over the limit."""
        return self._hit(self._per_address, "address", address)

    def _hit(self, items: list[RateLimitItem], *key: str) -> bool:
        # Every limit is counted even after one refuses, so that a client over one limit cannot
        # save up the others.
        results = [self._limiter.hit(item, *key) for item in items]
        return all(results)


OFF = "off"


def parse_rates(text: str) -> list[RateLimitItem]:
    """The limits in `text`; none for "off". Raises ValueError for anything else unreadable."""
    return [] if text.strip().lower() in ("", OFF) else parse_many(text)
