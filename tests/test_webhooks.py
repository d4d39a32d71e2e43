"""Webhooks (CreateWebhook … DeleteWebhook) of custom integrations, through the SDK with an app key.

The spec lists only the `integration` and `app` scopes for these operations, so an account key
is refused (403) and the tests use an app key.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.conftest import Server
from tests.integrations import HEX32, HOOK, app_client, create_raw, custom
from tests.spec import SpecChecker
from tests.utils import MISSING_ID, http_error, row_count, sdk_error

ALL_TRIGGERS = [
    "client:add", "client:remove", "client:update", "conversation:create", "conversation:join",
    "conversation:leave", "conversation:remove", "conversation:message", "conversation:message:delivery:channel",
    "conversation:message:delivery:failure", "conversation:message:delivery:user", "conversation:postback",
    "conversation:read", "conversation:referral", "passthrough:messaging", "conversation:typing",
    "switchboard:acceptControl", "switchboard:acceptControl:failure", "switchboard:offerControl",
    "switchboard:offerControl:failure", "switchboard:passControl", "switchboard:passControl:failure",
    "switchboard:releaseControl", "user:merge", "user:update", "user:remove",
]
BAD_TARGETS = ["", "example.com/hook", "ftp://example.com/hook", "http://", "https:///path", "http://:80/x",
               "https://exa mple.com", "https://example.com:99999", "https://example.com:0/", "javascript:alert(1)",
               "http://[::1", "https://example.com/\u0007", "https://example.com/" + "a" * 2048]


@pytest.fixture
def app_api(server: Server, checker: SpecChecker, account: sc.ApiClient, app_id: str) -> sc.ApiClient:
    """The SDK with an app key of the test's app."""
    return app_client(server, checker, account, app_id)


@pytest.fixture
def integration(app_api: sc.ApiClient, app_id: str) -> sc.Custom:
    """A custom integration (with its first webhook) of the test's app."""
    return custom(app_api, app_id)


@pytest.fixture
def app_http(server: Server, account: sc.ApiClient, app_id: str, http: httpx.Client) -> httpx.Client:
    """Raw HTTP with an app key (responses still checked against the spec)."""
    key = sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="Raw")).key
    http.auth = httpx.BasicAuth(key.id, key.secret)
    return http


def hooks(api: sc.ApiClient) -> sc.WebhooksApi:
    return sc.WebhooksApi(api)


def hook_ids(api: sc.ApiClient, app_id: str, integration_id: str) -> list[str]:
    return [w.id for w in hooks(api).list_webhooks(app_id, integration_id).webhooks]


def create(api: sc.ApiClient, app_id: str, integration_id: str, **fields: Any) -> sc.Webhook:
    body = sc.WebhookCreateBody(**{**HOOK, **fields})
    return hooks(api).create_webhook(app_id, integration_id, body).webhook


# --- CreateWebhook ------------------------------------------------------------------------------

def test_create_webhook_answers_201(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """CreateWebhook answers 201 with an id, version v2, a 32-hex secret and the flags false by default."""
    reply = hooks(app_api).create_webhook_with_http_info(app_id, integration.id, sc.WebhookCreateBody(
        target="http://127.0.0.1:9000/events", triggers=["conversation:create", "user:remove"]))
    webhook = reply.data.webhook
    assert (201, 24, "v2", "http://127.0.0.1:9000/events", ["conversation:create", "user:remove"], False, False) == (
        reply.status_code, len(webhook.id), webhook.version, webhook.target, webhook.triggers,
        webhook.include_full_user, webhook.include_full_source)
    assert HEX32.match(webhook.secret)


def test_create_webhook_keeps_the_flags(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """includeFullUser and includeFullSource given as true are stored and returned."""
    made = create(app_api, app_id, integration.id, include_full_user=True, include_full_source=True)
    fetched = hooks(app_api).get_webhook(app_id, integration.id, made.id).webhook
    assert (True, True, made) == (fetched.include_full_user, fetched.include_full_source, fetched)


def test_every_documented_trigger_is_accepted(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """All 26 triggers of the spec's table are accepted; a repeated trigger is kept once."""
    made = create(app_api, app_id, integration.id, triggers=ALL_TRIGGERS + ["user:remove"])
    assert ALL_TRIGGERS == made.triggers


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_invalid_target_is_400_and_nothing_is_stored(server: Server, app_http: httpx.Client, app_id: str,
                                                      integration: sc.Custom, target: str) -> None:
    """A target that is not an absolute http(s) URL (or longer than 2048) answers 400; no webhook is stored."""
    from heliograph.store import tables as t

    response = app_http.post(f"/v2/apps/{app_id}/integrations/{integration.id}/webhooks",
                             json={"target": target, "triggers": ["conversation:message"]})
    assert (400, "bad_request", "Invalid target: must be an absolute http or https URL of at most 2048 characters"
            ) == http_error(response)
    assert 1 == row_count(server.database_url, t.webhooks, app_id)


@pytest.mark.parametrize(("triggers", "title"), [
    ([], "Invalid triggers: at least one trigger is required"),
    (["*"], "Invalid triggers[0]: unknown trigger '*'"),
    (["conversation:message", "Conversation:Read"], "Invalid triggers[1]: unknown trigger 'Conversation:Read'"),
    (["message:appUser"], "Invalid triggers[0]: unknown trigger 'message:appUser'"),
    (["conversation:message", 3], "Invalid triggers[1]: Expected `str`, got `int`"),
    ("conversation:message", "Invalid triggers: Expected `array`, got `str`"),
])
def test_invalid_triggers_are_400_naming_the_trigger(server: Server, app_http: httpx.Client, app_id: str,
                                                     integration: sc.Custom, triggers: Any, title: str) -> None:
    """No trigger, an undocumented one (case-sensitive) or a non-string answers 400 naming it; nothing stored."""
    from heliograph.store import tables as t

    response = app_http.post(f"/v2/apps/{app_id}/integrations/{integration.id}/webhooks",
                             json={"target": HOOK["target"], "triggers": triggers})
    assert (400, "bad_request", title) == http_error(response)
    assert 1 == row_count(server.database_url, t.webhooks, app_id)


@pytest.mark.parametrize("body", [{}, {"target": "https://example.com"}, {"triggers": ["conversation:message"]},
                                  {**HOOK, "includeFullUser": "yes"}])
def test_missing_or_mistyped_fields_are_400(app_http: httpx.Client, app_id: str, integration: sc.Custom,
                                            body: dict[str, Any]) -> None:
    """A missing target or triggers, or a non-boolean flag, answers 400."""
    response = app_http.post(f"/v2/apps/{app_id}/integrations/{integration.id}/webhooks", json=body)
    assert (400, "bad_request") == http_error(response)[:2]


def test_an_app_has_at_most_ten_webhooks(server: Server, app_api: sc.ApiClient, app_http: httpx.Client,
                                         app_id: str, integration: sc.Custom) -> None:
    """The 11th webhook of an app (over all its integrations) answers 400, as does a custom integration then."""
    from heliograph.store import tables as t

    other = custom(app_api, app_id, "Other")
    for n in range(8):
        create(app_api, app_id, (integration.id, other.id)[n % 2], target=f"https://example.com/{n}")
    with pytest.raises(sc.ApiException) as raised:
        create(app_api, app_id, integration.id)
    assert (400, "bad_request", "An app can have a maximum of 10 webhooks") == sdk_error(raised)
    refused = create_raw(app_http, app_id, "custom")
    assert (400, "bad_request", "An app can have a maximum of 10 webhooks") == http_error(refused)
    assert (10, 2) == (row_count(server.database_url, t.webhooks, app_id),
                       row_count(server.database_url, t.integrations, app_id))


def test_webhooks_of_a_non_custom_integration_are_400(app_http: httpx.Client, app_id: str) -> None:
    """Creating or listing webhooks of a non-custom integration answers 400."""
    web = create_raw(app_http, app_id, "web").json()["integration"]["id"]
    path = f"/v2/apps/{app_id}/integrations/{web}/webhooks"
    title = "Webhooks are available only for custom integrations"
    assert [(400, "bad_request", title)] * 2 == [http_error(app_http.post(path, json=HOOK)),
                                                 http_error(app_http.get(path))]


# --- ListWebhooks / GetWebhook ------------------------------------------------------------------

def test_list_webhooks_in_creation_order(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """ListWebhooks returns the integration's webhooks oldest first, its first one included."""
    first = integration.webhooks[0]
    second = create(app_api, app_id, integration.id, target="https://example.com/second")
    assert [first, second] == hooks(app_api).list_webhooks(app_id, integration.id).webhooks


def test_webhooks_belong_to_their_integration(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """Another integration lists only its own webhooks and cannot get this one (404)."""
    other = custom(app_api, app_id, "Other")
    with pytest.raises(sc.ApiException) as raised:
        hooks(app_api).get_webhook(app_id, other.id, integration.webhooks[0].id)
    assert (404, "not_found", "Webhook not found") == sdk_error(raised)
    assert [other.webhooks[0].id] == hook_ids(app_api, app_id, other.id)


@pytest.mark.parametrize(("where", "expected"), [("webhook", "not_found"), ("integration", "integration_not_found"),
                                                 ("me", "integration_not_found")])
def test_unknown_webhook_or_integration_is_404(app_api: sc.ApiClient, app_id: str, integration: sc.Custom,
                                               where: str, expected: str) -> None:
    """An unknown webhook or integration, or `me` with an app key (no integration of its own), answers 404."""
    integration_id, webhook_id = {"webhook": (integration.id, MISSING_ID),
                                  "integration": (MISSING_ID, integration.webhooks[0].id),
                                  "me": ("me", integration.webhooks[0].id)}[where]
    with pytest.raises(sc.ApiException) as raised:
        hooks(app_api).get_webhook(app_id, integration_id, webhook_id)
    assert (404, expected) == sdk_error(raised)[:2]


def test_account_key_is_refused_on_webhooks(account: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """The Webhooks operations do not list the account scope: an account key gets 403 on each."""
    api, webhook_id = hooks(account), integration.webhooks[0].id
    calls = [(api.create_webhook, app_id, integration.id, sc.WebhookCreateBody(**HOOK)),
             (api.list_webhooks, app_id, integration.id), (api.get_webhook, app_id, integration.id, webhook_id),
             (api.update_webhook, app_id, integration.id, webhook_id, sc.WebhookBody(target="https://x.org")),
             (api.delete_webhook, app_id, integration.id, webhook_id)]
    for call, *args in calls:
        with pytest.raises(sc.ApiException) as raised:
            call(*args)
        assert (403, "forbidden") == sdk_error(raised)[:2], call.__name__


# --- UpdateWebhook ------------------------------------------------------------------------------

def test_update_webhook_changes_only_what_is_given(app_api: sc.ApiClient, app_id: str,
                                                   integration: sc.Custom) -> None:
    """UpdateWebhook replaces the given fields; the id, secret and other fields stay."""
    before = integration.webhooks[0]
    after = hooks(app_api).update_webhook(app_id, integration.id, before.id, sc.WebhookBody(
        triggers=["conversation:read", "conversation:typing"], include_full_user=True)).webhook
    expected = before.model_copy(update={"triggers": ["conversation:read", "conversation:typing"],
                                         "include_full_user": True})
    assert (expected, expected) == (after, hooks(app_api).get_webhook(app_id, integration.id, before.id).webhook)


def test_update_webhook_target(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """A new target is stored; an empty body changes nothing."""
    webhook_id = integration.webhooks[0].id
    api = hooks(app_api)
    moved = api.update_webhook(app_id, integration.id, webhook_id,
                               sc.WebhookBody(target="https://example.org/new")).webhook
    unchanged = api.update_webhook(app_id, integration.id, webhook_id, sc.WebhookBody()).webhook
    assert ("https://example.org/new", moved) == (moved.target, unchanged)


@pytest.mark.parametrize("body", [{"target": "not a url"}, {"triggers": []}, {"triggers": ["conversation:Read"]},
                                  {"includeFullSource": None}, {"target": "https://ok.org", "triggers": ["nope"]}])
def test_invalid_update_is_400_and_changes_nothing(app_api: sc.ApiClient, app_http: httpx.Client, app_id: str,
                                                   integration: sc.Custom, body: dict[str, Any]) -> None:
    """An update with a bad target, triggers or flag answers 400 and the webhook is unchanged."""
    webhook = integration.webhooks[0]
    response = app_http.patch(f"/v2/apps/{app_id}/integrations/{integration.id}/webhooks/{webhook.id}", json=body)
    assert (400, "bad_request") == http_error(response)[:2]
    assert webhook == hooks(app_api).get_webhook(app_id, integration.id, webhook.id).webhook


def test_update_unknown_webhook_is_404(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """UpdateWebhook of an unknown webhook answers 404 not_found."""
    with pytest.raises(sc.ApiException) as raised:
        hooks(app_api).update_webhook(app_id, integration.id, MISSING_ID, sc.WebhookBody(target="https://x.org"))
    assert (404, "not_found") == sdk_error(raised)[:2]


# --- DeleteWebhook ------------------------------------------------------------------------------

def test_delete_webhook(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """DeleteWebhook answers 200 {}; the webhook is gone, the integration's others stay."""
    extra = create(app_api, app_id, integration.id)
    assert {} == hooks(app_api).delete_webhook(app_id, integration.id, extra.id)
    assert [integration.webhooks[0].id] == hook_ids(app_api, app_id, integration.id)
    with pytest.raises(sc.ApiException) as raised:
        hooks(app_api).delete_webhook(app_id, integration.id, extra.id)
    assert (404, "not_found") == sdk_error(raised)[:2]


def test_a_custom_integration_keeps_its_last_webhook(app_api: sc.ApiClient, app_id: str,
                                                     integration: sc.Custom) -> None:
    """Deleting a custom integration's only webhook answers 400; the webhook stays."""
    only = integration.webhooks[0].id
    with pytest.raises(sc.ApiException) as raised:
        hooks(app_api).delete_webhook(app_id, integration.id, only)
    assert (400, "bad_request") == sdk_error(raised)[:2]
    assert [only] == hook_ids(app_api, app_id, integration.id)


def test_integration_shows_its_first_webhook(app_api: sc.ApiClient, app_id: str, integration: sc.Custom) -> None:
    """A custom integration's `webhooks` holds its oldest webhook (the schema allows one), even with more."""
    create(app_api, app_id, integration.id, target="https://example.com/later")
    fetched = sc.IntegrationsApi(app_api).get_integration(app_id, integration.id).integration
    assert integration.webhooks == fetched.webhooks
