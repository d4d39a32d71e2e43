"""The transactional outbox (store/outbox.py): an event and its deliveries are written with the change, or not."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import outbox
from heliograph.store import tables as t
from heliograph.store.db import Database
from heliograph.store.tables import switchboard_integrations
from tests.factories import IDS, make_app, make_conversation, make_custom, make_switchboard, make_user
from tests.utils import with_database


class Rollback(Exception):
    pass


async def deliveries(conn: AsyncConnection, hooks: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(event type, webhook's integration name, lane, status) of each delivery, in the order they leave."""
    d, e = t.deliveries, t.events
    found = await conn.execute(sa.select(e.c.type, d.c.webhook_id, d.c.lane, d.c.status)
                               .join(e, e.c.id == d.c.event_id).order_by(d.c.seq))
    return [(row.type, hooks[row.webhook_id], row.lane, row.status) for row in found]


async def hooked(conn: AsyncConnection, app_id: str, **triggers: list[str]) -> dict[str, str]:
    """A custom integration per name, its one webhook subscribed to those triggers: names by webhook id."""
    made = {name: await make_custom(conn, app_id, name, triggers=kinds) for name, kinds in triggers.items()}
    return {integration["webhooks"][0]["id"]: name for name, integration in made.items()}


async def emit(conn: AsyncConnection, app_id: str, type: str, lane: str = "lane-1") -> str | None:
    return await outbox.emit(conn, ids=IDS, app_id=app_id, type=type, lane=lane, payload={"n": 1})


def test_an_event_has_one_delivery_per_subscribed_webhook(empty_database_url: str) -> None:
    """emit stores the event once, with a pending delivery for each webhook subscribed to its type only."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            hooks = await hooked(conn, app_id, a=["conversation:message"], b=["conversation:message", "user:remove"],
                                 c=["user:remove"])
            event_id = await emit(conn, app_id, "conversation:message")
        async with db.read() as conn:
            stored = (await conn.execute(sa.select(t.events.c.id, t.events.c.type, t.events.c.body))).all()
            return event_id, [(row.id, row.type, row.body["payload"]) for row in stored], await deliveries(conn, hooks)

    event_id, stored, sent = with_database(empty_database_url, scenario)
    assert ([(event_id, "conversation:message", {"n": 1})],
            [("conversation:message", "a", "lane-1", "pending"), ("conversation:message", "b", "lane-1", "pending")]) \
        == (stored, sent)


def test_an_event_nobody_listens_to_is_not_stored(empty_database_url: str) -> None:
    """Without a webhook subscribed to its type, emit stores nothing and answers None."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            await hooked(conn, app_id, a=["user:remove"])
            event_id = await emit(conn, app_id, "conversation:message")
            return event_id, await conn.scalar(sa.select(sa.func.count()).select_from(t.events))

    assert (None, 0) == with_database(empty_database_url, scenario)


def test_a_rolled_back_change_leaves_no_event(empty_database_url: str) -> None:
    """An event emitted in a transaction that rolls back is gone with it, deliveries included."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            hooks = await hooked(conn, app_id, a=["user:remove"])
        with pytest.raises(Rollback):
            async with db.write() as conn:
                await emit(conn, app_id, "user:remove")
                raise Rollback()
        async with db.write() as conn:
            await emit(conn, app_id, "user:remove", lane="after")
            return await deliveries(conn, hooks)

    assert [("user:remove", "a", "after", "pending")] == with_database(empty_database_url, scenario)


def test_standby_webhooks_hear_conversation_events_only_if_they_asked(empty_database_url: str) -> None:
    """With an enabled switchboard, a conversation:* event reaches the one in control and the standby members
    that deliver standby events; other events reach every subscribed webhook."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            triggers = ("conversation:message", "user:remove")
            members = await make_switchboard(conn, app_id, "bot", "agent", "observer", triggers=triggers)
            agent = switchboard_integrations.c.id == members["agent"]["id"]
            await conn.execute(switchboard_integrations.update().where(agent).values(deliver_standby_events=False))
            conversation = await make_conversation(conn, app_id, await make_user(conn, app_id))
            hooks = {row.id: name for name, member in members.items() for row in await conn.execute(
                sa.select(t.webhooks.c.id).where(t.webhooks.c.integration_id == member["integrationId"]))}
        async with db.write() as conn:
            await emit(conn, app_id, "conversation:message", lane=conversation["id"])
            await emit(conn, app_id, "user:remove", lane=conversation["id"])
            return sorted((kind, name) for kind, name, _, _ in await deliveries(conn, hooks))

    assert [("conversation:message", "bot"), ("conversation:message", "observer"), ("user:remove", "agent"),
            ("user:remove", "bot"), ("user:remove", "observer")] == with_database(empty_database_url, scenario)
