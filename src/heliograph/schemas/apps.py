"""App and app key bodies (AppCreateBody, AppUpdateBody, AppKeyCreateBody)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from heliograph.schemas.common import UNSET, DisplayName, Metadata, Struct, UnsetType


class AppSettings(Struct):
    conversation_retention_seconds: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    mask_credit_card_numbers: bool | UnsetType = UNSET
    use_animal_names: bool | UnsetType = UNSET
    echo_postback: bool | UnsetType = UNSET
    ignore_auto_conversation_start: bool | UnsetType = UNSET
    multi_convo_enabled: bool | UnsetType = UNSET
    app_localization_enabled: bool | UnsetType = UNSET
    end_session_enabled: bool | UnsetType = UNSET
    disable_conversation_reopen: bool | UnsetType = UNSET


class AppCreateBody(Struct):
    display_name: DisplayName
    settings: AppSettings | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class AppUpdateBody(Struct):
    display_name: DisplayName | UnsetType = UNSET
    settings: AppSettings | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class AppKeyCreateBody(Struct):
    display_name: DisplayName
