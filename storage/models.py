"""Typed SQLAlchemy models. Personal data (ID numbers, phones, declarations) is stored encrypted;
the `*_masked` columns hold the only readable form, for lists and logs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out, on SQLite (which keeps naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}


class Conversation(Base):
    """One user on one channel: the form in progress and what the bot remembers, as JSON.

    `version` makes every save conditional on nobody else having saved in between."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_conversations_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class HandledMessage(Base):
    """A channel message the engine has handled, with the replies it got: a channel that delivers
    it again (WeChat retries after 5 s, up to three times) is answered from here, never run twice.
    Kept a day (`storage.handled_messages.RETAIN`); the unique key leads with what a lookup knows."""

    __tablename__ = "handled_messages"
    __table_args__ = (
        UniqueConstraint("channel", "message_id", "user_id", name="uq_handled_messages"),
        Index("ix_handled_messages_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    at: Mapped[dt.datetime]


class TranscriptLine(Base):
    """The conversation as staff will read it, personal numbers masked."""

    __tablename__ = "transcript"
    __table_args__ = (Index("ix_transcript_user", "channel", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime]
    staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The staff member who wrote an outgoing line (a reply from the handoff page); None for the bot."""


class ReferenceCounter(Base):
    """Last reference number issued per day (QK-YYYYMMDD-NNNN), incremented in one statement."""

    __tablename__ = "reference_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class WithdrawalRequest(Base):
    """A confirmed 退考退费 request. The declaration is irrevocable: the candidate cannot edit it."""

    __tablename__ = "withdrawal_requests"
    __table_args__ = (
        # One person, one exam: the keyed hash of the ID number stands for the person.
        UniqueConstraint("id_number_hash", "occupation", "exam_date", name="uq_requests_person_exam"),
        Index("ix_requests_status", "status", "created_at"),
        Index("ix_requests_user", "channel", "user_id"),
        # The staff console's list filters (migration 0006): one index per filter, each also holding the
        # region (a reviewer's filters always include theirs), the status (the counts per status) and
        # created_at (the order): a list page and its counts are read from one index, not the table.
        Index("ix_requests_created", "created_at", "id", "region", "status"),
        Index("ix_requests_region", "region", "status", "created_at"),
        Index("ix_requests_occupation", "occupation", "region", "status", "created_at"),
        Index("ix_requests_institution", "institution", "region", "status", "created_at"),
        Index("ix_requests_exam_date", "exam_date", "region", "status", "created_at"),
        Index("ix_requests_name", "name", "region", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    name: Mapped[str] = mapped_column(String(40))
    id_number_cipher: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(24))
    phone_cipher: Mapped[str] = mapped_column(Text)
    phone_masked: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(32))
    doc_no: Mapped[str] = mapped_column(String(64))
    occupation: Mapped[str] = mapped_column(String(64))
    occupation_listed: Mapped[bool] = mapped_column(default=False)
    """True when the occupation was found on the notice's list; False means staff must verify it."""
    level: Mapped[str] = mapped_column(String(16))
    exam_date: Mapped[dt.date] = mapped_column(Date)
    institution: Mapped[str] = mapped_column(String(120))
    receipt_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    declaration_cipher: Mapped[str] = mapped_column(Text)
    declaration_masked: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    refunded_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class RequestEvent(Base):
    """History of a request: submitted, approved, rejected, refunded; append-only."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("withdrawal_requests.id"), index=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Handoff(Base):
    """A candidate asked for a human (转人工): pending → open (a member of staff looked) → resolved."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    region: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The candidate's region as far as known when they asked (migration 0007); None: not known,
    and every member of staff sees the handoff."""
    assigned_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The staff account name handling it."""
    opened_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Setting(Base):
    """Small facts about the database itself, such as which key encrypted its personal data."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ApiToken(Base):
    """An access token shared by every worker and host (WeChat's access_token), encrypted.

    `lease_until` lets one process at a time refresh it: WeChat invalidates a token a few minutes
    after a new one is fetched, so workers refreshing on their own keep breaking each other's."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    token_cipher: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    refresh_count: Mapped[int] = mapped_column(Integer, default=0)


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
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
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
        # What a dispatcher claims: one ordered range per status and channel (storage.outbox._due_rows).
        Index("ix_outbox_claim", "status", "channel", "next_attempt_at"),
        Index("ix_outbox_user", "channel", "user_id", "status"),
        Index("ix_outbox_broadcast", "broadcast_id", "status"),
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
    capped: Mapped[bool] = mapped_column(default=True)
    """Counts towards the per-user daily limit (reminders and broadcasts do; replies to the user do not)."""
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True, index=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), nullable=True)
    due_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
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


class Lease(Base):
    """Leader election without advisory locks (SQLite): whoever holds an unexpired lease leads."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime]


class StaffAccount(Base):
    """A member of staff who may sign in to the console at /admin.

    `regions` holds canonical region names (广东省, 广州市 …); an empty list means every region
    (admins and viewers; a reviewer always has at least one)."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    """admin, reviewer or viewer."""
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    """Failed logins since the last success or unlock, within the throttling window."""
    locked_until: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class StaffSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's random token is stored, so a copy of
    the database does not let anyone sign in."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]


class LoginFailure(Base):
    """One failed login, by the name typed and the client address: the throttle counts these rows,
    so it holds across worker processes. Old rows are pruned; the audit log keeps the record."""

    __tablename__ = "staff_login_failures"
    __table_args__ = (
        Index("ix_login_failures_name", "name", "at"),
        Index("ix_login_failures_ip", "ip", "at"),
        Index("ix_login_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]


class AuditEntry(Base):
    """One staff action: who, when, what, on which record, and the record before and after.

    Append-only: database triggers refuse UPDATE and DELETE (migration 0004)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_actor", "actor", "id"),
        Index("ix_audit_action", "action", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class GapGroup(Base):
    """Questions the bot abstained on that read alike: one knowledge gap for staff to review.

    open → handled. A question like a handled group's starts a new open group pointing back at it
    (`previous_id`): the handled group stays the record of what was done, and the new group's
    count shows whether it worked."""

    __tablename__ = "gap_groups"
    __table_args__ = (
        Index("ix_gap_groups_recent", "status", "last_asked_at"),
        Index("ix_gap_groups_count", "status", "count"),
        Index("ix_gap_groups_normalized", "normalized", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    representative: Mapped[str] = mapped_column(Text)
    """The group's first question as asked, personal numbers masked."""
    normalized: Mapped[str] = mapped_column(String(200))
    """The representative normalised (simplified, half-width, no punctuation): what similarity compares."""
    status: Mapped[str] = mapped_column(String(16), default="open")
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_asked_at: Mapped[dt.datetime]
    last_asked_at: Mapped[dt.datetime]
    handled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handled_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("gap_groups.id"), nullable=True)
    """The handled group this one asks again."""


class UnansweredQuestion(Base):
    """One question the bot abstained on, personal numbers masked."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (
        Index("ix_unanswered_group", "group_id", "id"),
        Index("ix_unanswered_asked", "asked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("gap_groups.id"))
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(32), nullable=True)
    asked_at: Mapped[dt.datetime]


class QuestionVariant(Base):
    """A phrasing staff mapped to an existing knowledge-base fact; every server process reloads
    the active ones within a minute of a change."""

    __tablename__ = "question_variants"
    __table_args__ = (Index("ix_variants_active", "active", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str] = mapped_column(String(128))
    """The fact's id in the knowledge base (gz145.fee-daily)."""
    group_id: Mapped[int | None] = mapped_column(ForeignKey("gap_groups.id"), nullable=True)
    """The knowledge gap it was added from, if any."""
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    """Changes on every edit, so that other processes notice (see storage.gaps.variants_version)."""
    deactivated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AnswerStat(Base):
    """Policy questions answered and abstained on, per Beijing day and channel, for the dashboard.

    One upsert per question. The count is spread over `slot`s (a hash of the user) because on
    PostgreSQL an upserted row stays locked until the message's transaction commits: with one row
    per day and channel, every conversation's questions would wait for each other."""

    __tablename__ = "answer_stats"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abstained: Mapped[int] = mapped_column(Integer, default=0)


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


class NoticeDraft(Base):
    """A notice being reviewed in the staff console: the text staff pasted or uploaded, the draft
    `kb draft` made of it (the knowledge-base mapping, as JSON, edited by the reviewer) and the
    reviewer's decision on each fact (`decisions`: fact id → accept / reject).

    draft → published (a version was made from it) → withdrawn (that version was withdrawn);
    or draft → discarded. `revision` goes up on every save, so that two reviewers editing the same
    draft cannot overwrite each other unawares."""

    __tablename__ = "notice_drafts"
    __table_args__ = (Index("ix_notice_drafts_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    doc_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_name: Mapped[str] = mapped_column(String(255))
    """The uploaded file's name, or 粘贴的文本."""
    source_text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    decisions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    base_doc_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The published version 修改 started this draft from, if any."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime]


class NoticeVersion(Base):
    """One published version of a notice: the validated knowledge-base mapping the bot answers from.

    Immutable: a change is a new version of the same `doc_no`, which marks this one
    `superseded_at`; a withdrawal sets `withdrawn_*`. Database triggers (migration 0008) refuse any
    change to the content columns and any DELETE. Live: neither superseded nor withdrawn."""

    __tablename__ = "published_notices"
    __table_args__ = (
        UniqueConstraint("doc_no", "version", name="uq_published_notices_version"),
        Index("ix_published_notices_live", "withdrawn_at", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_no: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("notice_drafts.id"), nullable=True)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("published_notices.id"), nullable=True)
    """The earlier version of the same notice that this one replaced."""
    superseded_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
