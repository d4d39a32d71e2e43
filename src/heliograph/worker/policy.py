"""The retry policy, as the spec states it: what to do after an attempt."""

from __future__ import annotations

import dataclasses

NON_RECOVERABLE = frozenset({400, 401, 403, 404, 406})  # "Sunshine Conversations will not reattempt"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one POST came to: a status code, or an error (refused, timed out …) and how long it took."""

    status_code: int | None
    latency_ms: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclasses.dataclass(frozen=True)
class Policy:
    delays: tuple[float, ...]  # seconds to wait before the 2nd, 3rd … attempt
    timeout: float

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_attempt_in(self, attempts_made: int, outcome: Outcome) -> float | None:
        """Seconds until the next attempt, or None when there is none (delivered, or given up)."""
        if outcome.succeeded or outcome.status_code in NON_RECOVERABLE:
            return None
        if attempts_made >= self.max_attempts:
            return None
        return self.delays[attempts_made - 1]
