"""Fakes that the code under test takes in place of the real thing: a clock that moves only when told."""

from __future__ import annotations

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z, in epoch milliseconds


class FakeClock:
    """Epoch milliseconds, as `IdFactory`, the dispatcher and the OAuth services read them; never moves alone."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)
