"""Users (services/users.py): signedUpAt is an RFC 3339 date-time, kept to the millisecond, or a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import ApiError
from heliograph.schemas.users import UserUpdateBody
from heliograph.services import users
from heliograph.store.db import Database
from tests.factories import body, make_app, make_user
from tests.utils import api_error, with_database


def test_signed_up_at_takes_rfc_3339_date_times(empty_database_url: str) -> None:
    """CreateUser and UpdateUser take any RFC 3339 date-time and answer it in the spec's format, in UTC."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            created = await make_user(conn, app_id, signedUpAt="2020-05-21t17:53:30.1979999+02:00")
            updated = await users.update_user(conn, app_id=app_id, user=created["id"], brand_id=None,
                                              body=body(UserUpdateBody, signedUpAt="0999-01-01T00:00:00Z"))
        return created["signedUpAt"], updated["signedUpAt"]

    assert ("2020-05-21T15:53:30.197Z", "0999-01-01T00:00:00.000Z") == \
        with_database(empty_database_url, scenario)


@pytest.mark.parametrize("signed_up_at", ["2020-05-21T15:53:30Z\n", "2020-05-21 15:53:30Z", "2020-05-21T15:53:30",
                                          "9999-12-31T23:59:59-01:00", "2016-12-31T23:59:60Z"])
def test_signed_up_at_refuses_anything_else(empty_database_url: str, signed_up_at: str) -> None:
    """Anything but an RFC 3339 date-time within the years 0001-9999 is a 400 naming signedUpAt."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
        with pytest.raises(ApiError) as raised:
            async with db.write() as conn:
                await make_user(conn, app_id, signedUpAt=signed_up_at)
        return api_error(raised)[:2], api_error(raised)[2].startswith("Invalid signedUpAt: ")

    assert ((400, "bad_request"), True) == with_database(empty_database_url, scenario)
