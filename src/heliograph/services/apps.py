"""Apps and app keys (CreateApp … DeleteApp, CreateAppKey … DeleteAppKey)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import AppNotFound, BadRequest, NotFound
from heliograph.ids import IdFactory, new_secret
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.apps import AppCreateBody, AppKeyCreateBody, AppSettings, AppUpdateBody
from heliograph.schemas.common import UNSET, check_metadata, to_wire
from heliograph.store import tables as t
from heliograph.store.paging import window

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


_APP = sa.select(t.apps).where(t.apps.c.id == sa.bindparam("app_id"))


async def require_app(conn: AsyncConnection, app_id: str) -> Any:
    row = (await conn.execute(_APP, {"app_id": app_id})).first()
    if row is None:
        raise AppNotFound()
    return row._mapping


async def create_app(conn: AsyncConnection, *, ids: IdFactory, body: AppCreateBody) -> dict[str, Any]:
    settings = _settings(DEFAULT_SETTINGS, body.settings)
    metadata = None if body.metadata is UNSET else body.metadata
    check_metadata(metadata, field="App metadata")
    app_id, now = ids.new_at()
    row = {"id": app_id, "display_name": body.display_name, "settings": settings,
           "metadata": metadata, "created_at": now}
    await conn.execute(t.apps.insert(), row)
    return render.app(row)


async def list_apps(conn: AsyncConnection, *, page: Page, service_account_id: str | None) -> Window:
    query = sa.select(t.apps)
    if service_account_id is not None:  # Heliograph has no service accounts: none has access to any app
        query = query.where(sa.false())
    return await window(conn, query, t.apps.c.id, page)


async def get_app(conn: AsyncConnection, *, app_id: str) -> dict[str, Any]:
    return render.app(await require_app(conn, app_id))


async def update_app(conn: AsyncConnection, *, app_id: str, body: AppUpdateBody) -> dict[str, Any]:
    row = dict(await require_app(conn, app_id))
    if body.display_name is not UNSET:
        row["display_name"] = body.display_name
    if body.settings is not UNSET:
        row["settings"] = _settings(row["settings"], body.settings)
    if body.metadata is not UNSET:
        check_metadata(body.metadata, field="App metadata")
        row["metadata"] = body.metadata
    await conn.execute(t.apps.update().where(t.apps.c.id == app_id).values(
        display_name=row["display_name"], settings=row["settings"], metadata=row["metadata"]))
    return render.app(row)


async def delete_app(conn: AsyncConnection, *, app_id: str) -> None:
    result = await conn.execute(t.apps.delete().where(t.apps.c.id == app_id))
    if result.rowcount == 0:
        raise AppNotFound()


def _settings(current: dict[str, Any], change: AppSettings | Any) -> dict[str, Any]:
    merged = {**current, **(to_wire(change) if change is not UNSET else {})}
    if current.get("multiConvoEnabled") and not merged["multiConvoEnabled"]:
        raise BadRequest("settings.multiConvoEnabled cannot be disabled once enabled")
    for name in ("endSessionEnabled", "disableConversationReopen"):
        if merged.get(name) and not merged["multiConvoEnabled"]:
            raise BadRequest(f"settings.{name} requires settings.multiConvoEnabled")
    return merged


# --- app keys -------------------------------------------------------------------------------

def _keys_of(app_id: str) -> sa.Select[Any]:
    return sa.select(t.api_keys).where(t.api_keys.c.app_id == app_id)


async def create_app_key(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                         body: AppKeyCreateBody) -> dict[str, Any]:
    await require_app(conn, app_id)
    await conn.execute(_APP.with_for_update(), {"app_id": app_id})  # one count-then-insert at a time
    count = await conn.scalar(sa.select(sa.func.count()).select_from(_keys_of(app_id).subquery()))
    if (count or 0) >= MAX_KEYS_PER_APP:
        raise BadRequest(f"An app can have a maximum of {MAX_KEYS_PER_APP} keys")
    key_id, now = ids.new_at()
    row = {"id": "app_" + key_id, "app_id": app_id, "display_name": body.display_name,
           "secret": new_secret(), "created_at": now}
    await conn.execute(t.api_keys.insert(), row)
    return render.app_key(row)


async def list_app_keys(conn: AsyncConnection, *, app_id: str) -> list[dict[str, Any]]:
    await require_app(conn, app_id)
    rows = await conn.execute(_keys_of(app_id).order_by(t.api_keys.c.id))
    return [render.app_key(r._mapping) for r in rows]


async def get_app_key(conn: AsyncConnection, *, app_id: str, key_id: str) -> dict[str, Any]:
    await require_app(conn, app_id)
    row = (await conn.execute(_keys_of(app_id).where(t.api_keys.c.id == key_id))).first()
    if row is None:
        raise NotFound("Key not found")
    return render.app_key(row._mapping)


async def delete_app_key(conn: AsyncConnection, *, app_id: str, key_id: str) -> None:
    await require_app(conn, app_id)
    result = await conn.execute(
        t.api_keys.delete().where(t.api_keys.c.app_id == app_id, t.api_keys.c.id == key_id))
    if result.rowcount == 0:
        raise NotFound("Key not found")
