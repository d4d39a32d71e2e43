"""Bodies of the end users' SDK API (docs/end-users.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from heliograph.schemas.common import UNSET, DisplayName, Metadata, Struct, UnsetType, Uri
from heliograph.schemas.conversations import Description
from heliograph.schemas.messages import Content
from heliograph.schemas.users import Profile


class AnonymousUserBody(Struct):
    """POST /sdk/v2/apps/{appId}/appusers: the SDK integration the user comes through, and their profile."""

    integration_id: Annotated[str, Meta(min_length=1, max_length=24)]
    profile: Profile | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class EndUserConversationBody(Struct):
    """POST /sdk/v2/apps/{appId}/appusers/{userId}/conversations: a new personal conversation of the user."""

    display_name: DisplayName | None | UnsetType = UNSET
    description: Description | None | UnsetType = UNSET
    icon_url: Uri | None | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


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
