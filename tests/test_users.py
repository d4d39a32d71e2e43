"""Users through the official SDK: create, get, update, delete, personal information, list by email."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.store import tables as t
from tests.conftest import Server
from tests.utils import MISSING_ID, http_error, in_database, make_conversation, make_user, row_count, sdk_error


def present(model: Any) -> dict[str, Any]:
    """A model's fields that hold a value (the SDK fills every absent field with None)."""
    return {k: v for k, v in model.to_dict().items() if v is not None}


def users_api(account: sc.ApiClient) -> sc.UsersApi:
    return sc.UsersApi(account)


# CreateUser

def test_create_user_returns_201_with_every_field(account: sc.ApiClient, app_id: str) -> None:
    """CreateUser answers 201 with the externalId, profile, metadata and signedUpAt it was given."""
    profile = sc.Profile(given_name="Jane", surname="Doe", email="jane@example.org",
                         avatar_url="https://example.org/jane.png", locale="fr-CA")
    response = users_api(account).create_user_with_http_info(app_id, sc.UserCreateBody(
        external_id="jane-1", profile=profile, metadata={"tier": "gold", "visits": 3, "vip": True},
        signed_up_at="2020-05-21T15:53:30.197Z"))
    user = response.data.user
    assert 201 == response.status_code
    assert "jane-1" == user.external_id
    assert profile.to_dict() == user.profile.to_dict()
    assert {"tier": "gold", "visits": 3, "vip": True} == user.metadata
    assert "2020-05-21T15:53:30.197Z" == user.signed_up_at
    assert 24 == len(user.id)


def test_create_user_defaults_signed_up_at_to_now_in_spec_format(http: httpx.Client, app_id: str) -> None:
    """Without signedUpAt the user gets the creation time, as YYYY-MM-DDThh:mm:ss.SSSZ; externalId is optional."""
    response = http.post(f"/v2/apps/{app_id}/users", json={})
    user = response.json()["user"]
    assert 201 == response.status_code
    assert "externalId" not in user
    assert (24, "T", "Z") == (len(user["signedUpAt"]), user["signedUpAt"][10], user["signedUpAt"][-1])


def test_signed_up_at_is_any_rfc_3339_date_time(account: sc.ApiClient, app_id: str) -> None:
    """CreateUser and UpdateUser take any RFC 3339 date-time (an offset, lowercase t and z, seven fraction digits
    as .NET writes them) and answer it in UTC, to the millisecond, in the spec's format."""
    created = make_user(account, app_id, external_id="when", signed_up_at="2020-05-21T17:53:30.1979999+02:00")
    updated = users_api(account).update_user(app_id, created.id,
                                             sc.UserUpdateBody(signed_up_at="2021-01-02t03:04:05z")).user
    assert ("2020-05-21T15:53:30.197Z", "2021-01-02T03:04:05.000Z") == (created.signed_up_at, updated.signed_up_at)


@pytest.mark.parametrize("signed_up_at", ["2020-05-21", "2020-05-21T15:53:30", "2020-05-21 15:53:30Z",
                                          "2020-02-30T00:00:00Z", "9999-12-31T23:59:59-01:00"])
def test_signed_up_at_that_is_no_date_time_is_400(account: sc.ApiClient, app_id: str, signed_up_at: str) -> None:
    """A date without a time or an offset, a day that does not exist or a year past 9999 in UTC is a 400
    naming signedUpAt (not a 500), and no user is made."""
    with pytest.raises(sc.ApiException) as raised:
        make_user(account, app_id, external_id="when", signed_up_at=signed_up_at)
    status, code, title = sdk_error(raised)
    assert (400, "bad_request", True) == (status, code, title.startswith("Invalid signedUpAt: "))
    with pytest.raises(sc.ApiException) as raised:
        users_api(account).get_user(app_id, "when")
    assert 404 == sdk_error(raised)[0]


def test_create_user_accepts_names_of_128_characters(account: sc.ApiClient, app_id: str) -> None:
    """givenName and surname may be exactly 128 characters long."""
    user = make_user(account, app_id, external_id="long", profile=sc.Profile(given_name="g" * 128, surname="s" * 128))
    assert (128, 128) == (len(user.profile.given_name), len(user.profile.surname))


def test_create_user_with_a_taken_external_id_is_409_and_creates_nothing(
        server: Server, account: sc.ApiClient, app_id: str) -> None:
    """A second CreateUser with the same externalId is 409 conflict and leaves the first user alone."""
    first = make_user(account, app_id, external_id="dup", profile=sc.Profile(given_name="First"))
    with pytest.raises(sc.ApiException) as exc:
        make_user(account, app_id, external_id="dup", profile=sc.Profile(given_name="Second"))
    assert (409, "conflict") == sdk_error(exc)[:2]
    assert 1 == row_count(server.database_url, t.users, app_id)
    again = users_api(account).get_user(app_id, "dup").user
    assert (first.id, "First") == (again.id, again.profile.given_name)


BAD_CREATE_BODIES = [
    ({"externalId": "x", "profile": {"email": "not-an-email"}}, "profile.email"),
    ({"externalId": "x", "profile": {"avatarUrl": "not a uri"}}, "profile.avatarUrl"),
    ({"externalId": "x", "profile": {"givenName": "g" * 129}}, "profile.givenName"),
    ({"externalId": "x", "profile": {"givenName": 5}}, "profile.givenName"),
    ({"externalId": 42}, "externalId"),
    ({"externalId": ""}, "externalId"),
    ({"externalId": "x", "toBeRetained": "true"}, "toBeRetained"),
    ({"externalId": "x", "metadata": {"nested": {"a": 1}}}, "metadata"),
    ({"externalId": "x", "metadata": ["a"]}, "metadata"),
    ({"externalId": "x", "metadata": {"big": "x" * 4100}}, "metadata"),
    ({"externalId": "x", "signedUpAt": "yesterday"}, "signedUpAt"),
    ({"externalId": "x", "signedUpAt": "2020-05-21T15:53:30Z\n"}, "signedUpAt"),
    ({"externalId": "x", "signedUpAt": "0001-01-01T00:00:00+01:00"}, "signedUpAt"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CREATE_BODIES, ids=[f for _, f in BAD_CREATE_BODIES])
def test_create_user_rejects_bad_input_naming_the_field(server: Server, http: httpx.Client, app_id: str,
                                                         body: dict[str, Any], field: str) -> None:
    """A malformed CreateUser body is a 400 bad_request whose title names the field, and no user is made."""
    status, code, title = http_error(http.post(f"/v2/apps/{app_id}/users", json=body))
    assert (400, "bad_request") == (status, code)
    assert field in title
    assert 0 == row_count(server.database_url, t.users, app_id)


def test_create_user_in_unknown_app_is_404_app_not_found(account: sc.ApiClient) -> None:
    """CreateUser under an app that does not exist is 404 app_not_found (the account key sees every app)."""
    with pytest.raises(sc.ApiException) as exc:
        make_user(account, MISSING_ID, external_id="nobody")
    assert (404, "app_not_found") == sdk_error(exc)[:2]


# GetUser

@pytest.mark.parametrize("external_id", ["plain", "a/b/c", "jane@example.org", "a+b", "with some spaces",
                                         "mixed /@+ %2F"])
def test_get_user_by_id_and_by_external_id(account: sc.ApiClient, app_id: str, external_id: str) -> None:
    """GetUser finds a user by id and by externalId, whatever characters the SDK percent-encodes."""
    created = make_user(account, app_id, external_id=external_id)
    by_id = users_api(account).get_user(app_id, created.id).user
    by_external_id = users_api(account).get_user(app_id, external_id).user
    assert (created.id, external_id) == (by_id.id, by_id.external_id)
    assert (created.id, external_id) == (by_external_id.id, by_external_id.external_id)


def test_get_unknown_user_is_404_user_not_found(account: sc.ApiClient, app_id: str) -> None:
    """GetUser for an id or externalId that matches no user is 404 user_not_found."""
    for ref in (MISSING_ID, "no-such-user"):
        with pytest.raises(sc.ApiException) as exc:
            users_api(account).get_user(app_id, ref)
        assert (404, "user_not_found") == sdk_error(exc)[:2]


def test_get_user_in_unknown_app_is_404_app_not_found(account: sc.ApiClient) -> None:
    """GetUser under an app that does not exist is 404 app_not_found, not user_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        users_api(account).get_user(MISSING_ID, "anyone")
    assert (404, "app_not_found") == sdk_error(exc)[:2]


# UpdateUser

def test_update_user_merges_profile_and_replaces_metadata(account: sc.ApiClient, app_id: str) -> None:
    """UpdateUser changes only the profile fields given, and replaces metadata as a whole."""
    user = make_user(account, app_id, external_id="u", metadata={"a": "1", "b": "2"},
                     profile=sc.Profile(given_name="Jane", surname="Doe", locale="en-US"))
    updated = users_api(account).update_user(app_id, user.id, sc.UserUpdateBody(
        profile=sc.Profile(surname="Smith"), metadata={"c": 3})).user
    assert {"givenName": "Jane", "surname": "Smith", "locale": "en-US"} == present(updated.profile)
    assert {"c": 3} == updated.metadata
    assert updated.to_dict() == users_api(account).get_user(app_id, user.id).user.to_dict()


def test_update_user_null_clears_a_profile_field(account: sc.ApiClient, app_id: str) -> None:
    """A null profile field in UpdateUser removes that field and keeps the others."""
    user = make_user(account, app_id, external_id="u", profile=sc.Profile(given_name="Jane", email="j@x.org"))
    updated = users_api(account).update_user(app_id, "u", sc.UserUpdateBody(profile=sc.Profile(email=None))).user
    assert {"givenName": "Jane"} == present(updated.profile)
    assert {"givenName": "Jane"} == present(users_api(account).get_user(app_id, user.id).user.profile)


def test_update_user_null_metadata_clears_it(account: sc.ApiClient, app_id: str) -> None:
    """UpdateUser with metadata null leaves the user with empty metadata."""
    user = make_user(account, app_id, external_id="u", metadata={"a": "1"})
    updated = users_api(account).update_user(app_id, user.id, sc.UserUpdateBody(metadata=None)).user
    assert {} == updated.metadata


def test_update_user_with_bad_input_is_400_and_changes_nothing(account: sc.ApiClient, http: httpx.Client,
                                                                app_id: str) -> None:
    """UpdateUser with an invalid field is a 400 naming it, and the stored user is unchanged."""
    user = make_user(account, app_id, external_id="u", profile=sc.Profile(given_name="Jane"), metadata={"a": "1"})
    before = users_api(account).get_user(app_id, user.id).user.to_dict()
    for body, field in [({"profile": {"email": "nope", "givenName": "Changed"}}, "profile.email"),
                        ({"metadata": {"a": {"b": 1}}}, "metadata"),
                        ({"metadata": {"a": "x" * 4100}}, "metadata"),
                        ({"profile": {"surname": "s" * 129}}, "profile.surname"),
                        ({"signedUpAt": 12}, "signedUpAt")]:
        status, code, title = http_error(http.patch(f"/v2/apps/{app_id}/users/{user.id}", json=body))
        assert (400, "bad_request", True) == (status, code, field in title)
    assert before == users_api(account).get_user(app_id, user.id).user.to_dict()


def test_update_unknown_user_is_404_user_not_found(account: sc.ApiClient, app_id: str) -> None:
    """UpdateUser on a user that does not exist is 404 user_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        users_api(account).update_user(app_id, "ghost", sc.UserUpdateBody(metadata={"a": "1"}))
    assert (404, "user_not_found") == sdk_error(exc)[:2]


# DeleteUser

def test_delete_user_removes_the_user_and_their_personal_conversations(account: sc.ApiClient, app_id: str) -> None:
    """After DeleteUser the user is 404 user_not_found and their personal conversations are gone."""
    user = make_user(account, app_id, external_id="leaving")
    conversation = make_conversation(account, app_id, user)
    other = make_user(account, app_id, external_id="staying")
    kept = make_conversation(account, app_id, other)
    assert {} == users_api(account).delete_user(app_id, "leaving")
    with pytest.raises(sc.ApiException) as exc:
        users_api(account).get_user(app_id, user.id)
    assert (404, "user_not_found") == sdk_error(exc)[:2]
    with pytest.raises(sc.ApiException) as exc:
        sc.ConversationsApi(account).get_conversation(app_id, conversation.id)
    assert (404, "conversation_not_found") == sdk_error(exc)[:2]
    assert kept.id == sc.ConversationsApi(account).get_conversation(app_id, kept.id).conversation.id


def test_delete_user_leaves_their_groups(account: sc.ApiClient, app_id: str) -> None:
    """DeleteUser removes the user from their sdkGroup conversations, which stay for the other members."""
    leaving, staying = make_user(account, app_id, external_id="leaving"), make_user(account, app_id, external_id="s")
    group = make_conversation(account, app_id, leaving, staying, kind="sdkGroup")
    users_api(account).delete_user(app_id, leaving.id)
    listed = sc.ParticipantsApi(account).list_participants(app_id, group.id).participants
    assert [staying.id] == [p.user_id for p in listed]


def test_delete_user_frees_the_external_id(account: sc.ApiClient, app_id: str) -> None:
    """Once a user is deleted a new user can take their externalId."""
    old = make_user(account, app_id, external_id="reused")
    users_api(account).delete_user(app_id, old.id)
    new = make_user(account, app_id, external_id="reused")
    assert new.id == users_api(account).get_user(app_id, "reused").user.id


def test_delete_unknown_user_is_404_user_not_found(account: sc.ApiClient, app_id: str) -> None:
    """DeleteUser on a user that does not exist is 404 user_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        users_api(account).delete_user(app_id, MISSING_ID)
    assert (404, "user_not_found") == sdk_error(exc)[:2]


# DeleteUserPersonalInformation

def test_delete_personal_information_clears_profile_and_metadata_only(account: sc.ApiClient, app_id: str) -> None:
    """DeleteUserPersonalInformation clears names, email, avatar and metadata; locale and conversations stay."""
    user = make_user(account, app_id, external_id="pii", metadata={"a": "1"}, profile=sc.Profile(
        given_name="Jane", surname="Doe", email="j@x.org", avatar_url="https://x.org/a.png", locale="fr-CA"))
    conversation = make_conversation(account, app_id, user)
    cleared = users_api(account).delete_user_personal_information(app_id, "pii").user
    assert ("pii", {"locale": "fr-CA"}, {}) == (cleared.external_id, present(cleared.profile), cleared.metadata)
    assert cleared.to_dict() == users_api(account).get_user(app_id, user.id).user.to_dict()
    assert conversation.id == sc.ConversationsApi(account).get_conversation(app_id, conversation.id).conversation.id


def test_delete_personal_information_of_unknown_user_is_404(account: sc.ApiClient, app_id: str) -> None:
    """DeleteUserPersonalInformation on a user that does not exist is 404 user_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        users_api(account).delete_user_personal_information(app_id, "ghost")
    assert (404, "user_not_found") == sdk_error(exc)[:2]


# ListUsers (the SDK has no list_users, so these go through raw HTTP)

def test_list_users_requires_the_email_filter(http: httpx.Client, app_id: str) -> None:
    """ListUsers without filter[identities.email] is 400 bad_request."""
    status, code, title = http_error(http.get(f"/v2/apps/{app_id}/users"))
    assert (400, "bad_request", True) == (status, code, "identities.email" in title)


def test_list_users_by_unknown_email_is_empty(http: httpx.Client, app_id: str) -> None:
    """ListUsers for an email no identity carries answers 200 with an empty list."""
    response = http.get(f"/v2/apps/{app_id}/users", params={"filter[identities.email]": "nobody@example.org"})
    assert (200, {"users": []}) == (response.status_code, response.json())


def test_list_users_matches_identities_not_profile_email(server: Server, account: sc.ApiClient,
                                                         http: httpx.Client, app_id: str) -> None:
    """ListUsers matches the email of an identity, in both query styles, and never profile.email."""
    with_identity = make_user(account, app_id, external_id="a")
    make_user(account, app_id, external_id="b", profile=sc.Profile(email="sue@example.org"))
    in_database(server.database_url, t.identities.insert().values(
        user_id=with_identity.id, type="email", value="sue@example.org", app_id=app_id))
    for params in ({"filter[identities.email]": "sue@example.org"},
                   {"filter": json.dumps({"identities.email": "sue@example.org"})}):
        users = http.get(f"/v2/apps/{app_id}/users", params=params).json()["users"]
        assert [(with_identity.id, [{"type": "email", "value": "sue@example.org"}])] == [
            (u["id"], u["identities"]) for u in users]


def test_list_users_in_unknown_app_is_404_app_not_found(http: httpx.Client) -> None:
    """ListUsers under an app that does not exist is 404 app_not_found."""
    response = http.get(f"/v2/apps/{MISSING_ID}/users", params={"filter[identities.email]": "a@b.org"})
    assert (404, "app_not_found") == http_error(response)[:2]
