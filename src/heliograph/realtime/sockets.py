"""App sockets (socket mode, docs/socket-mode.md): which sockets serve which webhook, woken when its
deliveries change, and told when a newer socket took their webhook over.

Like the hub it holds no data. The notices come from this process's commits at once
(Database.on_stream_commit) and from other processes through LISTEN (store/notify.py): `!<webhook id>`
after a commit that held a delivery for the webhook, `!<webhook id>:<token>` when a socket with that
token attached to it. Tokens are ids (ids.IdFactory), which sort by the time they were made, so of two
sockets of one webhook the one that attached later wins, in whichever order their notices arrive. A
woken socket reads what waits for it from the database, so a notice lost or heard twice costs a query
(and sockets look again every few seconds anyway), never an event.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable

PREFIX = "!"  # store.deliveries.socket_notice


class AppSocket:
    """One connected socket of a webhook: woken by its `event`; `replaced` once a newer one attached."""

    def __init__(self, webhook_id: str, token: str) -> None:
        self.webhook_id, self.token = webhook_id, token
        self.replaced = False
        self.event = asyncio.Event()


class Sockets:
    def __init__(self) -> None:
        self._by_webhook: dict[str, set[AppSocket]] = defaultdict(set)

    def attach(self, webhook_id: str, token: str) -> AppSocket:
        """A socket for the webhook, known by `token` (a newer token replaces it when heard)."""
        socket = AppSocket(webhook_id, token)
        self._by_webhook[webhook_id].add(socket)
        return socket

    def detach(self, socket: AppSocket) -> None:
        sockets = self._by_webhook.get(socket.webhook_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._by_webhook[socket.webhook_id]

    def heard_one(self, notice: str) -> None:
        self.heard((notice,))

    def heard(self, notices: Iterable[str]) -> None:
        """Wake the sockets of the webhooks these notices name; with a token, mark older sockets replaced.
        Notices of the end users' streams (without the prefix) are not for these sockets."""
        for notice in notices:
            if not notice.startswith(PREFIX):
                continue
            webhook_id, _, token = notice[len(PREFIX):].partition(":")
            for socket in self._by_webhook.get(webhook_id, ()):
                if token > socket.token:
                    socket.replaced = True
                socket.event.set()

    def wake_all(self) -> None:
        """Wake every socket (after the LISTEN connection was cut off: it may have missed notices)."""
        for sockets in self._by_webhook.values():
            for socket in sockets:
                socket.event.set()

    def __len__(self) -> int:
        return sum(len(sockets) for sockets in self._by_webhook.values())
