"""What the fakes of the channels' APIs share: their records (what was sent, every call), the faults a test or a
developer sets, and the requests they make for Heliograph's inbound route."""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Sent:
    """A message sent through a fake: by whom (a bot's token, an account's SID), with which call, its body, and
    the id the fake gave it."""

    owner: str
    method: str
    body: dict[str, Any]
    message_id: str
    at: float = 0.0  # when (the fake's clock, seconds)


@dataclasses.dataclass(frozen=True)
class Called:
    """A call a fake answered: whose, which method, with what status, when (the fake's clock, seconds)."""

    owner: str
    method: str
    status: int
    at: float


@dataclasses.dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None
    times: int
    after: int  # calls of the method let through first


@dataclasses.dataclass(frozen=True)
class Delivery:
    """A channel's request for Heliograph's inbound route: where to POST it, its headers, its body."""

    url: str
    headers: dict[str, str]
    body: bytes


class Records:
    """A fake's records and faults, under one lock; `wait_sent` wakes when a message is recorded."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.calls: list[Called] = []  # every call, answered or refused
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._faults: dict[str, list[Fault]] = defaultdict(list)

    def fault(self, method: str) -> Fault | None:
        """The fault the next call of `method` meets, if any (the caller holds the lock)."""
        faults = self._faults.get(method)
        if not faults:
            return None
        fault = faults[0]
        if fault.after > 0:
            fault.after -= 1
            return None
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        return fault

    def fail(self, method: str, fault: Fault) -> None:
        with self.lock:
            self._faults[method].append(fault)

    def record(self, sent: Sent) -> None:
        """A message sent (the caller holds the lock)."""
        self.sent.append(sent)
        self.changed.notify_all()

    def called(self, call: Called) -> None:
        with self.lock:
            self.calls.append(call)

    def sent_by(self, owner: str) -> list[Sent]:
        """The messages sent by `owner`, oldest first."""
        with self.lock:
            return [sent for sent in self.sent if sent.owner == owner]

    def wait_sent(self, owner: str, count: int, timeout: float = 10.0) -> list[Sent]:
        """The messages `owner` sent, once there are at least `count` (AssertionError after `timeout` s)."""
        mine: Callable[[], list[Sent]] = lambda: [sent for sent in self.sent if sent.owner == owner]  # noqa: E731
        with self.changed:
            if not self.changed.wait_for(lambda: len(mine()) >= count, timeout):
                raise AssertionError(f"{len(mine())} messages sent by {owner} to the fake, not {count}")
            return mine()


class FakeApi:
    """What every fake offers a test or the simulator: faults to set, and the messages it recorded, by owner (a
    bot's token, an account's SID, a number's or a Page's id)."""

    records: Records

    def fail(self, method: str, status: int, *, retry_after: int | None = None, times: int = 1, after: int = 0,
             description: str | None = None) -> None:
        """`times` calls of `method` fail with `status` (and `retry_after`, for a 429), once `after` more calls of
        it went through; faults set one after the other take their turns."""
        said = description or self.describe(status, retry_after)
        self.records.fail(method, Fault(status, said, retry_after, times, after))

    def describe(self, status: int, retry_after: int | None) -> str:
        return f"Error {status}"

    def sent_by(self, owner: str) -> list[Sent]:
        """The messages `owner` sent, oldest first."""
        return self.records.sent_by(owner)

    def wait_sent(self, owner: str, count: int, timeout: float = 10.0) -> list[Sent]:
        """The messages `owner` sent, once there are at least `count` (AssertionError after `timeout` s)."""
        return self.records.wait_sent(owner, count, timeout)


class GraphFake(FakeApi):
    """A fake of Meta's Graph API: a call on a node (a Page, a phone number, an account, an app) with a token,
    answered by `answer` and recorded."""

    clock: Callable[[], float]

    def call(self, method: str, http_method: str, node: str, token: str | None, body: dict[str, Any]
             ) -> tuple[int, dict[str, Any]]:
        status, answer = self.answer(method, http_method, node, token, body)
        self.records.called(Called(node, method, status, self.clock()))
        return status, answer

    def answer(self, method: str, http_method: str, node: str, token: str | None, body: dict[str, Any]
               ) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError
