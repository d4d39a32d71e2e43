"""Integrations (CreateIntegration … DeleteIntegration) and what their keys and webhooks share.

Each type's own fields live in `integrations.config`, secrets included; the renderer leaves out
the ones the spec marks write-only. A custom integration is created with its first webhook, and
answers with it in `webhooks` (the spec's schema holds exactly one; ListWebhooks lists them all).
An `oauth` integration (an OAuth client's connection to the app, services/oauth.py) only holds the
webhooks its access tokens create: the spec's integration schema has no such type, so the
Integrations operations neither list nor show it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, IntegrationNotFound, SwitchboardIntegrationNotFound
from heliograph.ids import IdFactory, new_webhook_secret
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.common import UNSET, Struct, UnsetType, decode, to_wire
from heliograph.schemas.integrations import (
    DEFAULTS,
    TYPES,
    UPDATE_MODELS,
    URL_FIELDS,
    Custom,
    IntegrationBody,
    Line,
    Mailgun,
    Messagebird,
    Twilio,
)
from heliograph.schemas.switchboards import default_responder
from heliograph.schemas.webhooks import WebhookCreateBody, check_target, check_webhook
from heliograph.store import integrations as store
from heliograph.store import switchboards
from heliograph.store import webhooks as webhook_store
from heliograph.store.apps import require_app

MAX_WEBHOOKS_PER_APP = 10
# Third-party channels (the rest are SDKs and custom): stored inactive unless Heliograph talks to the type
CHANNEL_TYPES = frozenset({"apple", "instagram", "line", "mailgun", "messagebird", "messenger", "telegram", "twilio",
                           "twitter", "viber", "whatsapp"})


@dataclasses.dataclass(frozen=True)
class Channel:
    """A channel set up for a new integration before it is stored: its id (in the webhook URL the channel was
    given), the secret that proves the channel's requests, and what the channel told of itself."""

    integration_id: str
    secret: str
    learnt: Mapping[str, Any]
    pending: bool = False  # stored inactive while the channel is set up (it may call the webhook meanwhile)
OAUTH = "oauth"
_NOT_CONFIG = ("type", "displayName", "defaultResponderId", "webhooks")  # columns, or never stored


async def require_integration(conn: AsyncConnection, *, app_id: str, integration_id: str,
                              oauth: bool = False, lock: bool = False) -> Any:
    """The integration (locked, with `lock`); an `oauth` one only where `oauth` says so (for its webhooks)."""
    row = await store.find_integration(conn, app_id=app_id, integration_id=integration_id, lock=lock)
    if row is None or row["type"] == OAUTH and not oauth:
        await require_app(conn, app_id=app_id)
        raise IntegrationNotFound()
    return row


async def require_custom(conn: AsyncConnection, *, app_id: str, integration_id: str,
                         feature: str, oauth: bool = False, lock: bool = False) -> Any:
    """The integration, which must be of type custom (or `oauth`, if allowed) for `feature` (400 otherwise)."""
    row = await require_integration(conn, app_id=app_id, integration_id=integration_id, oauth=oauth, lock=lock)
    if row["type"] not in ("custom", OAUTH):
        raise BadRequest(f"{feature} are available only for custom integrations")
    return row


async def add_webhook(conn: AsyncConnection, *, ids: IdFactory, app_id: str, integration_id: str,
                      body: WebhookCreateBody) -> dict[str, Any]:
    """Store a webhook whose body is checked already, within the app's limit of webhooks."""
    await require_app(conn, app_id=app_id, lock=True)  # one count-then-insert at a time
    if await webhook_store.count_app_webhooks(conn, app_id=app_id) >= MAX_WEBHOOKS_PER_APP:
        raise BadRequest(f"An app can have a maximum of {MAX_WEBHOOKS_PER_APP} webhooks")
    webhook_id, now = ids.new_at()
    row = {"id": webhook_id, "app_id": app_id, "integration_id": integration_id, "target": body.target,
           "triggers": body.triggers, "secret": new_webhook_secret(), "include_full_user": body.include_full_user,
           "include_full_source": body.include_full_source, "created_at": now}
    await webhook_store.insert_webhook(conn, row)
    return render.webhook(row)


# --- integrations ------------------------------------------------------------------------------

def type_of(body: IntegrationBody) -> str:
    kind = type(body).__struct_config__.tag
    assert isinstance(kind, str)
    return kind


def check_integration(body: IntegrationBody) -> None:
    """What CreateIntegration checks of the body before anything is done with it (400 otherwise)."""
    if isinstance(body, Custom):
        check_webhook(body.webhooks[0], field="webhooks[0].")
    _check_rules(body)


def given_config(body: IntegrationBody) -> dict[str, Any]:
    """The integration's stored fields as the body gives them, with the spec's defaults."""
    return {**DEFAULTS[type_of(body)], **_given(body)}


async def create_integration(conn: AsyncConnection, *, ids: IdFactory, app_id: str, body: IntegrationBody,
                             channel: Channel | None = None) -> dict[str, Any]:
    """CreateIntegration. A type Heliograph talks to comes `channel`-set-up already (services/channels.py);
    any other channel type is stored `inactive`: nothing is sent through it."""
    hook = check_webhook(body.webhooks[0], field="webhooks[0].") if isinstance(body, Custom) else None
    _check_rules(body)
    await require_app(conn, app_id=app_id)
    kind = type_of(body)
    config = {**given_config(body), **(channel.learnt if channel else {})}
    if isinstance(body, Messagebird):
        config["webhookSecret"] = new_webhook_secret()
    responders = await _responders(conn, app_id)
    integration_id, now = (channel.integration_id, ids.clock()) if channel else ids.new_at()
    status = "inactive" if kind in CHANNEL_TYPES and (channel is None or channel.pending) else "active"
    row = {"id": integration_id, "app_id": app_id, "type": kind, "status": status,
           "display_name": None if body.display_name is UNSET else body.display_name, "config": config,
           "default_responder_id": responders.check(getattr(body, "default_responder_id", UNSET)),
           "created_at": now, "inbound_secret": channel.secret if channel else None}
    await store.insert_integration(conn, row)
    if hook is None:
        return responders.show(row, render.integration(row))
    webhook = await add_webhook(conn, ids=ids, app_id=app_id, integration_id=integration_id, body=hook)
    return render.integration(row, [webhook])


async def activate_integration(conn: AsyncConnection, *, app_id: str, integration_id: str,
                               learnt: Mapping[str, Any]) -> dict[str, Any]:
    """A channel's integration, stored pending, now set up: active, with what the channel told of itself."""
    row = dict(await require_integration(conn, app_id=app_id, integration_id=integration_id))
    row["config"], row["status"] = {**row["config"], **learnt}, "active"
    await store.activate_integration(conn, integration_id=integration_id, config=row["config"])
    return await _wire(conn, row)


async def list_integrations(conn: AsyncConnection, *, app_id: str, page: Page, types: str | None) -> Window:
    """A page of the app's integrations, rendered; `types` is the comma-separated filter."""
    wanted = None if types is None else _types(types)
    await require_app(conn, app_id=app_id)
    found = await store.page_integrations(conn, app_id=app_id, page=page, types=wanted, hidden_type=OAUTH)
    hooks = await _first_webhooks(conn, [r["id"] for r in found.records if r["type"] == "custom"])
    responders = await _responders(conn, app_id)
    records = [responders.show(r, render.integration(r, hooks.get(r["id"]) if r["type"] == "custom" else None))
               for r in found.records]
    return Window(records, found.more_before, found.more_after)


async def get_integration(conn: AsyncConnection, *, app_id: str, integration_id: str) -> dict[str, Any]:
    return await _wire(conn, await require_integration(conn, app_id=app_id, integration_id=integration_id))


async def update_integration(conn: AsyncConnection, *, app_id: str, integration_id: str,
                             raw_body: bytes) -> dict[str, Any]:
    """The body's model is the integration's type's `…Update`, so the integration is read first."""
    row = dict(await require_integration(conn, app_id=app_id, integration_id=integration_id))
    body = decode(raw_body, UPDATE_MODELS[row["type"]])
    _check_rules(body)
    changes = to_wire(body)
    if "displayName" in changes:
        row["display_name"] = changes["displayName"]
    config = dict(row["config"])
    for name, value in changes.items():
        if name not in _NOT_CONFIG:
            config[name] = value
    row["config"] = {k: v for k, v in config.items() if v is not None}  # null unsets a field
    if "defaultResponderId" in changes:
        row["default_responder_id"] = (await _responders(conn, app_id)).check(changes["defaultResponderId"])
    await store.update_integration(conn, integration_id=integration_id, display_name=row["display_name"],
                                   config=row["config"], default_responder_id=row["default_responder_id"])
    return await _wire(conn, row)


async def delete_integration(conn: AsyncConnection, *, app_id: str, integration_id: str) -> None:
    """Delete the integration; its webhooks, keys and switchboard integration go with it (foreign keys
    cascade), and the conversations that switchboard integration controlled have nobody in control."""
    await switchboards.release_integration(conn, integration_id=integration_id)
    await store.delete_integration(conn, app_id=app_id, integration_id=integration_id, hidden_type=OAUTH)


# --- helpers -----------------------------------------------------------------------------------

def _check_rules(body: Struct) -> None:
    """What the types cannot say: the spec's prose about one type's fields."""
    if isinstance(body, Twilio) and body.phone_number_sid is UNSET and body.messaging_service_sid is UNSET:
        raise BadRequest("One of `phoneNumberSid` or `messagingServiceSid` must be provided")
    if isinstance(body, Line) and (body.channel_id is UNSET) != (body.channel_secret is UNSET):
        raise BadRequest("`channelId` and `channelSecret` are given together or not at all")
    if isinstance(body, Mailgun) and body.incoming_address.rpartition("@")[2].lower() != body.domain.lower():
        raise BadRequest(f"Invalid incomingAddress: must be an address of the domain `{body.domain}`")
    _check_urls(to_wire(body))


def _check_urls(wire: dict[str, Any]) -> None:
    """Each URL field given (not null) is an absolute http(s) URL; the 400 names it."""
    for path in URL_FIELDS:
        value: Any = wire
        for name in path.split("."):
            value = value.get(name) if isinstance(value, dict) else None
        if value is not None:
            check_target(value, field=path)


def _given(body: Struct) -> dict[str, Any]:
    return {k: v for k, v in to_wire(body).items() if k not in _NOT_CONFIG and v is not None}


def _types(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise BadRequest("Invalid filter[types]: expected a comma-separated list of integration types")
    for name in names:
        if name not in TYPES:
            raise BadRequest(f"Invalid filter[types]: unknown integration type '{name}'")
    return names


async def _first_webhooks(conn: AsyncConnection, integration_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each custom integration's oldest webhook, as its `webhooks` list."""
    first = await webhook_store.first_webhooks(conn, integration_ids=integration_ids)
    return {integration_id: [render.webhook(row)] for integration_id, row in first.items()}


async def _wire(conn: AsyncConnection, row: Mapping[str, Any]) -> dict[str, Any]:
    if row["type"] != "custom":
        return (await _responders(conn, row["app_id"])).show(row, render.integration(row))
    return render.integration(row, (await _first_webhooks(conn, [row["id"]])).get(row["id"], []))


@dataclasses.dataclass(frozen=True)
class _Responders:
    """The app's switchboard integrations, for `defaultResponderId` (written) and `defaultResponder` (read)."""

    default_id: str | None
    members: Mapping[str, Mapping[str, Any]]

    def check(self, value: str | None | UnsetType) -> str | None:
        """The responder a body names (None for none or null): one of the switchboard's integrations."""
        if value is UNSET or value is None:
            return None
        if value not in self.members:
            raise SwitchboardIntegrationNotFound()
        return value

    def show(self, row: Mapping[str, Any], wire: dict[str, Any]) -> dict[str, Any]:
        """The wire integration with its `defaultResponder`: its own (`inherited: false`), else the
        switchboard's default (`inherited: true`); none for custom integrations, or without either."""
        own = self.members.get(row.get("default_responder_id") or "")
        member = own or self.members.get(self.default_id or "")
        if member is None or row["type"] == "custom":
            return wire
        return {**wire, "defaultResponder": default_responder(member, inherited=own is None)}


async def _responders(conn: AsyncConnection, app_id: str) -> _Responders:
    board, members = await switchboards.members_of_app(conn, app_id=app_id)
    return _Responders(None if board is None else board["default_id"], {m["id"]: m for m in members})
