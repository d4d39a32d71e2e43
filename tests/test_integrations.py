"""Integrations (CreateIntegration … DeleteIntegration) for all 16 types, through the SDK and raw HTTP.

The official SDK cannot read an `apple` or `twitter` integration back (its models require their
write-only secrets in responses), so those types are checked over raw HTTP; every response of
either client is still validated against the spec.
"""

from __future__ import annotations

import operator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from tests.conftest import Server
from tests.integrations import HEX32, HOOK, MINIMAL, app_client, create_raw, custom
from tests.spec import SpecChecker
from tests.switchboards import add_member, make_switchboard
from tests.utils import MISSING_ID, http_error, in_database, refused, row_count, sdk_error

EXTRA: dict[str, dict[str, Any]] = {  # every other writable field of each type
    "android": {"projectId": "p", "clientEmail": "c@example.org", "privateKey": "pk", "serverKey": "sk",
                "senderId": "sender", "canUserSeeConversationList": False, "canUserCreateMoreConversations": True},
    "apple": {"authenticationMessageSecret": "a" * 88},
    "instagram": {"storyRepliesEnabled": False, "storyMentionsEnabled": False},
    "ios": {"certificate": "cert", "password": "pw", "production": True, "autoUpdateBadge": True},
    "line": {"channelId": "1286564967", "channelSecret": "cs", "channelAccessToken": "cat", "serviceCode": "sc",
             "switcherSecret": "sw", "qrCodeUrl": "https://qr-official.line.me/M/1O4fb8.png"},
    "mailgun": {"signingKey": "signing", "hideUnsubscribeLink": True, "fromAddress": "from@mg.example.org"},
    "messenger": {"pageId": 123212323432123, "pageName": "An Awesome Page"},
    "twilio": {"messagingServiceSid": "MG1"},
    "unity": {"canUserSeeConversationList": False},
    "web": {"brandColor": "ff0000", "fixedIntroPane": True, "conversationColor": "abc", "actionColor": "00ff00",
            "displayStyle": "tab", "buttonIconUrl": "https://example.org/b.png", "buttonWidth": "60",
            "buttonHeight": "61", "integrationOrder": ["59fc8466260f48003505228b"], "businessName": "Kent Shop",
            "businessIconUrl": "https://example.org/i.png", "backgroundImageUrl": "https://example.org/t.png",
            "originWhitelist": ["https://shop.example.org", "http://localhost:8080"],
            "prechatCapture": {"enabled": True, "enableEmailLinking": False, "fields": [
                {"type": "email", "name": "email", "label": "Email", "placeholder": "your@email.com"}]}},
    "whatsapp": {"hsmFallbackLanguage": "fr_CA", "accountId": "wa-1", "accountManagementAccessToken": "wat"},
}
WRITE_ONLY = {
    "android": {"projectId", "clientEmail", "privateKey", "serverKey"}, "apple": {"apiSecret"},
    "instagram": {"pageAccessToken", "appSecret"}, "ios": {"certificate", "password"}, "mailgun": {"apiKey"},
    "messagebird": {"accessKey", "signingKey"}, "messenger": {"appSecret"}, "telegram": {"token"},
    "twilio": {"authToken"}, "twitter": {"consumerKey", "consumerSecret", "accessTokenKey", "accessTokenSecret"},
    "viber": {"token"},
}
SDK_DEFAULTS = {"attachmentsEnabled": True, "canUserSeeConversationList": True}
DEFAULTS: dict[str, dict[str, Any]] = {
    "android": SDK_DEFAULTS, "ios": SDK_DEFAULTS, "unity": SDK_DEFAULTS,
    "instagram": {"storyRepliesEnabled": True, "storyMentionsEnabled": True},
    "mailgun": {"hideUnsubscribeLink": False},
    "web": {**SDK_DEFAULTS, "brandColor": "65758e", "fixedIntroPane": False, "conversationColor": "0099ff",
            "actionColor": "0099ff", "displayStyle": "button", "buttonWidth": "58", "buttonHeight": "58"},
    "whatsapp": {"hsmFallbackLanguage": "en_US"},
}
TYPES = sorted(MINIMAL)


def listed(http: httpx.Client, app_id: str, **params: Any) -> list[dict[str, Any]]:
    response = http.get(f"/v2/apps/{app_id}/integrations", params={"page[size]": 100, **params})
    assert 200 == response.status_code, response.text
    return list(response.json()["integrations"])


# channels Heliograph stores but does not talk to (docs/channels.md)
INACTIVE = {"apple", "line", "messagebird", "twitter", "viber", "whatsapp"}  # (whatsapp: without its own fields)
LEARNT = {"telegram": {"botId": "192033615", "username": "bot192033615_bot"},  # from the channel (its fake)
          "messenger": {"pageId": 106731941223392, "pageName": "An Awesome Page"},
          "instagram": {"pageId": "106731941223392"}}


def expected(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """What an integration created from `body` reads back as, without its id."""
    readable = {k: v for k, v in body.items() if k not in WRITE_ONLY.get(kind, set()) and k != "webhooks"}
    shown = {"type": kind, "status": "inactive" if kind in INACTIVE else "active", **DEFAULTS.get(kind, {}),
             **readable, **LEARNT.get(kind, {})}  # what the channel says of itself wins
    return shown if kind == "custom" else {"showAIDisclaimer": True, **shown}


# --- CreateIntegration --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", TYPES)
def test_create_each_type_with_its_required_fields(http: httpx.Client, app_id: str, kind: str) -> None:
    """Each type is created (201) from its required fields, with defaults and without write-only fields."""
    response = create_raw(http, app_id, kind, displayName=f"My {kind}")
    assert 201 == response.status_code, response.text
    integration = response.json()["integration"]
    generated = {k: integration.pop(k) for k in ("id", "webhooks", "webhookSecret") if k in integration}
    assert expected(kind, {"displayName": f"My {kind}", **MINIMAL[kind]}) == integration
    assert {"id", *(["webhooks"] if kind == "custom" else []), *(["webhookSecret"] if kind == "messagebird"
                                                                else [])} == set(generated)


@pytest.mark.parametrize("kind", sorted(EXTRA))
def test_every_writable_field_is_stored_and_only_readable_ones_returned(http: httpx.Client, app_id: str,
                                                                         kind: str) -> None:
    """All fields of a type are kept; GetIntegration returns the readable ones, never the write-only ones."""
    body = {**MINIMAL[kind], **EXTRA[kind]}
    created = create_raw(http, app_id, kind, **EXTRA[kind]).json()["integration"]
    fetched = http.get(f"/v2/apps/{app_id}/integrations/{created['id']}").json()["integration"]
    assert created == fetched
    assert expected(kind, body) == {k: v for k, v in fetched.items() if k != "id"}


def test_create_custom_returns_its_webhook_with_a_secret(account: sc.ApiClient, app_id: str) -> None:
    """A custom integration answers with its one webhook: id, version v2, 32-hex secret, flags false."""
    reply = sc.IntegrationsApi(account).create_integration_with_http_info(
        app_id, sc.Custom(display_name="Bot", webhooks=[sc.Webhook(**HOOK)]))
    integration = reply.data.integration
    (webhook,) = integration.webhooks
    assert (201, "custom", "active", "Bot") == (reply.status_code, integration.type, integration.status,
                                                integration.display_name)
    assert ("v2", HOOK["target"], HOOK["triggers"], False, False) == (
        webhook.version, webhook.target, webhook.triggers, webhook.include_full_user, webhook.include_full_source)
    assert (24, True) == (len(webhook.id), bool(HEX32.match(webhook.secret)))


def test_create_web_through_the_sdk(account: sc.ApiClient, app_id: str) -> None:
    """The SDK creates a web integration and reads back the spec's defaults."""
    web = sc.IntegrationsApi(account).create_integration(app_id, sc.Web(display_name="Site")).integration
    assert ("web", "65758e", "button", True, True) == (web.type, web.brand_color, web.display_style,
                                                       web.attachments_enabled, web.can_user_see_conversation_list)


def test_the_sdk_reads_the_defaults_stated_in_prose(account: sc.ApiClient, app_id: str) -> None:
    """The conversation list is visible by default (android, ios, unity, web) and mailgun includes the
    unsubscribe link (hideUnsubscribeLink false); the SDK parses both from CreateIntegration and GetIntegration."""
    api = sc.IntegrationsApi(account)
    made = [api.create_integration(app_id, sc.Android()).integration,
            api.create_integration(app_id, sc.Ios()).integration,
            api.create_integration(app_id, sc.Unity()).integration,
            api.create_integration(app_id, sc.Mailgun(**MINIMAL["mailgun"])).integration]
    fetched = [api.get_integration(app_id, m.id).integration for m in made]
    assert [True, True, True, False] == [
        fetched[0].can_user_see_conversation_list, fetched[1].can_user_see_conversation_list,
        fetched[2].can_user_see_conversation_list, fetched[3].hide_unsubscribe_link]


def test_url_fields_must_be_http_urls_through_the_sdk(account: sc.ApiClient, app_id: str) -> None:
    """A web integration whose businessIconUrl is not an absolute http(s) URL is a 400 naming it; none is made."""
    api = sc.IntegrationsApi(account)
    assert (400, "bad_request", "Invalid businessIconUrl: must be an absolute http or https URL of at most 2048 "
            "characters") == refused(api.create_integration, app_id, sc.Web(business_icon_url="logo.png"))
    assert [] == api.list_integrations(app_id).integrations


def test_read_only_fields_in_the_body_are_ignored(http: httpx.Client, app_id: str) -> None:
    """`id`, `status`, `attachmentsEnabled` and `webhookSecret` given at creation are not taken."""
    web = create_raw(http, app_id, "web", id=MISSING_ID, status="inactive", attachmentsEnabled=False).json()
    bird = create_raw(http, app_id, "messagebird", webhookSecret="mine").json()
    assert (False, "active", True) == (web["integration"]["id"] == MISSING_ID, web["integration"]["status"],
                                       web["integration"]["attachmentsEnabled"])
    assert HEX32.match(bird["integration"]["webhookSecret"])


@pytest.mark.parametrize(("kind", "field"), [(kind, field) for kind in TYPES for field in MINIMAL[kind]
                                           if field != "phoneNumberSid"])  # one of two SIDs: a rule, below
def test_a_missing_required_field_is_400_naming_it(http: httpx.Client, app_id: str, kind: str,
                                                   field: str) -> None:
    """Leaving out a required field of a type answers 400 naming the field; nothing is stored."""
    body = {"type": kind, **{k: v for k, v in MINIMAL[kind].items() if k != field}}
    response = http.post(f"/v2/apps/{app_id}/integrations", json=body)
    assert (400, "bad_request", f"Missing required field `{field}`") == http_error(response)
    assert [] == listed(http, app_id)


@pytest.mark.parametrize(("kind", "fields", "named"), [
    ("zzz", {}, "type"),
    ("web", {"brandColor": "red"}, "brandColor"),
    ("web", {"conversationColor": "12345"}, "conversationColor"),
    ("web", {"displayStyle": "side"}, "displayStyle"),
    ("web", {"originWhitelist": ["https://shop.example.org/path"]}, "originWhitelist[0]"),
    ("web", {"buttonWidth": 58}, "buttonWidth"),
    ("web", {"buttonIconUrl": "button.png"}, "buttonIconUrl"),
    ("web", {"businessIconUrl": "data:image/png;base64,AAAA"}, "businessIconUrl"),
    ("web", {"businessIconUrl": None}, "businessIconUrl"),
    ("web", {"backgroundImageUrl": "ftp://example.org/tile.png"}, "backgroundImageUrl"),
    ("web", {"prechatCapture": {"avatarUrl": "avatar.png"}}, "prechatCapture.avatarUrl"),
    ("line", {"qrCodeUrl": "not a url"}, "qrCodeUrl"),
    ("web", {"prechatCapture": {"fields": [{"type": "phone", "name": "n", "label": "l"}]}},
     "prechatCapture.fields[0].type"),
    ("twitter", {"tier": "premium"}, "tier"),
    ("apple", {"authenticationMessageSecret": "short"}, "authenticationMessageSecret"),
    ("telegram", {"token": ""}, "token"),
    ("android", {"canUserSeeConversationList": "true"}, "canUserSeeConversationList"),
    ("unity", {"displayName": "x" * 101}, "displayName"),
    ("custom", {"webhooks": []}, "webhooks"),
    ("custom", {"webhooks": [HOOK, HOOK]}, "webhooks"),
    ("custom", {"webhooks": [{"target": "https://example.com"}]}, "triggers"),
])
def test_invalid_fields_are_400_naming_them(http: httpx.Client, app_id: str, kind: str, fields: dict[str, Any],
                                            named: str) -> None:
    """A value of the wrong type, enum, pattern or length answers 400 naming the field; nothing is stored."""
    body = {"type": kind, **MINIMAL.get(kind, {}), **fields}
    status, code, title = http_error(http.post(f"/v2/apps/{app_id}/integrations", json=body))
    assert (400, "bad_request", True) == (status, code, named in title), title
    assert [] == listed(http, app_id)


@pytest.mark.parametrize(("kind", "fields", "title"), [
    ("twilio", {"phoneNumberSid": None}, "One of `phoneNumberSid` or `messagingServiceSid` must be provided"),
    ("line", {"channelId": "1286564967"}, "`channelId` and `channelSecret` are given together or not at all"),
    ("mailgun", {"incomingAddress": "in@other.org"},
     "Invalid incomingAddress: must be an address of the domain `mg.example.org`"),
    ("custom", {"webhooks": [{**HOOK, "target": "ftp://example.com"}]},
     "Invalid webhooks[0].target: must be an absolute http or https URL of at most 2048 characters"),
    ("custom", {"webhooks": [{**HOOK, "triggers": ["conversation:message", "message:appUser"]}]},
     "Invalid webhooks[0].triggers[1]: unknown trigger 'message:appUser'"),
])
def test_rules_of_the_spec_prose_are_400(server: Server, http: httpx.Client, app_id: str, kind: str,
                                         fields: dict[str, Any], title: str) -> None:
    """The spec's per-type rules (Twilio SID, LINE pair, Mailgun domain, webhook) answer 400; nothing stored."""
    from heliograph.store import tables as t

    body = {k: v for k, v in {"type": kind, **MINIMAL[kind], **fields}.items() if v is not None}
    assert (400, "bad_request", title) == http_error(http.post(f"/v2/apps/{app_id}/integrations", json=body))
    assert ([], 0) == (listed(http, app_id), row_count(server.database_url, t.webhooks, app_id))


def test_a_null_default_responder_is_accepted(http: httpx.Client, app_id: str) -> None:
    """`defaultResponderId: null` names no responder and is accepted (and never returned)."""
    created = create_raw(http, app_id, "web", defaultResponderId=None)
    assert (201, False) == (created.status_code, "defaultResponderId" in created.json()["integration"])


def test_default_responders_are_switchboard_integrations_of_the_app(http: httpx.Client, account: sc.ApiClient,
                                                                    app_id: str) -> None:
    """defaultResponderId (write-only) names one of the app's switchboard integrations, on create and update;
    `defaultResponder` shows it (`inherited: false`), or the switchboard's default (`inherited: true`); null
    returns to the default; a custom integration shows none."""
    board = make_switchboard(account, app_id)
    bot = add_member(account, app_id, board.id, "bot")
    agent = add_member(account, app_id, board.id, "agent", deliver_standby_events=False,
                       next_switchboard_integration_id=bot.id)
    sc.SwitchboardsApi(account).update_switchboard(app_id, board.id, sc.SwitchboardUpdateBody(
        enabled=True, default_switchboard_integration_id=bot.id))
    api = sc.IntegrationsApi(account)
    own = api.create_integration(app_id, sc.Web(type="web", default_responder_id=agent.id)).integration
    inherits = api.create_integration(app_id, sc.Telegram(type="telegram", token="192033615:AAEuee")).integration
    shown = [api.get_integration(app_id, i.id).integration for i in (own, inherits)]
    assert [{"name": "agent", "integrationId": agent.integration_id, "integrationType": "custom",
             "deliverStandbyEvents": False, "nextSwitchboardIntegrationId": bot.id, "inherited": False},
            {"name": "bot", "integrationId": bot.integration_id, "integrationType": "custom",
             "deliverStandbyEvents": True, "inherited": True}] == [
        http.get(f"/v2/apps/{app_id}/integrations/{s.id}").json()["integration"]["defaultResponder"] for s in shown]
    assert ["agent", "bot"] == [s.default_responder.name for s in shown]  # and the SDK reads it
    assert shown[0].default_responder_id is None  # write-only
    back = http.patch(f"/v2/apps/{app_id}/integrations/{own.id}", json={"defaultResponderId": None})  # SDK: no null
    assert ("bot", True) == operator.itemgetter("name", "inherited")(back.json()["integration"]["defaultResponder"])
    shown_in_list = [(i["type"], i.get("defaultResponder", {}).get("name")) for i in listed(http, app_id)]
    assert [("custom", None), ("custom", None), ("web", "bot"), ("telegram", "bot")] == shown_in_list


def test_an_unknown_default_responder_is_404(http: httpx.Client, app_id: str) -> None:
    """A defaultResponderId that is no switchboard integration of the app is 404 and changes nothing."""
    assert (404, "switchboard_integration_not_found") == http_error(
        create_raw(http, app_id, "web", defaultResponderId=MISSING_ID))[:2]
    created = create_raw(http, app_id, "telegram", token="192033615:AAEuee").json()["integration"]
    path = f"/v2/apps/{app_id}/integrations/{created['id']}"
    assert (404, "switchboard_integration_not_found") == http_error(
        http.patch(path, json={"defaultResponderId": MISSING_ID}))[:2]
    assert ([created], created) == (listed(http, app_id), http.get(path).json()["integration"])


def test_create_in_unknown_app_is_404(http: httpx.Client) -> None:
    """CreateIntegration on an app that does not exist answers 404 app_not_found."""
    assert (404, "app_not_found") == http_error(create_raw(http, MISSING_ID, "web"))[:2]


def test_app_key_manages_integrations(server: Server, checker: SpecChecker, account: sc.ApiClient,
                                      app_id: str) -> None:
    """An app key may create, read, update and delete its app's integrations (app scope is listed)."""
    api = sc.IntegrationsApi(app_client(server, checker, account, app_id))
    created = api.create_integration(app_id, sc.Unity(display_name="Game")).integration
    updated = api.update_integration(app_id, created.id, sc.IntegrationUpdate(sc.UnityUpdate(display_name="G2")))
    assert ("Game", "G2", "G2") == (created.display_name, updated.integration.display_name,
                                    api.get_integration(app_id, created.id).integration.display_name)
    api.delete_integration(app_id, created.id)
    assert [] == api.list_integrations(app_id).integrations


# --- ListIntegrations ---------------------------------------------------------------------------

def test_list_integrations_in_creation_order(account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    """ListIntegrations returns the app's integrations oldest first, a custom one with its webhook."""
    ids = [create_raw(http, app_id, kind).json()["integration"]["id"] for kind in ("web", "custom", "telegram")]
    page = sc.IntegrationsApi(account).list_integrations(app_id)
    assert ids == [i.id for i in page.integrations]
    assert (False, HOOK["target"]) == (page.meta.has_more, page.integrations[1].webhooks[0].target)


@pytest.mark.parametrize("style", ["sdk", "brackets"])
def test_filter_types_in_both_query_styles(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                           style: str) -> None:
    """`filter[types]=custom,web` (bracketed or as one JSON object) lists only those types."""
    kinds = ["web", "telegram", "custom", "android", "web"]
    ids = [create_raw(http, app_id, kind).json()["integration"]["id"] for kind in kinds]
    if style == "sdk":
        got = sc.IntegrationsApi(account).list_integrations(app_id, filter=sc.IntegrationListFilter(
            types="custom,web")).integrations
        found = [i.id for i in got]
    else:
        found = [i["id"] for i in listed(http, app_id, **{"filter[types]": " custom, web "})]
    assert [ids[0], ids[2], ids[4]] == found


@pytest.mark.parametrize("params", [{"filter[types]": "web,fax"}, {"filter[types]": ","},
                                    {"filter[channel]": "web"}, {"page[size]": "0"}])
def test_bad_list_parameters_are_400(http: httpx.Client, app_id: str, params: dict[str, str]) -> None:
    """An unknown type or filter, an empty types list or a bad page size answers 400."""
    response = http.get(f"/v2/apps/{app_id}/integrations", params=params)
    assert (400, "bad_request") == http_error(response)[:2]


def test_list_integrations_pages(account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    """ListIntegrations pages by cursor: page[size] records, then page[after] the next ones."""
    ids = [create_raw(http, app_id, "web").json()["integration"]["id"] for _ in range(3)]
    api = sc.IntegrationsApi(account)
    first = api.list_integrations(app_id, page=sc.Page(size=2))
    second = api.list_integrations(app_id, page=sc.Page(after=first.meta.after_cursor, size=2))
    assert (ids[:2], True, ids[2:], False) == ([i.id for i in first.integrations], first.meta.has_more,
                                               [i.id for i in second.integrations], second.meta.has_more)


def test_list_integrations_of_unknown_app_is_404(account: sc.ApiClient) -> None:
    """ListIntegrations on an app that does not exist answers 404 app_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        sc.IntegrationsApi(account).list_integrations(MISSING_ID)
    assert (404, "app_not_found") == sdk_error(raised)[:2]


# --- GetIntegration -----------------------------------------------------------------------------

def test_get_integration(account: sc.ApiClient, app_id: str) -> None:
    """GetIntegration returns the integration as it was created, custom webhook included."""
    created = custom(account, app_id)
    assert created == sc.IntegrationsApi(account).get_integration(app_id, created.id).integration


@pytest.mark.parametrize(("where", "expected_code"), [("integration", "integration_not_found"),
                                                      ("app", "app_not_found"),
                                                      ("other-app", "integration_not_found")])
def test_get_unknown_integration_is_404(account: sc.ApiClient, app_id: str, where: str,
                                        expected_code: str) -> None:
    """An unknown integration, an unknown app, or another app's integration answers 404."""
    mine = custom(account, app_id).id
    other_app = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    path = {"integration": (app_id, MISSING_ID), "app": (MISSING_ID, mine), "other-app": (other_app, mine)}[where]
    with pytest.raises(sc.ApiException) as raised:
        sc.IntegrationsApi(account).get_integration(*path)
    assert (404, expected_code) == sdk_error(raised)[:2]


# --- UpdateIntegration --------------------------------------------------------------------------

def test_update_integration_changes_only_what_is_given(account: sc.ApiClient, http: httpx.Client,
                                                       app_id: str) -> None:
    """UpdateIntegration replaces the given fields and keeps the others."""
    created = create_raw(http, app_id, "web", displayName="Site", businessName="Kent").json()["integration"]
    update = sc.IntegrationUpdate(sc.WebUpdate(brand_color="112233", display_style="tab"))
    web = sc.IntegrationsApi(account).update_integration(app_id, created["id"], update).integration
    assert ("Site", "Kent", "112233", "tab", "0099ff") == (
        web.display_name, web.business_name, web.brand_color, web.display_style, web.action_color)


def test_update_with_null_unsets_a_field(http: httpx.Client, app_id: str) -> None:
    """`null` clears a nullable field (displayName, whatsapp accountId)."""
    created = create_raw(http, app_id, "whatsapp", displayName="WA", accountId="wa-1").json()["integration"]
    response = http.patch(f"/v2/apps/{app_id}/integrations/{created['id']}",
                          json={"displayName": None, "accountId": None})
    assert {"type": "whatsapp", "status": "inactive", "showAIDisclaimer": True,
            "hsmFallbackLanguage": "en_US"} == {k: v for k, v in response.json()["integration"].items() if k != "id"}


def test_update_write_only_fields_are_kept_but_not_returned(server: Server, http: httpx.Client,
                                                            app_id: str) -> None:
    """A write-only field (android privateKey) can be replaced; it is stored and never returned."""
    from heliograph.store import tables as t

    created = create_raw(http, app_id, "android", privateKey="old").json()["integration"]
    response = http.patch(f"/v2/apps/{app_id}/integrations/{created['id']}", json={"privateKey": "new"})
    stored = in_database(server.database_url,
                         sa.select(t.integrations.c.config).where(t.integrations.c.id == created["id"]))
    assert (200, False, "new") == (response.status_code, "privateKey" in response.json()["integration"],
                                   stored[0][0]["privateKey"])


def test_update_ignores_fields_the_type_cannot_change(http: httpx.Client, app_id: str) -> None:
    """Fields outside the type's update schema (a custom integration's webhooks, a type) are ignored."""
    created = create_raw(http, app_id, "custom").json()["integration"]
    response = http.patch(f"/v2/apps/{app_id}/integrations/{created['id']}",
                          json={"type": "web", "displayName": "Renamed", "webhooks": [], "brandColor": "fff"})
    assert {**created, "displayName": "Renamed"} == response.json()["integration"]


@pytest.mark.parametrize(("kind", "fields"), [
    ("web", {"brandColor": "blue"}), ("web", {"displayName": ""}), ("mailgun", {"fromAddress": ""}),
    ("android", {"showAIDisclaimer": "no"}), ("apple", {"authenticationMessageSecret": "short"}),
    ("telegram", {"defaultResponderId": 12}), ("ios", {"production": 1}),
    ("web", {"backgroundImageUrl": "tile.png"}), ("web", {"buttonIconUrl": "https:///b.png"}),
])
def test_invalid_update_is_400_and_changes_nothing(http: httpx.Client, app_id: str, kind: str,
                                                   fields: dict[str, Any]) -> None:
    """An update breaking the type's update schema answers 400 and the integration is unchanged."""
    created = create_raw(http, app_id, kind, displayName="Before").json()["integration"]
    path = f"/v2/apps/{app_id}/integrations/{created['id']}"
    assert (400, "bad_request") == http_error(http.patch(path, json=fields))[:2]
    assert created == http.get(path).json()["integration"]


def test_update_unknown_integration_is_404(http: httpx.Client, app_id: str) -> None:
    """UpdateIntegration of an integration that does not exist answers 404 integration_not_found."""
    response = http.patch(f"/v2/apps/{app_id}/integrations/{MISSING_ID}", json={"displayName": "x"})
    assert (404, "integration_not_found") == http_error(response)[:2]


# --- DeleteIntegration --------------------------------------------------------------------------

def test_delete_integration_removes_its_webhooks_and_keys(server: Server, account: sc.ApiClient,
                                                          http: httpx.Client, app_id: str) -> None:
    """DeleteIntegration answers 200 {}; the integration, its webhooks and its keys are gone."""
    from heliograph.store import tables as t

    kept = create_raw(http, app_id, "web").json()["integration"]["id"]
    doomed = custom(account, app_id).id
    sc.CustomIntegrationApiKeysApi(account).create_custom_integration_key(
        app_id, doomed, sc.IntegrationApiKey(display_name="Key"))
    reply = http.delete(f"/v2/apps/{app_id}/integrations/{doomed}")
    assert (200, {}) == (reply.status_code, reply.json())
    assert [kept] == [i["id"] for i in listed(http, app_id)]
    assert (0, 0) == (row_count(server.database_url, t.webhooks, app_id),
                      row_count(server.database_url, t.integration_keys, app_id))


def test_delete_unknown_integration_is_404(http: httpx.Client, app_id: str) -> None:
    """DeleteIntegration of an unknown integration (or in an unknown app) answers 404."""
    assert (404, "integration_not_found") == http_error(
        http.delete(f"/v2/apps/{app_id}/integrations/{MISSING_ID}"))[:2]
    assert (404, "app_not_found") == http_error(http.delete(f"/v2/apps/{MISSING_ID}/integrations/{MISSING_ID}"))[:2]
