"""Rows to wire objects, as the spec's response schemas name them. Unset values are left out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from heliograph.ids import iso
from heliograph.schemas.integrations import OWN_FIELDS, WRITE_ONLY
from heliograph.schemas.webhooks import VERSION

Row = Mapping[str, Any]


def _present(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def app(row: Row) -> dict[str, Any]:
    return _present([("id", row["id"]), ("displayName", row["display_name"]),
                     ("settings", row["settings"]), ("metadata", row["metadata"])])


def app_key(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "displayName": row["display_name"], "secret": row["secret"]}


def user(row: Row, identities: list[dict[str, Any]]) -> dict[str, Any]:
    return _present([
        ("id", row["id"]), ("externalId", row["external_id"]), ("zendeskId", row["zendesk_id"]),
        ("brandId", row["brand_id"]), ("signedUpAt", iso(row["signed_up_at"])),
        ("toBeRetained", row["to_be_retained"]), ("profile", row["profile"]),
        ("metadata", row["metadata"]), ("identities", identities),
    ])


def conversation(row: Row) -> dict[str, Any]:
    """A conversation; `active_sbi_…` / `pending_sbi_…` columns, when present, name its switchboard control."""
    return _present([
        ("id", row["id"]), ("type", row["type"]), ("metadata", row["metadata"]),
        ("activeSwitchboardIntegration", control(row, "active")),
        ("pendingSwitchboardIntegration", control(row, "pending")),
        ("isDefault", row["is_default"]), ("displayName", row["display_name"]),
        ("description", row["description"]), ("iconUrl", row["icon_url"]),
        ("businessLastRead", iso(row["business_last_read"])),
        ("lastUpdatedAt", iso(row["last_updated_at"])), ("createdAt", iso(row["created_at"])),
    ])


def control(row: Row, role: str) -> dict[str, Any] | None:
    """switchboardIntegrationWebhook of the integration in control (`active`) or offered it (`pending`),
    from the row's `active_sbi_…` / `pending_sbi_…` columns; None when there is none."""
    if row.get(f"{role}_sbi_id") is None:
        return None
    return {"id": row[f"{role}_sbi_id"], "name": row[f"{role}_sbi_name"],
            "integrationId": row[f"{role}_sbi_integration_id"],
            "integrationType": row[f"{role}_sbi_integration_type"]}


def participant(row: Row) -> dict[str, Any]:
    return _present([
        ("id", row["id"]), ("userId", row["user_id"]), ("unreadCount", row["unread_count"]),
        ("clientAssociations", row["client_associations"]),
        ("userExternalId", row["external_id"]), ("lastRead", iso(row["last_read"])),
    ])


def message(row: Row) -> dict[str, Any]:
    """A message; with `quoted` (store/messages.with_quoted), the message it quotes as `quotedMessage`."""
    return _present([
        ("id", row["id"]), ("received", iso(row["received"])), ("author", row["author"]),
        ("content", row["content"]), ("source", row["source"]), ("quotedMessage", _quoted(row)),
        ("metadata", row["metadata"]),
    ])


def _quoted(row: Row) -> dict[str, Any] | None:
    """quotedMessageMessage: the quoted message as it is now; none if the row quotes nothing, or if what it
    quoted was deleted since (the spec's other branch, `externalMessageId`, names a channel's own id)."""
    quoted = row.get("quoted")
    return None if quoted is None else {"type": "message", "message": message(quoted)}


def integration(row: Row, webhooks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The type's stored fields without its write-only ones; a custom integration's `webhooks` when given."""
    hidden = WRITE_ONLY[row["type"]] | OWN_FIELDS.get(row["type"], frozenset())
    config = [(k, v) for k, v in row["config"].items() if k not in hidden]
    body = _present([("id", row["id"]), ("type", row["type"]), ("status", row["status"]),
                     ("displayName", row["display_name"]), *config])
    if webhooks is not None:
        body["webhooks"] = webhooks
    return body


def webhook(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "version": VERSION, "target": row["target"], "triggers": row["triggers"],
            "secret": row["secret"], "includeFullUser": row["include_full_user"],
            "includeFullSource": row["include_full_source"]}
