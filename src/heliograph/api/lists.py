"""List responses: records, then `meta` and `links` from the page that was read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from heliograph.api.http import Call
from heliograph.errors import BadRequest
from heliograph.pagination import Page, Window, envelope, query_object


def listing(call: Call, key: str, window: Window, page: Page,
            render: Callable[[Mapping[str, Any]], dict[str, Any]], *, newest_first: bool = False) -> dict[str, Any]:
    forward = page.after is not None or (page.before is None and not newest_first)
    body = {key: [render(r) for r in window.records]}
    body.update(envelope(window, page, call.base_url, call.query, forward=forward, sized=not newest_first))
    return body


def string_filter(call: Call, allowed: tuple[str, ...]) -> dict[str, str]:
    """The `filter` object of the query, with only the allowed keys and string values."""
    raw = query_object(call.query, "filter")
    for name, value in raw.items():
        if name not in allowed:
            raise BadRequest(f"Invalid filter: unknown filter[{name}]")
        if not isinstance(value, str):
            raise BadRequest(f"Invalid filter[{name}]: expected a string")
    return raw
