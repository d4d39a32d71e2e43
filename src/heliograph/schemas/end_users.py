"""Bodies of the end users' SDK API (docs/end-users.md)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from heliograph.schemas.common import UNSET, Metadata, Struct, UnsetType
from heliograph.schemas.users import Profile


class AnonymousUserBody(Struct):
    """POST /sdk/v2/apps/{appId}/appusers: the SDK integration the user comes through, and their profile."""

    integration_id: Annotated[str, Meta(min_length=1, max_length=24)]
    profile: Profile | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET
