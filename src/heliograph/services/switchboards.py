"""Switchboards (CreateSwitchboard … DeleteSwitchboard) and their switchboard integrations
(CreateSwitchboardIntegration … DeleteSwitchboardIntegration).

An app has at most one switchboard, created disabled; it can be enabled once it has a default
switchboard integration. A switchboard holds at most 10 switchboard integrations, each linking
one integration of the app under a unique name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import (
    BadRequest,
    IntegrationNotFound,
    SwitchboardIntegrationNotFound,
    TooManySwitchboardIntegrations,
)
from heliograph.ids import IdFactory
from heliograph.schemas import switchboards as wire
from heliograph.schemas.common import UNSET, UnsetType
from heliograph.schemas.switchboards import (
    SwitchboardIntegrationCreateBody,
    SwitchboardIntegrationUpdateBody,
    SwitchboardUpdateBody,
    check_link,
)
from heliograph.services.integrations import OAUTH
from heliograph.store import switchboards as store
from heliograph.store.apps import require_app
from heliograph.store.integrations import find_integration, list_integrations
from heliograph.store.switchboards import require_switchboard

MAX_SWITCHBOARD_INTEGRATIONS = 10
NEEDS_DEFAULT = "Enabled switchboard must have an associated default switchboardIntegration"

# --- switchboards -----------------------------------------------------------------------------

async def create_switchboard(conn: AsyncConnection, *, ids: IdFactory, app_id: str) -> dict[str, Any]:
    await require_app(conn, app_id=app_id, lock=True)  # one check-then-insert at a time
    if await store.find_switchboard(conn, app_id=app_id) is not None:
        raise BadRequest("Only one switchboard can be created per app")
    switchboard_id, now = ids.new_at()
    row = {"id": switchboard_id, "app_id": app_id, "enabled": False, "default_id": None, "created_at": now}
    await store.insert_switchboard(conn, row)
    return wire.switchboard(row)


async def list_switchboards(conn: AsyncConnection, *, app_id: str) -> list[dict[str, Any]]:
    await require_app(conn, app_id=app_id)
    board = await store.find_switchboard(conn, app_id=app_id)  # an app has one switchboard at most
    return [] if board is None else [wire.switchboard(board)]


async def update_switchboard(conn: AsyncConnection, *, app_id: str, switchboard_id: str,
                             body: SwitchboardUpdateBody) -> dict[str, Any]:
    row = dict(await require_switchboard(conn, app_id=app_id, switchboard_id=switchboard_id))
    changes: dict[str, Any] = {}
    if body.default_switchboard_integration_id is not UNSET:
        await store.require_member(conn, switchboard_id=switchboard_id,
                                   member_id=body.default_switchboard_integration_id)
        changes["default_id"] = body.default_switchboard_integration_id
    if body.enabled is not UNSET:
        changes["enabled"] = body.enabled
    row.update(changes)
    if row["enabled"] and row["default_id"] is None:
        raise BadRequest(NEEDS_DEFAULT)
    if changes:
        await store.update_switchboard(conn, switchboard_id=switchboard_id, changes=changes)
    return wire.switchboard(row)


async def delete_switchboard(conn: AsyncConnection, *, app_id: str, switchboard_id: str) -> None:
    """Delete the switchboard, its switchboard integrations and every conversation's control state."""
    await require_switchboard(conn, app_id=app_id, switchboard_id=switchboard_id)
    await store.delete_switchboard(conn, app_id=app_id, switchboard_id=switchboard_id)


# --- switchboard integrations -----------------------------------------------------------------

async def create_switchboard_integration(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                                         switchboard_id: str,
                                         body: SwitchboardIntegrationCreateBody) -> dict[str, Any]:
    check_link(body.integration_id, body.integration_type, required=True)
    # the switchboard's row stays locked: one count-then-insert at a time
    await require_switchboard(conn, app_id=app_id, switchboard_id=switchboard_id, lock=True)
    members = await store.list_members(conn, switchboard_id=switchboard_id)
    if len(members) >= MAX_SWITCHBOARD_INTEGRATIONS:
        raise TooManySwitchboardIntegrations()
    member_id, now = ids.new_at()
    row = {"id": member_id, "app_id": app_id, "switchboard_id": switchboard_id, "name": body.name,
           "deliver_standby_events": body.deliver_standby_events, "next_id": body.next_switchboard_integration_id,
           "message_history_count": body.message_history_count, "created_at": now,
           **await _link(conn, app_id, body.integration_id, body.integration_type)}
    _check_member(row, members)
    await store.insert_member(conn, row)
    return wire.switchboard_integration(row)


async def list_switchboard_integrations(conn: AsyncConnection, *, app_id: str,
                                        switchboard_id: str) -> list[dict[str, Any]]:
    await require_switchboard(conn, app_id=app_id, switchboard_id=switchboard_id)
    return [wire.switchboard_integration(row) for row in await store.list_members(conn, switchboard_id=switchboard_id)]


async def update_switchboard_integration(conn: AsyncConnection, *, app_id: str, switchboard_id: str, member_id: str,
                                         body: SwitchboardIntegrationUpdateBody) -> dict[str, Any]:
    check_link(body.integration_id, body.integration_type, required=False)
    await require_switchboard(conn, app_id=app_id, switchboard_id=switchboard_id)
    members = await store.list_members(conn, switchboard_id=switchboard_id)
    current = next((m for m in members if m["id"] == member_id), None)
    if current is None:
        raise SwitchboardIntegrationNotFound()
    changes = {column: value for column, value in (
        ("name", body.name), ("deliver_standby_events", body.deliver_standby_events),
        ("next_id", body.next_switchboard_integration_id),
        ("message_history_count", body.message_history_count)) if value is not UNSET}
    if body.integration_id is not UNSET or body.integration_type is not UNSET:
        changes.update(await _link(conn, app_id, body.integration_id, body.integration_type))
    row = {**current, **changes}
    _check_member(row, [m for m in members if m["id"] != member_id])
    if changes:
        await store.update_member(conn, member_id=member_id, changes=changes)
    return wire.switchboard_integration(row)


async def delete_switchboard_integration(conn: AsyncConnection, *, app_id: str, switchboard_id: str,
                                         member_id: str) -> None:
    """Delete a switchboard integration that is neither the default nor another one's next.

    Conversations it was in control of go back to the default (their control row goes with it).
    """
    board = await require_switchboard(conn, app_id=app_id, switchboard_id=switchboard_id)
    members = await store.list_members(conn, switchboard_id=switchboard_id)
    if not any(m["id"] == member_id for m in members):
        raise SwitchboardIntegrationNotFound()
    if board["default_id"] == member_id:
        raise BadRequest("The default switchboard integration cannot be deleted: choose another default first")
    if any(m["next_id"] == member_id for m in members):
        raise BadRequest("The switchboard integration cannot be deleted: another switchboard integration's "
                         "nextSwitchboardIntegrationId refers to it")
    await store.delete_member(conn, member_id=member_id)


async def _link(conn: AsyncConnection, app_id: str, integration_id: str | UnsetType,
                integration_type: str | UnsetType) -> dict[str, str]:
    """The integration a body links, by id or by type (which must name exactly one of the app's).

    An OAuth integration's type, here as in the spec, is its client's id (stored as `clientId`). The spec:
    integrationId "must be used when linking a custom integration", integrationType "must be used when
    linking an OAuth integration" (400 otherwise); other types may be linked either way.
    """
    if integration_id is not UNSET:
        found = await find_integration(conn, app_id=app_id, integration_id=integration_id)
        if found is not None and found["type"] == OAUTH:
            raise BadRequest("Invalid integrationId: an OAuth integration is linked by its integrationType "
                             "(its client's id)")
        rows = [] if found is None else [_typed(found)]
    else:
        assert integration_type is not UNSET  # check_link: one of them is given
        if integration_type == "custom":
            raise BadRequest("Invalid integrationType: a custom integration is linked by its integrationId")
        candidates = await list_integrations(conn, app_id=app_id, types=[integration_type, OAUTH])
        rows = [r for r in map(_typed, candidates) if r["integration_type"] == integration_type]
    if not rows:
        raise IntegrationNotFound()
    if len(rows) > 1:
        raise BadRequest(f"The app has several integrations of type {integration_type}: "
                         "link one of them by integrationId")
    return rows[0]


def _typed(row: Any) -> dict[str, str]:
    kind = row["config"].get("clientId", row["type"]) if row["type"] == OAUTH else row["type"]
    return {"integration_id": row["id"], "integration_type": kind}


def _check_member(row: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """A unique name and integration within the switchboard; `next` names another member."""
    if any(m["name"] == row["name"] for m in others):
        raise BadRequest(f"Invalid name: the switchboard already has a switchboard integration named {row['name']}")
    if any(m["integration_id"] == row["integration_id"] for m in others):
        raise BadRequest("The integration is already linked to this switchboard")
    if row["next_id"] is not None and not any(m["id"] == row["next_id"] for m in others):
        raise (BadRequest("nextSwitchboardIntegrationId cannot be the switchboard integration itself")
               if row["next_id"] == row["id"] else SwitchboardIntegrationNotFound(
                   "nextSwitchboardIntegrationId: switchboard integration not found"))
