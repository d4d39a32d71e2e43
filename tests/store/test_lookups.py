"""The shared look-ups of store/ (apps, users, conversations): what they find, and which 404 each raises."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError, AppNotFound, ConversationNotFound, UserNotFound
from heliograph.store import apps, conversations, users
from heliograph.store.db import Database
from tests.factories import IDS, make_app, make_conversation, make_user
from tests.utils import with_database


async def _raised(lookup: Any) -> str:
    """The error code the awaited look-up raises."""
    with pytest.raises(ApiError) as raised:
        await lookup
    return raised.value.code


def test_require_app_finds_the_app_or_raises_app_not_found(empty_database_url: str) -> None:
    """An app is found by id, locked or not; another id is app_not_found."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app = await make_app(conn, displayName="Shop")
            found = await apps.require_app(conn, app_id=app["id"])
            locked = await apps.require_app(conn, app_id=app["id"], lock=True)
            missing = await _raised(apps.require_app(conn, app_id=IDS.new()))
        return found["display_name"], locked["id"] == app["id"], missing

    assert ("Shop", True, AppNotFound.code) == with_database(empty_database_url, scenario)


def test_find_user_by_id_or_by_external_id_within_a_brand(empty_database_url: str) -> None:
    """find_user reads a user by id, or by externalId within its brand; another brand's user is not found."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            plain = await make_user(conn, app_id, externalId="ana")
            branded = await make_user(conn, app_id, externalId="ana", brandId="b1")

            async def found(**where: Any) -> str | None:
                row = await users.find_user(conn, app_id=app_id, **where)
                return None if row is None else str(row["id"])

            return [await found(user_id=plain["id"]), await found(external_id="ana"),
                    await found(external_id="ana", brand_id="b1"), await found(external_id="ana", brand_id="b2"),
                    await found(user_id=IDS.new())], [plain["id"], branded["id"]]

    (by_id, by_external, by_brand, other_brand, missing), (plain_id, branded_id) = with_database(
        empty_database_url, scenario)
    assert (plain_id, plain_id, branded_id, None, None) == (by_id, by_external, by_brand, other_brand, missing)


def test_require_user_tries_the_id_then_the_external_id(empty_database_url: str) -> None:
    """A path's user is looked up by id first, then by externalId; unknown: user_not_found, or
    app_not_found when the app is missing too."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            user = await make_user(conn, app_id, externalId="ana")
            by_id = await users.require_user(conn, app_id=app_id, id_or_external_id=user["id"])
            by_external = await users.require_user(conn, app_id=app_id, id_or_external_id="ana")
            no_user = await _raised(users.require_user(conn, app_id=app_id, id_or_external_id="bob"))
            no_app = await _raised(users.require_user(conn, app_id=IDS.new(), id_or_external_id="ana"))
        return by_id["id"] == user["id"], by_external["id"] == user["id"], no_user, no_app

    assert (True, True, UserNotFound.code, AppNotFound.code) == with_database(empty_database_url, scenario)


def test_insert_user_refuses_a_taken_external_id_without_raising(empty_database_url: str) -> None:
    """A second user with the same externalId (in the same brand) is not inserted: insert_user says False."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            taken = await make_user(conn, app_id, externalId="ana")
        row = {"id": IDS.new(), "app_id": app_id, "external_id": "ana", "brand_id": None, "brand_key": "",
               "zendesk_id": None, "signed_up_at": 0, "to_be_retained": None, "profile": {}, "metadata": {},
               "created_at": 0}
        inserted = None
        with pytest.raises(RuntimeError):  # roll the failed transaction back, as a refused request does
            async with db.write() as conn:
                inserted = await users.insert_user(conn, row)
                raise RuntimeError
        async with db.read() as conn:
            kept = await users.find_user(conn, app_id=app_id, external_id="ana")
        return inserted, kept["id"] == taken["id"]

    assert (False, True) == with_database(empty_database_url, scenario)


def test_require_conversation_tells_a_missing_app_from_a_missing_conversation(empty_database_url: str) -> None:
    """The app's conversation is found (with its control columns on demand); another app's is not."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            other_app = (await make_app(conn))["id"]
            user = await make_user(conn, app_id, externalId="ana")
            conversation = await make_conversation(conn, app_id, user)
            found = await conversations.require_conversation(conn, app_id=app_id, conversation_id=conversation["id"],
                                                             with_control=True)
            elsewhere = await _raised(conversations.require_conversation(
                conn, app_id=other_app, conversation_id=conversation["id"]))
            no_app = await _raised(conversations.require_conversation(
                conn, app_id=IDS.new(), conversation_id=conversation["id"]))
        return found["type"], "active_sbi_id" in found, elsewhere, no_app

    assert ("personal", True, ConversationNotFound.code, AppNotFound.code) == with_database(
        empty_database_url, scenario)


def test_has_default_sees_the_users_first_personal_conversation(empty_database_url: str) -> None:
    """A user has a default conversation once their first personal conversation exists, not before."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            user = await make_user(conn, app_id, externalId="ana")
            before = await conversations.has_default(conn, user_id=user["id"])
            await make_conversation(conn, app_id, user)
            after = await conversations.has_default(conn, user_id=user["id"])
        return before, after

    assert (False, True) == with_database(empty_database_url, scenario)
