"""HELIOGRAPH_WEBHOOK_BATCH: events per webhook POST, one by default as the hosted service sends them."""

from __future__ import annotations

import pytest

from heliograph.config import Settings


def batch(value: str | None) -> int:
    env = {"HELIOGRAPH_DATA_DIR": "/tmp/heliograph-config-test"}
    if value is not None:
        env["HELIOGRAPH_WEBHOOK_BATCH"] = value
    return Settings.from_env(env).webhook_batch


def test_one_event_per_post_unless_told_otherwise() -> None:
    assert [1, 1, 1, 2, 250] == [batch(None), batch(""), batch("1"), batch("2"), batch("250")]


@pytest.mark.parametrize("value", ["0", "251", "-1", "2.5", "many"])
def test_a_batch_that_is_not_1_to_250_is_refused_at_startup(value: str) -> None:
    with pytest.raises(ValueError, match="HELIOGRAPH_WEBHOOK_BATCH must be a whole number .* from 1 to 250"):
        batch(value)
