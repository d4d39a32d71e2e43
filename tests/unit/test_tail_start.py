"""An end user's stream as it starts (api/stream._tail): its watch is in the hub before its positions are read,
so a conversation the user joins while they are read (the widget starts its first conversation while its
socket is still being opened) is followed from its first message, not missed between the read and the watch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from heliograph.api import stream
from heliograph.auth import EndUser
from heliograph.realtime.hub import Hub

USER = EndUser(app_id="a", user_id="u", client_id="c", integration_id="i", session_id="s")
REPLY = {"type": "message", "conversationId": "c9", "message": {"id": "m1", "content": {"type": "text"}}}


def test_a_conversation_joined_while_the_positions_are_read_is_followed_from_its_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Hub()

    @contextlib.asynccontextmanager
    async def read() -> AsyncIterator[None]:
        yield None

    async def positions(*_: Any) -> dict[str, int]:  # read before the join commits; heard before it returns
        hub.heard(("@u:c9", "c9:1"))  # the user starts conversation c9, and the business answers in it
        return {"c1": 3}

    async def memberships(_: Any, *, user_id: str) -> set[str]:
        return {"c1", "c9"}

    async def read_after(_: Any, *, conversation_id: str, seq: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        return [(1, REPLY)] if (conversation_id, seq) == ("c9", 0) else []

    monkeypatch.setattr(stream, "_positions", positions)
    monkeypatch.setattr(stream.reading, "memberships", memberships)
    monkeypatch.setattr(stream.reading, "read_after", read_after)
    services: Any = SimpleNamespace(hub=hub, db=SimpleNamespace(read=read),
                                    settings=SimpleNamespace(stream_heartbeat=25.0))

    async def scenario() -> tuple[list[dict[str, Any]], set[str]]:
        async with stream._tail(services, USER, None) as tail:
            frames = await tail.read()
            hub.heard(("c9:2",))  # and what comes next in it wakes the stream
            return frames, set(tail.watch.take())

    frames, woken = asyncio.run(scenario())
    assert [("message", "m1")] == [(frame["type"], frame["message"]["id"]) for frame in frames]
    assert {"c1": 3, "c9": 1} == stream.reading.decode_cursor(frames[0]["cursor"])
    assert {"c9"} == woken
    assert not hub._by_user and not hub._watches  # unwatched on leaving
