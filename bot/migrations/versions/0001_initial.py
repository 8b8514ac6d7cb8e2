"""Create the connection and consent_request tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connection",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("home_account_id", sa.String(length=256), nullable=False),
        sa.Column("username", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("token_cache", sa.Text(), nullable=False),
        sa.Column("cache_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("enterprise_id", "team_id", "user_id", name="uq_connection_slack_user"),
    )
    op.create_table(
        "consent_request",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_digest", sa.String(length=64), nullable=True, unique=True),
        sa.Column("browser_digest", sa.String(length=64), nullable=True),
        sa.Column("flow", sa.Text(), nullable=True),
    )
    op.create_index("ix_consent_request_expires_at", "consent_request", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_consent_request_expires_at", table_name="consent_request")
    op.drop_table("consent_request")
    op.drop_table("connection")
