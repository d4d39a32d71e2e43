"""Mailgun end to end on both engines (docs/channels.md): the integration makes a route for its incoming address
and points the domain's delivery webhooks at Heliograph; an email comes in signed and becomes its sender's user,
client (externalId: the address) and message; the bot's answer goes out as an email, and the domain's events
become delivery events."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.simulator.mailgun import FakeMailgun
from heliograph.store import tables
from tests import channel_fakes
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.test_channel_telegram import TRIGGERS, by_type, reply
from tests.utils import in_database, row_count

TRIGGERS_ALL = [*TRIGGERS, "conversation:message:delivery:user"]
PERSON = "ana@example.org"


@pytest.fixture
def mailgun_account() -> tuple[str, str, str]:
    """A Mailgun account of this test's own in the fake: its API key, which also signs (the official SDK's Mailgun
    model has no signingKey, so the integration checks signatures with its apiKey, as the spec says), and domain."""
    key, domain = f"key-{secrets.token_hex(8)}", f"mg{secrets.token_hex(4)}.example"
    channel_fakes.fakes().mailgun.account(key, domains=[domain])
    return key, key, domain


@pytest.fixture
def mailgun() -> FakeMailgun:
    return channel_fakes.fakes().mailgun


def make_integration(account: sc.ApiClient, app_id: str, mailgun_account: tuple[str, str, str]) -> Any:
    key, _signing, domain = mailgun_account
    return sc.IntegrationsApi(account).create_integration(app_id, sc.Mailgun(
        type="mailgun", api_key=key, domain=domain, incoming_address=f"help@{domain}")).integration


def test_creating_it_routes_the_address_to_heliograph(server: Server, account: sc.ApiClient, http: httpx.Client,
                                                      app_id: str, mailgun_account: tuple[str, str, str],
                                                      mailgun: FakeMailgun) -> None:
    integration = make_integration(account, app_id, mailgun_account)
    assert "active" == integration.status
    url = f"{server.base_url}/api/mailgun/webhooks/{app_id}/{integration.id}"
    fake = mailgun.accounts[mailgun_account[0]]
    [route] = fake.routes.values()
    assert (f'match_recipient("help@{mailgun_account[2]}")', [f'forward("{url}")', "stop()"]) == (
        route["expression"], route["actions"])
    assert {(mailgun_account[2], kind): [url] for kind in ("delivered", "permanent_fail")} == fake.webhooks
    fake.webhooks[(mailgun_account[2], "delivered")].insert(0, "https://crm.example/mail")  # the customer's too
    shown = http.get(f"/v2/apps/{app_id}/integrations/{integration.id}").json()["integration"]
    assert {"apiKey", "routeId", "webhookUrl"}.isdisjoint(shown)  # write-only, and Heliograph's own
    sc.IntegrationsApi(account).delete_integration(app_id, integration.id)
    assert ({}, {(mailgun_account[2], "delivered"): ["https://crm.example/mail"]}) == (fake.routes, fake.webhooks)


def test_a_wrong_key_or_domain_is_a_400_and_nothing_is_made(http: httpx.Client, app_id: str,
                                                            mailgun_account: tuple[str, str, str],
                                                            mailgun: FakeMailgun) -> None:
    key, _signing, domain = mailgun_account
    for body, said in (({"apiKey": "key-wrong", "domain": domain}, "Forbidden"),
                       ({"apiKey": key, "domain": "other.example"}, "Domain not found")):
        response = http.post(f"/v2/apps/{app_id}/integrations", json={
            "type": "mailgun", "incomingAddress": f"help@{body['domain']}", **body})
        assert 400 == response.status_code and said in response.json()["errors"][0]["title"], response.text
    fake = mailgun.accounts[key]
    fake.webhooks[(domain, "delivered")] = ["https://crm.example/mail"]  # the customer's own, which stays
    mailgun.fail("webhooks", 500, after=3)  # the second webhook cannot be pointed: all of it is undone
    response = http.post(f"/v2/apps/{app_id}/integrations", json={
        "type": "mailgun", "apiKey": key, "domain": domain, "incomingAddress": f"help@{domain}"})
    assert 400 == response.status_code, response.text
    assert [] == http.get(f"/v2/apps/{app_id}/integrations").json()["integrations"]
    assert ({}, {(domain, "delivered"): ["https://crm.example/mail"]}) == (fake.routes, fake.webhooks)


def test_an_email_in_an_answer_out_and_its_events(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                  receiver: Receiver, mailgun_account: tuple[str, str, str],
                                                  mailgun: FakeMailgun) -> None:
    custom_integration(account, app_id, receiver.url, TRIGGERS_ALL)
    integration = make_integration(account, app_id, mailgun_account)
    domain = mailgun_account[2]
    incoming = mailgun.incoming(f"help@{domain}", sender=PERSON, name="Ana Lima", text="Where is my order?",
                                attachment=("receipt.pdf", "application/pdf", b"%PDF-1.4"))
    answered = channel_fakes.deliver(incoming)
    assert 200 == answered.status_code, answered.text
    assert 200 == channel_fakes.deliver(incoming).status_code  # forwarded again: nothing more
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message")) == 1
                               and len(by_type(got, "client:add")) == 1)
    added = by_type(events, "client:add")[0]["payload"]
    message = by_type(events, "conversation:message")[0]["payload"]
    assert ("mailgun", PERSON, "Ana Lima") == (
        added["client"]["type"], added["client"]["externalId"], added["client"]["displayName"])
    assert ({"type": "mailgun", "integrationId": integration.id}, "Where is my order?") == (
        {k: v for k, v in message["message"]["source"].items() if k in ("type", "integrationId")},
        message["message"]["content"]["text"])

    answer = reply(http, app_id, message["conversation"]["id"], {"type": "text", "text": "It left today.",
                                                                 "actions": [{"type": "link", "text": "Track",
                                                                              "uri": "https://shop.example/t"}]})
    [sent] = mailgun.wait_sent(domain, 1)
    assert (PERSON, f"help@{domain}", "It left today.\nTrack: https://shop.example/t") == (
        sent.body["to"], sent.body["from"], sent.body["text"].split("\n\n--")[0])
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 1)
    channel = by_type(events, "conversation:message:delivery:channel")[0]["payload"]
    assert (answer, [{"id": sent.message_id}], False) == (
        channel["message"]["id"], channel["externalMessages"], channel["isFinalEvent"])

    assert 200 == channel_fakes.deliver(mailgun.event(sent, "delivered")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:user")) == 1)
    user = by_type(events, "conversation:message:delivery:user")[0]["payload"]
    assert (answer, {"type": "mailgun", "integrationId": integration.id}, True) == (
        user["message"]["id"], user["destination"], user["isFinalEvent"])

    second = reply(http, app_id, message["conversation"]["id"], {"type": "text", "text": "Anything else?"})
    later = mailgun.wait_sent(domain, 2)[1]
    receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:channel")) == 2)
    assert 200 == channel_fakes.deliver(mailgun.event(later, "failed", reason="suppress-unsubscribe")).status_code
    events = receiver.wait_for(lambda got: len(by_type(got, "conversation:message:delivery:failure")) == 1)
    failure = by_type(events, "conversation:message:delivery:failure")[0]["payload"]
    assert (second, "mailgun_suppress_unsubscribe") == (failure["message"]["id"], failure["error"]["code"])


def test_a_forged_or_stale_email_writes_nothing(server: Server, app_id: str, account: sc.ApiClient,
                                               mailgun_account: tuple[str, str, str], mailgun: FakeMailgun) -> None:
    make_integration(account, app_id, mailgun_account)
    address = f"help@{mailgun_account[2]}"
    real = mailgun.incoming(address, sender=PERSON, text="hello")
    other_key = mailgun.incoming(address, sender=PERSON, text="hello", signing_key="not-the-key")
    old = FakeMailgun(clock=lambda: 1_000_000_000.0)
    old.accounts = mailgun.accounts
    stale = old.incoming(address, sender=PERSON, text="hello")
    assert [401, 401] == [channel_fakes.deliver(one).status_code for one in (other_key, stale)]
    assert 0 == row_count(server.database_url, tables.users, app_id)
    assert 200 == channel_fakes.deliver(real).status_code
    # The signature covers the timestamp and token, not the body: the same token again, whatever its body,
    # adds nothing; even the token of a request that had nothing to take in
    replayed = dataclasses.replace(real, body=real.body.replace(b"hello", b"refund").replace(b"@mail", b"@evil"))
    empty = mailgun.incoming(address, sender=PERSON, text="", subject="")
    planted = dataclasses.replace(empty, body=empty.body.replace(b"stripped-text=", b"stripped-text=wire+money"))
    assert [200, 200, 200] == [channel_fakes.deliver(one).status_code for one in (replayed, empty, planted)]
    messages = sa.select(tables.messages.c.content).join(
        tables.conversations, tables.conversations.c.id == tables.messages.c.conversation_id).where(
        tables.conversations.c.app_id == app_id)
    assert (1, [{"type": "text", "text": "hello"}]) == (row_count(server.database_url, tables.users, app_id),
                                                       [row[0] for row in in_database(server.database_url, messages)])
