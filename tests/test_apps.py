"""Apps and App Keys (CreateApp … DeleteApp, CreateAppKey … DeleteAppKey) through the official SDK."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.apps import apps_after, key_ids, new_app, new_key, raw_app
from tests.conftest import Server, sdk_client
from tests.spec import SpecChecker
from tests.utils import error_of, refused

DEFAULT_SETTINGS = {
    "conversationRetentionSeconds": 0, "maskCreditCardNumbers": True, "useAnimalNames": False,
    "echoPostback": False, "ignoreAutoConversationStart": False, "multiConvoEnabled": False,
    "appLocalizationEnabled": False, "endSessionEnabled": False, "disableConversationReopen": False,
}


# --- CreateApp --------------------------------------------------------------------------------

def test_create_app_answers_201_with_default_settings(account: sc.ApiClient, http: httpx.Client) -> None:
    """CreateApp answers 201 with a 24-hex id, the name, and every setting at its default."""
    reply = sc.AppsApi(account).create_app_with_http_info(sc.AppCreateBody(display_name="Fresh"))
    assert 201 == reply.status_code
    app = reply.data.app
    assert (24, "Fresh") == (len(app.id), app.display_name)
    assert DEFAULT_SETTINGS == raw_app(http, app.id)["settings"]
    assert "metadata" not in raw_app(http, app.id)


def test_create_app_keeps_metadata_and_settings(account: sc.ApiClient) -> None:
    """Metadata and settings given to CreateApp are stored and returned by GetApp."""
    created = new_app(account, "Meta", metadata={"lang": "en-ca", "tier": 3, "vip": True},
                      settings=sc.AppSettings(use_animal_names=True, conversation_retention_seconds=3600))
    fetched = sc.AppsApi(account).get_app(created.id).app
    assert {"lang": "en-ca", "tier": 3, "vip": True} == fetched.metadata
    assert (True, 3600, True) == (fetched.settings.use_animal_names,
                                  fetched.settings.conversation_retention_seconds,
                                  fetched.settings.mask_credit_card_numbers)


@pytest.mark.parametrize("body", [
    {}, {"displayName": ""}, {"displayName": 7}, {"displayName": "x" * 101},
    {"displayName": "Bad", "settings": {"conversationRetentionSeconds": -1}},
    {"displayName": "Bad", "metadata": {"nested": {"a": 1}}},
    {"displayName": "Bad", "metadata": {"blob": "x" * 4100}},
])
def test_create_app_refuses_invalid_bodies(account: sc.ApiClient, http: httpx.Client, body: dict[str, Any]) -> None:
    """CreateApp refuses a missing or invalid name, setting or metadata with 400, creating nothing."""
    marker = new_app(account, "Marker").id
    assert (400, "bad_request") == error_of(http.post("/v2/apps", json=body))
    assert [] == apps_after(http, marker)


# --- ListApps ---------------------------------------------------------------------------------

def test_list_apps_pages_forward_with_bracket_query(account: sc.ApiClient, http: httpx.Client,
                                                    server: Server) -> None:
    """page[after]/page[size] as query keys page forward, with cursors, hasMore and a next link."""
    marker = new_app(account, "Marker").id
    ids = [new_app(account, f"Page {n}").id for n in range(3)]
    first = http.get("/v2/apps", params={"page[after]": marker, "page[size]": "2"}).json()
    assert ids[:2] == [a["id"] for a in first["apps"]]
    assert {"hasMore": True, "afterCursor": ids[1], "beforeCursor": ids[0]} == first["meta"]
    assert f"{server.base_url}/v2/apps?page[after]={ids[1]}&page[size]=2" == first["links"]["next"]
    second = http.get(first["links"]["next"]).json()
    assert [ids[2]] == [a["id"] for a in second["apps"]]
    assert {"hasMore": False, "beforeCursor": ids[2]} == second["meta"]
    assert "next" not in second["links"]


def test_list_apps_pages_with_the_sdk_page_object(account: sc.ApiClient) -> None:
    """The SDK's JSON `page` object pages forward and backward over the same records."""
    apps = sc.AppsApi(account)
    marker = new_app(account, "Marker").id
    ids = [new_app(account, f"Page {n}").id for n in range(3)]
    forward = apps.list_apps(page=sc.Page(after=marker, size=2))
    assert (ids[:2], True, ids[1]) == ([a.id for a in forward.apps], forward.meta.has_more,
                                       forward.meta.after_cursor)
    backward = apps.list_apps(page=sc.Page(before=ids[2], size=2))
    assert (ids[:2], True, ids[0]) == ([a.id for a in backward.apps], backward.meta.has_more,
                                       backward.meta.before_cursor)
    assert backward.links.prev is not None and f"page[before]={ids[0]}" in backward.links.prev


def test_list_apps_page_before_reaches_the_start(account: sc.ApiClient, http: httpx.Client) -> None:
    """Paging back with page[before] ends on a page whose hasMore is false and has no prev link."""
    ids = [new_app(account, f"Back {n}").id for n in range(2)]
    everything = []
    page = http.get("/v2/apps", params={"page[before]": ids[1], "page[size]": "100"}).json()
    while True:
        everything = [a["id"] for a in page["apps"]] + everything
        if not page["meta"]["hasMore"]:
            break
        page = http.get(page["links"]["prev"]).json()
    assert (True, ids[0]) == ("prev" not in page["links"], everything[-1])
    assert len(everything) == len(set(everything))


def test_list_apps_defaults_to_25(account: sc.ApiClient) -> None:
    """Without page[size], ListApps returns at most 25 apps."""
    for n in range(26):
        new_app(account, f"Many {n}")
    listed = sc.AppsApi(account).list_apps()
    assert (25, True) == (len(listed.apps), listed.meta.has_more)


@pytest.mark.parametrize("params", [
    {"page[size]": "0"}, {"page[size]": "101"}, {"page[size]": "ten"}, {"page[after]": "short"},
    {"page[after]": "a" * 24, "page[before]": "b" * 24}, {"page": "not json"},
])
def test_list_apps_refuses_bad_page_parameters(http: httpx.Client, params: dict[str, str]) -> None:
    """ListApps answers 400 to an out-of-range size, a malformed cursor, or both cursors."""
    assert (400, "bad_request") == error_of(http.get("/v2/apps", params=params))


# --- GetApp, UpdateApp ------------------------------------------------------------------------

def test_get_unknown_app_is_app_not_found(account: sc.ApiClient) -> None:
    """GetApp of an id that names no app answers 404 app_not_found."""
    assert (404, "app_not_found") == refused(sc.AppsApi(account).get_app, "0" * 24)[:2]


def test_update_app_changes_only_the_fields_given(account: sc.ApiClient, http: httpx.Client) -> None:
    """UpdateApp is partial: a new name or one setting leaves every other field as it was."""
    app = new_app(account, "Before", metadata={"a": "1"}, settings=sc.AppSettings(echo_postback=True))
    apps = sc.AppsApi(account)
    renamed = apps.update_app(app.id, sc.AppUpdateBody(display_name="After")).app
    assert ("After", {"a": "1"}, True) == (renamed.display_name, renamed.metadata, renamed.settings.echo_postback)
    apps.update_app(app.id, sc.AppUpdateBody(settings=sc.AppSettings(use_animal_names=True)))
    expected = {**DEFAULT_SETTINGS, "echoPostback": True, "useAnimalNames": True}
    assert {"id": app.id, "displayName": "After", "settings": expected, "metadata": {"a": "1"}} == raw_app(http, app.id)


def test_update_app_metadata_null_removes_it(account: sc.ApiClient, http: httpx.Client) -> None:
    """UpdateApp with metadata null clears the app's metadata."""
    app = new_app(account, "Meta", metadata={"a": "1"})
    assert 200 == http.patch(f"/v2/apps/{app.id}", json={"metadata": None}).status_code
    assert "metadata" not in raw_app(http, app.id)


def test_update_app_metadata_over_4096_bytes_is_refused(account: sc.ApiClient, http: httpx.Client) -> None:
    """Metadata over 4096 bytes is a 400 whose title names the limit; the app is unchanged."""
    app = new_app(account, "Meta", metadata={"a": "1"})
    before = raw_app(http, app.id)
    status, code, title = refused(sc.AppsApi(account).update_app, app.id,
                                  sc.AppUpdateBody(display_name="Changed", metadata={"blob": "x" * 4100}))
    assert (400, "bad_request", True) == (status, code, "4096" in title)
    assert before == raw_app(http, app.id)


def test_metadata_of_exactly_4096_bytes_is_accepted(account: sc.ApiClient) -> None:
    """The limit is inclusive: metadata encoding to 4096 bytes is stored, 4097 bytes is refused."""
    app = new_app(account, "Edge")
    at_limit = {"b": "x" * 4088}  # {"b":"…"} is 8 bytes of JSON around the value
    stored = sc.AppsApi(account).update_app(app.id, sc.AppUpdateBody(metadata=at_limit)).app.metadata
    over = sc.AppUpdateBody(metadata={"b": "x" * 4089})
    assert (at_limit, 400) == (stored, refused(sc.AppsApi(account).update_app, app.id, over)[0])


def test_multi_convo_cannot_be_disabled(account: sc.ApiClient, http: httpx.Client) -> None:
    """Enabling multiConvoEnabled is irreversible: turning it off answers 400 and changes nothing."""
    app = new_app(account, "Multi")
    apps = sc.AppsApi(account)
    apps.update_app(app.id, sc.AppUpdateBody(settings=sc.AppSettings(multi_convo_enabled=True)))
    before = raw_app(http, app.id)
    body = sc.AppUpdateBody(display_name="Changed", settings=sc.AppSettings(multi_convo_enabled=False))
    assert (400, "bad_request") == refused(apps.update_app, app.id, body)[:2]
    assert (True, before) == (before["settings"]["multiConvoEnabled"], raw_app(http, app.id))


@pytest.mark.parametrize("setting", ["endSessionEnabled", "disableConversationReopen"])
def test_session_settings_require_multi_convo(account: sc.ApiClient, http: httpx.Client, setting: str) -> None:
    """endSessionEnabled and disableConversationReopen need multiConvoEnabled: 400 without it."""
    app = new_app(account, "Session")
    before = raw_app(http, app.id)
    response = http.patch(f"/v2/apps/{app.id}", json={"displayName": "Changed", "settings": {setting: True}})
    assert (400, "bad_request") == error_of(response)
    assert before == raw_app(http, app.id)
    together = {"settings": {"multiConvoEnabled": True, setting: True}}
    assert 200 == http.patch(f"/v2/apps/{app.id}", json=together).status_code
    settings = raw_app(http, app.id)["settings"]
    assert (True, True) == (settings[setting], settings["multiConvoEnabled"])


@pytest.mark.parametrize("body", [{"displayName": ""}, {"settings": {"echoPostback": "yes"}}, {"metadata": "text"}])
def test_update_app_refuses_invalid_bodies(account: sc.ApiClient, http: httpx.Client, body: dict[str, Any]) -> None:
    """UpdateApp refuses an invalid field with 400 and leaves the app unchanged."""
    app = new_app(account, "Strict")
    before = raw_app(http, app.id)
    assert (400, "bad_request") == error_of(http.patch(f"/v2/apps/{app.id}", json=body))
    assert before == raw_app(http, app.id)


def test_update_unknown_app_is_app_not_found(account: sc.ApiClient) -> None:
    """UpdateApp of an unknown app answers 404 app_not_found."""
    body = sc.AppUpdateBody(display_name="Ghost")
    assert (404, "app_not_found") == refused(sc.AppsApi(account).update_app, "0" * 24, body)[:2]


# --- DeleteApp --------------------------------------------------------------------------------

def test_delete_app_removes_it_and_its_keys(account: sc.ApiClient, server: Server, checker: SpecChecker) -> None:
    """After DeleteApp, GetApp answers 404 app_not_found and the app's keys answer 401."""
    app = new_app(account, "Doomed")
    key = new_key(account, app.id)
    own = sc.AppsApi(sdk_client(server, checker, key.id, key.secret))
    assert app.id == own.get_app(app.id).app.id  # the key works, and is now in the server's cache
    sc.AppsApi(account).delete_app(app.id)
    assert (404, "app_not_found") == refused(sc.AppsApi(account).get_app, app.id)[:2]
    assert (401, "unauthorized") == refused(own.get_app, app.id)[:2]


def test_delete_unknown_app_is_app_not_found(account: sc.ApiClient) -> None:
    """DeleteApp of an unknown app answers 404 app_not_found."""
    assert (404, "app_not_found") == refused(sc.AppsApi(account).delete_app, "0" * 24)[:2]


# --- App keys ---------------------------------------------------------------------------------

def test_create_app_key_answers_201_with_its_secret(account: sc.ApiClient, app_id: str) -> None:
    """CreateAppKey answers 201 with an app_ id, the name and a secret; Get and List show the same."""
    keys = sc.AppKeysApi(account)
    reply = keys.create_app_key_with_http_info(app_id, sc.AppKeyCreateBody(display_name="Key 1"))
    key = reply.data.key
    assert (201, True, "Key 1", True) == (reply.status_code, key.id.startswith("app_"), key.display_name,
                                          len(key.secret) >= 16)
    assert key == keys.get_app_key(app_id, key.id).key
    assert [key] == keys.list_app_keys(app_id).keys


def test_list_app_keys_lists_only_that_apps_keys(account: sc.ApiClient, app_id: str) -> None:
    """ListAppKeys lists the app's keys in creation order, and no other app's."""
    other = new_app(account, "Other").id
    new_key(account, other)
    mine = [new_key(account, app_id, f"Key {n}").id for n in range(3)]
    assert mine == key_ids(account, app_id)


@pytest.mark.parametrize("key_id", ["app_" + "0" * 24, "nothing"])
def test_get_unknown_app_key_is_not_found(account: sc.ApiClient, app_id: str, key_id: str) -> None:
    """GetAppKey of an unknown key answers 404 not_found."""
    assert (404, "not_found") == refused(sc.AppKeysApi(account).get_app_key, app_id, key_id)[:2]


def test_app_key_is_not_found_through_another_app(account: sc.ApiClient, app_id: str) -> None:
    """A key is only visible under its own app: GetAppKey and DeleteAppKey elsewhere answer 404."""
    key = new_key(account, app_id)
    other = new_app(account, "Other").id
    keys = sc.AppKeysApi(account)
    assert (404, "not_found") == refused(keys.get_app_key, other, key.id)[:2]
    assert 404 == refused(keys.delete_app_key, other, key.id)[0]
    assert [key.id] == key_ids(account, app_id)


def test_delete_app_key_removes_it(account: sc.ApiClient, app_id: str) -> None:
    """DeleteAppKey removes the key: Get answers 404, List omits it, a second delete answers 404."""
    kept, doomed = new_key(account, app_id, "Kept"), new_key(account, app_id, "Doomed")
    keys = sc.AppKeysApi(account)
    keys.delete_app_key(app_id, doomed.id)
    assert (404, "not_found") == refused(keys.get_app_key, app_id, doomed.id)[:2]
    assert [kept.id] == key_ids(account, app_id)
    assert 404 == refused(keys.delete_app_key, app_id, doomed.id)[0]


def test_an_app_has_at_most_ten_keys(account: sc.ApiClient, app_id: str) -> None:
    """The eleventh key of an app is refused with 400 and nothing is created."""
    made = [new_key(account, app_id, f"Key {n}").id for n in range(10)]
    body = sc.AppKeyCreateBody(display_name="Eleventh")
    assert (400, "bad_request") == refused(sc.AppKeysApi(account).create_app_key, app_id, body)[:2]
    assert made == key_ids(account, app_id)


@pytest.mark.parametrize("body", [{}, {"displayName": ""}, {"displayName": None}])
def test_create_app_key_refuses_a_bad_name(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                           body: dict[str, Any]) -> None:
    """CreateAppKey without a valid displayName answers 400 and creates no key."""
    assert (400, "bad_request") == error_of(http.post(f"/v2/apps/{app_id}/keys", json=body))
    assert [] == key_ids(account, app_id)


def test_app_key_operations_on_unknown_app_are_app_not_found(account: sc.ApiClient) -> None:
    """CreateAppKey and ListAppKeys on an unknown app answer 404 app_not_found."""
    keys, ghost = sc.AppKeysApi(account), "0" * 24
    assert (404, "app_not_found") == refused(keys.create_app_key, ghost, sc.AppKeyCreateBody(display_name="K"))[:2]
    assert (404, "app_not_found") == refused(keys.list_app_keys, ghost)[:2]
