"""Paths as the hosted service accepts them: under the spec's `/sc` base, fixed segments in any case.

Clients configured with the spec's first server, `https://{subdomain}.zendesk.com/sc`, call `/sc/v2/…`
and `/sc/oauth/…`; Zendesk's own marketplace sample calls `GET /v2/tokeninfo`. Ids stay case-sensitive,
and Heliograph's own routes (/admin, /health, media) are not moved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.api import RESOURCES, all_routes
from tests.conftest import CheckedApiClient, Server
from tests.oauth_flow import CALLBACK, answer, authorize, checked, consent_form, redirected
from tests.spec import SpecChecker
from tests.utils import error_of, make_conversation, make_user, seed_messages, text

HOSTED = "/sc"


@pytest.fixture
def hosted(server: Server, checker: SpecChecker) -> sc.ApiClient:
    """The official SDK configured as for the hosted service: its base URL ends in /sc."""
    client = CheckedApiClient(sc.Configuration(host=server.base_url + HOSTED, username=server.account_key[0],
                                               password=server.account_key[1]))
    client.checker = checker
    return client


@pytest.fixture
def hosted_http(server: Server) -> Iterator[httpx.Client]:
    """Raw HTTP with the account key, on the server's root (paths below name their prefix)."""
    with httpx.Client(base_url=server.base_url, auth=server.account_key) as client:
        yield client


def reply(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def shouted(template: str) -> tuple[str, dict[str, str]]:
    """The template as a path under /SC with its fixed segments upper-cased and a mixed-case value for each
    parameter; and those values by name."""
    parts = re.split(r"\{(\w+)\}", template)  # fixed text at even indexes, parameter names at odd ones
    values = {name: f"Id{i}x" for i, name in enumerate(parts[1::2])}
    return "/SC" + "".join(values[part] if i % 2 else part.upper() for i, part in enumerate(parts)), values


def test_every_operation_answers_under_sc_in_upper_case_with_its_ids_as_sent() -> None:
    """Each operation's path, under /SC with every fixed segment upper-cased, routes to that operation
    (the first route that matches it) with its parameters exactly as sent."""
    routes = all_routes()
    expected, actual = [], []
    for route in (route for module in RESOURCES for route in module.routes.routes):
        path, values = shouted(route.template)
        found = next(r for r in routes if r.method == route.method and r.pattern.match(path))
        match = found.pattern.match(path)
        expected.append((route.operation_id, values))
        actual.append((found.operation_id, match.groupdict() if match else {}))
    assert expected == actual


def test_the_sdk_works_under_the_hosted_base(hosted: sc.ApiClient) -> None:
    """An SDK whose host ends in /sc creates an app, a user and a conversation, posts and lists messages."""
    app_id = str(sc.AppsApi(hosted).create_app(sc.AppCreateBody(display_name="Hosted")).app.id)
    user = make_user(hosted, app_id, external_id="ana")
    conversation_id = str(make_conversation(hosted, app_id, user).id)
    body = sc.MessagePost(author=sc.Author(type="business"), content=text("hello"))
    posted = sc.MessagesApi(hosted).post_message(app_id, conversation_id, body).messages[0]
    listed = sc.MessagesApi(hosted).list_messages(app_id, conversation_id)
    assert ([posted.id], "Hosted") == ([m.id for m in listed.messages],
                                       sc.AppsApi(hosted).get_app(app_id).app.display_name)


def test_paging_links_keep_the_prefix_the_request_used(server: Server, hosted: sc.ApiClient,
                                                      hosted_http: httpx.Client) -> None:
    """links.prev of a list read under /sc points under /sc, and following it reads the older page."""
    app_id = str(sc.AppsApi(hosted).create_app(sc.AppCreateBody(display_name="Hosted")).app.id)
    conversation_id = str(make_conversation(hosted, app_id, make_user(hosted, app_id, external_id="ana")).id)
    seed_messages(server.database_url, conversation_id, 101)
    newest = sc.MessagesApi(hosted).list_messages(app_id, conversation_id)
    older = hosted_http.get(newest.links.prev).json()
    path = f"{HOSTED}/v2/apps/{app_id}/conversations/{conversation_id}/messages"
    assert (f"{server.base_url}{path}", ["seed 0"], False) == (
        newest.links.prev.split("?")[0], [m["content"]["text"] for m in older["messages"]], older["meta"]["hasMore"])


def test_next_links_keep_the_prefix_and_its_spelling(server: Server, hosted_http: httpx.Client) -> None:
    """links.next of ListApps read as /SC/V2/apps leads where the client can follow, spelled as it asked."""
    for name in ("one", "two"):
        hosted_http.post("/v2/apps", json={"displayName": name}).raise_for_status()
    sc_apps = hosted_http.get("/SC/V2/apps", params={"page[size]": 1}).json()
    root_apps = hosted_http.get("/v2/apps", params={"page[size]": 1}).json()
    following = hosted_http.get(sc_apps["links"]["next"])
    assert (f"{server.base_url}/SC/V2/apps", root_apps["apps"], 200) == (
        sc_apps["links"]["next"].split("?")[0], sc_apps["apps"], following.status_code)


@pytest.mark.parametrize("spelling", ["/V2/Apps/{}", "/v2/APPS/{}", "/sc/v2/apps/{}", "/SC/V2/APPS/{}"])
def test_fixed_segments_match_in_any_case(http: httpx.Client, app_id: str, spelling: str) -> None:
    """GetApp answers the same under /sc and with its fixed segments in any case as on its own path."""
    assert reply(http.get(f"/v2/apps/{app_id}")) == reply(http.get(spelling.format(app_id)))


def test_token_info_answers_in_any_case(http: httpx.Client) -> None:
    """GET /v2/tokeninfo, as Zendesk's marketplace sample spells it, is GetTokenInfo (403 for an account key)."""
    expected = reply(http.get("/v2/tokenInfo"))
    assert [expected] * 3 == [reply(http.get(path)) for path in ("/v2/tokeninfo", "/v2/TOKENINFO", "/sc/v2/tokeninfo")]


def test_ids_and_external_ids_stay_case_sensitive(http: httpx.Client, account: sc.ApiClient, app_id: str) -> None:
    """Only fixed segments fold case: an app id or an externalId in another case names nothing (404)."""
    make_user(account, app_id, external_id="Ana")
    answers = [http.get(path) for path in (f"/v2/apps/{app_id.upper()}", f"/V2/APPS/{app_id}/USERS/ana",
                                           f"/sc/v2/apps/{app_id}/users/ANA", f"/V2/APPS/{app_id}/USERS/Ana")]
    assert [(404, "app_not_found"), (404, "user_not_found"), (404, "user_not_found"), (200, "Ana")] == [
        (r.status_code, r.json()["user"]["externalId"]) if r.status_code == 200 else error_of(r) for r in answers]


@pytest.mark.parametrize("path", ["/sc/sc/v2/apps", "/scv2/apps", "/sc", "/x/v2/apps", "/sc/admin/deliveries/x",
                                  "/ADMIN/deliveries/x", "/sc/health"])
def test_other_prefixes_and_heliograph_own_routes_are_not_moved(hosted_http: httpx.Client, path: str) -> None:
    """Only one /sc is taken, and only before the spec's paths: /admin and /health stay at the root as written."""
    assert (404, "not_found") == error_of(hosted_http.get(path))


def test_the_oauth_flow_runs_under_the_hosted_base(server: Server, checker: SpecChecker, client: dict[str, Any],
                                                   app_id: str) -> None:
    """Authorize, the consent page it leads to, GetToken and GetTokenInfo all answer under /sc."""
    with httpx.Client(base_url=server.base_url + HOSTED, follow_redirects=False) as browser:
        started = authorize(browser, checker, response_type="code", client_id=client["clientId"], state="s")
        form = consent_form(browser, started.headers["location"], server.account_key)
        target, query = redirected(answer(browser, form, server.account_key, app_id=app_id, decision="allow"))
        token = checked(checker, browser.post("/oauth/token", json={
            "code": query["code"], "grant_type": "authorization_code", "client_id": client["clientId"],
            "client_secret": client["clientSecret"]})).json()["access_token"]
        info = checked(checker, browser.get("/v2/tokeninfo", headers={"authorization": f"Bearer {token}"}))
    assert ("consent?", CALLBACK, app_id) == (started.headers["location"][:8], target, info.json()["app"]["id"])
