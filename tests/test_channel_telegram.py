"""Telegram end to end on both engines (docs/channels.md): an integration made through the official SDK sets the
bot's webhook up at the fake Bot API (tests/channel_fakes.py); what a person does there reaches the server
through the real inbound route, signed as Telegram signs it, and becomes the user, client, conversation,
message and events a bot sees; a replayed or forged update writes nothing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
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

TRIGGERS = ["conversation:message", "conversation:create", "client:add", "conversation:postback",
            "conversation:message:delivery:channel", "conversation:message:delivery:failure"]


def telegram_integration(account: sc.ApiClient, app_id: str, token: str) -> Any:
    return sc.IntegrationsApi(account).create_integration(
        app_id, sc.Telegram(type="telegram", token=token, display_name="Shop bot")).integration


def deliver(delivery: Delivery) -> httpx.Response:
    return channel_fakes.deliver(delivery)


def by_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == kind]


def test_creating_the_integration_sets_the_bots_webhook_and_deleting_it_removes_it(
        server: Server, account: sc.ApiClient, app_id: str, bot_token: str) -> None:
    integration = telegram_integration(account, app_id, bot_token)
    bot_id = bot_token.split(":")[0]
    assert ("active", bot_id, f"bot{bot_id}_bot") == (integration.status, integration.bot_id, integration.username)
    hook = channel_fakes.fakes().telegram.webhooks[bot_token]
    assert f"{server.base_url}/api/telegram/webhooks/{app_id}/{integration.id}" == hook["url"]
    assert 32 == len(hook["secret_token"]) and ["message", "callback_query"] == hook["allowed_updates"]
    shown = sc.IntegrationsApi(account).get_integration(app_id, integration.id).integration
    assert shown.to_dict().get("token") is None  # write-only, and the secret is never shown at all
    assert hook["secret_token"] not in json.dumps(shown.to_dict())
    sc.IntegrationsApi(account).delete_integration(app_id, integration.id)
    assert bot_token not in channel_fakes.fakes().telegram.webhooks


def test_a_token_telegram_refuses_is_a_400_and_nothing_is_made(http: httpx.Client, app_id: str) -> None:
    channel_fakes.fakes().telegram.revoke("555000999:AAH-revoked")
    for token in ("555000999:AAH-revoked", "not-a-token"):
        response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "telegram", "token": token})
        assert 400 == response.status_code, response.text
        assert ("bad_request", "The telegram integration could not be set up: Telegram refused getMe: Unauthorized"
                ) == tuple(response.json()["errors"][0].values())
    assert [] == http.get(f"/v2/apps/{app_id}/integrations").json()["integrations"]


def test_a_persons_first_message_makes_their_user_client_and_conversation(
        account: sc.ApiClient, app_id: str, receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS, include_full_source=True)
    integration = telegram_integration(account, app_id, bot_token)
    fake = channel_fakes.fakes().telegram
    first = fake.message(bot_token, user_id=4711, first_name="Ann", last_name="Lee", text="Do you ship to Lyon?")
    answered = deliver(first)
    assert (200, b"") == (answered.status_code, answered.content)
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1
                               and len(by_type(got, "client:add")) == 1)  # (the user's lane: its own pace)
    # (client:add goes in the user's lane, the others in the conversation's, in order: lanes go in parallel)
    assert ["conversation:create", "conversation:message"] == [e["type"] for e in events if e["type"] != "client:add"]
    added, created, message = (by_type(events, kind)[0]["payload"]
                               for kind in ("client:add", "conversation:create", "conversation:message"))
    source = {"type": "telegram", "integrationId": integration.id}
    assert ("telegram", "4711", "Ann Lee", source) == (
        added["client"]["type"], added["client"]["externalId"], added["client"]["displayName"], added["source"])
    assert ("message", source) == (created["creationReason"], created["source"])
    update = json.loads(first.body)
    assert {**source, "originalMessageId": str(update["message"]["message_id"])} == {
        k: v for k, v in message["message"]["source"].items() if k not in ("originalMessageTimestamp", "client")}
    assert ("telegram", "4711", added["client"]["id"]) == tuple(  # includeFullSource: the client it came from
        message["message"]["source"]["client"][k] for k in ("type", "externalId", "id"))
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

    second = deliver(fake.message(bot_token, user_id=4711, first_name="Ann", location=(45.75, 4.85)))
    assert 200 == second.status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 2)
    assert 3 + 1 == len(events)  # the same user, client and conversation: one message more, nothing else
    moved = by_type(events, "conversation:message")[1]["payload"]
    assert (conversation_id, "location", {"lat": 45.75, "long": 4.85}) == (
        moved["conversation"]["id"], moved["message"]["content"]["type"], moved["message"]["content"]["coordinates"])


def test_an_update_sent_again_adds_nothing(account: sc.ApiClient, app_id: str, receiver: Receiver,
                                           bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    delivery = channel_fakes.fakes().telegram.message(bot_token, user_id=4712, first_name="Bo", text="hello")
    assert [200, 200, 200] == [deliver(delivery).status_code for _ in range(3)]
    events = receiver.wait_for(lambda got: len(got) >= 3)
    [conversation] = [e["payload"]["conversation"]["id"] for e in events if e["type"] == "conversation:create"]
    later = deliver(channel_fakes.fakes().telegram.message(bot_token, user_id=4712, first_name="Bo",
                                                           text="still there?"))
    assert 200 == later.status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) >= 2)
    assert ["hello", "still there?"] == [e["payload"]["message"]["content"]["text"]
                                         for e in by_type(events, "conversation:message")]
    listed = sc.MessagesApi(account).list_messages(app_id, conversation).messages
    assert ["hello", "still there?"] == [m.content.actual_instance.text for m in listed]


@pytest.mark.parametrize("forge", ["no secret", "wrong secret", "another integration", "another app", "other type",
                                   "not json"])
def test_a_forged_request_is_refused_and_writes_nothing(server: Server, account: sc.ApiClient, app_id: str,
                                                        forge: str, bot_token: str) -> None:
    integration = telegram_integration(account, app_id, bot_token)
    other = channel_fakes.new_bot_token()
    telegram_integration(account, app_id, other)  # its secret is not this integration's
    delivery = channel_fakes.fakes().telegram.message(bot_token, user_id=4713, first_name="Eve", text="let me in")
    url, headers, body = delivery.url, dict(delivery.headers), delivery.body
    expected = 401
    if forge == "no secret":
        del headers[SECRET_HEADER]
    elif forge == "wrong secret":
        headers[SECRET_HEADER] = channel_fakes.fakes().telegram.webhooks[other]["secret_token"]
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
                                                       receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    sc.AppsApi(account).update_app(app_id, sc.AppUpdateBody(settings=sc.AppSettings(echo_postback=True)))
    integration = telegram_integration(account, app_id, bot_token)
    fake = channel_fakes.fakes().telegram
    assert 200 == deliver(fake.message(bot_token, user_id=4714, first_name="Cy", text="Which size?")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:create")[0]["payload"]["conversation"]["id"]
    question = http.post(f"/v2/apps/{app_id}/conversations/{conversation}/messages", json={
        "author": {"type": "business"}, "content": {"type": "text", "text": "Pick one", "actions": [
            {"type": "postback", "text": "Large", "payload": "SIZE_L"}]}}).json()["messages"][0]["id"]
    pressed = deliver(fake.press(bot_token, user_id=4714, first_name="Cy", data=f"{question}:0"))
    assert 200 == pressed.status_code
    assert {"method": "answerCallbackQuery"} == {k: v for k, v in pressed.json().items() if k == "method"}
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:postback")) == 1)
    postback = by_type(events, "conversation:postback")[0]["payload"]
    assert ({"type": "telegram", "integrationId": integration.id}, "SIZE_L") == (
        postback["source"], postback["postback"]["payload"])
    echoed = [e["payload"]["message"] for e in by_type(events, "conversation:message")][-1]
    assert ("Large", "telegram") == (echoed["content"]["text"], echoed["source"]["type"])
    gone = deliver(fake.press(bot_token, user_id=4714, first_name="Cy", data=f"{question}:7"))
    assert 200 == gone.status_code  # a button that is gone: answered (Telegram would send it again), no event


# --- business messages out ----------------------------------------------------------------------------------

def reply(http: httpx.Client, app_id: str, conversation: str, content: dict[str, Any], **fields: Any) -> str:
    """The bot answers through the API; the message's id."""
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation}/messages",
                         json={"author": {"type": "business"}, "content": content, **fields})
    assert 201 == response.status_code, response.text
    return str(response.json()["messages"][0]["id"])


def person_writes(receiver: Receiver, token: str, user_id: int, text: str) -> str:
    """A person writes to the bot on Telegram; the conversation it went to."""
    assert 200 == deliver(channel_fakes.fakes().telegram.message(token, user_id=user_id, first_name="Di",
                                                                 text=text)).status_code
    events = receiver.wait_for(lambda got: any(e["type"] == "conversation:message" and
                                               e["payload"]["message"]["content"].get("text") == text for e in got))
    return str(next(e["payload"]["conversation"]["id"] for e in events if e["type"] == "conversation:message"))


def test_the_bots_answers_reach_telegram_in_order_with_delivery_events(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    integration = telegram_integration(account, app_id, bot_token)
    conversation = person_writes(receiver, bot_token, 4720, "Do you have it in blue?")
    answers = [reply(http, app_id, conversation, {"type": "text", "text": f"Answer {n}"}) for n in range(5)]
    sent = channel_fakes.fakes().telegram.wait_sent(bot_token, 5)
    assert [("sendMessage", "4720", f"Answer {n}") for n in range(5)] == [
        (one.method, one.body["chat_id"], one.body["text"]) for one in sent]
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 5)
    delivered = [e["payload"] for e in by_type(events, "conversation:message:delivery:channel")]
    assert sorted(answers) == sorted(d["message"]["id"] for d in delivered)
    first = next(d for d in delivered if d["message"]["id"] == answers[0])
    assert {"type": "telegram", "integrationId": integration.id} == first["destination"]
    assert [{"id": str(sent[0].message_id)}] == first["externalMessages"]
    assert (True, conversation) == (first["isFinalEvent"], first["conversation"]["id"])
    assert "4720" == sc.ClientsApi(account).list_clients(app_id, first["user"]["id"]).clients[0].external_id


def test_buttons_go_out_as_telegram_buttons_and_a_press_comes_back_as_a_postback(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    conversation = person_writes(receiver, bot_token, 4721, "Which sizes?")
    question = reply(http, app_id, conversation, {"type": "text", "text": "Pick one", "actions": [
        {"type": "postback", "text": "Large", "payload": "SIZE_L"},
        {"type": "link", "text": "Size guide", "uri": "https://shop.example/sizes"}]})
    [sent] = channel_fakes.fakes().telegram.wait_sent(bot_token, 1)
    buttons = sent.body["reply_markup"]["inline_keyboard"]
    assert [[{"text": "Large", "callback_data": f"{question}:0"}],
            [{"text": "Size guide", "url": "https://shop.example/sizes"}]] == buttons
    pressed = deliver(channel_fakes.fakes().telegram.press(bot_token, user_id=4721, first_name="Di",
                                                           data=buttons[0][0]["callback_data"], under=sent))
    assert 200 == pressed.status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:postback")) == 1)
    assert "SIZE_L" == by_type(events, "conversation:postback")[0]["payload"]["postback"]["payload"]


def test_what_telegram_cannot_carry_or_refuses_ends_in_a_delivery_failure(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    conversation = person_writes(receiver, bot_token, 4722, "Sign me up")
    form = reply(http, app_id, conversation, {"type": "form", "fields": [
        {"type": "text", "name": "name", "label": "Your name"}]})
    channel_fakes.fakes().telegram.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    blocked = reply(http, app_id, conversation, {"type": "text", "text": "Welcome!"})
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:failure")) == 2)
    failures = {e["payload"]["message"]["id"]: e["payload"] for e in by_type(events,
                                                                          "conversation:message:delivery:failure")}
    assert {"code": "uncategorized_error", "message": "Unsupported message type `form`"} == failures[form]["error"]
    assert {"code": "forbidden", "message": "Telegram refused sendMessage: Forbidden: bot was blocked by the user"
            } == failures[blocked]["error"]
    assert failures[blocked]["isFinalEvent"] and "externalMessages" not in failures[blocked]
    assert [] == channel_fakes.fakes().telegram.sent_by(bot_token)


def test_destination_targets_the_channel_or_none(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                 receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    integration = telegram_integration(account, app_id, bot_token)
    conversation = person_writes(receiver, bot_token, 4723, "Hello?")
    reply(http, app_id, conversation, {"type": "text", "text": "silent"}, destination={"integrationType": "none"})
    reply(http, app_id, conversation, {"type": "text", "text": "by type"}, destination={"integrationType": "telegram"})
    reply(http, app_id, conversation, {"type": "text", "text": "by id"}, destination={"integrationId": integration.id})
    sent = channel_fakes.fakes().telegram.wait_sent(bot_token, 2)
    assert ["by type", "by id"] == [one.body["text"] for one in sent]
    for destination, said in (({"integrationType": "twilio"}, "the user has no twilio client"),
                              ({"integrationId": "5f74a0d52b5315fc007e7900"}, "integration 5f74a0d52b5315fc007e7900")):
        refused = http.post(f"/v2/apps/{app_id}/conversations/{conversation}/messages", json={
            "author": {"type": "business"}, "content": {"type": "text", "text": "x"}, "destination": destination})
        assert 400 == refused.status_code and said in refused.json()["errors"][0]["title"], refused.text
    assert 2 == len(channel_fakes.fakes().telegram.sent_by(bot_token))


def test_first_messages_at_once_make_one_user_each_and_fail_none(
        server: Server, account: sc.ApiClient, app_id: str, receiver: Receiver, bot_token: str) -> None:
    """Eight texts of one new person and one text each of eight other new people, all at once: every request
    is answered 200 (no deadlock on PostgreSQL), the person is one user with one conversation, and each of the
    others one user."""
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    fake = channel_fakes.fakes().telegram
    updates = [fake.message(bot_token, user_id=4750, first_name="Fay", text=f"quick {n}") for n in range(8)]
    updates += [fake.message(bot_token, user_id=4760 + n, first_name="Gus", text=f"hi {n}") for n in range(8)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = [response.status_code for response in pool.map(deliver, updates)]
    assert [200] * 16 == statuses
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 16
                               and len(by_type(got, "client:add")) >= 9)  # (the users' lanes go apart)
    by_person: dict[str, set[tuple[str, str]]] = {}
    for event in by_type(events, "conversation:message"):
        author = event["payload"]["message"]["author"]
        text = event["payload"]["message"]["content"]["text"]
        key = "Fay" if text.startswith("quick") else text
        by_person.setdefault(key, set()).add((author["userId"], event["payload"]["conversation"]["id"]))
    assert 9 == len(by_person) and all(1 == len(pairs) for pairs in by_person.values()), by_person
    assert 9 == row_count(server.database_url, tables.users, app_id) == len(by_type(events, "client:add"))


def test_a_photo_and_a_file_are_fetched_and_kept_as_attachments(
        account: sc.ApiClient, app_id: str, receiver: Receiver, bot_token: str) -> None:
    """A photo's largest size and a document are fetched through getFile and kept by Heliograph: the message's
    mediaUrl is Heliograph's own (a Bot API file URL has the bot's token in it). Telegram failing to hand the
    file over is a 502, so it sends the update again."""
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    telegram = channel_fakes.fakes().telegram
    picture = b"\xff\xd8\xff\xe0" + b"JFIF" + bytes(range(256)) * 4
    update = telegram.photo(bot_token, user_id=4242, first_name="Ann", content=picture, caption="My receipt")
    telegram.fail("getFile", 502)
    assert 502 == deliver(update).status_code
    assert 200 == deliver(update).status_code
    assert 200 == deliver(telegram.photo(bot_token, user_id=4242, first_name="Ann", content=b"%PDF-1.4 invoice",
                                         document=("invoice.pdf", "application/pdf"))).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 2)
    photo, document = (e["payload"]["message"]["content"] for e in by_type(events, "conversation:message"))
    assert ("image", "image/jpeg", "My receipt") == (photo["type"], photo["mediaType"], photo["text"])
    assert ("file", "application/pdf") == (document["type"], document["mediaType"])
    assert document["mediaUrl"].endswith("/invoice.pdf")
    for content, kept in ((photo, picture), (document, b"%PDF-1.4 invoice")):
        assert "/attachments/v2/" in content["mediaUrl"] and bot_token not in content["mediaUrl"]
        assert kept == httpx.get(content["mediaUrl"]).content
