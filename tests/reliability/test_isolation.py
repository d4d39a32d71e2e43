"""Issue 5's isolation matrix: every operation of the spec, aimed at app A's real resources with
credentials that must not reach them, is refused with the documented status, leaks nothing of app A,
and changes nothing.

The operations come from the spec (a new one is attacked without editing this file); the credentials
are another app's key (Basic and JWT), its integration's key and its OAuth access token, a deleted key,
a revoked token, a wrong secret, an unsigned JWT, a JWT signed with another key's secret or naming an
unknown `kid`, no credentials, and an integration key of app A on what its scope does not reach.
docs/api-behaviour.md, "Authentication and scopes": bad credentials are `401 unauthorized`, good
credentials without the reach `403 forbidden`, decided before anything is read, so the answer is the
same whether the ids exist or not and whatever the body holds. (Account keys cannot be deleted: there is
no such case to attack.)
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest

from heliograph.schemas.webhooks import TRIGGERS
from tests.clients import CONFIG, raw_body
from tests.conftest import Server
from tests.oauth_flow import connect
from tests.receiver import Receiver
from tests.seeding import add_device, link_zendesk
from tests.spec import SpecChecker, load_spec, operations, security_scopes, validator
from tests.utils import MISSING_ID

UNAUTHENTICATED = ("anonymous", "wrong-secret", "deleted-key", "deleted-key-jwt", "revoked-token", "alg-none",
                   "wrong-signature", "unknown-kid")
FORBIDDEN = ("other-app", "other-app-jwt", "other-integration-key", "other-app-token", "integration-key")
# `security: []` operations: Authorize and GetToken take no key at all; GetTokenInfo reads the caller's token
# itself, and only an OAuth access token has the reach there and on RevokeAccess (docs/api-behaviour.md, OAuth).
READS_ITS_OWN_TOKEN = {"GetTokenInfo"}
TOKEN_ONLY = {"GetTokenInfo", "RevokeAccess"}
TAKES_NO_KEY = {"Authorize", "GetToken"}
QUERY = {"ListConversations": {"filter[userId]": "{userIdOrExternalId}"}, "UploadAttachment": {"access": "public"},
         "ListUsers": {"filter[identities.email]": "ana@example.org"}}  # the queries these operations require


def attacked() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The operations of the matrix: those whose security block names scopes, and GetTokenInfo."""
    return {name: spec for name, spec in operations().items()
            if security_scopes(spec[2]) or name in READS_ITS_OWN_TOKEN}


def refusal(operation: str, case: str) -> int | None:
    """The status the case must get on the operation; None where its credentials rightly reach it."""
    if case in UNAUTHENTICATED:
        return 401
    _, template, spec = operations()[operation]
    reaches = {"integration-key": "integration" in security_scopes(spec) and operation not in TOKEN_ONLY
               and "{integrationId}" not in template,  # the matrix's paths name another integration of app A
               "other-app-token": operation in TOKEN_ONLY}  # these act on the token itself, app B's own
    return None if reaches.get(case) else 403


MATRIX = [(operation, case) for operation in attacked() for case in (*UNAUTHENTICATED, *FORBIDDEN)
          if refusal(operation, case) is not None]


@dataclass
class World:
    """App A with one resource of every kind, and the credentials aimed at it."""

    server: Server
    http: httpx.Client
    ids: dict[str, str] = field(default_factory=dict)  # path parameter (or body reference) -> app A's real one
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)  # case -> request headers
    controls: dict[str, tuple[dict[str, str], str]] = field(default_factory=dict)  # headers, a GET they may make
    secrets: set[str] = field(default_factory=set)  # what app A holds and no refusal may show
    app_key: tuple[str, str] = ("", "")
    before: dict[str, Any] = field(default_factory=dict)
    attacks: int = 0  # refusals checked so far: the final comparison means something only after them all

    def call(self, method: str, url: str, auth: tuple[str, str] | None = None, **kwargs: Any) -> Any:
        """A request with app A's rightful credentials (the account key unless told), its JSON body."""
        response = self.http.request(method, url, auth=auth or self.server.account_key, **kwargs)
        assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text}"
        return response.json()


def basic(key_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()}


def bearer(kid: str, secret: str | None, scope: str, algorithm: str = "HS256") -> dict[str, str]:
    return {"Authorization": "Bearer " + jwt.encode({"scope": scope}, secret, algorithm=algorithm,
                                                     headers={"kid": kid})}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """Where app A's webhooks deliver (loopback), so that its events have somewhere to go."""
    receiving = Receiver()
    yield receiving
    receiving.stop()


@pytest.fixture(scope="module")
def world(server: Server, checker: SpecChecker, receiver: Receiver, client: dict[str, Any]) -> Iterator[World]:
    """App A and its resources, made once per engine, and the attackers' credentials (`client` is an
    OAuth client, for access tokens)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        world = World(server, http)
        tag = secrets.token_hex(6)
        build_app_a(world, tag, receiver.url)
        build_attackers(world, tag, receiver.url)
        build_tokens(world, checker, client)
        world.secrets |= {value for value in world.ids.values()} | {tag, world.app_key[1]}
        world.before = snapshot(world)
        yield world


def build_app_a(world: World, tag: str, hook: str) -> None:
    """App A with a key, a user, a conversation with a message, integrations, webhooks, keys, a switchboard,
    clients, a device and an attachment: every path parameter of the spec names one of them."""
    ids, call = world.ids, world.call
    app = call("POST", "/v2/apps", json={"displayName": f"App A {tag}", "metadata": {"secret": tag}})["app"]
    a = ids["appId"] = app["id"]
    key = call("POST", f"/v2/apps/{a}/keys", json={"displayName": f"Key {tag}"})["key"]
    world.app_key, ids["keyId"] = (key["id"], key["secret"]), key["id"]
    user = call("POST", f"/v2/apps/{a}/users", json={
        "externalId": f"ana-{tag}", "profile": {"givenName": f"Ana {tag}", "email": f"ana-{tag}@example.org"},
        "metadata": {"secret": tag}})["user"]
    u = ids["userIdOrExternalId"] = user["id"]
    c = ids["conversationId"] = call("POST", f"/v2/apps/{a}/conversations", json={
        "type": "personal", "participants": [{"userId": u}], "metadata": {"secret": tag}})["conversation"]["id"]
    ids["messageId"] = call("POST", f"/v2/apps/{a}/conversations/{c}/messages", json={
        "author": {"type": "business"}, "content": {"type": "text", "text": f"private {tag}"}})["messages"][0]["id"]
    webhook = {"target": hook, "triggers": sorted(TRIGGERS)}
    bot = call("POST", f"/v2/apps/{a}/integrations", json={
        "type": "custom", "displayName": f"Bot {tag}", "webhooks": [webhook]})["integration"]
    ids["integrationId"], ids["webhookId"] = bot["id"], bot["webhooks"][0]["id"]
    world.secrets.add(bot["webhooks"][0]["secret"])
    bot_key = call("POST", f"/v2/apps/{a}/integrations/{bot['id']}/keys", json={"displayName": "Bot key"})["key"]
    ids["integrationKeyId"] = bot_key["id"]
    world.secrets.add(bot_key["secret"])
    build_channels(world, tag)
    sb = ids["switchboardId"] = call("POST", f"/v2/apps/{a}/switchboards")["switchboard"]["id"]
    ids["switchboardIntegrationId"] = call("POST", f"/v2/apps/{a}/switchboards/{sb}/switchboardIntegrations", json={
        "name": "bot", "integrationId": bot["id"]})["switchboardIntegration"]["id"]
    ids["mediaUrl"] = call("POST", f"/v2/apps/{a}/attachments", params={"access": "public"},
                           files={"source": (f"{tag}.txt", tag.encode(), "text/plain")})["attachment"]["mediaUrl"]
    world.secrets.add(ids["mediaUrl"].rsplit("/", 2)[1])


def build_channels(world: World, tag: str) -> None:
    """A twilio client of the user, their SDK client with a device, and a Help Center zendeskId."""
    ids, call, a, u = world.ids, world.call, world.ids["appId"], world.ids["userIdOrExternalId"]
    twilio = ids["twilioId"] = call("POST", f"/v2/apps/{a}/integrations",
                                    json={"type": "twilio", **CONFIG["twilio"]})["integration"]["id"]
    ids["clientId"] = call("POST", f"/v2/apps/{a}/users/{u}/clients",
                           json=raw_body("twilio", twilio, ids["conversationId"]))["client"]["id"]
    group = call("POST", f"/v2/apps/{a}/conversations", json={"type": "sdkGroup"})["conversation"]["id"]
    joined = call("POST", f"/v2/apps/{a}/conversations/{group}/join",
                  json={"userId": u, "subscribeSDKClient": True})["participant"]
    web = call("POST", f"/v2/apps/{a}/integrations", json={"type": "web"})["integration"]["id"]
    ids["deviceId"] = add_device(world.server.database_url, app_id=a, user_id=u, integration_id=web,
                                 client_id=joined["clientAssociations"][0]["clientId"], last_seen=1_738_000_000_000)
    ids["zendeskId"] = f"zd-{tag}"
    link_zendesk(world.server.database_url, u, ids["zendeskId"])


def build_attackers(world: World, tag: str, hook: str) -> None:
    """Credentials for every case: app B's keys, app A's deleted key and a custom integration key of app A
    whose integration is not the one the matrix's paths name."""
    call, a = world.call, world.ids["appId"]
    b = call("POST", "/v2/apps", json={"displayName": f"App B {tag}"})["app"]["id"]
    b_key = call("POST", f"/v2/apps/{b}/keys", json={"displayName": "B"})["key"]
    b_bot = call("POST", f"/v2/apps/{b}/integrations", json={"type": "custom", "webhooks": [
        {"target": hook, "triggers": ["user:remove"]}]})["integration"]["id"]
    b_int = call("POST", f"/v2/apps/{b}/integrations/{b_bot}/keys", json={"displayName": "B bot"})["key"]
    gone = call("POST", f"/v2/apps/{a}/keys", json={"displayName": "Doomed"})["key"]
    call("DELETE", f"/v2/apps/{a}/keys/{gone['id']}")
    other_bot = call("POST", f"/v2/apps/{a}/integrations", json={"type": "custom", "webhooks": [
        {"target": hook, "triggers": ["user:remove"]}]})["integration"]["id"]
    a_int = call("POST", f"/v2/apps/{a}/integrations/{other_bot}/keys", json={"displayName": "A bot"})["key"]
    a_key = world.app_key
    world.credentials = {
        "anonymous": {}, "wrong-secret": basic(a_key[0], b_key["secret"]),
        "deleted-key": basic(gone["id"], gone["secret"]), "deleted-key-jwt": bearer(gone["id"], gone["secret"], "app"),
        "alg-none": bearer(a_key[0], None, "app", algorithm="none"),
        "wrong-signature": bearer(a_key[0], b_key["secret"], "app"),
        "unknown-kid": bearer("app_" + "0" * 24, a_key[1], "app"),
        "other-app": basic(b_key["id"], b_key["secret"]), "other-app-jwt": bearer(b_key["id"], b_key["secret"], "app"),
        "other-integration-key": basic(b_int["id"], b_int["secret"]),
        "integration-key": basic(a_int["id"], a_int["secret"])}
    world.ids["appB"] = b
    reach = {"other-app": f"/v2/apps/{b}", "other-app-jwt": f"/v2/apps/{b}",
             "other-integration-key": f"/v2/apps/{b}/integrations/me/webhooks",
             "integration-key": f"/v2/apps/{a}/users/{world.ids['userIdOrExternalId']}"}
    world.controls = {"app-key": (basic(*a_key), f"/v2/apps/{a}"),
                      "app-key-jwt": (bearer(*a_key, "app"), f"/v2/apps/{a}"),
                      **{case: (world.credentials[case], url) for case, url in reach.items()}}


def build_tokens(world: World, checker: SpecChecker, client: dict[str, Any]) -> None:
    """An OAuth access token of app B, and one of app A revoked with RevokeAccess."""
    token_b = connect(world.server, checker, client, world.ids.pop("appB"))
    revoked = {"Authorization": "Bearer " + connect(world.server, checker, client, world.ids["appId"])}
    assert 200 == world.http.delete("/oauth/authorization", headers=revoked).status_code
    world.credentials |= {"other-app-token": {"Authorization": "Bearer " + token_b}, "revoked-token": revoked}
    world.controls["other-app-token"] = (world.credentials["other-app-token"], "/v2/tokenInfo")


# --- the requests ---------------------------------------------------------------------------------

INTRUDER = "intruder-" + secrets.token_hex(4)  # every name an attack would write, looked for at the end
BODIES: dict[str, Any] = {  # valid bodies aimed at app A's real resources; other operations send the spec's example
    "CreateApp": {"displayName": INTRUDER}, "UpdateApp": {"displayName": INTRUDER},
    "CreateAppKey": {"displayName": INTRUDER}, "DeleteAttachment": {"mediaUrl": "{mediaUrl}"},
    "CreateConversation": {"type": "personal", "participants": [{"userId": "{userIdOrExternalId}"}]},
    "UpdateConversation": {"displayName": INTRUDER},
    "JoinConversation": {"userId": "{userIdOrExternalId}", "subscribeSDKClient": False},
    "LeaveConversation": {"userId": "{userIdOrExternalId}"},
    "PostMessage": {"author": {"type": "business"}, "content": {"type": "text", "text": INTRUDER}},
    "PostActivity": {"author": {"type": "business"}, "type": "typing:start"},
    "PassControl": {"switchboardIntegration": "next"}, "ReleaseControl": {}, "AcceptControl": {},
    "OfferControl": {"switchboardIntegration": "{switchboardIntegrationId}"},
    "CreateIntegration": {"type": "web", "displayName": INTRUDER}, "UpdateIntegration": {"displayName": INTRUDER},
    "CreateCustomIntegrationKey": {"displayName": INTRUDER},
    "CreateWebhook": {"target": "http://127.0.0.1:9/" + INTRUDER, "triggers": ["conversation:message"]},
    "UpdateWebhook": {"target": "http://127.0.0.1:9/" + INTRUDER}, "UpdateSwitchboard": {"enabled": False},
    "CreateSwitchboardIntegration": {"name": INTRUDER, "integrationType": "web"},
    "UpdateSwitchboardIntegration": {"deliverStandbyEvents": False},
    "CreateUser": {"externalId": INTRUDER}, "UpdateUser": {"profile": {"givenName": INTRUDER}},
    "CreateClient": raw_body("twilio", "{twilioId}", "{conversationId}"), "SyncUser": {},
}


def fill(template: Any, ids: dict[str, str]) -> Any:
    """A path, query or body template with `{name}` replaced by ids[name], an integration's `keyId` by its key."""
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, ids) for v in template]
    if not isinstance(template, str):
        return template
    return template.replace("/integrations/{integrationId}/keys/{keyId}",
                            "/integrations/{integrationId}/keys/{integrationKeyId}").format_map(ids)


def content_type(operation: str) -> str | None:
    request = operations()[operation][2].get("requestBody")
    return None if request is None else next(iter(request["content"]))


def body_of(operation: str) -> Any:
    """The body the matrix sends: ours, else the spec's (default) example, else `{}`."""
    if operation in BODIES:
        return BODIES[operation]
    media = operations()[operation][2]["requestBody"]["content"][content_type(operation)]
    example = media.get("example") or media.get("examples", {}).get("default", {"value": {}})
    if "$ref" in example:
        example = load_spec()["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
    return example.get("value", example)


def payload(operation: str, ids: dict[str, str], malformed: bool = False) -> dict[str, Any]:
    """httpx keyword arguments for the operation's request body: valid (or cut short), none without one."""
    kind = content_type(operation)
    if kind is None:
        return {}
    if kind == "multipart/form-data":
        if malformed:
            return {"content": b"--cut\r\nContent-Disposition", "headers": {"content-type": kind + "; boundary=x"}}
        return {"files": {"source": (f"{INTRUDER}.txt", INTRUDER.encode(), "text/plain")}}
    if malformed:
        return {"content": b'{"cut', "headers": {"content-type": kind}}
    return {"json": fill(body_of(operation), ids)}


def send(world: World, operation: str, case: str, ids: dict[str, str], malformed: bool = False) -> httpx.Response:
    """The operation on the paths `ids` name, with the case's credentials and a body."""
    method, template, _ = operations()[operation]
    extra = payload(operation, world.ids, malformed)
    headers = {**world.credentials[case], **extra.pop("headers", {})}
    params = fill(QUERY.get(operation, {}), world.ids)
    return world.http.request(method, fill(template, ids), params=params, headers=headers, **extra)


def phantom(ids: dict[str, str]) -> dict[str, str]:
    """App A's id with every other id replaced by one that names nothing."""
    return {name: value if name == "appId" else MISSING_ID for name, value in ids.items()}


def snapshot(world: World) -> dict[str, Any]:
    """What app A's owner sees of it: every readable operation of the spec on its real ids, the webhook
    deliveries of its events, the uploaded file, and the apps created since (none named by an attack)."""
    seen: dict[str, Any] = {}
    for name, (method, template, spec) in operations().items():
        scopes = security_scopes(spec)
        if method != "GET" or not scopes or name == "ListApps":
            continue
        auth = world.server.account_key if "account" in scopes else world.app_key
        params = fill(QUERY.get(name, {}), world.ids)
        seen[name] = world.call(method, fill(template, world.ids), auth=auth, params=params)
    deliveries = world.call("GET", f"/admin/webhooks/{world.ids['webhookId']}/deliveries", params={"limit": 500})
    seen["deliveries"] = sorted(d["id"] for d in deliveries["deliveries"])
    seen["media"] = world.http.get(world.ids["mediaUrl"]).content
    later = world.call("GET", "/v2/apps", params={"page[after]": world.ids["appId"], "page[size]": 100})
    seen["later apps"] = [app["displayName"] for app in later["apps"]]
    return seen


def assert_refused(world: World, checker: SpecChecker, response: httpx.Response, status: int) -> None:
    """The status, in the spec's error envelope with the matching code, no trace of app A in it."""
    body = response.json()
    checker.check(response.request.method, str(response.request.url), response.status_code, body)
    code = {401: "unauthorized", 403: "forbidden"}[status]
    assert (status, [code]) == (response.status_code, [e["code"] for e in body["errors"]]), response.text
    assert ({"code", "title"}, status == 401) == (set(body["errors"][0]), "www-authenticate" in response.headers)
    shown = response.text + repr(response.headers.multi_items())
    assert [] == sorted(s for s in world.secrets if s in shown)


# --- the matrix ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("operation", "case"), MATRIX, ids=[f"{o}-{c}" for o, c in MATRIX])
def test_refused_without_a_trace(world: World, checker: SpecChecker, operation: str, case: str) -> None:
    """The case's credentials on app A's real resources get the documented refusal and nothing of app A;
    ids that name nothing and a malformed body get the very same answer: the refusal comes first."""
    status = refusal(operation, case)
    assert status is not None
    real = send(world, operation, case, world.ids)
    assert_refused(world, checker, real, status)
    again = [send(world, operation, case, phantom(world.ids))]
    if content_type(operation):
        again.append(send(world, operation, case, world.ids, malformed=True))
    assert [(status, real.json())] * len(again) == [(r.status_code, r.json()) for r in again]
    world.attacks += 1


@pytest.mark.parametrize("operation", [o for o in attacked() if content_type(o) == "application/json"])
def test_the_bodies_sent_are_valid_requests(world: World, operation: str) -> None:
    """Every JSON body of the matrix is valid for the spec, so only the credentials can be what refuses it."""
    schema = operations()[operation][2]["requestBody"]["content"]["application/json"]["schema"]
    errors = [e.message for e in validator(schema).iter_errors(fill(body_of(operation), world.ids))
              if e.validator != "oneOf" or e.context]  # the spec's oneOf branches require nothing: many match
    assert [] == errors


@pytest.mark.parametrize("control", ["app-key", "app-key-jwt", "other-app", "other-app-jwt",
                                     "other-integration-key", "other-app-token", "integration-key"])
def test_the_refused_keys_work_where_they_belong(world: World, control: str) -> None:
    """App A's key (Basic and JWT) and every refused key answer 200 within their own reach, so the refusals
    are about reach and forgery, not keys that never worked."""
    headers, url = world.controls[control]
    assert 200 == world.http.get(url, headers=headers).status_code


def test_every_operation_is_attacked_or_takes_no_key() -> None:
    """The matrix covers every operation of the spec but the two of the OAuth flow that take no key."""
    assert set(operations()) - set(attacked()) == TAKES_NO_KEY


def test_app_a_is_unchanged(world: World) -> None:
    """After the whole matrix, app A reads exactly as before it: every refused write changed nothing."""
    assert len(MATRIX) == world.attacks, "run the whole matrix first"
    assert world.before == snapshot(world)
