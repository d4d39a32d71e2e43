"""Every change writes its webhook events to the outbox in its own transaction.

Webhooks are inserted straight into the database (a custom integration with one webhook), then
each operation goes through the official SDK and the `events` and `deliveries` tables are read.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.ids import IdFactory
from heliograph.store import tables as t
from tests.conftest import Server
from tests.spec import event_errors
from tests.utils import MISSING_ID, in_database, make_conversation, make_user, post, sdk_error, text

ALL = ["conversation:create", "conversation:join", "conversation:leave", "conversation:remove",
       "conversation:message", "conversation:read", "conversation:typing", "user:update", "user:remove"]
TARGET = "http://127.0.0.1:9/hook"  # nothing listens: these tests read the outbox, not the wire
API_SOURCE = {"type": "api:conversations"}
_ids = IdFactory()


def subscribe(server: Server, app_id: str, triggers: list[str]) -> str:
    """A custom integration with one webhook subscribed to `triggers`; the webhook's id."""
    integration_id, now = _ids.new_at()
    in_database(server.database_url, t.integrations.insert().values(
        id=integration_id, app_id=app_id, type="custom", status="active", display_name="Events", config={},
        created_at=now))
    webhook_id = _ids.new()
    in_database(server.database_url, t.webhooks.insert().values(
        id=webhook_id, app_id=app_id, integration_id=integration_id, target=TARGET, triggers=triggers,
        secret=secrets.token_hex(16), include_full_user=False, include_full_source=False, created_at=now))
    return webhook_id


def outbox(server: Server, app_id: str) -> list[dict[str, Any]]:
    """The app's stored event bodies in the order they were emitted; each checked against the spec."""
    rows = in_database(server.database_url, sa.select(t.events.c.type, t.events.c.body)
                       .where(t.events.c.app_id == app_id).order_by(t.events.c.id))
    for row in rows:
        assert (row.type, []) == (row.body["type"], event_errors(row.body))
    return [row.body for row in rows]


def deliveries(server: Server, event_id: str) -> list[tuple[str, str]]:
    """(webhook id, lane) of each delivery of the event, by webhook id."""
    d = t.deliveries
    rows = in_database(server.database_url, sa.select(d.c.webhook_id, d.c.lane).where(d.c.event_id == event_id)
                       .order_by(d.c.webhook_id))
    return [(row.webhook_id, row.lane) for row in rows]


def types(server: Server, app_id: str) -> list[str]:
    return [body["type"] for body in outbox(server, app_id)]


def wire_user(http: httpx.Client, app_id: str, user_id: str) -> dict[str, Any]:
    """The user as GetUser returns it, without identities: the full user of a webhook payload."""
    user = http.get(f"/v2/apps/{app_id}/users/{user_id}").json()["user"]
    del user["identities"]
    return dict(user)


def truncated(user: sc.User) -> dict[str, Any]:
    return {"id": user.id, "externalId": user.external_id}


def post_raw(account: sc.ApiClient, app_id: str, conversation_id: str, author: sc.Author) -> dict[str, Any]:
    """PostMessage through the SDK; the message exactly as the server sent it."""
    body = sc.MessagePost(author=author, content=text("Hi"), metadata={"n": 1})
    response = sc.MessagesApi(account).post_message_with_http_info(app_id, conversation_id, body)
    return dict(json.loads(response.raw_data)["messages"][0])


def activity(account: sc.ApiClient, app_id: str, conversation_id: str, kind: str,
             author: sc.Author | None = None) -> None:
    body = sc.ActivityPost(type=kind, author=author or sc.Author(type="business"))
    sc.ActivitiesApi(account).post_activity(app_id, conversation_id, body)


def group(account: sc.ApiClient, app_id: str, *users: sc.User) -> sc.Conversation:
    return make_conversation(account, app_id, *users, kind="sdkGroup")


# --- conversation:create -----------------------------------------------------------------------

def test_personal_conversation_create(account: sc.ApiClient, app_id: str, server: Server,
                                      http: httpx.Client) -> None:
    """CreateConversation (personal) emits conversation:create with reason none, the API source and the full user."""
    hook = subscribe(server, app_id, ALL)
    user = make_user(account, app_id, external_id="ana", profile=sc.Profile(given_name="Ana"), metadata={"v": 1})
    conversation = make_conversation(account, app_id, user, metadata={"lang": "en"})
    [body] = outbox(server, app_id)
    expected = {"conversation": {"id": conversation.id, "type": "personal", "metadata": {"lang": "en"}},
                "creationReason": "none", "source": API_SOURCE, "user": wire_user(http, app_id, user.id)}
    assert ("conversation:create", expected) == (body["type"], body["payload"])
    assert [(hook, conversation.id)] == deliveries(server, body["id"])


def test_group_conversation_create_has_no_user_and_no_join(account: sc.ApiClient, app_id: str,
                                                           server: Server) -> None:
    """An sdkGroup created with participants emits one conversation:create without a user, and no joins."""
    subscribe(server, app_id, ALL)
    users = [make_user(account, app_id, external_id=name) for name in ("a", "b")]
    conversation = group(account, app_id, *users)
    expected = [{"conversation": {"id": conversation.id, "type": "sdkGroup"}, "creationReason": "none",
                 "source": API_SOURCE}]
    assert expected == [body["payload"] for body in outbox(server, app_id)]


# --- conversation:message ----------------------------------------------------------------------

def test_business_message(account: sc.ApiClient, app_id: str, server: Server, user: sc.User) -> None:
    """A business message emits conversation:message: the truncated conversation and the message as returned."""
    conversation = make_conversation(account, app_id, user, metadata={"lang": "en"})
    hook = subscribe(server, app_id, ["conversation:message"])
    message = post_raw(account, app_id, conversation.id, sc.Author(type="business", display_name="Bot"))
    [body] = outbox(server, app_id)
    expected = {"conversation": {"id": conversation.id, "type": "personal", "metadata": {"lang": "en"}},
                "message": message}
    assert ("conversation:message", expected) == (body["type"], body["payload"])
    assert [(hook, conversation.id)] == deliveries(server, body["id"])


def test_user_message_carries_the_full_user(account: sc.ApiClient, app_id: str, server: Server,
                                            http: httpx.Client, user: sc.User, conversation_id: str) -> None:
    """A user message's author is the returned author plus `user`, the full user."""
    subscribe(server, app_id, ["conversation:message"])
    message = post_raw(account, app_id, conversation_id, sc.Author(type="user", user_id=user.id))
    [body] = outbox(server, app_id)
    author = {**message["author"], "user": wire_user(http, app_id, user.id)}
    assert {"conversation": {"id": conversation_id, "type": "personal"},
            "message": {**message, "author": author}} == body["payload"]


def test_only_subscribed_webhooks_get_a_delivery(account: sc.ApiClient, app_id: str, server: Server,
                                                 user: sc.User, conversation_id: str) -> None:
    """One event per change; one delivery per webhook subscribed to its type, none for the others."""
    hooks = sorted([subscribe(server, app_id, ["conversation:message"]),
                    subscribe(server, app_id, ["conversation:message", "user:remove"])])
    other = subscribe(server, app_id, ["conversation:create"])
    post(account, app_id, conversation_id, text("Hi"))
    second = make_conversation(account, app_id, user)
    message, create = outbox(server, app_id)
    assert [(hook, conversation_id) for hook in hooks] == deliveries(server, message["id"])
    assert [(other, second.id)] == deliveries(server, create["id"])


def test_no_subscriber_no_event(account: sc.ApiClient, app_id: str, server: Server, user: sc.User,
                                conversation_id: str) -> None:
    """A change no webhook of the app listens to stores no event at all."""
    subscribe(server, app_id, ["user:remove"])
    post(account, app_id, conversation_id, text("Hi"))
    make_conversation(account, app_id, user)
    assert [] == outbox(server, app_id)


def test_failed_requests_write_no_event(account: sc.ApiClient, app_id: str, server: Server, user: sc.User,
                                        conversation_id: str) -> None:
    """A refused request (400, 404, 409), even one refused after a first write, leaves no event behind."""
    stranger = make_user(account, app_id, external_id="stranger")
    group_id = group(account, app_id, user).id
    subscribe(server, app_id, ALL)
    messages, participants = sc.MessagesApi(account), sc.ParticipantsApi(account)
    failures = [
        lambda: messages.post_message(app_id, conversation_id, sc.MessagePost(  # after the message is counted
            author=sc.Author(type="user", user_id=stranger.id), content=text("Hi"))),
        lambda: messages.post_message(app_id, conversation_id, sc.MessagePost(
            author=sc.Author(type="user"), content=text("Hi"))),
        lambda: messages.post_message(app_id, MISSING_ID, sc.MessagePost(
            author=sc.Author(type="business"), content=text("Hi"))),
        lambda: participants.join_conversation(app_id, group_id, sc.ParticipantJoinBody(
            user_id=user.id, subscribe_sdk_client=False)),
        lambda: participants.leave_conversation(app_id, group_id, sc.ParticipantLeaveBody(
            sc.ParticipantLeaveBodyUserId(user_id=stranger.id))),
        lambda: sc.ConversationsApi(account).delete_conversation(app_id, conversation_id),
        lambda: sc.UsersApi(account).delete_user(app_id, MISSING_ID),
        lambda: activity(account, app_id, conversation_id, "conversation:read",
                         sc.Author(type="user", user_id=stranger.id)),
    ]
    statuses = []
    for call in failures:
        with pytest.raises(sc.ApiException) as raised:
            call()
        statuses.append(sdk_error(raised)[0])
    assert ([400, 400, 404, 409, 404, 400, 404, 400], []) == (statuses, outbox(server, app_id))


# --- participants ------------------------------------------------------------------------------

def test_join_and_leave(account: sc.ApiClient, app_id: str, server: Server, user: sc.User) -> None:
    """JoinConversation emits conversation:join and LeaveConversation conversation:leave, with the truncated user."""
    conversation = group(account, app_id)
    hook = subscribe(server, app_id, ALL)
    participants = sc.ParticipantsApi(account)
    participants.join_conversation(app_id, conversation.id, sc.ParticipantJoinBody(
        user_id=user.id, subscribe_sdk_client=False))
    participants.leave_conversation(app_id, conversation.id, sc.ParticipantLeaveBody(
        sc.ParticipantLeaveBodyUserExternalId(user_external_id="ana")))
    payload = {"conversation": {"id": conversation.id, "type": "sdkGroup"}, "user": truncated(user)}
    bodies = outbox(server, app_id)
    assert [("conversation:join", payload), ("conversation:leave", payload)] == [
        (body["type"], body["payload"]) for body in bodies]
    assert [[(hook, conversation.id)]] * 2 == [deliveries(server, body["id"]) for body in bodies]


# --- removals ----------------------------------------------------------------------------------

def test_delete_conversation(account: sc.ApiClient, app_id: str, server: Server, user: sc.User,
                             conversation_id: str) -> None:
    """DeleteConversation emits conversation:remove with the truncated conversation."""
    second = make_conversation(account, app_id, user, metadata={"lang": "en"})
    subscribe(server, app_id, ALL)
    sc.ConversationsApi(account).delete_conversation(app_id, second.id)
    expected = [("conversation:remove", {"conversation": {"id": second.id, "type": "personal",
                                                          "metadata": {"lang": "en"}}})]
    assert expected == [(body["type"], body["payload"]) for body in outbox(server, app_id)]


def test_delete_user(account: sc.ApiClient, app_id: str, server: Server, user: sc.User,
                     conversation_id: str) -> None:
    """DeleteUser removes the personal conversations, leaves the groups, then emits user:remove, each in its lane."""
    second = make_conversation(account, app_id, user)
    conversation = group(account, app_id, user, make_user(account, app_id, external_id="bo"))
    hook = subscribe(server, app_id, ALL)
    sc.UsersApi(account).delete_user(app_id, user.id)
    bodies = outbox(server, app_id)
    expected = [
        ("conversation:remove", {"conversation": {"id": conversation_id, "type": "personal"}}, conversation_id),
        ("conversation:remove", {"conversation": {"id": second.id, "type": "personal"}}, second.id),
        ("conversation:leave", {"conversation": {"id": conversation.id, "type": "sdkGroup"},
                                "user": truncated(user)}, conversation.id),
        ("user:remove", {"user": truncated(user)}, user.id),
    ]
    assert expected == [(body["type"], body["payload"], deliveries(server, body["id"])[0][1]) for body in bodies]
    assert [[hook]] * 4 == [[h for h, _lane in deliveries(server, body["id"])] for body in bodies]


# --- activities --------------------------------------------------------------------------------

def test_activities(account: sc.ApiClient, app_id: str, server: Server, http: httpx.Client, user: sc.User,
                    conversation_id: str) -> None:
    """A user's read emits conversation:read, business typing conversation:typing; the business's read nothing."""
    subscribe(server, app_id, ALL)
    activity(account, app_id, conversation_id, "conversation:read", sc.Author(type="user", user_id=user.id))
    activity(account, app_id, conversation_id, "typing:start")
    activity(account, app_id, conversation_id, "typing:stop")
    activity(account, app_id, conversation_id, "conversation:read")
    conversation = {"id": conversation_id, "type": "personal"}
    reader = {"type": "user", "userId": user.id, "user": wire_user(http, app_id, user.id)}
    expected = [("conversation:read", {"conversation": conversation, "activity": {
        "type": "conversation:read", "author": reader, "source": API_SOURCE}})] + [
        ("conversation:typing", {"conversation": conversation, "activity": {
            "type": kind, "author": {"type": "business"}, "source": API_SOURCE}}) for kind in ("typing:start",
                                                                                            "typing:stop")]
    assert expected == [(body["type"], body["payload"]) for body in outbox(server, app_id)]


# --- users -------------------------------------------------------------------------------------

def test_user_changes_emit_no_user_update(account: sc.ApiClient, app_id: str, server: Server, user: sc.User) -> None:
    """CreateUser, UpdateUser and DeleteUserPersonalInformation change no identification: no user:update."""
    subscribe(server, app_id, ALL)
    users = sc.UsersApi(account)
    make_user(account, app_id, external_id="new")
    users.update_user(app_id, user.id, sc.UserUpdateBody(profile=sc.Profile(given_name="Ana"), metadata={"a": 1}))
    users.delete_user_personal_information(app_id, user.id)
    assert [] == outbox(server, app_id)
