"""The statuses stored in the database, each with the Chinese label people read.

Values are what the `status` columns hold and must not change; a member is a `str`, so it compares
equal to the stored value and can be written as it is. `label` is the Chinese name to show.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledStatus(StrEnum):
    """A stored value with its Chinese label, declared side by side: `SENT = "sent", "已发送"`. The base
    of every status here."""

    _label: str

    # The label is taken from *label because mypy reads a lookup by value, `Status("sent")`, as a
    # call of __new__: a required second argument would fail every lookup there.
    def __new__(cls, value: str, *label: str) -> LabelledStatus:
        member = str.__new__(cls, value)
        member._value_ = value
        (member._label,) = label
        return member

    @property
    def label(self) -> str:
        """The Chinese name of the status, as candidates and staff read it."""
        return self._label


class RequestStatus(LabelledStatus):
    """A withdrawal request: submitted → approved → refunded, or submitted → rejected."""

    SUBMITTED = "submitted", "已提交，待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "未通过"
    REFUNDED = "refunded", "已退费"


class OutboxStatus(LabelledStatus):
    """An outbox message: pending → sending (claimed) → sent | failed | skipped | cancelled."""

    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    SKIPPED = "skipped", "已跳过"
    CANCELLED = "cancelled", "已取消"


class DeliveryStatus(LabelledStatus):
    """What became of one send (storage.outbox.Delivery)."""

    SENT = "sent", "已发送"
    RETRY = "retry", "稍后重试"
    FAILED = "failed", "发送失败"
    UNREACHABLE = "unreachable", "无法送达"


class HandoffStatus(LabelledStatus):
    """A request for a human (转人工): pending → open (a member of staff looked) → resolved."""

    PENDING = "pending", "待处理"
    OPEN = "open", "处理中"
    RESOLVED = "resolved", "已办结"


class GapStatus(LabelledStatus):
    """A knowledge-gap group: open → handled."""

    OPEN = "open", "未处理"
    HANDLED = "handled", "已处理"


class BroadcastStatus(LabelledStatus):
    """A staff broadcast: scheduled → queued (outbox rows made) → done; or cancelled."""

    SCHEDULED = "scheduled", "待发送"
    QUEUED = "queued", "发送中"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"
