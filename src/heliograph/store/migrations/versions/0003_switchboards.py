"""Switchboards, switchboard integrations and each conversation's switchboard state.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - used as this revision gains its tables
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
