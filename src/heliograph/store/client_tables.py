"""Clients and devices of users (revision 0004): a user's presence on a channel, and its SDK installs."""

from __future__ import annotations

import sqlalchemy as sa

from heliograph.store.tables import Id, Json, Ms, metadata


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


clients = sa.Table(
    "clients", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _cascade("apps.id"), nullable=False),
    sa.Column("user_id", Id, _cascade("users.id"), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),  # a clientType: a channel, or sdk
    sa.Column("status", sa.String(16), nullable=False),  # pending | active | inactive | blocked
    sa.Column("integration_id", Id, _cascade("integrations.id"), index=True),  # NULL for sdk clients
    sa.Column("external_id", sa.Text),
    sa.Column("display_name", sa.Text),
    sa.Column("avatar_url", sa.Text),
    sa.Column("info", Json),
    sa.Column("raw", Json),
    sa.Column("last_seen", Ms),
    sa.Column("linked_at", Ms),
    sa.Column("link", Json),  # a pending channel link: matchCriteria, confirmation, target (never returned)
    sa.Column("created_at", Ms, nullable=False),
    sa.Index("ix_clients_user", "user_id", "id"),
)

devices = sa.Table(
    "devices", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _cascade("apps.id"), nullable=False),
    sa.Column("user_id", Id, _cascade("users.id"), nullable=False, index=True),
    sa.Column("client_id", Id, _cascade("clients.id"), nullable=False, index=True),
    sa.Column("integration_id", Id, _cascade("integrations.id"), nullable=False, index=True),
    sa.Column("type", sa.String(16), nullable=False),  # android | ios | web
    sa.Column("guid", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active | inactive
    sa.Column("last_seen", Ms, nullable=False),
    sa.Column("push_notification_token", sa.Text),
    sa.Column("info", Json),
    sa.Column("app_version", sa.Text),
    sa.Column("created_at", Ms, nullable=False),
)
