"""Integrations (services/integrations.py): defaults the spec states in prose, and its URL fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.pagination import Page
from heliograph.schemas.integrations import IntegrationBody
from heliograph.services import integrations
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app
from tests.utils import api_error, with_database

MAILGUN = {"apiKey": "key-1", "domain": "mg.example.org", "incomingAddress": "in@mg.example.org"}
URL_ERROR = "must be an absolute http or https URL of at most 2048 characters"


async def create(db: Database, app_id: str, kind: str, **wire: Any) -> dict[str, Any]:
    async with db.write() as conn:
        return await integrations.create_integration(conn, ids=IDS, app_id=app_id,
                                                     body=body(IntegrationBody, type=kind, **wire))


async def new_app(db: Database) -> str:
    async with db.write() as conn:
        return str((await make_app(conn))["id"])


def test_prose_defaults_are_stored_at_creation(empty_database_url: str) -> None:
    """canUserSeeConversationList is true for the four SDK types ("the list of conversations will be visible"),
    mailgun's hideUnsubscribeLink false ("the unsubscribe link will be included"); a given value wins."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        shown = {kind: (await create(db, app_id, kind)).get("canUserSeeConversationList")
                 for kind in ("android", "ios", "unity", "web")}
        hidden = await create(db, app_id, "web", canUserSeeConversationList=False)
        mailgun = await create(db, app_id, "mailgun", **MAILGUN)
        return shown, hidden["canUserSeeConversationList"], mailgun["hideUnsubscribeLink"]

    assert ({"android": True, "ios": True, "unity": True, "web": True}, False, False) == \
        with_database(empty_database_url, scenario)


@pytest.mark.parametrize(("kind", "fields", "field"), [
    ("web", {"businessIconUrl": "icon.png"}, "businessIconUrl"),
    ("web", {"buttonIconUrl": "javascript:alert(1)"}, "buttonIconUrl"),
    ("web", {"backgroundImageUrl": "https://"}, "backgroundImageUrl"),
    ("web", {"backgroundImageUrl": "https://example.org/a b.png"}, "backgroundImageUrl"),
    ("web", {"prechatCapture": {"avatarUrl": "ftp://example.org/a.png"}}, "prechatCapture.avatarUrl"),
    ("line", {"qrCodeUrl": "qr.png"}, "qrCodeUrl"),
])
def test_url_fields_are_absolute_http_urls(empty_database_url: str, kind: str, fields: dict[str, Any],
                                           field: str) -> None:
    """A URL field that is not an absolute http(s) URL is a 400 naming it, and nothing is stored."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        with pytest.raises(ApiError) as raised:
            await create(db, app_id, kind, **fields)
        async with db.read() as conn:
            listed = await integrations.list_integrations(conn, app_id=app_id, page=Page(), types=None)
        return api_error(raised), listed.records

    assert ((400, "bad_request", f"Invalid {field}: {URL_ERROR}"), []) == with_database(empty_database_url, scenario)


def test_url_fields_are_checked_on_update_and_null_unsets_button_icon(empty_database_url: str) -> None:
    """UpdateIntegration checks the URL fields as creation does; buttonIconUrl, nullable, is unset by null."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        web = await create(db, app_id, "web", buttonIconUrl="https://example.org/b.png",
                           businessIconUrl="https://example.org/i.png")

        async def update(**wire: Any) -> dict[str, Any]:
            async with db.write() as conn:
                return await integrations.update_integration(conn, app_id=app_id, integration_id=web["id"],
                                                             raw_body=json.dumps(wire).encode())
        with pytest.raises(ApiError) as raised:
            await update(businessIconUrl="//example.org/i.png")
        cleared = await update(buttonIconUrl=None)
        return api_error(raised), "buttonIconUrl" in cleared, cleared["businessIconUrl"]

    assert ((400, "bad_request", f"Invalid businessIconUrl: {URL_ERROR}"), False, "https://example.org/i.png") == \
        with_database(empty_database_url, scenario)
