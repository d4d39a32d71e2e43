"""Apps and app keys (CreateApp … DeleteApp, CreateAppKey … DeleteAppKey)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest
from heliograph.ids import IdFactory, new_secret
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.apps import AppCreateBody, AppKeyCreateBody, AppSettings, AppUpdateBody
from heliograph.schemas.common import UNSET, check_metadata, to_wire
from heliograph.store import apps as store

MAX_KEYS_PER_APP = 10
DEFAULT_SETTINGS: dict[str, Any] = {
    "conversationRetentionSeconds": 0,
    "maskCreditCardNumbers": True,
    "useAnimalNames": False,
    "echoPostback": False,
    "ignoreAutoConversationStart": False,
    "multiConvoEnabled": False,
    "appLocalizationEnabled": False,
    "endSessionEnabled": False,
    "disableConversationReopen": False,
}


async def create_app(conn: AsyncConnection, *, ids: IdFactory, body: AppCreateBody) -> dict[str, Any]:
    settings = _settings(DEFAULT_SETTINGS, body.settings)
    metadata = None if body.metadata is UNSET else body.metadata
    check_metadata(metadata, field="App metadata")
    app_id, now = ids.new_at()
    row = {"id": app_id, "display_name": body.display_name, "settings": settings,
           "metadata": metadata, "created_at": now}
    await store.insert_app(conn, row)
    return render.app(row)


async def list_apps(conn: AsyncConnection, *, page: Page, service_account_id: str | None) -> Window:
    # Heliograph has no service accounts: none has access to any app
    return await store.page_apps(conn, page=page, none=service_account_id is not None)


async def get_app(conn: AsyncConnection, *, app_id: str) -> dict[str, Any]:
    return render.app(await store.require_app(conn, app_id=app_id))


async def update_app(conn: AsyncConnection, *, app_id: str, body: AppUpdateBody) -> dict[str, Any]:
    row = dict(await store.require_app(conn, app_id=app_id))
    if body.display_name is not UNSET:
        row["display_name"] = body.display_name
    if body.settings is not UNSET:
        row["settings"] = _settings(row["settings"], body.settings)
    if body.metadata is not UNSET:
        check_metadata(body.metadata, field="App metadata")
        row["metadata"] = body.metadata
    await store.update_app(conn, app_id=app_id, display_name=row["display_name"], settings=row["settings"],
                           metadata=row["metadata"])
    return render.app(row)


async def delete_app(conn: AsyncConnection, *, app_id: str) -> None:
    await store.delete_app(conn, app_id=app_id)


def _settings(current: dict[str, Any], change: AppSettings | Any) -> dict[str, Any]:
    merged = {**current, **(to_wire(change) if change is not UNSET else {})}
    if current.get("multiConvoEnabled") and not merged["multiConvoEnabled"]:
        raise BadRequest("settings.multiConvoEnabled cannot be disabled once enabled")
    for name in ("endSessionEnabled", "disableConversationReopen"):
        if merged.get(name) and not merged["multiConvoEnabled"]:
            raise BadRequest(f"settings.{name} requires settings.multiConvoEnabled")
    return merged


# --- app keys -------------------------------------------------------------------------------

async def create_app_key(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                         body: AppKeyCreateBody) -> dict[str, Any]:
    await store.require_app(conn, app_id=app_id, lock=True)  # one count-then-insert at a time
    if await store.count_keys(conn, app_id=app_id) >= MAX_KEYS_PER_APP:
        raise BadRequest(f"An app can have a maximum of {MAX_KEYS_PER_APP} keys")
    key_id, now = ids.new_at()
    row = {"id": "app_" + key_id, "app_id": app_id, "display_name": body.display_name,
           "secret": new_secret(), "created_at": now}
    await store.insert_key(conn, row)
    return render.app_key(row)


async def list_app_keys(conn: AsyncConnection, *, app_id: str) -> list[dict[str, Any]]:
    await store.require_app(conn, app_id=app_id)
    return [render.app_key(row) for row in await store.list_keys(conn, app_id=app_id)]


async def get_app_key(conn: AsyncConnection, *, app_id: str, key_id: str) -> dict[str, Any]:
    await store.require_app(conn, app_id=app_id)
    return render.app_key(await store.require_key(conn, app_id=app_id, key_id=key_id))


async def delete_app_key(conn: AsyncConnection, *, app_id: str, key_id: str) -> None:
    await store.require_app(conn, app_id=app_id)
    await store.delete_key(conn, app_id=app_id, key_id=key_id)
