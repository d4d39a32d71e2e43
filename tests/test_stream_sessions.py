"""The sessions of a process's end users' streams, checked all together once a heartbeat (realtime/sessions.py):
a session deleted (logout, the user deleted) or past its known expiry ends its streams, the others are kept;
one query answers for many sessions; a check that fails is logged and the next one tries again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.realtime import sessions
from heliograph.realtime.hub import Hub
from heliograph.schemas.end_users import AnonymousUserBody
from heliograph.schemas.integrations import IntegrationBody
from heliograph.services import end_users, integrations
from heliograph.store import stream as store
from heliograph.store.db import Database
from heliograph.store.sessions import delete_session
from heliograph.store.tables import sdk_sessions
from tests.factories import IDS, body, make_app
from tests.utils import with_database

NOW = 1_800_000_000_000  # ms


async def _sessions(conn: AsyncConnection, count: int) -> list[str]:
    """`count` anonymous users' sessions of a new app's web integration: their ids."""
    app_id = (await make_app(conn))["id"]
    web = await integrations.create_integration(conn, ids=IDS, app_id=app_id,
                                                body=body(IntegrationBody, type="web"))
    made = []
    for _ in range(count):
        signed = await end_users.create_anonymous_user(conn, ids=IDS, app_id=app_id, origin=None,
                                                       body=AnonymousUserBody(integration_id=web["id"]))
        made.append(signed["user"]["id"])
    rows = await conn.execute(sa.select(sdk_sessions.c.id, sdk_sessions.c.user_id)
                              .where(sdk_sessions.c.user_id.in_(made)))
    by_user = {row.user_id: row.id for row in rows}
    return [by_user[user_id] for user_id in made]


def test_ended_and_expired_sessions_end_their_streams_and_the_others_are_kept(empty_database_url: str) -> None:
    """Of four streams: one whose session holds and one whose session expires later stay; one past its
    expiry ends as expired (known without a query: its id is in no table), and both streams of a logged-out
    session end as ended, woken."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            kept, later, gone = await _sessions(conn, 3)
            await delete_session(conn, session_id=gone)
        hub = Hub()
        watches = [hub.watch(["c1"], "u1", kept), hub.watch(["c2"], "u2", later, expires_at=NOW + 1),
                   hub.watch(["c3"], "u3", IDS.new(), expires_at=NOW), hub.watch(["c4"], "u4", gone),
                   hub.watch(["c5"], "u4", gone)]
        await sessions.check(hub, db, NOW)
        return [(watch.ended, watch.event.is_set()) for watch in watches]

    assert [(None, False), (None, False), (sessions.EXPIRED, True), (sessions.ENDED, True),
            (sessions.ENDED, True)] == with_database(empty_database_url, scenario)


def test_which_sessions_exist_is_asked_a_chunk_of_ids_at_a_time(empty_database_url: str) -> None:
    """existing_sessions answers for every id given, `per_query` ids per statement: here 5 sessions (2
    deleted) and 2 unknown ids, 2 per statement."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            ids = await _sessions(conn, 5)
            for session_id in ids[1::2]:
                await delete_session(conn, session_id=session_id)
        statements: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(db.engine.sync_engine, "before_cursor_execute", note)
        async with db.read() as conn:
            found = await store.existing_sessions(conn, session_ids=[*ids, IDS.new(), IDS.new()], per_query=2)
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)
        return found, set(ids[::2]), sum("sdk_sessions" in statement for statement in statements)

    found, expected, asked = with_database(empty_database_url, scenario)
    assert (expected, 4) == (found, asked)  # 7 ids, 2 a statement


def test_a_failed_check_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    """With the database unreachable (nothing listens on its port), each heartbeat's check fails: logged, the
    streams kept, and the loop goes on to the next heartbeat (here: stopped at the third)."""
    url = "postgresql+asyncpg://heliograph@127.0.0.1:1/unreachable"
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise asyncio.CancelledError

    async def scenario(db: Database) -> Any:
        hub = Hub()
        watch = hub.watch(["c1"], "u1", "s1")
        with pytest.raises(asyncio.CancelledError):
            await sessions.checking(hub, db, lambda: NOW, 25.0, wait)
        return watch.ended

    with caplog.at_level(logging.ERROR, "heliograph.realtime"):
        ended = with_database(url, scenario)
    assert (None, [25.0] * 3, 2) == (ended, waits, sum("sessions failed" in r.message for r in caplog.records))
