"""The hub: which live streams watch which conversations, and waking them when one changes.

It holds no data. A commit's notices (`<conversation id>:<seq>`, store/fast.notice) reach it from this
process at once (Database.on_stream_commit) and from other processes through LISTEN (store/notify.py);
a woken stream reads what it lacks from the database after its own cursor, so a notice lost or heard
twice costs a query, never a message.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable


class Watch:
    """One stream's interest: its conversations, and which of them changed since it last looked."""

    def __init__(self, conversation_ids: Iterable[str]) -> None:
        self.conversation_ids = set(conversation_ids)
        self.changed: set[str] = set()
        self.event = asyncio.Event()

    def take(self) -> set[str]:
        """The conversations that changed since the last call; clears the wake-up."""
        changed, self.changed = self.changed, set()
        self.event.clear()
        return changed


class Hub:
    def __init__(self) -> None:
        self._watches: dict[str, set[Watch]] = defaultdict(set)

    def watch(self, conversation_ids: Iterable[str]) -> Watch:
        watch = Watch(conversation_ids)
        for conversation_id in watch.conversation_ids:
            self._watches[conversation_id].add(watch)
        return watch

    def unwatch(self, watch: Watch) -> None:
        for conversation_id in watch.conversation_ids:
            watchers = self._watches.get(conversation_id)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._watches[conversation_id]

    def heard_one(self, notice: str) -> None:
        self.heard((notice,))

    def wake_all(self) -> None:
        """Wake every stream (after the LISTEN connection was cut off: it may have missed notices)."""
        for conversation_id, watchers in self._watches.items():
            for watch in watchers:
                watch.changed.add(conversation_id)
                watch.event.set()

    def heard(self, notices: Iterable[str]) -> None:
        """Wake the streams watching the conversations these notices name."""
        for notice in notices:
            conversation_id = notice.partition(":")[0]
            for watch in self._watches.get(conversation_id, ()):
                watch.changed.add(conversation_id)
                watch.event.set()

    @property
    def watching(self) -> int:
        """How many conversations some stream watches (for tests and the console)."""
        return len(self._watches)
