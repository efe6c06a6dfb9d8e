"""State every process and host shares through the database: settings, API access tokens, and the
lease that elects the process running the reminder jobs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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


class Lease(Base):
    """Leader election without advisory locks (SQLite): whoever holds an unexpired lease leads."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime]


class WeChatNonce(Base):
    """A (timestamp, nonce) pair a plaintext-mode WeChat request was signed with, and a digest of
    its body: the signature does not cover the body there, so the same signed URL must not carry a
    different message. Kept for the freshness window only (`storage.wechat_nonces`)."""

    __tablename__ = "wechat_nonces"
    __table_args__ = (Index("ix_wechat_nonces_at", "at"),)

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
