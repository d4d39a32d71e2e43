"""Factories for the fast tier: rows made by the services on the caller's connection, bodies as handlers decode them.

They are the twins of tests/utils.py's SDK factories, for tests/services and tests/store (no server).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory
from heliograph.schemas.apps import AppCreateBody
from heliograph.schemas.common import decode
from heliograph.schemas.conversations import ConversationCreateBody
from heliograph.schemas.integrations import IntegrationBody
from heliograph.schemas.switchboards import SwitchboardIntegrationCreateBody, SwitchboardUpdateBody
from heliograph.schemas.users import UserCreateBody
from heliograph.services import apps, conversations, integrations, switchboards, users

T = TypeVar("T")
IDS = IdFactory()  # the ids of the rows made here, and of the tests' own service calls
HOOK = {"target": "https://example.com/hook", "triggers": ["conversation:message"]}


def body(model: type[T], **wire: Any) -> T:
    """A request body as the handler passes it on: `wire` is the JSON (camelCase) a client sends."""
    return decode(json.dumps(wire).encode(), model)


async def make_app(conn: AsyncConnection, **wire: Any) -> dict[str, Any]:
    """An app named "App" (unless `wire` names it), as CreateApp answers."""
    return await apps.create_app(conn, ids=IDS, body=body(AppCreateBody, **{"displayName": "App", **wire}))


async def make_user(conn: AsyncConnection, app_id: str, **wire: Any) -> dict[str, Any]:
    return await users.create_user(conn, ids=IDS, app_id=app_id, body=body(UserCreateBody, **wire))


async def make_conversation(conn: AsyncConnection, app_id: str, *members: dict[str, Any], kind: str = "personal",
                            **wire: Any) -> dict[str, Any]:
    """A conversation of `kind` with the users `members` as its participants."""
    participants = [{"userId": user["id"], **({"subscribeSDKClient": False} if kind == "sdkGroup" else {})}
                    for user in members]
    fields = {"type": kind, **({"participants": participants} if participants else {}), **wire}
    return await conversations.create_conversation(conn, ids=IDS, app_id=app_id,
                                                   body=body(ConversationCreateBody, **fields))


async def make_custom(conn: AsyncConnection, app_id: str, name: str = "Bot", **hook: Any) -> dict[str, Any]:
    """A custom integration with one webhook (`hook` overrides its fields), as CreateIntegration answers."""
    wire = {"type": "custom", "displayName": name, "webhooks": [{**HOOK, **hook}]}
    return await integrations.create_integration(conn, ids=IDS, app_id=app_id, body=body(IntegrationBody, **wire))


async def make_switchboard(conn: AsyncConnection, app_id: str, *names: str,
                           triggers: tuple[str, ...] = ("conversation:message",)) -> dict[str, dict[str, Any]]:
    """An enabled switchboard of new custom integrations, one per name (their webhooks subscribed to
    `triggers`), the first its default: its switchboard integrations by name."""
    board = await switchboards.create_switchboard(conn, ids=IDS, app_id=app_id)
    members = {}
    for name in names:
        integration = await make_custom(conn, app_id, name, triggers=list(triggers))
        members[name] = await switchboards.create_switchboard_integration(
            conn, ids=IDS, app_id=app_id, switchboard_id=board["id"],
            body=body(SwitchboardIntegrationCreateBody, name=name, integrationId=integration["id"]))
    await switchboards.update_switchboard(conn, app_id=app_id, switchboard_id=board["id"], body=body(
        SwitchboardUpdateBody, enabled=True, defaultSwitchboardIntegrationId=members[names[0]]["id"]))
    return members
