"""Bodies of the end users' SDK API (docs/end-users.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from heliograph.schemas.common import EMAIL_PATTERN, UNSET, Metadata, Struct, UnsetType
from heliograph.schemas.conversations import ConversationUpdateBody
from heliograph.schemas.messages import Content, Label, Option
from heliograph.schemas.users import Profile


class AnonymousUserBody(Struct):
    """POST /sdk/v2/apps/{appId}/appusers: the SDK integration the user comes through, and their profile."""

    integration_id: Annotated[str, Meta(min_length=1, max_length=24)]
    profile: Profile | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class EndUserConversationBody(ConversationUpdateBody):
    """POST /sdk/v2/apps/{appId}/appusers/{userId}/conversations: a new personal conversation of the user,
    with the fields UpdateConversation may set (displayName, description, iconUrl, metadata)."""


class EndUserMessageBody(Struct):
    """POST /sdk/v2/apps/{appId}/conversations/{conversationId}/messages: the user's message; the author is
    the signed-in user. `clientMessageId` (the client's own id for it) makes a retried send answer the
    first message instead of sending it twice."""

    content: Content
    metadata: Metadata | None | UnsetType = UNSET
    client_message_id: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET


class EndUserActivityBody(Struct):
    """POST /sdk/v2/apps/{appId}/conversations/{conversationId}/activity: typing, or having read."""

    type: Literal["typing:start", "typing:stop", "conversation:read"]


class LoginBody(Struct):
    """POST /sdk/v2/apps/{appId}/login (with the user JWT as Bearer): the SDK integration, and this browser's
    anonymous session if it has one, whose user becomes (or merges into) the identified user."""

    integration_id: Annotated[str, Meta(min_length=1, max_length=24)]
    user_id: str | UnsetType = UNSET
    session_token: str | UnsetType = UNSET


class EndUserFileFields(Struct):
    """POST /sdk/v2/apps/{appId}/conversations/{conversationId}/files: the text parts beside the file
    (`source`); `clientMessageId` as for a message."""

    client_message_id: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET


class PostbackBody(Struct):
    """POST /sdk/v2/apps/{appId}/conversations/{conversationId}/postback: the postback button the user
    clicked, `<messageId>:<n>` for `content.actions[n]` or `<messageId>:<i>:<n>` for
    `content.items[i].actions[n]`."""

    action_id: Annotated[str, Meta(min_length=1, max_length=64)]


class FormResponseField(Struct):
    """A formResponse field: the form's field it answers (by name and type), and the answer."""

    type: Literal["email", "select", "text"]
    name: Label
    label: Label | UnsetType = UNSET
    text: Annotated[str, Meta(min_length=1, max_length=256)] | UnsetType = UNSET
    email: Annotated[str, Meta(min_length=1, max_length=128, pattern=EMAIL_PATTERN)] | UnsetType = UNSET
    select: Annotated[list[Option], Meta(min_length=1, max_length=200)] | UnsetType = UNSET


class FormResponseBody(Struct):
    """POST /sdk/v2/apps/{appId}/conversations/{conversationId}/form-responses: the answers to a form
    message of the conversation."""

    quoted_message_id: Annotated[str, Meta(min_length=1, max_length=24)]
    fields: Annotated[list[FormResponseField], Meta(min_length=1, max_length=20)]
