"""The reference for PostMessage throughput: a bare Starlette route doing the same two inserts.

    python bench/reference_app.py --port 8100 --database sqlite:///tmp/ref.sqlite3
    python bench/reference_app.py --port 8100 --database postgresql://postgres@127.0.0.1:5432/ref

It answers `POST /v2/apps/{appId}/conversations/{conversationId}/messages` by decoding the JSON
body, then inserting the message row and one outbox row (the event, with the message as its
payload) in one transaction, and answering 201 with the message. No authentication, validation,
counters or webhook lookup: the floor a Python service on the same stack (uvicorn with uvloop and
httptools, Starlette, the same drivers: asyncpg from a pool, or aiosqlite with SQLite's one writer
behind a lock and the same pragmas) cannot go below for that work. bench/throughput.py runs it
and Heliograph back to back and reports the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS ref_messages (
        id VARCHAR(24) PRIMARY KEY, conversation_id VARCHAR(24) NOT NULL, received BIGINT NOT NULL,
        author TEXT NOT NULL, content TEXT NOT NULL, source TEXT NOT NULL, metadata TEXT)""",
    "CREATE INDEX IF NOT EXISTS ix_ref_messages_conversation ON ref_messages (conversation_id, id)",
    """CREATE TABLE IF NOT EXISTS ref_outbox (
        id VARCHAR(24) PRIMARY KEY, app_id VARCHAR(24) NOT NULL, type VARCHAR(64) NOT NULL,
        body TEXT NOT NULL, created_at BIGINT NOT NULL)""",
]
INSERT_MESSAGE = ("INSERT INTO ref_messages (id, conversation_id, received, author, content, source, metadata) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7)")
INSERT_EVENT = "INSERT INTO ref_outbox (id, app_id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)"


def new_id() -> str:
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


class Postgres:
    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=10, max_size=20)
        for statement in SCHEMA:
            await self.pool.execute(statement)

    async def insert(self, message: tuple[Any, ...], event: tuple[Any, ...]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_MESSAGE, *message)
            await conn.execute(INSERT_EVENT, *event)


class Sqlite:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = asyncio.Lock()

    async def open(self) -> None:
        import aiosqlite

        self.conn = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            await self.conn.execute(f"PRAGMA {pragma}")
        for statement in SCHEMA:
            await self.conn.execute(statement)

    async def insert(self, message: tuple[Any, ...], event: tuple[Any, ...]) -> None:
        async with self.lock:
            await self.conn.execute("BEGIN")
            try:
                await self.conn.execute(INSERT_MESSAGE.replace("$", "?"), message)
                await self.conn.execute(INSERT_EVENT.replace("$", "?"), event)
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")


def make_app(database: Postgres | Sqlite) -> Starlette:
    async def post_message(request: Request) -> Response:
        body = json.loads(await request.body())
        now = time.time_ns() // 1_000_000
        message = {"id": new_id(), "received": now, "author": body["author"], "content": body["content"],
                   "source": {"type": "api"}}
        event = {"id": new_id(), "type": "conversation:message", "payload": {"message": message}}
        await database.insert(
            (message["id"], request.path_params["conversation_id"], now, json.dumps(body["author"]),
             json.dumps(body["content"]), json.dumps(message["source"]), None),
            (event["id"], request.path_params["app_id"], event["type"], json.dumps(event), now))
        return Response(json.dumps({"messages": [message]}), status_code=201, media_type="application/json")

    async def health(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await database.open()
        yield

    return Starlette(routes=[
        Route("/v2/apps/{app_id}/conversations/{conversation_id}/messages", post_message, methods=["POST"]),
        Route("/health", health),
    ], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--database", required=True, help="sqlite:///PATH or postgresql://…")
    args = parser.parse_args()
    if args.database.startswith("sqlite:///"):
        database: Postgres | Sqlite = Sqlite(args.database.removeprefix("sqlite:///"))
    else:
        database = Postgres(args.database)
    print(f"reference ready on {args.port} (pid {os.getpid()})", flush=True)
    uvicorn.run(make_app(database), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
