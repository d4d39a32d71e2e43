"""Message and activity authors (services/messages.py): the rules of `author.subtypes` in requests."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError, BadRequest
from heliograph.pagination import Page
from heliograph.schemas.messages import ActivityPost, MessagePost
from heliograph.services import messages
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app, make_conversation, make_user
from tests.utils import api_error, with_database

TEXT = {"type": "text", "text": "Hi"}


def test_one_ai_or_activity_subtype_is_taken() -> None:
    """`AI` and `activity` are the subtypes a request may carry, one at a time."""
    for subtype in ("AI", "activity"):
        message = body(MessagePost, author={"type": "business", "subtypes": [subtype]}, content=TEXT)
        messages.check_author(message.author)
        assert [subtype] == message.author.subtypes


@pytest.mark.parametrize(("subtypes", "title"), [
    ([], "Invalid author.subtypes: Expected `array` of length >= 1"),
    (["AI", "AI"], "Invalid author.subtypes: Expected `array` of length <= 1"),
    (["AI", "activity"], "Invalid author.subtypes: Expected `array` of length <= 1"),
    (["robot"], "Invalid author.subtypes[0]: Invalid enum value 'robot'"),
])
def test_subtypes_hold_one_known_value(subtypes: list[str], title: str) -> None:
    """The spec's minItems/maxItems 1 and uniqueItems (written on the items) hold for the array: a 400 naming it."""
    with pytest.raises(BadRequest) as raised:
        body(MessagePost, author={"type": "business", "subtypes": subtypes}, content=TEXT)
    assert title == raised.value.title


def test_agent_and_bot_subtypes_are_for_responses_only(empty_database_url: str) -> None:
    """PostMessage and PostActivity refuse the subtypes `agent` and `bot` with a 400 naming the field,
    and store nothing."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            conversation_id = (await make_conversation(conn, app_id, await make_user(conn, app_id)))["id"]
        refusals = []
        for subtype in ("agent", "bot"):
            author = {"type": "business", "subtypes": [subtype]}
            with pytest.raises(ApiError) as raised:
                await messages.post_message(db, ids=IDS, limit=30_000, app_id=app_id, conversation_id=conversation_id,
                                            body=body(MessagePost, author=author, content=TEXT))
            refusals.append(api_error(raised))
            with pytest.raises(ApiError) as raised:
                async with db.write() as conn:
                    await messages.post_activity(conn, ids=IDS, app_id=app_id, conversation_id=conversation_id,
                                                 body=body(ActivityPost, author=author, type="typing:start"))
            refusals.append(api_error(raised))
        async with db.read() as conn:
            stored = await messages.list_messages(conn, app_id=app_id, conversation_id=conversation_id, page=Page())
        return refusals, stored.records

    agent = (400, "bad_request", "Invalid author.subtypes[0]: 'agent' is available in responses only")
    bot = (400, "bad_request", "Invalid author.subtypes[0]: 'bot' is available in responses only")
    assert ([agent, agent, bot, bot], []) == with_database(empty_database_url, scenario)
