"""Ids, timestamps and secrets (unit tests of heliograph.ids, with a fake clock)."""

from __future__ import annotations

import itertools

from heliograph.ids import IdFactory, is_id, iso, new_secret, parse_iso


def test_ids_are_24_lowercase_hex_and_strictly_increasing() -> None:
    """Ids from one factory sort in creation order, even within one millisecond."""
    ids = IdFactory(clock=lambda: 1_700_000_000_000)
    made = [ids.new() for _ in range(1000)]
    assert all(is_id(i) for i in made)
    assert made == sorted(made) and len(set(made)) == 1000


def test_ids_stay_increasing_when_the_counter_wraps_within_a_millisecond() -> None:
    """The 3-byte counter starts anywhere: when it wraps to 0, the id moves on a millisecond
    rather than sorting before the ids just made (a bulk of ids, such as 29,000 seeded messages, can cross it)."""
    ids = IdFactory(clock=lambda: 1_700_000_000_000)
    ids._counter = itertools.count(0xFFFFFE)  # where a random start may land
    made = [ids.new() for _ in range(4)]
    assert made == sorted(made)


def test_ids_never_go_back_when_the_clock_does() -> None:
    """A clock stepping backwards does not make an id sort before an earlier one."""
    ticks = iter([2_000, 1_000])
    ids = IdFactory(clock=lambda: next(ticks))
    first, second = ids.new(), ids.new()
    assert first < second


def test_id_encodes_its_timestamp() -> None:
    """The timestamp an id carries is the one returned beside it."""
    new_id, ms = IdFactory(clock=lambda: 1_600_000_000_123).new_at()
    assert (1_600_000_000_123, 1_600_000_000_123) == (ms, int(new_id[:12], 16))


def test_iso_format_has_milliseconds_and_z() -> None:
    """Timestamps are YYYY-MM-DDThh:mm:ss.SSSZ and parse back to the same instant."""
    assert "2020-09-30T13:46:02.733Z" == iso(1601473562733)
    assert 1601473562733 == parse_iso("2020-09-30T13:46:02.733Z")


def test_secrets_are_long_and_distinct() -> None:
    """Secrets are 86 URL-safe characters, never repeated."""
    secrets = {new_secret() for _ in range(100)}
    assert 100 == len(secrets) and {86} == {len(s) for s in secrets}
