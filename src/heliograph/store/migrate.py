"""Apply the Alembic migrations to the configured database (safe to run from several processes)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from heliograph.store.db import Database

_HERE = Path(__file__).parent


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database) -> None:
    async with db.engine.begin() as conn:
        if not db.is_sqlite:  # one migrator at a time when several processes start together
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7012026)")
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
