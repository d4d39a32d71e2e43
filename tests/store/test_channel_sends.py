"""Channel sends in the store (store/channel_sends.py): a business message to a user whose last channel is a
channel's client makes a pending send; a claim leases lane heads; a record is fenced by the lease it was
claimed with, so a sender that lost its lease to another records nothing."""

from __future__ import annotations

import functools
from typing import Any

from heliograph.schemas.integrations import IntegrationBody
from heliograph.schemas.messages import MessagePost
from heliograph.services import integrations, messages
from heliograph.store import channel_sends
from heliograph.store import clients as client_store
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app, make_conversation, make_user
from tests.fakes import T0
from tests.utils import with_database

LEASE = 60_000


async def a_person_on_telegram(db: Database) -> tuple[str, str]:
    """An app whose user's last channel is Telegram: the app's and the conversation's ids."""
    async with db.write() as conn:
        app_id = (await make_app(conn))["id"]
        user = await make_user(conn, app_id, externalId="ann")
        conversation_id = (await make_conversation(conn, app_id, user))["id"]
        made = integrations.Channel(IDS.new(), "secret", {"botId": "1"})
        integration = await integrations.create_integration(
            conn, ids=IDS, app_id=app_id, body=body(IntegrationBody, type="telegram", token="1:a"), channel=made)
        client = {"id": IDS.new(), "app_id": app_id, "user_id": user["id"], "type": "telegram", "status": "active",
                  "integration_id": integration["id"], "external_id": "4711", "display_name": None,
                  "avatar_url": None, "info": None, "raw": None, "last_seen": T0, "linked_at": T0, "link": None,
                  "created_at": T0}
        await client_store.insert_client(conn, client)
        await client_store.update_associations(conn, conversation_id=conversation_id, user_id=user["id"],
                                               client_associations=[{"type": "telegram", "clientId": client["id"]}])
    return app_id, conversation_id


async def claim(db: Database, now: int, *, limit: int) -> list[channel_sends.Claimed]:
    return await db.transact(lambda: channel_sends.claim_plan(now=now, lease_ms=LEASE, lanes=10, limit=limit))


def test_a_record_under_a_lost_lease_changes_nothing(empty_database_url: str) -> None:
    async def scenario(db: Database) -> list[Any]:
        app_id, conversation_id = await a_person_on_telegram(db)
        for text in ("first", "second"):
            await messages.post_message(db, ids=IDS, limit=100, app_id=app_id, conversation_id=conversation_id,
                                        body=body(MessagePost, author={"type": "business"},
                                                  content={"type": "text", "text": text}))
        seen: list[Any] = []
        now = IDS.clock() + 1  # (the messages' sends are due from when they were posted)
        claimed = await claim(db, now, limit=1)
        seen.append([(send.recipient, send.content["text"]) for send in claimed])  # the lane's head (limit 1)
        [send] = claimed
        again = await claim(db, now + LEASE + 1, limit=1)
        seen.append([one.seq for one in again] == [send.seq])  # its lease ran out: another sender takes it
        for lease in (now + LEASE, now + 2 * LEASE + 1):  # the first sender's, then the second's
            seen.append(await db.transact(functools.partial(
                channel_sends.record_plan, seq=send.seq, leased_until=lease, status="sent", at=now, progress=1,
                external_ids=["9"], retry_at=None, error=None)))
        after = await claim(db, now + 3 * LEASE, limit=10)
        seen.append([one.content["text"] for one in after])  # the lane goes on with the next
        return seen

    assert [[("4711", "first")], True, False, True, ["second"]] == with_database(empty_database_url, scenario)


def test_a_claim_takes_each_lanes_run_in_order(empty_database_url: str) -> None:
    async def scenario(db: Database) -> list[list[str]]:
        app_id, conversation_id = await a_person_on_telegram(db)
        for n in range(5):
            await messages.post_message(db, ids=IDS, limit=100, app_id=app_id, conversation_id=conversation_id,
                                        body=body(MessagePost, author={"type": "business"},
                                                  content={"type": "text", "text": f"m{n}"}))
        now = IDS.clock() + 1
        first, second = await claim(db, now, limit=3), await claim(db, now, limit=10)
        await db.transact(lambda: channel_sends.release_plan([send.seq for send in first[1:]]))
        third = await claim(db, now, limit=10)
        return [[send.content["text"] for send in claim] for claim in (first, second, third)]

    # a run of 3; the lane's head leased, nothing more for another claim; once released behind the head, still
    # nothing: the head is leased, and a lane goes in order
    assert [["m0", "m1", "m2"], [], []] == with_database(empty_database_url, scenario)


def test_a_record_and_a_delete_of_its_message_wait_for_each_other_and_never_deadlock(
        empty_database_url: str) -> None:
    """PostgreSQL: DeleteMessage locks the message, then by cascade its send; the sender's record holds the message
    (FOR KEY SHARE, hold_plan) before it writes the send. The delete waits for the record, then takes the send
    with the message (without the hold, the record's own key share on the message would meet the delete's
    cascade: a deadlock, and a 500 for DeleteMessage)."""
    import asyncio

    import pytest
    import sqlalchemy as sa

    from heliograph.store import tables
    from heliograph.store.fast import drive

    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: no deadlocks")

    async def waiting(db: Database, pid: int) -> bool:
        async with db.read() as conn:
            state = await conn.scalar(sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                      {"pid": pid})
        return state == "Lock"

    async def scenario(db: Database) -> list[Any]:
        app_id, conversation_id = await a_person_on_telegram(db)
        posted = await messages.post_message(db, ids=IDS, limit=100, app_id=app_id, conversation_id=conversation_id,
                                             body=body(MessagePost, author={"type": "business"},
                                                       content={"type": "text", "text": "hi"}))
        message_id = posted["id"]
        now = IDS.clock() + 1
        [send] = await claim(db, now, limit=1)
        async with db.engine.connect() as recorder, db.engine.connect() as deleter:
            pid = await deleter.scalar(sa.text("SELECT pg_backend_pid()"))
            record = await recorder.begin()
            await drive(recorder, channel_sends.hold_plan(message_id=message_id, integration_id=send.integration_id,
                                                          client_id=send.client_id))
            delete = asyncio.create_task(deleter.execute(tables.messages.delete().where(
                tables.messages.c.id == message_id)))
            for _ in range(500):  # until the delete waits on the record's hold (a deadline, not a pause)
                if await waiting(db, pid) or delete.done():
                    break
                await asyncio.sleep(0.01)
            blocked = not delete.done()
            recorded = await drive(recorder, channel_sends.record_plan(
                seq=send.seq, leased_until=now + LEASE, status="sent", at=now, progress=1, external_ids=["9"],
                retry_at=None, error=None))
            await drive(recorder, channel_sends.sent_ids_plan(integration_id=send.integration_id,
                                                              message_id=message_id, external_ids=["9"], now=now))
            await record.commit()
            await delete
            await deleter.commit()
        async with db.read() as conn:
            left = await conn.scalar(sa.select(sa.func.count()).select_from(tables.channel_sends).where(
                tables.channel_sends.c.seq == send.seq))
        return [blocked, recorded, left]

    assert [True, True, 0] == with_database(empty_database_url, scenario)
