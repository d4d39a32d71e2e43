"""Participants through the official SDK: join, list, leave, and the unread counts messages leave behind."""

from __future__ import annotations

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.utils import MISSING_ID, make_conversation, make_user, post, sdk_error, text


def participants(account: sc.ApiClient) -> sc.ParticipantsApi:
    return sc.ParticipantsApi(account)


def members(account: sc.ApiClient, app_id: str, conversation_id: str) -> dict[str, sc.Participant]:
    """The conversation's participants by userId (one page of up to 25 is enough here)."""
    return {p.user_id: p for p in participants(account).list_participants(app_id, conversation_id).participants}


def join(account: sc.ApiClient, app_id: str, conversation_id: str, **fields: object) -> sc.Participant:
    body = sc.ParticipantJoinBody(subscribe_sdk_client=False, **fields)
    return participants(account).join_conversation(app_id, conversation_id, body).participant


def leave(account: sc.ApiClient, app_id: str, conversation_id: str, ref: object) -> object:
    return participants(account).leave_conversation(app_id, conversation_id, sc.ParticipantLeaveBody(ref))


# JoinConversation

def test_join_by_user_id(account: sc.ApiClient, app_id: str) -> None:
    """JoinConversation by userId answers 201 with the new participant, who is then listed."""
    user = make_user(account, app_id, external_id="joiner")
    group = make_conversation(account, app_id, kind="sdkGroup")
    response = participants(account).join_conversation_with_http_info(
        app_id, group.id, sc.ParticipantJoinBody(user_id=user.id, subscribe_sdk_client=True))
    joined = response.data.participant
    assert (201, user.id, "joiner", 0) == (response.status_code, joined.user_id, joined.user_external_id,
                                           joined.unread_count)
    assert joined.to_dict() == members(account, app_id, group.id)[user.id].to_dict()


def test_join_by_user_external_id(account: sc.ApiClient, app_id: str) -> None:
    """JoinConversation by userExternalId adds the user that externalId names."""
    user = make_user(account, app_id, external_id="ext/joiner")
    group = make_conversation(account, app_id, kind="sdkGroup")
    joined = join(account, app_id, group.id, user_external_id="ext/joiner")
    assert (user.id, "ext/joiner") == (joined.user_id, joined.user_external_id)
    assert [user.id] == list(members(account, app_id, group.id))


def test_join_a_personal_conversation_is_400(account: sc.ApiClient, app_id: str) -> None:
    """JoinConversation on a personal conversation is 400 and its one participant stays alone."""
    owner, other = make_user(account, app_id, external_id="a"), make_user(account, app_id, external_id="b")
    personal = make_conversation(account, app_id, owner)
    with pytest.raises(sc.ApiException) as exc:
        join(account, app_id, personal.id, user_id=other.id)
    assert (400, "bad_request") == sdk_error(exc)[:2]
    assert [owner.id] == list(members(account, app_id, personal.id))


def test_join_twice_is_409(account: sc.ApiClient, app_id: str) -> None:
    """Joining a conversation the user is already part of is 409 conflict, and they are listed once."""
    user = make_user(account, app_id, external_id="u")
    group = make_conversation(account, app_id, user, kind="sdkGroup")
    with pytest.raises(sc.ApiException) as exc:
        join(account, app_id, group.id, user_external_id="u")
    assert (409, "conflict") == sdk_error(exc)[:2]
    assert [user.id] == list(members(account, app_id, group.id))


def test_eleventh_participant_is_400(account: sc.ApiClient, app_id: str) -> None:
    """Once a group has 10 participants, an 11th join is 400 and the group stays at 10."""
    people = [make_user(account, app_id, external_id=f"u{n}") for n in range(11)]
    group = make_conversation(account, app_id, *people[:10], kind="sdkGroup")
    with pytest.raises(sc.ApiException) as exc:
        join(account, app_id, group.id, user_id=people[10].id)
    assert (400, "bad_request") == sdk_error(exc)[:2]
    assert sorted(u.id for u in people[:10]) == sorted(members(account, app_id, group.id))


def test_join_needs_subscribe_sdk_client(account: sc.ApiClient, app_id: str) -> None:
    """JoinConversation without subscribeSDKClient is 400 naming it, and nobody joins."""
    user = make_user(account, app_id, external_id="u")
    group = make_conversation(account, app_id, kind="sdkGroup")
    with pytest.raises(sc.ApiException) as exc:
        participants(account).join_conversation(app_id, group.id, sc.ParticipantJoinBody(user_id=user.id))
    status, code, title = sdk_error(exc)
    assert (400, "bad_request", True) == (status, code, "subscribeSDKClient" in title)
    assert {} == members(account, app_id, group.id)


@pytest.mark.parametrize("body", [{"subscribeSDKClient": False},
                                  {"userId": "U", "userExternalId": "u", "subscribeSDKClient": False},
                                  {"userId": 5, "subscribeSDKClient": False},
                                  {"userId": "U", "subscribeSDKClient": "yes"}])
def test_join_with_a_malformed_body_is_400(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                           body: dict[str, object]) -> None:
    """JoinConversation needs exactly one of userId or userExternalId, with the right types; else 400."""
    user = make_user(account, app_id, external_id="u")
    group = make_conversation(account, app_id, kind="sdkGroup")
    body = {k: user.id if v == "U" else v for k, v in body.items()}
    response = http.post(f"/v2/apps/{app_id}/conversations/{group.id}/join", json=body)
    assert (400, "bad_request") == (response.status_code, response.json()["errors"][0]["code"])
    assert {} == members(account, app_id, group.id)


def test_join_unknown_user_or_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """Joining with an unknown user is 404 user_not_found; joining an unknown conversation is 404 too."""
    user = make_user(account, app_id, external_id="u")
    group = make_conversation(account, app_id, kind="sdkGroup")
    with pytest.raises(sc.ApiException) as exc:
        join(account, app_id, group.id, user_id=MISSING_ID)
    assert (404, "user_not_found") == sdk_error(exc)[:2]
    with pytest.raises(sc.ApiException) as exc:
        join(account, app_id, MISSING_ID, user_id=user.id)
    assert (404, "conversation_not_found") == sdk_error(exc)[:2]


# ListParticipants

def test_list_participants_pages_and_carries_external_ids(account: sc.ApiClient, app_id: str) -> None:
    """ListParticipants walks page by page with afterCursor and gives each userExternalId."""
    people = [make_user(account, app_id, external_id=f"p{n}") for n in range(3)]
    group = make_conversation(account, app_id, *people, kind="sdkGroup")
    seen, page = [], sc.Page(size=2)
    for _ in range(3):
        found = participants(account).list_participants(app_id, group.id, page)
        seen += [(p.user_id, p.user_external_id) for p in found.participants]
        if not found.meta.has_more:
            break
        page = sc.Page(after=found.meta.after_cursor, size=2)
    assert ([(u.id, u.external_id) for u in people], False) == (seen, found.meta.has_more)


def test_list_participants_without_external_id(account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    """A participant whose user has no externalId is listed without one."""
    user_id = http.post(f"/v2/apps/{app_id}/users", json={}).json()["user"]["id"]
    group = make_conversation(account, app_id, kind="sdkGroup")
    join(account, app_id, group.id, user_id=user_id)
    assert [(user_id, None)] == [(p.user_id, p.user_external_id) for p in members(account, app_id, group.id).values()]


def test_list_participants_of_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """ListParticipants for a conversation that does not exist is 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as exc:
        participants(account).list_participants(app_id, MISSING_ID)
    assert (404, "conversation_not_found") == sdk_error(exc)[:2]


# LeaveConversation

def test_leave_by_user_id_external_id_and_participant_id(account: sc.ApiClient, app_id: str) -> None:
    """LeaveConversation removes a member named by userId, by userExternalId or by participantId."""
    a, b, c, stays = [make_user(account, app_id, external_id=name) for name in ("a", "b", "c", "d")]
    group = make_conversation(account, app_id, a, b, c, stays, kind="sdkGroup")
    c_participant = members(account, app_id, group.id)[c.id].id
    assert {} == leave(account, app_id, group.id, sc.ParticipantLeaveBodyUserId(user_id=a.id))
    assert {} == leave(account, app_id, group.id, sc.ParticipantLeaveBodyUserExternalId(user_external_id="b"))
    assert {} == leave(account, app_id, group.id, sc.ParticipantLeaveBodyParticipantId(participant_id=c_participant))
    assert [stays.id] == list(members(account, app_id, group.id))


def test_leave_when_not_a_member_is_404(account: sc.ApiClient, app_id: str) -> None:
    """Leaving a group one is not part of (or as an unknown user) is 404, and the members stay."""
    member, outsider = make_user(account, app_id, external_id="in"), make_user(account, app_id, external_id="out")
    group = make_conversation(account, app_id, member, kind="sdkGroup")
    for ref in (sc.ParticipantLeaveBodyUserId(user_id=outsider.id),
                sc.ParticipantLeaveBodyUserExternalId(user_external_id="ghost"),
                sc.ParticipantLeaveBodyParticipantId(participant_id=MISSING_ID)):
        with pytest.raises(sc.ApiException) as exc:
            leave(account, app_id, group.id, ref)
        assert 404 == exc.value.status
    assert [member.id] == list(members(account, app_id, group.id))


def test_leave_a_personal_conversation_is_400(account: sc.ApiClient, app_id: str) -> None:
    """LeaveConversation on a personal conversation is 400 and its participant stays."""
    owner = make_user(account, app_id, external_id="owner")
    personal = make_conversation(account, app_id, owner)
    with pytest.raises(sc.ApiException) as exc:
        leave(account, app_id, personal.id, sc.ParticipantLeaveBodyUserId(user_id=owner.id))
    assert (400, "bad_request") == sdk_error(exc)[:2]
    assert [owner.id] == list(members(account, app_id, personal.id))


def test_leave_with_two_references_is_400(account: sc.ApiClient, http: httpx.Client, app_id: str) -> None:
    """A leave body naming the member two ways (the SDK cannot send it) is 400, and they stay."""
    user = make_user(account, app_id, external_id="u")
    group = make_conversation(account, app_id, user, kind="sdkGroup")
    response = http.post(f"/v2/apps/{app_id}/conversations/{group.id}/leave",
                         json={"userId": user.id, "userExternalId": "u"})
    assert (400, "bad_request") == (response.status_code, response.json()["errors"][0]["code"])
    assert [user.id] == list(members(account, app_id, group.id))


# unreadCount and lastRead

def test_business_message_is_unread_for_every_participant(account: sc.ApiClient, app_id: str) -> None:
    """After a business message every participant has unreadCount 1 and no lastRead yet."""
    people = [make_user(account, app_id, external_id=f"u{n}") for n in range(3)]
    group = make_conversation(account, app_id, *people, kind="sdkGroup")
    post(account, app_id, group.id, text("hello all"))
    listed = members(account, app_id, group.id)
    assert {u.id: (1, None) for u in people} == {k: (p.unread_count, p.last_read) for k, p in listed.items()}


def test_user_message_is_read_by_its_author(account: sc.ApiClient, app_id: str) -> None:
    """After a user message its author has unreadCount 0 and lastRead at the message; the others 1 more."""
    author, reader = make_user(account, app_id, external_id="a"), make_user(account, app_id, external_id="r")
    group = make_conversation(account, app_id, author, reader, kind="sdkGroup")
    post(account, app_id, group.id, text("first"))
    sent = post(account, app_id, group.id, text("reply"), sc.Author(type="user", user_external_id="a"))
    listed = members(account, app_id, group.id)
    assert (0, sent.received) == (listed[author.id].unread_count, listed[author.id].last_read)
    assert (2, None) == (listed[reader.id].unread_count, listed[reader.id].last_read)


def test_conversation_read_activity_clears_unread_count(account: sc.ApiClient, app_id: str) -> None:
    """A user's conversation:read activity zeroes their unreadCount and sets lastRead; others keep theirs."""
    reader, other = make_user(account, app_id, external_id="r"), make_user(account, app_id, external_id="o")
    group = make_conversation(account, app_id, reader, other, kind="sdkGroup")
    post(account, app_id, group.id, text("one"))
    last = post(account, app_id, group.id, text("two"))
    activity = sc.ActivityPost(type="conversation:read", author=sc.Author(type="user", user_id=reader.id))
    assert {} == sc.ActivitiesApi(account).post_activity(app_id, group.id, activity)
    listed = members(account, app_id, group.id)
    assert (0, True) == (listed[reader.id].unread_count, (listed[reader.id].last_read or "") >= last.received)
    assert (2, None) == (listed[other.id].unread_count, listed[other.id].last_read)
