"""Ids, timestamps and secrets (unit tests of heliograph.ids, with a fake clock)."""

from __future__ import annotations

import itertools

import pytest

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


def test_iso_pads_years_before_1000_to_four_digits() -> None:
    """The earliest and latest instants parse_iso takes are written YYYY-…: 0001 and 9999."""
    assert ("0001-01-01T00:00:00.000Z", "0999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z") == (
        iso(parse_iso("0001-01-01T00:00:00Z")), iso(parse_iso("0999-12-31T23:59:59.999Z")),
        iso(parse_iso("9999-12-31T23:59:59.999Z")))


@pytest.mark.parametrize(("written", "meant"), [
    ("2020-05-21T15:53:30.197Z", "2020-05-21T15:53:30.197Z"),  # the spec's example
    ("2020-05-21T15:53:30Z", "2020-05-21T15:53:30.000Z"),
    ("2020-05-21T17:53:30.197+02:00", "2020-05-21T15:53:30.197Z"),
    ("2020-05-21T10:23:30.197-05:30", "2020-05-21T15:53:30.197Z"),
    ("2020-05-21T15:53:30.197-00:00", "2020-05-21T15:53:30.197Z"),
    ("2020-05-21t15:53:30.197z", "2020-05-21T15:53:30.197Z"),  # RFC 3339 §5.6: T and Z in either case
    ("2020-05-21T15:53:30.1979999Z", "2020-05-21T15:53:30.197Z"),  # .NET's seven digits, cut to the millisecond
    ("2020-05-21T15:53:30.5Z", "2020-05-21T15:53:30.500Z"),
    ("1969-12-31T23:59:59.9995Z", "1969-12-31T23:59:59.999Z"),  # cut towards the past, not towards 1970
])
def test_parse_iso_takes_rfc_3339_date_times(written: str, meant: str) -> None:
    """Any RFC 3339 date-time is taken, to the millisecond, and written back in the spec's format."""
    assert meant == iso(parse_iso(written))


@pytest.mark.parametrize("written", [
    "yesterday", "", "2020-05-21", "2020-05-21T15:53:30", "2020-05-21 15:53:30Z", "2020-05-21T15:53Z",
    "2020-05-21T15:53:30,5Z", "2020-05-21T15:53:30.Z", "20200521T155330Z", "2020-05-21T15:53:30+0200",
    "2020-05-21T15:53:30+24:00", "2020-05-21T15:53:30+01:60", " 2020-05-21T15:53:30Z", "2020-05-21T15:53:30Z\n",
    "\u0662\u0660\u0662\u0660-05-21T15:53:30Z",  # Arabic-Indic digits
    "2020-02-30T00:00:00Z", "2020-05-21T24:00:00Z", "2016-12-31T23:59:60Z",  # no such day, hour, second
    "9999-12-31T23:59:59-00:01", "0001-01-01T00:00:00+00:01",  # years 10000 and 0 in UTC
])
def test_parse_iso_refuses_anything_else(written: str) -> None:
    """Dates without a time or an offset, other separators, impossible values and instants iso cannot write."""
    with pytest.raises(ValueError):
        parse_iso(written)


def test_secrets_are_long_and_distinct() -> None:
    """Secrets are 86 URL-safe characters, never repeated."""
    secrets = {new_secret() for _ in range(100)}
    assert 100 == len(secrets) and {86} == {len(s) for s in secrets}
