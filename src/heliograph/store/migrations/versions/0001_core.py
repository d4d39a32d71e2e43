"""Core resources: apps, API keys, users, identities, conversations, participants, messages.

A migration is a frozen snapshot: it spells its tables out instead of importing tables.py,
which moves on with later revisions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

ID = sa.String(24)


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", ID, primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), index=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("external_id", sa.Text),
        sa.Column("brand_id", sa.String(24)),
        sa.Column("brand_key", sa.String(24), nullable=False),
        sa.Column("zendesk_id", sa.Text),
        sa.Column("signed_up_at", sa.BigInteger, nullable=False),
        sa.Column("to_be_retained", sa.Boolean),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("app_id", "brand_key", "external_id", name="uq_users_external_id"),
    )
    op.create_table(
        "identities",
        sa.Column("user_id", ID, _cascade("users.id"), primary_key=True),
        sa.Column("type", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("verification", sa.String(32)),
    )
    op.create_index("ix_identities_lookup", "identities", ["app_id", "type", "value"])
    op.create_table(
        "conversations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False, index=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("display_name", sa.String(100)),
        sa.Column("description", sa.String(100)),
        sa.Column("icon_url", sa.String(2048)),
        sa.Column("metadata", sa.Text),
        sa.Column("business_last_read", sa.BigInteger),
        sa.Column("last_updated_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "participants",
        sa.Column("id", ID, primary_key=True),
        sa.Column("conversation_id", ID, _cascade("conversations.id"), nullable=False),
        sa.Column("user_id", ID, _cascade("users.id"), nullable=False, index=True),
        sa.Column("unread_count", sa.Integer, nullable=False),
        sa.Column("last_read", sa.BigInteger),
        sa.Column("client_associations", sa.Text, nullable=False),
        sa.UniqueConstraint("conversation_id", "user_id", name="uq_participants_member"),
    )
    op.create_table(
        "messages",
        sa.Column("id", ID, primary_key=True),
        sa.Column("conversation_id", ID, _cascade("conversations.id"), nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "id"])


def downgrade() -> None:
    for table in ("messages", "participants", "conversations", "identities", "users", "api_keys", "apps"):
        op.drop_table(table)
