"""Channels (docs/channels.md): an integration's own inbound secret, the channel messages already taken in
(a replayed webhook adds nothing), and the look-up of a channel's client by the person's id there.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"

ID = sa.String(24)


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("inbound_secret", sa.String(64)))
    op.create_table(
        "channel_messages",
        sa.Column("integration_id", ID, sa.ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("external_id", sa.String(255), primary_key=True),
        sa.Column("message_id", ID, sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_clients_external", "clients", ["integration_id", "external_id"])


def downgrade() -> None:
    op.drop_index("ix_clients_external", "clients")
    op.drop_table("channel_messages")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("inbound_secret")
