"""Custom integration keys (services/integration_keys.py): custom integrations only, at most 10 each."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.schemas.integrations import IntegrationApiKey, IntegrationBody
from heliograph.services import integration_keys as keys
from heliograph.services import integrations
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app, make_custom
from tests.utils import api_error, with_database


async def new_key(db: Database, app_id: str, integration_id: str, name: str = "Key") -> dict[str, Any]:
    async with db.write() as conn:
        return await keys.create_custom_integration_key(conn, ids=IDS, app_id=app_id, integration_id=integration_id,
                                                        body=body(IntegrationApiKey, displayName=name))


def test_an_integration_has_at_most_10_keys(empty_database_url: str) -> None:
    """The 11th key of an integration is a 400 and stores nothing; another integration's keys do not count."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            full, other = (await make_custom(conn, app_id))["id"], (await make_custom(conn, app_id))["id"]
        for n in range(10):
            await new_key(db, app_id, full, f"k{n}")
        with pytest.raises(ApiError) as raised:
            await new_key(db, app_id, full, "k10")
        await new_key(db, app_id, other)
        async with db.read() as conn:
            counts = [len(await keys.list_custom_integration_keys(conn, app_id=app_id, integration_id=i))
                      for i in (full, other)]
        return api_error(raised), counts

    assert ((400, "bad_request", "An integration can have a maximum of 10 keys"), [10, 1]) == \
        with_database(empty_database_url, scenario)


def test_only_custom_integrations_have_keys(empty_database_url: str) -> None:
    """Keys of a channel integration are a 400 naming the feature."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            web = await integrations.create_integration(conn, ids=IDS, app_id=app_id,
                                                        body=body(IntegrationBody, type="web"))
        with pytest.raises(ApiError) as raised:
            await new_key(db, app_id, web["id"])
        return api_error(raised)

    assert (400, "bad_request", "API keys are available only for custom integrations") == \
        with_database(empty_database_url, scenario)
