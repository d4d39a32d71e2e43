"""Factories for tests: plain functions over the official SDK, raw HTTP and the test's database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.config import Settings
from heliograph.errors import ApiError
from heliograph.ids import IdFactory
from heliograph.store import tables as t
from heliograph.store.db import Database

T = TypeVar("T")


def make_user(api: sc.ApiClient, app_id: str, **fields: Any) -> sc.User:
    return sc.UsersApi(api).create_user(app_id, sc.UserCreateBody(**fields)).user


def make_conversation(api: sc.ApiClient, app_id: str, *users: sc.User, kind: str = "personal",
                      **fields: Any) -> sc.Conversation:
    participants = [sc.ParticipantSubSchema(sc.ParticipantWithUserId(
        user_id=u.id, subscribe_sdk_client=False if kind == "sdkGroup" else None)) for u in users]
    body = sc.ConversationCreateBody(type=kind, participants=participants or None, **fields)
    return sc.ConversationsApi(api).create_conversation(app_id, body).conversation


def text(value: str, **fields: Any) -> sc.Content:
    return sc.Content(sc.TextMessage(type="text", text=value, **fields))


def post(api: sc.ApiClient, app_id: str, conversation_id: str, content: sc.Content,
         author: sc.Author | None = None, **fields: Any) -> sc.Message:
    body = sc.MessagePost(author=author or sc.Author(type="business"), content=content, **fields)
    return sc.MessagesApi(api).post_message(app_id, conversation_id, body).messages[0]


TEXT = {"author": {"type": "business"}, "content": {"type": "text", "text": "new"}}  # a PostMessage body


def messages_url(app_id: str, conversation_id: str) -> str:
    return f"/v2/apps/{app_id}/conversations/{conversation_id}/messages"


def pages_back(http: httpx.Client, app_id: str, conversation_id: str) -> Iterator[list[dict[str, Any]]]:
    """ListMessages from the newest page backwards, following meta.beforeCursor as page[before]."""
    params: dict[str, str] = {}
    while True:
        response = http.get(messages_url(app_id, conversation_id), params=params)
        assert 200 == response.status_code, response.text
        body = response.json()
        yield body["messages"]
        if not body["meta"]["hasMore"]:
            return
        params = {"page[before]": body["meta"]["beforeCursor"]}


def all_message_ids(http: httpx.Client, app_id: str, conversation_id: str) -> list[str]:
    """Every message id of the conversation, oldest first, read page by page."""
    pages = list(pages_back(http, app_id, conversation_id))
    return [message["id"] for page in reversed(pages) for message in page]


def eventually(read: Callable[[], Any], attempts: int = 500) -> Any:
    """Re-read until the read returns something: each try is a full HTTP round trip, so this paces
    itself without sleeping; it gives up after `attempts` tries."""
    for _ in range(attempts):
        value = read()
        if value:
            return value
    raise AssertionError("the state never appeared")


# --- the test's database ------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def open_database(database_url: str) -> AsyncIterator[Database]:
    """The store's handle on a test database, disposed of when the block ends."""
    db = Database(Settings(database_url=database_url, data_dir=Path(tempfile.gettempdir())))
    try:
        yield db
    finally:
        await db.dispose()


def with_database(database_url: str, scenario: Callable[[Database], Awaitable[T]]) -> T:
    """Run `scenario` on the test database; its value (tests are plain functions: the suite has no async plugin)."""
    async def main() -> T:
        async with open_database(database_url) as db:
            return await scenario(db)
    return asyncio.run(main())


async def stored_events(conn: AsyncConnection, app_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The (type, payload) of each event of the app in the outbox, oldest first (an event is stored only
    if a webhook of the app subscribes to its type)."""
    bodies = await conn.scalars(sa.select(t.events.c.body).where(t.events.c.app_id == app_id)
                                .order_by(t.events.c.id))
    return [(body["type"], body["payload"]) for body in bodies]


def in_database(database_url: str, statement: Any, params: Any = None) -> list[sa.Row[Any]]:
    """Run one statement in its own committed transaction, for what the API cannot show; the rows it returned."""
    async def execute() -> list[sa.Row[Any]]:
        async with open_database(database_url) as db, db.write() as conn:
            result = await conn.execute(statement, params)
            return list(result) if result.returns_rows else []
    return asyncio.run(execute())


def row_count(database_url: str, table: sa.Table, app_id: str) -> int:
    """How many rows of `table` belong to the app."""
    return int(in_database(database_url, sa.select(sa.func.count()).select_from(table)
                           .where(table.c.app_id == app_id))[0][0])


def seed_messages(database_url: str, conversation_id: str, count: int) -> None:
    """Store `count` messages straight into the database, keeping the conversation's counter right."""
    asyncio.run(_seed(database_url, conversation_id, count))


async def _seed(database_url: str, conversation_id: str, count: int) -> None:
    ids = IdFactory()
    rows = []
    for n in range(count):
        message_id, now = ids.new_at()
        rows.append({"id": message_id, "conversation_id": conversation_id, "received": now,
                     "author": {"type": "business"}, "content": {"type": "text", "text": f"seed {n}"},
                     "source": {"type": "api:conversations"}, "metadata": None})
    async with open_database(database_url) as db, db.write() as conn:
        await conn.execute(t.messages.insert(), rows)
        await conn.execute(t.conversations.update().where(t.conversations.c.id == conversation_id)
                           .values(message_count=t.conversations.c.message_count + count))


# --- errors -------------------------------------------------------------------------------------

MISSING_ID = "0123456789abcdef01234567"  # a well-formed id that names nothing


def sdk_error(raised: Any) -> tuple[int, str, str]:
    """The status, code and title of the error an SDK call raised (a pytest.ExceptionInfo)."""
    first = json.loads(raised.value.body)["errors"][0]
    return raised.value.status, first["code"], first["title"]


def http_error(response: Any) -> tuple[int, str, str]:
    """The status, code and title of an error response from the raw HTTP client."""
    first = response.json()["errors"][0]
    return response.status_code, first["code"], first["title"]


def api_error(raised: pytest.ExceptionInfo[ApiError]) -> tuple[int, str, str]:
    """The status, code and title of the error a service raised."""
    return raised.value.status, raised.value.code, raised.value.title


def refused(call: Callable[..., Any], *args: Any) -> tuple[int, str, str]:
    """The (status, code, title) of an SDK call that must fail."""
    with pytest.raises(sc.ApiException) as caught:
        call(*args)
    return sdk_error(caught)


def error_of(response: httpx.Response) -> tuple[int, str]:
    """The status and code of an error response from the raw HTTP client."""
    return http_error(response)[:2]
