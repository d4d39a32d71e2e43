"""SyncUser's merge of two users (services/user_sync.py): who survives with what, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.pagination import Page
from heliograph.schemas.clients import SyncUserBody
from heliograph.schemas.messages import MessagePost
from heliograph.services import conversations, messages, participants, user_sync, users
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app, make_conversation, make_custom, make_user
from tests.utils import api_error, stored_events, with_database


async def linked(db: Database, app_id: str, zendesk_id: str, **wire: Any) -> dict[str, Any]:
    """A user linked to the Zendesk user `zendesk_id`, as a Help Center login links them."""
    async with db.write() as conn:
        user = await make_user(conn, app_id, **wire)
        return await user_sync.link_zendesk(conn, app_id=app_id, user=user["id"], zendesk_id=zendesk_id)


async def new_app(db: Database) -> str:
    """An app whose webhook hears user:merge."""
    async with db.write() as conn:
        app_id = str((await make_app(conn))["id"])
        await make_custom(conn, app_id, triggers=["user:merge"])
    return app_id


async def sync(db: Database, app_id: str, zendesk_id: str, **wire: Any) -> dict[str, Any]:
    async with db.write() as conn:
        return await user_sync.sync_user(conn, ids=IDS, app_id=app_id, zendesk_id=zendesk_id,
                                         body=body(SyncUserBody, **wire))


async def post(db: Database, app_id: str, conversation_id: str, text: str) -> None:
    message = body(MessagePost, author={"type": "business"}, content={"type": "text", "text": text})
    await messages.post_message(db, ids=IDS, limit=30_000, app_id=app_id, conversation_id=conversation_id,
                                body=message)


async def exists(db: Database, app_id: str, user_id: str) -> bool:
    async with db.read() as conn:
        try:
            await users.get_user(conn, app_id=app_id, user=user_id, brand_id=None)
        except ApiError:
            return False
    return True


def test_the_survivor_keeps_its_fields_and_gains_what_it_lacks(empty_database_url: str) -> None:
    """Merging: the survivor's profile and metadata win, it gains the fields and keys it lacks, the externalId
    it has not, and the earlier signedUpAt; the discarded user is deleted."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        survivor = await linked(db, app_id, "z1", signedUpAt="2022-01-01T00:00:00.000Z",
                                profile={"givenName": "Ana"}, metadata={"tier": "gold"})
        gone = await linked(db, app_id, "z2", externalId="ana-old", signedUpAt="2020-01-01T00:00:00.000Z",
                            profile={"givenName": "Anna", "surname": "Silva"},
                            metadata={"tier": "silver", "lang": "pt"})
        merged = await sync(db, app_id, "z2", survivingZendeskId="z1")
        return ({k: merged.get(k) for k in ("id", "externalId", "zendeskId", "signedUpAt", "profile", "metadata")},
                await exists(db, app_id, gone["id"]), survivor["id"])

    merged, discarded_exists, survivor_id = with_database(empty_database_url, scenario)
    assert ({"id": survivor_id, "externalId": "ana-old", "zendeskId": "z1", "signedUpAt": "2020-01-01T00:00:00.000Z",
             "profile": {"givenName": "Ana", "surname": "Silva"}, "metadata": {"tier": "gold", "lang": "pt"}},
            False) == (merged, discarded_exists)


def test_metadata_past_4_kb_is_left_out_and_reported(empty_database_url: str) -> None:
    """A discarded key that would take the survivor's metadata past 4 KB is not kept; user:merge reports it
    as discardedMetadata."""
    big = "x" * 4000

    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        await linked(db, app_id, "z1", metadata={"notes": big})
        await linked(db, app_id, "z2", metadata={"extra": "y" * 200, "lang": "pt"})
        merged = await sync(db, app_id, "z2", survivingZendeskId="z1")
        async with db.read() as conn:
            [(kind, payload)] = await stored_events(conn, app_id)
        return merged["metadata"], kind, payload.get("discardedMetadata")

    assert ({"notes": big, "lang": "pt"}, "user:merge", {"extra": "y" * 200}) == \
        with_database(empty_database_url, scenario)


def test_the_two_default_conversations_become_the_survivors_one(empty_database_url: str) -> None:
    """The discarded user's default conversation is removed after its messages join the survivor's."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        survivor = await linked(db, app_id, "z1")
        gone = await linked(db, app_id, "z2")
        async with db.write() as conn:
            kept = (await make_conversation(conn, app_id, survivor))["id"]
            other = (await make_conversation(conn, app_id, gone))["id"]
        for conversation_id, text in ((kept, "one"), (other, "two"), (kept, "three")):
            await post(db, app_id, conversation_id, text)
        await sync(db, app_id, "z2", survivingZendeskId="z1")
        async with db.read() as conn:
            window = await messages.list_messages(conn, app_id=app_id, conversation_id=kept, page=Page())
            with pytest.raises(ApiError) as raised:
                await conversations.get_conversation(conn, app_id=app_id, conversation_id=other)
        return [row["content"]["text"] for row in window.records], api_error(raised)[:2]

    assert (["one", "two", "three"], (404, "conversation_not_found")) == with_database(empty_database_url, scenario)


def test_a_group_both_users_are_in_keeps_one_participant(empty_database_url: str) -> None:
    """Both users in one sdkGroup: after the merge the group has the survivor once, and its other member."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        survivor = await linked(db, app_id, "z1")
        gone = await linked(db, app_id, "z2")
        async with db.write() as conn:
            third = await make_user(conn, app_id, externalId="carla")
            group = (await make_conversation(conn, app_id, survivor, gone, third, kind="sdkGroup"))["id"]
        await sync(db, app_id, "z2", survivingZendeskId="z1")
        async with db.read() as conn:
            window = await participants.list_participants(conn, app_id=app_id, conversation_id=group, page=Page())
        return sorted(row["user_id"] for row in window.records), sorted([survivor["id"], third["id"]])

    members, expected = with_database(empty_database_url, scenario)
    assert expected == members


def test_a_sync_without_a_merge_is_a_bad_gateway_and_changes_nothing(empty_database_url: str) -> None:
    """Without survivingZendeskId the sync would need Zendesk Support: 502, and both users stay as they were."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        first, second = await linked(db, app_id, "z1"), await linked(db, app_id, "z2")
        with pytest.raises(ApiError) as raised:
            await sync(db, app_id, "z2")
        return api_error(raised)[:2], [await exists(db, app_id, u["id"]) for u in (first, second)]

    assert ((502, "bad_gateway"), [True, True]) == with_database(empty_database_url, scenario)


@pytest.mark.parametrize(("path", "surviving", "expected"), [
    ("z2", "z2", (400, "bad_request", "Invalid survivingZendeskId: it must differ from the zendeskId of the path")),
    ("z9", "z1", (404, "user_not_found", "User not found")),
])
def test_a_merge_needs_two_different_users(empty_database_url: str, path: str, surviving: str,
                                           expected: tuple[int, str, str]) -> None:
    """A merge of a user into itself is a 400, of a zendeskId no user has a 404; both users are kept."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        first, second = await linked(db, app_id, "z1"), await linked(db, app_id, "z2")
        with pytest.raises(ApiError) as raised:
            await sync(db, app_id, path, survivingZendeskId=surviving)
        return api_error(raised), [await exists(db, app_id, u["id"]) for u in (first, second)]

    assert (expected, [True, True]) == with_database(empty_database_url, scenario)


def test_a_surviving_zendesk_user_without_a_messaging_user_takes_over_the_link(empty_database_url: str) -> None:
    """If no messaging user has the surviving zendeskId, the user of the path is relinked to it: nothing merges."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        user = await linked(db, app_id, "z2", externalId="ana")
        synced = await sync(db, app_id, "z2", survivingZendeskId="z3")
        async with db.read() as conn:
            events = await stored_events(conn, app_id)
        return (synced["id"], synced["zendeskId"], synced["externalId"]), events, user["id"]

    (synced, events, user_id) = with_database(empty_database_url, scenario)
    assert ((user_id, "z3", "ana"), []) == (synced, events)


def test_a_zendesk_id_names_one_user_at_a_time(empty_database_url: str) -> None:
    """Linking a second user to a zendeskId already linked is a 409; the first keeps it, the second gets none."""
    async def scenario(db: Database) -> Any:
        app_id = await new_app(db)
        first = await linked(db, app_id, "z1")
        async with db.write() as conn:
            second = await make_user(conn, app_id, externalId="bo")
        with pytest.raises(ApiError) as raised:
            async with db.write() as conn:
                await user_sync.link_zendesk(conn, app_id=app_id, user=second["id"], zendesk_id="z1")
        async with db.read() as conn:
            now = [(await users.get_user(conn, app_id=app_id, user=u["id"], brand_id=None)).get("zendeskId")
                   for u in (first, second)]
        return api_error(raised)[:2], now

    assert ((409, "conflict"), ["z1", None]) == with_database(empty_database_url, scenario)
