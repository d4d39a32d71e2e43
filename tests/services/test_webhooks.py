"""Webhooks (services/webhooks.py): at most 10 per app, a custom integration keeps one, keys reach their own."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.schemas.webhooks import WebhookCreateBody
from heliograph.services import webhooks
from heliograph.store.db import Database
from tests.factories import HOOK, IDS, body, make_app, make_custom
from tests.utils import api_error, with_database


async def add(db: Database, app_id: str, integration_id: str, caller: str | None = None) -> dict[str, Any]:
    async with db.write() as conn:
        return await webhooks.create_webhook(conn, ids=IDS, app_id=app_id, integration_id=integration_id,
                                             caller=caller, body=body(WebhookCreateBody, **HOOK))


async def listed(db: Database, app_id: str, *integration_ids: str) -> list[int]:
    """How many webhooks each integration has."""
    async with db.read() as conn:
        return [len(await webhooks.list_webhooks(conn, app_id=app_id, integration_id=i, caller=None))
                for i in integration_ids]


def test_an_app_has_at_most_10_webhooks(empty_database_url: str) -> None:
    """Webhooks count per app, over all its integrations: the 11th is a 400 and stores nothing."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            first, second = (await make_custom(conn, app_id))["id"], (await make_custom(conn, app_id))["id"]
        for n in range(8):
            await add(db, app_id, (first, second)[n % 2])
        with pytest.raises(ApiError) as raised:
            await add(db, app_id, first)
        return api_error(raised), await listed(db, app_id, first, second)

    assert ((400, "bad_request", "An app can have a maximum of 10 webhooks"), [5, 5]) == \
        with_database(empty_database_url, scenario)


def test_a_custom_integration_keeps_its_last_webhook(empty_database_url: str) -> None:
    """Deleting a custom integration's last webhook is a 400 that keeps it; with two, one may go."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            integration = await make_custom(conn, app_id)
        [only] = integration["webhooks"]
        with pytest.raises(ApiError) as raised:
            async with db.write() as conn:
                await webhooks.delete_webhook(conn, app_id=app_id, integration_id=integration["id"], caller=None,
                                              webhook_id=only["id"])
        kept = await listed(db, app_id, integration["id"])
        await add(db, app_id, integration["id"])
        async with db.write() as conn:
            await webhooks.delete_webhook(conn, app_id=app_id, integration_id=integration["id"], caller=None,
                                          webhook_id=only["id"])
        return api_error(raised)[:2], kept, await listed(db, app_id, integration["id"])

    assert ((400, "bad_request"), [1], [1]) == with_database(empty_database_url, scenario)


def test_an_integration_key_reaches_only_its_own_webhooks(empty_database_url: str) -> None:
    """`me` is the caller's integration; another integration's id is a 403; an app key has no `me` (404)."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            mine, theirs = (await make_custom(conn, app_id))["id"], (await make_custom(conn, app_id))["id"]
        await add(db, app_id, "me", caller=mine)
        refusals = []
        for integration_id, caller in ((theirs, mine), ("me", None)):
            with pytest.raises(ApiError) as raised:
                await add(db, app_id, integration_id, caller)
            refusals.append(api_error(raised)[:2])
        return refusals, await listed(db, app_id, mine, theirs)

    assert ([(403, "forbidden"), (404, "integration_not_found")], [2, 1]) == \
        with_database(empty_database_url, scenario)
