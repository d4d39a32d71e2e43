"""OAuth clients, their authorization requests (pending, then holding a code, then naming the token it gave)
and access tokens: the rows behind `heliograph oauth-client …`, Authorize and its consent page, GetToken
and RevokeAccess."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import NotFound
from heliograph.store import tables as t
from heliograph.store.tables import oauth_clients, oauth_codes, oauth_tokens

_codes = oauth_codes
_CLIENT = sa.select(oauth_clients).where(oauth_clients.c.id == sa.bindparam("client_id"))
_PENDING = sa.select(_codes, oauth_clients.c.name).join(oauth_clients).where(
    _codes.c.id == sa.bindparam("request_id"), _codes.c.code_hash.is_(None),
    _codes.c.expires_at > sa.bindparam("now"))
_CODE = sa.select(_codes).where(_codes.c.code_hash == sa.bindparam("code_hash"),
                                _codes.c.client_id == sa.bindparam("client_id"))
_CONNECTION = sa.select(oauth_tokens.c.integration_id).where(
    oauth_tokens.c.client_id == sa.bindparam("client_id"), oauth_tokens.c.app_id == sa.bindparam("app_id")).limit(1)


# --- clients -----------------------------------------------------------------------------------

async def insert_client(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(oauth_clients.insert(), row)


async def find_client(conn: AsyncConnection, *, client_id: str) -> Any:
    row = (await conn.execute(_CLIENT, {"client_id": client_id})).first()
    return None if row is None else row._mapping


async def list_clients(conn: AsyncConnection) -> list[Any]:
    return [r._mapping for r in await conn.execute(sa.select(oauth_clients).order_by(oauth_clients.c.id))]


async def connected_apps(conn: AsyncConnection) -> list[Any]:
    """Each (`client_id`, `app_id`) that has a token, once, by app id."""
    apps = sa.select(oauth_tokens.c.client_id, oauth_tokens.c.app_id).distinct()
    return [r._mapping for r in await conn.execute(apps.order_by(oauth_tokens.c.app_id))]


async def delete_client(conn: AsyncConnection, *, client_id: str) -> None:
    """Delete the client and its connections' integrations (their webhooks and tokens by cascade)."""
    mine = sa.select(oauth_tokens.c.integration_id).where(oauth_tokens.c.client_id == client_id)
    await conn.execute(t.integrations.delete().where(t.integrations.c.id.in_(mine)))
    if (await conn.execute(oauth_clients.delete().where(oauth_clients.c.id == client_id))).rowcount == 0:
        raise NotFound("OAuth client not found")


# --- authorization requests --------------------------------------------------------------------

async def delete_expired(conn: AsyncConnection, *, now: int) -> None:
    """Forget the requests (and codes) that expired by `now`."""
    await conn.execute(_codes.delete().where(_codes.c.expires_at <= now))


async def insert_request(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_codes.insert(), row)


async def find_pending(conn: AsyncConnection, *, request_id: str, now: int) -> Any:
    """The request, with its client's `name`, if it awaits an answer and has not expired by `now`; else None."""
    row = (await conn.execute(_PENDING, {"request_id": request_id, "now": now})).first()
    return None if row is None else row._mapping


async def find_code(conn: AsyncConnection, *, code_hash: str, client_id: str) -> Any:
    """The client's request holding the code with this digest; None if there is none."""
    row = (await conn.execute(_CODE, {"code_hash": code_hash, "client_id": client_id})).first()
    return None if row is None else row._mapping


async def update_request(conn: AsyncConnection, *, request_id: str, code_hash: str, app_id: str,
                         expires_at: int) -> bool:
    """Answer a pending request with a code for the app; False if it was answered already."""
    answered = await conn.execute(_codes.update().where(_codes.c.id == request_id, _codes.c.code_hash.is_(None))
                                  .values(code_hash=code_hash, app_id=app_id, expires_at=expires_at))
    return answered.rowcount != 0


async def delete_request(conn: AsyncConnection, *, request_id: str) -> bool:
    """Delete the request (or its code); False if it was gone already."""
    return bool((await conn.execute(_codes.delete().where(_codes.c.id == request_id))).rowcount)


async def claim_code(conn: AsyncConnection, *, request_id: str, token_id: str, now: int) -> bool:
    """Mark the code exchanged for the token `token_id`; False if it was exchanged already or expired by `now`."""
    claimed = await conn.execute(_codes.update().where(
        _codes.c.id == request_id, _codes.c.token_id.is_(None), _codes.c.expires_at > now).values(token_id=token_id))
    return claimed.rowcount != 0


# --- tokens and the connections they make --------------------------------------------------------

async def insert_token(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(oauth_tokens.insert(), row)


async def delete_token(conn: AsyncConnection, *, token_id: str) -> str | None:
    """Delete an access token; the id of its integration, None if the token was gone already."""
    deleted = oauth_tokens.delete().where(oauth_tokens.c.id == token_id).returning(oauth_tokens.c.integration_id)
    found = await conn.scalar(deleted)
    return None if found is None else str(found)


async def count_tokens(conn: AsyncConnection, *, integration_id: str) -> int:
    """How many access tokens the connection's integration still has."""
    count = sa.select(sa.func.count()).select_from(oauth_tokens).where(oauth_tokens.c.integration_id == integration_id)
    return int(await conn.scalar(count) or 0)


async def find_connection(conn: AsyncConnection, *, client_id: str, app_id: str) -> str | None:
    """The id of the integration an earlier token of the client made in the app; None if there is none."""
    found = await conn.scalar(_CONNECTION, {"client_id": client_id, "app_id": app_id})
    return None if found is None else str(found)


async def delete_connection(conn: AsyncConnection, *, integration_id: str) -> None:
    """Delete a connection's integration: its webhooks and every token of it go by cascade."""
    await conn.execute(t.integrations.delete().where(t.integrations.c.id == integration_id))


async def app_names(conn: AsyncConnection, *, app_id: str | None) -> list[Any]:
    """Every app's `id` and `display_name` (only this app's, with `app_id`), by id: what a consent may connect."""
    query = sa.select(t.apps.c.id, t.apps.c.display_name).order_by(t.apps.c.id)
    if app_id is not None:
        query = query.where(t.apps.c.id == app_id)
    return [r._mapping for r in await conn.execute(query)]
