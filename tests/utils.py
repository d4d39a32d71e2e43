"""Factories for tests: plain functions over the official SDK."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import sunshine_conversations_client as sc


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


def seed_messages(database_url: str, conversation_id: str, count: int) -> None:
    """Store `count` messages straight into the database, keeping the conversation's counter right."""
    asyncio.run(_seed(database_url, conversation_id, count))


async def _seed(database_url: str, conversation_id: str, count: int) -> None:
    from heliograph.config import Settings
    from heliograph.ids import IdFactory
    from heliograph.store import tables as t
    from heliograph.store.db import Database

    db = Database(Settings(database_url=database_url, data_dir=__import__("pathlib").Path("/tmp")))
    ids = IdFactory()
    rows = []
    for n in range(count):
        message_id, now = ids.new_at()
        rows.append({"id": message_id, "conversation_id": conversation_id, "received": now,
                     "author": {"type": "business"}, "content": {"type": "text", "text": f"seed {n}"},
                     "source": {"type": "api:conversations"}, "metadata": None})
    async with db.write() as conn:
        await conn.execute(t.messages.insert(), rows)
        await conn.execute(t.conversations.update().where(t.conversations.c.id == conversation_id)
                           .values(message_count=t.conversations.c.message_count + count))
    await db.dispose()


MISSING_ID = "0123456789abcdef01234567"  # a well-formed id that names nothing


def sdk_error(raised: Any) -> tuple[int, str, str]:
    """The status, code and title of the error an SDK call raised (a pytest.ExceptionInfo)."""
    first = json.loads(raised.value.body)["errors"][0]
    return raised.value.status, first["code"], first["title"]


def http_error(response: Any) -> tuple[int, str, str]:
    """The status, code and title of an error response from the raw HTTP client."""
    first = response.json()["errors"][0]
    return response.status_code, first["code"], first["title"]
