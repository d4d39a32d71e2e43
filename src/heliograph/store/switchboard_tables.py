"""Switchboard tables (revision 0003): the app's switchboard, its switchboard integrations, and
which of them controls each conversation.

A conversation without a `conversation_switchboards` row has never been assigned: the switchboard's
default integration is in control of it (the spec: the default "will also be used for
conversations that existed before the switchboard was enabled"). A row with `active_id` NULL is
a conversation whose control was released. Deleting the active switchboard integration deletes
the row, so the default is in control again; deleting the pending one only clears `pending_id`.
"""

from __future__ import annotations

import sqlalchemy as sa

from heliograph.store.tables import Id, Ms, metadata

switchboards = sa.Table(
    "switchboards", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, unique=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    # No foreign key (it would be circular): readers join it, so a deleted integration reads as unset.
    sa.Column("default_id", Id),
    sa.Column("created_at", Ms, nullable=False),
)

switchboard_integrations = sa.Table(
    "switchboard_integrations", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    sa.Column("switchboard_id", Id, sa.ForeignKey("switchboards.id", ondelete="CASCADE"), nullable=False),
    sa.Column("integration_id", Id, sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("integration_type", sa.String(128), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("deliver_standby_events", sa.Boolean, nullable=False),
    sa.Column("next_id", Id, sa.ForeignKey("switchboard_integrations.id", ondelete="SET NULL")),
    sa.Column("message_history_count", sa.Integer),
    sa.Column("created_at", Ms, nullable=False),
    sa.UniqueConstraint("switchboard_id", "name", name="uq_switchboard_integrations_name"),
    sa.UniqueConstraint("switchboard_id", "integration_id", name="uq_switchboard_integrations_integration"),
)

conversation_switchboards = sa.Table(
    "conversation_switchboards", metadata,
    sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("app_id", Id, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("active_id", Id, sa.ForeignKey("switchboard_integrations.id", ondelete="CASCADE"), index=True),
    sa.Column("pending_id", Id, sa.ForeignKey("switchboard_integrations.id", ondelete="SET NULL"), index=True),
)
