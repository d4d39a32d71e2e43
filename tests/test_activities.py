"""PostActivity: conversation:read moves read markers; typing changes nothing; bad activities are refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.utils import MISSING_ID, make_user, post, sdk_error, text


def _activity(account: sc.ApiClient, app_id: str, conversation_id: str, kind: str,
              author: sc.Author | None = None) -> tuple[int, Any]:
    """Post an activity through the SDK; the status and the decoded body."""
    body = sc.ActivityPost(type=kind, author=author or sc.Author(type="business"))
    response = sc.ActivitiesApi(account).post_activity_with_http_info(app_id, conversation_id, body)
    return response.status_code, json.loads(response.raw_data)


def _conversation(account: sc.ApiClient, app_id: str, conversation_id: str) -> sc.Conversation:
    return sc.ConversationsApi(account).get_conversation(app_id, conversation_id).conversation


def _participants(account: sc.ApiClient, app_id: str, conversation_id: str) -> list[sc.Participant]:
    return list(sc.ParticipantsApi(account).list_participants(app_id, conversation_id).participants)


def _state(account: sc.ApiClient, app_id: str, conversation_id: str) -> tuple[Any, ...]:
    """Everything an activity could change: the conversation and its participants."""
    return (_conversation(account, app_id, conversation_id).to_dict(),
            [p.to_dict() for p in _participants(account, app_id, conversation_id)])


def test_business_read_sets_business_last_read(account: sc.ApiClient, app_id: str, user: sc.User,
                                               conversation_id: str) -> None:
    """conversation:read by the business answers 200 {} and sets businessLastRead, no earlier than the last message."""
    sent = post(account, app_id, conversation_id, text("Hi"), sc.Author(type="user", user_id=user.id))
    assert None is _conversation(account, app_id, conversation_id).business_last_read
    assert (200, {}) == _activity(account, app_id, conversation_id, "conversation:read")
    read = _conversation(account, app_id, conversation_id).business_last_read
    assert (True, True) == (read is not None, read >= sent.received)


def test_user_read_resets_the_unread_count(account: sc.ApiClient, app_id: str, user: sc.User,
                                           conversation_id: str) -> None:
    """conversation:read by a participant sets its unreadCount to 0 and its lastRead."""
    sent = [post(account, app_id, conversation_id, text(v)) for v in ("one", "two")]
    assert [(2, None)] == [(p.unread_count, p.last_read) for p in _participants(account, app_id, conversation_id)]
    author = sc.Author(type="user", user_id=user.id)
    assert (200, {}) == _activity(account, app_id, conversation_id, "conversation:read", author)
    [participant] = _participants(account, app_id, conversation_id)
    assert (0, True) == (participant.unread_count, participant.last_read >= sent[-1].received)


def test_user_read_by_external_id(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A user author may be named by userExternalId."""
    post(account, app_id, conversation_id, text("one"))
    author = sc.Author(type="user", user_external_id="ana")
    assert (200, {}) == _activity(account, app_id, conversation_id, "conversation:read", author)
    assert [0] == [p.unread_count for p in _participants(account, app_id, conversation_id)]


def test_user_read_leaves_business_last_read(account: sc.ApiClient, app_id: str, user: sc.User,
                                             conversation_id: str) -> None:
    """A participant reading does not mark the conversation read for the business."""
    before = _conversation(account, app_id, conversation_id).business_last_read
    _activity(account, app_id, conversation_id, "conversation:read", sc.Author(type="user", user_id=user.id))
    assert before == _conversation(account, app_id, conversation_id).business_last_read


@pytest.mark.parametrize("kind", ["typing:start", "typing:stop"])
def test_business_typing_changes_nothing(account: sc.ApiClient, app_id: str, conversation_id: str,
                                         kind: str) -> None:
    """typing:start and typing:stop by the business answer 200 {} and leave every stored field alone."""
    post(account, app_id, conversation_id, text("Hi"))
    before = _state(account, app_id, conversation_id)
    assert (200, {}) == _activity(account, app_id, conversation_id, kind)
    assert before == _state(account, app_id, conversation_id)


@pytest.mark.parametrize("kind", ["typing:start", "typing:stop"])
def test_user_typing_is_400(account: sc.ApiClient, app_id: str, user: sc.User, conversation_id: str,
                            kind: str) -> None:
    """A user author supports only conversation:read: typing is a 400 naming the type."""
    before = _state(account, app_id, conversation_id)
    with pytest.raises(sc.ApiException) as raised:
        _activity(account, app_id, conversation_id, kind, sc.Author(type="user", user_id=user.id))
    status, code, title = sdk_error(raised)
    assert (400, "bad_request", True) == (status, code, "type" in title)
    assert before == _state(account, app_id, conversation_id)


def test_user_must_be_a_participant(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A user who is not a participant cannot post an activity: 400 naming the author."""
    stranger = make_user(account, app_id, external_id="stranger")
    with pytest.raises(sc.ApiException) as raised:
        _activity(account, app_id, conversation_id, "conversation:read", sc.Author(type="user", user_id=stranger.id))
    status, code, title = sdk_error(raised)
    assert (400, "bad_request", True) == (status, code, "author" in title)


def test_unknown_user_is_404(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A user author that names no user is a 404 user_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        _activity(account, app_id, conversation_id, "conversation:read", sc.Author(type="user", user_id=MISSING_ID))
    assert (404, "user_not_found") == sdk_error(raised)[:2]


def test_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """An activity in a conversation that does not exist is a 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        _activity(account, app_id, MISSING_ID, "typing:start")
    assert (404, "conversation_not_found") == sdk_error(raised)[:2]


def test_agent_subtype_is_for_responses_only(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """An activity whose author has the response-only subtype `agent` (built unchecked: the SDK's model knows
    only AI and activity) is a 400 naming the field, checked before the conversation is looked up."""
    author = sc.Author.model_construct(type="business", subtypes=["agent"])
    for conversation in (conversation_id, MISSING_ID):
        with pytest.raises(sc.ApiException) as raised:
            _activity(account, app_id, conversation, "typing:start", author)
        assert (400, "bad_request", "Invalid author.subtypes[0]: 'agent' is available in responses only") == \
            sdk_error(raised)


BAD_ACTIVITIES = {
    "unknown type": ({"type": "typing:pause", "author": {"type": "business"}}, "type"),
    "type missing": ({"author": {"type": "business"}}, "type"),
    "author missing": ({"type": "conversation:read"}, "author"),
    "unknown author type": ({"type": "conversation:read", "author": {"type": "bot"}}, "author.type"),
    "user without id": ({"type": "conversation:read", "author": {"type": "user"}}, "author"),
    "type is a number": ({"type": 1, "author": {"type": "business"}}, "type"),
    "bot subtype": ({"type": "typing:start", "author": {"type": "business", "subtypes": ["bot"]}},
                    "author.subtypes[0]: 'bot' is available in responses only"),
    "no subtype": ({"type": "typing:start", "author": {"type": "business", "subtypes": []}}, "author.subtypes"),
}


@pytest.mark.parametrize(("body", "field"), BAD_ACTIVITIES.values(), ids=BAD_ACTIVITIES.keys())
def test_bad_activity_is_400(http: httpx.Client, account: sc.ApiClient, app_id: str, conversation_id: str,
                             body: dict[str, Any], field: str) -> None:
    """An activity body that breaks a rule is a 400 whose title names the field; nothing changes."""
    before = _state(account, app_id, conversation_id)
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/activity", json=body)
    assert (400, "bad_request") == (response.status_code, response.json()["errors"][0]["code"])
    assert field in response.json()["errors"][0]["title"]
    assert before == _state(account, app_id, conversation_id)
