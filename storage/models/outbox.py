"""Proactive messages: who is subscribed to what, staff broadcasts, the outbox of messages to send,
what became of each send, each recipient's reachability and daily count, and the web visitors' inbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.statuses import BroadcastStatus, OutboxStatus


class Recipient(Base):
    """A user as a destination of proactive messages: reachable or not, and today's reminder count.

    Locked while a dispatcher claims a message for the user, so that the daily cap holds however
    many dispatchers run."""

    __tablename__ = "recipients"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    reachable: Mapped[bool] = mapped_column(default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    changed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    sent_day: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """The Beijing-time day `sent_today` counts."""
    sent_today: Mapped[int] = mapped_column(Integer, default=0)


class Subscription(Base):
    """What a candidate asked to be reminded of: a region and optionally an occupation or exam kind,
    their own exam date, or the deadlines of a withdrawal request."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_user", "channel", "user_id"),
        Index("ix_subscriptions_active", "active", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    region: Mapped[str] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(64), nullable=True)
    exam_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    exam_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("withdrawal_requests.id"), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class Broadcast(Base):
    """A staff message to an audience of subscribers, sent through the outbox."""

    __tablename__ = "broadcasts"
    # A form submitted twice (a double click) carries the same token and creates one broadcast.
    __table_args__ = (Index("ux_broadcasts_token", "token", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    send_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.SCHEDULED)
    """scheduled → queued (outbox rows made) → done; or cancelled."""
    audience: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The console form's one-time token (migration 0007); None from the command line."""


class OutboxMessage(Base):
    """One proactive message to one user. `key` makes planning idempotent: whoever plans the same
    (subscription, date, offset) or (broadcast, user) again creates nothing.

    pending → sending (claimed by a dispatcher until `claimed_until`) → sent | failed | skipped | cancelled."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # What a dispatcher claims: one ordered range per status and channel (storage.outbox.queue._due_rows).
        Index("ix_outbox_claim", "status", "channel", "next_attempt_at"),
        Index("ix_outbox_user", "channel", "user_id", "status"),
        Index("ix_outbox_broadcast", "broadcast_id", "status"),
        # Claiming by urgency (storage.outbox.queue._due_rows) and expiring reminders whose day passed.
        Index("ix_outbox_urgency", "status", "channel", "priority", "event_day", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    """reminder, broadcast, request_status, staff_reply: also selects the WeChat template."""
    text: Mapped[str] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_day: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """The date reminded of: a reminder is skipped, not sent, once this day has passed."""
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)
    """Which goes first when a channel's daily quota cannot carry everything due (storage.outbox.policy
    .priority_of): 0 answers the user waits for, 1 reminders (the nearest `event_day` first), 2 broadcasts
    (by `due_at`)."""
    capped: Mapped[bool] = mapped_column(default=True)
    """Counts towards the per-user daily limit (reminders and broadcasts do; replies to the user do not)."""
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True, index=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), nullable=True)
    due_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime]


class DeliveryAttempt(Base):
    """Every try at sending an outbox message, with its outcome; append-only."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16))
    via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str] = mapped_column(String(128))


class InboxMessage(Base):
    """A proactive message for a web-page visitor, shown the next time the page asks for news."""

    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_user", "channel", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(32), default="notice", server_default="notice")
    """The Outbound's kind: reminder, request_status, staff_reply, notice."""


class DeliveryStat(Base):
    """Outbox messages that reached their end, per Beijing day, channel, kind and outcome (sent or
    failed), counted by the dispatcher as it records outcomes: the dashboard reads a few rows instead
    of counting a week of delivery attempts (hundreds of thousands at the benchmark's scale)."""

    __tablename__ = "delivery_stats"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SendQuota(Base):
    """A channel's daily allowance of one kind of send (WeChat: template or customer-service messages)
    on one Beijing day: what was used, and when the API said the day's quota was reached (45009). The
    dispatcher reserves a unit as it claims a message and gives it back if the send fails."""

    __tablename__ = "send_quotas"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    route: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    exhausted_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
