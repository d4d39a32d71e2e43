"""Conversation and participant bodies (ConversationCreateBody, ConversationUpdateBody,
participantJoinBody, participantLeaveBody)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from heliograph.schemas.common import UNSET, DisplayName, Metadata, Struct, UnsetType, Uri

Description = Annotated[str, Meta(min_length=1, max_length=100)]


class ParticipantSubSchema(Struct):
    user_id: str | UnsetType = UNSET
    user_external_id: str | UnsetType = UNSET
    subscribe_sdk_client: bool | UnsetType = msgspec.field(default=UNSET, name="subscribeSDKClient")


class ConversationCreateBody(Struct):
    type: Literal["personal", "sdkGroup"]
    participants: Annotated[list[ParticipantSubSchema], Meta(max_length=10)] | UnsetType = UNSET
    display_name: DisplayName | None | UnsetType = UNSET
    description: Description | None | UnsetType = UNSET
    icon_url: Uri | None | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class ConversationUpdateBody(Struct):
    display_name: DisplayName | None | UnsetType = UNSET
    description: Description | None | UnsetType = UNSET
    icon_url: Uri | None | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class ParticipantLeaveBody(Struct):
    user_id: str | UnsetType = UNSET
    user_external_id: str | UnsetType = UNSET
    participant_id: str | UnsetType = UNSET
