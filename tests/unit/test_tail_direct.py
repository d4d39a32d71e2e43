"""An end user's stream written to at once (api/stream.Tail.direct): while it waits, the frame a commit of this
process hands it goes out through its writer with the cursor that includes it, if that frame comes right
after the stream's position; anything else is left to the stream, which reads in turn, and a seq it has
already is taken as nothing to do."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from heliograph.api.stream import Tail
from heliograph.auth import EndUser
from heliograph.realtime.hub import Hub
from heliograph.services.stream import decode_cursor

USER = EndUser(app_id="a", user_id="u", client_id="c", integration_id="i", session_id="s")


def tail_at(positions: dict[str, int]) -> Tail:
    """A stream of USER's at these positions, on a hub of its own."""
    hub = Hub()
    services: Any = SimpleNamespace(hub=hub, settings=SimpleNamespace(stream_heartbeat=25.0))
    return Tail(services, USER, hub.watch((), USER.user_id, USER.session_id), positions, recheck=False)


def test_the_next_frame_goes_out_at_once_and_anything_else_is_left_to_the_stream() -> None:
    async def scenario() -> tuple[list[bool], list[dict[str, Any]], dict[str, int]]:
        tail = tail_at({"c1": 4, "c2": 0})
        tail.pending.clear()  # as after its first read
        written: list[bytes] = []
        taking = [True]
        tail.writer = lambda data: taking[0] and not written.append(data)  # type: ignore[func-returns-value]
        frame = {"type": "message", "conversationId": "c1", "message": {"id": "m5"}}
        answers = [tail.direct("c1", 5, frame),  # next: written
                   tail.direct("c1", 5, None),  # its echo: nothing to do
                   tail.direct("c1", 7, frame),  # a gap (6 is missing): read
                   tail.direct("c1", 6, None),  # another process's notice: no frame, read
                   tail.direct("c3", 1, frame)]  # not a conversation of the stream's
        taking[0] = False
        answers.append(tail.direct("c1", 6, frame))  # the socket cannot take it now: read, position kept
        return answers, [json.loads(data) for data in written], tail.positions

    answers, written, positions = asyncio.run(scenario())
    assert [True, True, False, False, False, False] == answers
    assert 1 == len(written)
    assert ({"type": "message", "conversationId": "c1", "message": {"id": "m5"}}.items()
            <= written[0].items())
    assert {"c1": 5, "c2": 0} == decode_cursor(written[0]["cursor"]) == positions


def test_a_waiting_stream_pings_from_its_timer_without_waking() -> None:
    """The timer of a stream with a writer, waiting with nothing else to do: not quiet a heartbeat yet (a frame
    was written at once meanwhile), it is set again for then; quiet, the ping is written and the timer set a
    heartbeat on; either way the stream sleeps on. A socket that cannot take the ping wakes the stream, which
    sends it itself; so does anything else that woke it first."""
    async def scenario() -> list[tuple[list[bytes], bool, float | None]]:
        tail = tail_at({"c1": 0})
        tail.pending.clear()
        written: list[bytes] = []
        taking = [True]
        tail.writer = lambda data: taking[0] and not written.append(data)  # type: ignore[func-returns-value]
        tail.watch.direct = tail.direct  # as while it waits
        now = asyncio.get_running_loop().time()
        seen = []

        def ring(sent_ago: float) -> None:
            tail.sent_at = now - sent_ago
            tail._ring()
            timer = tail._timer
            due = None if timer is None else round(timer.when() - now)
            seen.append((list(written), tail.watch.event.is_set(), due))
            written.clear()
            if timer is not None:
                timer.cancel()

        ring(10)  # quiet for 10 s: set again for 15 s on
        ring(30)  # quiet for 30 s: ping, set again 25 s on
        taking[0] = False
        tail._timer = None
        ring(30)  # the socket cannot take it: woken
        taking[0] = True
        ring(30)  # already woken (here by the ring before): the stream sends the ping in turn
        return seen

    assert [([], False, 15), ([b'{"type":"ping"}'], False, 25), ([], True, None), ([], True, None)
            ] == asyncio.run(scenario())
