"""The /v2 API: one module per resource; this registry lists them."""

from __future__ import annotations

from heliograph.api import (
    apps,
    attachments,
    clients,
    conversations,
    integration_keys,
    integrations,
    message_refs,
    messages,
    oauth,
    participants,
    switchboard_actions,
    switchboards,
    users,
    webhooks,
)
from heliograph.api.http import Route

RESOURCES = (apps, users, clients, conversations, participants, messages, message_refs, attachments,
             integrations, integration_keys, webhooks, switchboards, switchboard_actions, oauth)


def all_routes() -> list[Route]:
    return [route for module in RESOURCES for route in module.routes.routes]
