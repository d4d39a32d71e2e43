"""The hub's watches (realtime/hub.py): a notice of this process's commit hands its frame to the streams
watching the conversation, another process's (a plain payload) only wakes them; what a watch keeps is
bounded, and an ended session wakes its streams."""

from __future__ import annotations

import asyncio

from heliograph.realtime.hub import HANDED, Hub
from heliograph.store.fast import Notice


def test_a_commits_frame_is_handed_to_the_watches_of_its_conversation() -> None:
    """`c1:3` with its frame: both watches of c1 keep it under seq 3 and are woken; the watch of c2 is not."""
    async def scenario() -> object:
        hub = Hub()
        first, second, elsewhere = hub.watch(["c1"]), hub.watch(["c1", "c2"]), hub.watch(["c2"])
        hub.heard([Notice.of("c1:3", {"type": "message"})])
        return [(w.event.is_set(), w.take(), w.take_handed()) for w in (first, second, elsewhere)]

    handed = (True, {"c1": 3}, {"c1": {3: {"type": "message"}}})
    assert [handed, handed, (False, {}, {})] == asyncio.run(scenario())


def test_a_notice_without_a_frame_or_a_seq_only_wakes() -> None:
    """Another process's `c1:4` (through NOTIFY: no frame) notes seq 4 and hands nothing; a wake without a seq
    (LISTEN remade) makes the highest seq unknown (None: the stream reads) until the next look."""
    async def scenario() -> object:
        hub = Hub()
        watch = hub.watch(["c1"])
        hub.heard(["c1:4"])
        plain = (watch.take(), watch.take_handed())
        hub.heard(["c1:5"])
        hub.wake_all()
        hub.heard(["c1:6"])
        return plain, watch.take()

    assert (({"c1": 4}, {}), {"c1": None}) == asyncio.run(scenario())


def test_a_watch_keeps_at_most_HANDED_frames_a_conversation_between_two_looks() -> None:
    """Past HANDED frames, the next ones are noted (their seq) but not kept: the stream reads them."""
    async def scenario() -> object:
        hub = Hub()
        watch = hub.watch(["c1"])
        hub.heard([Notice.of(f"c1:{seq}", {"seq": seq}) for seq in range(1, HANDED + 3)])
        return watch.take(), sorted(watch.take_handed()["c1"])

    assert ({"c1": HANDED + 2}, list(range(1, HANDED + 1))) == asyncio.run(scenario())


def test_ending_a_session_ends_and_wakes_its_watches_only() -> None:
    """end_sessions: the watches of that session get the reason and are woken; another session's are not, and
    an unwatched stream's session is forgotten."""
    async def scenario() -> object:
        hub = Hub()
        ours, theirs = hub.watch(["c1"], "u1", "s1"), hub.watch(["c2"], "u2", "s2", expires_at=5)
        gone = hub.watch(["c3"], "u3", "s3")
        hub.unwatch(gone)
        sessions = hub.sessions()
        hub.end_sessions(["s1"], "The session has ended")
        return sessions, [(w.ended, w.event.is_set()) for w in (ours, theirs)]

    assert ({"s1": None, "s2": 5}, [("The session has ended", True), (None, False)]) == asyncio.run(scenario())


def test_a_session_ended_notice_ends_that_sessions_watches_or_all_the_users() -> None:
    """`~u1:s1:<reason>` ends u1's watches of session s1 (the reason may hold colons), not u1's other session
    nor u2's; `~u1::<reason>` ends all of u1's, each with that reason."""
    async def scenario() -> object:
        hub = Hub()
        s1, s2, other = hub.watch(["c1"], "u1", "s1"), hub.watch(["c1"], "u1", "s2"), hub.watch(["c1"], "u2", "s3")
        hub.heard(["~u1:s1:Ended: logged out"])
        first = [(w.ended, w.event.is_set()) for w in (s1, s2, other)]
        hub.heard(["~u1::Ended: deleted"])
        return first, [w.ended for w in (s1, s2, other)]

    assert ([("Ended: logged out", True), (None, False), (None, False)],
            ["Ended: deleted", "Ended: deleted", None]) == asyncio.run(scenario())


def test_what_the_ending_change_says_replaces_what_the_heartbeats_check_found() -> None:
    """The check found the session gone before its notice came (another process's commit, seen first): the
    notice's reason replaces the check's, and a later check does not put its own back."""
    async def scenario() -> object:
        hub = Hub()
        watch = hub.watch(["c1"], "u1", "s1")
        hub.end_sessions(["s1"], "The session has ended")
        hub.heard(["~u1:s1:The session has ended: logged out"])
        hub.end_sessions(["s1"], "The session has ended")
        return watch.ended

    assert "The session has ended: logged out" == asyncio.run(scenario())


def test_a_waiting_streams_direct_takes_a_change_without_waking_it() -> None:
    """While a watch has `direct` (its stream waits with nothing to send), a change it takes neither wakes the
    watch nor stays in it; one it declines wakes it as before, with the frame kept; once the watch is woken,
    later changes are not offered to `direct` (the stream sends them in turn, after what woke it)."""
    async def scenario() -> object:
        hub = Hub()
        watch = hub.watch(["c1"])
        offered: list[tuple[str, int, object]] = []

        def direct(conversation_id: str, seq: int, frame: object) -> bool:
            offered.append((conversation_id, seq, frame))
            return seq != 3

        watch.direct = direct
        hub.heard([Notice.of("c1:2", {"seq": 2}), "c1:2"])  # taken: a frame, then its echo through LISTEN
        taken = (watch.event.is_set(), dict(watch.changed), dict(watch.handed))
        hub.heard([Notice.of("c1:3", {"seq": 3}), Notice.of("c1:4", {"seq": 4})])  # 3 declined: 4 not offered
        return offered, taken, watch.take(), watch.take_handed()

    offered, taken, changed, handed = asyncio.run(scenario())  # type: ignore[misc]
    assert [("c1", 2, {"seq": 2}), ("c1", 2, None), ("c1", 3, {"seq": 3})] == offered
    assert (False, {}, {}) == taken
    assert ({"c1": 4}, {"c1": {3: {"seq": 3}, 4: {"seq": 4}}}) == (changed, handed)
