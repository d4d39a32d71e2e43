"""Twilio SMS end to end on both engines (docs/channels.md): the integration points its number at Heliograph; a
person's text comes in signed and becomes their user, client (externalId: the phone number) and message; the
bot's answer goes out from the number with a status callback, and the callbacks become delivery events."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.simulator.twilio import FakeTwilio
from heliograph.store import tables
from tests import channel_fakes
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.test_channel_telegram import TRIGGERS, by_type, reply
from tests.utils import row_count

TRIGGERS_ALL = [*TRIGGERS, "conversation:message:delivery:user"]
PERSON = "+14158675309"


@pytest.fixture
def twilio_account() -> tuple[str, str, str]:
    """A Twilio account of this test's own in the fake (its SID, auth token, and its number's SID)."""
    sid, number = f"AC{secrets.token_hex(16)}", f"PN{secrets.token_hex(16)}"
    channel_fakes.fakes().twilio.account(sid, secrets.token_hex(16), numbers={number: "+15005550006"})
    return sid, channel_fakes.fakes().twilio.accounts[sid].token, number


@pytest.fixture
def twilio() -> FakeTwilio:
    return channel_fakes.fakes().twilio


def make_integration(account: sc.ApiClient, app_id: str, twilio_account: tuple[str, str, str]) -> Any:
    sid, token, number = twilio_account
    return sc.IntegrationsApi(account).create_integration(app_id, sc.Twilio(
        type="twilio", account_sid=sid, auth_token=token, phone_number_sid=number)).integration


def test_creating_it_points_the_number_at_heliograph(server: Server, account: sc.ApiClient, http: httpx.Client,
                                                     app_id: str, twilio_account: tuple[str, str, str],
                                                     twilio: FakeTwilio) -> None:
    integration = make_integration(account, app_id, twilio_account)
    assert "active" == integration.status
    number = twilio.accounts[twilio_account[0]].numbers[twilio_account[2]]
    assert (f"{server.base_url}/api/twilio/webhooks/{app_id}/{integration.id}", "POST") == (
        number["sms_url"], number["sms_method"])
    shown = http.get(f"/v2/apps/{app_id}/integrations/{integration.id}").json()["integration"]
    assert {"authToken", "phoneNumber", "statusCallback"}.isdisjoint(shown)  # write-only, and Heliograph's own
    sc.IntegrationsApi(account).delete_integration(app_id, integration.id)
    assert "" == number["sms_url"]


def test_wrong_credentials_are_a_400_and_nothing_is_made(http: httpx.Client, app_id: str,
                                                         twilio_account: tuple[str, str, str]) -> None:
    sid, _token, number = twilio_account
    for body, said in (({"authToken": "wrong", "phoneNumberSid": number}, "Authenticate"),
                       ({"authToken": _token, "phoneNumberSid": "PNnope"}, "was not found")):
        response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "twilio", "accountSid": sid, **body})
        assert 400 == response.status_code and said in response.json()["errors"][0]["title"], response.text
    assert [] == http.get(f"/v2/apps/{app_id}/integrations").json()["integrations"]


def test_a_text_in_an_answer_out_and_its_receipts(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                  receiver: Receiver, twilio_account: tuple[str, str, str],
                                                  twilio: FakeTwilio) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS_ALL)
    integration = make_integration(account, app_id, twilio_account)
    incoming = twilio.incoming(twilio_account[0], to="+15005550006", sender=PERSON, body="Are you open today?")
    answered = channel_fakes.deliver(incoming)
    assert (200, "text/xml") == (answered.status_code, answered.headers["content-type"].split(";")[0])
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1
                               and len(by_type(got, "client:add")) == 1)  # (the user's lane: its own pace)
    added = by_type(events, "client:add")[0]["payload"]
    message = by_type(events, "conversation:message")[0]["payload"]
    assert ("twilio", PERSON) == (added["client"]["type"], added["client"]["externalId"])
    assert {"type": "twilio", "integrationId": integration.id} == {
        k: v for k, v in message["message"]["source"].items() if k in ("type", "integrationId")}
    assert "Are you open today?" == message["message"]["content"]["text"]

    answer = reply(http, app_id, message["conversation"]["id"], {"type": "text", "text": "Until 6 pm.", "actions": [
        {"type": "link", "text": "Hours", "uri": "https://shop.example/hours"}]})
    [sent] = twilio.wait_sent(twilio_account[0], 1)
    assert {"To": PERSON, "From": "+15005550006", "Body": "Until 6 pm.\nHours: https://shop.example/hours",
            "StatusCallback": twilio.accounts[twilio_account[0]].numbers[twilio_account[2]]["sms_url"]} == sent.body
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    channel = by_type(events, "conversation:message:delivery:channel")[0]["payload"]
    assert (answer, [{"id": sent.message_id}], False) == (
        channel["message"]["id"], channel["externalMessages"], channel["isFinalEvent"])

    assert 200 == channel_fakes.deliver(twilio.status(sent, "sent")).status_code  # on its way: no event
    delivered = twilio.status(sent, "delivered")
    assert [200, 200] == [channel_fakes.deliver(delivered).status_code for _ in range(2)]  # sent twice: one event
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:user")) == 1)
    user = by_type(events, "conversation:message:delivery:user")[0]["payload"]
    assert (answer, {"type": "twilio", "integrationId": integration.id}, True) == (
        user["message"]["id"], user["destination"], user["isFinalEvent"])

    second = reply(http, app_id, message["conversation"]["id"], {"type": "text", "text": "See you!"})
    later = twilio.wait_sent(twilio_account[0], 2)[1]
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 2)
    assert 200 == channel_fakes.deliver(twilio.status(later, "undelivered", error_code="30003")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:failure")) == 1)
    failure = by_type(events, "conversation:message:delivery:failure")[0]["payload"]
    assert (second, "twilio_30003") == (failure["message"]["id"], failure["error"]["code"])
    assert 1 == len(by_type(receiver.events(), "conversation:message:delivery:user"))


def test_a_forged_or_foreign_request_writes_nothing(server: Server, app_id: str, account: sc.ApiClient,
                                                    twilio_account: tuple[str, str, str], twilio: FakeTwilio) -> None:
    make_integration(account, app_id, twilio_account)
    real = twilio.incoming(twilio_account[0], to="+15005550006", sender=PERSON, body="hello")
    forged = httpx.post(real.url, content=real.body.replace(b"hello", b"refund"), headers=real.headers)
    unsigned = httpx.post(real.url, content=real.body, headers={"content-type": real.headers["Content-Type"]})
    assert (401, 401) == (forged.status_code, unsigned.status_code)
    assert 0 == row_count(server.database_url, tables.users, app_id)
