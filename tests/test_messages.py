"""Messages: authors, bad requests, listing pages, the 30,000-message limit, deletion, conversation bookkeeping."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.conftest import Server
from tests.utils import MISSING_ID, make_conversation, make_user, post, sdk_error, seed_messages, text


def _messages(account: sc.ApiClient, app_id: str, conversation_id: str) -> list[sc.Message]:
    return list(sc.MessagesApi(account).list_messages(app_id, conversation_id).messages)


def _texts(messages: list[sc.Message]) -> list[str]:
    return [m.content.actual_instance.text for m in messages]


def _conversation(account: sc.ApiClient, app_id: str, conversation_id: str) -> sc.Conversation:
    return sc.ConversationsApi(account).get_conversation(app_id, conversation_id).conversation


def _raw_post(http: httpx.Client, app_id: str, conversation_id: str, body: Any) -> httpx.Response:
    return http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages", json=body)


# --- PostMessage ----------------------------------------------------------------------------

def test_post_message_answers_201_with_the_message(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """PostMessage answers 201 with {"messages": [one message]} from the api:conversations source."""
    body = sc.MessagePost(author=sc.Author(type="business"), content=text("Hi"), metadata={"lang": "en", "n": 2})
    response = sc.MessagesApi(account).post_message_with_http_info(app_id, conversation_id, body)
    payload = json.loads(response.raw_data)
    assert (201, ["messages"], 1) == (response.status_code, list(payload), len(payload["messages"]))
    message = payload["messages"][0]
    assert {"type": "api:conversations"} == message["source"]
    assert {"lang": "en", "n": 2} == message["metadata"]
    assert {"type": "business"} == message["author"]
    assert [message["id"]] == [m.id for m in _messages(account, app_id, conversation_id)]


def test_business_author_display_fields_are_echoed(account: sc.ApiClient, app_id: str,
                                                   conversation_id: str) -> None:
    """A business author's displayName, avatarUrl and subtypes come back as sent."""
    author = sc.Author(type="business", display_name="Support", avatar_url="https://example.com/a.png",
                       subtypes=["AI"])
    sent = post(account, app_id, conversation_id, text("Hi"), author)
    assert author.to_dict() == sent.author.to_dict()


def test_user_author_by_user_id(account: sc.ApiClient, app_id: str, user: sc.User, conversation_id: str) -> None:
    """A participant can author a message by userId; the author carries the userId."""
    author = sc.Author(type="user", user_id=user.id, display_name="Ana", avatar_url="https://example.com/ana.png")
    sent = post(account, app_id, conversation_id, text("Hello"), author)
    assert ("user", user.id, "Ana", "https://example.com/ana.png") == (
        sent.author.type, sent.author.user_id, sent.author.display_name, sent.author.avatar_url)


def test_user_author_by_external_id_is_not_echoed(http: httpx.Client, app_id: str, user: sc.User,
                                                  conversation_id: str) -> None:
    """userExternalId is write-only: the message names its author by userId instead."""
    response = _raw_post(http, app_id, conversation_id,
                         {"author": {"type": "user", "userExternalId": "ana"},
                          "content": {"type": "text", "text": "Hi"}})
    author = response.json()["messages"][0]["author"]
    assert (201, "user", user.id, False) == (
        response.status_code, author["type"], author["userId"], "userExternalId" in author)


def test_user_author_must_be_a_participant(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A user who is not a participant cannot author a message: 400 naming the author."""
    stranger = make_user(account, app_id, external_id="stranger")
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, conversation_id, text("Hi"), sc.Author(type="user", user_id=stranger.id))
    status, code, title = sdk_error(raised)
    assert (400, "bad_request", True) == (status, code, "author" in title)
    assert [] == _messages(account, app_id, conversation_id)


@pytest.mark.parametrize("author", [sc.Author(type="user", user_id=MISSING_ID),
                                    sc.Author(type="user", user_external_id="nobody")], ids=["userId", "externalId"])
def test_unknown_user_author_is_404(account: sc.ApiClient, app_id: str, conversation_id: str,
                                    author: sc.Author) -> None:
    """A user author that names no user is a 404 user_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, conversation_id, text("Hi"), author)
    assert (404, "user_not_found") == sdk_error(raised)[:2]


def test_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """Posting to a conversation that does not exist is a 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, MISSING_ID, text("Hi"))
    assert (404, "conversation_not_found") == sdk_error(raised)[:2]


def test_silent_message_is_accepted(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A business message to a personal conversation may set destination.integrationType "none"."""
    destination = sc.Destination(sc.IntegrationType(integration_type="none"))
    sent = post(account, app_id, conversation_id, text("Quiet"), destination=destination)
    assert [sent.id] == [m.id for m in _messages(account, app_id, conversation_id)]


TEXT = {"type": "text", "text": "Hi"}
BUSINESS = {"type": "business"}
BAD_BODIES = {
    "unknown author type": ({"author": {"type": "bot"}, "content": TEXT}, "author.type"),
    "author missing": ({"content": TEXT}, "author"),
    "user author without id": ({"author": {"type": "user"}, "content": TEXT}, "author"),
    "user author with both ids": ({"author": {"type": "user", "userId": MISSING_ID, "userExternalId": "ana"},
                                   "content": TEXT}, "author"),
    "bad avatarUrl": ({"author": {**BUSINESS, "avatarUrl": "not a url"}, "content": TEXT}, "author.avatarUrl"),
    "unknown subtype": ({"author": {**BUSINESS, "subtypes": ["robot"]}, "content": TEXT}, "author.subtypes"),
    "no subtype": ({"author": {**BUSINESS, "subtypes": []}, "content": TEXT}, "author.subtypes"),
    "repeated subtype": ({"author": {**BUSINESS, "subtypes": ["AI", "AI"]}, "content": TEXT}, "author.subtypes"),
    "agent subtype": ({"author": {**BUSINESS, "subtypes": ["agent"]}, "content": TEXT}, "author.subtypes"),
    "bot subtype": ({"author": {"type": "user", "userExternalId": "ana", "subtypes": ["bot"]}, "content": TEXT},
                    "author.subtypes"),
    "content missing": ({"author": BUSINESS}, "content"),
    "nested metadata": ({"author": BUSINESS, "content": TEXT, "metadata": {"a": {"b": 1}}}, "metadata"),
    "metadata over 4 KB": ({"author": BUSINESS, "content": TEXT, "metadata": {"k": "x" * 4100}}, "metadata"),
    "destination on a user message": ({"author": {"type": "user", "userExternalId": "ana"}, "content": TEXT,
                                       "destination": {"integrationType": "none"}}, "destination"),
    "text is a number": ({"author": BUSINESS, "content": {"type": "text", "text": 5}}, "content.text"),
    "metadata is a string": ({"author": BUSINESS, "content": TEXT, "metadata": "x"}, "metadata"),
    "author is a string": ({"author": "business", "content": TEXT}, "author"),
    "content is an array": ({"author": BUSINESS, "content": [TEXT]}, "content"),
    "body is an array": ([{"author": BUSINESS, "content": TEXT}], "body"),
}


@pytest.mark.parametrize(("body", "field"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_body_is_refused_naming_the_field(http: httpx.Client, account: sc.ApiClient, app_id: str,
                                              conversation_id: str, body: Any, field: str) -> None:
    """A body that breaks a rule is a 400 whose title names the field; nothing is stored or touched."""
    before = _conversation(account, app_id, conversation_id)
    response = _raw_post(http, app_id, conversation_id, body)
    assert (400, "bad_request") == (response.status_code, response.json()["errors"][0]["code"])
    assert field in response.json()["errors"][0]["title"]
    assert [] == _messages(account, app_id, conversation_id)
    assert before == _conversation(account, app_id, conversation_id)


@pytest.mark.parametrize("subtype", ["agent", "bot"])
def test_agent_and_bot_subtypes_are_for_responses_only(account: sc.ApiClient, app_id: str, conversation_id: str,
                                                        subtype: str) -> None:
    """The spec's `agent` and `bot` subtypes are "available in responses only": sent through the SDK (whose
    model knows only AI and activity, so it is built unchecked), the message is a 400 naming the field."""
    author = sc.Author.model_construct(type="business", subtypes=[subtype])
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, conversation_id, text("Hi"), author)
    assert (400, "bad_request", f"Invalid author.subtypes[0]: '{subtype}' is available in responses only") == \
        sdk_error(raised)
    assert [] == _messages(account, app_id, conversation_id)


def test_malformed_json_is_400(http: httpx.Client, account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A body that is not JSON is a 400 that says so."""
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages",
                         content=b'{"author": {"type": "business"}, "content": ',
                         headers={"content-type": "application/json"})
    assert (400, True) == (response.status_code, "JSON" in response.json()["errors"][0]["title"])
    assert [] == _messages(account, app_id, conversation_id)


def test_destination_in_a_group_conversation_is_400(account: sc.ApiClient, app_id: str, user: sc.User) -> None:
    """destination only applies to personal conversations: in an sdkGroup it is a 400 naming it."""
    group = make_conversation(account, app_id, user, kind="sdkGroup")
    before = _conversation(account, app_id, group.id)
    destination = sc.Destination(sc.IntegrationType(integration_type="none"))
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, group.id, text("Hi"), destination=destination)
    status, code, title = sdk_error(raised)
    assert (400, "bad_request", True) == (status, code, "destination" in title)
    assert ([], before) == (_messages(account, app_id, group.id), _conversation(account, app_id, group.id))


# --- ListMessages ---------------------------------------------------------------------------

def test_list_returns_the_newest_hundred(account: sc.ApiClient, server: Server, app_id: str,
                                         conversation_id: str) -> None:
    """Without a cursor the newest 100 messages come back, oldest first, with hasMore and beforeCursor."""
    seed_messages(server.database_url, conversation_id, 250)
    page = sc.MessagesApi(account).list_messages(app_id, conversation_id)
    assert [f"seed {n}" for n in range(150, 250)] == _texts(page.messages)
    assert (True, page.messages[0].id, None) == (page.meta.has_more, page.meta.before_cursor, page.meta.after_cursor)


def test_walking_back_yields_every_message_once(account: sc.ApiClient, server: Server, app_id: str,
                                                conversation_id: str) -> None:
    """Following beforeCursor from the newest page reaches every message exactly once, in order."""
    seed_messages(server.database_url, conversation_id, 250)
    api, pages, cursor = sc.MessagesApi(account), [], None
    for _ in range(5):
        page = api.list_messages(app_id, conversation_id, page=sc.Page(before=cursor) if cursor else None)
        pages.insert(0, _texts(page.messages))
        cursor = page.meta.before_cursor
        if not page.meta.has_more:
            break
    assert [50, 100, 100] == [len(p) for p in pages]
    assert [f"seed {n}" for n in range(250)] == [t for p in pages for t in p]


def test_page_after_reads_forward(http: httpx.Client, account: sc.ApiClient, server: Server, app_id: str,
                                  conversation_id: str) -> None:
    """page[after] returns the 100 messages after the cursor, with hasMore and afterCursor."""
    seed_messages(server.database_url, conversation_id, 250)
    first = sc.MessagesApi(account).list_messages(app_id, conversation_id).messages[0]  # "seed 150"
    oldest = http.get(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages",
                      params={"page[before]": first.id}).json()["messages"][0]  # "seed 50"
    body = http.get(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages",
                    params={"page[after]": oldest["id"]}).json()
    assert [f"seed {n}" for n in range(51, 151)] == [m["content"]["text"] for m in body["messages"]]
    assert (True, body["messages"][-1]["id"]) == (body["meta"]["hasMore"], body["meta"]["afterCursor"])


def test_prev_link_leads_to_the_older_page(http: httpx.Client, server: Server, app_id: str,
                                           conversation_id: str) -> None:
    """links.prev of the newest page returns the messages before it."""
    seed_messages(server.database_url, conversation_id, 150)
    newest = http.get(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages").json()
    older = http.get(newest["links"]["prev"]).json()
    assert [f"seed {n}" for n in range(50)] == [m["content"]["text"] for m in older["messages"]]
    assert False is older["meta"]["hasMore"]


def test_page_size_is_fixed_at_100(http: httpx.Client, server: Server, app_id: str, conversation_id: str) -> None:
    """page[size] does not apply to ListMessages: a page holds 100 messages whatever is asked."""
    seed_messages(server.database_url, conversation_id, 150)
    url = f"/v2/apps/{app_id}/conversations/{conversation_id}/messages"
    sizes = [len(http.get(url, params={"page[size]": size}).json()["messages"]) for size in ("10", "100")]
    assert [100, 100] == sizes


@pytest.mark.parametrize("cursor", ["abc", "z" * 24, "0" * 25])
def test_bad_cursor_is_400(http: httpx.Client, app_id: str, conversation_id: str, cursor: str) -> None:
    """A cursor that is not 24 hex characters is a 400 naming the page parameter."""
    response = http.get(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages",
                        params={"page[before]": cursor})
    assert (400, True) == (response.status_code, "page[before]" in response.json()["errors"][0]["title"])


def test_list_of_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """Listing the messages of a conversation that does not exist is a 404."""
    with pytest.raises(sc.ApiException) as raised:
        sc.MessagesApi(account).list_messages(app_id, MISSING_ID)
    assert 404 == raised.value.status


# --- the 30,000-message limit ---------------------------------------------------------------

def test_conversation_is_locked_at_30000_messages(account: sc.ApiClient, server: Server, app_id: str,
                                                  conversation_id: str) -> None:
    """The 30,000th message is accepted, the next is 423 locked; deleting frees room again."""
    seed_messages(server.database_url, conversation_id, 29_999)
    last = post(account, app_id, conversation_id, text("number 30000"))
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, conversation_id, text("one too many"))
    assert (423, "locked", "Message limit of 30000 per conversation reached.") == sdk_error(raised)
    assert last.id == _messages(account, app_id, conversation_id)[-1].id
    sc.MessagesApi(account).delete_message(app_id, conversation_id, last.id)
    post(account, app_id, conversation_id, text("room for one"))
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, conversation_id, text("one too many again"))
    assert 423 == raised.value.status
    sc.MessagesApi(account).delete_all_messages(app_id, conversation_id)
    again = post(account, app_id, conversation_id, text("fresh start"))
    assert [again.id] == [m.id for m in _messages(account, app_id, conversation_id)]


# --- DeleteMessage, DeleteAllMessages -------------------------------------------------------

def test_delete_message_removes_only_that_message(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """DeleteMessage answers 200 with {} and the message is no longer listed."""
    kept, gone = (post(account, app_id, conversation_id, text(v)) for v in ("keep", "drop"))
    response = sc.MessagesApi(account).delete_message_with_http_info(app_id, conversation_id, gone.id)
    assert (200, {}) == (response.status_code, json.loads(response.raw_data))
    assert [kept.id] == [m.id for m in _messages(account, app_id, conversation_id)]


@pytest.mark.parametrize("which", ["message", "conversation"])
def test_delete_unknown_message_is_404(account: sc.ApiClient, app_id: str, conversation_id: str, which: str) -> None:
    """Deleting a message that does not exist, or in a conversation that does not, is a 404."""
    ids = (conversation_id, MISSING_ID) if which == "message" else (MISSING_ID, MISSING_ID)
    with pytest.raises(sc.ApiException) as raised:
        sc.MessagesApi(account).delete_message(app_id, *ids)
    assert 404 == raised.value.status


def test_delete_all_messages_empties_the_conversation(account: sc.ApiClient, app_id: str,
                                                      conversation_id: str) -> None:
    """DeleteAllMessages answers 200 with {} and nothing is listed afterwards."""
    for value in ("one", "two"):
        post(account, app_id, conversation_id, text(value))
    response = sc.MessagesApi(account).delete_all_messages_with_http_info(app_id, conversation_id)
    assert (200, {}) == (response.status_code, json.loads(response.raw_data))
    assert [] == _messages(account, app_id, conversation_id)


def test_delete_all_of_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """DeleteAllMessages on a conversation that does not exist is a 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        sc.MessagesApi(account).delete_all_messages(app_id, MISSING_ID)
    assert (404, "conversation_not_found") == sdk_error(raised)[:2]


# --- conversation bookkeeping ---------------------------------------------------------------

def test_business_message_updates_the_conversation(account: sc.ApiClient, app_id: str,
                                                   conversation_id: str) -> None:
    """A business message moves lastUpdatedAt and businessLastRead to its received time."""
    sent = post(account, app_id, conversation_id, text("Hi"))
    conversation = _conversation(account, app_id, conversation_id)
    assert (sent.received, sent.received) == (conversation.last_updated_at, conversation.business_last_read)


def test_user_message_leaves_business_last_read(account: sc.ApiClient, app_id: str, user: sc.User,
                                                conversation_id: str) -> None:
    """A user message moves lastUpdatedAt but not businessLastRead."""
    before = _conversation(account, app_id, conversation_id)
    sent = post(account, app_id, conversation_id, text("Hi"), sc.Author(type="user", user_id=user.id))
    after = _conversation(account, app_id, conversation_id)
    assert (sent.received, before.business_last_read) == (after.last_updated_at, after.business_last_read)


def test_messages_count_as_unread_for_the_others(account: sc.ApiClient, app_id: str, user: sc.User,
                                                 conversation_id: str) -> None:
    """Business messages are unread for the participant; the participant's own message reads up to it."""
    for value in ("one", "two"):
        post(account, app_id, conversation_id, text(value))
    participants = sc.ParticipantsApi(account)
    assert [2] == [p.unread_count for p in participants.list_participants(app_id, conversation_id).participants]
    sent = post(account, app_id, conversation_id, text("Hi"), sc.Author(type="user", user_id=user.id))
    assert [(0, sent.received)] == [(p.unread_count, p.last_read) for p in
                                    participants.list_participants(app_id, conversation_id).participants]
