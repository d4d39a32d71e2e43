"""Webhook event payloads: each builder against the spec's event schema, and per-webhook rendering."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from heliograph.events import payloads as events
from tests.spec import event_errors

CONVERSATION = {"id": "c" * 24, "type": "personal", "metadata": {"lang": "en"}}
GROUP = {"id": "d" * 24, "type": "sdkGroup", "metadata": None}
USER = {"id": "a" * 24, "external_id": "ana", "zendesk_id": None, "brand_id": "9477922990333",
        "signed_up_at": 1_600_000_000_000, "to_be_retained": True,
        "profile": {"givenName": "Ana", "email": "ana@example.org", "locale": "en"}, "metadata": {"tier": "gold"}}
FULL_USER = {"id": "a" * 24, "externalId": "ana", "brandId": "9477922990333", "signedUpAt": "2020-09-13T12:26:40.000Z",
             "toBeRetained": True, "profile": {"givenName": "Ana", "email": "ana@example.org", "locale": "en"},
             "metadata": {"tier": "gold"}}
TRUNCATED_USER = {"id": "a" * 24, "externalId": "ana", "brandId": "9477922990333"}
MESSAGE = {"id": "e" * 24, "received": "2020-09-30T18:00:56.820Z", "author": {"type": "business"},
           "content": {"type": "text", "text": "hello"}, "source": {"type": "api:conversations"}}


def event(type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A stored event body, as the outbox keeps it."""
    return {"id": "f" * 24, "type": type, "createdAt": "2020-09-30T18:00:56.821Z", "payload": payload}


def user_message(author_fields: dict[str, Any] | None = None) -> dict[str, Any]:
    author = {"type": "user", "userId": USER["id"], "displayName": "Ana", **(author_fields or {})}
    return {**MESSAGE, "author": author}


EVERY_EVENT = [
    event("conversation:create", events.conversation_create(CONVERSATION, USER)),
    event("conversation:create", events.conversation_create(GROUP, None)),
    event("conversation:join", events.conversation_participant(GROUP, USER)),
    event("conversation:leave", events.conversation_participant(GROUP, USER)),
    event("conversation:remove", events.conversation_remove(CONVERSATION)),
    event("conversation:message", events.conversation_message(CONVERSATION, MESSAGE, None)),
    event("conversation:message", events.conversation_message(CONVERSATION, user_message(), USER)),
    event("conversation:read", events.conversation_activity(CONVERSATION, "conversation:read", "user", USER)),
    event("conversation:typing", events.conversation_activity(GROUP, "typing:start", "business", None)),
    event("user:remove", events.user_remove(USER)),
]


@pytest.mark.parametrize("body", EVERY_EVENT, ids=[b["type"] for b in EVERY_EVENT])
@pytest.mark.parametrize("full", [True, False], ids=["full", "reduced"])
def test_every_payload_matches_the_spec(body: dict[str, Any], full: bool) -> None:
    """Every built event, stored or rendered for a webhook without the full options, matches its spec schema."""
    rendered = events.for_webhook(body, include_full_user=full, include_full_source=full)
    assert [] == event_errors(rendered)


def test_conversation_truncated_keeps_metadata_only_when_set() -> None:
    """conversationTruncated is id, type and metadata; a conversation without metadata omits it."""
    assert {"id": "c" * 24, "type": "personal", "metadata": {"lang": "en"}} == events.conversation(CONVERSATION)
    assert {"id": "d" * 24, "type": "sdkGroup"} == events.conversation(GROUP)


def test_conversation_create_for_a_personal_conversation() -> None:
    """conversation:create names the conversation, reason none, the API source and the full user."""
    expected = {"conversation": {"id": "c" * 24, "type": "personal", "metadata": {"lang": "en"}},
                "creationReason": "none", "source": {"type": "api:conversations"}, "user": FULL_USER}
    assert expected == events.conversation_create(CONVERSATION, USER)


def test_conversation_create_for_a_group_has_no_user() -> None:
    """An sdkGroup's conversation:create carries no user (the spec: fetch the participants instead)."""
    expected = {"conversation": {"id": "d" * 24, "type": "sdkGroup"}, "creationReason": "none",
                "source": {"type": "api:conversations"}}
    assert expected == events.conversation_create(GROUP, None)


def test_join_and_leave_carry_the_truncated_user() -> None:
    """conversation:join / conversation:leave carry the conversation and the userTruncated user."""
    expected = {"conversation": {"id": "d" * 24, "type": "sdkGroup"}, "user": TRUNCATED_USER}
    assert expected == events.conversation_participant(GROUP, USER)


def test_remove_events() -> None:
    """conversation:remove names the conversation; user:remove the truncated user."""
    assert {"conversation": {"id": "d" * 24, "type": "sdkGroup"}} == events.conversation_remove(GROUP)
    assert {"user": TRUNCATED_USER} == events.user_remove(USER)


def test_business_message_is_the_wire_message() -> None:
    """A business message's event holds the message as the API returned it, with no user."""
    expected = {"conversation": {"id": "c" * 24, "type": "personal", "metadata": {"lang": "en"}}, "message": MESSAGE}
    assert expected == events.conversation_message(CONVERSATION, MESSAGE, None)


def test_user_message_author_carries_the_full_user() -> None:
    """A user author keeps its stored fields and gains `user`, the full user (authorWebhook)."""
    payload = events.conversation_message(CONVERSATION, user_message({"subtypes": ["AI"]}), USER)
    expected = {"type": "user", "userId": USER["id"], "displayName": "Ana", "subtypes": ["AI"], "user": FULL_USER}
    assert expected == payload["message"]["author"]


def test_activities() -> None:
    """Activities carry their type, an authorWebhook and the API source; typing maps to conversation:typing."""
    read = events.conversation_activity(CONVERSATION, "conversation:read", "user", USER)
    typing = events.conversation_activity(GROUP, "typing:stop", "business", None)
    assert {"type": "conversation:read", "source": {"type": "api:conversations"},
            "author": {"type": "user", "userId": USER["id"], "user": FULL_USER}} == read["activity"]
    assert {"type": "typing:stop", "source": {"type": "api:conversations"},
            "author": {"type": "business"}} == typing["activity"]
    assert (["conversation:typing", "conversation:typing", "conversation:read"]
            == [events.activity_trigger(t) for t in ("typing:start", "typing:stop", "conversation:read")])


# --- for_webhook ------------------------------------------------------------------------------

FULL_SOURCE = {"type": "messenger", "integrationId": "b" * 24, "client": {"id": "1" * 24, "type": "messenger"},
               "device": {"id": "2" * 24, "type": "web"}}
SOURCE = {"type": "messenger", "integrationId": "b" * 24}
STORED_USER = {**FULL_USER, "authenticated": True, "zendeskId": "30045042291606"}
REDUCED_USER = {"id": "a" * 24, "externalId": "ana", "authenticated": True, "zendeskId": "30045042291606",
                "brandId": "9477922990333"}


def rich_message() -> dict[str, Any]:
    """A stored message event whose user, source and metadata all have something to cut."""
    message = {**MESSAGE, "author": {"type": "user", "userId": USER["id"], "user": STORED_USER},
               "source": FULL_SOURCE, "metadata": {"user": "not a user object", "client": "kept"}}
    return event("conversation:message", {"conversation": events.conversation(CONVERSATION), "message": message})


def test_without_full_user_the_author_is_truncated() -> None:
    """Without includeFullUser the author's user keeps only the userTruncated fields."""
    rendered = events.for_webhook(rich_message(), include_full_user=False, include_full_source=True)
    assert REDUCED_USER == rendered["payload"]["message"]["author"]["user"]
    assert FULL_SOURCE == rendered["payload"]["message"]["source"]


def test_without_full_source_client_and_device_go() -> None:
    """Without includeFullSource the message source loses client and device, and nothing else."""
    rendered = events.for_webhook(rich_message(), include_full_user=True, include_full_source=False)
    assert SOURCE == rendered["payload"]["message"]["source"]
    assert STORED_USER == rendered["payload"]["message"]["author"]["user"]


def test_with_both_options_the_body_is_as_stored() -> None:
    """A webhook with includeFullUser and includeFullSource receives the stored body unchanged."""
    assert rich_message() == events.for_webhook(rich_message(), include_full_user=True, include_full_source=True)


def test_rendering_leaves_the_stored_body_and_other_fields_alone() -> None:
    """for_webhook copies what it cuts: the stored body is untouched, metadata and content are never cut."""
    stored = rich_message()
    before = copy.deepcopy(stored)
    rendered = events.for_webhook(stored, include_full_user=False, include_full_source=False)
    assert before == stored
    message = rendered["payload"]["message"]
    assert ({"user": "not a user object", "client": "kept"}, MESSAGE["content"], MESSAGE["id"]) == (
        message["metadata"], message["content"], message["id"])
    assert ({k: before[k] for k in ("id", "type", "createdAt")}
            == {k: rendered[k] for k in ("id", "type", "createdAt")})


@pytest.mark.parametrize("path", [("user",), ("activity", "author", "user")])
def test_every_user_place_is_reduced(path: tuple[str, ...]) -> None:
    """The payload's own user (conversation:create) and an activity author's user are reduced too."""
    payload: dict[str, Any] = {"conversation": events.conversation(CONVERSATION)}
    node = payload
    for key in path[:-1]:
        node = node.setdefault(key, {"type": "user"} if key == "author" else {"type": "conversation:read"})
    node[path[-1]] = STORED_USER
    rendered = events.for_webhook(event("conversation:read", payload), include_full_user=False,
                                  include_full_source=True)
    found = rendered["payload"]
    for key in path:
        found = found[key]
    assert REDUCED_USER == found


@pytest.mark.parametrize("path", [("source",), ("activity", "source")])
def test_every_source_place_is_reduced(path: tuple[str, ...]) -> None:
    """The payload's own source and an activity's source lose client and device too."""
    payload: dict[str, Any] = {"conversation": events.conversation(CONVERSATION)}
    if len(path) == 2:
        payload["activity"] = {"type": "typing:start", "author": {"type": "business"}}
    (payload["activity"] if len(path) == 2 else payload)["source"] = FULL_SOURCE
    rendered = events.for_webhook(event("conversation:typing", payload), include_full_user=True,
                                  include_full_source=False)
    found = rendered["payload"]
    for key in path:
        found = found[key]
    assert SOURCE == found
