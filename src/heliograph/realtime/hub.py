"""The hub: which live streams watch which conversations, and waking them when one changes.

It holds no data. A commit's notices (`<conversation id>:<seq>`, store/fast.notice) reach it from this
process at once (Database.on_stream_commit) and from other processes through LISTEN (store/notify.py);
a woken stream reads what it lacks from the database after its own cursor, so a notice lost or heard
twice costs a query, never a message. A user joining (`@<user id>:<conversation id>`) or leaving
(`-<user id>:<conversation id>`) a conversation makes their streams read which conversations are theirs
again: the notice only says when to look.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from typing import Any


class Watch:
    """One stream's interest: its conversations, and which of them changed since it last looked."""

    def __init__(self, conversation_ids: Iterable[str], user_id: str | None = None) -> None:
        self.user_id = user_id
        self.conversation_ids = set(conversation_ids)
        self.changed: set[str] = set()
        self.typing: list[dict[str, Any]] = []  # typing frames heard since it last looked (nothing stores them)
        self.left = False  # the user left one of its conversations (or it went) since it last looked
        self.event = asyncio.Event()

    def take(self) -> set[str]:
        """The conversations that changed since the last call; clears the wake-up."""
        changed, self.changed = self.changed, set()
        self.event.clear()
        return changed

    def take_typing(self) -> list[dict[str, Any]]:
        typing, self.typing = self.typing, []
        return typing

    def take_left(self) -> bool:
        """Whether the user left a conversation since the last call."""
        left, self.left = self.left, False
        return left


class Hub:
    def __init__(self) -> None:
        self._watches: dict[str, set[Watch]] = defaultdict(set)
        self._by_user: dict[str, set[Watch]] = defaultdict(set)
        self._typing_seen: OrderedDict[str, None] = OrderedDict()  # nonces of typing notices, newest last

    def watch(self, conversation_ids: Iterable[str], user_id: str | None = None) -> Watch:
        """A stream's watch over these conversations; with `user_id`, also over those the user joins."""
        watch = Watch(conversation_ids, user_id)
        for conversation_id in watch.conversation_ids:
            self._watches[conversation_id].add(watch)
        if user_id is not None:
            self._by_user[user_id].add(watch)
        return watch

    def unwatch(self, watch: Watch) -> None:
        if watch.user_id is not None:
            watchers = self._by_user.get(watch.user_id)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._by_user[watch.user_id]
        for conversation_id in watch.conversation_ids:
            self._drop(watch, conversation_id)

    def _drop(self, watch: Watch, conversation_id: str) -> None:
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
        """Wake the streams watching the conversations these notices name: `<id>:<seq>` for a new message,
        `<id>:typing:start|stop:<author type>:<user id>` for typing, which the stream sends as it is."""
        for notice in notices:
            if notice.startswith("@"):
                self._joined(*notice[1:].partition(":")[::2])
                continue
            if notice.startswith("-"):
                self._left(*notice[1:].partition(":")[::2])
                continue
            conversation_id, _, rest = notice.partition(":")
            typing = _typing_frame(conversation_id, rest) if rest.startswith("typing:") else None
            if typing is not None and self._repeated(rest):
                continue
            for watch in self._watches.get(conversation_id, ()):
                if typing is None:
                    watch.changed.add(conversation_id)
                else:
                    watch.typing.append(typing)
                watch.event.set()

    def _joined(self, user_id: str, conversation_id: str) -> None:
        """The user joined a conversation: their streams watch it from now on, from its first message."""
        for watch in self._by_user.get(user_id, ()):
            if conversation_id not in watch.conversation_ids:
                watch.conversation_ids.add(conversation_id)
                self._watches[conversation_id].add(watch)
            watch.changed.add(conversation_id)
            watch.event.set()

    def _left(self, user_id: str, conversation_id: str) -> None:
        """The user left the conversation (or it was deleted): their streams stop watching it, and look again
        at which conversations are theirs (a join heard twice cannot bring a conversation back unchecked)."""
        for watch in self._by_user.get(user_id, ()):
            watch.conversation_ids.discard(conversation_id)
            self._drop(watch, conversation_id)
            watch.left = True
            watch.event.set()

    def _repeated(self, typing_notice: str) -> bool:
        """Whether this typing notice was heard already (this process's own, heard again through NOTIFY)."""
        nonce = typing_notice.rpartition(":")[2]
        if nonce in self._typing_seen:
            return True
        self._typing_seen[nonce] = None
        if len(self._typing_seen) > 1000:
            self._typing_seen.popitem(last=False)
        return False


def _typing_frame(conversation_id: str, notice: str) -> dict[str, Any] | None:
    """The frame of a typing notice (`typing:start:user:<id>:<nonce>`), or None if it is not one."""
    parts = notice.split(":")
    if len(parts) != 5 or parts[1] not in ("start", "stop"):
        return None
    author: dict[str, Any] = {"type": parts[2]}
    if parts[3]:
        author["userId"] = parts[3]
    return {"type": f"typing:{parts[1]}", "conversationId": conversation_id, "author": author}
