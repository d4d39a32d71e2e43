"""Cursor parameters in both query styles (unit tests of heliograph.pagination)."""

from __future__ import annotations

import pytest

from heliograph.errors import BadRequest
from heliograph.pagination import Page, Window, envelope, parse_page

CURSOR = "0123456789abcdef01234567"


@pytest.mark.parametrize("query", [
    [("page[after]", CURSOR), ("page[size]", "10")],
    [("page", f'{{"after": "{CURSOR}", "size": 10}}')],
])
def test_both_query_styles_give_the_same_page(query: list[tuple[str, str]]) -> None:
    """`page[after]=…` (docs, JS SDK) and `page={json}` (Python SDK) mean the same."""
    assert Page(after=CURSOR, size=10) == parse_page(query)


def test_defaults_to_25() -> None:
    """Without page parameters a page holds 25 records."""
    assert Page(size=25) == parse_page([])


@pytest.mark.parametrize("query", [
    [("page[after]", CURSOR), ("page[before]", CURSOR)],
    [("page[after]", "short")],
    [("page[before]", "Z" * 24)],
    [("page[size]", "0")], [("page[size]", "101")], [("page[size]", "ten")],
    [("page", '{"size": true}')], [("page", "[1]")], [("page", "{oops")],
    [("page", '{"after": 5}')], [("page[color]", "red")],
    [("page", "{}"), ("page[size]", "2")],
])
def test_bad_page_parameters_are_400(query: list[tuple[str, str]]) -> None:
    """Two cursors, a cursor that is not a record id, or a size outside 1–100 is a 400."""
    with pytest.raises(BadRequest):
        parse_page(query)


def test_unsized_pages_ignore_size() -> None:
    """ListMessages pages are always 100 records, whatever page[size] says."""
    assert Page(size=100) == parse_page([("page[size]", "5")], sized=False)


def test_envelope_links_keep_filters_and_point_both_ways() -> None:
    """prev/next links carry the filter and the page size, and the cursors of the page's ends."""
    records = [{"id": "a" * 24}, {"id": "b" * 24}]
    body = envelope(Window(records, True, True), Page(after=CURSOR, size=2), "http://h/v2/apps/x/conversations",
                    [("filter[userId]", "u"), ("page[after]", CURSOR)], forward=True)
    assert {"hasMore": True, "beforeCursor": "a" * 24, "afterCursor": "b" * 24} == body["meta"]
    assert ("http://h/v2/apps/x/conversations?filter[userId]=u&page[after]=" + "b" * 24 + "&page[size]=2"
            == body["links"]["next"])
    assert body["links"]["prev"].endswith("page[before]=" + "a" * 24 + "&page[size]=2")
