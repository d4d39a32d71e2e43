"""Authorization codes remember the access token they gave.

An exchanged code is no longer deleted: its row keeps the id of the token it was traded for, until the
code's own expiry. A second exchange of the code finds it and revokes that token (RFC 6749 4.1.2). No
foreign key: the token may go first (RevokeAccess), and the code must still read as used.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.add_column("oauth_codes", sa.Column("token_id", sa.String(32)))


def downgrade() -> None:
    # SQLite drops a column by copying the table (batch mode); PostgreSQL drops it in place
    with op.batch_alter_table("oauth_codes") as batch:
        batch.drop_column("token_id")
