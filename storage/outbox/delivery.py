"""What became of one proactive send: what a channel's sender returns and the outbox records."""

from __future__ import annotations

from dataclasses import dataclass

from storage.statuses import DeliveryStatus


@dataclass(frozen=True, init=False)
class Delivery:
    """What became of one proactive send.

    - sent: delivered (`via` says how: custom, template, telegram …);
    - retry: a transient failure, worth trying again later (`retry_after` seconds if the API said);
    - failed: will not succeed as it is (`error` says why);
    - unreachable: the user unsubscribed or blocked the bot: stop sending to them.

    `quota_exhausted`: the channel said the day's quota for `via` is reached (WeChat's 45009): nothing
    more goes that way until the next Beijing day.

    The status may be given as its plain value (`Delivery("sent", via="custom")`); it is kept as a
    DeliveryStatus, so that an unknown one fails where it is made."""

    status: DeliveryStatus
    via: str
    error: str | None
    retry_after: float | None
    quota_exhausted: bool

    def __init__(
        self,
        status: DeliveryStatus | str,
        via: str = "",
        error: str | None = None,
        retry_after: float | None = None,
        *,
        quota_exhausted: bool = False,
    ) -> None:
        object.__setattr__(self, "status", DeliveryStatus(status))
        object.__setattr__(self, "via", via)
        object.__setattr__(self, "error", error)
        object.__setattr__(self, "retry_after", retry_after)
        object.__setattr__(self, "quota_exhausted", quota_exhausted)

    @property
    def ok(self) -> bool:
        return self.status == DeliveryStatus.SENT
