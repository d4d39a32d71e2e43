"""The attachments directory: one file per uploaded attachment, named by its token.

A file is written before its row commits and unlinked again if that transaction fails (`kept`).
Rows go away by DeleteAttachment or by a cascade (message, conversation, user, app); a trigger
lists their tokens in `attachment_garbage`, and `sweep`, run after every commit that deleted
something and at start-up, unlinks those files and forgets the tokens. At start-up it also
unlinks files that no row names (left by a crash between writing a file and committing its row),
once they are older than ORPHAN_AGE_SECONDS so that another process's upload in flight is spared.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from heliograph.ids import new_media_token
from heliograph.store.db import DELETE_FLAG, Database
from heliograph.store.tables import attachment_garbage, attachments

log = logging.getLogger("heliograph.media")
ORPHAN_AGE_SECONDS = 3600.0
HEAD_BYTES = 8192  # enough of a file to recognise its type
_CHUNK = 1 << 20
_BATCH = 500


@dataclasses.dataclass(frozen=True)
class StoredFile:
    token: str
    size: int
    head: bytes


@contextlib.asynccontextmanager
async def kept(directory: Path, source: BinaryIO) -> AsyncIterator[StoredFile]:
    """`source` written as a new file of `directory`; unlinked again if the block raises."""
    token = new_media_token()
    stored = await asyncio.to_thread(_copy, directory, token, source)
    try:
        yield stored
    except BaseException:
        discard(directory, token)
        raise


def _copy(directory: Path, token: str, source: BinaryIO) -> StoredFile:
    directory.mkdir(parents=True, exist_ok=True)
    source.seek(0)
    head = source.read(HEAD_BYTES)
    source.seek(0)
    with open(directory / token, "xb") as target:
        shutil.copyfileobj(source, target, _CHUNK)
        return StoredFile(token, target.tell(), head)


def discard(directory: Path, token: str) -> None:
    (directory / token).unlink(missing_ok=True)


async def sweep(db: Database, directory: Path, *, orphans: bool = False) -> None:
    """Unlink the files whose rows are gone (and, with `orphans`, files no row names). Never raises."""
    try:
        while await _sweep_batch(db, directory):
            pass
        if orphans:
            await _sweep_orphans(db, directory)
    except Exception:  # the change that called for the sweep has committed: report, the next sweep retries
        log.exception("sweeping the attachments directory %s failed", directory)


async def _sweep_batch(db: Database, directory: Path) -> bool:
    g = attachment_garbage
    async with db.read() as conn:
        tokens = list(await conn.scalars(sa.select(g.c.token).limit(_BATCH)))
    for token in tokens:
        discard(directory, token)
    if tokens:
        async with db.write() as conn:
            await conn.execute(g.delete().where(g.c.token.in_(tokens)))
            conn.info.pop(DELETE_FLAG, None)  # forgetting tokens calls for no further sweep
    return len(tokens) == _BATCH


async def _sweep_orphans(db: Database, directory: Path) -> None:
    if not directory.is_dir():
        return
    cutoff = time.time() - ORPHAN_AGE_SECONDS
    old = [path for path in directory.iterdir() if path.is_file() and path.stat().st_mtime < cutoff]
    for start in range(0, len(old), _BATCH):
        batch = {path.name: path for path in old[start:start + _BATCH]}
        async with db.read() as conn:
            known = set(await conn.scalars(sa.select(attachments.c.token).where(attachments.c.token.in_(batch))))
        for name in batch.keys() - known:
            batch[name].unlink(missing_ok=True)
