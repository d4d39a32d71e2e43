"""End users' sessions: what an anonymous user's session token unlocks (docs/end-users.md).

A session belongs to a user, the `sdk` client it was opened with and the SDK integration it came
through (whose originWhitelist its requests must match). The token is stored as its SHA-256 only. An
identified user's session ends when the user JWT it was opened with expires (`expires_at`, ms).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"

ID = sa.String(24)


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "sdk_sessions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("user_id", ID, _cascade("users.id"), nullable=False, index=True),
        sa.Column("client_id", ID, _cascade("clients.id"), nullable=False, index=True),
        sa.Column("integration_id", ID, _cascade("integrations.id"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sdk_sessions")
