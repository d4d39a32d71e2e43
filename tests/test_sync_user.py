"""SyncUser through the official SDK: a Zendesk user merge applied to the messaging users (user:merge).

A zendeskId comes from a Help Center login, which Heliograph does not have: the tests link users as
that login would, straight in the database."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.conftest import Server
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.seeding import add_device, link_zendesk
from tests.servers import run_cli
from tests.spec import event_payload_validator
from tests.utils import make_conversation, post, sdk_error, text


def zendesk_user(server: Server, http: httpx.Client, app_id: str, zendesk_id: str, **fields: Any) -> sc.User:
    """A user (made over HTTP: the SDK insists on an externalId) linked to a Zendesk user."""
    response = http.post(f"/v2/apps/{app_id}/users", json=fields)
    assert 201 == response.status_code, response.text
    user_id = response.json()["user"]["id"]
    link_zendesk(server.database_url, user_id, zendesk_id)
    return sc.User.from_dict({**response.json()["user"], "zendeskId": zendesk_id})


def present(model: Any) -> dict[str, Any]:
    """An SDK model as the wire object it was read from (the SDK adds nulls for absent nullable fields)."""
    return {k: v for k, v in model.to_dict().items() if v is not None}


def sync(account: sc.ApiClient, app_id: str, zendesk_id: str, surviving: str | None = None) -> sc.User:
    body = None if surviving is None else sc.SyncUserBody(surviving_zendesk_id=surviving)
    return sc.UsersApi(account).sync_user(app_id, zendesk_id, body).user


def join(account: sc.ApiClient, app_id: str, group_id: str, user: sc.User) -> list[dict[str, Any]]:
    body = sc.ParticipantJoinBody(user_id=user.id, subscribe_sdk_client=True)
    participant = sc.ParticipantsApi(account).join_conversation(app_id, group_id, body).participant
    return [a.to_dict() for a in participant.client_associations]


def merge_event(receiver: Receiver) -> dict[str, Any]:
    [event] = receiver.wait_for(lambda got: len(got) >= 1)
    assert "user:merge" == event["type"]
    assert [] == [e.message for e in event_payload_validator().iter_errors(receiver.requests[0].body)]
    return dict(event["payload"])


def test_merge_moves_everything_to_the_surviving_user(server: Server, account: sc.ApiClient, http: httpx.Client,
                                                      app_id: str, receiver: Receiver) -> None:
    """The path's user is merged into the survivor: profile gaps, metadata, externalId, default conversation
    (messages and authorship), group memberships and clients move over; the discarded user is gone."""
    custom_integration(account, app_id, receiver.url, ["user:merge"])
    gone = zendesk_user(server, http, app_id, "1", externalId="ana", metadata={"tier": "gold", "shared": "a"},
                        profile={"givenName": "Ana", "email": "ana@example.org"})
    kept = zendesk_user(server, http, app_id, "2", metadata={"shared": "b"}, profile={"surname": "Silva"})
    gone_conversation = make_conversation(account, app_id, gone).id
    first = post(account, app_id, gone_conversation, text("to Ana")).id
    second = post(account, app_id, gone_conversation, text("from Ana"), sc.Author(type="user", user_id=gone.id)).id
    kept_conversation = make_conversation(account, app_id, kept).id
    third = post(account, app_id, kept_conversation, text("to Silva")).id
    group = make_conversation(account, app_id, kind="sdkGroup").id
    associations = join(account, app_id, group, gone)

    merged = sync(account, app_id, "1", surviving="2")

    assert (kept.id, "ana", "2", {"givenName": "Ana", "email": "ana@example.org", "surname": "Silva"},
            {"shared": "b", "tier": "gold"}) == (merged.id, merged.external_id, merged.zendesk_id,
                                                 present(merged.profile), merged.metadata)
    assert merged.to_dict() == sc.UsersApi(account).get_user(app_id, "ana").user.to_dict()
    with pytest.raises(sc.ApiException) as exc:
        sc.UsersApi(account).get_user(app_id, gone.id)
    assert (404, "user_not_found") == sdk_error(exc)[:2]
    with pytest.raises(sc.ApiException) as exc:
        sc.ConversationsApi(account).get_conversation(app_id, gone_conversation)
    assert 404 == sdk_error(exc)[0]
    messages = sc.MessagesApi(account).list_messages(app_id, kept_conversation).messages
    assert [first, second, third] == [m.id for m in messages]
    assert kept.id == messages[1].author.user_id
    [member] = sc.ParticipantsApi(account).list_participants(app_id, group).participants
    assert (kept.id, associations) == (member.user_id, [a.to_dict() for a in member.client_associations])
    assert [associations[0]["clientId"]] == [c.id for c in sc.ClientsApi(account).list_clients(app_id, kept.id).clients]
    payload = merge_event(receiver)
    assert ({"surviving": kept.id, "discarded": gone.id}, {"surviving": kept_conversation,
            "discarded": gone_conversation}, "api") == (
        {k: u["id"] for k, u in payload["mergedUsers"].items()},
        {k: c["id"] for k, c in payload["mergedConversations"].items()}, payload["reason"])
    assert {"mergedUsers", "mergedConversations", "reason"} == set(payload)


def test_both_sdk_clients_become_one(server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str,
                                     receiver: Receiver) -> None:
    """When both users have an SDK client, the survivor's is kept: it takes the other's devices and
    conversations, the shared group keeps one participant, and the event names the pair as mergedClients."""
    custom_integration(account, app_id, receiver.url, ["user:merge"])
    gone, kept = zendesk_user(server, http, app_id, "1"), zendesk_user(server, http, app_id, "2")
    group = make_conversation(account, app_id, kind="sdkGroup").id
    [gone_client] = [a["clientId"] for a in join(account, app_id, group, gone)]
    [kept_client] = [a["clientId"] for a in join(account, app_id, group, kept)]
    integration_id = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "web"}).json()["integration"]["id"]
    device_id = add_device(server.database_url, app_id=app_id, user_id=gone.id, client_id=gone_client,
                           integration_id=integration_id, last_seen=1_738_000_000_000)

    sync(account, app_id, "1", surviving="2")

    [member] = sc.ParticipantsApi(account).list_participants(app_id, group).participants
    assert (kept.id, [{"type": "sdk", "clientId": kept_client}]) == (
        member.user_id, [a.to_dict() for a in member.client_associations])
    assert [kept_client] == [c.id for c in sc.ClientsApi(account).list_clients(app_id, kept.id).clients]
    assert [(device_id, kept_client)] == [
        (d.id, d.client_id) for d in sc.DevicesApi(account).list_devices(app_id, kept.id).devices]
    clients = merge_event(receiver)["mergedClients"]
    assert {"surviving": kept_client, "discarded": gone_client} == {k: c["id"] for k, c in clients.items()}


def test_metadata_beyond_4kb_is_discarded_and_reported(server: Server, account: sc.ApiClient, http: httpx.Client,
                                                       app_id: str, receiver: Receiver) -> None:
    """Metadata that would take the survivor past 4 KB stays out, and user:merge lists it as discardedMetadata."""
    custom_integration(account, app_id, receiver.url, ["user:merge"])
    zendesk_user(server, http, app_id, "1", metadata={"extra": "y" * 200, "small": 1})
    zendesk_user(server, http, app_id, "2", metadata={"big": "x" * 3950})
    merged = sync(account, app_id, "1", surviving="2")
    assert {"big": "x" * 3950, "small": 1} == merged.metadata
    assert {"extra": "y" * 200} == merge_event(receiver)["discardedMetadata"]


def test_a_survivor_without_messaging_user_takes_over_the_link(server: Server, account: sc.ApiClient,
                                                               http: httpx.Client, app_id: str) -> None:
    """If no messaging user has survivingZendeskId, the path's user is linked to it instead, and keeps the rest."""
    user = zendesk_user(server, http, app_id, "1", externalId="ana")
    relinked = sync(account, app_id, "1", surviving="3")
    assert {**user.to_dict(), "zendeskId": "3"} == relinked.to_dict()
    with pytest.raises(sc.ApiException) as exc:
        sync(account, app_id, "1", surviving="4")
    assert (404, "user_not_found") == sdk_error(exc)[:2]


def test_sync_without_a_merge_needs_zendesk(server: Server, account: sc.ApiClient, http: httpx.Client,
                                            app_id: str) -> None:
    """Without survivingZendeskId the profile would come from Zendesk Support: a clear 502, nothing changed."""
    user = zendesk_user(server, http, app_id, "1", externalId="ana")
    with pytest.raises(sc.ApiException) as exc:
        sync(account, app_id, "1")
    status, code, title = sdk_error(exc)
    assert (502, "bad_gateway", True) == (status, code, "Zendesk Support" in title)
    assert user.to_dict() == sc.UsersApi(account).get_user(app_id, user.id).user.to_dict()


@pytest.mark.parametrize(("body", "title"), [
    ({"survivingZendeskId": "1"}, "Invalid survivingZendeskId: it must differ from the zendeskId of the path"),
    ({"survivingZendeskId": 2}, "Invalid survivingZendeskId: Expected `str`, got `int`"),
    ({"survivingZendeskId": ""}, "Invalid survivingZendeskId: Expected `str` of length >= 1"),
    ([], "Invalid request body: Expected `object`, got `array`"),
])
def test_sync_refuses_bad_bodies(server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str,
                                 body: Any, title: str) -> None:
    """A survivingZendeskId that is not a different non-empty string is a 400; the user stays."""
    user = zendesk_user(server, http, app_id, "1")
    response = http.post(f"/v2/apps/{app_id}/users/1/sync", json=body)
    assert (400, {"errors": [{"code": "bad_request", "title": title}]}) == (response.status_code, response.json())
    assert "1" == sc.UsersApi(account).get_user(app_id, user.id).user.zendesk_id


def test_sync_of_an_unknown_zendesk_id_or_app_is_404(http: httpx.Client, app_id: str) -> None:
    """No messaging user linked to the zendeskId: 404 user_not_found (app_not_found for an unknown app)."""
    response = http.post(f"/v2/apps/{app_id}/users/35436/sync", json={"survivingZendeskId": "2"})
    assert (404, "user_not_found") == (response.status_code, response.json()["errors"][0]["code"])
    response = http.post("/v2/apps/0123456789abcdef01234567/users/35436/sync", json={})
    assert (404, "app_not_found") == (response.status_code, response.json()["errors"][0]["code"])


def test_operators_link_zendesk_ids_with_the_cli(server: Server, account: sc.ApiClient, app_id: str) -> None:
    """`heliograph users link-zendesk` links a user so SyncUser can reach it; one user per zendeskId."""
    first = sc.UsersApi(account).create_user(app_id, sc.UserCreateBody(external_id="first")).user
    second = sc.UsersApi(account).create_user(app_id, sc.UserCreateBody(external_id="second")).user
    linked = run_cli(server.database_url, "users", "link-zendesk", app_id, "first", "7001")
    assert (0, "7001") == (linked.returncode, json.loads(linked.stdout)["zendeskId"])
    assert "7001" == sc.UsersApi(account).get_user(app_id, first.id).user.zendesk_id
    taken = run_cli(server.database_url, "users", "link-zendesk", app_id, second.id, "7001")
    assert (1, f"zendeskId 7001 is already linked to user {first.id}\n") == (taken.returncode, taken.stderr)
    assert None is sc.UsersApi(account).get_user(app_id, second.id).user.zendesk_id
    unknown = run_cli(server.database_url, "users", "link-zendesk", app_id, "nobody", "7002")
    assert (1, "User not found\n") == (unknown.returncode, unknown.stderr)
