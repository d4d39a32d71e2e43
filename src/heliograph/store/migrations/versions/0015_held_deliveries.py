"""Socket mode: an index of the deliveries held for an app's socket (docs/socket-mode.md).

A socket-mode webhook's deliveries wait as `held` until the bot acknowledges them; the socket reads the
webhook's held rows in seq order. Without this index that read went by (webhook_id, seq) past every
delivery acknowledged before, so it slowed as the webhook's history grew. Partial, like the dispatcher's
indexes on pending rows: only the held rows are in it, however long the history.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"

HELD = sa.text("status = 'held'")


def upgrade() -> None:
    op.create_index("ix_deliveries_held", "deliveries", ["webhook_id", "seq"], postgresql_where=HELD,
                    sqlite_where=HELD)


def downgrade() -> None:
    op.drop_index("ix_deliveries_held", "deliveries")
