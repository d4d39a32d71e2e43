"""Rows that only channels and SDKs create (devices, a Help Center zendeskId, a channel's profile of a
client), written straight into a live server's database for the tests that read them back."""

from __future__ import annotations

from typing import Any

from tests.utils import in_database


def run(database_url: str, statement: Any, params: Any = None) -> list[dict[str, Any]]:
    """Execute one statement in its own committed transaction; the rows it returned, if any."""
    return [dict(row._mapping) for row in in_database(database_url, statement, params)]


def link_zendesk(database_url: str, user_id: str, zendesk_id: str) -> None:
    """What a Help Center login does: link the messaging user to a Zendesk user."""
    from heliograph.store import tables as t

    run(database_url, t.users.update().where(t.users.c.id == user_id).values(zendesk_id=zendesk_id))


def add_device(database_url: str, *, app_id: str, user_id: str, client_id: str, integration_id: str,
               last_seen: int, **fields: Any) -> str:
    """A device of the user's SDK client, as an SDK would register it; its id."""
    from heliograph.ids import IdFactory
    from heliograph.store.tables import devices

    device_id = IdFactory().new()
    row = {"id": device_id, "app_id": app_id, "user_id": user_id, "client_id": client_id,
           "integration_id": integration_id, "type": "web", "guid": device_id * 2, "status": "active",
           "last_seen": last_seen, "push_notification_token": None, "info": None, "app_version": None,
           "created_at": last_seen, **fields}
    run(database_url, devices.insert(), row)
    return device_id
