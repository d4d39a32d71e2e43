"""The real resources that the fuzzer (test_fuzz.py) aims its requests at, made once per engine.

Path parameters and the ids in bodies name these, so that generated requests get past the 404s. An
operation that deletes (or merges away) what its path names gets a spare of its own, made again after
each success, so the resources that every other operation needs stay in place.
"""

from __future__ import annotations

import base64
import collections
from dataclasses import dataclass, field
from typing import Any

import httpx

from heliograph.schemas.webhooks import TRIGGERS
from tests.conftest import CHECKER, Server
from tests.oauth_flow import connect
from tests.receiver import Receiver
from tests.seeding import add_device, link_zendesk

# The resource each path parameter names (keyId: an app key, or an integration key under /integrations/).
NAMED = {"appId": "app", "userIdOrExternalId": "user", "conversationId": "conversation", "messageId": "message",
         "integrationId": "integration", "webhookId": "webhook", "switchboardId": "switchboard",
         "switchboardIntegrationId": "switchboard_integration", "clientId": "spare_client", "deviceId": "device",
         "zendeskId": "spare_zendesk"}

# operationId -> the path parameters that name a spare instead, and the spare a success uses up.
SPARES: dict[str, dict[str, str]] = {
    "DeleteApp": {"appId": "spare_app"},
    "DeleteAppKey": {"keyId": "spare_app_key"},
    "DeleteConversation": {"conversationId": "group"},
    "DeleteAllMessages": {"conversationId": "group"},
    "JoinConversation": {"conversationId": "group"},  # join and leave need an sdkGroup
    "LeaveConversation": {"conversationId": "group"},
    "DeleteMessage": {"messageId": "spare_message"},
    "DeleteUser": {"userIdOrExternalId": "spare_user"},
    "RemoveClient": {"clientId": "spare_client"},
    "DeleteIntegration": {"integrationId": "spare_integration"},
    "DeleteCustomIntegrationKey": {"keyId": "spare_integration_key"},
    "DeleteWebhook": {"webhookId": "spare_webhook"},
    "DeleteSwitchboard": {"appId": "spare_app", "switchboardId": "spare_switchboard"},  # one per app
    "DeleteSwitchboardIntegration": {"switchboardIntegrationId": "spare_switchboard_integration"},
}
SPENDS = {"DeleteApp": "spare_app", "DeleteAppKey": "spare_app_key", "DeleteConversation": "group",
          "DeleteMessage": "spare_message", "DeleteUser": "spare_user", "SyncUser": "spare_zendesk",
          "RemoveClient": "spare_client", "DeleteIntegration": "spare_integration",
          "DeleteCustomIntegrationKey": "spare_integration_key", "DeleteWebhook": "spare_webhook",
          "DeleteSwitchboard": "spare_switchboard", "DeleteSwitchboardIntegration": "spare_switchboard_integration",
          "DeleteAttachment": "media_url", "RevokeAccess": "spare_token"}

# The spec's Webhooks operations list only the `integration` and `app` scopes; OAuth's take a token.
APP_KEY_TAGS = frozenset({"Webhooks"})
TOKENS = {"GetTokenInfo": "token", "RevokeAccess": "spare_token"}  # RevokeAccess ends its client's tokens
PUBLIC = frozenset({"Authorize", "GetToken"})
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@dataclass
class World:
    """One engine's resources, and the statuses the fuzzer got."""

    server: Server
    http: httpx.Client  # the account key
    receiver: Receiver  # every webhook's target
    oauth: tuple[dict[str, Any], dict[str, Any]]  # two registered clients: one for each token
    ids: dict[str, str] = field(default_factory=dict)
    app_key: tuple[str, str] = ("", "")
    statuses: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)

    def targets(self, operation_id: str, path: str) -> dict[str, str]:
        """The real value of each path parameter of an operation."""
        named = {**NAMED, "keyId": "integration_key" if "/integrations/" in path else "app_key",
                 **SPARES.get(operation_id, {})}
        return {param: self.ids[name] for param, name in named.items()}

    def references(self) -> dict[str, str]:
        """Real values for the fields of bodies and queries that name other resources."""
        return {"userId": self.ids["user"], "userExternalId": "fuzz-ana", "conversationId": self.ids["conversation"],
                "integrationId": self.ids["integration"], "mediaUrl": self.ids["media_url"],
                "nextSwitchboardIntegrationId": self.ids["switchboard_integration"],
                "defaultSwitchboardIntegrationId": self.ids["switchboard_integration"],
                "client_id": self.oauth[0]["clientId"]}

    def credentials(self, operation_id: str, tags: list[str]) -> dict[str, str]:
        if operation_id in PUBLIC:
            return {}
        if operation_id in TOKENS:
            return {"Authorization": f"Bearer {self.ids[TOKENS[operation_id]]}"}
        key_id, secret = self.app_key if APP_KEY_TAGS & set(tags) else self.server.account_key
        return {"Authorization": "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()}

    def answered(self, operation_id: str, status: int) -> None:
        """Count the answer; after a success, make again the spare it used up."""
        self.statuses[(operation_id, status)] += 1
        if status < 300 and operation_id in SPENDS:
            getattr(self, "make_" + SPENDS[operation_id])()

    # -- making the resources --------------------------------------------------------------------

    def post(self, path: str, body: Any = None, *, key: str, **kwargs: Any) -> Any:
        """POST, check the success, and return the value at the dotted `key` of the answer."""
        response = self.http.post(path, **({"json": body} if body is not None else {}), **kwargs)
        assert response.status_code in (200, 201), f"POST {path}: {response.status_code} {response.text}"
        found = response.json()
        for name in key.split("."):
            found = found[name]
        return found

    def build(self) -> None:
        app = self.ids["app"] = self.post("/v2/apps", {"displayName": "Fuzzed"}, key="app.id")
        key = self.post(f"/v2/apps/{app}/keys", {"displayName": "webhooks"}, key="key")
        self.app_key, self.ids["app_key"] = (key["id"], key["secret"]), key["id"]
        self.ids["user"] = self.post(f"/v2/apps/{app}/users", {"externalId": "fuzz-ana"}, key="user.id")
        self.ids["conversation"] = self.post(f"/v2/apps/{app}/conversations", {
            "type": "personal", "participants": [{"userId": self.ids["user"]}]}, key="conversation.id")
        self.ids["message"] = self.message(self.ids["conversation"])
        self.build_integrations(app)
        self.build_switchboard(app)
        for spare in ("spare_app", "spare_app_key", "group", "spare_message", "spare_user", "spare_zendesk",
                      "spare_client", "spare_integration", "spare_integration_key", "spare_webhook",
                      "spare_switchboard_integration", "media_url", "spare_token"):
            getattr(self, "make_" + spare)()
        self.ids["device"] = self.device(app)
        self.ids["token"] = connect(self.server, CHECKER, self.oauth[0], app)

    def build_integrations(self, app: str) -> None:
        integrations = f"/v2/apps/{app}/integrations"
        self.ids["integration"] = self.post(integrations, {"type": "custom", "displayName": "Fuzz bot",
                                                           "webhooks": [self.webhook()]}, key="integration.id")
        self.ids["webhook"] = self.post(f"{integrations}/{self.ids['integration']}/webhooks", self.webhook(),
                                        key="webhook.id", auth=self.app_key)
        self.ids["integration_key"] = self.post(f"{integrations}/{self.ids['integration']}/keys",
                                                {"displayName": "fuzz"}, key="key.id")
        self.ids["web"] = self.post(integrations, {"type": "web", "displayName": "Web"}, key="integration.id")
        self.ids["twilio"] = self.post(integrations, {"type": "twilio", "accountSid": "AC1", "authToken": "auth-token",
                                                      "phoneNumberSid": "PN1"}, key="integration.id")

    def build_switchboard(self, app: str) -> None:
        switchboard = self.ids["switchboard"] = self.post(f"/v2/apps/{app}/switchboards", key="switchboard.id")
        self.ids["switchboard_integration"] = self.post(
            f"/v2/apps/{app}/switchboards/{switchboard}/switchboardIntegrations",
            {"name": "bot", "integrationId": self.ids["integration"]}, key="switchboardIntegration.id")
        response = self.http.patch(f"/v2/apps/{app}/switchboards/{switchboard}", json={
            "enabled": True, "defaultSwitchboardIntegrationId": self.ids["switchboard_integration"]})
        assert 200 == response.status_code, response.text

    def device(self, app: str) -> str:
        """A device of the user's sdk client (the group conversation subscribed it), as an SDK would add it."""
        clients = self.http.get(f"/v2/apps/{app}/users/{self.ids['user']}/clients").json()["clients"]
        sdk = next(client["id"] for client in clients if client["type"] == "sdk")
        return add_device(self.server.database_url, app_id=app, user_id=self.ids["user"], client_id=sdk,
                          integration_id=self.ids["web"], last_seen=1_700_000_000_000)

    def message(self, conversation: str) -> str:
        return str(self.post(f"/v2/apps/{self.ids['app']}/conversations/{conversation}/messages", {
            "author": {"type": "business"}, "content": {"type": "text", "text": "fuzz"}}, key="messages")[0]["id"])

    def webhook(self) -> dict[str, Any]:
        return {"target": self.receiver.url, "triggers": sorted(TRIGGERS), "includeFullUser": True}

    # -- the spares, each made again after an operation used it up ---------------------------------

    def make_spare_app(self) -> None:
        self.ids["spare_app"] = self.post("/v2/apps", {"displayName": "Spare"}, key="app.id")
        self.make_spare_switchboard()

    def make_spare_switchboard(self) -> None:
        self.ids["spare_switchboard"] = self.post(f"/v2/apps/{self.ids['spare_app']}/switchboards",
                                                  key="switchboard.id")

    def make_spare_app_key(self) -> None:
        self.ids["spare_app_key"] = self.post(f"/v2/apps/{self.ids['app']}/keys", {"displayName": "spare"},
                                              key="key.id")

    def make_group(self) -> None:
        self.ids["group"] = self.post(f"/v2/apps/{self.ids['app']}/conversations", {
            "type": "sdkGroup", "participants": [{"userId": self.ids["user"], "subscribeSDKClient": True}]},
            key="conversation.id")
        self.message(self.ids["group"])

    def make_spare_message(self) -> None:
        self.ids["spare_message"] = self.message(self.ids["conversation"])

    def make_spare_user(self) -> None:
        self.ids["spare_user"] = self.post(f"/v2/apps/{self.ids['app']}/users", {}, key="user.id")

    def make_spare_zendesk(self) -> None:
        """A user linked to a Zendesk id, for SyncUser (which may merge the user away or relink it)."""
        user = self.post(f"/v2/apps/{self.ids['app']}/users", {}, key="user.id")
        self.ids["spare_zendesk"] = f"zd-{user}"
        link_zendesk(self.server.database_url, user, self.ids["spare_zendesk"])

    def make_spare_client(self) -> None:
        self.ids["spare_client"] = self.post(f"/v2/apps/{self.ids['app']}/users/{self.ids['user']}/clients", {
            "matchCriteria": {"type": "twilio", "integrationId": self.ids["twilio"], "phoneNumber": "+12125552368"},
            "confirmation": {"type": "immediate"}, "target": {"conversationId": self.ids["conversation"]}},
            key="client.id")

    def make_spare_integration(self) -> None:
        self.ids["spare_integration"] = self.post(f"/v2/apps/{self.ids['app']}/integrations", {
            "type": "web", "displayName": "Spare"}, key="integration.id")

    def make_spare_integration_key(self) -> None:
        self.ids["spare_integration_key"] = self.post(
            f"/v2/apps/{self.ids['app']}/integrations/{self.ids['integration']}/keys", {"displayName": "spare"},
            key="key.id")

    def make_spare_webhook(self) -> None:
        self.ids["spare_webhook"] = self.post(
            f"/v2/apps/{self.ids['app']}/integrations/{self.ids['integration']}/webhooks", self.webhook(),
            key="webhook.id", auth=self.app_key)

    def make_spare_switchboard_integration(self) -> None:
        self.ids["spare_switchboard_integration"] = self.post(
            f"/v2/apps/{self.ids['app']}/switchboards/{self.ids['switchboard']}/switchboardIntegrations",
            {"name": "spare", "integrationId": self.ids["web"]}, key="switchboardIntegration.id")

    def make_media_url(self) -> None:
        self.ids["media_url"] = self.post(f"/v2/apps/{self.ids['app']}/attachments", params={"access": "public"},
                                          files={"source": ("fuzz.png", PNG, "image/png")}, key="attachment.mediaUrl")

    def make_spare_token(self) -> None:
        """A token of the second client: RevokeAccess ends every token of its client and app."""
        self.ids["spare_token"] = connect(self.server, CHECKER, self.oauth[1], self.ids["app"])
