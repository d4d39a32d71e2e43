"""Participants indexed by (user_id, conversation_id), in place of (user_id).

ListConversations pages a user's conversations in id order: with the conversation id in the index,
a page is read straight off it (LIMIT 26 rows) instead of joining and sorting every conversation the
user has (bench/list_latency.py: 3x slower with 5,000 of them). The index still serves every lookup
by user_id alone, so the old one goes.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_index("ix_participants_user_conversation", "participants", ["user_id", "conversation_id"])
    op.drop_index("ix_participants_user_id", table_name="participants")


def downgrade() -> None:
    op.create_index("ix_participants_user_id", "participants", ["user_id"])
    op.drop_index("ix_participants_user_conversation", table_name="participants")
