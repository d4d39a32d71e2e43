"""Delivery across processes for tests: their account key, quick retries, stored and arrived events, the CLI."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.store import tables as t
from tests.servers import Process, run_cli
from tests.utils import in_database

KEY = ("act_" + secrets.token_hex(12), secrets.token_urlsafe(32))  # the account key of the processes started here
QUICK_RETRIES = {"HELIOGRAPH_WEBHOOK_RETRY_DELAYS": ",".join(["1"] * 10), "HELIOGRAPH_WEBHOOK_TIMEOUT": "2"}


def client(process: Process) -> sc.ApiClient:
    """The official SDK on the process, with the account key `KEY`."""
    return sc.ApiClient(sc.Configuration(host=process.base_url, username=KEY[0], password=KEY[1]))


def stored_event_ids(database_url: str) -> list[str]:
    """The ids of the conversation:message events in the outbox, in id order."""
    return [row.id for row in in_database(database_url, sa.select(t.events.c.id).where(
        t.events.c.type == "conversation:message").order_by(t.events.c.id))]


def message_ids(events: list[dict[str, Any]]) -> list[str]:
    """Message ids in order of first arrival (a redelivery may repeat one)."""
    seen: dict[str, None] = {}
    for event in events:
        seen.setdefault(event["payload"]["message"]["id"], None)
    return list(seen)


def cli(database_url: str, *args: str) -> str:
    """Run `heliograph deliveries …` against the database; its standard output."""
    result = run_cli(database_url, "deliveries", *args)
    assert 0 == result.returncode, result.stderr
    return result.stdout
