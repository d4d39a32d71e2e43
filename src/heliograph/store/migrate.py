"""Apply the Alembic migrations to the configured database (safe to run from several processes).

Alembic, and the scripts it loads, cost about a tenth of a cold start; a database already at the
head revision is recognised without them (the head read from the revision files' text), so a
restart imports Alembic only when there is something to migrate.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from heliograph.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

_HERE = Path(__file__).parent
_REVISION = re.compile(r'^revision = "(\w+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision = (?:None|"(\w+)")$', re.MULTILINE)


def alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database) -> None:
    if await _at_head(db):
        return
    from alembic import command

    async with db.engine.begin() as conn:
        if not db.is_sqlite:  # one migrator at a time when several processes start together
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7012026)")
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))


def head_revision() -> str | None:
    """The one head of the revision files, from their text; None unless they plainly form one chain
    (then Alembic decides)."""
    revisions, parents = set(), set()
    for path in (_HERE / "migrations" / "versions").glob("*.py"):
        text = path.read_text()
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return None
        revisions.add(revision[1])
        if down[1] is not None:
            parents.add(down[1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(parents) == len(revisions) - 1 else None


async def _at_head(db: Database) -> bool:
    head = head_revision()
    if head is None:
        return False
    exists = ("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
              if db.is_sqlite else "SELECT to_regclass('alembic_version')")
    async with db.read() as conn:
        if (await conn.exec_driver_sql(exists)).scalar() is None:  # a new database
            return False
        current = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalars().all()
    return list(current) == [head]
