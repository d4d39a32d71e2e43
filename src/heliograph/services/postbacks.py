"""Postbacks: an end user clicks a postback button of a message of their conversation (docs/end-users.md).

Actions have no ids of their own in v2 content, so a button is named by where it is: `<messageId>:<n>` is
`content.actions[n]` of that message, `<messageId>:<i>:<n>` is `content.items[i].actions[n]` (a carousel's
or a list's item). An action id that is not of this form is a 400; one that names no action of a message
of this conversation is a 404; an action that is not a `postback` is a 400.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.auth import EndUser
from heliograph.errors import BadRequest, NotFound, UserNotFound
from heliograph.events import payloads as events
from heliograph.ids import IdFactory, is_id
from heliograph.schemas.end_users import PostbackBody
from heliograph.schemas.messages import Author, MessagePost, Text
from heliograph.services import messages
from heliograph.services.end_users import own_conversation
from heliograph.services.messages import Through
from heliograph.store import messages as message_store
from heliograph.store.apps import require_app
from heliograph.store.conversations import require_conversation
from heliograph.store.db import Database
from heliograph.store.outbox import emit
from heliograph.store.users import find_user


async def postback(db: Database, *, ids: IdFactory, limit: int, end_user: EndUser, conversation_id: str,
                   body: PostbackBody, origin: str | None) -> None:
    """conversation:postback for the clicked action (`press`), through the user's SDK integration."""
    parse_action_id(body.action_id)
    async with db.read() as conn:
        integration = await own_conversation(conn, end_user=end_user, conversation_id=conversation_id,
                                             origin=origin)
    async with db.write() as conn:
        user = await find_user(conn, app_id=end_user.app_id, user_id=end_user.user_id)
        if user is None:
            raise UserNotFound()
        await press(conn, ids=ids, limit=limit, app_id=end_user.app_id, conversation_id=conversation_id, user=user,
                    action_id=body.action_id, through=Through(integration["id"], integration["type"]))


async def press(conn: AsyncConnection, *, ids: IdFactory, limit: int, app_id: str, conversation_id: str,
                user: Any, action_id: str, through: Through, replies: bool = False) -> None:
    """The user pressed a postback button of a message of the conversation (400 for a malformed action id or
    one of another kind, 404 for none): conversation:postback; with the app's echoPostback on, the action's
    text is posted first as the user's message, in the same transaction, through the same integration. With
    `replies` (a channel that renders reply actions as buttons: WhatsApp), a reply action's press is the user's
    message of its text and payload, as a quick reply is."""
    message_id, path = parse_action_id(action_id)
    row = await message_store.find_message(conn, conversation_id=conversation_id, message_id=message_id)
    if row is None:
        await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
        raise NotFound(f"Action {action_id} not found in this conversation")
    if replies and _action_at(row["content"], path).get("type") == "reply":
        reply = _action_at(row["content"], path)
        said = MessagePost(author=Author(type="user", user_id=user["id"]),
                           content=Text(text=reply["text"], payload=reply.get("payload") or reply["text"]))
        await messages.post_in(conn, ids=ids, limit=limit, app_id=app_id, conversation_id=conversation_id,
                               body=said, through=through)
        return
    action = find_action(row["content"], path, action_id)
    app = await require_app(conn, app_id=app_id)
    if app["settings"].get("echoPostback"):
        echo = MessagePost(author=Author(type="user", user_id=user["id"]), content=Text(text=action["text"]))
        await messages.post_in(conn, ids=ids, limit=limit, app_id=app_id, conversation_id=conversation_id,
                               body=echo, through=through)
    conversation = await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    await emit(conn, ids=ids, app_id=app_id, type="conversation:postback", lane=conversation_id,
               payload=lambda control: events.conversation_postback(
                   {**conversation, **control}, action, user, through.source()))


def parse_action_id(action_id: str) -> tuple[str, tuple[int, ...]]:
    """The message id and the action's place in its content: `(n,)` or `(i, n)` (400 if malformed)."""
    message_id, *places = action_id.split(":")
    if not is_id(message_id) or len(places) not in (1, 2) or not all(p.isdigit() and len(p) < 4 for p in places):
        raise BadRequest("actionId: expected <messageId>:<n> or <messageId>:<item>:<n>")
    return message_id, tuple(int(p) for p in places)


def _action_at(content: dict[str, Any], path: tuple[int, ...]) -> dict[str, Any]:
    """The action at `path` of a message's content, or {} if there is none."""
    holder = content
    if len(path) == 2:
        items = content.get("items", [])
        holder = items[path[0]] if path[0] < len(items) else {}
    actions = holder.get("actions", [])
    return dict(actions[path[-1]]) if path[-1] < len(actions) else {}


def find_action(content: dict[str, Any], path: tuple[int, ...], action_id: str) -> dict[str, Any]:
    """The postback action at `path` of a message's content: 404 if there is none, 400 if it is another kind."""
    action = _action_at(content, path)
    if not action:
        raise NotFound(f"Action {action_id} not found in this conversation")
    if action.get("type") != "postback":
        raise BadRequest(f"actionId: action {action_id} is a {action.get('type')} action, not a postback")
    return action
