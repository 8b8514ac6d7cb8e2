"""SQLModel tables: Microsoft connections and consent requests.

Datetimes are aware and in UTC; SQLModel stores them as UTC on SQLite, which has no zones.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Connection(SQLModel, table=True):
    """A Slack user's connected Microsoft account and its encrypted MSAL token cache."""

    __tablename__ = "connection"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", "user_id", name="uq_connection_slack_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: str = Field(default="", max_length=32)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    home_account_id: str = Field(max_length=256)
    username: str = Field(max_length=512)
    tenant_id: str = Field(max_length=64)
    token_cache: str = Field(sa_column=Column(Text, nullable=False))
    # Incremented on every write of token_cache, so a writer holding an older cache loses.
    cache_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ConsentRequest(SQLModel, table=True):
    """A personal consent link and, once opened, its pending MSAL auth code flow.

    `id` and `state_digest` are SHA-256 digests, so the database never contains a usable link.
    """

    __tablename__ = "consent_request"
    __table_args__ = (Index("ix_consent_request_expires_at", "expires_at"),)

    id: str = Field(primary_key=True, max_length=64)
    enterprise_id: str = Field(default="", max_length=32)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    user_name: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    opened_at: datetime | None = None
    used_at: datetime | None = None
    state_digest: str | None = Field(default=None, max_length=64, unique=True)
    browser_digest: str | None = Field(default=None, max_length=64)
    flow: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
