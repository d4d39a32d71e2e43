"""The tables, in SQLAlchemy Core. Timestamps are integer milliseconds; JSON is stored as text."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa

metadata = sa.MetaData()

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class Json(sa.types.TypeDecorator[Any]):
    """A JSON document kept in a text column: the same bytes on SQLite and PostgreSQL."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else _encode(value).decode()

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else _decode(value)


Id = sa.String(24)
Ms = sa.BigInteger


def _app_fk() -> sa.ForeignKey:
    return sa.ForeignKey("apps.id", ondelete="CASCADE")


apps = sa.Table(
    "apps", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("settings", Json, nullable=False),
    sa.Column("metadata", Json),
    sa.Column("created_at", Ms, nullable=False),
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("app_id", Id, _app_fk(), index=True),  # NULL for account keys
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False),
    sa.Column("external_id", sa.Text),
    sa.Column("brand_id", sa.String(24)),
    sa.Column("brand_key", sa.String(24), nullable=False),  # brand_id or "": externalIds are unique per brand
    sa.Column("zendesk_id", sa.Text),
    sa.Column("signed_up_at", Ms, nullable=False),
    sa.Column("to_be_retained", sa.Boolean),
    sa.Column("profile", Json, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
    sa.UniqueConstraint("app_id", "brand_key", "external_id", name="uq_users_external_id"),
)

identities = sa.Table(
    "identities", metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("type", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(128), primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False),
    sa.Column("verification", sa.String(32)),
    sa.Index("ix_identities_lookup", "app_id", "type", "value"),
)

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False, index=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("display_name", sa.String(100)),
    sa.Column("description", sa.String(100)),
    sa.Column("icon_url", sa.String(2048)),
    sa.Column("metadata", Json),
    sa.Column("business_last_read", Ms),
    sa.Column("last_updated_at", Ms, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("message_count", sa.Integer, nullable=False),
)

participants = sa.Table(
    "participants", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("unread_count", sa.Integer, nullable=False),
    sa.Column("last_read", Ms),
    sa.Column("client_associations", Json, nullable=False),
    sa.UniqueConstraint("conversation_id", "user_id", name="uq_participants_member"),
    sa.Index("ix_participants_user_conversation", "user_id", "conversation_id"),  # a user's conversations, paged
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("received", Ms, nullable=False),
    sa.Column("author", Json, nullable=False),
    sa.Column("content", Json, nullable=False),
    sa.Column("source", Json, nullable=False),
    sa.Column("metadata", Json),
    sa.Index("ix_messages_conversation", "conversation_id", "id"),
)

# --- integrations, webhooks and the event outbox (revision 0002) ------------------------------

integrations = sa.Table(
    "integrations", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False, index=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(100)),
    sa.Column("config", Json, nullable=False),  # the type's own fields, secrets included
    sa.Column("created_at", Ms, nullable=False),
)

webhooks = sa.Table(
    "webhooks", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False, index=True),
    sa.Column("integration_id", Id, sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("target", sa.String(2048), nullable=False),
    sa.Column("triggers", Json, nullable=False),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("include_full_user", sa.Boolean, nullable=False),
    sa.Column("include_full_source", sa.Boolean, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)

integration_keys = sa.Table(  # custom-integration API keys (int_…); app and account keys stay in api_keys
    "integration_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False),
    sa.Column("integration_id", Id, sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)

events = sa.Table(  # one row per emitted event that at least one webhook subscribed to
    "events", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("body", Json, nullable=False),  # {id, type, createdAt, payload}, with full user and source
    sa.Column("created_at", Ms, nullable=False),
)

deliveries = sa.Table(  # the outbox proper: one row per (event, subscribed webhook)
    "deliveries", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("event_id", Id, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("webhook_id", Id, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("app_id", Id, nullable=False),
    sa.Column("lane", sa.String(64), nullable=False),  # deliveries of one webhook and lane leave in seq order
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Ms, nullable=False),
    sa.Column("leased_until", Ms),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("finished_at", Ms),
    sa.Column("last_error", sa.Text),
    # Partial indexes: only pending rows matter to the dispatcher, however long the history grows.
    sa.Index("ix_deliveries_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'"),
             sqlite_where=sa.text("status = 'pending'")),
    sa.Index("ix_deliveries_lane", "webhook_id", "lane", "seq", postgresql_where=sa.text("status = 'pending'"),
             sqlite_where=sa.text("status = 'pending'")),
    sa.Index("ix_deliveries_webhook", "webhook_id", "seq"),
)

delivery_attempts = sa.Table(
    "delivery_attempts", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("delivery_seq", sa.BigInteger, sa.ForeignKey("deliveries.seq", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("attempted_at", Ms, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
)
