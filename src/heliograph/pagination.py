"""Cursor pages: read `page`/`filter` in both query styles, write `meta` and `links`.

The docs and the JS SDK send `page[after]=…&page[size]=10`; the official Python SDK sends the
whole object as JSON, `page={"after": "…", "size": 10}`. Both are accepted, never mixed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from heliograph.errors import BadRequest
from heliograph.ids import is_id

DEFAULT_SIZE = 25
MAX_SIZE = 100


@dataclasses.dataclass(frozen=True)
class Page:
    after: str | None = None
    before: str | None = None
    size: int = DEFAULT_SIZE


def query_object(query: Sequence[tuple[str, str]], name: str) -> dict[str, str | Any]:
    """The object `name` from `name[key]=value` pairs or from `name=<JSON object>`."""
    bracketed = {k[len(name) + 1:-1]: v for k, v in query if k.startswith(name + "[") and k.endswith("]")}
    whole = [v for k, v in query if k == name]
    if whole and bracketed:
        raise BadRequest(f"Use either {name}=<JSON object> or {name}[key]=value, not both")
    if not whole:
        return bracketed
    try:
        value = json.loads(whole[-1])
    except ValueError:
        raise BadRequest(f"Invalid {name} query parameter: expected a JSON object") from None
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid {name} query parameter: expected a JSON object")
    return value


def parse_page(query: Sequence[tuple[str, str]], *, sized: bool = True) -> Page:
    raw = query_object(query, "page")
    unknown = set(raw) - {"after", "before", "size"}
    if unknown:
        raise BadRequest(f"Invalid page query parameters: unknown page[{sorted(unknown)[0]}]")
    after, before = raw.get("after"), raw.get("before")
    if after is not None and before is not None:
        raise BadRequest("Invalid page query parameters: only one of page[after] or page[before] may be provided")
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and not (isinstance(cursor, str) and is_id(cursor)):
            raise BadRequest(f"Invalid page query parameters: page[{name}] must be a 24-character record id")
    size = _size(raw.get("size")) if sized else MAX_SIZE
    return Page(after=after, before=before, size=size)


def _size(value: Any) -> int:
    if value is None:
        return DEFAULT_SIZE
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SIZE:
        raise BadRequest(f"Invalid page query parameters: page[size] must be an integer from 1 to {MAX_SIZE}")
    return value


@dataclasses.dataclass(frozen=True)
class Window:
    """One page of records in ascending id order, and whether records exist on either side."""

    records: list[Any]
    more_before: bool
    more_after: bool


def envelope(window: Window, page: Page, base_url: str, query: Sequence[tuple[str, str]],
             *, forward: bool, sized: bool = True) -> dict[str, Any]:
    """The `meta` and `links` of a list response. `hasMore` looks in the direction being paged."""
    meta: dict[str, Any] = {"hasMore": window.more_after if forward else window.more_before}
    links: dict[str, str] = {}
    ids = [r["id"] for r in window.records]
    kept = [(k, v) for k, v in query if k != "page" and not k.startswith("page[")]
    size = [("page[size]", str(page.size))] if sized else []
    if ids and window.more_before:
        meta["beforeCursor"] = ids[0]
        links["prev"] = f"{base_url}?{urlencode(kept + [('page[before]', ids[0])] + size, safe='[]')}"
    if ids and window.more_after:
        meta["afterCursor"] = ids[-1]
        links["next"] = f"{base_url}?{urlencode(kept + [('page[after]', ids[-1])] + size, safe='[]')}"
    return {"meta": meta, "links": links}
