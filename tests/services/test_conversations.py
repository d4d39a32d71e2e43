"""Conversations (services/conversations.py): a user's one default conversation, and who a conversation is for."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.pagination import Page
from heliograph.schemas.conversations import ConversationCreateBody
from heliograph.services import conversations
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app, make_conversation, make_custom, make_user
from tests.utils import MISSING_ID, api_error, stored_events, with_database


async def listed(db: Database, app_id: str, user_id: str) -> list[tuple[str, bool]]:
    """(id, isDefault) of each conversation of the user, oldest first."""
    async with db.read() as conn:
        window = await conversations.list_conversations(conn, app_id=app_id, page=Page(),
                                                        filter={"userId": user_id})
    return [(row["id"], row["is_default"]) for row in window.records]


async def refusal(db: Database, app_id: str, **wire: Any) -> tuple[int, str, str]:
    """The error of a CreateConversation with the body `wire`."""
    with pytest.raises(ApiError) as raised:
        async with db.write() as conn:
            await conversations.create_conversation(conn, ids=IDS, app_id=app_id,
                                                    body=body(ConversationCreateBody, **wire))
    return api_error(raised)


def test_a_users_first_personal_conversation_is_their_default(empty_database_url: str) -> None:
    """The first personal conversation of a user is their default; the next ones, and groups, are not."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            ana = await make_user(conn, app_id, externalId="ana")
            made = [await make_conversation(conn, app_id, ana), await make_conversation(conn, app_id, ana),
                    await make_conversation(conn, app_id, ana, kind="sdkGroup")]
        return [(c["id"], c["isDefault"]) for c in made], await listed(db, app_id, ana["id"])

    made, listed_after = with_database(empty_database_url, scenario)
    assert ([True, False, False], made) == ([is_default for _, is_default in made], listed_after)


def test_the_default_conversation_cannot_be_deleted(empty_database_url: str) -> None:
    """DeleteConversation of a default conversation is a 400 and keeps it; another personal one is removed,
    with its conversation:remove event."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            await make_custom(conn, app_id, triggers=["conversation:remove"])
            ana = await make_user(conn, app_id, externalId="ana")
            default = (await make_conversation(conn, app_id, ana))["id"]
            other = (await make_conversation(conn, app_id, ana))["id"]
        with pytest.raises(ApiError) as raised:
            async with db.write() as conn:
                await conversations.delete_conversation(conn, ids=IDS, app_id=app_id, conversation_id=default)
        async with db.write() as conn:
            await conversations.delete_conversation(conn, ids=IDS, app_id=app_id, conversation_id=other)
            removed = [(kind, payload["conversation"]["id"]) for kind, payload in await stored_events(conn, app_id)]
        return api_error(raised), await listed(db, app_id, ana["id"]), removed, default, other

    refused, remaining, removed, default, other = with_database(empty_database_url, scenario)
    assert ((400, "bad_request", f"Conversation {default} cannot be deleted because it is the default."),
            [(default, True)], [("conversation:remove", other)]) == (refused, remaining, removed)


def test_a_personal_conversation_is_for_exactly_one_user(empty_database_url: str) -> None:
    """A personal conversation without a participant, with two, or with one user twice is a 400; none is made."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            ana, bo = await make_user(conn, app_id, externalId="ana"), await make_user(conn, app_id)
        refusals = [await refusal(db, app_id, type="personal"),
                    await refusal(db, app_id, type="personal", participants=[{"userId": ana["id"]},
                                                                             {"userId": bo["id"]}]),
                    await refusal(db, app_id, type="sdkGroup", participants=[
                        {"userId": ana["id"], "subscribeSDKClient": False},
                        {"userExternalId": "ana", "subscribeSDKClient": False}])]
        return refusals, await listed(db, app_id, ana["id"]) + await listed(db, app_id, bo["id"])

    one = "participants: a personal conversation must have exactly 1 participant"
    assert ([(400, "bad_request", one), (400, "bad_request", one),
             (400, "bad_request", "participants: the same user is listed twice")], []) == \
        with_database(empty_database_url, scenario)


def test_participants_name_existing_users_one_way(empty_database_url: str) -> None:
    """A participant is named by userId or userExternalId, not both; an unknown user is a 404; a group's
    participants must say whether to subscribe their SDK client."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            ana = await make_user(conn, app_id, externalId="ana")
        return [await refusal(db, app_id, type="personal", participants=[{"userId": ana["id"],
                                                                          "userExternalId": "ana"}]),
                await refusal(db, app_id, type="personal", participants=[{"userId": MISSING_ID}]),
                await refusal(db, app_id, type="sdkGroup", participants=[{"userId": ana["id"]}])]

    assert [(400, "bad_request", "participants[0]: one of userId or userExternalId is required, but not both"),
            (404, "user_not_found", f"User not found: {MISSING_ID}"),
            (400, "bad_request", "participants[0].subscribeSDKClient is required for sdkGroup conversations")] == \
        with_database(empty_database_url, scenario)
