"""Message bodies (messagePost, activityPost): every content type and every action type."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from heliograph.schemas.common import UNSET, Metadata, Struct, UnsetType, Uri

Text4096 = Annotated[str, Meta(max_length=4096)]
Short = Annotated[str, Meta(max_length=128)]
Label = Annotated[str, Meta(min_length=1, max_length=128)]


class Tagged(Struct, tag_field="type"):
    """A member of a union told apart by its `type` field."""


# --- actions -------------------------------------------------------------------------------

class MessengerOptions(msgspec.Struct, kw_only=True, omit_defaults=True):
    messenger_extensions: bool | UnsetType = UNSET
    webview_share_button: Literal["hide"] | UnsetType = UNSET


class ExtraChannelOptions(Struct):
    messenger: MessengerOptions | UnsetType = UNSET


class Buy(Tagged, tag="buy"):
    text: str
    amount: int
    currency: str | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


class Link(Tagged, tag="link"):
    text: str
    uri: str
    default: bool | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET
    extra_channel_options: ExtraChannelOptions | UnsetType = UNSET


class LocationRequest(Tagged, tag="locationRequest"):
    text: str
    metadata: Metadata | None | UnsetType = UNSET


class Postback(Tagged, tag="postback"):
    text: str
    payload: str
    metadata: Metadata | None | UnsetType = UNSET


class Reply(Tagged, tag="reply"):
    text: str
    payload: str
    metadata: Metadata | None | UnsetType = UNSET
    icon_url: str | UnsetType = UNSET


class Webview(Tagged, tag="webview"):
    text: str
    uri: str
    fallback: str
    default: bool | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET
    extra_channel_options: ExtraChannelOptions | UnsetType = UNSET
    size: Literal["compact", "tall", "full"] | UnsetType = UNSET
    open_on_receive: bool | UnsetType = UNSET


Action = Buy | Link | LocationRequest | Postback | Reply | Webview
ActionSubset = Buy | Link | Postback | Webview


# --- content -------------------------------------------------------------------------------

class Item(Struct):
    title: Label
    actions: Annotated[list[ActionSubset], Meta(min_length=1, max_length=3)]
    description: Short | UnsetType = UNSET
    media_url: Uri | UnsetType = UNSET
    media_type: Short | UnsetType = UNSET
    alt_text: Short | UnsetType = UNSET
    size: Literal["compact", "large"] | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET


Items = Annotated[list[Item], Meta(min_length=1, max_length=10)]


class Text(Tagged, tag="text"):
    text: Text4096 | UnsetType = UNSET
    html_text: Text4096 | UnsetType = UNSET
    markdown_text: Text4096 | UnsetType = UNSET
    block_chat_input: bool | UnsetType = UNSET
    actions: list[Action] | UnsetType = UNSET
    payload: str | UnsetType = UNSET


class Media(Tagged):
    media_url: Uri
    alt_text: Short | UnsetType = UNSET
    text: Text4096 | UnsetType = UNSET
    block_chat_input: bool | UnsetType = UNSET
    html_text: Text4096 | UnsetType = UNSET
    markdown_text: Text4096 | UnsetType = UNSET
    attachment_id: str | UnsetType = UNSET


class Image(Media, tag="image"):
    actions: list[Action] | UnsetType = UNSET


class File(Media, tag="file"):
    pass


class DisplaySettings(Struct):
    image_aspect_ratio: Literal["horizontal", "square"] | UnsetType = UNSET


class Carousel(Tagged, tag="carousel"):
    items: Items
    block_chat_input: bool | UnsetType = UNSET
    display_settings: DisplaySettings | UnsetType = UNSET


class List(Tagged, tag="list"):
    items: Items
    block_chat_input: bool | UnsetType = UNSET
    actions: Annotated[list[ActionSubset], Meta(min_length=1, max_length=10)] | UnsetType = UNSET


class Coordinates(Struct):
    lat: Annotated[float, Meta(ge=-90, le=90)]
    long: Annotated[float, Meta(ge=-180, le=180)]


class Place(Struct):
    address: str | UnsetType = UNSET
    name: str | UnsetType = UNSET


class Location(Tagged, tag="location"):
    coordinates: Coordinates
    location: Place | UnsetType = UNSET
    block_chat_input: bool | UnsetType = UNSET


class Option(Struct):
    label: Label | UnsetType = UNSET
    name: Label | UnsetType = UNSET


class FormField(Struct):
    type: Literal["email", "select", "text"]
    name: Label
    label: Label
    placeholder: Label | UnsetType = UNSET
    min_size: Annotated[int, Meta(ge=1, le=256)] | UnsetType = UNSET
    max_size: Annotated[int, Meta(ge=1, le=256)] | UnsetType = UNSET
    options: Annotated[list[Option], Meta(max_length=200)] | UnsetType = UNSET
    format: Literal["integer", "decimal"] | UnsetType = UNSET
    text: Annotated[str, Meta(min_length=1, max_length=256)] | UnsetType = UNSET
    email: Label | UnsetType = UNSET
    select: list[dict[str, Any]] | UnsetType = UNSET


class Form(Tagged, tag="form"):
    fields: Annotated[list[FormField], Meta(min_length=1, max_length=20)]
    text: str | UnsetType = UNSET
    block_chat_input: bool | UnsetType = UNSET


class FormResponse(Tagged, tag="formResponse"):
    fields: Annotated[list[dict[str, Any]], Meta(min_length=1, max_length=20)]


class Template(Tagged, tag="template"):
    template: dict[str, Any]
    block_chat_input: bool | UnsetType = UNSET


Content = Text | Image | File | Carousel | List | Location | Form | FormResponse | Template


# --- author, destination, message, activity ------------------------------------------------

Subtype = Literal["AI", "activity", "agent", "bot"]
RESPONSE_ONLY_SUBTYPES = frozenset({"agent", "bot"})  # the spec: "available in responses only"


class Author(Struct):
    type: Literal["business", "user"]
    # the spec puts minItems/maxItems 1 and uniqueItems on the items: meant for the array
    subtypes: Annotated[list[Subtype], Meta(min_length=1, max_length=1)] | UnsetType = UNSET
    user_id: str | UnsetType = UNSET
    user_external_id: str | UnsetType = UNSET
    brand_id: Annotated[str, Meta(min_length=1, max_length=24)] | None | UnsetType = UNSET
    display_name: str | UnsetType = UNSET
    avatar_url: Uri | UnsetType = UNSET


class Destination(Struct):
    integration_id: str | UnsetType = UNSET
    integration_type: str | UnsetType = UNSET


class MessagePost(Struct):
    author: Author
    content: Content
    destination: Destination | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET
    override: dict[str, Any] | UnsetType = UNSET
    schema: str | UnsetType = UNSET


class ActivityPost(Struct):
    author: Author
    type: Literal["conversation:read", "typing:start", "typing:stop"]
