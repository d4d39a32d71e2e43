"""The hub: which live streams watch which conversations, and waking them when one changes.

It holds no data of its own. A commit's notices (`<conversation id>:<seq>`, store/fast.notice) reach it from
this process at once (Database.on_stream_commit) and from other processes through LISTEN (store/notify.py);
a woken stream reads what it lacks from the database after its own cursor, so a notice lost or heard
twice costs a query, never a message. A message committed in this process comes with its frame
(store/fast.Notice), which a watch keeps until its stream looks: a stream whose position in the
conversation is just before it sends it without a read (api/stream.Tail), and one that waits with nothing
else to send writes it at once, from the commit's own call, without being woken (`Watch.direct`); any
other reads. A user joining (`@<user id>:<conversation id>`) or leaving (`-<user id>:<conversation id>`) a
conversation makes their streams read which conversations are theirs again: the notice only says when to
look.

Each watch of an end user's stream also names the session it was opened with: when that session ends, the
watch is ended, with the reason, and woken, and its stream closes. The transaction that ends it (a logout, a
login handing the anonymous user over, a merge, DeleteUser) leaves the notice `~<user id>:<session id>:<reason>`
(no session id: all the user's sessions), heard at its commit in every process; realtime/sessions.py also
checks all of them together once a heartbeat, which catches what no notice names (an expired user JWT, a
session gone with its app).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

HANDED = 64  # frames a watch keeps per conversation between two looks; past that, its stream reads them
_USER_NOTICES = frozenset("@-~")  # a user joined (@) or left (-) a conversation, or a session of theirs ended (~)


class Watch:
    """One stream's interest: its conversations, and which of them changed since it last looked."""

    def __init__(self, conversation_ids: Iterable[str], user_id: str | None = None, session_id: str | None = None,
                 expires_at: int | None = None) -> None:
        self.user_id, self.session_id, self.expires_at = user_id, session_id, expires_at
        self.conversation_ids = set(conversation_ids)
        self.changed: dict[str, int | None] = {}  # conversation -> the highest seq heard; None: look anyway
        self.handed: dict[str, dict[int, Any]] = {}  # conversation -> seq -> the frame this process committed
        self.typing: list[dict[str, Any]] = []  # typing frames heard since it last looked (nothing stores them)
        self.left = False  # the user left one of its conversations (or it went) since it last looked
        self.ended: str | None = None  # why its session ended, once it has: the stream closes (401)
        self.event = asyncio.Event()
        # While its stream waits with nothing to send: takes a change itself if it can (True; `change`)
        self.direct: Callable[[str, int, Any], bool] | None = None

    def end(self, reason: str) -> None:
        """The stream's session has ended: wake it to close, with `reason`."""
        self.ended = reason
        self.event.set()

    def change(self, conversation_id: str, seq: int | None = None, frame: Any = None) -> None:
        """The conversation changed: up to `seq` (None: unknown, the stream reads), with the frame of that
        seq if this process's commit handed it (at most HANDED per conversation between two looks). While
        nothing else wakes the stream, its `direct` may take the change itself: a seq it has, or a handed
        frame it sends at once."""
        if (seq is not None and self.direct is not None and not self.event.is_set()
                and self.direct(conversation_id, seq, frame)):
            return
        heard = self.changed.get(conversation_id, seq)
        self.changed[conversation_id] = None if heard is None or seq is None else max(heard, seq)
        if frame is not None and seq is not None:
            handed = self.handed.setdefault(conversation_id, {})
            if len(handed) < HANDED:
                handed[seq] = frame
        self.event.set()

    def take(self) -> dict[str, int | None]:
        """The conversations that changed since the last call, each with the highest seq heard (None if
        unknown); clears the wake-up."""
        changed, self.changed = self.changed, {}
        self.event.clear()
        return changed

    def take_handed(self) -> dict[str, dict[int, Any]]:
        """The frames handed since the last call (`change`), by conversation and seq."""
        handed, self.handed = self.handed, {}
        return handed

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
        self._by_session: dict[str, set[Watch]] = defaultdict(set)
        self._typing_seen: OrderedDict[str, None] = OrderedDict()  # nonces of typing notices, newest last

    def watch(self, conversation_ids: Iterable[str], user_id: str | None = None, session_id: str | None = None,
              expires_at: int | None = None) -> Watch:
        """A stream's watch over these conversations; with `user_id`, also over those the user joins; with
        `session_id`, ended when that session ends, or when it expires at `expires_at` (ms) if it does
        (`sessions`, `end_sessions`)."""
        watch = Watch((), user_id, session_id, expires_at)
        self.follow(watch, conversation_ids)
        if user_id is not None:
            self._by_user[user_id].add(watch)
        if session_id is not None:
            self._by_session[session_id].add(watch)
        return watch

    def follow(self, watch: Watch, conversation_ids: Iterable[str]) -> None:
        """The watch also watches these conversations."""
        for conversation_id in conversation_ids:
            if conversation_id not in watch.conversation_ids:
                watch.conversation_ids.add(conversation_id)
                self._watches[conversation_id].add(watch)

    def unwatch(self, watch: Watch) -> None:
        if watch.user_id is not None:
            _discard(self._by_user, watch.user_id, watch)
        if watch.session_id is not None:
            _discard(self._by_session, watch.session_id, watch)
        for conversation_id in watch.conversation_ids:
            _discard(self._watches, conversation_id, watch)

    def sessions(self) -> dict[str, int | None]:
        """The sessions of the streams open now, each with when it expires (ms), if it does."""
        return {session_id: next(iter(watches)).expires_at for session_id, watches in self._by_session.items()}

    def end_sessions(self, session_ids: Iterable[str], reason: str) -> None:
        """These sessions were found ended (the heartbeat's check): their streams close (401, with `reason`),
        unless the change that ended them said why already."""
        for session_id in session_ids:
            for watch in self._by_session.get(session_id, ()):
                if watch.ended is None:
                    watch.end(reason)

    def heard_one(self, notice: str) -> None:
        self.heard((notice,))

    def wake_all(self) -> None:
        """Wake every stream (after the LISTEN connection was cut off: it may have missed notices)."""
        for conversation_id, watchers in self._watches.items():
            for watch in watchers:
                watch.change(conversation_id)

    def heard(self, notices: Iterable[str]) -> None:
        """Wake the streams watching the conversations these notices name: `<id>:<seq>` for a new message or
        event (from this process's commits, a message's with its frame: store/fast.Notice), `<id>:typing:
        start|stop:<author type>:<user id>` for typing, which the stream sends as it is."""
        for notice in notices:
            sign = notice[:1]
            if sign in _USER_NOTICES:  # (a message's notice starts with its conversation's id: one test)
                first, _, rest = notice[1:].partition(":")
                if sign == "@":
                    self._joined(first, rest)
                elif sign == "-":
                    self._left(first, rest)
                else:
                    self._ended(first, *rest.partition(":")[::2])
                continue
            conversation_id, _, rest = notice.partition(":")
            if rest.isdigit():
                seq, frame = int(rest), getattr(notice, "frame", None)
                for watch in self._watches.get(conversation_id, ()):
                    watch.change(conversation_id, seq, frame)
                continue
            typing = _typing_frame(conversation_id, rest) if rest.startswith("typing:") else None
            if typing is not None and self._repeated(rest):
                continue
            for watch in self._watches.get(conversation_id, ()):
                if typing is None:
                    watch.change(conversation_id)
                else:
                    watch.typing.append(typing)
                    watch.event.set()

    def _joined(self, user_id: str, conversation_id: str) -> None:
        """The user joined a conversation: their streams watch it from now on, from its first message."""
        for watch in self._by_user.get(user_id, ()):
            self.follow(watch, (conversation_id,))
            watch.change(conversation_id)

    def _ended(self, user_id: str, session_id: str, reason: str) -> None:
        """The user's session (none named: every session of theirs) has ended: its streams close, with the
        reason the change that ended it gave."""
        for watch in self._by_session.get(session_id, ()) if session_id else self._by_user.get(user_id, ()):
            watch.end(reason)

    def _left(self, user_id: str, conversation_id: str) -> None:
        """The user left the conversation (or it was deleted): their streams stop watching it, and look again
        at which conversations are theirs (a join heard twice cannot bring a conversation back unchecked)."""
        for watch in self._by_user.get(user_id, ()):
            watch.conversation_ids.discard(conversation_id)
            _discard(self._watches, conversation_id, watch)
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


def _discard(index: dict[str, set[Watch]], key: str, watch: Watch) -> None:
    """Take the watch out of the index's set under `key`, and the set out of the index once it is empty."""
    watchers = index.get(key)
    if watchers is not None:
        watchers.discard(watch)
        if not watchers:
            del index[key]


def _typing_frame(conversation_id: str, notice: str) -> dict[str, Any] | None:
    """The frame of a typing notice (`typing:start:user:<id>:<nonce>`), or None if it is not one."""
    parts = notice.split(":")
    if len(parts) != 5 or parts[1] not in ("start", "stop"):
        return None
    author: dict[str, Any] = {"type": parts[2]}
    if parts[3]:
        author["userId"] = parts[3]
    return {"type": f"typing:{parts[1]}", "conversationId": conversation_id, "author": author}
