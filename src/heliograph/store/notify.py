"""Cross-process wake-ups on PostgreSQL: one LISTEN connection per process, reconnecting when cut off.

The sending halves are the plans' NOTIFYs (store/fast.py): the outbox channel, which wakes the
webhook dispatchers, and the stream channel, whose payloads (`<conversation id>:<seq>`) wake the end
users' streams (realtime/hub.py). PostgreSQL delivers them only when the transaction commits. SQLite
has one process, woken directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Container
from typing import Any

import sqlalchemy as sa

log = logging.getLogger("heliograph.notify")


ECHO_SECONDS = 0.05  # how late this process's own NOTIFYs are heard back (it heard them at its commit)


class Listener:
    """The process's one LISTEN connection: each channel's handlers get its payloads, and `on_connect`
    callbacks run each time the connection is (re)made (what was committed meanwhile was not heard).

    A payload NOTIFYed by one of this process's own connections (`own`: their backend pids, see
    Database.backend_pids) was heard already, at its commit (Database.on_stream_commit, with what only this
    process has, such as a message's frame): its echo is heard ECHO_SECONDS late, as a safety net only,
    so that it does not overtake the commit's own notice."""

    def __init__(self, database_url: str, *, own: Container[int] = frozenset(),
                 echo_seconds: float = ECHO_SECONDS) -> None:
        self._url = sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._heard: dict[str, list[Callable[[str], None]]] = defaultdict(list)
        self._on_connect: list[Callable[[], None]] = []
        self._own, self._echo_seconds = own, echo_seconds

    def on(self, channel: str, heard: Callable[[str], None], *, on_connect: Callable[[], None]) -> None:
        """Listen to `channel` too (before `run`)."""
        self._heard[channel].append(heard)
        self._on_connect.append(on_connect)

    async def run(self) -> None:
        """Listen until cancelled."""
        import asyncpg  # PostgreSQL only: `heliograph serve` on SQLite never loads it

        while True:
            try:
                connection = await asyncpg.connect(self._url)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("cannot LISTEN for commits (%s); retrying", exc)
                await asyncio.sleep(1)
                continue
            try:
                await self._listen_until_closed(connection)
            finally:
                await connection.close()

    async def _listen_until_closed(self, connection: Any) -> None:
        closed = asyncio.Event()
        connection.add_termination_listener(lambda *_args: closed.set())
        for channel, handlers in self._heard.items():
            await connection.add_listener(channel, lambda _conn, pid, _channel, payload, handlers=handlers:
                                          self._dispatch(handlers, pid, payload))
        for callback in self._on_connect:
            callback()
        await closed.wait()

    def _dispatch(self, handlers: list[Callable[[str], None]], pid: int, payload: str) -> None:
        """Hand the payload to the channel's handlers: now, or ECHO_SECONDS late if this process sent it."""
        if pid in self._own:
            asyncio.get_running_loop().call_later(self._echo_seconds, _hear, handlers, payload)
        else:
            _hear(handlers, payload)


def _hear(handlers: list[Callable[[str], None]], payload: str) -> None:
    for heard in handlers:
        heard(payload)
