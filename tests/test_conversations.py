"""Conversations through the official SDK: create, get, update, delete, list by user, read markers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.utils import MISSING_ID, http_error, make_conversation, make_user, post, sdk_error, text


def conversations(account: sc.ApiClient) -> sc.ConversationsApi:
    return sc.ConversationsApi(account)


def listed_ids(account: sc.ApiClient, app_id: str, **filter: str) -> list[str]:
    found = conversations(account).list_conversations(app_id, sc.ConversationListFilter(**filter))
    return [c.id for c in found.conversations]


def by_id(user: sc.User, subscribe: bool | None = False) -> sc.ParticipantSubSchema:
    return sc.ParticipantSubSchema(sc.ParticipantWithUserId(user_id=user.id, subscribe_sdk_client=subscribe))


def users(account: sc.ApiClient, app_id: str, count: int) -> list[sc.User]:
    return [make_user(account, app_id, external_id=f"user-{n}") for n in range(count)]


# CreateConversation

def test_create_personal_conversation_returns_201(account: sc.ApiClient, app_id: str) -> None:
    """CreateConversation answers 201 with the type and fields given, and lastUpdatedAt equal to createdAt."""
    user = make_user(account, app_id, external_id="u")
    response = conversations(account).create_conversation_with_http_info(app_id, sc.ConversationCreateBody(
        type="personal", participants=[by_id(user, None)], display_name="Support",
        description="Help desk", icon_url="https://example.org/icon.png", metadata={"lang": "en"}))
    made = response.data.conversation
    assert 201 == response.status_code
    assert ("personal", "Support", "Help desk", "https://example.org/icon.png", {"lang": "en"}) == (
        made.type, made.display_name, made.description, made.icon_url, made.metadata)
    assert made.created_at == made.last_updated_at
    assert made.to_dict() == conversations(account).get_conversation(app_id, made.id).conversation.to_dict()


@pytest.mark.parametrize("count", [0, 2])
def test_personal_conversation_needs_exactly_one_participant(account: sc.ApiClient, app_id: str,
                                                             count: int) -> None:
    """A personal conversation with 0 or 2 participants is 400 and nothing is created."""
    people = users(account, app_id, 2)
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).create_conversation(app_id, sc.ConversationCreateBody(
            type="personal", participants=[by_id(u, None) for u in people[:count]] or None))
    assert (400, "bad_request") == sdk_error(exc)[:2]
    assert ([], []) == (listed_ids(account, app_id, user_id=people[0].id),
                        listed_ids(account, app_id, user_id=people[1].id))


@pytest.mark.parametrize("count", [0, 1, 10])
def test_sdk_group_takes_zero_to_ten_participants(account: sc.ApiClient, app_id: str, count: int) -> None:
    """An sdkGroup conversation can be created with 0 to 10 participants, all of them listed."""
    people = users(account, app_id, count)
    made = make_conversation(account, app_id, *people, kind="sdkGroup")
    listed = sc.ParticipantsApi(account).list_participants(app_id, made.id).participants
    assert ("sdkGroup", False) == (made.type, made.is_default)
    assert sorted(u.id for u in people) == sorted(p.user_id for p in listed)


def test_sdk_group_with_eleven_participants_is_400(account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    """An sdkGroup conversation with 11 participants is 400 and creates nothing (the SDK refuses to send it)."""
    people = users(account, app_id, 11)
    body = {"type": "sdkGroup", "participants": [{"userId": u.id, "subscribeSDKClient": False} for u in people]}
    status, code, title = http_error(http.post(f"/v2/apps/{app_id}/conversations", json=body))
    assert (400, "bad_request", True) == (status, code, "participants" in title)
    assert [] == listed_ids(account, app_id, user_id=people[0].id)


def test_sdk_group_participants_need_subscribe_sdk_client(account: sc.ApiClient, app_id: str) -> None:
    """An sdkGroup participant without subscribeSDKClient is 400 naming the field; nothing is created."""
    user = make_user(account, app_id, external_id="u")
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).create_conversation(app_id, sc.ConversationCreateBody(
            type="sdkGroup", participants=[by_id(user, None)]))
    status, code, title = sdk_error(exc)
    assert (400, "bad_request", True) == (status, code, "subscribeSDKClient" in title)
    assert [] == listed_ids(account, app_id, user_id=user.id)


def test_create_with_unknown_participant_is_404_user_not_found(account: sc.ApiClient, app_id: str) -> None:
    """A participant naming no existing user makes CreateConversation 404 user_not_found, creating nothing."""
    user = make_user(account, app_id, external_id="u")
    ghost = sc.ParticipantSubSchema(sc.ParticipantWithUserExternalId(user_external_id="ghost",
                                                                     subscribe_sdk_client=False))
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).create_conversation(app_id, sc.ConversationCreateBody(
            type="sdkGroup", participants=[by_id(user), ghost]))
    assert (404, "user_not_found") == sdk_error(exc)[:2]
    assert [] == listed_ids(account, app_id, user_id=user.id)


def test_create_with_the_same_user_twice_is_400(account: sc.ApiClient, app_id: str) -> None:
    """Listing one user twice as participants is 400 bad_request, and nothing is created."""
    user = make_user(account, app_id, external_id="u")
    twice = [by_id(user), sc.ParticipantSubSchema(sc.ParticipantWithUserExternalId(
        user_external_id="u", subscribe_sdk_client=False))]
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).create_conversation(app_id, sc.ConversationCreateBody(type="sdkGroup",
                                                                                     participants=twice))
    assert (400, "bad_request") == sdk_error(exc)[:2]
    assert [] == listed_ids(account, app_id, user_id=user.id)


@pytest.mark.parametrize("body", [{"type": "group"}, {"type": 1}, {}, {"type": "sdkGroup", "displayName": 5},
                                  {"type": "sdkGroup", "metadata": {"a": {"b": 1}}},
                                  {"type": "sdkGroup", "iconUrl": "not a url"}])
def test_create_conversation_rejects_malformed_bodies(http: httpx.Client, app_id: str, body: dict[str, Any]) -> None:
    """An unknown type, a missing type or a wrongly typed field is 400 bad_request."""
    assert (400, "bad_request") == http_error(http.post(f"/v2/apps/{app_id}/conversations", json=body))[:2]


def test_first_personal_conversation_is_the_default(account: sc.ApiClient, app_id: str) -> None:
    """A user's first personal conversation has isDefault true, the second false."""
    user = make_user(account, app_id, external_id="u")
    first = make_conversation(account, app_id, user)
    second = make_conversation(account, app_id, user)
    assert (True, False) == (first.is_default, second.is_default)
    assert first.is_default == conversations(account).get_conversation(app_id, first.id).conversation.is_default


def test_create_conversation_in_unknown_app_is_404_app_not_found(account: sc.ApiClient) -> None:
    """CreateConversation under an app that does not exist is 404 app_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).create_conversation(MISSING_ID, sc.ConversationCreateBody(type="sdkGroup"))
    assert (404, "app_not_found") == sdk_error(exc)[:2]


# GetConversation, UpdateConversation, DeleteConversation

def test_get_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """GetConversation for an id that matches nothing is 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).get_conversation(app_id, MISSING_ID)
    assert (404, "conversation_not_found") == sdk_error(exc)[:2]


def test_update_conversation_sets_and_clears_fields(account: sc.ApiClient, app_id: str) -> None:
    """UpdateConversation sets displayName, description, iconUrl and metadata, and null clears each."""
    made = make_conversation(account, app_id, kind="sdkGroup", display_name="Old")
    updated = conversations(account).update_conversation(app_id, made.id, sc.ConversationUpdateBody(
        display_name="New", description="About", icon_url="https://example.org/i.png", metadata={"k": 1})).conversation
    assert ("New", "About", "https://example.org/i.png", {"k": 1}) == (
        updated.display_name, updated.description, updated.icon_url, updated.metadata)
    cleared = conversations(account).update_conversation(app_id, made.id, sc.ConversationUpdateBody(
        display_name=None, description=None, icon_url=None, metadata=None)).conversation
    assert (None, None, None, None) == (cleared.display_name, cleared.description, cleared.icon_url, cleared.metadata)
    assert cleared.to_dict() == conversations(account).get_conversation(app_id, made.id).conversation.to_dict()


def test_update_conversation_keeps_fields_not_given(account: sc.ApiClient, app_id: str) -> None:
    """UpdateConversation leaves the fields absent from the body as they were."""
    made = make_conversation(account, app_id, kind="sdkGroup", display_name="Name", description="Desc")
    updated = conversations(account).update_conversation(
        app_id, made.id, sc.ConversationUpdateBody(description="Other")).conversation
    assert ("Name", "Other") == (updated.display_name, updated.description)


def test_update_conversation_with_bad_input_is_400_and_changes_nothing(
        account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    """UpdateConversation with an invalid field is a 400 naming it, and the conversation is unchanged."""
    made = make_conversation(account, app_id, kind="sdkGroup", display_name="Name", metadata={"a": "1"})
    for body, field in [({"displayName": 7}, "displayName"), ({"description": "d" * 101}, "description"),
                        ({"metadata": {"a": ["b"]}, "displayName": "Changed"}, "metadata"),
                        ({"metadata": {"a": "x" * 4100}}, "metadata"), ({"iconUrl": "nope"}, "iconUrl")]:
        status, code, title = http_error(http.patch(f"/v2/apps/{app_id}/conversations/{made.id}", json=body))
        assert (400, "bad_request", True) == (status, code, field in title)
    assert made.to_dict() == conversations(account).get_conversation(app_id, made.id).conversation.to_dict()


def test_update_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """UpdateConversation for an id that matches nothing is 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).update_conversation(app_id, MISSING_ID, sc.ConversationUpdateBody(display_name="x"))
    assert (404, "conversation_not_found") == sdk_error(exc)[:2]


def test_default_conversation_cannot_be_deleted(account: sc.ApiClient, app_id: str) -> None:
    """Deleting the default conversation is 400 with the spec's title, and it stays."""
    user = make_user(account, app_id, external_id="u")
    default = make_conversation(account, app_id, user)
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).delete_conversation(app_id, default.id)
    expected = (400, "bad_request", f"Conversation {default.id} cannot be deleted because it is the default.")
    assert expected == sdk_error(exc)
    assert [default.id] == listed_ids(account, app_id, user_id=user.id)


def test_delete_conversation_then_it_is_gone(account: sc.ApiClient, app_id: str) -> None:
    """A non-default conversation deletes with 200 {}, then is 404 and no longer listed for its user."""
    user = make_user(account, app_id, external_id="u")
    default = make_conversation(account, app_id, user)
    other = make_conversation(account, app_id, user)
    post(account, app_id, other.id, text("bye"))
    assert {} == conversations(account).delete_conversation(app_id, other.id)
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).get_conversation(app_id, other.id)
    assert (404, "conversation_not_found") == sdk_error(exc)[:2]
    assert [default.id] == listed_ids(account, app_id, user_id=user.id)


def test_delete_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """DeleteConversation for an id that matches nothing is 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        conversations(account).delete_conversation(app_id, MISSING_ID)
    assert (404, "conversation_not_found") == sdk_error(exc)[:2]


# ListConversations

def test_list_conversations_by_user_id_and_external_id(account: sc.ApiClient, app_id: str) -> None:
    """ListConversations returns the user's conversations, personal and group, by userId or userExternalId."""
    user, other = users(account, app_id, 2)
    mine = [make_conversation(account, app_id, user).id,
            make_conversation(account, app_id, user, other, kind="sdkGroup").id]
    make_conversation(account, app_id, other)
    assert mine == listed_ids(account, app_id, user_id=user.id)
    assert mine == listed_ids(account, app_id, user_external_id="user-0")


def test_list_conversations_with_bracketed_filter(account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    """ListConversations accepts the documented filter[userId]=… and filter[userExternalId]=… query style."""
    user = make_user(account, app_id, external_id="a/b c")
    made = make_conversation(account, app_id, user)
    for params in ({"filter[userId]": user.id}, {"filter[userExternalId]": "a/b c"}):
        response = http.get(f"/v2/apps/{app_id}/conversations", params=params)
        assert (200, [made.id]) == (response.status_code, [c["id"] for c in response.json()["conversations"]])


@pytest.mark.parametrize("params", [{}, {"filter[userId]": "U", "filter[userExternalId]": "user-0"},
                                    {"filter[other]": "x"}])
def test_list_conversations_needs_exactly_one_filter(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                     params: dict[str, str]) -> None:
    """ListConversations with no user filter, both filters or an unknown one is 400 bad_request."""
    user = make_user(account, app_id, external_id="user-0")
    params = {k: user.id if v == "U" else v for k, v in params.items()}
    assert (400, "bad_request") == http_error(http.get(f"/v2/apps/{app_id}/conversations", params=params))[:2]


def test_list_conversations_with_both_filters_through_the_sdk_is_400(account: sc.ApiClient, app_id: str) -> None:
    """The SDK's JSON filter naming both userId and userExternalId is 400 bad_request."""
    user = make_user(account, app_id, external_id="u")
    with pytest.raises(sc.ApiException) as exc:
        listed_ids(account, app_id, user_id=user.id, user_external_id="u")
    assert (400, "bad_request") == sdk_error(exc)[:2]


def test_list_conversations_of_unknown_user_is_404(account: sc.ApiClient, app_id: str) -> None:
    """ListConversations for a user that does not exist is 404 user_not_found."""
    for filter in ({"user_id": MISSING_ID}, {"user_external_id": "ghost"}):
        with pytest.raises(sc.ApiException) as exc:
            listed_ids(account, app_id, **filter)
        assert (404, "user_not_found") == sdk_error(exc)[:2]


def test_list_conversations_pages_with_after_cursors(account: sc.ApiClient, app_id: str) -> None:
    """Walking a user's conversations one per page with afterCursor visits each once, in creation order."""
    user = make_user(account, app_id, external_id="u")
    made = [make_conversation(account, app_id, user).id] + [
        make_conversation(account, app_id, user, kind="sdkGroup").id for _ in range(3)]
    seen, page = [], sc.Page(size=1)
    for _ in range(len(made) + 1):  # bounded: a server that always says hasMore fails instead of looping
        found = conversations(account).list_conversations(app_id, sc.ConversationListFilter(user_id=user.id), page)
        seen += [c.id for c in found.conversations]
        if not found.meta.has_more:
            break
        page = sc.Page(after=found.meta.after_cursor, size=1)
    assert (made, False) == (seen, found.meta.has_more)


def test_list_conversations_first_page_links_to_the_next(account: sc.ApiClient, http: httpx.Client,
                                                         app_id: str) -> None:
    """A full first page says hasMore, gives afterCursor, and its links.next fetches the rest."""
    user = make_user(account, app_id, external_id="u")
    made = [make_conversation(account, app_id, user).id, make_conversation(account, app_id, user).id]
    first = http.get(f"/v2/apps/{app_id}/conversations",
                     params={"filter[userId]": user.id, "page[size]": "1"}).json()
    assert ([made[0]], True, made[0]) == ([c["id"] for c in first["conversations"]],
                                          first["meta"]["hasMore"], first["meta"]["afterCursor"])
    rest = http.get(first["links"]["next"]).json()
    assert ([made[1]], False) == ([c["id"] for c in rest["conversations"]], rest["meta"]["hasMore"])


# lastUpdatedAt and businessLastRead

def test_posting_a_message_moves_last_updated_at(account: sc.ApiClient, app_id: str) -> None:
    """lastUpdatedAt becomes the received time of the latest message; createdAt stays."""
    user = make_user(account, app_id, external_id="u")
    made = make_conversation(account, app_id, user)
    message = post(account, app_id, made.id, text("hi"), sc.Author(type="user", user_id=user.id))
    after = conversations(account).get_conversation(app_id, made.id).conversation
    assert (made.created_at, message.received) == (after.created_at, after.last_updated_at)
    assert after.last_updated_at != made.last_updated_at


def test_business_message_sets_business_last_read(account: sc.ApiClient, app_id: str) -> None:
    """businessLastRead is absent at creation and becomes the time of a business message."""
    user = make_user(account, app_id, external_id="u")
    made = make_conversation(account, app_id, user)
    message = post(account, app_id, made.id, text("hello from the business"))
    after = conversations(account).get_conversation(app_id, made.id).conversation
    assert (None, message.received) == (made.business_last_read, after.business_last_read)


def test_user_message_leaves_business_last_read(account: sc.ApiClient, app_id: str) -> None:
    """A message from the user does not mark the conversation read by the business."""
    user = make_user(account, app_id, external_id="u")
    made = make_conversation(account, app_id, user)
    post(account, app_id, made.id, text("hi"), sc.Author(type="user", user_id=user.id))
    assert conversations(account).get_conversation(app_id, made.id).conversation.business_last_read is None
