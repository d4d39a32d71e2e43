"""The /v2 API: one module per resource; this registry lists them."""

from __future__ import annotations

from heliograph.api import (
    apps,
    conversations,
    integration_keys,
    integrations,
    messages,
    participants,
    users,
    webhooks,
)
from heliograph.api.http import Route

RESOURCES = (apps, users, conversations, participants, messages, integrations, integration_keys, webhooks)


def all_routes() -> list[Route]:
    return [route for module in RESOURCES for route in module.routes.routes]
