"""Webhook delivery end to end: the official SDK sets up a custom integration, a real receiver on
loopback gets the events, checked against the spec's EventWebhooks schema."""

from __future__ import annotations

import json

import httpx
import sunshine_conversations_client as sc

from tests.conftest import Server
from tests.delivery import cli
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.spec import event_payload_validator
from tests.utils import eventually, make_conversation, make_user, post, text


def test_message_events_reach_the_receiver_with_the_secret(account: sc.ApiClient, app_id: str,
                                                           receiver: Receiver) -> None:
    """Each posted message arrives as conversation:message, with X-API-Key set to the webhook secret."""
    _, webhook = custom_integration(account, app_id, receiver.url, ["conversation:message"])
    user = make_user(account, app_id, external_id="ana")
    conversation = make_conversation(account, app_id, user)
    sent = [post(account, app_id, conversation.id, text(f"hello {n}")).id for n in range(3)]
    events = receiver.wait_for(lambda got: len(got) >= 3)
    assert sent == [e["payload"]["message"]["id"] for e in events]
    assert {"conversation:message"} == {e["type"] for e in events}
    validator = event_payload_validator()
    for request in receiver.requests:
        assert webhook.secret == request.headers["x-api-key"]
        assert {"id": app_id} == request.body["app"]
        assert {"id": webhook.id, "version": "v2"} == request.body["webhook"]
        assert [] == [error.message for error in validator.iter_errors(request.body)]


def test_only_subscribed_triggers_are_delivered(account: sc.ApiClient, app_id: str, receiver: Receiver) -> None:
    """A webhook subscribed to conversation:create gets that, and no message events."""
    custom_integration(account, app_id, receiver.url, ["conversation:create"])
    user = make_user(account, app_id, external_id="ana")
    conversation = make_conversation(account, app_id, user)
    post(account, app_id, conversation.id, text("not for this webhook"))
    second = make_conversation(account, app_id, make_user(account, app_id, external_id="bo"))
    events = receiver.wait_for(lambda got: len(got) >= 2)
    assert [("conversation:create", conversation.id), ("conversation:create", second.id)] == [
        (e["type"], e["payload"]["conversation"]["id"]) for e in events]


def test_failed_delivery_is_visible_and_redeliverable(server: Server, account: sc.ApiClient, app_id: str,
                                                      http: httpx.Client) -> None:
    """A 404 from the target fails the delivery at once; the admin API shows it and sends it again."""
    receiver = Receiver(status=404)
    try:
        _, webhook = custom_integration(account, app_id, receiver.url, ["conversation:message"])
        conversation = make_conversation(account, app_id, make_user(account, app_id, external_id="ana"))
        post(account, app_id, conversation.id, text("hello"))
        [event] = receiver.wait_for(lambda got: len(got) >= 1)
        failed = eventually(lambda: http.get(f"/admin/webhooks/{webhook.id}/deliveries",
                                             params={"status": "failed"}).json()["deliveries"])
        assert [(event["id"], 1, "HTTP 404")] == [(d["eventId"], d["attempts"], d["lastError"]) for d in failed]
        shown = http.get(f"/admin/deliveries/{failed[0]['id']}").json()["delivery"]
        assert [404] == [a["statusCode"] for a in shown["attemptLog"]]
        receiver.status = 200
        assert 200 == http.post(f"/admin/deliveries/{failed[0]['id']}/redeliver").status_code
        again = receiver.wait_for(lambda got: len(got) >= 2)
        assert [event["id"], event["id"]] == [e["id"] for e in again]
    finally:
        receiver.stop()


def test_admin_endpoints_need_the_account_key(server: Server, account: sc.ApiClient, app_id: str) -> None:
    """The delivery admin API refuses requests without credentials and unknown deliveries are 404."""
    assert 401 == httpx.get(server.base_url + "/admin/deliveries/1").status_code
    unknown = httpx.get(server.base_url + "/admin/deliveries/999999999", auth=server.account_key)
    assert (404, "not_found") == (unknown.status_code, unknown.json()["errors"][0]["code"])


def test_a_hanging_target_does_not_hold_up_the_api(account: sc.ApiClient, app_id: str,
                                                  receiver: Receiver) -> None:
    """While a delivery waits on a target that does not answer, the API goes on serving writes."""
    receiver.hold.clear()  # the receiver takes requests but does not answer them
    custom_integration(account, app_id, receiver.url, ["conversation:message"])
    conversation = make_conversation(account, app_id, make_user(account, app_id, external_id="ana"))
    first = post(account, app_id, conversation.id, text("first")).id
    receiver.wait_for(lambda got: len(got) >= 1)  # the delivery is now in flight, unanswered
    later = [post(account, app_id, conversation.id, text(f"later {n}")).id for n in range(20)]
    listed = sc.MessagesApi(account).list_messages(app_id, conversation.id).messages
    assert [first, *later] == [m.id for m in listed]
    assert 1 == len(receiver.requests)  # the conversation's next deliveries wait for the first
    receiver.hold.set()
    events = receiver.wait_for(lambda got: len({e["id"] for e in got}) >= 21)
    assert [first, *later] == list(dict.fromkeys(e["payload"]["message"]["id"] for e in events))


def test_deliveries_command_lists_and_redelivers(server: Server, account: sc.ApiClient, app_id: str) -> None:
    """`heliograph deliveries list/show/redeliver` shows a failed delivery and sends it again."""
    receiver = Receiver(status=406)
    try:
        _, webhook = custom_integration(account, app_id, receiver.url, ["conversation:message"])
        conversation = make_conversation(account, app_id, make_user(account, app_id, external_id="ana"))
        post(account, app_id, conversation.id, text("hello"))
        [event] = receiver.wait_for(lambda got: len(got) >= 1)
        failed = eventually(lambda: cli(server.database_url, "list", webhook.id, "--status", "failed").splitlines())
        delivery = json.loads(failed[0])
        assert (event["id"], "failed", "HTTP 406") == (delivery["eventId"], delivery["status"], delivery["lastError"])
        shown = json.loads(cli(server.database_url, "show", str(delivery["id"])))
        assert ([406], event) == ([a["statusCode"] for a in shown["attemptLog"]], shown["event"])
        receiver.status = 200
        assert "pending" == json.loads(cli(server.database_url, "redeliver", str(delivery["id"])))["status"]
        again = receiver.wait_for(lambda got: len(got) >= 2)
        assert [event["id"]] * 2 == [e["id"] for e in again]
    finally:
        receiver.stop()
