"""Custom integration API keys (CreateCustomIntegrationKey … DeleteCustomIntegrationKey) through the SDK."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.integrations import create_raw, custom
from tests.utils import MISSING_ID, http_error, sdk_error

KEY_ID = re.compile(r"^int_[0-9a-f]{24}$")


def keys_api(account: sc.ApiClient) -> sc.CustomIntegrationApiKeysApi:
    return sc.CustomIntegrationApiKeysApi(account)


def new_key(account: sc.ApiClient, app_id: str, integration_id: str, name: str = "Key") -> sc.ApiKey:
    return keys_api(account).create_custom_integration_key(
        app_id, integration_id, sc.IntegrationApiKey(display_name=name)).key


def key_ids(account: sc.ApiClient, app_id: str, integration_id: str) -> list[str]:
    return [k.id for k in keys_api(account).list_custom_integration_keys(app_id, integration_id).keys]


@pytest.fixture
def integration_id(account: sc.ApiClient, app_id: str) -> str:
    """A custom integration of the test's app."""
    return str(custom(account, app_id).id)


def test_create_key_answers_201_with_an_int_id_and_a_secret(account: sc.ApiClient, app_id: str,
                                                            integration_id: str) -> None:
    """CreateCustomIntegrationKey answers 201 with an `int_` + 24-hex id, the name and an 86-char secret."""
    reply = keys_api(account).create_custom_integration_key_with_http_info(
        app_id, integration_id, sc.IntegrationApiKey(display_name="Bot key"))
    key = reply.data.key
    assert (201, True, "Bot key", 86) == (reply.status_code, bool(KEY_ID.match(key.id)), key.display_name,
                                          len(key.secret))


def test_list_get_and_delete_keys(account: sc.ApiClient, app_id: str, integration_id: str) -> None:
    """Keys are listed oldest first and fetched with their secret; a deleted key is gone."""
    first, second = new_key(account, app_id, integration_id, "A"), new_key(account, app_id, integration_id, "B")
    assert [first.id, second.id] == key_ids(account, app_id, integration_id)
    assert second == keys_api(account).get_custom_integration_key(app_id, integration_id, second.id).key
    assert {} == keys_api(account).delete_custom_integration_key(app_id, integration_id, first.id)
    assert [second.id] == key_ids(account, app_id, integration_id)


def test_keys_belong_to_their_integration(account: sc.ApiClient, app_id: str, integration_id: str) -> None:
    """Another custom integration lists none of these keys and cannot get or delete them (404)."""
    key = new_key(account, app_id, integration_id)
    other = custom(account, app_id, "Other").id
    for call in (keys_api(account).get_custom_integration_key, keys_api(account).delete_custom_integration_key):
        with pytest.raises(sc.ApiException) as raised:
            call(app_id, other, key.id)
        assert (404, "not_found", "Key not found") == sdk_error(raised)
    assert ([], [key.id]) == (key_ids(account, app_id, other), key_ids(account, app_id, integration_id))


def test_eleventh_key_is_400(account: sc.ApiClient, app_id: str, integration_id: str) -> None:
    """An integration has at most 10 keys: the 11th answers 400 and is not stored."""
    made = [new_key(account, app_id, integration_id, f"K{n}").id for n in range(10)]
    with pytest.raises(sc.ApiException) as raised:
        new_key(account, app_id, integration_id, "Eleventh")
    assert (400, "bad_request", "An integration can have a maximum of 10 keys") == sdk_error(raised)
    assert made == key_ids(account, app_id, integration_id)


@pytest.mark.parametrize("operation", ["create", "list", "get", "delete"])
def test_keys_of_a_non_custom_integration_are_400(http: httpx.Client, app_id: str, operation: str) -> None:
    """Every key operation on a non-custom integration answers the spec's 400."""
    web = create_raw(http, app_id, "web").json()["integration"]["id"]
    keys = f"/v2/apps/{app_id}/integrations/{web}/keys"
    response = {"create": lambda: http.post(keys, json={"displayName": "K"}), "list": lambda: http.get(keys),
                "get": lambda: http.get(f"{keys}/int_{MISSING_ID}"),
                "delete": lambda: http.delete(f"{keys}/int_{MISSING_ID}")}[operation]()
    assert (400, "bad_request", "API keys are available only for custom integrations") == http_error(response)


@pytest.mark.parametrize(("where", "expected"), [("integration", "integration_not_found"),
                                                 ("app", "app_not_found"), ("key", "not_found")])
def test_unknown_integration_app_or_key_is_404(http: httpx.Client, app_id: str, integration_id: str, where: str,
                                               expected: str) -> None:
    """An unknown integration, app or key answers 404 with its code."""
    app, integration = {"integration": (app_id, MISSING_ID), "app": (MISSING_ID, integration_id),
                        "key": (app_id, integration_id)}[where]
    response = http.get(f"/v2/apps/{app}/integrations/{integration}/keys/int_{MISSING_ID}")
    assert (404, expected) == http_error(response)[:2]


@pytest.mark.parametrize("body", [{}, {"displayName": ""}, {"displayName": "x" * 101}, {"displayName": 3}])
def test_bad_key_body_is_400(account: sc.ApiClient, http: httpx.Client, app_id: str, integration_id: str,
                             body: dict[str, Any]) -> None:
    """A missing, empty, too long or non-string displayName answers 400; no key is made."""
    response = http.post(f"/v2/apps/{app_id}/integrations/{integration_id}/keys", json=body)
    assert (400, "bad_request") == http_error(response)[:2]
    assert [] == key_ids(account, app_id, integration_id)
