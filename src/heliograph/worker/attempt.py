"""One delivery attempt: POST a webhook payload and describe what happened. Never raises (but cancels)."""

from __future__ import annotations

import time
from typing import Any, Protocol

import msgspec

from heliograph.worker.policy import Outcome

_encode = msgspec.json.Encoder().encode


class Poster(Protocol):
    """What an attempt needs of its HTTP client: an httpx.AsyncClient, or runner.LazyClient."""

    async def post(self, url: str, *, content: bytes, timeout: float, headers: dict[str, str]) -> Any: ...


async def attempt(client: Poster, *, target: str, secret: str, payload: dict[str, Any],
                  timeout: float) -> Outcome:
    """POST `payload` to `target` with the webhook's secret in X-API-Key, within `timeout` seconds."""
    import httpx  # loaded by the client's first use already; not at import, which a cold start pays

    started = time.perf_counter()
    try:
        response = await client.post(target, content=_encode(payload), timeout=timeout, headers={
            "content-type": "application/json", "x-api-key": secret})
    except httpx.TimeoutException:
        return Outcome(None, _since(started), f"no response within {timeout:g} s")
    except Exception as exc:  # httpx errors, and anything its transport lets slip (seen: anyio on a closing peer)
        return Outcome(None, _since(started), f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return Outcome(response.status_code, _since(started),
                   None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}")


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
