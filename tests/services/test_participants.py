"""Participants (services/participants.py): sdkGroup conversations only, at most 10, each user once."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.pagination import Page
from heliograph.schemas.conversations import ConversationCreateBody, ParticipantLeaveBody, ParticipantSubSchema
from heliograph.services import participants
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app, make_conversation, make_user
from tests.utils import api_error, with_database


class Group:
    """An app with `size` users in an sdkGroup conversation, and `spare` users outside it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, size: int, spare: int = 1) -> Group:
        async with self.db.write() as conn:
            self.app_id = (await make_app(conn))["id"]
            self.users = [await make_user(conn, self.app_id, externalId=f"u{n}") for n in range(size + spare)]
            self.conversation_id = (await make_conversation(conn, self.app_id, *self.users[:size],
                                                            kind="sdkGroup"))["id"]
            self.personal_id = (await make_conversation(conn, self.app_id, self.users[0]))["id"]
        return self

    async def join(self, user: dict[str, Any], conversation_id: str | None = None, **wire: Any) -> None:
        async with self.db.write() as conn:
            await participants.join_conversation(
                conn, ids=IDS, app_id=self.app_id, conversation_id=conversation_id or self.conversation_id,
                body=body(ParticipantSubSchema, userId=user["id"], **wire))

    async def leave(self, **wire: Any) -> None:
        async with self.db.write() as conn:
            await participants.leave_conversation(conn, ids=IDS, app_id=self.app_id,
                                                  conversation_id=self.conversation_id,
                                                  body=body(ParticipantLeaveBody, **wire))

    async def members(self) -> list[str]:
        """The external ids of the group's participants, in the order they joined."""
        async with self.db.read() as conn:
            window = await participants.list_participants(conn, app_id=self.app_id,
                                                          conversation_id=self.conversation_id, page=Page())
        return [row["external_id"] for row in window.records]


async def refusal(attempt: Any) -> tuple[int, str, str]:
    with pytest.raises(ApiError) as raised:
        await attempt
    return api_error(raised)


def test_a_user_joins_a_group_once(empty_database_url: str) -> None:
    """JoinConversation adds the user at the end; joining again is a 409 that adds nobody."""
    async def scenario(db: Database) -> Any:
        group = await Group(db).open(2)
        await group.join(group.users[2], subscribeSDKClient=False)
        refused = await refusal(group.join(group.users[2], subscribeSDKClient=False))
        return refused, await group.members()

    assert ((409, "conflict", "User is already a participant of the conversation"), ["u0", "u1", "u2"]) == \
        with_database(empty_database_url, scenario)


def test_a_group_has_at_most_10_participants(empty_database_url: str) -> None:
    """The 11th JoinConversation is a 400 and the group keeps its 10 participants."""
    async def scenario(db: Database) -> Any:
        group = await Group(db).open(10)
        refused = await refusal(group.join(group.users[10], subscribeSDKClient=False))
        return refused, len(await group.members())

    assert ((400, "bad_request", "An sdkGroup conversation can have at most 10 participants"), 10) == \
        with_database(empty_database_url, scenario)


def test_a_group_is_created_with_at_most_10_participants() -> None:
    """CreateConversation's body holds at most 10 participants: the 11th is refused as it is read."""
    entries = [{"userId": f"{n:024x}", "subscribeSDKClient": False} for n in range(11)]
    with pytest.raises(ApiError) as raised:
        body(ConversationCreateBody, type="sdkGroup", participants=entries)
    assert (400, "bad_request") == api_error(raised)[:2]


def test_only_groups_have_participants_joining_and_leaving(empty_database_url: str) -> None:
    """Joining a personal conversation is a 400; so is joining a group without subscribeSDKClient."""
    async def scenario(db: Database) -> Any:
        group = await Group(db).open(1)
        return [await refusal(group.join(group.users[1], group.personal_id, subscribeSDKClient=False)),
                await refusal(group.join(group.users[1]))], await group.members()

    assert ([(400, "bad_request", "Participants can only be added to or removed from sdkGroup conversations"),
             (400, "bad_request", "subscribeSDKClient is required for sdkGroup conversations")], ["u0"]) == \
        with_database(empty_database_url, scenario)


def test_leaving_names_one_member_one_way(empty_database_url: str) -> None:
    """LeaveConversation takes exactly one of userId, userExternalId or participantId; a non-member is a 404;
    the member named leaves."""
    async def scenario(db: Database) -> Any:
        group = await Group(db).open(3)
        refusals = [await refusal(group.leave()),
                    await refusal(group.leave(userId=group.users[0]["id"], userExternalId="u0")),
                    await refusal(group.leave(userExternalId="u3"))]
        await group.leave(userExternalId="u1")
        return refusals, await group.members()

    both = (400, "bad_request", "Exactly one of userId, userExternalId or participantId is required")
    assert ([both, both, (404, "not_found", "User is not a member of the conversation")], ["u0", "u2"]) == \
        with_database(empty_database_url, scenario)
