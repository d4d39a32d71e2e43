"""Telegram end to end on both engines (docs/channels.md): an integration made through the official SDK sets the
bot's webhook up at the fake Bot API (tests/channel_fakes.py); what a person does there reaches the server
through the real inbound route, signed as Telegram signs it, and becomes the user, client, conversation,
message and events a bot sees; a replayed or forged update writes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.simulator.telegram import SECRET_HEADER, Delivery
from heliograph.store import tables
from tests import channel_fakes
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.utils import row_count

TOKEN = "555000111:AAH-fake_token"
TRIGGERS = ["conversation:message", "conversation:create", "client:add", "conversation:postback"]


def telegram_integration(account: sc.ApiClient, app_id: str, token: str = TOKEN) -> Any:
    return sc.IntegrationsApi(account).create_integration(
        app_id, sc.Telegram(type="telegram", token=token, display_name="Shop bot")).integration


def deliver(delivery: Delivery) -> httpx.Response:
    return channel_fakes.deliver(delivery)


def by_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == kind]


def test_creating_the_integration_sets_the_bots_webhook_and_deleting_it_removes_it(
        server: Server, account: sc.ApiClient, app_id: str) -> None:
    integration = telegram_integration(account, app_id)
    assert ("active", "555000111", "bot555000111_bot") == (integration.status, integration.bot_id,
                                                             integration.username)
    hook = channel_fakes.fakes().telegram.webhooks[TOKEN]
    assert f"{server.base_url}/api/telegram/webhooks/{app_id}/{integration.id}" == hook["url"]
    assert 32 == len(hook["secret_token"]) and ["message", "callback_query"] == hook["allowed_updates"]
    shown = sc.IntegrationsApi(account).get_integration(app_id, integration.id).integration
    assert shown.to_dict().get("token") is None  # write-only, and the secret is never shown at all
    assert hook["secret_token"] not in json.dumps(shown.to_dict())
    sc.IntegrationsApi(account).delete_integration(app_id, integration.id)
    assert TOKEN not in channel_fakes.fakes().telegram.webhooks


def test_a_token_telegram_refuses_is_a_400_and_nothing_is_made(http: httpx.Client, app_id: str) -> None:
    channel_fakes.fakes().telegram.revoke("555000999:AAH-revoked")
    for token in ("555000999:AAH-revoked", "not-a-token"):
        response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "telegram", "token": token})
        assert 400 == response.status_code, response.text
        assert ("bad_request", "The telegram integration could not be set up: Telegram refused getMe: Unauthorized"
                ) == tuple(response.json()["errors"][0].values())
    assert [] == http.get(f"/v2/apps/{app_id}/integrations").json()["integrations"]


def test_a_persons_first_message_makes_their_user_client_and_conversation(
        account: sc.ApiClient, app_id: str, receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    integration = telegram_integration(account, app_id)
    fake = channel_fakes.fakes().telegram
    first = fake.message(TOKEN, user_id=4711, first_name="Ann", last_name="Lee", text="Do you ship to Lyon?")
    answered = deliver(first)
    assert (200, b"") == (answered.status_code, answered.content)
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    assert ["client:add", "conversation:create", "conversation:message"] == [e["type"] for e in events]
    added, created, message = (event["payload"] for event in events)
    source = {"type": "telegram", "integrationId": integration.id}
    assert ("telegram", "4711", "Ann Lee", source) == (
        added["client"]["type"], added["client"]["externalId"], added["client"]["displayName"], added["source"])
    assert ("message", source) == (created["creationReason"], created["source"])
    update = json.loads(first.body)
    assert {**source, "originalMessageId": str(update["message"]["message_id"])} == {
        k: v for k, v in message["message"]["source"].items() if k != "originalMessageTimestamp"}
    assert message["message"]["source"]["originalMessageTimestamp"].endswith(".000Z")
    assert ({"type": "text", "text": "Do you ship to Lyon?"}, "Ann Lee") == (
        message["message"]["content"], message["message"]["author"]["displayName"])
    user_id, conversation_id = added["user"]["id"], created["conversation"]["id"]
    assert (user_id, conversation_id) == (message["message"]["author"]["userId"], message["conversation"]["id"])

    user = sc.UsersApi(account).get_user(app_id, user_id).user
    assert ("Ann", "Lee") == (user.profile.given_name, user.profile.surname)
    [client] = sc.ClientsApi(account).list_clients(app_id, user_id).clients
    assert ("telegram", "active", integration.id, "4711") == (client.type, client.status, client.integration_id,
                                                              client.external_id)
    [participant] = sc.ParticipantsApi(account).list_participants(app_id, conversation_id).participants
    assert [("telegram", client.id)] == [(a.type, a.client_id) for a in participant.client_associations]

    second = deliver(fake.message(TOKEN, user_id=4711, first_name="Ann", location=(45.75, 4.85)))
    assert 200 == second.status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 2)
    assert 3 + 1 == len(events)  # the same user, client and conversation: one message more, nothing else
    moved = by_type(events, "conversation:message")[1]["payload"]
    assert (conversation_id, "location", {"lat": 45.75, "long": 4.85}) == (
        moved["conversation"]["id"], moved["message"]["content"]["type"], moved["message"]["content"]["coordinates"])


def test_an_update_sent_again_adds_nothing(account: sc.ApiClient, app_id: str, receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id)
    delivery = channel_fakes.fakes().telegram.message(TOKEN, user_id=4712, first_name="Bo", text="hello")
    assert [200, 200, 200] == [deliver(delivery).status_code for _ in range(3)]
    events = receiver.wait_for(lambda got: len(got) >= 3)
    [conversation] = [e["payload"]["conversation"]["id"] for e in events if e["type"] == "conversation:create"]
    later = deliver(channel_fakes.fakes().telegram.message(TOKEN, user_id=4712, first_name="Bo", text="still there?"))
    assert 200 == later.status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) >= 2)
    assert ["hello", "still there?"] == [e["payload"]["message"]["content"]["text"]
                                         for e in by_type(events, "conversation:message")]
    listed = sc.MessagesApi(account).list_messages(app_id, conversation).messages
    assert ["hello", "still there?"] == [m.content.actual_instance.text for m in listed]


@pytest.mark.parametrize("forge", ["no secret", "wrong secret", "another integration", "another app", "other type",
                                   "not json"])
def test_a_forged_request_is_refused_and_writes_nothing(server: Server, account: sc.ApiClient, app_id: str,
                                                        forge: str) -> None:
    integration = telegram_integration(account, app_id)
    telegram_integration(account, app_id, "555000222:AAH-other")  # its secret is not this integration's
    delivery = channel_fakes.fakes().telegram.message(TOKEN, user_id=4713, first_name="Eve", text="let me in")
    url, headers, body = delivery.url, dict(delivery.headers), delivery.body
    expected = 401
    if forge == "no secret":
        del headers[SECRET_HEADER]
    elif forge == "wrong secret":
        headers[SECRET_HEADER] = channel_fakes.fakes().telegram.webhooks["555000222:AAH-other"]["secret_token"]
    elif forge == "another integration":
        url, expected = url.replace(integration.id, "5f74a0d52b5315fc007e7900"), 404
    elif forge == "another app":
        url, expected = url.replace(f"/{app_id}/", "/5f74a0d52b5315fc007e7901/"), 404
    elif forge == "other type":
        url, expected = url.replace("/api/telegram/", "/api/line/"), 404
    else:
        body, expected = b"{not json", 400
    refused = httpx.post(url, content=body, headers=headers)
    assert expected == refused.status_code, refused.text
    assert refused.json()["errors"][0]["title"]
    assert (0, 0) == (row_count(server.database_url, tables.users, app_id),
                      row_count(server.database_url, tables.clients, app_id))


def test_a_button_press_is_a_postback_answered_at_once(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                       receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    sc.AppsApi(account).update_app(app_id, sc.AppUpdateBody(settings=sc.AppSettings(echo_postback=True)))
    integration = telegram_integration(account, app_id)
    fake = channel_fakes.fakes().telegram
    assert 200 == deliver(fake.message(TOKEN, user_id=4714, first_name="Cy", text="Which size?")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:create")[0]["payload"]["conversation"]["id"]
    question = http.post(f"/v2/apps/{app_id}/conversations/{conversation}/messages", json={
        "author": {"type": "business"}, "content": {"type": "text", "text": "Pick one", "actions": [
            {"type": "postback", "text": "Large", "payload": "SIZE_L"}]}}).json()["messages"][0]["id"]
    pressed = deliver(fake.press(TOKEN, user_id=4714, first_name="Cy", data=f"{question}:0"))
    assert 200 == pressed.status_code
    assert {"method": "answerCallbackQuery"} == {k: v for k, v in pressed.json().items() if k == "method"}
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:postback")) == 1)
    postback = by_type(events, "conversation:postback")[0]["payload"]
    assert ({"type": "telegram", "integrationId": integration.id}, "SIZE_L") == (
        postback["source"], postback["postback"]["payload"])
    echoed = [e["payload"]["message"] for e in by_type(events, "conversation:message")][-1]
    assert ("Large", "telegram") == (echoed["content"]["text"], echoed["source"]["type"])
    gone = deliver(fake.press(TOKEN, user_id=4714, first_name="Cy", data=f"{question}:7"))
    assert 200 == gone.status_code  # a button that is gone: answered (Telegram would send it again), no event
