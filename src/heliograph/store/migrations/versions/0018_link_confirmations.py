"""Channel sends that are no message: a channel link's confirmation (CreateClient's `confirmation.message`, which
"will not be added to the user's conversation") goes out through the channels' outbox with its own content.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"


def upgrade() -> None:
    with op.batch_alter_table("channel_sends") as batch:
        batch.alter_column("message_id", existing_type=sa.String(24), nullable=True)
        batch.add_column(sa.Column("content", sa.Text))  # a JSON object (tables.Json): the confirmation's content


def downgrade() -> None:
    op.execute("DELETE FROM channel_sends WHERE message_id IS NULL")
    with op.batch_alter_table("channel_sends") as batch:
        batch.drop_column("content")
        batch.alter_column("message_id", existing_type=sa.String(24), nullable=False)
