"""Webhook event payloads, shaped as the spec's EventWebhooks operation describes them.

The builders are pure: rows and wire objects in, the event's `payload` out. A stored payload
carries full users and full sources; `for_webhook` cuts a stored event body down to what one
webhook asked for (`includeFullUser`, `includeFullSource`) just before it is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from heliograph.schemas import render

Row = Mapping[Any, Any]  # a table row's mapping (SQLAlchemy's RowMapping) or a dict of its columns
Path = tuple[str, ...]

API_SOURCE = {"type": "api:conversations"}
USER_TRUNCATED_FIELDS = ("id", "externalId", "authenticated", "zendeskId", "brandId")
FULL_SOURCE_FIELDS = ("client", "device")
# Where the payloads of the spec hold a full `user` or a `source`, as key paths from `payload`.
USER_PATHS: tuple[Path, ...] = (("user",), ("message", "author", "user"), ("activity", "author", "user"),
                                 ("mergedUsers", "surviving"), ("mergedUsers", "discarded"))
SOURCE_PATHS: tuple[Path, ...] = (("source",), ("message", "source"), ("activity", "source"))


def conversation(row: Row) -> dict[str, Any]:
    """conversationTruncated: id, type, the metadata if any, and the switchboard integrations in control
    of it and offered control, from the row's `active_sbi_…` / `pending_sbi_…` columns when it has them
    (store.conversations.select_conversations, or what store.outbox.emit hands a payload function)."""
    truncated = {"id": row["id"], "type": row["type"]}
    if row["metadata"] is not None:
        truncated["metadata"] = row["metadata"]
    for role in ("active", "pending"):
        member = render.control(row, role)
        if member is not None:
            truncated[f"{role}SwitchboardIntegration"] = member
    return truncated


def user(row: Row) -> dict[str, Any]:
    """The full user, as GetUser renders it but without `identities` (kept in their own table)."""
    full = render.user(row, [])
    del full["identities"]
    return full


def user_truncated(row: Row) -> dict[str, Any]:
    """userTruncated: what identifies the user, and nothing personal."""
    return _truncate(user(row))


def conversation_create(conversation_row: Row, user_row: Row | None, *, reason: str = "none",
                        source: Mapping[str, Any] = API_SOURCE) -> dict[str, Any]:
    """conversation:create; `user_row` is the personal conversation's user. CreateConversation's reason is
    `none` and its source the API; an end user's is `startConversation` through their SDK integration."""
    payload = {"conversation": conversation(conversation_row), "creationReason": reason, "source": dict(source)}
    if user_row is not None:
        payload["user"] = user(user_row)
    return payload


def conversation_participant(conversation_row: Row, user_row: Row) -> dict[str, Any]:
    """conversation:join and conversation:leave: the conversation and the (truncated) user."""
    return {"conversation": conversation(conversation_row), "user": user_truncated(user_row)}


def conversation_remove(conversation_row: Row) -> dict[str, Any]:
    """conversation:remove: the deleted conversation."""
    return {"conversation": conversation(conversation_row)}


def conversation_message(conversation_row: Row, message: Mapping[str, Any], user_row: Row | None) -> dict[str, Any]:
    """conversation:message: `message` is the wire message; a user author also carries the full user."""
    wire = dict(message)
    wire["author"] = _author(message["author"], user_row)
    return {"conversation": conversation(conversation_row), "message": wire}


def message_delivery(conversation_row: Row, user_row: Row | None, *, message_id: str,
                     destination: Mapping[str, Any], external_ids: Sequence[str],
                     error: Mapping[str, str] | None, final: bool = True) -> dict[str, Any]:
    """conversation:message:delivery:channel (the channel took the message: the ids it gave it, if any),
    :user (the person's device has it, or has read it), or :failure with `error` ({code, message}); `final`:
    no other event of the message and destination follows (isFinalEvent)."""
    payload: dict[str, Any] = {"conversation": conversation(conversation_row)}
    if user_row is not None:
        payload["user"] = user(user_row)
    payload["destination"] = dict(destination)
    if external_ids:
        payload["externalMessages"] = [{"id": external_id} for external_id in external_ids]
    payload["message"] = {"id": message_id}
    payload["isFinalEvent"] = final
    if error is not None:
        payload["error"] = dict(error)
    return payload


def conversation_activity(conversation_row: Row, activity_type: str, author_type: str,
                          user_row: Row | None, source: Mapping[str, Any] = API_SOURCE) -> dict[str, Any]:
    """conversation:read and conversation:typing: the activity, its author and its source (the API, or the
    end user's SDK integration)."""
    activity = {"type": activity_type, "author": _author({"type": author_type}, user_row),
                "source": dict(source)}
    return {"conversation": conversation(conversation_row), "activity": activity}


def conversation_postback(conversation_row: Row, action: Mapping[str, Any], user_row: Row,
                          source: Mapping[str, Any]) -> dict[str, Any]:
    """conversation:postback: the clicked postback action's payload (and metadata), the conversation, the
    full user who clicked, and the source (the end user's SDK integration)."""
    postback = {"payload": action["payload"]}
    if action.get("metadata") is not None:
        postback["metadata"] = action["metadata"]
    return {"conversation": conversation(conversation_row), "postback": postback, "user": user(user_row),
            "source": dict(source)}


def user_remove(user_row: Row) -> dict[str, Any]:
    """user:remove: the deleted user, truncated."""
    return {"user": user_truncated(user_row)}


def activity_trigger(activity_type: str) -> str:
    """The trigger of an activity: typing:start and typing:stop are both conversation:typing."""
    return "conversation:typing" if activity_type.startswith("typing:") else activity_type


def for_webhook(body: Mapping[str, Any], *, include_full_user: bool, include_full_source: bool) -> dict[str, Any]:
    """A stored event body as one webhook receives it; the stored body is left untouched.

    Without includeFullUser every user object of the payload is reduced to the userTruncated
    fields; without includeFullSource every source loses its `client` and `device`.
    """
    payload = body["payload"]
    if not include_full_user:
        for path in USER_PATHS:
            payload = _replace(payload, path, _truncate)
    if not include_full_source:
        for path in SOURCE_PATHS:
            payload = _replace(payload, path, _without_full_source)
    return {**body, "payload": payload}


def _author(author: Mapping[str, Any], user_row: Row | None) -> dict[str, Any]:
    """authorWebhook: the author as stored, with the full user when a user wrote."""
    wire = dict(author)
    if user_row is not None:
        wire["userId"] = user_row["id"]
        wire["user"] = user(user_row)
    return wire


def _truncate(full: Mapping[str, Any]) -> dict[str, Any]:
    return {k: full[k] for k in USER_TRUNCATED_FIELDS if k in full}


def _without_full_source(source: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if k not in FULL_SOURCE_FIELDS}


def _replace(node: Mapping[str, Any], path: Path,
             change: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Mapping[str, Any]:
    """`node` with the object at `path` replaced by `change(object)`, copying only along the path."""
    head, rest = path[0], path[1:]
    child = node.get(head)
    if not isinstance(child, Mapping):
        return node
    return {**node, head: _replace(child, rest, change) if rest else change(child)}
