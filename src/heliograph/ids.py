"""Ids, secrets and the clock: the only place they are made.

An id is 24 lowercase hex characters: 6 bytes of milliseconds since the epoch, then 3 bytes
fixed per process and a 3-byte counter. Ids made by one process are strictly increasing, and
sorting by id sorts by creation time, so an id is always a valid cursor.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_EARLIEST, _LATEST = ((moment.replace(tzinfo=UTC) - _EPOCH) // _MS for moment in (datetime.min, datetime.max))
_RFC3339 = re.compile(  # RFC 3339's date-time: full-date "T" partial-time time-offset ("T" and "Z" in either case)
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)", re.ASCII)


def iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch as YYYY-MM-DDThh:mm:ss.SSSZ (the year padded: strftime's %Y is not)."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{ms % 1000:03d}Z")


def parse_iso(value: str) -> int:
    """An RFC 3339 date-time as milliseconds since the epoch; digits past the millisecond are dropped.

    ValueError for anything else, for a date or time that does not exist (a leap second included),
    and for an instant outside the years 0001-9999 in UTC, which `iso` could not write.
    """
    if not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time")
    moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1] in "Zz" else value)
    ms = (moment - _EPOCH) // _MS
    if not _EARLIEST <= ms <= _LATEST:
        raise ValueError("outside the years 0001-9999")
    return ms


def new_media_token() -> str:
    """The unguessable part of an attachment's mediaUrl: 24 random bytes, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)
