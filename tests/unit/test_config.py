"""Settings read from the environment: HELIOGRAPH_RETENTION_INTERVAL and HELIOGRAPH_WEBHOOK_BATCH."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.config import Settings


def setting(variable: str, value: str | None, field: str) -> Any:
    """Settings.`field` when the environment sets `variable` to `value` (None: not at all)."""
    env = {"HELIOGRAPH_DATA_DIR": "/tmp/heliograph-config-test"}
    if value is not None:
        env[variable] = value
    return getattr(Settings.from_env(env), field)


def interval(value: str | None) -> float:
    return float(setting("HELIOGRAPH_RETENTION_INTERVAL", value, "retention_interval"))


def batch(value: str | None) -> int:
    return int(setting("HELIOGRAPH_WEBHOOK_BATCH", value, "webhook_batch"))


def test_the_retention_interval_defaults_to_a_minute_and_0_turns_the_job_off() -> None:
    assert [60.0, 60.0, 0.0, 0.25, 3600.0] == [interval(None), interval(""), interval("0"), interval("0.25"),
                                               interval("3600")]


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_a_retention_interval_that_is_no_number_of_seconds_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        interval(value)


def test_one_event_per_webhook_post_unless_told_otherwise() -> None:
    """HELIOGRAPH_WEBHOOK_BATCH: one event per POST by default, as the hosted service sends them."""
    assert [1, 1, 1, 2, 250] == [batch(None), batch(""), batch("1"), batch("2"), batch("250")]


@pytest.mark.parametrize("value", ["0", "251", "-1", "2.5", "many"])
def test_a_batch_that_is_not_1_to_250_is_refused_at_startup(value: str) -> None:
    with pytest.raises(ValueError, match="HELIOGRAPH_WEBHOOK_BATCH must be a whole number .* from 1 to 250"):
        batch(value)
