"""Channel sends retried as the policy says (docs/channels.md), on both engines, on a server whose retry delays
are 0.2 s (HELIOGRAPH_WEBHOOK_RETRY_DELAYS, the webhooks' policy, which channel sends share): a 429 waits at
least its `retry_after`, a 5xx is tried again, a message of several calls goes on from the call that failed
and sends none twice, and one refused at every attempt ends in conversation:message:delivery:failure."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sunshine_conversations_client as sc

from tests import channel_fakes
from tests.conftest import Server, serve_new_database
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.test_channel_telegram import TRIGGERS, by_type, person_writes, reply, telegram_integration

DELAYS = "0.2,0.2,0.2,0.2"  # five attempts in all, as the spec's policy, but 0.2 s apart


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server of each engine (in place of the suite's), with quick retries."""
    yield from serve_new_database(request.param, tmp_path_factory.mktemp(f"sends-{request.param}"),
                                  env={"HELIOGRAPH_WEBHOOK_RETRY_DELAYS": DELAYS})


def test_a_429_waits_its_retry_after_and_a_5xx_is_tried_again(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    conversation = person_writes(receiver, bot_token, 4730, "Hi")
    fake = channel_fakes.fakes().telegram
    fake.fail("sendMessage", 429, retry_after=1)
    fake.fail("sendMessage", 502)
    message = reply(http, app_id, conversation, {"type": "text", "text": "Hello there"})
    [sent] = fake.wait_sent(bot_token, 1)
    assert "Hello there" == sent.body["text"]
    tries = [call for call in fake.calls if call.owner == bot_token and call.method == "sendMessage"]
    assert [429, 502, 200] == [call.status for call in tries]
    assert tries[1].at - tries[0].at >= 1.0  # retry_after, not the policy's 0.2 s
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    assert message == by_type(events, "conversation:message:delivery:channel")[0]["payload"]["message"]["id"]
    assert [] == by_type(events, "conversation:message:delivery:failure")


def test_a_message_of_several_calls_goes_on_from_the_one_that_failed(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    conversation = person_writes(receiver, bot_token, 4731, "Tell me everything")
    fake = channel_fakes.fakes().telegram
    caption = "A long description. " * 60  # over a caption's 1,024 characters: a photo, then the text
    fake.fail("sendMessage", 500)  # the second call fails once: the photo is not sent again
    reply(http, app_id, conversation, {"type": "image", "mediaUrl": "https://shop.example/blue.png", "text": caption})
    sent = fake.wait_sent(bot_token, 2)
    assert [("sendPhoto", "https://shop.example/blue.png"), ("sendMessage", caption)] == [
        (one.method, one.body.get("photo") or one.body.get("text")) for one in sent]
    tries = [(call.method, call.status) for call in fake.calls if call.owner == bot_token and call.method != "getMe"
             and call.method != "setWebhook"]
    assert [("sendPhoto", 200), ("sendMessage", 500), ("sendMessage", 200)] == tries
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    delivered = by_type(events, "conversation:message:delivery:channel")[0]["payload"]
    assert [{"id": str(one.message_id)} for one in sent] == delivered["externalMessages"]


def test_a_send_refused_at_every_attempt_ends_in_a_failure(
        account: sc.ApiClient, http: httpx.Client, app_id: str, receiver: Receiver, bot_token: str) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    telegram_integration(account, app_id, bot_token)
    conversation = person_writes(receiver, bot_token, 4732, "Anyone?")
    fake = channel_fakes.fakes().telegram
    fake.fail("sendMessage", 503, times=5)
    message = reply(http, app_id, conversation, {"type": "text", "text": "Sorry for the wait"})
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:failure")) == 1)
    failure = by_type(events, "conversation:message:delivery:failure")[0]["payload"]
    assert (message, "service_unavailable") == (failure["message"]["id"], failure["error"]["code"])
    assert 5 == len([call for call in fake.calls if call.owner == bot_token and call.method == "sendMessage"])
    assert [] == fake.sent_by(bot_token)
