"""User bodies (UserCreateBody, UserUpdateBody) and the profile they carry."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from heliograph.schemas.common import EMAIL_PATTERN, UNSET, Metadata, Struct, UnsetType, Uri

Name = Annotated[str, Meta(min_length=1, max_length=128)]


class Profile(Struct):
    given_name: Name | None | UnsetType = UNSET
    surname: Name | None | UnsetType = UNSET
    email: Annotated[str, Meta(min_length=1, max_length=128, pattern=EMAIL_PATTERN)] | None | UnsetType = UNSET
    avatar_url: Uri | None | UnsetType = UNSET
    locale: Annotated[str, Meta(min_length=1, max_length=64)] | None | UnsetType = UNSET


class UserCreateBody(Struct):
    external_id: Annotated[str, Meta(min_length=1, max_length=1024)] | UnsetType = UNSET
    brand_id: Annotated[str, Meta(min_length=1, max_length=24)] | None | UnsetType = UNSET
    signed_up_at: str | UnsetType = UNSET
    to_be_retained: bool | UnsetType = UNSET
    profile: Profile | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class UserUpdateBody(Struct):
    signed_up_at: str | UnsetType = UNSET
    to_be_retained: bool | UnsetType = UNSET
    profile: Profile | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET
