"""Clients and devices of users.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

ID = sa.String(24)


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("user_id", ID, _cascade("users.id"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("integration_id", ID, _cascade("integrations.id"), index=True),
        sa.Column("external_id", sa.Text),
        sa.Column("display_name", sa.Text),
        sa.Column("avatar_url", sa.Text),
        sa.Column("info", sa.Text),
        sa.Column("raw", sa.Text),
        sa.Column("last_seen", sa.BigInteger),
        sa.Column("linked_at", sa.BigInteger),
        sa.Column("link", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_clients_user", "clients", ["user_id", "id"])
    op.create_table(
        "devices",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("user_id", ID, _cascade("users.id"), nullable=False, index=True),
        sa.Column("client_id", ID, _cascade("clients.id"), nullable=False, index=True),
        sa.Column("integration_id", ID, _cascade("integrations.id"), nullable=False, index=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("guid", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_seen", sa.BigInteger, nullable=False),
        sa.Column("push_notification_token", sa.Text),
        sa.Column("info", sa.Text),
        sa.Column("app_version", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("devices")
    op.drop_index("ix_clients_user", table_name="clients")
    op.drop_table("clients")
