"""Form responses: an end user answers a `form` message of their conversation (docs/end-users.md).

The spec lets a `formResponse` message in only this way ("only supported as responses to form messages on
Web Messenger and cannot be sent via the API"). `answer` holds the response to the form it quotes: every
field of the form answered once, by name and type, a text within the field's minSize/maxSize and format, an
email an address, a select the field's own options; the labels are the form's.

A form is answered once: the response quotes it (`quotedMessage`, the form as it is when shown) and, in the
same transaction, the form's content becomes `submitted: true` by a compare-and-set of its stored content
(services/messages.Quoted), so of two answers racing, one is stored and the other is a 409 that writes
nothing. 409 rather than 400: the request is well-formed, but the answer it would create exists already,
which is what the spec's `conflict` says of CreateUser.
"""

from __future__ import annotations

import re
from typing import Any

from heliograph.auth import EndUser
from heliograph.errors import BadRequest, NotFound
from heliograph.ids import IdFactory
from heliograph.schemas.common import UNSET, to_wire
from heliograph.schemas.end_users import FormResponseBody, FormResponseField
from heliograph.schemas.messages import Author, FormResponse, MessagePost
from heliograph.services import cards, messages
from heliograph.services.end_users import own_conversation
from heliograph.services.messages import Quoted, Through
from heliograph.store import messages as message_store
from heliograph.store.db import Database

_FORMATS = {"integer": re.compile(r"^-?\d+$"), "decimal": re.compile(r"^-?\d+(\.\d+)?$")}
_MIN_SIZE, _MAX_SIZE = 1, 128  # the spec's defaults of a text field's minSize and maxSize
_ANSWERED = "quotedMessageId: the form has been answered already"


async def respond(db: Database, *, ids: IdFactory, limit: int, end_user: EndUser, conversation_id: str,
                  body: FormResponseBody, origin: str | None) -> dict[str, Any]:
    """The user's formResponse message answering the conversation's form message `quotedMessageId` (404 if
    the conversation has no such message, 400 if it is no form or the answers do not fit it, 409 if the form
    was answered already), quoting it; the form is `submitted` from then on."""
    async with db.read() as conn:
        integration = await own_conversation(conn, end_user=end_user, conversation_id=conversation_id,
                                             origin=origin)
        quoted = await message_store.find_message(conn, conversation_id=conversation_id,
                                                  message_id=body.quoted_message_id)
    if quoted is None:
        raise NotFound(f"Message {body.quoted_message_id} not found in this conversation")
    content = answer(quoted["content"], body.fields)
    masked = {**content, "fields": [_masked(field) for field in content["fields"]],
              "textFallback": cards.mask(content["textFallback"])}
    post = MessagePost(author=Author(type="user", user_id=end_user.user_id),
                       content=FormResponse(fields=content["fields"]))
    return await messages.post_prepared_message(
        db, ids=ids, limit=limit, app_id=end_user.app_id, conversation_id=conversation_id, body=post,
        content=content, masked=masked, through=Through(integration["id"], integration["type"]),
        quoted=Quoted(quoted, {**quoted["content"], "submitted": True}, _ANSWERED))


def answer(form: dict[str, Any], fields: list[FormResponseField]) -> dict[str, Any]:
    """The formResponse content that answers `form` (a message's content) with `fields`; BadRequest naming
    the field otherwise."""
    if form.get("type") != "form":
        raise BadRequest(f"quotedMessageId: the message is a {form.get('type')} message, not a form")
    asked = {field["name"]: field for field in form["fields"]}
    answered = [_answer(n, asked, field) for n, field in enumerate(fields)]
    names = [field["name"] for field in answered]
    if len(set(names)) != len(names):
        raise BadRequest("fields: each field of the form is answered once")
    missing = [name for name in asked if name not in names]
    if missing:
        raise BadRequest(f"fields: the form's field {missing[0]!r} is not answered")
    answered.sort(key=lambda field: list(asked).index(field["name"]))
    fallback = "\n".join(f"{field['label']}: {_value(field)}" for field in answered)
    return {"type": "formResponse", "fields": answered, "textFallback": fallback}


def _answer(n: int, asked: dict[str, Any], given: FormResponseField) -> dict[str, Any]:
    field = asked.get(given.name)
    if field is None:
        raise BadRequest(f"fields[{n}].name: the form has no field {given.name!r}")
    if field["type"] != given.type:
        raise BadRequest(f"fields[{n}].type: the form's field {given.name!r} is of type {field['type']}")
    value = getattr(given, given.type)
    if value is UNSET or any(getattr(given, other) is not UNSET for other in ("text", "email", "select")
                             if other != given.type):
        raise BadRequest(f"fields[{n}]: a {given.type} field is answered by `{given.type}` alone")
    if given.type == "text":
        _check_text(n, field, value)
    elif given.type == "select":
        value = _options(n, field, to_wire(value))
    return {"type": field["type"], "name": field["name"], "label": field["label"], given.type: value}


def _check_text(n: int, field: dict[str, Any], text: str) -> None:
    low, high = field.get("minSize", _MIN_SIZE), field.get("maxSize", _MAX_SIZE)
    if not low <= len(text) <= high:
        raise BadRequest(f"fields[{n}].text: from {low} to {high} characters")
    pattern = _FORMATS.get(field.get("format", ""))
    if pattern is not None and not pattern.match(text):
        raise BadRequest(f"fields[{n}].text: expected {'an' if field['format'] == 'integer' else 'a'} "
                         f"{field['format']}")


def _options(n: int, field: dict[str, Any], chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chosen options, as the form states them (name and label)."""
    offered = {option.get("name"): option for option in field.get("options", [])}
    names = [option.get("name") for option in chosen]
    if len(set(names)) != len(names):
        raise BadRequest(f"fields[{n}].select: an option is chosen at most once")
    for k, name in enumerate(names):
        if name is None:
            raise BadRequest(f"fields[{n}].select[{k}].name is required: the name of one of the field's options")
        if name not in offered:
            raise BadRequest(f"fields[{n}].select: the field has no option {name!r}")
    return [dict(offered[name]) for name in names]


def _value(field: dict[str, Any]) -> str:
    if field["type"] == "select":
        return ", ".join(option.get("label", option["name"]) for option in field["select"])
    return str(field[field["type"]])


def _masked(field: dict[str, Any]) -> dict[str, Any]:
    return {**field, "text": cards.mask(field["text"])} if "text" in field else field
