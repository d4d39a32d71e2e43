"""The account-scope key: the one configured in the environment, or one made on a first start."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory, new_secret
from heliograph.store import keys as store


@dataclasses.dataclass(frozen=True)
class AccountKey:
    id: str
    secret: str
    created: bool  # made by this call (so its secret has not been shown before)


async def ensure_account_key(conn: AsyncConnection, *, ids: IdFactory, key_id: str | None,
                             secret: str | None) -> AccountKey | None:
    """Make sure the configured key exists with its secret; with none configured, that some key exists."""
    if key_id is not None and secret is not None:
        if not key_id.startswith("act_"):
            raise ValueError("HELIOGRAPH_ACCOUNT_KEY_ID must start with act_")
        existing = await store.find_secret(conn, key_id=key_id)
        if existing is None:
            await store.insert_account_key(conn, key_id=key_id, secret=secret, created_at=ids.clock())
        elif existing != secret:
            await store.update_secret(conn, key_id=key_id, secret=secret)
        return AccountKey(key_id, secret, existing is None)
    if await store.has_account_key(conn):
        return None
    new_id, now = ids.new_at()
    key = AccountKey("act_" + new_id, new_secret(), True)
    await store.insert_account_key(conn, key_id=key.id, secret=key.secret, created_at=now)
    return key


async def account_keys(conn: AsyncConnection) -> list[AccountKey]:
    return [AccountKey(r["id"], r["secret"], False) for r in await store.list_account_keys(conn)]
