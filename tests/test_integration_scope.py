"""Integration scope: an `int_` key (Basic, or a JWT with `scope: integration`) may call exactly what the
spec's security blocks list for it, on its own app, and only its own integration's webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
import sunshine_conversations_client as sc

from tests.conftest import Server, bearer_client, sdk_client
from tests.integrations import HOOK, app_client, create_raw, custom
from tests.spec import SpecChecker
from tests.utils import make_conversation, make_user, post, sdk_error, text


@pytest.fixture
def integration(account: sc.ApiClient, app_id: str) -> sc.Custom:
    """A custom integration of the test's app."""
    return custom(account, app_id)


@pytest.fixture
def int_key(account: sc.ApiClient, app_id: str, integration: sc.Custom) -> sc.ApiKey:
    """An API key of that integration."""
    return sc.CustomIntegrationApiKeysApi(account).create_custom_integration_key(
        app_id, integration.id, sc.IntegrationApiKey(display_name="Bot")).key


@pytest.fixture(params=["basic", "jwt"])
def int_api(request: pytest.FixtureRequest, server: Server, checker: SpecChecker,
            int_key: sc.ApiKey) -> sc.ApiClient:
    """The SDK authenticated with the integration key, by Basic auth and by an integration-scoped JWT."""
    return sdk_client(server, checker, int_key.id, int_key.secret, use_jwt=request.param == "jwt",
                      scope="integration")


def refused(call: Callable[..., Any], *args: Any) -> tuple[int, str]:
    """The (status, code) of an SDK call that must fail."""
    with pytest.raises(sc.ApiException) as raised:
        call(*args)
    return sdk_error(raised)[:2]


def test_integration_key_works_on_users_conversations_and_messages(int_api: sc.ApiClient, account: sc.ApiClient,
                                                                   app_id: str) -> None:
    """An integration key creates users, conversations and messages in its app and reads them back."""
    user = make_user(int_api, app_id, external_id="bot-user")
    conversation = make_conversation(int_api, app_id, user)
    sent = post(int_api, app_id, conversation.id, text("Hello from the bot"))
    listed = sc.MessagesApi(int_api).list_messages(app_id, conversation.id).messages
    assert (user.id, [sent.id], "bot-user") == (
        sc.UsersApi(int_api).get_user(app_id, "bot-user").user.id, [m.id for m in listed],
        sc.UsersApi(account).get_user(app_id, user.id).user.external_id)


def test_a_users_message_names_the_integration_it_was_posted_through(
        int_api: sc.ApiClient, account: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """A user's message posted with an integration key has source.integrationId ("which integration the
    message was sent from. For user messages only"); a business message, or one posted with an app key,
    has none."""
    user = make_user(account, app_id, external_id="ana")
    conversation = make_conversation(account, app_id, user).id
    as_user = sc.Author(type="user", user_id=user.id)
    sources = [post(int_api, app_id, conversation, text("via the integration"), author=as_user).source,
               post(int_api, app_id, conversation, text("the bot answers")).source,
               post(account, app_id, conversation, text("via the app key"), author=as_user).source]
    assert [("api:conversations", integration.id), ("api:conversations", None), ("api:conversations", None)] == [
        (source.type, source.integration_id) for source in sources]


def test_integration_key_manages_its_webhooks_as_me(int_api: sc.ApiClient, app_id: str,
                                                    integration: sc.Custom) -> None:
    """`me` names the key's integration: create, list, get, update and delete its webhooks."""
    api = sc.WebhooksApi(int_api)
    made = api.create_webhook(app_id, "me", sc.WebhookCreateBody(**HOOK)).webhook
    assert [integration.webhooks[0].id, made.id] == [w.id for w in api.list_webhooks(app_id, "me").webhooks]
    assert made == api.get_webhook(app_id, integration.id, made.id).webhook  # its own id works too
    updated = api.update_webhook(app_id, "me", made.id, sc.WebhookBody(triggers=["conversation:read"])).webhook
    api.delete_webhook(app_id, "me", made.id)
    assert (["conversation:read"], [integration.webhooks[0].id]) == (
        updated.triggers, [w.id for w in api.list_webhooks(app_id, "me").webhooks])


def test_integration_key_cannot_touch_another_integrations_webhooks(
        int_api: sc.ApiClient, server: Server, checker: SpecChecker, account: sc.ApiClient, app_id: str) -> None:
    """Another integration's webhooks (named by id) answer 403 to an integration key; nothing changes."""
    other = custom(account, app_id, "Other")
    hook_id = other.webhooks[0].id
    api = sc.WebhooksApi(int_api)
    calls = [(api.create_webhook, app_id, other.id, sc.WebhookCreateBody(**HOOK)),
             (api.list_webhooks, app_id, other.id), (api.get_webhook, app_id, other.id, hook_id),
             (api.update_webhook, app_id, other.id, hook_id, sc.WebhookBody(target="https://evil.example")),
             (api.delete_webhook, app_id, other.id, hook_id)]
    for call, *args in calls:
        assert (403, "forbidden") == refused(call, *args), call.__name__
    app_api = app_client(server, checker, account, app_id)
    assert other.webhooks == sc.WebhooksApi(app_api).list_webhooks(app_id, other.id).webhooks


def test_integration_key_cannot_manage_apps_keys_or_integrations(int_api: sc.ApiClient, http: httpx.Client,
                                                                 app_id: str, integration: sc.Custom,
                                                                 int_key: sc.ApiKey) -> None:
    """Apps, app keys, integrations and integration keys answer 403 to an integration key; nothing changes."""
    apps, app_keys = sc.AppsApi(int_api), sc.AppKeysApi(int_api)
    integrations, keys = sc.IntegrationsApi(int_api), sc.CustomIntegrationApiKeysApi(int_api)
    before = http.get(f"/v2/apps/{app_id}/integrations").json()
    calls = [(apps.list_apps,), (apps.get_app, app_id), (apps.update_app, app_id, sc.AppUpdateBody(display_name="X")),
             (apps.delete_app, app_id), (app_keys.list_app_keys, app_id),
             (app_keys.create_app_key, app_id, sc.AppKeyCreateBody(display_name="K")),
             (integrations.list_integrations, app_id), (integrations.get_integration, app_id, integration.id),
             (integrations.create_integration, app_id, sc.Web(display_name="W")),
             (integrations.update_integration, app_id, integration.id,
              sc.IntegrationUpdate(sc.CustomUpdate(display_name="X"))),
             (integrations.delete_integration, app_id, integration.id),
             (keys.list_custom_integration_keys, app_id, integration.id),
             (keys.create_custom_integration_key, app_id, integration.id, sc.IntegrationApiKey(display_name="K")),
             (keys.delete_custom_integration_key, app_id, integration.id, int_key.id)]
    for call, *args in calls:
        assert (403, "forbidden") == refused(call, *args), call.__name__
    assert before == http.get(f"/v2/apps/{app_id}/integrations").json()


def test_integration_key_cannot_touch_another_app(int_api: sc.ApiClient, account: sc.ApiClient) -> None:
    """Any path of another app answers 403 to an integration key, and that app is unchanged."""
    other = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    theirs = custom(account, other, "Theirs")
    user = make_user(account, other, external_id="theirs")
    calls = [(sc.UsersApi(int_api).get_user, other, user.id),
             (sc.UsersApi(int_api).create_user, other, sc.UserCreateBody(external_id="intruder")),
             (sc.WebhooksApi(int_api).list_webhooks, other, "me"),
             (sc.WebhooksApi(int_api).list_webhooks, other, theirs.id)]
    for call, *args in calls:
        assert (403, "forbidden") == refused(call, *args), call.__name__
    assert (404, "user_not_found") == refused(sc.UsersApi(account).get_user, other, "intruder")


@pytest.mark.parametrize("scope", ["app", "account", None])
def test_integration_key_jwt_needs_the_integration_scope(server: Server, checker: SpecChecker, app_id: str,
                                                         int_key: sc.ApiKey, scope: str | None) -> None:
    """A JWT signed with an integration key but claiming another scope (or none) answers 401."""
    claims = {} if scope is None else {"scope": scope}
    token = jwt.encode(claims, int_key.secret, algorithm="HS256", headers={"kid": int_key.id})
    client = bearer_client(server, checker, token)
    assert (401, "unauthorized") == refused(sc.UsersApi(client).create_user, app_id,
                                            sc.UserCreateBody(external_id="nope"))


def test_wrong_integration_key_secret_is_401(server: Server, checker: SpecChecker, app_id: str,
                                             int_key: sc.ApiKey) -> None:
    """An integration key with a wrong secret answers 401."""
    client = sdk_client(server, checker, int_key.id, int_key.secret + "x")
    assert (401, "unauthorized") == refused(sc.WebhooksApi(client).list_webhooks, app_id, "me")


def test_deleted_integration_key_stops_working_at_once(int_api: sc.ApiClient, account: sc.ApiClient,
                                                       app_id: str, integration: sc.Custom,
                                                       int_key: sc.ApiKey) -> None:
    """Once DeleteCustomIntegrationKey answers, the key answers 401."""
    webhooks = sc.WebhooksApi(int_api)
    assert 1 == len(webhooks.list_webhooks(app_id, "me").webhooks)
    sc.CustomIntegrationApiKeysApi(account).delete_custom_integration_key(app_id, integration.id, int_key.id)
    assert (401, "unauthorized") == refused(webhooks.list_webhooks, app_id, "me")


@pytest.mark.parametrize("deleted", ["integration", "app"])
def test_keys_of_a_deleted_integration_or_app_stop_working_at_once(int_api: sc.ApiClient, account: sc.ApiClient,
                                                                   app_id: str, integration: sc.Custom,
                                                                   deleted: str) -> None:
    """DeleteIntegration and DeleteApp end the integration's keys at once (401)."""
    users = sc.UsersApi(int_api)
    make_user(int_api, app_id, external_id="before")
    if deleted == "integration":
        sc.IntegrationsApi(account).delete_integration(app_id, integration.id)
    else:
        sc.AppsApi(account).delete_app(app_id)
    assert (401, "unauthorized") == refused(users.create_user, app_id, sc.UserCreateBody(external_id="after"))


def test_non_custom_integrations_have_no_keys(http: httpx.Client, app_id: str) -> None:
    """A key cannot be made for a non-custom integration, so no such integration can act with a key."""
    web = create_raw(http, app_id, "web").json()["integration"]["id"]
    response = http.post(f"/v2/apps/{app_id}/integrations/{web}/keys", json={"displayName": "K"})
    assert 400 == response.status_code
