"""Clients through the official SDK: channel links start pending, are listed and removed, with their events;
subscribeSDKClient gives a participant the user's SDK client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.store.tables import clients as client_rows
from tests.clients import CONFIG, CRITERIA, raw_body
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.seeding import run
from tests.spec import event_payload_validator
from tests.utils import MISSING_ID, http_error, make_conversation, make_user, sdk_error

SDK_MODELS = {"mailgun": sc.MatchCriteriaMailgun, "messagebird": sc.MatchCriteriaMessagebird,
              "twilio": sc.MatchCriteriaTwilio, "whatsapp": sc.MatchCriteriaWhatsapp}
SNAKE = {"address": "address", "phoneNumber": "phone_number"}


def integration(http: httpx.Client, app_id: str, kind: str) -> str:
    response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": kind, **CONFIG[kind]})
    assert 201 == response.status_code, response.text
    return str(response.json()["integration"]["id"])


def link_body(kind: str, integration_id: str, conversation_id: str, confirmation: str = "userActivity",
              **criteria: Any) -> sc.ClientCreate:
    """A link that waits for the person (userActivity, without a message): pending, once matched."""
    fields = {SNAKE[k]: v for k, v in {**CRITERIA[kind], **criteria}.items()}
    match = SDK_MODELS[kind](type=kind, integration_id=integration_id, **fields)
    return sc.ClientCreate(match_criteria=sc.MatchCriteria(match), confirmation=sc.Confirmation(type=confirmation),
                           target=sc.Target(conversation_id=conversation_id))


def present(model: Any) -> dict[str, Any]:
    """An SDK model as the wire object it was read from (the SDK adds nulls for absent nullable fields)."""
    return {k: v for k, v in model.to_dict().items() if v is not None}


def clients_api(account: sc.ApiClient) -> sc.ClientsApi:
    return sc.ClientsApi(account)


def listed(account: sc.ApiClient, app_id: str, user: str) -> list[dict[str, Any]]:
    return [present(c) for c in clients_api(account).list_clients(app_id, user).clients]


def join_group(account: sc.ApiClient, app_id: str, user: sc.User, subscribe: bool = True) -> tuple[str, Any]:
    """A new sdkGroup the user joins with subscribeSDKClient; its id and the participant."""
    group = make_conversation(account, app_id, kind="sdkGroup")
    body = sc.ParticipantJoinBody(user_id=user.id, subscribe_sdk_client=subscribe)
    return group.id, sc.ParticipantsApi(account).join_conversation(app_id, group.id, body).participant


# CreateClient

@pytest.mark.parametrize(("kind", "external_id"), [
    ("mailgun", "ana@example.org"), ("twilio", "+12125552368"), ("whatsapp", "12125552368")])
def test_create_client_starts_a_pending_link(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                             user: sc.User, conversation_id: str, kind: str, external_id: str) -> None:
    """CreateClient answers 201 with a pending client of the matchCriteria's channel and integration; matched
    at once, it has the person's id on the channel (a WhatsApp wa_id is the number's digits); an immediate link
    without a confirmation message is confirmed at once."""
    integration_id = integration(http, app_id, kind)
    response = clients_api(account).create_client_with_http_info(
        app_id, user.id, link_body(kind, integration_id, conversation_id))
    client = response.data.client
    assert 201 == response.status_code
    assert {"id": client.id, "type": kind, "status": "pending", "integrationId": integration_id} == present(client)
    assert [{**present(client), "externalId": external_id}] == listed(account, app_id, user.id)
    other = make_user(account, app_id, external_id="bea")
    created = clients_api(account).create_client(app_id, other.id, link_body(
        kind, integration_id, make_conversation(account, app_id, other).id, "immediate",
        **({"address": "bea@example.org"} if kind == "mailgun" else {"phoneNumber": "+15550001234"}))).client
    [now] = listed(account, app_id, other.id)
    assert ("pending", "active", created.id) == (created.status, now["status"], now["id"]) and now["linkedAt"]


def test_linking_through_messagebird_is_refused(http: httpx.Client, app_id: str, user: sc.User,
                                                conversation_id: str) -> None:
    response = http.post(f"/v2/apps/{app_id}/users/{user.id}/clients", json=raw_body(
        "messagebird", integration(http, app_id, "messagebird"), conversation_id))
    assert (400, "channel linking through messagebird is not supported") == (
        response.status_code, http_error(response)[2].split(": ", 1)[1].rsplit(" by", 1)[0])


def test_create_client_by_external_id(account: sc.ApiClient, http: httpx.Client, app_id: str, user: sc.User,
                                      conversation_id: str) -> None:
    """The path may name the user by externalId."""
    integration_id = integration(http, app_id, "twilio")
    client = clients_api(account).create_client(app_id, "ana", link_body("twilio", integration_id,
                                                                        conversation_id)).client
    assert [client.id] == [c["id"] for c in listed(account, app_id, user.id)]


@pytest.mark.parametrize("phone", ["+1 212-555-2368", "+12125552368", "+1 212 555 2368", "+44 (20) 7946.0958"])
def test_phone_numbers_in_the_documented_forms_are_accepted(http: httpx.Client, app_id: str, user: sc.User,
                                                           conversation_id: str, phone: str) -> None:
    """A phone number with its + prefix and country code is accepted with spaces, dashes or parentheses."""
    body = raw_body("whatsapp", integration(http, app_id, "whatsapp"), conversation_id)
    body["matchCriteria"]["phoneNumber"] = phone
    assert 201 == http.post(f"/v2/apps/{app_id}/users/{user.id}/clients", json=body).status_code


def test_a_confirmation_message_of_text_with_a_link_is_accepted(http: httpx.Client, app_id: str, user: sc.User,
                                                               conversation_id: str) -> None:
    """confirmation.message may be text with link actions (or an image)."""
    body = raw_body("twilio", integration(http, app_id, "twilio"), conversation_id)
    body["confirmation"] = {"type": "prompt", "message": {"author": {"type": "business"}, "content": {
        "type": "text", "text": "Continue on SMS?", "actions": [
            {"type": "link", "text": "Why", "uri": "https://example.org/why"}]}}}
    response = http.post(f"/v2/apps/{app_id}/users/{user.id}/clients", json=body)
    assert (201, "pending") == (response.status_code, response.json()["client"]["status"])


def test_create_client_emits_client_add(account: sc.ApiClient, http: httpx.Client, app_id: str, user: sc.User,
                                        conversation_id: str, receiver: Receiver) -> None:
    """client:add carries the target conversation, the user, the pending client and reason channelLinking."""
    custom_integration(account, app_id, receiver.url, ["client:add"])
    integration_id = integration(http, app_id, "twilio")
    client = clients_api(account).create_client(app_id, user.id, link_body("twilio", integration_id,
                                                                          conversation_id)).client
    [event] = receiver.wait_for(lambda got: len(got) >= 1)
    assert {"conversation": {"id": conversation_id, "type": "personal"}, "user": {"id": user.id, "externalId": "ana"},
            "client": present(client), "reason": "channelLinking",
            "source": {"type": "api:conversations"}} == event["payload"]
    assert [] == [e.message for e in event_payload_validator().iter_errors(receiver.requests[0].body)]


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("no matchCriteria", lambda b: b.pop("matchCriteria"), "Missing required field `matchCriteria`"),
    ("no confirmation", lambda b: b.pop("confirmation"), "Missing required field `confirmation`"),
    ("no target", lambda b: b.pop("target"), "Missing required field `target`"),
    ("no conversationId", lambda b: b["target"].pop("conversationId"), "`conversationId` in target"),
    ("unknown type", lambda b: b["matchCriteria"].update(type="telegram"), "Invalid matchCriteria"),
    ("no integrationId", lambda b: b["matchCriteria"].pop("integrationId"), "`integrationId` in matchCriteria"),
    ("no phoneNumber", lambda b: b["matchCriteria"].pop("phoneNumber"), "`phoneNumber` in matchCriteria"),
    ("no + prefix", lambda b: b["matchCriteria"].update(phoneNumber="212 555 2368"), "Invalid matchCriteria.phone"),
    ("no country code", lambda b: b["matchCriteria"].update(phoneNumber="1 212 555 2368"), "the + prefix"),
    ("too short", lambda b: b["matchCriteria"].update(phoneNumber="+12"), "the country code"),
    ("letters", lambda b: b["matchCriteria"].update(phoneNumber="+1 212 CALL NOW"), "phoneNumber"),
    ("primary not a bool", lambda b: b["matchCriteria"].update(primary="yes"), "Invalid matchCriteria.primary"),
    ("confirmation type", lambda b: b["confirmation"].update(type="later"), "Invalid confirmation.type"),
    ("no confirmation type", lambda b: b["confirmation"].pop("type"), "`type` in confirmation"),
    ("file message", lambda b: b["confirmation"].update(message={"author": {"type": "business"}, "content": {
        "type": "file", "mediaUrl": "https://example.org/a.pdf"}}), "a confirmation message is text or image"),
    ("postback action", lambda b: b["confirmation"].update(message={"author": {"type": "business"}, "content": {
        "type": "text", "text": "hi", "actions": [{"type": "postback", "text": "Go", "payload": "GO"}]}}),
     "only link actions"),
    ("empty text", lambda b: b["confirmation"].update(message={"author": {"type": "business"}, "content": {
        "type": "text"}}), "text"),
    ("bot author", lambda b: b["confirmation"].update(message={"author": {"type": "business", "subtypes": ["bot"]},
                                                               "content": {"type": "text", "text": "hi"}}),
     "Invalid confirmation.message.author.subtypes[0]: 'bot' is available in responses only"),
]


@pytest.mark.parametrize(("case", "change", "title"), BAD_BODIES, ids=[case for case, _, _ in BAD_BODIES])
def test_create_client_refuses_bad_bodies(http: httpx.Client, app_id: str, user: sc.User, conversation_id: str,
                                          case: str, change: Any, title: str) -> None:
    """Each broken field of clientCreate is a 400 naming it, and no client is made."""
    body = raw_body("whatsapp", integration(http, app_id, "whatsapp"), conversation_id)
    change(body)
    response = http.post(f"/v2/apps/{app_id}/users/{user.id}/clients", json=body)
    status, code, got = http_error(response)
    assert (400, "bad_request", True) == (status, code, title in got), got
    assert [] == http.get(f"/v2/apps/{app_id}/users/{user.id}/clients").json()["clients"]


def test_mailgun_needs_an_email_address(http: httpx.Client, app_id: str, user: sc.User, conversation_id: str) -> None:
    """A mailgun matchCriteria.address that is not an email address is a 400."""
    body = raw_body("mailgun", integration(http, app_id, "mailgun"), conversation_id)
    body["matchCriteria"]["address"] = "not an address"
    response = http.post(f"/v2/apps/{app_id}/users/{user.id}/clients", json=body)
    assert (400, "bad_request") == http_error(response)[:2]
    assert "matchCriteria.address" in http_error(response)[2]


def test_integration_of_another_type_is_400(http: httpx.Client, app_id: str, user: sc.User,
                                            conversation_id: str) -> None:
    """matchCriteria.integrationId must be an integration of matchCriteria.type."""
    body = raw_body("whatsapp", integration(http, app_id, "twilio"), conversation_id)
    response = http.post(f"/v2/apps/{app_id}/users/{user.id}/clients", json=body)
    assert (400, "bad_request") == http_error(response)[:2]
    assert "is of type twilio, not whatsapp" in http_error(response)[2]


def test_target_must_be_a_conversation_of_the_user(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                   user: sc.User) -> None:
    """A target conversation the user is not part of is a 400."""
    other = make_conversation(account, app_id, make_user(account, app_id, external_id="bo"))
    response = http.post(f"/v2/apps/{app_id}/users/{user.id}/clients",
                         json=raw_body("twilio", integration(http, app_id, "twilio"), other.id))
    assert (400, "bad_request") == http_error(response)[:2]
    assert [] == listed(account, app_id, user.id)


@pytest.mark.parametrize(("what", "code"), [("user", "user_not_found"), ("integration", "integration_not_found"),
                                            ("conversation", "conversation_not_found")])
def test_create_client_names_what_is_missing(http: httpx.Client, app_id: str, user: sc.User,
                                             conversation_id: str, what: str, code: str) -> None:
    """An unknown user, integration or target conversation is a 404 with its code."""
    body = raw_body("twilio", integration(http, app_id, "twilio"), conversation_id)
    path_user = MISSING_ID if what == "user" else user.id
    if what == "integration":
        body["matchCriteria"]["integrationId"] = MISSING_ID
    if what == "conversation":
        body["target"]["conversationId"] = MISSING_ID
    response = http.post(f"/v2/apps/{app_id}/users/{path_user}/clients", json=body)
    assert (404, code) == http_error(response)[:2]


def test_a_second_link_to_one_integration_is_409(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                 user: sc.User, conversation_id: str) -> None:
    """A user has at most one client per integration: a second CreateClient for it is a 409."""
    integration_id = integration(http, app_id, "twilio")
    first = clients_api(account).create_client(app_id, user.id, link_body("twilio", integration_id, conversation_id))
    with pytest.raises(sc.ApiException) as exc:
        clients_api(account).create_client(app_id, user.id, link_body("twilio", integration_id, conversation_id,
                                                                      phoneNumber="+15550009999"))
    assert (409, "conflict") == sdk_error(exc)[:2]
    assert [first.client.id] == [c["id"] for c in listed(account, app_id, user.id)]


# ListClients

def test_list_clients_pages_in_creation_order(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                              user: sc.User, conversation_id: str) -> None:
    """ListClients pages with page[size]/page[after] and says when more clients follow."""
    made = [clients_api(account).create_client(app_id, user.id, link_body(
        kind, integration(http, app_id, kind), conversation_id)).client.id for kind in ("twilio", "whatsapp")]
    first = clients_api(account).list_clients(app_id, user.id, page=sc.Page(size=1))
    second = clients_api(account).list_clients(app_id, user.id, page=sc.Page(after=first.meta.after_cursor, size=1))
    assert ([made[0]], True, [made[1]], False) == (
        [c.id for c in first.clients], first.meta.has_more, [c.id for c in second.clients], second.meta.has_more)


def test_list_clients_of_a_new_user_is_empty(http: httpx.Client, app_id: str, user: sc.User) -> None:
    """A user without clients has an empty list."""
    response = http.get(f"/v2/apps/{app_id}/users/{user.id}/clients")
    assert (200, {"clients": [], "meta": {"hasMore": False}, "links": {}}) == (response.status_code, response.json())


def test_list_clients_errors(http: httpx.Client, app_id: str, user: sc.User) -> None:
    """An unknown user is a 404; a malformed cursor a 400."""
    assert (404, "user_not_found") == http_error(http.get(f"/v2/apps/{app_id}/users/{MISSING_ID}/clients"))[:2]
    bad = http.get(f"/v2/apps/{app_id}/users/{user.id}/clients", params={"page[after]": "nope"})
    assert (400, "bad_request") == http_error(bad)[:2]


# RemoveClient

def test_remove_client_and_client_remove_event(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                               user: sc.User, conversation_id: str, receiver: Receiver) -> None:
    """RemoveClient answers 200 {}, the client is gone, and client:remove says it was the API."""
    custom_integration(account, app_id, receiver.url, ["client:remove"])
    integration_id = integration(http, app_id, "twilio")
    client = clients_api(account).create_client(app_id, user.id, link_body("twilio", integration_id,
                                                                          conversation_id)).client
    [shown] = listed(account, app_id, user.id)
    response = http.delete(f"/v2/apps/{app_id}/users/{user.id}/clients/{client.id}")
    assert (200, {}) == (response.status_code, response.json())
    assert [] == listed(account, app_id, user.id)
    [event] = receiver.wait_for(lambda got: len(got) >= 1)
    assert {"user": {"id": user.id, "externalId": "ana"}, "client": shown, "reason": "api",
            "source": {"type": "api:conversations"}} == event["payload"]
    assert [] == [e.message for e in event_payload_validator().iter_errors(receiver.requests[0].body)]


def test_remove_client_through_the_sdk(account: sc.ApiClient, http: httpx.Client, app_id: str, user: sc.User,
                                       conversation_id: str) -> None:
    """The SDK's remove_client removes the client named by user externalId and client id."""
    client = clients_api(account).create_client(app_id, user.id, link_body(
        "whatsapp", integration(http, app_id, "whatsapp"), conversation_id)).client
    clients_api(account).remove_client(app_id, "ana", client.id)
    assert [] == listed(account, app_id, user.id)


def test_sdk_clients_cannot_be_removed(account: sc.ApiClient, app_id: str, user: sc.User) -> None:
    """RemoveClient on an sdk client is the spec's 400, and the client stays."""
    _, participant = join_group(account, app_id, user)
    sdk_client_id = participant.client_associations[0].client_id
    with pytest.raises(sc.ApiException) as exc:
        clients_api(account).remove_client(app_id, user.id, sdk_client_id)
    assert (400, "bad_request", "Cannot remove a client of type 'sdk'") == sdk_error(exc)
    assert [sdk_client_id] == [c["id"] for c in listed(account, app_id, user.id)]


def test_remove_unknown_or_foreign_client_is_404(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                 user: sc.User, conversation_id: str) -> None:
    """A client id that is not one of this user's clients is 404 client_not_found; nothing is removed."""
    client = clients_api(account).create_client(app_id, user.id, link_body(
        "twilio", integration(http, app_id, "twilio"), conversation_id)).client
    other = make_user(account, app_id, external_id="bo")
    for owner, client_id in ((user.id, MISSING_ID), (other.id, client.id)):
        response = http.delete(f"/v2/apps/{app_id}/users/{owner}/clients/{client_id}")
        assert (404, "client_not_found", "Client not found") == http_error(response)
    assert [client.id] == [c["id"] for c in listed(account, app_id, user.id)]
    missing_user = http.delete(f"/v2/apps/{app_id}/users/{MISSING_ID}/clients/{client.id}")
    assert (404, "user_not_found") == http_error(missing_user)[:2]


# subscribeSDKClient

def test_subscribe_sdk_client_creates_one_sdk_client(account: sc.ApiClient, app_id: str, user: sc.User,
                                                     receiver: Receiver) -> None:
    """Joining with subscribeSDKClient makes the user's SDK client once, associates it, and emits client:add."""
    custom_integration(account, app_id, receiver.url, ["client:add"])
    _, first = join_group(account, app_id, user)
    _, second = join_group(account, app_id, user)
    [client] = listed(account, app_id, user.id)
    assert {"type": "sdk", "status": "active"} == {k: client[k] for k in ("type", "status")}
    association = [{"type": "sdk", "clientId": client["id"]}]
    assert [association, association] == [[a.to_dict() for a in p.client_associations] for p in (first, second)]
    [event] = receiver.wait_for(lambda got: len(got) >= 1)
    assert {"user": {"id": user.id, "externalId": "ana"}, "client": client,
            "source": {"type": "api:conversations"}} == event["payload"]


def test_subscribe_sdk_client_false_makes_no_client(account: sc.ApiClient, app_id: str, user: sc.User) -> None:
    """subscribeSDKClient false leaves the participant without client associations and the user without clients."""
    group_id, participant = join_group(account, app_id, user, subscribe=False)
    assert ([], []) == (participant.client_associations or [], listed(account, app_id, user.id))
    listed_participant = sc.ParticipantsApi(account).list_participants(app_id, group_id).participants[0]
    assert [] == (listed_participant.client_associations or [])


def test_deleting_an_integration_removes_its_clients(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                     user: sc.User, conversation_id: str) -> None:
    """A client lives only as long as the integration it links to."""
    integration_id = integration(http, app_id, "twilio")
    clients_api(account).create_client(app_id, user.id, link_body("twilio", integration_id, conversation_id))
    sc.IntegrationsApi(account).delete_integration(app_id, integration_id)
    assert [] == listed(account, app_id, user.id)


def test_personal_information_of_clients_is_cleared(server: Server, account: sc.ApiClient, http: httpx.Client,
                                                    app_id: str, user: sc.User, conversation_id: str) -> None:
    """DeleteUserPersonalInformation clears each client's displayName, avatarUrl, info and raw."""
    client = clients_api(account).create_client(app_id, user.id, link_body(
        "twilio", integration(http, app_id, "twilio"), conversation_id)).client
    run(server.database_url, client_rows.update().where(client_rows.c.id == client.id).values(
        display_name="Ana", avatar_url="https://example.org/a.png", info={"city": "Montreal"}, raw={"From": "+1"},
        external_id="+15140000000"))
    assert "Ana" == listed(account, app_id, user.id)[0]["displayName"]
    sc.UsersApi(account).delete_user_personal_information(app_id, user.id)
    assert [{**present(client), "externalId": "+15140000000"}] == listed(account, app_id, user.id)


def test_create_conversation_subscribes_the_sdk_client_when_asked(account: sc.ApiClient, app_id: str) -> None:
    """An sdkGroup participant created with subscribeSDKClient true gets an sdk client and its association."""
    member = make_user(account, app_id, external_id="subscriber")
    body = sc.ConversationCreateBody(type="sdkGroup", participants=[sc.ParticipantSubSchema(
        sc.ParticipantWithUserId(user_id=member.id, subscribe_sdk_client=True))])
    conversation = sc.ConversationsApi(account).create_conversation(app_id, body).conversation
    [participant] = sc.ParticipantsApi(account).list_participants(app_id, conversation.id).participants
    clients = sc.ClientsApi(account).list_clients(app_id, member.id).clients
    assert [("sdk", clients[0].id)] == [(a.type, a.client_id) for a in participant.client_associations]
    assert [("sdk", "active")] == [(c.type, c.status) for c in clients]
