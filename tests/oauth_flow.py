"""The OAuth flow for tests: register a client with the CLI, play the browser, trade codes for tokens."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from tests.conftest import CheckedApiClient, Server
from tests.servers import run_cli
from tests.spec import SpecChecker
from tests.utils import in_database, sdk_error

CALLBACK = "https://partner.example/oauth/callback"
OTHER_CALLBACK = "https://partner.example/other"


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """`heliograph …` against the server's database."""
    return run_cli(server.database_url, *args)


def register(server: Server, name: str = "Partner Bot", *uris: str) -> dict[str, Any]:
    """An OAuth client, registered with `heliograph oauth-client create`."""
    args = [arg for uri in (uris or (CALLBACK, OTHER_CALLBACK)) for arg in ("--redirect-uri", uri)]
    done = cli(server, "oauth-client", "create", "--name", name, *args)
    assert 0 == done.returncode, done.stderr
    return dict(json.loads(done.stdout))


def open_browser(server: Server) -> Iterator[httpx.Client]:
    """A browser that does not follow redirects and sends no credentials unless told."""
    with httpx.Client(base_url=server.base_url, follow_redirects=False) as session:
        yield session


def checked(checker: SpecChecker, response: httpx.Response) -> httpx.Response:
    """Check a raw response against the spec (text bodies as text) and return it."""
    is_json = response.headers.get("content-type", "").startswith("application/json")
    body = response.json() if is_json and response.content else response.text
    checker.check(response.request.method, str(response.request.url), response.status_code, body)
    return response


def authorize(browser: httpx.Client, checker: SpecChecker, **params: str) -> httpx.Response:
    """GET /oauth/authorize, checked against the spec."""
    return checked(checker, browser.get("/oauth/authorize", params=params))


def consent_form(browser: httpx.Client, location: str, auth: tuple[str, str]) -> dict[str, str]:
    """Follow Authorize's redirect to the consent page; the hidden fields of its form."""
    page = browser.get(f"/oauth/{location}", auth=auth)
    assert (200, "DENY") == (page.status_code, page.headers["x-frame-options"]), page.text
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))


def answer(browser: httpx.Client, form: dict[str, str], auth: tuple[str, str], **fields: str) -> httpx.Response:
    """POST the consent form, as the browser would."""
    return browser.post("/oauth/consent", data={**form, **fields}, auth=auth)


def redirected(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """A 302's target without its query, and that query."""
    assert 302 == response.status_code, response.text
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", {k: v[0] for k, v in parse_qs(parts.query).items()}


def grant(server: Server, checker: SpecChecker, client: dict[str, Any], app_id: str, state: str = "s1",
          auth: tuple[str, str] | None = None) -> str:
    """Run the browser part of the flow for `app_id`; the authorization code."""
    with httpx.Client(base_url=server.base_url, follow_redirects=False) as session:
        started = authorize(session, checker, response_type="code", client_id=client["clientId"], state=state)
        form = consent_form(session, started.headers["location"], auth or server.account_key)
        target, query = redirected(answer(session, form, auth or server.account_key, app_id=app_id,
                                          decision="allow"))
    assert (CALLBACK, state) == (target, query["state"])
    return query["code"]


def anonymous(server: Server, checker: SpecChecker) -> sc.ApiClient:
    """The official SDK with no credentials (GetToken and GetTokenInfo name none)."""
    api = CheckedApiClient(sc.Configuration(host=server.base_url))
    api.checker = checker
    return api


def exchange(server: Server, checker: SpecChecker, client: dict[str, Any], code: str, **overrides: str) -> Any:
    """GetToken through the SDK."""
    fields = {"code": code, "grant_type": "authorization_code", "client_id": client["clientId"],
              "client_secret": client["clientSecret"], **overrides}
    return sc.OAuthEndpointsApi(anonymous(server, checker)).get_token(sc.GetTokenRequest(**fields))


def bearer(server: Server, checker: SpecChecker, token: str) -> sc.ApiClient:
    """The official SDK authenticated with an OAuth access token."""
    api = CheckedApiClient(sc.Configuration(host=server.base_url, access_token=token))
    api.checker = checker
    return api


def connect(server: Server, checker: SpecChecker, client: dict[str, Any], app_id: str) -> str:
    """The whole flow: an access token for `app_id`."""
    return str(exchange(server, checker, client, grant(server, checker, client, app_id)).access_token)


def token_info(server: Server, checker: SpecChecker, authorization: str) -> Any:
    return sc.OAuthEndpointsApi(anonymous(server, checker)).get_token_info(_headers={"Authorization": authorization})


def oauth_integration_id(server: Server, app_id: str) -> str:
    """The id of the app's `oauth` integration (no API operation shows it)."""
    from heliograph.store import tables as t

    [(found,)] = in_database(server.database_url, sa.select(t.integrations.c.id).where(
        t.integrations.c.app_id == app_id, t.integrations.c.type == "oauth"))
    return str(found)


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(sc.ApiException) as raised:
        call(*args, **kwargs)
    return sdk_error(raised)[:2]
