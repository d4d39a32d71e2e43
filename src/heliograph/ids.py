"""Ids, secrets and the clock: the only place they are made.

An id is 24 lowercase hex characters: 6 bytes of milliseconds since the epoch, then 3 bytes
fixed per process and a 3-byte counter. Ids made by one process are strictly increasing, and
sorting by id sorts by creation time, so an id is always a valid cursor.
"""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], int]  # milliseconds since the epoch


def system_clock() -> int:
    return time.time_ns() // 1_000_000


class IdFactory:
    """Makes time-ordered ids from an injectable clock."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock
        self._process = os.urandom(3).hex()
        self._counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
        self._lock = threading.Lock()
        self._last_ms = 0

    def new(self) -> str:
        """A fresh id whose first 12 hex digits are the creation time in milliseconds."""
        return self.new_at()[0]

    def new_at(self) -> tuple[str, int]:
        """A fresh id and the millisecond it encodes (used as the record's timestamp)."""
        with self._lock:
            count = next(self._counter) & 0xFFFFFF
            ms = max(self.clock(), self._last_ms + (count == 0))  # a wrapped counter moves on a millisecond
            self._last_ms = ms
        return f"{ms:012x}{self._process}{count:06x}", ms


def is_id(value: str) -> bool:
    return len(value) == 24 and all(c in "0123456789abcdef" for c in value)


def new_secret() -> str:
    """An API key secret: 64 random bytes, URL-safe base64 (86 characters, like the hosted service)."""
    return secrets.token_urlsafe(64)


def new_webhook_secret() -> str:
    """A webhook (or channel webhook) secret: 16 random bytes as 32 hex characters, like the spec's examples."""
    return secrets.token_hex(16)


def iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch as YYYY-MM-DDThh:mm:ss.SSSZ."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso(value: str) -> int:
    """YYYY-MM-DDThh:mm:ss(.sss)Z (or with an offset) as milliseconds since the epoch."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def new_media_token() -> str:
    """The unguessable part of an attachment's mediaUrl: 24 random bytes, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)
