"""Integrations for tests: each type's required fields, and custom integrations with a webhook, through the SDK."""

from __future__ import annotations

import re
from typing import Any

import httpx
import sunshine_conversations_client as sc

from tests.conftest import Server, sdk_client
from tests.spec import SpecChecker

HOOK = {"target": "https://example.com/hook", "triggers": ["conversation:message"]}
MINIMAL: dict[str, dict[str, Any]] = {  # the required fields of each type
    "android": {},
    "apple": {"businessId": "biz-1", "apiSecret": "apple-secret", "mspId": "msp-1"},
    "custom": {"webhooks": [HOOK]},
    "instagram": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
    "ios": {},
    "line": {},
    "mailgun": {"apiKey": "key-1", "domain": "mg.example.org", "incomingAddress": "in@mg.example.org"},
    "messagebird": {"accessKey": "access", "signingKey": "signing", "originator": "12262121021"},
    "messenger": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
    "telegram": {"token": "192033615:AAEuee"},
    "twilio": {"accountSid": "AC1", "authToken": "auth-token", "phoneNumberSid": "PN1"},
    "twitter": {"tier": "enterprise", "consumerKey": "ck", "consumerSecret": "cs", "accessTokenKey": "atk",
                "accessTokenSecret": "ats"},
    "unity": {},
    "viber": {"token": "viber-token"},
    "web": {},
    "whatsapp": {},
}
HEX32 = re.compile(r"^[0-9a-f]{32}$")  # a webhook's secret


def custom(api: sc.ApiClient, app_id: str, name: str = "Bot", **hook: Any) -> sc.Custom:
    """A custom integration made through the SDK, with one webhook (`hook` overrides its fields)."""
    webhook = sc.Webhook(**{**HOOK, **hook})
    return sc.IntegrationsApi(api).create_integration(
        app_id, sc.Custom(display_name=name, webhooks=[webhook])).integration


def custom_integration(api: sc.ApiClient, app_id: str, target: str, triggers: list[str],
                       **webhook: Any) -> tuple[str, sc.Webhook]:
    """A custom integration whose one webhook sends `triggers` to `target`: its id and its webhook."""
    integration = custom(api, app_id, target=target, triggers=triggers, **webhook)
    return integration.id, integration.webhooks[0]


def create_raw(http: httpx.Client, app_id: str, kind: str, **fields: Any) -> httpx.Response:
    """CreateIntegration over raw HTTP: the type's required fields, and `fields`."""
    return http.post(f"/v2/apps/{app_id}/integrations", json={"type": kind, **MINIMAL[kind], **fields})


def app_client(server: Server, checker: SpecChecker, account: sc.ApiClient, app_id: str) -> sc.ApiClient:
    """The SDK with a fresh app key of the app (the Webhooks operations refuse account keys)."""
    key = sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="App key")).key
    return sdk_client(server, checker, key.id, key.secret)
