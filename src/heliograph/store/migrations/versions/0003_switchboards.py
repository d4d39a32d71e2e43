"""Switchboards, switchboard integrations and each conversation's switchboard state.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

ID = sa.String(24)


def _fk(target: str, ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "switchboards",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _fk("apps.id"), nullable=False, unique=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("default_id", ID),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "switchboard_integrations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _fk("apps.id"), nullable=False),
        sa.Column("switchboard_id", ID, _fk("switchboards.id"), nullable=False),
        sa.Column("integration_id", ID, _fk("integrations.id"), nullable=False, index=True),
        sa.Column("integration_type", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("deliver_standby_events", sa.Boolean, nullable=False),
        sa.Column("next_id", ID, _fk("switchboard_integrations.id", "SET NULL")),
        sa.Column("message_history_count", sa.Integer),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("switchboard_id", "name", name="uq_switchboard_integrations_name"),
        sa.UniqueConstraint("switchboard_id", "integration_id", name="uq_switchboard_integrations_integration"),
    )
    op.create_table(
        "conversation_switchboards",
        sa.Column("conversation_id", ID, _fk("conversations.id"), primary_key=True),
        sa.Column("app_id", ID, _fk("apps.id"), nullable=False, index=True),
        sa.Column("active_id", ID, _fk("switchboard_integrations.id"), index=True),
        sa.Column("pending_id", ID, _fk("switchboard_integrations.id", "SET NULL"), index=True),
    )


def downgrade() -> None:
    for table in ("conversation_switchboards", "switchboard_integrations", "switchboards"):
        op.drop_table(table)
