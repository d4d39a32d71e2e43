"""Keyset pages (store/paging.py): a window of records in id order, and whether more lie on either side."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from heliograph.pagination import Page
from heliograph.store import tables as t
from heliograph.store.db import Database
from heliograph.store.paging import window
from tests.factories import make_app
from tests.utils import with_database

APPS = sa.select(t.apps.c.id)


def pages(database_url: str, *asks: tuple[dict[str, Any], bool]) -> tuple[list[Any], list[str]]:
    """Five apps a0…a4, then each (page fields by app number, newest_first) as (apps, more before, more after)."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            ids = [(await make_app(conn, displayName=f"a{n}"))["id"] for n in range(5)]
        names = {app_id: f"a{n}" for n, app_id in enumerate(ids)}
        got = []
        async with db.read() as conn:
            for fields, newest_first in asks:
                page = Page(**{k: ids[v] if k in ("after", "before") else v for k, v in fields.items()})
                found = await window(conn, APPS, t.apps.c.id, page, newest_first=newest_first)
                got.append(([names[r["id"]] for r in found.records], found.more_before, found.more_after))
        return got, ids
    return with_database(database_url, scenario)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("fields", "newest_first", "expected"), [
    ({"size": 2}, False, (["a0", "a1"], False, True)),
    ({"size": 2}, True, (["a3", "a4"], True, False)),
    ({"size": 2, "after": 1}, False, (["a2", "a3"], True, True)),
    ({"size": 2, "after": 3}, False, (["a4"], True, False)),
    ({"size": 2, "before": 3}, False, (["a1", "a2"], True, True)),
    ({"size": 2, "before": 1}, False, (["a0"], False, True)),
    ({"size": 5}, False, (["a0", "a1", "a2", "a3", "a4"], False, False)),
])
def test_a_window_is_in_id_order_and_knows_what_lies_around_it(
        empty_database_url: str, fields: dict[str, Any], newest_first: bool, expected: Any) -> None:
    """Without a cursor the oldest (or newest) records; after or before a cursor, the records next to it;
    always in ascending id order, with whether records exist before and after the window."""
    [got], _ = pages(empty_database_url, (fields, newest_first))
    assert expected == got


def test_an_empty_table_is_one_empty_window(empty_database_url: str) -> None:
    """No records: an empty window with nothing on either side."""
    async def scenario(db: Database) -> Any:
        async with db.read() as conn:
            found = await window(conn, APPS, t.apps.c.id, Page(size=2))
        return found.records, found.more_before, found.more_after

    assert ([], False, False) == with_database(empty_database_url, scenario)
