"""downloadMessageRefBody and conversionEventsBody, as the spec writes them."""

from __future__ import annotations

from typing import Any

from heliograph.schemas.common import UNSET, Struct, UnsetType

CONVERSION_CHANNELS = ("messenger", "instagram", "whatsapp")  # the three branches of conversionEventsBody


class InteractiveDataRef(Struct):
    url: str
    bid: str
    key: str
    signature: str
    owner: str


class AppleMessageRef(Struct):
    interactive_data_ref: InteractiveDataRef


class DownloadMessageRefBody(Struct):
    user_id: str
    apple: AppleMessageRef | UnsetType = UNSET


class MetaConversionPayload(Struct):
    data: list[dict[str, Any]]


class MetaConversionEvent(Struct):
    payload: MetaConversionPayload


class ConversionEventsBody(Struct):
    messenger: MetaConversionEvent | UnsetType = UNSET
    instagram: MetaConversionEvent | UnsetType = UNSET
    whatsapp: MetaConversionEvent | UnsetType = UNSET

    def channels(self) -> list[str]:
        return [name for name in CONVERSION_CHANNELS if getattr(self, name) is not UNSET]
