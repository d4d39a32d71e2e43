"""Quoted messages: a `formResponse` names the form it answers (docs/end-users.md, §2).

`messages.quoted_message_id` is the id of the message this one quotes (today: the `form` a
`formResponse` answers). The quoted message is looked up when the message is shown, as it is then (a
form shows `submitted: true`), and a quoted message deleted since is no longer shown. No foreign key:
deleting the form must neither delete its answer nor be refused.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.add_column("messages", sa.Column("quoted_message_id", sa.String(24)))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("quoted_message_id")
