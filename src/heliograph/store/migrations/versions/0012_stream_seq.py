"""The realtime stream's order (docs/end-users.md): a sequence per conversation.

`conversations.stream_seq` counts what the conversation's stream has carried; PostMessage moves it in
the statement that counts the message, under the conversation's row lock, and stores the new value
as `messages.seq`. So within a conversation, seq order is commit order, without gaps. Messages stored
before (or moved in by a merge) have none and are not replayed by the stream.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.add_column("conversations", sa.Column("stream_seq", sa.BigInteger, nullable=False, server_default="0"))
    op.add_column("messages", sa.Column("seq", sa.BigInteger))
    op.create_index("ix_messages_stream", "messages", ["conversation_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_messages_stream", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("seq")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("stream_seq")
