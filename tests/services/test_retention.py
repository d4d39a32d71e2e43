"""conversationRetentionSeconds (services/retention.py): the messages of inactive conversations deleted, on each
engine, by a clock that moves only when told."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from heliograph.app import expire_due, expiring
from heliograph.ids import IdFactory
from heliograph.pagination import Page
from heliograph.schemas.messages import MessagePost
from heliograph.services import messages, retention, stream
from heliograph.store import tables as t
from heliograph.store.db import Database
from tests.factories import body, make_app, make_conversation, make_user
from tests.fakes import FakeClock
from tests.utils import with_database

HOUR = 3600


class World:
    """Apps and conversations on one database, their messages posted at the fake clock's time."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = FakeClock()
        self.ids = IdFactory(self.clock)

    async def app(self, retention_seconds: int) -> str:
        async with self.db.write() as conn:
            return str((await make_app(conn, settings={"conversationRetentionSeconds": retention_seconds}))["id"])

    async def conversation(self, app_id: str) -> str:
        """A personal conversation of a new user, holding one message posted now (by the fake clock)."""
        async with self.db.write() as conn:
            user = await make_user(conn, app_id)
            conversation_id = str((await make_conversation(conn, app_id, user))["id"])
        await self.post(app_id, conversation_id, "user")
        return conversation_id

    async def post(self, app_id: str, conversation_id: str, author: str = "business") -> None:
        author_wire: dict[str, Any] = {"type": "business"}
        if author == "user":
            async with self.db.read() as conn:
                user_id = await conn.scalar(sa.select(t.participants.c.user_id)
                                            .where(t.participants.c.conversation_id == conversation_id))
            author_wire = {"type": "user", "userId": user_id}
        message = body(MessagePost, author=author_wire, content={"type": "text", "text": "hello"})
        await messages.post_message(self.db, ids=self.ids, limit=30_000, app_id=app_id,
                                    conversation_id=conversation_id, body=message)

    async def expire(self, limit: int = 100) -> int:
        async with self.db.write() as conn:
            return await retention.expire_messages(conn, now=self.clock(), limit=limit)

    async def held(self, app_id: str, conversation_id: str) -> tuple[int, int, int]:
        """(messages ListMessages shows, the conversation's message count, its participants' unread counts)."""
        async with self.db.read() as conn:
            listed = await messages.list_messages(conn, app_id=app_id, conversation_id=conversation_id, page=Page())
            count = await conn.scalar(sa.select(t.conversations.c.message_count)
                                      .where(t.conversations.c.id == conversation_id))
            unread = await conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(t.participants.c.unread_count), 0))
                                       .where(t.participants.c.conversation_id == conversation_id))
        return len(listed.records), int(count or 0), int(unread or 0)


def test_inactive_conversations_lose_their_messages_and_active_ones_keep_them(empty_database_url: str) -> None:
    """With a retention of an hour, a conversation last updated over an hour ago is emptied (messages, count,
    unread counts) and stays; one updated since, and every conversation of an app with 0, keep their messages."""
    async def scenario(db: Database) -> Any:
        world = World(db)
        hourly, keeping = await world.app(HOUR), await world.app(0)
        stale, kept = await world.conversation(hourly), await world.conversation(keeping)
        fresh = await world.conversation(hourly)
        await world.post(hourly, stale)  # a business reply, unread by the user
        world.clock.advance(HOUR / 2)
        await world.post(hourly, fresh)
        world.clock.advance(HOUR / 2 + 1)
        emptied = await world.expire()
        again = await world.expire()  # idempotent: an emptied conversation is not chosen again
        return (emptied, again, await world.held(hourly, stale), await world.held(hourly, fresh),
                await world.held(keeping, kept))

    emptied, again, stale, fresh, kept = with_database(empty_database_url, scenario)
    assert (1, 0, (0, 0, 0), (2, 2), (1, 1)) == (emptied, again, stale, fresh[:2], kept[:2])


def test_an_emptied_conversation_shows_cleared_on_its_stream(empty_database_url: str) -> None:
    """What a stream reads after its last message: `conversation:cleared`, as for DeleteAllMessages; nothing for
    a conversation kept."""
    async def scenario(db: Database) -> Any:
        world = World(db)
        app_id = await world.app(HOUR)
        stale = await world.conversation(app_id)
        world.clock.advance(HOUR / 2)
        fresh = await world.conversation(app_id)
        world.clock.advance(HOUR / 2)
        await world.expire()
        async with db.read() as conn:
            return [[frame["type"] for _, frame in await stream.read_after(conn, conversation_id=c, seq=1)]
                    for c in (stale, fresh)]

    assert [["conversation:cleared"], []] == with_database(empty_database_url, scenario)


def test_a_conversation_expires_exactly_when_its_retention_has_passed(empty_database_url: str) -> None:
    """Inactive for retention − 1 ms: kept; inactive for exactly the retention: emptied (the cutoff is `<=`)."""
    async def scenario(db: Database) -> Any:
        world = World(db)
        app_id = await world.app(60)
        conversation_id = await world.conversation(app_id)
        world.clock.now += 60_000 - 1
        before = (await world.expire(), await world.held(app_id, conversation_id))
        world.clock.now += 1
        return before, (await world.expire(), await world.held(app_id, conversation_id))

    before, at = with_database(empty_database_url, scenario)
    assert ((0, (1, 1, 0)), (1, (0, 0, 0))) == (before, at)


def test_a_new_message_after_expiry_starts_the_clock_again(empty_database_url: str) -> None:
    """An emptied conversation takes new messages; they are kept until the conversation is inactive again."""
    async def scenario(db: Database) -> Any:
        world = World(db)
        app_id = await world.app(60)
        conversation_id = await world.conversation(app_id)
        world.clock.advance(60)
        first = await world.expire()
        await world.post(app_id, conversation_id)
        world.clock.advance(59)
        kept = (await world.expire(), await world.held(app_id, conversation_id))
        world.clock.advance(1)
        return first, kept, (await world.expire(), await world.held(app_id, conversation_id))

    first, kept, later = with_database(empty_database_url, scenario)
    assert (1, (0, (1, 1, 1)), (1, (0, 0, 0))) == (first, kept, later)


def test_a_run_empties_at_most_its_limit_and_the_loop_takes_the_rest(empty_database_url: str) -> None:
    """One call empties at most `limit` conversations, least recently updated first; the background loop's
    `expire_due` runs batches until none is left."""
    async def scenario(db: Database) -> Any:
        world = World(db)
        app_id = await world.app(60)
        made = []
        for _ in range(5):
            made.append(await world.conversation(app_id))
            world.clock.advance(1)
        world.clock.advance(60)
        first = await world.expire(limit=2)
        oldest = [(await world.held(app_id, c))[0] for c in made]
        rest = await expire_due(db, world.clock, batch=2)
        return first, oldest, rest, [(await world.held(app_id, c))[0] for c in made]

    first, oldest, rest, after = with_database(empty_database_url, scenario)
    assert (2, [0, 0, 1, 1, 1], 3, [0] * 5) == (first, oldest, rest, after)


def test_the_background_loop_runs_the_job_and_outlives_a_failed_run(empty_database_url: str) -> None:
    """`expiring` (the lifespan's loop) runs the job every interval; a run that raises is logged and the next
    run goes on (here the clock fails once)."""
    async def scenario(db: Database) -> Any:
        world = World(db)
        app_id = await world.app(60)
        conversation_id = await world.conversation(app_id)
        world.clock.advance(60)
        reads = 0

        def failing_once() -> int:
            nonlocal reads
            reads += 1
            if reads == 1:
                raise RuntimeError("the clock broke")
            return world.clock()

        calls = 0
        two_runs_done = asyncio.Event()

        async def wait(_interval: float) -> None:
            """Instead of the interval: no time passes. The third wait follows the second run: the loop rests
            there until it is cancelled."""
            nonlocal calls
            calls += 1
            if calls == 3:
                two_runs_done.set()
                await asyncio.Event().wait()

        async with expiring(db, failing_once, 60.0, wait):
            await asyncio.wait_for(two_runs_done.wait(), 10)  # a loop that died would never get there
        return reads > 1, await world.held(app_id, conversation_id)

    assert (True, (0, 0, 0)) == with_database(empty_database_url, scenario)
