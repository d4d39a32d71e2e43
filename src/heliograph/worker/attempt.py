"""One delivery attempt: POST a webhook payload and describe what happened. Never raises (but cancels)."""

from __future__ import annotations

import time
from typing import Any, Protocol

import msgspec

from heliograph.worker.policy import Outcome

_encode = msgspec.json.Encoder().encode


class Poster(Protocol):
    """What an attempt needs of its HTTP client (worker/http.Client, or a test's fake): a POST's status code.

    TimeoutError when no whole response came within `timeout` seconds; any other exception is a failed
    connection, described in the attempt's error.
    """

    async def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> int: ...


async def attempt(client: Poster, *, target: str, secret: str, payload: dict[str, Any],
                  timeout: float) -> Outcome:
    """POST `payload` to `target` with the webhook's secret in X-API-Key, within `timeout` seconds."""
    started = time.perf_counter()
    try:
        status = await client.post(target, content=_encode(payload), timeout=timeout, headers={
            "content-type": "application/json", "x-api-key": secret})
    except TimeoutError:
        return Outcome(None, _since(started), f"no response within {timeout:g} s")
    except Exception as exc:  # refused, reset, unknown host, TLS, not HTTP … (worker/http.py)
        return Outcome(None, _since(started), f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return Outcome(status, _since(started), None if 200 <= status < 300 else f"HTTP {status}")


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
