"""Integrations name their channel's default responder.

`integrations.default_responder_id` is the switchboard integration that takes control of a
conversation without one when the user writes through this integration (the spec's
`defaultResponderId`). No foreign key: the two tables would reference each other, and a responder
that is deleted simply stops being named (a dangling id matches no switchboard integration).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.add_column("integrations", sa.Column("default_responder_id", sa.String(24)))


def downgrade() -> None:
    # SQLite drops a column by copying the table (batch mode); PostgreSQL drops it in place
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("default_responder_id")
