"""The participant's client associations, most recent first (the spec's clientAssociations): the client that
interacted last goes first (store/participants.used_first), the one business messages are sent to."""

from __future__ import annotations

from typing import Any

from heliograph.store import clients, participants
from heliograph.store.db import Database
from heliograph.store.fast import drive
from tests.factories import make_app, make_conversation, make_user
from tests.utils import with_database

TELEGRAM, SDK = {"type": "telegram", "clientId": "c-telegram"}, {"type": "sdk", "clientId": "c-sdk"}


def test_the_client_used_goes_first_and_nothing_changes_otherwise(empty_database_url: str) -> None:
    async def scenario(db: Database) -> list[list[dict[str, Any]]]:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            user = await make_user(conn, app_id, externalId="ann")
            conversation_id = (await make_conversation(conn, app_id, user))["id"]
        seen = []
        for before, used in (([TELEGRAM, SDK], "sdk"), ([SDK, TELEGRAM], "sdk"), ([TELEGRAM], "sdk"), ([], "sdk"),
                             ([SDK, TELEGRAM], "telegram")):
            async with db.write() as conn:
                await clients.update_associations(conn, conversation_id=conversation_id, user_id=user["id"],
                                                  client_associations=before)
                await drive(conn, participants.used_first(conversation_id=conversation_id, user_id=user["id"],
                                                          client_type=used))
                seen.append(await clients.associations(conn, conversation_id=conversation_id, user_id=user["id"]))
        return seen

    assert [[SDK, TELEGRAM], [SDK, TELEGRAM], [TELEGRAM], [], [TELEGRAM, SDK]] == with_database(
        empty_database_url, scenario)
