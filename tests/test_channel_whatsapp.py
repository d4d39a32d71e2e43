"""WhatsApp (Cloud API) end to end on both engines (docs/channels.md#whatsapp): the integration, made with
Heliograph's own fields, checks the token and subscribes the account's notifications to Heliograph; Meta's GET
check gets its challenge; a person's messages come in signed with the app's secret; the bot's answers go out
as Graph API calls, with reply buttons whose press comes back as a postback; statuses become delivery events."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.channels import meta
from heliograph.simulator.whatsapp import FakeWhatsApp
from heliograph.store import tables
from tests import channel_fakes
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.test_channel_telegram import TRIGGERS, by_type, reply
from tests.utils import row_count

PERSON = "16505551234"


@pytest.fixture
def whatsapp() -> FakeWhatsApp:
    return channel_fakes.fakes().whatsapp


@pytest.fixture
def number(whatsapp: FakeWhatsApp) -> dict[str, str]:
    """A number of this test's own in the fake, and the fields of an integration for it."""
    fields = {"type": "whatsapp", "accountId": f"{secrets.randbelow(10**14)}", "phoneNumberId":
              f"{secrets.randbelow(10**14) + 10**14}", "accessToken": "EAAG" + secrets.token_hex(8),
              "appSecret": secrets.token_hex(16)}
    whatsapp.number(fields["phoneNumberId"], fields["accessToken"], display="15550783881")
    return fields


def make(http: httpx.Client, app_id: str, number: dict[str, str]) -> dict[str, Any]:
    response = http.post(f"/v2/apps/{app_id}/integrations", json=number)
    assert 201 == response.status_code, response.text
    return dict(response.json()["integration"])


def test_creating_it_subscribes_the_account_and_meta_gets_its_challenge(
        server: Server, http: httpx.Client, app_id: str, number: dict[str, str], whatsapp: FakeWhatsApp) -> None:
    integration = make(http, app_id, number)
    assert ("active", "15550783881") == (integration["status"], integration["phoneNumber"])
    assert {"accessToken", "appSecret", "phoneNumberId"}.isdisjoint(integration)
    hook = whatsapp.numbers[number["phoneNumberId"]].webhook
    assert f"{server.base_url}/api/whatsapp/webhooks/{app_id}/{integration['id']}" == hook["url"]
    check = {"hub.mode": "subscribe", "hub.verify_token": hook["verify_token"], "hub.challenge": "1158201444"}
    answered = httpx.get(hook["url"], params=check)
    assert (200, "1158201444") == (answered.status_code, answered.text)
    assert 403 == httpx.get(hook["url"], params={**check, "hub.verify_token": "guess"}).status_code
    assert 404 == httpx.get(hook["url"].replace("/whatsapp/", "/telegram/"), params=check).status_code
    assert 200 == http.delete(f"/v2/apps/{app_id}/integrations/{integration['id']}").status_code
    assert {} == whatsapp.numbers[number["phoneNumberId"]].webhook


def test_without_the_cloud_api_fields_it_is_stored_inactive(http: httpx.Client, app_id: str) -> None:
    response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "whatsapp", "accountId": "1"})
    assert (201, "inactive") == (response.status_code, response.json()["integration"]["status"])


def test_a_wrong_token_is_a_400_and_nothing_is_made(http: httpx.Client, app_id: str, number: dict[str, str]) -> None:
    response = http.post(f"/v2/apps/{app_id}/integrations", json={**number, "accessToken": "EAAGwrong"})
    assert 400 == response.status_code and "(error 190)" in response.json()["errors"][0]["title"], response.text
    assert [] == http.get(f"/v2/apps/{app_id}/integrations").json()["integrations"]


def test_a_conversation_on_whatsapp_with_buttons_and_statuses(
        server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver,
        number: dict[str, str], whatsapp: FakeWhatsApp) -> None:
    custom_integration(account, app_id, receiver.url, [*TRIGGERS, "conversation:message:delivery:user",
                                                       "conversation:read"])
    integration = make(http, app_id, number)
    pnid, secret = number["phoneNumberId"], number["appSecret"]
    forged = whatsapp.message(pnid, "not the app secret", sender=PERSON, name="Sheena", text="hi")
    assert 401 == channel_fakes.deliver(forged).status_code
    assert 0 == row_count(server.database_url, tables.users, app_id)
    assert 200 == channel_fakes.deliver(whatsapp.message(pnid, secret, sender=PERSON, name="Sheena",
                                                         text="Does it come in blue?")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1
                               and len(by_type(got, "client:add")) == 1)  # (the user's lane: its own pace)
    message = by_type(events, "conversation:message")[0]["payload"]
    assert ("whatsapp", integration["id"], "Sheena") == (
        message["message"]["source"]["type"], message["message"]["source"]["integrationId"],
        message["message"]["author"]["displayName"])
    assert PERSON == by_type(events, "client:add")[0]["payload"]["client"]["externalId"]

    question = reply(http, app_id, message["conversation"]["id"], {"type": "text", "text": "Which size?", "actions": [
        {"type": "postback", "text": "Small", "payload": "S"}, {"type": "postback", "text": "Large", "payload": "L"}]})
    [sent] = whatsapp.wait_sent(pnid, 1)
    assert (PERSON, ["Small", "Large"]) == (sent.body["to"], [b["reply"]["title"] for b in
                                                              sent.body["interactive"]["action"]["buttons"]])
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    assert 200 == channel_fakes.deliver(whatsapp.status(sent, secret, "delivered")).status_code
    assert 200 == channel_fakes.deliver(whatsapp.status(sent, secret, "read")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:user")) == 2)
    finals = [(e["payload"]["message"]["id"], e["payload"]["isFinalEvent"])
              for e in by_type(events, "conversation:message:delivery:user")]
    assert [(question, False), (question, True)] == finals  # delivered, then read: the last one
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:read")) == 1)  # read in the conversation
    assert ("user", "whatsapp") == (by_type(events, "conversation:read")[0]["payload"]["activity"]["author"]["type"],
                                    by_type(events, "conversation:read")[0]["payload"]["activity"]["source"]["type"])

    pressed = whatsapp.message(pnid, secret, sender=PERSON, name="Sheena", press=f"{question}:1")
    assert 200 == channel_fakes.deliver(pressed).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:postback")) == 1)
    assert "L" == by_type(events, "conversation:postback")[0]["payload"]["postback"]["payload"]

    late = reply(http, app_id, message["conversation"]["id"], {"type": "text", "text": "Still there?"})
    second = whatsapp.wait_sent(pnid, 2)[1]
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 2)
    assert 200 == channel_fakes.deliver(whatsapp.status(second, secret, "failed", error_code=131047)).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:failure")) == 1)
    failure = by_type(events, "conversation:message:delivery:failure")[0]["payload"]
    assert (late, "whatsapp_131047") == (failure["message"]["id"], failure["error"]["code"])


def test_a_reply_button_pressed_is_the_persons_answer_with_its_payload(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, number: dict[str, str],
        whatsapp: FakeWhatsApp) -> None:
    """Reply actions go out as WhatsApp's reply buttons; a press comes back as the person's message of the
    reply's text and payload, as a quick reply's does on Messenger (not as a postback)."""
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    make(http, app_id, number)
    pnid, secret = number["phoneNumberId"], number["appSecret"]
    assert 200 == channel_fakes.deliver(whatsapp.message(pnid, secret, sender=PERSON, name="Sheena",
                                                         text="Can I pay later?")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1)
    conversation = by_type(events, "conversation:message")[0]["payload"]["conversation"]["id"]
    question = reply(http, app_id, conversation, {"type": "text", "text": "Which plan?", "actions": [
        {"type": "reply", "text": "Monthly", "payload": "PLAN_M"}, {"type": "reply", "text": "Yearly",
                                                                   "payload": "PLAN_Y"}]})
    [sent] = whatsapp.wait_sent(pnid, 1)
    assert [f"{question}:0", f"{question}:1"] == [b["reply"]["id"] for b in
                                                  sent.body["interactive"]["action"]["buttons"]]
    pressed = whatsapp.message(pnid, secret, sender=PERSON, name="Sheena", press=f"{question}:1")
    assert 200 == channel_fakes.deliver(pressed).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 3)
    said = by_type(events, "conversation:message")[-1]["payload"]["message"]
    assert ("user", {"type": "text", "text": "Yearly", "payload": "PLAN_Y"}) == (said["author"]["type"],
                                                                                said["content"])
    assert [] == by_type(events, "conversation:postback")


def test_a_notification_for_another_number_of_the_account_writes_nothing(
        server: Server, http: httpx.Client, app_id: str, number: dict[str, str], whatsapp: FakeWhatsApp) -> None:
    """An account's notifications all go to one webhook: those of another number are answered and dropped."""
    make(http, app_id, number)
    real = whatsapp.message(number["phoneNumberId"], number["appSecret"], sender=PERSON, name="Ana", text="Hi")
    body = real.body.replace(number["phoneNumberId"].encode(), b"999000111222333")
    other = httpx.post(real.url, content=body, headers={**real.headers, "X-Hub-Signature-256": meta.sign(
        number["appSecret"], body)})
    assert (200, 0) == (other.status_code, row_count(server.database_url, tables.users, app_id))
    assert 200 == channel_fakes.deliver(real).status_code
    assert 1 == row_count(server.database_url, tables.users, app_id)


def test_a_picture_and_a_document_are_fetched_and_kept_as_attachments(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, number: dict[str, str],
        whatsapp: FakeWhatsApp) -> None:
    """WhatsApp's media come as ids: the Graph API gives a short-lived URL that needs the token, so Heliograph
    fetches the file and keeps it; a refusal to give it is final: the caption stays, as text."""
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    make(http, app_id, number)
    pnid, secret = number["phoneNumberId"], number["appSecret"]
    picture = b"\x89PNG\r\n\x1a\n" + bytes(300)
    sent = [whatsapp.picture(pnid, secret, sender=PERSON, name="Ana", content=picture, media_type="image/png",
                             caption="The crack"),
            whatsapp.picture(pnid, secret, sender=PERSON, name="Ana", content=b"%PDF-1.7", filename="quote.pdf",
                             media_type="application/pdf")]
    gone = whatsapp.picture(pnid, secret, sender=PERSON, name="Ana", content=b"x", caption="Lost one")
    whatsapp.media.pop(next(reversed(whatsapp.media)))  # Meta no longer has it: 404
    assert [200, 200, 200] == [channel_fakes.deliver(one).status_code for one in (*sent, gone)]
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 3)
    image, document, text = (e["payload"]["message"]["content"] for e in by_type(events, "conversation:message"))
    assert ("image", "image/png", "The crack", picture) == (image["type"], image["mediaType"], image["text"],
                                                            httpx.get(image["mediaUrl"]).content)
    assert ("file", "application/pdf", b"%PDF-1.7") == (document["type"], document["mediaType"],
                                                        httpx.get(document["mediaUrl"]).content)
    assert document["mediaUrl"].endswith("/quote.pdf")
    assert {"type": "text", "text": "Lost one"} == text
