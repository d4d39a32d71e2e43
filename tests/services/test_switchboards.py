"""Switchboards (services/switchboards.py): one per app, at most 10 members, enabled only with a default."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.schemas.integrations import IntegrationBody
from heliograph.schemas.switchboards import SwitchboardIntegrationCreateBody, SwitchboardUpdateBody
from heliograph.services import integrations, switchboards
from heliograph.store.db import Database
from heliograph.store.integrations import insert_integration
from tests.factories import IDS, body, make_app, make_custom
from tests.utils import api_error, with_database


class Board:
    """A new app and its (disabled) switchboard."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self) -> Board:
        async with self.db.write() as conn:
            self.app_id = (await make_app(conn))["id"]
            self.id = (await switchboards.create_switchboard(conn, ids=IDS, app_id=self.app_id))["id"]
        return self

    async def add(self, name: str, **wire: Any) -> dict[str, Any]:
        """A switchboard integration named `name`, linking a new web integration (one without webhooks,
        of which an app has at most 10)."""
        async with self.db.write() as conn:
            integration = await integrations.create_integration(conn, ids=IDS, app_id=self.app_id,
                                                                body=body(IntegrationBody, type="web"))
        async with self.db.write() as conn:
            return await switchboards.create_switchboard_integration(
                conn, ids=IDS, app_id=self.app_id, switchboard_id=self.id,
                body=body(SwitchboardIntegrationCreateBody, name=name, integrationId=integration["id"], **wire))

    async def update(self, **wire: Any) -> dict[str, Any]:
        async with self.db.write() as conn:
            return await switchboards.update_switchboard(conn, app_id=self.app_id, switchboard_id=self.id,
                                                         body=body(SwitchboardUpdateBody, **wire))

    async def members(self) -> list[str]:
        async with self.db.read() as conn:
            listed = await switchboards.list_switchboard_integrations(conn, app_id=self.app_id,
                                                                      switchboard_id=self.id)
        return [member["name"] for member in listed]

    async def shown(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            return await switchboards.list_switchboards(conn, app_id=self.app_id)


async def refusal(attempt: Any) -> tuple[int, str, str]:
    with pytest.raises(ApiError) as raised:
        await attempt
    return api_error(raised)


def test_an_app_has_one_switchboard(empty_database_url: str) -> None:
    """A second CreateSwitchboard is a 400; the app keeps its first one."""
    async def scenario(db: Database) -> Any:
        board = await Board(db).open()
        async with db.write() as conn:
            second = switchboards.create_switchboard(conn, ids=IDS, app_id=board.app_id)
            refused = await refusal(second)
        return refused, [s["id"] for s in await board.shown()], board.id

    refused, shown, first = with_database(empty_database_url, scenario)
    assert ((400, "bad_request", "Only one switchboard can be created per app"), [first]) == (refused, shown)


def test_a_switchboard_has_at_most_10_switchboard_integrations(empty_database_url: str) -> None:
    """The 11th switchboard integration is a 400 too_many_switchboard_integrations, and is not added."""
    async def scenario(db: Database) -> Any:
        board = await Board(db).open()
        for n in range(10):
            await board.add(f"m{n}")
        return (await refusal(board.add("m10")))[:2], len(await board.members())

    assert ((400, "too_many_switchboard_integrations"), 10) == with_database(empty_database_url, scenario)


def test_names_are_unique_within_a_switchboard(empty_database_url: str) -> None:
    """A second switchboard integration of the same name is a 400 that adds nothing."""
    async def scenario(db: Database) -> Any:
        board = await Board(db).open()
        await board.add("bot")
        return await refusal(board.add("bot")), await board.members()

    assert ((400, "bad_request", "Invalid name: the switchboard already has a switchboard integration named bot"),
            ["bot"]) == with_database(empty_database_url, scenario)


def test_a_switchboard_is_enabled_only_with_a_default(empty_database_url: str) -> None:
    """Enabling a switchboard without a default is a 400 that leaves it disabled; with a default it is enabled."""
    async def scenario(db: Database) -> Any:
        board = await Board(db).open()
        refused = await refusal(board.update(enabled=True))
        disabled = await board.shown()
        bot = await board.add("bot")
        return refused, disabled, await board.update(enabled=True, defaultSwitchboardIntegrationId=bot["id"]), bot

    refused, disabled, enabled, bot = with_database(empty_database_url, scenario)
    assert ((400, "bad_request", "Enabled switchboard must have an associated default switchboardIntegration"),
            [False], {"enabled": True, "defaultSwitchboardIntegrationId": bot["id"]}) == (
        refused, [s["enabled"] for s in disabled], {k: v for k, v in enabled.items() if k != "id"})


def test_the_default_and_a_next_cannot_be_deleted(empty_database_url: str) -> None:
    """The default switchboard integration, and one that another names as its next, are kept (400)."""
    async def scenario(db: Database) -> Any:
        board = await Board(db).open()
        bot = await board.add("bot")
        await board.add("agent", nextSwitchboardIntegrationId=bot["id"])
        helper = await board.add("helper")
        await board.update(defaultSwitchboardIntegrationId=helper["id"])
        refusals = []
        for member in (helper, bot):
            async with db.write() as conn:
                refusals.append((await refusal(switchboards.delete_switchboard_integration(
                    conn, app_id=board.app_id, switchboard_id=board.id, member_id=member["id"])))[:2])
        return refusals, await board.members()

    assert ([(400, "bad_request")] * 2, ["bot", "agent", "helper"]) == with_database(empty_database_url, scenario)


def test_an_oauth_integration_is_linked_by_its_type_and_a_custom_one_by_its_id(empty_database_url: str) -> None:
    """The spec: integrationType "must be used when linking an OAuth integration" (its type is its client's
    id), integrationId "must be used when linking a custom integration": the other way is a 400."""
    async def scenario(db: Database) -> Any:
        board = await Board(db).open()
        async with db.write() as conn:
            await insert_integration(conn, {"id": "0" * 23 + "1", "app_id": board.app_id, "type": "oauth",
                                            "status": "active", "display_name": None,
                                            "config": {"clientId": "acme-bot"}, "created_at": 0})
        async with db.write() as conn:
            custom = await make_custom(conn, board.app_id)

        async def link(name: str, **wire: str) -> Any:
            async with db.write() as conn:
                return await switchboards.create_switchboard_integration(
                    conn, ids=IDS, app_id=board.app_id, switchboard_id=board.id,
                    body=body(SwitchboardIntegrationCreateBody, name=name, **wire))
        by_id = await refusal(link("acme", integrationId="0" * 23 + "1"))
        by_type = await refusal(link("bot", integrationType="custom"))
        linked = [await link("acme", integrationType="acme-bot"), await link("bot", integrationId=custom["id"])]
        return by_id, by_type, [(m["name"], m["integrationType"]) for m in linked]

    assert ((400, "bad_request", "Invalid integrationId: an OAuth integration is linked by its integrationType "
             "(its client's id)"),
            (400, "bad_request", "Invalid integrationType: a custom integration is linked by its integrationId"),
            [("acme", "acme-bot"), ("bot", "custom")]) == with_database(empty_database_url, scenario)
