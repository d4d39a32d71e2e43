"""OAuth for marketplace integrations: authorize → consent → code → token, then what the token can do,
GetTokenInfo, and RevokeAccess (its webhooks go, every token of it stops working)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import sunshine_conversations_client as sc

from tests.conftest import Server, sdk_client
from tests.integrations import HOOK, custom
from tests.oauth_flow import (
    anonymous,
    authorize,
    bearer,
    connect,
    consent_form,
    exchange,
    grant,
    oauth_integration_id,
    refused,
    token_info,
)
from tests.receiver import Receiver
from tests.spec import SpecChecker
from tests.utils import make_conversation, make_user, post, text

# --- the flow ----------------------------------------------------------------------------------

def test_authorize_redirects_to_the_consent_page(browser: httpx.Client, checker: SpecChecker,
                                                 client: dict[str, Any]) -> None:
    """Authorize answers 302 with the spec's text/plain body, to the consent page of a new request."""
    response = authorize(browser, checker, response_type="code", client_id=client["clientId"], state="abc")
    location = response.headers["location"]
    assert (302, f"Found. Redirecting to {location}", True) == (
        response.status_code, response.text, location.startswith("consent?request="))


def test_consent_page_names_the_client_and_lists_the_apps(browser: httpx.Client, checker: SpecChecker,
                                                          server: Server, client: dict[str, Any],
                                                          app_id: str) -> None:
    """The page, behind the account key, names the client and offers the apps, with a CSRF token."""
    location = authorize(browser, checker, response_type="code", client_id=client["clientId"]).headers["location"]
    page = browser.get(f"/oauth/{location}", auth=server.account_key)
    assert ("Partner Bot" in page.text, f'value="{app_id}"' in page.text, "no-store") == (
        True, True, page.headers["cache-control"])
    assert {"request", "csrf"} == set(consent_form(browser, location, server.account_key))


def test_code_and_state_come_back_and_the_token_works(server: Server, checker: SpecChecker,
                                                      client: dict[str, Any], app_id: str,
                                                      account: sc.ApiClient) -> None:
    """Allow → redirect with code and state → GetToken → a Bearer token for users, conversations, messages."""
    result = exchange(server, checker, client, grant(server, checker, client, app_id, state="xyz-42"))
    api = bearer(server, checker, result.access_token)
    user = make_user(api, app_id, external_id="oauth-user")
    conversation = make_conversation(api, app_id, user)
    sent = post(api, app_id, conversation.id, text("Hello from the marketplace"))
    assert ("Bearer", user.id, [sent.id]) == (
        result.token_type, sc.UsersApi(account).get_user(app_id, "oauth-user").user.id,
        [m.id for m in sc.MessagesApi(api).list_messages(app_id, conversation.id).messages])


def test_token_manages_its_own_webhooks_as_me(server: Server, checker: SpecChecker, client: dict[str, Any],
                                              app_id: str) -> None:
    """`me` is the client's integration: create, list, get, update and delete its webhooks (even the last)."""
    hooks = sc.WebhooksApi(bearer(server, checker, connect(server, checker, client, app_id)))
    made = hooks.create_webhook(app_id, "me", sc.WebhookCreateBody(**HOOK)).webhook
    assert [made.id] == [w.id for w in hooks.list_webhooks(app_id, "me").webhooks]
    updated = hooks.update_webhook(app_id, "me", made.id, sc.WebhookBody(triggers=["conversation:read"])).webhook
    assert (made.target, ["conversation:read"]) == (hooks.get_webhook(app_id, "me", made.id).webhook.target,
                                                     updated.triggers)
    hooks.delete_webhook(app_id, "me", made.id)
    assert [] == hooks.list_webhooks(app_id, "me").webhooks


def test_webhooks_of_the_token_receive_the_apps_events(server: Server, checker: SpecChecker,
                                                       client: dict[str, Any], app_id: str,
                                                       account: sc.ApiClient, conversation_id: str) -> None:
    """A webhook made with the token receives events of changes made by anyone in the app."""
    receiver = Receiver()
    try:
        hooks = sc.WebhooksApi(bearer(server, checker, connect(server, checker, client, app_id)))
        hooks.create_webhook(app_id, "me", sc.WebhookCreateBody(target=receiver.url,
                                                                triggers=["conversation:message"]))
        sent = post(account, app_id, conversation_id, text("for the partner"))
        events = receiver.wait_for(lambda got: len(got) == 1)
    finally:
        receiver.stop()
    assert sent.id == events[0]["payload"]["message"]["id"]


def test_token_is_refused_everywhere_else(server: Server, checker: SpecChecker, client: dict[str, Any],
                                          app_id: str, account: sc.ApiClient) -> None:
    """Apps, app keys, integrations, integration keys, attachments, other integrations' webhooks, other apps:
    403, although integration keys reach attachments (the OAuth tag's table does not list them)."""
    api = bearer(server, checker, connect(server, checker, client, app_id))
    other = custom(account, app_id, "Other")
    another_app = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Another")).app.id
    calls = [(sc.AppsApi(api).get_app, app_id), (sc.AppsApi(api).list_apps,),
             (sc.AppKeysApi(api).list_app_keys, app_id), (sc.IntegrationsApi(api).list_integrations, app_id),
             (sc.IntegrationsApi(api).get_integration, app_id, other.id),
             (sc.CustomIntegrationApiKeysApi(api).list_custom_integration_keys, app_id, other.id),
             (sc.WebhooksApi(api).list_webhooks, app_id, other.id),
             (sc.AttachmentsApi(api).delete_attachment, app_id,
              sc.AttachmentDeleteBody(media_url="https://example.com/a.png")),
             (sc.UsersApi(api).get_user, another_app, "nobody")]
    assert [(403, "forbidden")] * len(calls) == [refused(*call) for call in calls]


def test_integrations_list_stays_spec_valid_without_the_oauth_integration(
        server: Server, checker: SpecChecker, client: dict[str, Any], app_id: str, account: sc.ApiClient) -> None:
    """ListIntegrations leaves the `oauth` integration out; GetIntegration and DeleteIntegration do not find it."""
    connect(server, checker, client, app_id)
    mine = custom(account, app_id, "Mine")
    hidden = oauth_integration_id(server, app_id)
    integrations = sc.IntegrationsApi(account)
    assert [mine.id] == [i.id for i in integrations.list_integrations(app_id).integrations]
    assert [(404, "integration_not_found")] * 2 == [refused(integrations.get_integration, app_id, hidden),
                                                    refused(integrations.delete_integration, app_id, hidden)]


def test_connecting_again_reuses_the_integration_and_keeps_its_webhooks(
        server: Server, checker: SpecChecker, client: dict[str, Any], app_id: str) -> None:
    """A second authorization of the same client and app gives a new token on the same integration."""
    first = sc.WebhooksApi(bearer(server, checker, connect(server, checker, client, app_id)))
    made = first.create_webhook(app_id, "me", sc.WebhookCreateBody(**HOOK)).webhook
    second = sc.WebhooksApi(bearer(server, checker, connect(server, checker, client, app_id)))
    assert [made.id] == [w.id for w in second.list_webhooks(app_id, "me").webhooks]


# --- GetTokenInfo and RevokeAccess -------------------------------------------------------------

def test_token_info_names_the_app(server: Server, checker: SpecChecker, client: dict[str, Any],
                                  app_id: str) -> None:
    """GetTokenInfo answers the token's app."""
    info = token_info(server, checker, "Bearer " + connect(server, checker, client, app_id))
    assert (app_id, "Test app") == (info.app.id, info.app.display_name)


def test_token_info_wants_an_access_token(server: Server, checker: SpecChecker, app_id: str,
                                          account: sc.ApiClient) -> None:
    """No credentials or a bad token: 401; valid credentials that are not an access token: 403."""
    key = sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="k")).key
    basic = "Basic " + base64.b64encode(f"{key.id}:{key.secret}".encode()).decode()
    assert [(401, "unauthorized"), (401, "unauthorized"), (403, "forbidden")] == [
        refused(token_info, server, checker, ""), refused(token_info, server, checker, "Bearer nonsense"),
        refused(token_info, server, checker, basic)]


def test_revoke_removes_the_webhooks_and_every_token(server: Server, checker: SpecChecker,
                                                     client: dict[str, Any], app_id: str,
                                                     account: sc.ApiClient) -> None:
    """RevokeAccess answers {}; the integration's webhooks are gone and its tokens refused at once."""
    token, other_token = (connect(server, checker, client, app_id) for _ in range(2))
    api = bearer(server, checker, token)
    made = sc.WebhooksApi(api).create_webhook(app_id, "me", sc.WebhookCreateBody(**HOOK)).webhook
    integration_id = oauth_integration_id(server, app_id)
    app_key = sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="owner")).key
    owner = sc.WebhooksApi(sdk_client(server, checker, app_key.id, app_key.secret))
    assert [made.id] == [w.id for w in owner.list_webhooks(app_id, integration_id).webhooks]
    assert {} == sc.OAuthEndpointsApi(api).revoke_access()
    assert [(404, "integration_not_found"), (401, "unauthorized"), (401, "unauthorized"),
            (401, "unauthorized")] == [
        refused(owner.list_webhooks, app_id, integration_id), refused(sc.UsersApi(api).get_user, app_id, "nobody"),
        refused(sc.UsersApi(bearer(server, checker, other_token)).get_user, app_id, "nobody"),
        refused(token_info, server, checker, "Bearer " + token)]


def test_revoke_wants_an_access_token(server: Server, checker: SpecChecker, app_id: str,
                                      account: sc.ApiClient) -> None:
    """RevokeAccess: an account key 403 (scope), a custom integration key 403, no credentials 401."""
    integration = custom(account, app_id)
    key = sc.CustomIntegrationApiKeysApi(account).create_custom_integration_key(
        app_id, integration.id, sc.IntegrationApiKey(display_name="Bot")).key
    calls = [sc.OAuthEndpointsApi(api).revoke_access for api in (
        account, sdk_client(server, checker, key.id, key.secret), anonymous(server, checker))]
    assert [(403, "forbidden"), (403, "forbidden"), (401, "unauthorized")] == [refused(c) for c in calls]
    assert [integration.id] == [i.id for i in sc.IntegrationsApi(account).list_integrations(app_id).integrations]


def test_access_token_id_is_no_basic_key(server: Server, checker: SpecChecker, client: dict[str, Any],
                                         app_id: str) -> None:
    """An access token is a Bearer JWT only: its `oat_` id with any password is refused as Basic auth."""
    import jwt

    token = connect(server, checker, client, app_id)
    kid = jwt.get_unverified_header(token)["kid"]
    assert ("oat_", (401, "unauthorized")) == (kid[:4], refused(
        sc.UsersApi(sdk_client(server, checker, kid, "guess")).get_user, app_id, "nobody"))
