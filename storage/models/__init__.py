"""Typed SQLAlchemy models, one module per aggregate, all re-exported here: import them from
`storage.models`. Importing this package registers every table on `Base.metadata`, which Alembic
(storage/migrations/env.py) compares with the migrations."""

from storage.models.base import Base, UTCDateTime
from storage.models.conversations import Conversation, HandledMessage, TranscriptLine
from storage.models.gaps import AnswerStat, GapGroup, QuestionVariant, UnansweredQuestion
from storage.models.handoffs import Handoff
from storage.models.notices import NoticeDraft, NoticeVersion
from storage.models.outbox import (
    Broadcast,
    DeliveryAttempt,
    DeliveryStat,
    InboxMessage,
    OutboxMessage,
    Recipient,
    SendQuota,
    Subscription,
)
from storage.models.requests import ReferenceCounter, RequestEvent, WithdrawalRequest
from storage.models.shared import ApiToken, Lease, Setting, WeChatNonce
from storage.models.staff import AuditEntry, LoginFailure, StaffAccount, StaffSession

__all__ = [
    "AnswerStat",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Broadcast",
    "Conversation",
    "DeliveryAttempt",
    "DeliveryStat",
    "GapGroup",
    "HandledMessage",
    "Handoff",
    "InboxMessage",
    "Lease",
    "LoginFailure",
    "NoticeDraft",
    "NoticeVersion",
    "OutboxMessage",
    "QuestionVariant",
    "Recipient",
    "ReferenceCounter",
    "RequestEvent",
    "SendQuota",
    "Setting",
    "StaffAccount",
    "StaffSession",
    "Subscription",
    "TranscriptLine",
    "UTCDateTime",
    "UnansweredQuestion",
    "WeChatNonce",
    "WithdrawalRequest",
]
