"""Keys by id: the account keys, and the look-ups that authenticate a call (an api key, an integration
key or an OAuth access token, each with its secret and what it reaches)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t
from heliograph.store.tables import oauth_tokens

_k = t.api_keys
_KEY = sa.select(_k.c.secret, _k.c.app_id, sa.null().label("integration_id"),
                 sa.null().label("client_id")).where(_k.c.id == sa.bindparam("key_id"))
_INTEGRATION_KEY = sa.select(t.integration_keys.c.secret, t.integration_keys.c.app_id,
                             t.integration_keys.c.integration_id, sa.null().label("client_id")).where(
    t.integration_keys.c.id == sa.bindparam("key_id"))
_TOKEN = sa.select(oauth_tokens.c.secret, oauth_tokens.c.app_id, oauth_tokens.c.integration_id,
                   oauth_tokens.c.client_id).where(oauth_tokens.c.id == sa.bindparam("key_id"))


# --- what a credential names: its `secret`, `app_id`, `integration_id` and `client_id` --------------

async def find_api_key(conn: AsyncConnection, *, key_id: str) -> Any:
    """An account or app key (no integration, no client); None if there is none."""
    return await _first(conn, _KEY, key_id)


async def find_integration_key(conn: AsyncConnection, *, key_id: str) -> Any:
    """A custom integration's key (no client); None if there is none."""
    return await _first(conn, _INTEGRATION_KEY, key_id)


async def find_token(conn: AsyncConnection, *, key_id: str) -> Any:
    """An OAuth access token; None if there is none."""
    return await _first(conn, _TOKEN, key_id)


async def _first(conn: AsyncConnection, query: sa.Select[Any], key_id: str) -> Any:
    row = (await conn.execute(query, {"key_id": key_id})).first()
    return None if row is None else row._mapping


# --- account keys (app_id NULL) ------------------------------------------------------------------

async def find_secret(conn: AsyncConnection, *, key_id: str) -> str | None:
    """The key's secret; None if there is no such key."""
    return await conn.scalar(sa.select(_k.c.secret).where(_k.c.id == key_id))


async def has_account_key(conn: AsyncConnection) -> bool:
    return await conn.scalar(sa.select(_k.c.id).where(_k.c.app_id.is_(None)).limit(1)) is not None


async def list_account_keys(conn: AsyncConnection) -> list[Any]:
    """Every account key's `id` and `secret`, by id."""
    return [r._mapping for r in await conn.execute(
        sa.select(_k.c.id, _k.c.secret).where(_k.c.app_id.is_(None)).order_by(_k.c.id))]


async def insert_account_key(conn: AsyncConnection, *, key_id: str, secret: str, created_at: int) -> None:
    await conn.execute(_k.insert().values(id=key_id, app_id=None, display_name="Account key",
                                          secret=secret, created_at=created_at))


async def update_secret(conn: AsyncConnection, *, key_id: str, secret: str) -> None:
    await conn.execute(_k.update().where(_k.c.id == key_id).values(secret=secret))
