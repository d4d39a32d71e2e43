"""The end users' SDK API, first part (docs/end-users.md): an SDK integration's config, anonymous users
with session tokens, the signed-in user's own profile, and the originWhitelist with CORS, on a live
server; end users' credentials reach their own user only, and never the v2 API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.store import tables as t
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.utils import MISSING_ID, error_of, row_count

SHOP = "https://shop.example"
EVIL = "https://evil.example"


@pytest.fixture
def browserless(server: Server) -> Iterator[httpx.Client]:
    """HTTP with no credentials: what a widget's page sends."""
    with httpx.Client(base_url=server.base_url) as client:
        yield client


@pytest.fixture
def web(http: httpx.Client, app_id: str) -> dict[str, Any]:
    """A web integration that only the shop's pages may use."""
    response = http.post(f"/v2/apps/{app_id}/integrations", json={
        "type": "web", "brandColor": "112233", "businessName": "Shop", "originWhitelist": [SHOP]})
    return dict(response.json()["integration"])


def basic(user_id: str, token: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user_id}:{token}".encode()).decode()}


def sign_up(client: httpx.Client, app_id: str, integration_id: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"/sdk/v2/apps/{app_id}/appusers", json={"integrationId": integration_id, **fields},
                           headers={"origin": SHOP})
    assert 201 == response.status_code, response.text
    return dict(response.json())


def test_config_tells_a_widget_how_to_start(browserless: httpx.Client, server: Server, account: sc.ApiClient,
                                             app_id: str, web: dict[str, Any]) -> None:
    """The config names the app, the integration's public fields and the API's URL; the shop's pages may
    read it (CORS), a foreign origin is refused, and a non-SDK or unknown integration is not found."""
    path = f"/sdk/v2/integrations/{web['id']}/config"
    shop, plain, evil = (browserless.get(path, headers=h) for h in ({"origin": SHOP}, {}, {"origin": EVIL}))
    config = shop.json()["config"]
    assert (200, SHOP, app_id, False) == (shop.status_code, shop.headers.get("access-control-allow-origin"),
                                          config["app"]["id"], config["app"]["settings"]["multiConvoEnabled"])
    assert ("112233", "Shop", f"{server.base_url}/sdk/v2/apps/{app_id}") == (
        config["integration"]["brandColor"], config["integration"]["businessName"], config["urls"]["api"])
    assert (200, None) == (plain.status_code, plain.headers.get("access-control-allow-origin"))
    assert (403, "forbidden", None) == (evil.status_code, error_of(evil)[1], evil.headers.get(
        "access-control-allow-origin"))
    bot, _ = custom_integration(account, app_id, "https://example.com/hook", ["conversation:message"])
    for other in (bot, MISSING_ID):
        missing = browserless.get(f"/sdk/v2/integrations/{other}/config")
        assert (404, "integration_not_found") == error_of(missing)


def test_an_anonymous_user_gets_a_session_and_an_sdk_client(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """POST appusers makes a user without externalId, an `sdk` client (listed by ListClients) and a session
    token; client:add names the web integration as its source."""
    custom_integration(account, app_id, receiver.url, ["client:add"])
    created = sign_up(browserless, app_id, web["id"], profile={"givenName": "Ana"}, metadata={"plan": "free"})
    user, client = created["user"], created["client"]
    listed = sc.ClientsApi(account).list_clients(app_id, user["id"]).clients
    event = receiver.wait_for(lambda got: len(got) >= 1)[0]
    assert (None, "Ana", {"plan": "free"}, 43) == (user.get("externalId"), user["profile"]["givenName"],
                                                   user["metadata"], len(created["sessionToken"]))
    assert ("sdk", "active", [client["id"]]) == (client["type"], client["status"], [c.id for c in listed])
    assert ("client:add", {"type": "web", "integrationId": web["id"]}, user["id"]) == (
        event["type"], event["payload"]["source"], event["payload"]["user"]["id"])


def test_the_session_token_reaches_the_users_own_profile_only(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any]) -> None:
    """Basic userId:sessionToken reads the user; a wrong token, another user, another app or the v2 API
    with these credentials is refused, and nothing tells whether another user exists."""
    ana, bob = (sign_up(browserless, app_id, web["id"]) for _ in range(2))
    ana_id, token = ana["user"]["id"], ana["sessionToken"]
    own = browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}", headers=basic(ana_id, token))
    assert (200, ana["user"]) == (own.status_code, own.json()["user"])
    other_app = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    refusals = [
        browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}", headers=basic(ana_id, token + "x")),
        browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}", headers=basic(bob["user"]["id"], token)),
        browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}"),
        browserless.get(f"/sdk/v2/apps/{other_app}/appusers/{ana_id}", headers=basic(ana_id, token)),
        browserless.get(f"/v2/apps/{app_id}/users/{ana_id}", headers=basic(ana_id, token)),
    ]
    assert [(401, "unauthorized")] * 5 == [error_of(r) for r in refusals]
    for someone in (bob["user"]["id"], MISSING_ID):
        hidden = browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{someone}", headers=basic(ana_id, token))
        assert (404, "user_not_found") == error_of(hidden)


def test_cors_lets_the_whitelisted_origin_in_and_keeps_others_out(
        browserless: httpx.Client, server: Server, app_id: str, web: dict[str, Any]) -> None:
    """A preflight from the shop is granted; from elsewhere it is a 403 without CORS headers, and a
    request from there creates nothing. The shop can read even a 400 (the CORS headers stay)."""
    path = f"/sdk/v2/apps/{app_id}/appusers"
    asks = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    granted = browserless.options(path, headers={"origin": SHOP, **asks})
    refused = browserless.options(path, headers={"origin": EVIL, **asks})
    assert (200, SHOP, "POST", "authorization, content-type") == (
        granted.status_code, granted.headers.get("access-control-allow-origin"),
        granted.headers.get("access-control-allow-methods"), granted.headers.get("access-control-allow-headers"))
    assert (403, None) == (refused.status_code, refused.headers.get("access-control-allow-origin"))
    before = row_count(server.database_url, t.users, app_id)
    foreign = browserless.post(path, json={"integrationId": web["id"]}, headers={"origin": EVIL})
    assert ((403, "forbidden"), before) == (error_of(foreign), row_count(server.database_url, t.users, app_id))
    malformed = browserless.post(path, json={"profile": {}}, headers={"origin": SHOP})
    assert ((400, "bad_request"), SHOP) == (error_of(malformed), malformed.headers.get("access-control-allow-origin"))


def test_an_integration_without_a_whitelist_takes_any_origin(browserless: httpx.Client, http: httpx.Client,
                                                             app_id: str) -> None:
    """No originWhitelist: every origin may start a session; an ios integration has no whitelist at all."""
    for body in ({"type": "web"}, {"type": "ios"}):
        integration = http.post(f"/v2/apps/{app_id}/integrations", json=body).json()["integration"]["id"]
        response = browserless.post(f"/sdk/v2/apps/{app_id}/appusers", json={"integrationId": integration},
                                    headers={"origin": EVIL})
        assert (201, EVIL) == (response.status_code, response.headers.get("access-control-allow-origin"))
    not_sdk = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "telegram", "token": "t"}).json()
    response = browserless.post(f"/sdk/v2/apps/{app_id}/appusers",
                                json={"integrationId": not_sdk["integration"]["id"]})
    assert (404, "integration_not_found") == error_of(response)

