"""The channel simulator (docs/channels.md), on both engines: a server started with HELIOGRAPH_CHANNELS=simulate
sets a Telegram integration up with any token, a person "writes on Telegram" through its endpoints or
`heliograph sim`, signed as Telegram signs and through the real inbound route, the bot's answer is read from
the outbox with its buttons, a press comes back as a postback, and a fault set there fails the next send."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.conftest import Server, serve_new_database
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.servers import run_cli
from tests.test_channel_telegram import TRIGGERS, by_type, reply


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server of each engine (in place of the suite's), simulating the channels."""
    yield from serve_new_database(request.param, tmp_path_factory.mktemp(f"simulator-{request.param}"),
                                  env={"HELIOGRAPH_CHANNELS": "simulate"})


def sim(http: httpx.Client, integration_id: str, action: str, body: dict[str, object] | None = None) -> httpx.Response:
    path = f"/_heliograph/sim/integrations/{integration_id}/{action}"
    return http.get(path) if body is None else http.post(path, json=body)


def test_a_person_writes_on_telegram_and_reads_the_bots_answer(
        server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    integration = sc.IntegrationsApi(account).create_integration(
        app_id, sc.Telegram(type="telegram", token="any token at all")).integration
    assert "active" == integration.status
    written = sim(http, integration.id, "messages", {"from": {"id": "4711", "givenName": "Ann"}, "text": "Hi bot"})
    assert 200 == written.status_code, written.text
    shown = written.json()
    assert (200, "Hi bot") == (shown["answer"]["status"], shown["request"]["body"]["message"]["text"])
    assert shown["request"]["url"].endswith(f"/api/telegram/webhooks/{app_id}/{integration.id}")
    assert "X-Telegram-Bot-Api-Secret-Token" in shown["request"]["headers"]
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:message")[0]["payload"]["conversation"]["id"]

    question = reply(http, app_id, conversation, {"type": "text", "text": "Tea or coffee?", "actions": [
        {"type": "postback", "text": "Tea", "payload": "TEA"}]})
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    [sent] = sim(http, integration.id, "outbox").json()["messages"]
    assert ("4711", "Tea or coffee?", [{"text": "Tea", "callback_data": f"{question}:0"}]) == (
        sent["to"], sent["text"], sent["buttons"])

    pressed = sim(http, integration.id, "messages", {"from": {"id": "4711"}, "postback": f"{question}:0"})
    assert "answerCallbackQuery" == pressed.json()["answer"]["body"]["method"]
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:postback")) == 1)
    assert "TEA" == by_type(events, "conversation:postback")[0]["payload"]["postback"]["payload"]

    assert 200 == sim(http, integration.id, "faults", {"method": "sendMessage", "status": 403}).status_code
    reply(http, app_id, conversation, {"type": "text", "text": "Enjoy!"})
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:failure")) == 1)
    assert "forbidden" == by_type(events, "conversation:message:delivery:failure")[0]["payload"]["error"]["code"]


def test_the_cli_writes_and_reads_the_outbox(server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str,
                                             receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    integration = sc.IntegrationsApi(account).create_integration(
        app_id, sc.Telegram(type="telegram", token="123:cli")).integration
    wrote = run_cli(server.database_url, "sim", "write", integration.id, "Hello from the CLI", "--url",
                    server.base_url, "--from", "42", "--name", "Bo Diddley")
    assert 0 == wrote.returncode, wrote.stderr
    assert "answered 200" in wrote.stdout
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    message = by_type(events, "conversation:message")[0]["payload"]
    assert ("Hello from the CLI", "Bo Diddley") == (message["message"]["content"]["text"],
                                                    message["message"]["author"]["displayName"])
    reply(http, app_id, message["conversation"]["id"], {"type": "text", "text": "Hello Bo"})
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    listed = run_cli(server.database_url, "sim", "outbox", integration.id, "--url", server.base_url)
    assert 0 == listed.returncode, listed.stderr
    assert listed.stdout.strip().endswith("to 42:  Hello Bo"), listed.stdout
    unknown = run_cli(server.database_url, "sim", "outbox", "5f74a0d52b5315fc007e7900", "--url", server.base_url)
    assert (1, "Integration not found") == (unknown.returncode, unknown.stderr.split(":")[0])


def test_a_body_that_says_nothing_or_two_things_is_a_400(account: sc.ApiClient, http: httpx.Client,
                                                        app_id: str) -> None:
    integration = sc.IntegrationsApi(account).create_integration(
        app_id, sc.Telegram(type="telegram", token="123:x")).integration
    for body in ({"from": {"id": "1"}}, {"from": {"id": "1"}, "text": "a", "postback": "b"},
                 {"from": {"id": "abc"}, "text": "a"}):
        refused = sim(http, integration.id, "messages", body)
        assert 400 == refused.status_code, refused.text


def test_an_sms_in_the_answer_out_and_its_receipt(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                  receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, [*TRIGGERS, "conversation:message:delivery:user"])
    integration = sc.IntegrationsApi(account).create_integration(app_id, sc.Twilio(
        type="twilio", account_sid="ACanything", auth_token="whatever", phone_number_sid="PNmine")).integration
    written = sim(http, integration.id, "messages", {"from": {"id": "+14155550100"}, "text": "Open on Sunday?"})
    assert (200, 200) == (written.status_code, written.json()["answer"]["status"]), written.text
    assert "X-Twilio-Signature" in written.json()["request"]["headers"]
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:message")[0]["payload"]["conversation"]["id"]
    reply(http, app_id, conversation, {"type": "text", "text": "Yes, 10 to 4."})
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    [sent] = sim(http, integration.id, "outbox").json()["messages"]
    assert ("+14155550100", "Yes, 10 to 4.") == (sent["to"], sent["text"])
    reported = sim(http, integration.id, "receipts", {"messageId": sent["id"], "status": "delivered"})
    assert 200 == reported.json()["answer"]["status"], reported.text
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:user")) == 1)
    delivered = by_type(events, "conversation:message:delivery:user")[0]["payload"]
    assert [{"id": sent["id"]}] == delivered["externalMessages"]
    refused = sim(http, integration.id, "messages", {"from": {"id": "+1415555"}, "location": {"lat": 1, "long": 2}})
    assert 400 == refused.status_code


def test_write_to_the_bot_from_whatsapp_and_see_its_answer_with_delivery_events(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver) -> None:
    """Issue 12's "done when": with the simulator, a person writes "from WhatsApp", the bot's answer arrives at
    the WhatsApp fake, and the delivery events follow (the fake's read receipt included)."""
    custom_integration(account, app_id, receiver.url, [*TRIGGERS, "conversation:message:delivery:user"])
    made = http.post(f"/v2/apps/{app_id}/integrations", json={
        "type": "whatsapp", "accountId": "any", "phoneNumberId": "any-number", "accessToken": "any-token",
        "appSecret": "any-secret"})
    assert (201, "active") == (made.status_code, made.json()["integration"]["status"]), made.text
    integration = made.json()["integration"]["id"]
    written = sim(http, integration, "messages", {"from": {"id": "+447700900123", "givenName": "Ann"},
                                                  "text": "Is my order on its way?"})
    assert (200, 200) == (written.status_code, written.json()["answer"]["status"]), written.text
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:message")[0]["payload"]["conversation"]["id"]
    reply(http, app_id, conversation, {"type": "text", "text": "It ships today.", "actions": [
        {"type": "postback", "text": "Track it", "payload": "TRACK"}]})
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    [sent] = sim(http, integration, "outbox").json()["messages"]
    assert ("447700900123", "It ships today.", ["Track it"]) == (
        sent["to"], sent["text"], [button["text"] for button in sent["buttons"]])
    for status in ("delivered", "read"):
        assert 200 == sim(http, integration, "receipts", {"messageId": sent["id"], "status": status}).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:user")) == 2)
    assert [False, True] == [e["payload"]["isFinalEvent"] for e in
                             by_type(events, "conversation:message:delivery:user")]
    pressed = sim(http, integration, "messages", {"from": {"id": "447700900123"}, "postback": sent["buttons"][0]["id"]})
    assert 200 == pressed.json()["answer"]["status"]
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:postback")) == 1)
    assert "TRACK" == by_type(events, "conversation:postback")[0]["payload"]["postback"]["payload"]


def test_messenger_in_the_simulator(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                    receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, [*TRIGGERS, "conversation:message:delivery:user",
                                                       "conversation:read"])
    made = http.post(f"/v2/apps/{app_id}/integrations", json={
        "type": "messenger", "pageAccessToken": "any", "appId": "123", "appSecret": "any-secret"})
    assert (201, "active") == (made.status_code, made.json()["integration"]["status"]), made.text
    integration = made.json()["integration"]["id"]
    written = sim(http, integration, "messages", {"from": {"id": "7001"}, "text": "Hi page"})
    assert 200 == written.json()["answer"]["status"], written.text
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:message")[0]["payload"]["conversation"]["id"]
    reply(http, app_id, conversation, {"type": "text", "text": "Hello!"})
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    [sent] = sim(http, integration, "outbox").json()["messages"]
    assert ("7001", "Hello!") == (sent["to"], sent["text"])
    assert 200 == sim(http, integration, "receipts", {"messageId": sent["id"], "status": "delivered"}).status_code
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:user")) == 1)
    assert 200 == sim(http, integration, "receipts", {"messageId": sent["id"], "status": "read"}).status_code
    receiver.wait_for(lambda got: len(by_type(got, "conversation:read")) == 1)


def test_an_email_in_the_answer_out_and_its_events(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                   receiver: Receiver) -> None:
    custom_integration(account, app_id, receiver.url, [*TRIGGERS, "conversation:message:delivery:user"])
    integration = sc.IntegrationsApi(account).create_integration(app_id, sc.Mailgun(
        type="mailgun", api_key="any key", domain="mg.mine.example", incoming_address="hi@mg.mine.example")
    ).integration
    assert "active" == integration.status
    refused = sim(http, integration.id, "messages", {"from": {"id": "4711"}, "text": "Hi"})
    assert (400, True) == (refused.status_code, "a mailgun person is an email address" in refused.text)
    written = sim(http, integration.id, "messages", {"from": {"id": "ana@example.org", "givenName": "Ana"},
                                                     "text": "Hi"})
    assert 200 == written.status_code, written.text
    shown = written.json()
    assert (200, True) == (shown["answer"]["status"], "signature=" in shown["request"]["body"])
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:message")[0]["payload"]["conversation"]["id"]
    answer = reply(http, app_id, conversation, {"type": "text", "text": "Hello Ana"})
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    [sent] = sim(http, integration.id, "outbox").json()["messages"]
    assert ("ana@example.org", "New message") == (sent["to"], sent["subject"])
    assert sent["text"].startswith("Hello Ana\n\n--\nUnsubscribe:")
    assert 400 == sim(http, integration.id, "receipts", {"messageId": sent["id"], "status": "read"}).status_code
    reported = sim(http, integration.id, "receipts", {"messageId": sent["id"], "status": "delivered"})
    assert 200 == reported.json()["answer"]["status"], reported.text
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:user")) == 1)
    assert answer == by_type(events, "conversation:message:delivery:user")[0]["payload"]["message"]["id"]
