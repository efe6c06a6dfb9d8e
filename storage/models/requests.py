"""Withdrawal (退考退费) requests, their history, and the daily reference counter. Personal data
(ID numbers, phones, declarations) is stored encrypted; the `*_masked` columns hold the only readable
form, for lists and logs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.statuses import RequestStatus


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
        # The retention job's question: finished, not yet erased, finished before a day.
        Index("ix_requests_erasable", "erased_at", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.SUBMITTED)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    name: Mapped[str] = mapped_column(String(40))
    id_number_cipher: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(24))
    phone_cipher: Mapped[str] = mapped_column(Text)
    phone_masked: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(32))
    doc_no: Mapped[str] = mapped_column(String(200))
    occupation: Mapped[str] = mapped_column(String(64))
    occupation_listed: Mapped[bool] = mapped_column(default=False)
    """True when the occupation was found on the notice's list; False means staff must verify it."""
    level: Mapped[str] = mapped_column(String(16))
    exam_date: Mapped[dt.date] = mapped_column(Date)
    institution: Mapped[str] = mapped_column(String(120))
    receipt_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scope_answer: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    """The answer to "is your occupation within the notice's scope" (是, 不确定); None where the notice
    lists its occupations and the question was not asked. 不确定 is for staff to verify."""
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    declaration_cipher: Mapped[str] = mapped_column(Text)
    declaration_masked: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    refunded_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    erased_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    """When its personal data was erased (`storage.retention`): the ciphertexts are empty, the name
    masked, and `kept_code` holds the declaration's verification code as it was."""
    kept_code: Mapped[str | None] = mapped_column(String(20), nullable=True, default=None)

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


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
