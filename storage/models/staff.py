"""Staff of the console: accounts, signed-in sessions, failed logins, and the audit log of their actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
    totp_secret_cipher: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    """The authenticator app's secret (two-step login), encrypted with the PII key; None: not enrolled."""
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    """The 30-second step of the last code accepted: a code is good once (a code seen over a shoulder is spent)."""


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
