"""The account-scope key: the one configured in the environment, or one made on a first start."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory, new_secret
from heliograph.store import tables as t


@dataclasses.dataclass(frozen=True)
class AccountKey:
    id: str
    secret: str
    created: bool  # made by this call (so its secret has not been shown before)


async def ensure_account_key(conn: AsyncConnection, *, ids: IdFactory, key_id: str | None,
                             secret: str | None) -> AccountKey | None:
    """Make sure the configured key exists with its secret; with none configured, that some key exists."""
    k = t.api_keys
    if key_id is not None and secret is not None:
        if not key_id.startswith("act_"):
            raise ValueError("HELIOGRAPH_ACCOUNT_KEY_ID must start with act_")
        existing = await conn.scalar(sa.select(k.c.secret).where(k.c.id == key_id))
        if existing is None:
            await conn.execute(k.insert().values(id=key_id, app_id=None, display_name="Account key",
                                                 secret=secret, created_at=ids.clock()))
        elif existing != secret:
            await conn.execute(k.update().where(k.c.id == key_id).values(secret=secret))
        return AccountKey(key_id, secret, existing is None)
    if await conn.scalar(sa.select(k.c.id).where(k.c.app_id.is_(None)).limit(1)) is not None:
        return None
    new_id, now = ids.new_at()
    key = AccountKey("act_" + new_id, new_secret(), True)
    await conn.execute(k.insert().values(id=key.id, app_id=None, display_name="Account key",
                                         secret=key.secret, created_at=now))
    return key


async def account_keys(conn: AsyncConnection) -> list[AccountKey]:
    k = t.api_keys
    rows = await conn.execute(sa.select(k.c.id, k.c.secret).where(k.c.app_id.is_(None)).order_by(k.c.id))
    return [AccountKey(r.id, r.secret, False) for r in rows]
