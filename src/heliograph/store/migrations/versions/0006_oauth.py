"""OAuth clients, authorization codes and access tokens.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

ID = sa.String(24)


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("redirect_uris", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "oauth_codes",
        sa.Column("id", ID, primary_key=True),
        sa.Column("client_id", ID, _cascade("oauth_clients.id"), nullable=False, index=True),
        sa.Column("redirect_uri", sa.String(2048), nullable=False),
        sa.Column("state", sa.Text),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("code_hash", sa.String(64), unique=True),
        sa.Column("app_id", ID, _cascade("apps.id")),
        sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("client_id", ID, _cascade("oauth_clients.id"), nullable=False, index=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("integration_id", ID, _cascade("integrations.id"), nullable=False, index=True),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("oauth_tokens")
    op.drop_table("oauth_codes")
    op.drop_table("oauth_clients")
