"""Settings read from the environment: HELIOGRAPH_RETENTION_INTERVAL."""

from __future__ import annotations

import pytest

from heliograph.config import Settings


def interval(value: str | None) -> float:
    env = {"HELIOGRAPH_DATA_DIR": "/tmp/heliograph-config-test"}
    if value is not None:
        env["HELIOGRAPH_RETENTION_INTERVAL"] = value
    return Settings.from_env(env).retention_interval


def test_the_retention_interval_defaults_to_a_minute_and_0_turns_the_job_off() -> None:
    assert [60.0, 60.0, 0.0, 0.25, 3600.0] == [interval(None), interval(""), interval("0"), interval("0.25"),
                                               interval("3600")]


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_a_retention_interval_that_is_no_number_of_seconds_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        interval(value)
