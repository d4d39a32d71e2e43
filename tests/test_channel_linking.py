"""Channel links (CreateClient) end to end on both engines (docs/channels.md#client-linking): the pending client
is matched to the person on the channel, its confirmation message goes out through the channel, and the link
is confirmed (immediate: once the channel took the message; userActivity: once the person writes, whose message
then lands in the target conversation) or given up (client:remove linkFailed)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import sunshine_conversations_client as sc

from heliograph.store import tables
from tests import channel_fakes
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.test_channel_mailgun import make_integration as mailgun_integration
from tests.test_channel_telegram import by_type, reply
from tests.test_channel_twilio import make_integration as twilio_integration
from tests.utils import make_conversation, make_user, row_count

TRIGGERS = ["client:add", "client:update", "client:remove", "conversation:message",
            "conversation:message:delivery:channel"]
CONFIRM = {"author": {"type": "business"}, "content": {
    "type": "text", "text": "Reply here to keep chatting",
    "actions": [{"type": "link", "text": "Our terms", "uri": "https://shop.example/terms"}]}}


def twilio_number(account: sc.ApiClient, app_id: str) -> tuple[Any, str]:
    """A Twilio integration of a number of this test's own; the integration and the account's SID."""
    sid, token, number = f"AC{secrets.token_hex(16)}", secrets.token_hex(16), f"PN{secrets.token_hex(16)}"
    channel_fakes.fakes().twilio.account(sid, token, numbers={number: "+15005550006"})
    return twilio_integration(account, app_id, (sid, token, number)), sid


def mailgun_domain(account: sc.ApiClient, app_id: str) -> tuple[Any, str]:
    """A Mailgun integration of a domain of this test's own; the integration and the domain."""
    key, domain = f"key-{secrets.token_hex(8)}", f"mg{secrets.token_hex(4)}.example"
    channel_fakes.fakes().mailgun.account(key, domains=[domain])
    return mailgun_integration(account, app_id, (key, key, domain)), domain


def person(account: sc.ApiClient, app_id: str, external_id: str) -> tuple[sc.User, sc.Conversation]:
    """A user of the API, and their personal conversation: the link's target."""
    user = make_user(account, app_id, external_id=external_id)
    return user, make_conversation(account, app_id, user)


def link(http: httpx.Client, app_id: str, user_id: str, conversation_id: str, criteria: dict[str, Any],
         confirmation: dict[str, Any]) -> dict[str, Any]:
    response = http.post(f"/v2/apps/{app_id}/users/{user_id}/clients", json={
        "matchCriteria": criteria, "confirmation": confirmation, "target": {"conversationId": conversation_id}})
    assert 201 == response.status_code, response.text
    client: dict[str, Any] = response.json()["client"]
    assert "pending" == client["status"]
    return client


def reasons(events: list[dict[str, Any]], client_id: str) -> list[str]:
    return [f"{e['type']}:{e['payload'].get('reason')}" for e in events
            if e["type"].startswith("client:") and e["payload"]["client"]["id"] == client_id]


def test_an_immediate_link_is_made_once_the_channel_took_its_confirmation(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    (integration, sid), twilio = twilio_number(account, app_id), channel_fakes.fakes().twilio
    user, conversation = person(account, app_id, "ana")
    client = link(http, app_id, user.id, conversation.id, {
        "type": "twilio", "integrationId": integration.id, "phoneNumber": "+1 415 867 5309"},
        {"type": "immediate", "message": CONFIRM})

    [sent] = twilio.wait_sent(sid, 1)
    assert ("+14158675309", "Reply here to keep chatting\nOur terms: https://shop.example/terms") == (
        sent.body["To"], sent.body["Body"])
    events = receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 3)
    assert ["client:add:channelLinking", "client:update:matched", "client:update:confirmed"] == reasons(
        events, client["id"])
    confirmed = [e for e in events if e["type"] == "client:update"][-1]["payload"]
    assert ({"id": conversation.id, "type": "personal"}, "active", "+14158675309") == (
        confirmed["conversation"], confirmed["client"]["status"], confirmed["client"]["externalId"])
    assert [] == by_type(events, "conversation:message")  # "will not be added to the user's conversation"
    [shown] = http.get(f"/v2/apps/{app_id}/users/{user.id}/clients").json()["clients"]
    assert ("active", "+14158675309") == (shown["status"], shown["externalId"]) and shown["linkedAt"]

    participant = http.get(f"/v2/apps/{app_id}/conversations/{conversation.id}/participants").json()
    assert [{"type": "twilio", "clientId": client["id"]}] == participant["participants"][0]["clientAssociations"]
    reply(http, app_id, conversation.id, {"type": "text", "text": "Your order shipped."})  # now on SMS
    assert "Your order shipped." == twilio.wait_sent(sid, 2)[1].body["Body"]


def test_a_user_activity_link_waits_for_the_person_whose_message_lands_in_the_target(
        server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    (integration, domain), mailgun = mailgun_domain(account, app_id), channel_fakes.fakes().mailgun
    user, conversation = person(account, app_id, "bea")
    client = link(http, app_id, user.id, conversation.id, {
        "type": "mailgun", "integrationId": integration.id, "address": "Bea@Example.org"},
        {"type": "userActivity", "message": CONFIRM})
    [sent] = mailgun.wait_sent(domain, 1)
    assert ("bea@example.org", "Reply here to keep chatting") == (sent.body["to"], sent.body["text"].split("\n")[0])
    receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 2)  # added, matched: it waits
    assert "pending" == http.get(f"/v2/apps/{app_id}/users/{user.id}/clients").json()["clients"][0]["status"]

    assert 200 == channel_fakes.deliver(mailgun.incoming(f"help@{domain}", sender="bea@example.org",
                                                         text="Thanks, here I am")).status_code
    events = receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 3
                               and len(by_type(got, "conversation:message")) == 1)
    assert "client:update:confirmed" == reasons(events, client["id"])[-1]
    message = by_type(events, "conversation:message")[0]["payload"]
    assert (conversation.id, user.id, "Thanks, here I am") == (
        message["conversation"]["id"], message["message"]["author"]["userId"], message["message"]["content"]["text"])
    assert 1 == row_count(server.database_url, tables.users, app_id)  # the person is the user: no new one


def test_a_link_to_a_person_another_user_is_fails(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                 receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    (integration, sid), twilio = twilio_number(account, app_id), channel_fakes.fakes().twilio
    channel_fakes.deliver(twilio.incoming(sid, to="+15005550006", sender="+14158675309", body="hi"))
    receiver.wait_for(lambda got: len(by_type(got, "client:add")) == 1)
    user, conversation = person(account, app_id, "cy")
    client = link(http, app_id, user.id, conversation.id, {
        "type": "twilio", "integrationId": integration.id, "phoneNumber": "+14158675309"}, {"type": "immediate"})
    events = receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 2)
    removed = [e for e in events if e["type"] == "client:remove"][0]["payload"]
    assert ("linkFailed", "conflict", conversation.id) == (
        removed["reason"], removed["error"]["code"], removed["conversation"]["id"])
    assert [] == http.get(f"/v2/apps/{app_id}/users/{user.id}/clients").json()["clients"]
    assert [] == twilio.sent_by(sid)


def test_a_confirmation_the_channel_refuses_gives_the_link_up(account: sc.ApiClient, http: httpx.Client,
                                                              app_id: str, receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    (integration, _domain), mailgun = mailgun_domain(account, app_id), channel_fakes.fakes().mailgun
    user, conversation = person(account, app_id, "di")
    mailgun.fail("messages", 400, description="'to' parameter is not a valid address")
    client = link(http, app_id, user.id, conversation.id, {
        "type": "mailgun", "integrationId": integration.id, "address": "di@example.org"},
        {"type": "prompt", "message": CONFIRM})
    events = receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 3)
    assert "client:remove:linkFailed" == reasons(events, client["id"])[-1]
    removed = [e for e in events if e["type"] == "client:remove"][0]["payload"]
    assert ("bad_request", True) == (removed["error"]["code"], "not a valid address" in removed["error"]["message"])
    assert [] == http.get(f"/v2/apps/{app_id}/users/{user.id}/clients").json()["clients"]


def test_the_person_writing_first_confirms_the_link_and_its_confirmation_is_dropped(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    (integration, sid), twilio = twilio_number(account, app_id), channel_fakes.fakes().twilio
    user, conversation = person(account, app_id, "eve")
    twilio.fail("Messages", 429, retry_after=3600)  # the confirmation waits, for an hour
    client = link(http, app_id, user.id, conversation.id, {
        "type": "twilio", "integrationId": integration.id, "phoneNumber": "+14155550123"},
        {"type": "userActivity", "message": CONFIRM})
    receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 2)
    assert 200 == channel_fakes.deliver(twilio.incoming(sid, to="+15005550006", sender="+14155550123",
                                                        body="It's me")).status_code
    events = receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 3
                               and len(by_type(got, "conversation:message")) == 1)
    assert conversation.id == by_type(events, "conversation:message")[0]["payload"]["conversation"]["id"]
    reply(http, app_id, conversation.id, {"type": "text", "text": "Welcome!"})
    [sent] = twilio.wait_sent(sid, 1)
    assert "Welcome!" == sent.body["Body"]  # the answer, not the confirmation, which went with the link made


def test_deleting_the_target_gives_a_pending_link_up(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                    receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    integration, _sid = twilio_number(account, app_id)
    user, _default = person(account, app_id, "fay")  # (the default conversation cannot be deleted)
    target = make_conversation(account, app_id, user)
    criteria = {"type": "twilio", "integrationId": integration.id, "phoneNumber": "+14155550199"}
    client = link(http, app_id, user.id, target.id, criteria, {"type": "userActivity"})
    assert 200 == http.delete(f"/v2/apps/{app_id}/conversations/{target.id}").status_code
    events = receiver.wait_for(lambda got: len(reasons(got, client["id"])) == 3)
    removed = [e for e in events if e["type"] == "client:remove"][0]["payload"]
    assert ("linkFailed", "not_found", target.id) == (
        removed["reason"], removed["error"]["code"], removed["conversation"]["id"])
    assert [] == http.get(f"/v2/apps/{app_id}/users/{user.id}/clients").json()["clients"]
    again = make_conversation(account, app_id, user)
    link(http, app_id, user.id, again.id, criteria, {"type": "userActivity"})  # no 409: the first is gone


def test_a_link_targets_a_personal_conversation(account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    integration, _sid = twilio_number(account, app_id)
    user = make_user(account, app_id, external_id="gus")
    group = make_conversation(account, app_id, user, kind="sdkGroup")
    response = http.post(f"/v2/apps/{app_id}/users/{user.id}/clients", json={
        "matchCriteria": {"type": "twilio", "integrationId": integration.id, "phoneNumber": "+14155550100"},
        "confirmation": {"type": "immediate"}, "target": {"conversationId": group.id}})
    assert (400, True) == (response.status_code, "personal conversation" in response.text)
    assert [] == http.get(f"/v2/apps/{app_id}/users/{user.id}/clients").json()["clients"]
