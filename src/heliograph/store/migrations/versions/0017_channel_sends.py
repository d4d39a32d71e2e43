"""Channel sends: the outbox of business messages going out on the channels (docs/channels.md).

One row per message and recipient client, written in the message's transaction; a sender claims the head of
each lane (an integration's sends in one conversation, in seq order), sends, and records what came of it.
Partial indexes on the pending rows, as for the webhooks' deliveries.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"

ID = sa.String(24)
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "channel_sends",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("integration_id", ID, sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", ID, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("client_id", ID, sa.ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("lane", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("external_ids", sa.Text, nullable=False),  # a JSON list (tables.Json)
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("leased_until", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_channel_sends_due", "channel_sends", ["next_attempt_at"], postgresql_where=PENDING,
                    sqlite_where=PENDING)
    op.create_index("ix_channel_sends_lane", "channel_sends", ["lane", "seq"], postgresql_where=PENDING,
                    sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_table("channel_sends")
