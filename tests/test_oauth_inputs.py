"""OAuth's refusals: Authorize's checks, the consent page's CSRF and key rules, GetToken's bad inputs,
expired requests and codes (with a fake clock), and the `heliograph oauth-client` command."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.errors import ApiError
from tests.conftest import Server
from tests.fakes import FakeClock
from tests.integrations import HOOK
from tests.oauth_flow import (
    CALLBACK,
    OTHER_CALLBACK,
    answer,
    authorize,
    bearer,
    checked,
    cli,
    connect,
    consent_form,
    exchange,
    grant,
    redirected,
    refused,
    register,
)
from tests.spec import SpecChecker
from tests.utils import http_error, in_database, make_user, open_database


def codes_stored(server: Server) -> int:
    """How many authorization requests and codes the database holds."""
    from heliograph.store.tables import oauth_codes

    return int(in_database(server.database_url, sa.select(sa.func.count()).select_from(oauth_codes))[0][0])


# --- Authorize ---------------------------------------------------------------------------------

def test_authorize_refuses_an_unknown_or_missing_client(browser: httpx.Client, checker: SpecChecker,
                                                        server: Server) -> None:
    """An unknown or missing client_id is a 400 (no redirect to anywhere) and stores nothing."""
    before = codes_stored(server)
    unknown = authorize(browser, checker, response_type="code", client_id="0123456789abcdef01234567")
    missing = authorize(browser, checker, response_type="code")
    assert [(400, "bad_request", "Invalid client_id: no OAuth client has this id"),
            (400, "bad_request", "Missing required query parameter `client_id`"), before] == [
        http_error(unknown), http_error(missing), codes_stored(server)]


def test_authorize_refuses_an_unregistered_redirect_uri(browser: httpx.Client, checker: SpecChecker,
                                                        server: Server, client: dict[str, Any]) -> None:
    """A redirect_uri the client did not register is a 400, never a redirect to it."""
    response = authorize(browser, checker, response_type="code", client_id=client["clientId"],
                         redirect_uri="https://attacker.example/steal")
    assert ((400, "bad_request", "Invalid redirect_uri: it is not one of the client's registered redirect URIs"),
            None) == (http_error(response), response.headers.get("location"))


def test_wrong_response_type_goes_back_to_the_client_with_an_error(browser: httpx.Client, checker: SpecChecker,
                                                                   client: dict[str, Any]) -> None:
    """A known client with a valid URI learns of a bad response_type by redirect, with its state (RFC 6749)."""
    wrong = authorize(browser, checker, response_type="token", client_id=client["clientId"], state="st")
    missing = authorize(browser, checker, client_id=client["clientId"])
    assert [(CALLBACK, {"error": "unsupported_response_type", "state": "st"}),
            (CALLBACK, {"error": "invalid_request"})] == [redirected(wrong), redirected(missing)]


def test_a_registered_redirect_uri_may_be_chosen(browser: httpx.Client, checker: SpecChecker, server: Server,
                                                 client: dict[str, Any], app_id: str) -> None:
    """redirect_uri picks one of the registered URIs; without it the first is used."""
    started = authorize(browser, checker, response_type="code", client_id=client["clientId"],
                        redirect_uri=OTHER_CALLBACK)
    form = consent_form(browser, started.headers["location"], server.account_key)
    target, query = redirected(answer(browser, form, server.account_key, app_id=app_id, decision="allow"))
    assert (OTHER_CALLBACK, ["code"]) == (target, sorted(query))


# --- the consent page --------------------------------------------------------------------------

def started(browser: httpx.Client, checker: SpecChecker, client: dict[str, Any]) -> str:
    return str(authorize(browser, checker, response_type="code", client_id=client["clientId"],
                         state="st").headers["location"])


def test_consent_page_asks_the_browser_for_a_key(browser: httpx.Client, checker: SpecChecker,
                                                 client: dict[str, Any]) -> None:
    """Without credentials the consent page is a 401 with a Basic challenge (the browser's sign-in prompt)."""
    page = browser.get(f"/oauth/{started(browser, checker, client)}")
    assert (401, 'Basic realm="Heliograph"') == (page.status_code, page.headers["www-authenticate"])


def test_consent_refuses_a_forged_form(browser: httpx.Client, checker: SpecChecker, server: Server,
                                       client: dict[str, Any], app_id: str) -> None:
    """A wrong or missing CSRF token is a 403 / 400 and the request stays unanswered."""
    location = started(browser, checker, client)
    form = consent_form(browser, location, server.account_key)
    forged = answer(browser, {**form, "csrf": "0" * 64}, server.account_key, app_id=app_id, decision="allow")
    missing = answer(browser, {"request": form["request"]}, server.account_key, app_id=app_id, decision="allow")
    assert [403, 400] == [forged.status_code, missing.status_code]
    assert 302 == answer(browser, form, server.account_key, app_id=app_id, decision="allow").status_code


def test_csrf_token_is_bound_to_the_key_that_saw_the_page(browser: httpx.Client, checker: SpecChecker,
                                                          server: Server, client: dict[str, Any], app_id: str,
                                                          account: sc.ApiClient) -> None:
    """An app key holder's token cannot make the account key's browser connect another app."""
    key = sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="tenant")).key
    other_app = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Victim")).app.id
    form = consent_form(browser, started(browser, checker, client), (key.id, key.secret))
    assert 403 == answer(browser, form, server.account_key, app_id=other_app, decision="allow").status_code


def test_an_app_key_connects_only_its_own_app(browser: httpx.Client, checker: SpecChecker, server: Server,
                                              client: dict[str, Any], app_id: str, account: sc.ApiClient) -> None:
    """The page lists only the app key's app; naming another app is a 403; its own app works."""
    key = sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="tenant")).key
    other_app = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    location = started(browser, checker, client)
    page = browser.get(f"/oauth/{location}", auth=(key.id, key.secret))
    form = consent_form(browser, location, (key.id, key.secret))
    assert (True, False) == (f'value="{app_id}"' in page.text, f'value="{other_app}"' in page.text)
    assert 403 == answer(browser, form, (key.id, key.secret), app_id=other_app, decision="allow").status_code
    code = redirected(answer(browser, form, (key.id, key.secret), app_id=app_id, decision="allow"))[1]["code"]
    assert "Bearer" == exchange(server, checker, client, code).token_type


def test_deny_goes_back_with_access_denied_and_ends_the_request(browser: httpx.Client, checker: SpecChecker,
                                                                server: Server, client: dict[str, Any],
                                                                app_id: str) -> None:
    """Deny redirects with `error=access_denied` and the state; the request cannot be answered again."""
    form = consent_form(browser, started(browser, checker, client), server.account_key)
    denied = redirected(answer(browser, form, server.account_key, decision="deny"))
    again = answer(browser, form, server.account_key, app_id=app_id, decision="allow")
    assert ((CALLBACK, {"error": "access_denied", "state": "st"}), 400) == (denied, again.status_code)


def test_consent_refuses_unknown_requests_apps_and_other_keys(browser: httpx.Client, checker: SpecChecker,
                                                             server: Server, client: dict[str, Any],
                                                             app_id: str) -> None:
    """Unknown request 400, no app chosen 400, unknown app 404, an access token 403."""
    form = consent_form(browser, started(browser, checker, client), server.account_key)
    token = connect(server, checker, client, app_id)
    results = [browser.get("/oauth/consent?request=0123456789abcdef01234567", auth=server.account_key),
               answer(browser, form, server.account_key, decision="allow"),
               answer(browser, form, server.account_key, app_id="0123456789abcdef01234567", decision="allow"),
               browser.get("/oauth/consent?request=x", headers={"Authorization": f"Bearer {token}"})]
    assert [400, 400, 404, 403] == [r.status_code for r in results]


# --- GetToken ----------------------------------------------------------------------------------

def test_get_token_refuses_bad_client_credentials(server: Server, checker: SpecChecker,
                                                  client: dict[str, Any], app_id: str) -> None:
    """Unknown client or wrong secret: 401, and the code still works afterwards."""
    code = grant(server, checker, client, app_id)
    assert [(401, "unauthorized")] * 2 == [
        refused(exchange, server, checker, client, code, client_id="0123456789abcdef01234567"),
        refused(exchange, server, checker, client, code, client_secret="wrong")]
    assert "Bearer" == exchange(server, checker, client, code).token_type


def test_get_token_refuses_a_wrong_grant_type(server: Server, checker: SpecChecker, client: dict[str, Any],
                                              app_id: str) -> None:
    """grant_type other than `authorization_code`: 400 naming it."""
    with pytest.raises(sc.ApiException) as raised:
        exchange(server, checker, client, grant(server, checker, client, app_id), grant_type="client_credentials")
    assert (400, "Invalid grant_type: must be `authorization_code`") == (
        raised.value.status, json.loads(raised.value.body)["errors"][0]["title"])


def oauth_integrations(server: Server, app_id: str) -> int:
    """How many `oauth` integrations the app has."""
    from heliograph.store.tables import integrations

    count = sa.select(sa.func.count()).select_from(integrations).where(
        integrations.c.app_id == app_id, integrations.c.type == "oauth")
    return int(in_database(server.database_url, count)[0][0])


def test_a_reused_code_revokes_the_token_it_gave(server: Server, checker: SpecChecker, client: dict[str, Any],
                                                 app_id: str) -> None:
    """A code exchanged again is a 400 and revokes the token it gave (RFC 6749 4.1.2): the token is refused
    at once, and its connection, left without a token, goes with its webhooks as by RevokeAccess. A third
    exchange is the same 400 and changes nothing more."""
    code = grant(server, checker, client, app_id)
    api = bearer(server, checker, exchange(server, checker, client, code).access_token)
    sc.WebhooksApi(api).create_webhook(app_id, "me", sc.WebhookCreateBody(**HOOK))
    assert 1 == oauth_integrations(server, app_id)
    reused = refused(exchange, server, checker, client, code)
    after_reuse = (codes_stored(server), oauth_integrations(server, app_id))
    assert [(400, "bad_request"), (401, "unauthorized"), 0, (400, "bad_request"), after_reuse] == [
        reused, refused(sc.UsersApi(api).get_user, app_id, "nobody"), after_reuse[1],
        refused(exchange, server, checker, client, code), (codes_stored(server), oauth_integrations(server, app_id))]


def test_a_reused_code_leaves_the_other_tokens_of_its_connection(
        server: Server, checker: SpecChecker, client: dict[str, Any], app_id: str) -> None:
    """Only the token the reused code gave is revoked: another token of the same client and app, and the
    integration they share, keep working."""
    other = bearer(server, checker, connect(server, checker, client, app_id))
    code = grant(server, checker, client, app_id)
    revoked = bearer(server, checker, exchange(server, checker, client, code).access_token)
    assert [(400, "bad_request"), (401, "unauthorized"), "u1", 1] == [
        refused(exchange, server, checker, client, code), refused(sc.UsersApi(revoked).get_user, app_id, "nobody"),
        make_user(other, app_id, external_id="u1").external_id, oauth_integrations(server, app_id)]


def test_a_code_belongs_to_its_client(server: Server, checker: SpecChecker, client: dict[str, Any],
                                      app_id: str) -> None:
    """Another client (with its own valid secret) cannot redeem the code; unknown codes neither."""
    intruder = register(server, "Intruder", CALLBACK)
    code = grant(server, checker, client, app_id)
    assert [(400, "bad_request")] * 2 == [refused(exchange, server, checker, intruder, code),
                                          refused(exchange, server, checker, client, "not-a-code")]


def test_get_token_body_rules(server: Server, checker: SpecChecker, http: httpx.Client,
                              client: dict[str, Any], app_id: str) -> None:
    """A missing field is a 400 naming it; a form-encoded body works too; other content types are 415."""
    code = grant(server, checker, client, app_id)
    fields = {"grant_type": "authorization_code", "client_id": client["clientId"],
              "client_secret": client["clientSecret"]}
    with httpx.Client(base_url=server.base_url) as raw:
        missing = checked(checker, raw.post("/oauth/token", json=fields))
        plain = checked(checker, raw.post("/oauth/token", content=b"code=x", headers={"content-type": "text/plain"}))
        form = checked(checker, raw.post("/oauth/token", data={**fields, "code": code}))
    assert [(400, "bad_request", "Missing required field `code`"), 415, (200, "Bearer", "no-store")] == [
        http_error(missing), plain.status_code,
        (form.status_code, form.json()["token_type"], form.headers["cache-control"])]


# --- expiry, with a fake clock -----------------------------------------------------------------

def test_requests_and_codes_expire(database_url: str) -> None:
    """A consent request and a code live LIFETIME_MS: one millisecond later they are refused."""
    assert [400, 400] == asyncio.run(_expiry(database_url))


async def _expiry(database_url: str) -> list[int]:
    from heliograph.auth import Principal
    from heliograph.ids import IdFactory
    from heliograph.schemas.apps import AppCreateBody
    from heliograph.schemas.oauth import ConsentForm, GetTokenBody
    from heliograph.services import apps, oauth

    clock = FakeClock()
    ids = IdFactory(clock)
    owner = Principal(scope="account", key_id="act_x", app_id=None)
    statuses = []
    async with open_database(database_url) as db, db.write() as conn:
        made = await oauth.create_client(conn, ids=ids, name="P", redirect_uris=[CALLBACK])
        app = await apps.create_app(conn, ids=ids, body=AppCreateBody(display_name="A"))
        late, timely = [(await oauth.authorize(conn, ids=ids, client_id=made["clientId"], response_type="code",
                                               state=None, redirect_uri=None)).split("=")[1] for _ in range(2)]
        shown = await oauth.consent(conn, request_id=timely, principal=owner, now=clock.now)
        clock.now += oauth.LIFETIME_MS
        statuses.append(await _status(oauth.consent(conn, request_id=late, principal=owner, now=clock.now)))
        clock.now -= 1
        location = await oauth.decide(conn, now=clock.now, principal=owner, form=ConsentForm(
            request=timely, csrf=shown["csrf"], decision="allow", app_id=app["id"]))
        clock.now += oauth.LIFETIME_MS
        body = GetTokenBody(code=location.split("code=")[1], grant_type="authorization_code",
                            client_id=made["clientId"], client_secret=made["clientSecret"])
        statuses.append(await _status(oauth.get_token(conn, ids=ids, body=body)))
    return statuses


def test_a_used_code_is_remembered_until_its_expiry_is_swept(database_url: str) -> None:
    """Reused after its LIFETIME_MS, a used code still revokes its token while its row stays; once an
    Authorize has swept the expired rows it is only an unknown code (a 400 that revokes nothing)."""
    assert ["CodeReused", "oat_", 400] == asyncio.run(_reuse_after_expiry(database_url))


async def _reuse_after_expiry(database_url: str) -> list[Any]:
    from heliograph.auth import Principal
    from heliograph.ids import IdFactory
    from heliograph.schemas.apps import AppCreateBody
    from heliograph.schemas.oauth import ConsentForm, GetTokenBody
    from heliograph.services import apps, oauth

    clock = FakeClock()
    ids = IdFactory(clock)
    owner = Principal(scope="account", key_id="act_x", app_id=None)
    async with open_database(database_url) as db, db.write() as conn:
        made = await oauth.create_client(conn, ids=ids, name="P", redirect_uris=[CALLBACK])
        app = await apps.create_app(conn, ids=ids, body=AppCreateBody(display_name="A"))

        async def authorized() -> str:
            return (await oauth.authorize(conn, ids=ids, client_id=made["clientId"], response_type="code",
                                          state=None, redirect_uri=None)).split("=")[1]
        request = await authorized()
        shown = await oauth.consent(conn, request_id=request, principal=owner, now=clock.now)
        location = await oauth.decide(conn, now=clock.now, principal=owner, form=ConsentForm(
            request=request, csrf=shown["csrf"], decision="allow", app_id=app["id"]))
        body = GetTokenBody(code=location.split("code=")[1], grant_type="authorization_code",
                            client_id=made["clientId"], client_secret=made["clientSecret"])
        await oauth.get_token(conn, ids=ids, body=body)
        clock.now += oauth.LIFETIME_MS
        reused = await oauth.get_token(conn, ids=ids, body=body)
        await authorized()  # sweeps the expired rows
        revoked = reused.revoked if isinstance(reused, oauth.CodeReused) else None
        return [type(reused).__name__, (revoked or "")[:4], await _status(oauth.get_token(conn, ids=ids, body=body))]


async def _status(attempt: Any) -> int:
    try:
        await attempt
    except ApiError as error:
        return error.status
    return 200


# --- the command line --------------------------------------------------------------------------

def test_cli_refuses_bad_redirect_uris(server: Server) -> None:
    """`oauth-client create` needs absolute http(s) redirect URIs without fragments; exit 1 otherwise."""
    results = [cli(server, "oauth-client", "create", "--name", "X", "--redirect-uri", uri)
               for uri in ("not a url", "ftp://partner.example/cb", "https://partner.example/cb#frag")]
    assert [1, 1, 1] == [r.returncode for r in results]
    assert "Invalid redirect URI" in results[0].stderr


def test_cli_lists_clients_with_their_apps_and_deletes_them(server: Server, checker: SpecChecker,
                                                            app_id: str) -> None:
    """`list` shows each client and its connected apps (no secret); `delete` ends its connections."""
    made = register(server, "Listed", CALLBACK)
    token = connect(server, checker, made, app_id)
    listed = [json.loads(line) for line in cli(server, "oauth-client", "list").stdout.splitlines()]
    mine = next(c for c in listed if c["clientId"] == made["clientId"])
    assert {"clientId": made["clientId"], "name": "Listed", "redirectUris": [CALLBACK],
            "connectedApps": [app_id]} == mine
    assert 0 == cli(server, "oauth-client", "delete", made["clientId"]).returncode
    assert (1, (401, "unauthorized")) == (cli(server, "oauth-client", "delete", made["clientId"]).returncode,
                                          refused(sc.UsersApi(bearer(server, checker, token)).get_user, app_id, "x"))

