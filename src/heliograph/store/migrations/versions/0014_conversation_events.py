"""The realtime stream's events and tickets (docs/end-users.md, §4).

`conversation_events` holds what a conversation's stream carries besides messages (a read, a removed
message, the messages cleared), each with a `seq` taken from `conversations.stream_seq` under the
conversation's row lock, so messages and events share one gap-free, commit-ordered sequence.
`stream_tickets` holds the hashes of the short-lived tickets that let an EventSource (which cannot set
headers) open the stream's SSE fallback. `conversations.stream_pruned_seq` is the seq of the last event of the
conversation pruned (events are kept 7 days): a cursor before it cannot resume exactly.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"

ID = sa.String(24)


def upgrade() -> None:
    op.add_column("conversations", sa.Column("stream_pruned_seq", sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "conversation_events",
        sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stream_tickets",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("session_id", ID, sa.ForeignKey("sdk_sessions.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stream_tickets")
    op.drop_table("conversation_events")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("stream_pruned_seq")
