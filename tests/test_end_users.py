"""The end users' SDK API, first part (docs/end-users.md): an SDK integration's config, anonymous users
with session tokens, the signed-in user's own profile, and the originWhitelist with CORS, on a live
server; end users' credentials reach their own user only, and never the v2 API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.store import tables as t
from tests.attachments import PNG
from tests.conftest import Server
from tests.end_users import EVIL, SHOP, Visitor, basic, log_in, sign_up, user_jwt
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.switchboards import add_member, make_switchboard
from tests.utils import MISSING_ID, error_of, in_database, row_count, sdk_error, seed_messages


@pytest.fixture
def web(http: httpx.Client, app_id: str) -> dict[str, Any]:
    """A web integration that only the shop's pages may use."""
    response = http.post(f"/v2/apps/{app_id}/integrations", json={
        "type": "web", "brandColor": "112233", "businessName": "Shop", "originWhitelist": [SHOP]})
    return dict(response.json()["integration"])


def test_config_tells_a_widget_how_to_start(browserless: httpx.Client, server: Server, account: sc.ApiClient,
                                             app_id: str, web: dict[str, Any]) -> None:
    """The config names the app, the integration's public fields and the API's URL; the shop's pages may
    read it (CORS), a foreign origin is refused, and a non-SDK or unknown integration is not found."""
    path = f"/sdk/v2/integrations/{web['id']}/config"
    shop, plain, evil = (browserless.get(path, headers=h) for h in ({"origin": SHOP}, {}, {"origin": EVIL}))
    config = shop.json()["config"]
    assert (200, SHOP, app_id, False) == (shop.status_code, shop.headers.get("access-control-allow-origin"),
                                          config["app"]["id"], config["app"]["settings"]["multiConvoEnabled"])
    assert ("112233", "Shop", f"{server.base_url}/sdk/v2/apps/{app_id}") == (
        config["integration"]["brandColor"], config["integration"]["businessName"], config["urls"]["api"])
    assert (200, None) == (plain.status_code, plain.headers.get("access-control-allow-origin"))
    assert (403, "forbidden", None) == (evil.status_code, error_of(evil)[1], evil.headers.get(
        "access-control-allow-origin"))
    bot, _ = custom_integration(account, app_id, "https://example.com/hook", ["conversation:message"])
    for other in (bot, MISSING_ID):
        missing = browserless.get(f"/sdk/v2/integrations/{other}/config")
        assert (404, "integration_not_found") == error_of(missing)


def test_an_anonymous_user_gets_a_session_and_an_sdk_client(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """POST appusers makes a user without externalId, an `sdk` client (listed by ListClients) and a session
    token; client:add names the web integration as its source."""
    custom_integration(account, app_id, receiver.url, ["client:add"])
    created = sign_up(browserless, app_id, web["id"], profile={"givenName": "Ana"}, metadata={"plan": "free"})
    user, client = created["user"], created["client"]
    listed = sc.ClientsApi(account).list_clients(app_id, user["id"]).clients
    event = receiver.wait_for(lambda got: len(got) >= 1)[0]
    assert (None, "Ana", {"plan": "free"}, 43) == (user.get("externalId"), user["profile"]["givenName"],
                                                   user["metadata"], len(created["sessionToken"]))
    assert ("sdk", "active", [client["id"]]) == (client["type"], client["status"], [c.id for c in listed])
    assert ("client:add", {"type": "web", "integrationId": web["id"]}, user["id"]) == (
        event["type"], event["payload"]["source"], event["payload"]["user"]["id"])


def test_the_session_token_reaches_the_users_own_profile_only(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any]) -> None:
    """Basic userId:sessionToken reads the user; a wrong token, another user, another app or the v2 API
    with these credentials is refused, and nothing tells whether another user exists."""
    ana, bob = (sign_up(browserless, app_id, web["id"]) for _ in range(2))
    ana_id, token = ana["user"]["id"], ana["sessionToken"]
    own = browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}", headers=basic(ana_id, token))
    assert (200, ana["user"]) == (own.status_code, own.json()["user"])
    other_app = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    refusals = [
        browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}", headers=basic(ana_id, token + "x")),
        browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}", headers=basic(bob["user"]["id"], token)),
        browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{ana_id}"),
        browserless.get(f"/sdk/v2/apps/{other_app}/appusers/{ana_id}", headers=basic(ana_id, token)),
        browserless.get(f"/v2/apps/{app_id}/users/{ana_id}", headers=basic(ana_id, token)),
    ]
    assert [(401, "unauthorized")] * 5 == [error_of(r) for r in refusals]
    for someone in (bob["user"]["id"], MISSING_ID):
        hidden = browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{someone}", headers=basic(ana_id, token))
        assert (404, "user_not_found") == error_of(hidden)


def test_cors_lets_the_whitelisted_origin_in_and_keeps_others_out(
        browserless: httpx.Client, server: Server, app_id: str, web: dict[str, Any]) -> None:
    """A preflight from the shop is granted; from elsewhere it is a 403 without CORS headers, and a
    request from there creates nothing. The shop can read even a 400 (the CORS headers stay)."""
    path = f"/sdk/v2/apps/{app_id}/appusers"
    asks = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    granted = browserless.options(path, headers={"origin": SHOP, **asks})
    refused = browserless.options(path, headers={"origin": EVIL, **asks})
    assert (200, SHOP, "POST", "authorization, content-type") == (
        granted.status_code, granted.headers.get("access-control-allow-origin"),
        granted.headers.get("access-control-allow-methods"), granted.headers.get("access-control-allow-headers"))
    assert (403, None) == (refused.status_code, refused.headers.get("access-control-allow-origin"))
    before = row_count(server.database_url, t.users, app_id)
    foreign = browserless.post(path, json={"integrationId": web["id"]}, headers={"origin": EVIL})
    assert ((403, "forbidden"), before) == (error_of(foreign), row_count(server.database_url, t.users, app_id))
    malformed = browserless.post(path, json={"profile": {}}, headers={"origin": SHOP})
    assert ((400, "bad_request"), SHOP) == (error_of(malformed), malformed.headers.get("access-control-allow-origin"))


def test_an_integration_without_a_whitelist_takes_any_origin(browserless: httpx.Client, http: httpx.Client,
                                                             app_id: str) -> None:
    """No originWhitelist: every origin may start a session; an ios integration has no whitelist at all."""
    for body in ({"type": "web"}, {"type": "ios"}):
        integration = http.post(f"/v2/apps/{app_id}/integrations", json=body).json()["integration"]["id"]
        response = browserless.post(f"/sdk/v2/apps/{app_id}/appusers", json={"integrationId": integration},
                                    headers={"origin": EVIL})
        assert (201, EVIL) == (response.status_code, response.headers.get("access-control-allow-origin"))
    not_sdk = http.post(f"/v2/apps/{app_id}/integrations",
                        json={"type": "telegram", "token": "192033615:AAEuee"}).json()
    response = browserless.post(f"/sdk/v2/apps/{app_id}/appusers",
                                json={"integrationId": not_sdk["integration"]["id"]})
    assert (404, "integration_not_found") == error_of(response)



def business_says(http: httpx.Client, app_id: str, conversation_id: str, content: dict[str, Any]) -> dict[str, Any]:
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages",
                         json={"author": {"type": "business"}, "content": content})
    assert 201 == response.status_code, response.text
    return dict(response.json()["messages"][0])


def test_a_visitor_starts_a_conversation_and_writes_in_it(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """The visitor's conversation is personal, theirs, made with creationReason startConversation; their
    message is a user's message from the web integration, and the bot's webhook gets it."""
    custom_integration(account, app_id, receiver.url, ["conversation:create", "conversation:message"])
    ana = Visitor(browserless, app_id, web["id"])
    started = ana.start(displayName="Help")
    conversation = started.json()["conversation"]
    sent = ana.say(conversation["id"], "Hello", clientMessageId="m-1")
    message = sent.json()["messages"][0]
    events = receiver.wait_for(lambda got: len(got) >= 2)
    members = sc.ParticipantsApi(account).list_participants(app_id, conversation["id"]).participants
    assert ((201, "personal", "Help"), [ana.id]) == ((started.status_code, conversation["type"],
                                                      conversation["displayName"]), [m.user_id for m in members])
    assert (201, {"type": "user", "userId": ana.id}) == (sent.status_code, {
        k: message["author"][k] for k in ("type", "userId")})
    assert {"type": "web", "integrationId": web["id"], "originalMessageId": "m-1"} == message["source"]
    assert [("conversation:create", "startConversation", {"type": "web", "integrationId": web["id"]}),
            ("conversation:message", None, message["source"])] == [
        (e["type"], e["payload"].get("creationReason"), e["payload"].get("source", e["payload"].get(
            "message", {}).get("source"))) for e in events]
    listed = ana.call("GET", f"/appusers/{ana.id}/conversations").json()["conversations"]
    history = ana.call("GET", f"/conversations/{conversation['id']}/messages").json()["messages"]
    assert ([conversation["id"]], [message["id"]]) == ([c["id"] for c in listed], [m["id"] for m in history])


def test_a_retried_send_with_the_same_client_message_id_is_one_message(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """The same clientMessageId answers the first message again (no second message, no second event);
    messages without one, or with another, are new."""
    custom_integration(account, app_id, receiver.url, ["conversation:message"])
    ana = Visitor(browserless, app_id, web["id"])
    conversation = ana.start().json()["conversation"]["id"]
    first, again = (ana.say(conversation, "once", clientMessageId="c-1") for _ in range(2))
    other = ana.say(conversation, "twice")
    third = ana.say(conversation, "twice")
    stored = sc.MessagesApi(account).list_messages(app_id, conversation).messages
    events = receiver.wait_for(lambda got: len(got) >= 3)
    assert ([201] * 4, first.json(), 3) == ([r.status_code for r in (first, again, other, third)], again.json(),
                                            len(stored))
    assert ["once", "twice", "twice"] == [e["payload"]["message"]["content"]["text"] for e in events]


def test_conversation_rules_and_reach(browserless: httpx.Client, http: httpx.Client, app_id: str,
                                      web: dict[str, Any]) -> None:
    """A second conversation needs multiConvoEnabled (and no canUserCreateMoreConversations: false); a
    visitor reaches their own conversations only (404), and their messages are checked like PostMessage's."""
    ana, bob = Visitor(browserless, app_id, web["id"]), Visitor(browserless, app_id, web["id"])
    mine = ana.start().json()["conversation"]["id"]
    assert (400, "bad_request") == error_of(ana.start())
    http.patch(f"/v2/apps/{app_id}", json={"settings": {"multiConvoEnabled": True}})
    assert 201 == ana.start().status_code
    http.patch(f"/v2/apps/{app_id}/integrations/{web['id']}", json={"canUserCreateMoreConversations": False})
    assert (400, "bad_request") == error_of(ana.start())
    refused = [bob.say(mine, "let me in"), bob.call("GET", f"/conversations/{mine}/messages"),
               bob.call("POST", f"/conversations/{mine}/activity", json={"type": "typing:start"}),
               ana.say(MISSING_ID, "nowhere")]
    assert [(404, "conversation_not_found")] * 4 == [error_of(r) for r in refused]
    assert (404, "user_not_found") == error_of(bob.call("GET", f"/appusers/{ana.id}/conversations"))
    assert (400, "bad_request") == error_of(ana.call("POST", f"/conversations/{mine}/messages",
                                                     json={"content": {"type": "text"}}))


def test_a_visitor_types_and_reads(browserless: httpx.Client, account: sc.ApiClient, app_id: str,
                                   web: dict[str, Any], receiver: Receiver) -> None:
    """Typing (which the v2 API refuses a user) and reading come through the SDK with the web source."""
    custom_integration(account, app_id, receiver.url, ["conversation:typing", "conversation:read"])
    ana = Visitor(browserless, app_id, web["id"])
    conversation = ana.start().json()["conversation"]["id"]
    answers = [ana.call("POST", f"/conversations/{conversation}/activity", json={"type": kind}).status_code
               for kind in ("typing:start", "typing:stop", "conversation:read")]
    events = receiver.wait_for(lambda got: len(got) >= 3)
    member = sc.ParticipantsApi(account).list_participants(app_id, conversation).participants[0]
    assert [200] * 3 == answers
    assert [("conversation:typing", "typing:start"), ("conversation:typing", "typing:stop"),
            ("conversation:read", "conversation:read")] == [(e["type"], e["payload"]["activity"]["type"])
                                                            for e in events]
    assert {"type": "web", "integrationId": web["id"]} == events[0]["payload"]["activity"]["source"]
    assert (ana.id, True) == (events[0]["payload"]["activity"]["author"]["userId"], member.last_read is not None)


def test_the_web_integrations_default_responder_takes_the_visitors_conversations(
        browserless: httpx.Client, http: httpx.Client, account: sc.ApiClient, app_id: str,
        web: dict[str, Any]) -> None:
    """With defaultResponderId on the web integration, a visitor's new conversation starts with that
    switchboard integration in control, and after releaseControl the visitor's next message gives it
    control again (the switchboard's default is another one)."""
    board = make_switchboard(account, app_id)
    bot, agent = add_member(account, app_id, board.id, "bot"), add_member(account, app_id, board.id, "agent")
    sc.SwitchboardsApi(account).update_switchboard(app_id, board.id, sc.SwitchboardUpdateBody(
        enabled=True, default_switchboard_integration_id=bot.id))
    http.patch(f"/v2/apps/{app_id}/integrations/{web['id']}", json={"defaultResponderId": agent.id})
    ana = Visitor(browserless, app_id, web["id"])
    conversation = ana.start().json()["conversation"]
    sc.SwitchboardActionsApi(account).release_control(app_id, conversation["id"])
    released = sc.ConversationsApi(account).get_conversation(app_id, conversation["id"]).conversation
    ana.say(conversation["id"], "anyone there?")
    after = sc.ConversationsApi(account).get_conversation(app_id, conversation["id"]).conversation
    assert ("agent", None, "agent") == (conversation["activeSwitchboardIntegration"]["name"],
                                        released.active_switchboard_integration,
                                        after.active_switchboard_integration.name)


@pytest.fixture
def app_key(account: sc.ApiClient, app_id: str) -> sc.AppKey:
    return sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="Site")).key


def test_a_user_jwt_signs_in_the_identified_user(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any], app_key: sc.AppKey,
        receiver: Receiver) -> None:
    """Login with a user JWT finds or makes the user with that externalId and opens a session on a new sdk
    client (client:add, reason sdkLogin); the session works until logout."""
    custom_integration(account, app_id, receiver.url, ["client:add"])
    token = user_jwt(app_key, external_id="ana-42")
    first, second = (log_in(browserless, app_id, token, integrationId=web["id"]) for _ in range(2))
    signed = first.json()
    user_id = signed["user"]["id"]
    events = receiver.wait_for(lambda got: len(got) >= 2)
    assert (200, "ana-42", user_id) == (first.status_code, signed["user"]["externalId"],
                                        second.json()["user"]["id"])
    assert ["sdkLogin", "sdkLogin"] == [e["payload"]["reason"] for e in events]
    own = browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{user_id}", headers=basic(user_id, signed["sessionToken"]))
    logout = browserless.post(f"/sdk/v2/apps/{app_id}/appusers/{user_id}/logout",
                              headers=basic(user_id, signed["sessionToken"]))
    after = browserless.get(f"/sdk/v2/apps/{app_id}/appusers/{user_id}", headers=basic(user_id, signed["sessionToken"]))
    assert (200, 200, (401, "unauthorized")) == (own.status_code, logout.status_code, error_of(after))


def test_logging_in_hands_the_anonymous_user_over(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any], app_key: sc.AppKey,
        receiver: Receiver) -> None:
    """The browser's anonymous user becomes the identified one when none has that externalId yet
    (user:update, reason authentication), and is merged into it when one does (user:merge, reason
    sdkLogin, its conversation's messages kept); the anonymous session ends."""
    custom_integration(account, app_id, receiver.url, ["user:update", "user:merge"])
    ana = Visitor(browserless, app_id, web["id"])
    became = log_in(browserless, app_id, user_jwt(app_key, external_id="ana"), integrationId=web["id"],
                    userId=ana.id, sessionToken=ana.token)
    bob = Visitor(browserless, app_id, web["id"])
    conversation = bob.start().json()["conversation"]["id"]
    bob.say(conversation, "before logging in")
    sc.UsersApi(account).create_user(app_id, sc.UserCreateBody(external_id="bob"))
    merged = log_in(browserless, app_id, user_jwt(app_key, external_id="bob"), integrationId=web["id"],
                    userId=bob.id, sessionToken=bob.token)
    events = receiver.wait_for(lambda got: len(got) >= 2)
    assert ((200, ana.id, "ana"), (401, "unauthorized")) == (
        (became.status_code, became.json()["user"]["id"], became.json()["user"]["externalId"]),
        error_of(ana.call("GET", f"/appusers/{ana.id}")))
    survivor = merged.json()["user"]["id"]
    history = sc.MessagesApi(account).list_messages(app_id, conversation).messages
    assert (200, True, ["before logging in"]) == (merged.status_code, survivor != bob.id,
                                                  [m.content.actual_instance.text for m in history])
    assert [("user:update", "authentication"), ("user:merge", "sdkLogin")] == [
        (e["type"], e["payload"]["reason"]) for e in events]
    assert (404, "user_not_found") == sdk_status(lambda: sc.UsersApi(account).get_user(app_id, bob.id))


@pytest.mark.parametrize("claims", [
    {"scope": "app", "external_id": "ana"}, {}, {"external_id": 42}, {"external_id": ""},
    {"external_id": "ana", "exp": 1_000_000_000},
])
def test_invalid_user_jwts_are_401(browserless: httpx.Client, app_id: str, web: dict[str, Any],
                                   app_key: sc.AppKey, claims: dict[str, Any]) -> None:
    token = jwt.encode({"scope": "user", **claims}, app_key.secret, algorithm="HS256", headers={"kid": app_key.id})
    assert (401, "unauthorized") == error_of(log_in(browserless, app_id, token, integrationId=web["id"]))


def test_a_jwt_of_another_apps_key_or_a_wrong_secret_is_401(
        browserless: httpx.Client, account: sc.ApiClient, server: Server, app_id: str, web: dict[str, Any],
        app_key: sc.AppKey) -> None:
    other = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    foreign = sc.AppKeysApi(account).create_app_key(other, sc.AppKeyCreateBody(display_name="k")).key
    forged = jwt.encode({"scope": "user", "external_id": "ana"}, "x" * 64, algorithm="HS256",
                        headers={"kid": app_key.id})
    account_kid = jwt.encode({"scope": "user", "external_id": "ana"}, server.account_key[1], algorithm="HS256",
                             headers={"kid": server.account_key[0]})
    for token in (user_jwt(foreign, external_id="ana"), forged, account_kid):
        assert (401, "unauthorized") == error_of(log_in(browserless, app_id, token, integrationId=web["id"]))


def test_a_session_ends_when_its_jwt_expires(browserless: httpx.Client, server: Server, app_id: str,
                                             web: dict[str, Any], app_key: sc.AppKey) -> None:
    """A session opened with a JWT that has `exp` stops working at that time (moved to the past here)."""
    token = user_jwt(app_key, external_id="ana", exp=int(time.time()) + 3600)
    signed = log_in(browserless, app_id, token, integrationId=web["id"]).json()
    user_id = signed["user"]["id"]
    path = f"/sdk/v2/apps/{app_id}/appusers/{user_id}"
    before = browserless.get(path, headers=basic(user_id, signed["sessionToken"]))
    in_database(server.database_url, sa.update(t.sdk_sessions).where(t.sdk_sessions.c.user_id == user_id)
                .values(expires_at=int(time.time() * 1000) - 1))
    after = browserless.get(path, headers=basic(user_id, signed["sessionToken"]))
    assert (200, (401, "unauthorized")) == (before.status_code, error_of(after))


def sdk_status(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(sc.ApiException) as raised:
        call()
    return sdk_error(raised)[:2]


def test_a_visitor_updates_their_own_profile(
        browserless: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """PUT changes the user's profile and metadata, checked as UpdateUser checks them, and emits no
    user:update; signedUpAt and toBeRetained are the business's (400); another user is not found."""
    custom_integration(account, app_id, receiver.url, ["user:update", "conversation:create"])
    ana, bob = Visitor(browserless, app_id, web["id"]), Visitor(browserless, app_id, web["id"])
    updated = ana.update(profile={"givenName": "Ana", "email": "ana@example.com"}, metadata={"plan": "pro"})
    ana.start()
    events = receiver.wait_for(lambda got: len(got) >= 1)
    stored = sc.UsersApi(account).get_user(app_id, ana.id).user
    assert (200, "Ana", {"plan": "pro"}) == (updated.status_code, updated.json()["user"]["profile"]["givenName"],
                                             updated.json()["user"]["metadata"])
    assert (("Ana", "ana@example.com"), ["conversation:create"]) == (
        (stored.profile.given_name, stored.profile.email), [e["type"] for e in events])
    refused = [ana.update(signedUpAt="2020-05-21T15:53:30.197Z"), ana.update(toBeRetained=True),
               ana.update(profile={"email": "not an address"}), ana.update(metadata={"deep": {"x": 1}})]
    assert [(400, "bad_request")] * 4 == [error_of(r) for r in refused]
    assert (404, "user_not_found") == error_of(bob.call("PUT", f"/appusers/{ana.id}", json={"metadata": {}}))


def test_a_visitor_sends_a_file_as_an_image_or_file_message(
        browserless: httpx.Client, server: Server, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """An image upload becomes the user's image message, anything else a file message, with the web source;
    the upload is the message's (its mediaUrl serves the bytes). A repeated clientMessageId answers the
    first message and keeps no second file; another visitor's upload to the conversation is a 404."""
    custom_integration(account, app_id, receiver.url, ["conversation:message"])
    ana, bob = Visitor(browserless, app_id, web["id"]), Visitor(browserless, app_id, web["id"])
    conversation = ana.start().json()["conversation"]["id"]
    sent = ana.send_file(conversation, "dot.png", PNG, "image/png", clientMessageId="f-1")
    again = ana.send_file(conversation, "dot.png", PNG, "image/png", clientMessageId="f-1")
    notes = ana.send_file(conversation, "notes.txt", b"hello", "text/plain")
    image_message, file_message = sent.json()["messages"][0], notes.json()["messages"][0]
    events = receiver.wait_for(lambda got: len(got) >= 2)
    assert (201, 201, sent.json()) == (sent.status_code, again.status_code, again.json())
    assert (("image", "image/png", "dot.png"), ("file", "text/plain", 5)) == (
        tuple(image_message["content"].get(k) for k in ("type", "mediaType", "altText")),
        tuple(file_message["content"].get(k) for k in ("type", "mediaType", "mediaSize")))
    assert ({"type": "web", "integrationId": web["id"], "originalMessageId": "f-1"}, ana.id) == (
        image_message["source"], image_message["author"]["userId"])
    assert (PNG, 2) == (httpx.get(image_message["content"]["mediaUrl"]).content,
                        row_count(server.database_url, t.attachments, app_id))
    assert [image_message["id"], file_message["id"]] == [e["payload"]["message"]["id"] for e in events]
    assert (404, "conversation_not_found") == error_of(bob.send_file(conversation, "x.txt", b"x", "text/plain"))
    assert (400, "bad_request") == error_of(ana.call("POST", f"/conversations/{conversation}/files",
                                                     files={"clientMessageId": (None, "x")}))


def test_a_refused_file_stores_nothing(browserless: httpx.Client, server: Server, app_id: str,
                                      web: dict[str, Any]) -> None:
    """One byte over the 50 MB of UploadAttachment: 413 in the spec's envelope, no file row, no message. A
    file for a full conversation (423) is not kept either."""
    ana = Visitor(browserless, app_id, web["id"])
    conversation = ana.start().json()["conversation"]["id"]
    oversized = ana.send_file(conversation, "big.bin", b"\x00" * (50 * 1024 * 1024 + 1), "application/octet-stream")
    history = ana.call("GET", f"/conversations/{conversation}/messages").json()["messages"]
    in_database(server.database_url, sa.update(t.conversations).where(t.conversations.c.id == conversation)
                .values(message_count=30_000))
    full = ana.send_file(conversation, "dot.png", PNG, "image/png")
    assert ((413, "payload_too_large"), (423, "locked"), 0, []) == (
        error_of(oversized), error_of(full), row_count(server.database_url, t.attachments, app_id), history)


def test_a_visitor_clicks_a_postback_button(
        browserless: httpx.Client, http: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """A postback action of a message (or of a carousel item) emits conversation:postback with its payload
    and metadata, the user and the web source; with echoPostback, the button's text is first posted as the
    user's message. Another kind of action or a malformed id is a 400; no such action a 404."""
    custom_integration(account, app_id, receiver.url, ["conversation:postback", "conversation:message"])
    ana, bob = Visitor(browserless, app_id, web["id"]), Visitor(browserless, app_id, web["id"])
    conversation = ana.start().json()["conversation"]["id"]
    buttons = business_says(http, app_id, conversation, {"type": "text", "text": "Pick", "actions": [
        {"type": "link", "text": "Site", "uri": "https://shop.example"},
        {"type": "postback", "text": "Yes", "payload": "YES", "metadata": {"n": 1}}]})
    carousel = business_says(http, app_id, conversation, {"type": "carousel", "items": [
        {"title": "Tea", "actions": [{"type": "postback", "text": "Buy tea", "payload": "TEA"}]}]})
    first = ana.click(conversation, f"{buttons['id']}:1")
    http.patch(f"/v2/apps/{app_id}", json={"settings": {"echoPostback": True}})
    echoed = ana.click(conversation, f"{carousel['id']}:0:0")
    events = receiver.wait_for(lambda got: len(got) >= 5)[2:]
    assert (200, {}, 200) == (first.status_code, first.json(), echoed.status_code)
    assert [("conversation:postback", {"payload": "YES", "metadata": {"n": 1}}),
            ("conversation:message", None), ("conversation:postback", {"payload": "TEA"})] == [
        (e["type"], e["payload"].get("postback")) for e in events]
    postback, echo = events[0]["payload"], events[1]["payload"]["message"]
    assert ((conversation, ana.id, {"type": "web", "integrationId": web["id"]}),
            ("Buy tea", ana.id, "web")) == (
        (postback["conversation"]["id"], postback["user"]["id"], postback["source"]),
        (echo["content"]["text"], echo["author"]["userId"], echo["source"]["type"]))
    refusals = [ana.click(conversation, f"{buttons['id']}:0"), ana.click(conversation, "nonsense"),
                ana.click(conversation, f"{buttons['id']}:7"), ana.click(conversation, f"{MISSING_ID}:0"),
                bob.click(conversation, f"{buttons['id']}:1")]
    assert [(400, "bad_request"), (400, "bad_request"), (404, "not_found"), (404, "not_found"),
            (404, "conversation_not_found")] == [error_of(r) for r in refusals]


FORM = {"type": "form", "fields": [
    {"type": "text", "name": "qty", "label": "How many?", "format": "integer", "maxSize": 3},
    {"type": "email", "name": "mail", "label": "Email"},
    {"type": "select", "name": "size", "label": "Size",
     "options": [{"name": "s", "label": "Small"}, {"name": "l", "label": "Large"}]}]}
ANSWERS = [{"type": "text", "name": "qty", "text": "12"}, {"type": "email", "name": "mail", "email": "a@b.example"},
           {"type": "select", "name": "size", "select": [{"name": "l"}]}]


def test_a_visitor_answers_a_form(
        browserless: httpx.Client, http: httpx.Client, account: sc.ApiClient, app_id: str, web: dict[str, Any],
        receiver: Receiver) -> None:
    """The answers to a form message of the conversation become the user's formResponse message (labels
    from the form, a textFallback), and conversation:message fires; answers that do not fit the form, a
    message that is no form, or none, are refused."""
    ana = Visitor(browserless, app_id, web["id"])
    conversation = ana.start().json()["conversation"]["id"]
    form = business_says(http, app_id, conversation, FORM)
    text = business_says(http, app_id, conversation, {"type": "text", "text": "hi"})
    custom_integration(account, app_id, receiver.url, ["conversation:message"])
    answered = ana.answer(conversation, form["id"], ANSWERS)
    message = answered.json()["messages"][0]
    event = receiver.wait_for(lambda got: len(got) >= 1)[0]
    assert (201, "formResponse", "How many?: 12\nEmail: a@b.example\nSize: Large") == (
        answered.status_code, message["content"]["type"], message["content"]["textFallback"])
    assert ([{"type": "select", "name": "size", "label": "Size", "select": [{"name": "l", "label": "Large"}]}],
            message["id"], ana.id) == (message["content"]["fields"][2:], event["payload"]["message"]["id"],
                                      event["payload"]["message"]["author"]["userId"])
    wrong = [ANSWERS[:2], [*ANSWERS[:2], {"type": "select", "name": "size", "select": [{"name": "xl"}]}],
             [{"type": "text", "name": "qty", "text": "many"}, *ANSWERS[1:]],
             [{"type": "email", "name": "qty", "email": "a@b.example"}, *ANSWERS[1:]], [*ANSWERS, ANSWERS[0]]]
    assert [(400, "bad_request")] * 5 == [error_of(ana.answer(conversation, form["id"], f)) for f in wrong]
    not_a_form, missing = (ana.answer(conversation, quoted, ANSWERS) for quoted in (text["id"], MISSING_ID))
    assert ((400, "bad_request"), (404, "not_found")) == (error_of(not_a_form), error_of(missing))


def test_sync_gives_the_user_their_conversations_and_recent_messages(
        browserless: httpx.Client, http: httpx.Client, server: Server, app_id: str, web: dict[str, Any]) -> None:
    """/sync: the user, each of their conversations with their participant (unreadCount, lastRead) and the
    last 50 messages, oldest first, `hasMore` when there are earlier ones, and a stream cursor
    (tests/test_stream.py opens the stream with it)."""
    http.patch(f"/v2/apps/{app_id}", json={"settings": {"multiConvoEnabled": True}})
    ana, bob = Visitor(browserless, app_id, web["id"]), Visitor(browserless, app_id, web["id"])
    busy, quiet = (ana.start().json()["conversation"]["id"] for _ in range(2))
    seed_messages(server.database_url, busy, 60)
    ana.say(busy, "mine")
    business_says(http, app_id, quiet, {"type": "text", "text": "welcome"})
    synced = ana.sync()
    body = synced.json()
    entries = {entry["conversation"]["id"]: entry for entry in body["conversations"]}
    assert (200, ana.id, True, {busy, quiet}) == (synced.status_code, body["user"]["id"],
                                                  isinstance(body["cursor"], str), set(entries))
    assert ((50, True, "mine", 0), (["welcome"], False, 1)) == (
        (len(entries[busy]["messages"]), entries[busy]["hasMore"], entries[busy]["messages"][-1]["content"]["text"],
         entries[busy]["participant"]["unreadCount"]),
        ([m["content"]["text"] for m in entries[quiet]["messages"]], entries[quiet]["hasMore"],
         entries[quiet]["participant"]["unreadCount"]))
    assert (ana.id, True) == (entries[busy]["participant"]["userId"], "lastRead" in entries[busy]["participant"])
    assert (404, "user_not_found") == error_of(bob.call("GET", f"/appusers/{ana.id}/sync"))


def test_the_new_paths_answer_cors_preflights(browserless: httpx.Client, app_id: str, web: dict[str, Any]) -> None:
    """The shop may preflight each new path; another origin may not."""
    base = f"/sdk/v2/apps/{app_id}"
    paths = {f"{base}/appusers/{MISSING_ID}": "GET, PUT", f"{base}/appusers/{MISSING_ID}/sync": "GET",
             **{f"{base}/conversations/{MISSING_ID}/{tail}": "POST"
                for tail in ("files", "postback", "form-responses")}}
    for path, methods in paths.items():
        granted = browserless.options(path, headers={"origin": SHOP, "access-control-request-method": "POST"})
        refused = browserless.options(path, headers={"origin": EVIL, "access-control-request-method": "POST"})
        assert (200, methods, 403) == (granted.status_code, granted.headers.get("access-control-allow-methods"),
                                       refused.status_code)
