"""The /v2 API: one module per resource; this registry lists them."""

from __future__ import annotations

from heliograph.api import apps, conversations, messages, participants, users
from heliograph.api.http import Route

RESOURCES = (apps, users, conversations, participants, messages)


def all_routes() -> list[Route]:
    return [route for module in RESOURCES for route in module.routes.routes]
