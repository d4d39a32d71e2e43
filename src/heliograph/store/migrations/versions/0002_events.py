"""Integrations, webhooks, custom-integration keys, and the event outbox (events, deliveries, attempts).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

ID = sa.String(24)
SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements only INTEGER keys


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False, index=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(100)),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False, index=True),
        sa.Column("integration_id", ID, _cascade("integrations.id"), nullable=False, index=True),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("triggers", sa.Text, nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("include_full_user", sa.Boolean, nullable=False),
        sa.Column("include_full_source", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "integration_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("integration_id", ID, _cascade("integrations.id"), nullable=False, index=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("event_id", ID, _cascade("events.id"), nullable=False, index=True),
        sa.Column("webhook_id", ID, _cascade("webhooks.id"), nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("lane", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("leased_until", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger),
        sa.Column("last_error", sa.Text),
    )
    pending = sa.text("status = 'pending'")  # only pending rows matter to the dispatcher
    op.create_index("ix_deliveries_due", "deliveries", ["next_attempt_at"],
                    postgresql_where=pending, sqlite_where=pending)
    op.create_index("ix_deliveries_lane", "deliveries", ["webhook_id", "lane", "seq"],
                    postgresql_where=pending, sqlite_where=pending)
    op.create_index("ix_deliveries_webhook", "deliveries", ["webhook_id", "seq"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("delivery_seq", sa.BigInteger, _cascade("deliveries.seq"), nullable=False, index=True),
        sa.Column("attempted_at", sa.BigInteger, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    for table in ("delivery_attempts", "deliveries", "events", "integration_keys", "webhooks", "integrations"):
        op.drop_table(table)
