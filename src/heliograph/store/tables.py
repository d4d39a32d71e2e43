"""Every table, in SQLAlchemy Core, by area in the order their migrations added them. Timestamps are integer
milliseconds; JSON is stored as text."""

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


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


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
    # revision 0012: what the conversation's realtime stream has carried (docs/end-users.md)
    sa.Column("stream_seq", sa.BigInteger, nullable=False, server_default="0"),
    # revision 0014: the seq of the last of its stream's events pruned (store/stream.py): a cursor before it is
    # too old to resume from
    sa.Column("stream_pruned_seq", sa.BigInteger, nullable=False, server_default="0"),
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
    sa.Column("seq", sa.BigInteger),  # revision 0012: its place in the conversation's stream (docs/end-users.md)
    sa.Column("quoted_message_id", Id),  # revision 0013: the message it quotes (a formResponse's form); no FK
    sa.Index("ix_messages_conversation", "conversation_id", "id"),
    sa.Index("ix_messages_stream", "conversation_id", "seq"),
)

# --- integrations, webhooks and the event outbox (revision 0002) ----------------------------------

integrations = sa.Table(
    "integrations", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _app_fk(), nullable=False, index=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(100)),
    sa.Column("config", Json, nullable=False),  # the type's own fields, secrets included
    sa.Column("created_at", Ms, nullable=False),
    # defaultResponderId (revision 0009): a switchboard integration's id; no foreign key (see 0009)
    sa.Column("default_responder_id", Id),
    # revision 0016: a channel's proof that an inbound request is for this integration (Telegram's secret
    # token); Heliograph's own, never shown
    sa.Column("inbound_secret", sa.String(64)),
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
    # revision 0015: the rows held for an app's socket (socket mode), read in seq order by the socket
    sa.Index("ix_deliveries_held", "webhook_id", "seq", postgresql_where=sa.text("status = 'held'"),
             sqlite_where=sa.text("status = 'held'")),
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


# --- switchboards (revision 0003) -----------------------------------------------------------------
# Switchboard tables (revision 0003): the app's switchboard, its switchboard integrations, and
# which of them controls each conversation.
#
# A conversation without a `conversation_switchboards` row has never been assigned: the switchboard's
# default integration is in control of it (the spec: the default "will also be used for
# conversations that existed before the switchboard was enabled"). A row with `active_id` NULL is
# a conversation whose control was released. Deleting the active switchboard integration deletes
# the row, so the default is in control again; deleting the pending one only clears `pending_id`.

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


# --- clients and devices (revision 0004) ----------------------------------------------------------
# Clients and devices of users (revision 0004): a user's presence on a channel, and its SDK installs.

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
    sa.Index("ix_clients_external", "integration_id", "external_id"),  # revision 0016: a channel's person
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


# --- attachments (revision 0005) ------------------------------------------------------------------
# Uploaded attachments (revision 0005): one row per file kept in the attachments directory.
#
# A row goes with its app, and, for an upload `for=message`, with its conversation and the message
# that used it (foreign-key cascades). A trigger records the token of every deleted row in
# `attachment_garbage`, so the files of rows removed by any cascade are found and unlinked after
# the commit (`heliograph.store.media.sweep`).

attachments = sa.Table(
    "attachments", metadata,
    sa.Column("token", sa.String(64), primary_key=True),  # random: the unguessable part of the mediaUrl
    sa.Column("app_id", Id, _cascade("apps.id"), nullable=False, index=True),
    sa.Column("conversation_id", Id, _cascade("conversations.id"), index=True),  # set for `for=message`
    sa.Column("message_id", Id, _cascade("messages.id"), index=True),  # the message that used it
    sa.Column("media_url", sa.Text, nullable=False, unique=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("media_type", sa.String(255), nullable=False),
    sa.Column("media_size", sa.BigInteger, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)

attachment_garbage = sa.Table(  # files whose rows are gone, filled by a trigger, emptied by the sweep
    "attachment_garbage", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
)


# --- OAuth (revision 0006) ------------------------------------------------------------------------
# OAuth (revision 0006): registered clients, pending authorizations with their codes, access tokens.

# --- end users' sessions (revision 0010) --------------------------------------------------------

sdk_sessions = sa.Table(  # an anonymous user's session: its token, as SHA-256 hex (docs/end-users.md)
    "sdk_sessions", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("app_id", Id, _cascade("apps.id"), nullable=False),
    sa.Column("user_id", Id, _cascade("users.id"), nullable=False, index=True),
    sa.Column("client_id", Id, _cascade("clients.id"), nullable=False, index=True),
    sa.Column("integration_id", Id, _cascade("integrations.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("expires_at", Ms),  # an identified user's: when the user JWT it was opened with expires
    sa.Column("created_at", Ms, nullable=False),
)

client_message_ids = sa.Table(  # revision 0011: an end user's clientMessageId, so a retried send is found
    "client_message_ids", metadata,
    sa.Column("user_id", Id, _cascade("users.id"), primary_key=True),
    sa.Column("client_message_id", sa.String(64), primary_key=True),
    sa.Column("message_id", Id, _cascade("messages.id"), nullable=False, index=True),
)

oauth_clients = sa.Table(  # registered with `heliograph oauth-client create`
    "oauth_clients", metadata,
    sa.Column("id", Id, primary_key=True),  # the client_id
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),  # SHA-256 hex: the secret is shown once
    sa.Column("redirect_uris", Json, nullable=False),  # the first is the default
    sa.Column("created_at", Ms, nullable=False),
)

oauth_codes = sa.Table(  # one authorization request: pending consent, then holding its code until exchanged
    "oauth_codes", metadata,
    sa.Column("id", Id, primary_key=True),  # the request id the consent page names
    sa.Column("client_id", Id, _cascade("oauth_clients.id"), nullable=False, index=True),
    sa.Column("redirect_uri", sa.String(2048), nullable=False),
    sa.Column("state", sa.Text),
    sa.Column("secret", sa.String(128), nullable=False),  # keys the consent form's CSRF token
    sa.Column("code_hash", sa.String(64), unique=True),  # SHA-256 hex of the code, once consent is given
    sa.Column("app_id", Id, _cascade("apps.id")),
    sa.Column("expires_at", Ms, nullable=False, index=True),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("token_id", sa.String(32)),  # revision 0008: the token the code was exchanged for (no FK)
)

oauth_tokens = sa.Table(  # access tokens: JWTs whose `kid` is the id and whose key is the secret
    "oauth_tokens", metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # oat_…
    sa.Column("client_id", Id, _cascade("oauth_clients.id"), nullable=False, index=True),
    sa.Column("app_id", Id, _cascade("apps.id"), nullable=False),
    sa.Column("integration_id", Id, _cascade("integrations.id"), nullable=False, index=True),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)

# --- the realtime stream's events (revision 0014) --------------------------------------------------
# What a conversation's stream carries besides messages (docs/end-users.md, §4): a read, a removed
# message, the messages cleared. `seq` comes from `conversations.stream_seq`, the counter messages
# take theirs from, so a conversation's messages and events share one gap-free, commit-ordered sequence.

conversation_events = sa.Table(
    "conversation_events", metadata,
    sa.Column("conversation_id", Id, _cascade("conversations.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),  # the frame's type: conversation:read, message:removed, …
    sa.Column("body", Json, nullable=False),  # the frame's own fields (times in ms, shown as ISO when read)
    sa.Column("created_at", Ms, nullable=False),
)

stream_tickets = sa.Table(  # a short-lived ticket for an EventSource, which cannot send credentials
    "stream_tickets", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # SHA-256 hex: the ticket is shown once
    sa.Column("session_id", Id, _cascade("sdk_sessions.id"), nullable=False, index=True),
    sa.Column("expires_at", Ms, nullable=False),
)

# --- channels (revision 0016) ------------------------------------------------------------------------
# The channel messages an integration took in, by the channel's own id for them (docs/channels.md): a
# webhook the channel sends again finds its row and adds nothing. A button press has no message.

channel_messages = sa.Table(
    "channel_messages", metadata,
    sa.Column("integration_id", Id, _cascade("integrations.id"), primary_key=True),
    sa.Column("external_id", sa.String(255), primary_key=True),
    sa.Column("message_id", Id, _cascade("messages.id"), index=True),
    sa.Column("created_at", Ms, nullable=False),
)

# --- channel sends (revision 0017) -------------------------------------------------------------------
# The outbox of business messages going out on the channels (docs/channels.md): one row per message and
# recipient client, written in the message's transaction. A lane is one integration's sends in one
# conversation; they leave in seq order. `progress` counts the channel calls of the message made already
# (a long text is several), so that a retry goes on from there and a refusal sends no part twice.

channel_sends = sa.Table(
    "channel_sends", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("app_id", Id, nullable=False),
    sa.Column("integration_id", Id, _cascade("integrations.id"), nullable=False),
    sa.Column("conversation_id", Id, _cascade("conversations.id"), nullable=False),
    sa.Column("message_id", Id, _cascade("messages.id"), index=True),  # None: a channel link's confirmation
    sa.Column("client_id", Id, _cascade("clients.id"), nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),  # the person's id on the channel (the client's externalId)
    sa.Column("content", Json),  # a confirmation's content (a message's is the message's)
    sa.Column("lane", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("progress", sa.Integer, nullable=False),
    sa.Column("external_ids", Json, nullable=False),
    sa.Column("next_attempt_at", Ms, nullable=False),
    sa.Column("leased_until", Ms),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("finished_at", Ms),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_channel_sends_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'"),
             sqlite_where=sa.text("status = 'pending'")),
    sa.Index("ix_channel_sends_lane", "lane", "seq", postgresql_where=sa.text("status = 'pending'"),
             sqlite_where=sa.text("status = 'pending'")),
)
