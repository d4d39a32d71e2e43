"""App settings rules and the app key limit (services/apps.py), on each engine."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import BadRequest
from heliograph.pagination import Page
from heliograph.schemas.apps import AppCreateBody, AppKeyCreateBody, AppUpdateBody
from heliograph.services import apps
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app
from tests.utils import api_error, with_database

DEFAULTS = {"conversationRetentionSeconds": 0, "maskCreditCardNumbers": True, "useAnimalNames": False,
            "echoPostback": False, "ignoreAutoConversationStart": False, "multiConvoEnabled": False,
            "appLocalizationEnabled": False, "endSessionEnabled": False, "disableConversationReopen": False}


async def all_apps(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return [dict(row) for row in (await apps.list_apps(conn, page=Page(), service_account_id=None)).records]


async def update(db: Database, app_id: str, **wire: Any) -> dict[str, Any]:
    async with db.write() as conn:
        return await apps.update_app(conn, app_id=app_id, body=body(AppUpdateBody, **wire))


def test_settings_start_at_their_defaults_with_what_was_given(empty_database_url: str) -> None:
    """CreateApp stores every setting: the given ones, and the defaults for the rest."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            return (await make_app(conn, settings={"useAnimalNames": True}))["settings"]

    assert {**DEFAULTS, "useAnimalNames": True} == with_database(empty_database_url, scenario)


@pytest.mark.parametrize("setting", ["endSessionEnabled", "disableConversationReopen"])
def test_session_settings_need_multi_conversations_to_create(empty_database_url: str, setting: str) -> None:
    """endSessionEnabled and disableConversationReopen need multiConvoEnabled: without it no app is created."""
    async def scenario(db: Database) -> Any:
        with pytest.raises(BadRequest) as raised:
            async with db.write() as conn:
                await apps.create_app(conn, ids=IDS, body=body(AppCreateBody, displayName="A",
                                                               settings={setting: True}))
        async with db.write() as conn:
            allowed = await make_app(conn, settings={setting: True, "multiConvoEnabled": True})
        return api_error(raised), [app["id"] for app in await all_apps(db)], allowed["id"]

    refused, stored, allowed = with_database(empty_database_url, scenario)
    assert ((400, "bad_request", f"settings.{setting} requires settings.multiConvoEnabled"), [allowed]) == \
        (refused, stored)


def test_an_update_changes_only_the_settings_given(empty_database_url: str) -> None:
    """UpdateApp merges the given settings into the stored ones; the name and metadata stay unless given."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app = await make_app(conn, displayName="Before", metadata={"a": "1"}, settings={"echoPostback": True})
        return await update(db, app["id"], settings={"useAnimalNames": True})

    assert {"displayName": "Before", "metadata": {"a": "1"},
            "settings": {**DEFAULTS, "echoPostback": True, "useAnimalNames": True}} == \
        {k: v for k, v in with_database(empty_database_url, scenario).items() if k != "id"}


def test_multi_conversations_cannot_be_turned_off(empty_database_url: str) -> None:
    """Once multiConvoEnabled is on it stays on: an update turning it off is a 400 and changes nothing."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app = await make_app(conn, displayName="Multi", settings={"multiConvoEnabled": True})
        before = await all_apps(db)
        with pytest.raises(BadRequest) as raised:
            await update(db, app["id"], displayName="Changed", settings={"multiConvoEnabled": False})
        return api_error(raised), before, await all_apps(db)

    refused, before, after = with_database(empty_database_url, scenario)
    assert ((400, "bad_request", "settings.multiConvoEnabled cannot be disabled once enabled"), before) == \
        (refused, after)


def test_app_metadata_is_limited_to_4_kb(empty_database_url: str) -> None:
    """Metadata of 4097 bytes once encoded is refused on update, and the stored metadata stays."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app = await make_app(conn, metadata={"a": "1"})
        with pytest.raises(BadRequest) as raised:
            await update(db, app["id"], metadata={"k": "x" * (4096 - len('{"k":""}') + 1)})
        return api_error(raised), [a.get("metadata") for a in await all_apps(db)]

    assert ((400, "bad_request", "App metadata is limited to 4096 bytes in size."), [{"a": "1"}]) == \
        with_database(empty_database_url, scenario)


def test_an_app_has_at_most_10_keys(empty_database_url: str) -> None:
    """The 11th CreateAppKey of an app is a 400 and stores nothing; another app's keys do not count."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app, other = (await make_app(conn))["id"], (await make_app(conn))["id"]
            for n in range(10):
                await apps.create_app_key(conn, ids=IDS, app_id=app, body=body(AppKeyCreateBody, displayName=f"k{n}"))
        with pytest.raises(BadRequest) as raised:
            async with db.write() as conn:
                await apps.create_app_key(conn, ids=IDS, app_id=app, body=body(AppKeyCreateBody, displayName="k10"))
        async with db.write() as conn:
            await apps.create_app_key(conn, ids=IDS, app_id=other, body=body(AppKeyCreateBody, displayName="k"))
            return api_error(raised), [len(await apps.list_app_keys(conn, app_id=a)) for a in (app, other)]

    assert ((400, "bad_request", "An app can have a maximum of 10 keys"), [10, 1]) == \
        with_database(empty_database_url, scenario)
