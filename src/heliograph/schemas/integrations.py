"""Integration bodies: one model per type, as the spec's `integration` components and their `…Update`s.

An update model holds what UpdateIntegration may change for its type; the create model of the
same type extends it with the fields that can only be set at creation (required ones included)
and is tagged by `type`, so that `IntegrationBody` decodes any of the 16 types and a failure
names the field. Fields the spec marks `writeOnly` are kept but never returned (`WRITE_ONLY`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from heliograph.schemas.common import UNSET, DisplayName, Struct, UnsetType
from heliograph.schemas.messages import FormField
from heliograph.schemas.webhooks import WebhookCreateBody

Name = Annotated[str, Meta(max_length=100)] | None | UnsetType  # create: maxLength 100, nullable
NewName = Annotated[str, Meta(min_length=1, max_length=100)] | None | UnsetType  # update: also minLength 1
Filled = Annotated[str, Meta(min_length=1)]
Color = Annotated[str, Meta(pattern=r"^(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")]
Origin = Annotated[str, Meta(pattern=r"^https?://[^\s/:?#@]+(?::\d{1,5})?$")]
AuthSecret = Annotated[str, Meta(min_length=88)]


# --- update models (integrationUpdate) -----------------------------------------------------------

class CustomUpdate(Struct):
    display_name: NewName = UNSET


class UpdateBase(Struct):
    display_name: NewName = UNSET
    default_responder_id: str | None | UnsetType = UNSET
    show_ai_disclaimer: bool | UnsetType = msgspec.field(default=UNSET, name="showAIDisclaimer")


class ConversationListOptions(UpdateBase):
    can_user_see_conversation_list: bool | UnsetType = UNSET
    can_user_create_more_conversations: bool | UnsetType = UNSET


class AndroidUpdate(ConversationListOptions):
    project_id: Filled | None | UnsetType = UNSET
    client_email: Filled | None | UnsetType = UNSET
    private_key: Filled | None | UnsetType = UNSET
    server_key: Filled | None | UnsetType = UNSET
    sender_id: Filled | None | UnsetType = UNSET


class AppleUpdate(UpdateBase):
    authentication_message_secret: AuthSecret | UnsetType = UNSET


class InstagramUpdate(UpdateBase):
    page_access_token: str | UnsetType = UNSET
    story_replies_enabled: bool | UnsetType = UNSET
    story_mentions_enabled: bool | UnsetType = UNSET


class IosUpdate(ConversationListOptions):
    certificate: Filled | None | UnsetType = UNSET
    password: str | UnsetType = UNSET
    production: bool | UnsetType = UNSET
    auto_update_badge: bool | UnsetType = UNSET


class MailgunUpdate(UpdateBase):
    hide_unsubscribe_link: bool | UnsetType = UNSET
    from_address: Filled | None | UnsetType = UNSET


class MessengerUpdate(UpdateBase):
    page_access_token: str | UnsetType = UNSET


class UnityUpdate(ConversationListOptions):
    pass


class PrechatCapture(Struct):
    avatar_url: str | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    enable_email_linking: bool | UnsetType = UNSET
    fields: list[FormField] | UnsetType = UNSET


class WebUpdate(ConversationListOptions):
    brand_color: Color | UnsetType = UNSET
    fixed_intro_pane: bool | UnsetType = UNSET
    conversation_color: Color | UnsetType = UNSET
    action_color: Color | UnsetType = UNSET
    display_style: Literal["button", "tab"] | UnsetType = UNSET
    button_icon_url: str | None | UnsetType = UNSET
    button_width: str | UnsetType = UNSET
    button_height: str | UnsetType = UNSET
    integration_order: list[str] | None | UnsetType = UNSET
    business_name: str | UnsetType = UNSET
    business_icon_url: str | UnsetType = UNSET
    background_image_url: str | UnsetType = UNSET
    origin_whitelist: list[Origin] | None | UnsetType = UNSET
    prechat_capture: PrechatCapture | UnsetType = UNSET


class WhatsAppUpdate(UpdateBase):
    hsm_fallback_language: str | None | UnsetType = UNSET
    account_id: str | None | UnsetType = UNSET
    account_management_access_token: str | None | UnsetType = UNSET


# --- create models (integration) -----------------------------------------------------------------

class Android(AndroidUpdate, tag_field="type", tag="android", kw_only=True):
    display_name: Name = UNSET


class Apple(AppleUpdate, tag_field="type", tag="apple", kw_only=True):
    display_name: Name = UNSET
    business_id: str
    api_secret: str
    msp_id: str


class Custom(CustomUpdate, tag_field="type", tag="custom", kw_only=True):
    display_name: Name = UNSET
    webhooks: Annotated[list[WebhookCreateBody], Meta(min_length=1, max_length=1)]


class Instagram(InstagramUpdate, tag_field="type", tag="instagram", kw_only=True):
    display_name: Name = UNSET
    page_access_token: str | None  # type: ignore[assignment]  # required at creation
    app_id: str
    app_secret: str | None


class Ios(IosUpdate, tag_field="type", tag="ios", kw_only=True):
    display_name: Name = UNSET


class Line(UpdateBase, tag_field="type", tag="line", kw_only=True):
    display_name: Name = UNSET
    channel_id: str | UnsetType = UNSET
    channel_secret: str | UnsetType = UNSET
    channel_access_token: str | UnsetType = UNSET
    service_code: str | UnsetType = UNSET
    switcher_secret: Filled | UnsetType = UNSET
    qr_code_url: str | UnsetType = UNSET


class Mailgun(MailgunUpdate, tag_field="type", tag="mailgun", kw_only=True):
    display_name: Name = UNSET
    api_key: Filled | None
    signing_key: Filled | UnsetType = UNSET
    domain: Filled
    incoming_address: Filled


class Messagebird(UpdateBase, tag_field="type", tag="messagebird", kw_only=True):
    display_name: Name = UNSET
    access_key: Filled | None
    signing_key: Filled | None
    originator: Filled


class Messenger(MessengerUpdate, tag_field="type", tag="messenger", kw_only=True):
    display_name: Name = UNSET
    page_access_token: str | None  # type: ignore[assignment]  # required at creation
    app_id: str
    app_secret: str | None
    page_id: int | float | UnsetType = UNSET
    page_name: str | UnsetType = UNSET


class Telegram(UpdateBase, tag_field="type", tag="telegram", kw_only=True):
    display_name: Name = UNSET
    token: Filled | None


class Twilio(UpdateBase, tag_field="type", tag="twilio", kw_only=True):
    display_name: Name = UNSET
    account_sid: str
    auth_token: Filled | None
    phone_number_sid: Filled | UnsetType = UNSET
    messaging_service_sid: Filled | UnsetType = UNSET


class Twitter(UpdateBase, tag_field="type", tag="twitter", kw_only=True):
    display_name: Name = UNSET
    tier: Literal["enterprise"]
    consumer_key: Filled
    consumer_secret: Filled | None
    access_token_key: Filled
    access_token_secret: Filled | None


class Unity(UnityUpdate, tag_field="type", tag="unity", kw_only=True):
    display_name: Name = UNSET


class Viber(UpdateBase, tag_field="type", tag="viber", kw_only=True):
    display_name: Name = UNSET
    token: Filled | None


class Web(WebUpdate, tag_field="type", tag="web", kw_only=True):
    display_name: Name = UNSET


class Whatsapp(WhatsAppUpdate, tag_field="type", tag="whatsapp", kw_only=True):
    display_name: Name = UNSET
    # Heliograph's own, for Meta's Cloud API (docs/channels.md#whatsapp): the spec's object describes the retired
    # on-premises client. Given all three (with accountId), the integration is set up and active.
    phone_number_id: Filled | UnsetType = UNSET
    access_token: Filled | UnsetType = UNSET
    app_secret: Filled | UnsetType = UNSET


IntegrationBody = (Android | Apple | Custom | Instagram | Ios | Line | Mailgun | Messagebird | Messenger
                   | Telegram | Twilio | Twitter | Unity | Viber | Web | Whatsapp)

UPDATE_MODELS: dict[str, type[Struct]] = {
    "android": AndroidUpdate, "apple": AppleUpdate, "custom": CustomUpdate, "instagram": InstagramUpdate,
    "ios": IosUpdate, "line": UpdateBase, "mailgun": MailgunUpdate, "messagebird": UpdateBase,
    "messenger": MessengerUpdate, "telegram": UpdateBase, "twilio": UpdateBase, "twitter": UpdateBase,
    "unity": UnityUpdate, "viber": UpdateBase, "web": WebUpdate, "whatsapp": WhatsAppUpdate,
}
TYPES = frozenset(UPDATE_MODELS)

WRITE_ONLY: dict[str, frozenset[str]] = {  # the fields each type's schema marks writeOnly
    kind: frozenset({"defaultResponderId", *fields}) for kind, fields in {
        "android": ("projectId", "clientEmail", "privateKey", "serverKey"),
        "apple": ("apiSecret",),
        "custom": (),
        "instagram": ("pageAccessToken", "appSecret"),
        "ios": ("certificate", "password"),
        "line": (),
        "mailgun": ("apiKey",),
        "messagebird": ("accessKey", "signingKey"),
        "messenger": ("appSecret",),
        "telegram": ("token",),
        "twilio": ("authToken",),
        "twitter": ("consumerKey", "consumerSecret", "accessTokenKey", "accessTokenSecret"),
        "unity": (),
        "viber": ("token",),
        "web": (),
        "whatsapp": ("accessToken", "appSecret"),  # Heliograph's own fields (the spec marks none)
    }.items()}

# What Heliograph keeps of a channel beside the type's fields and never shows (services/channels.py): the
# number a Twilio integration sends from, and the URL its messages' status callbacks go to.
OWN_FIELDS: dict[str, frozenset[str]] = {"twilio": frozenset({"phoneNumber", "statusCallback"}),
                                         "whatsapp": frozenset({"phoneNumberId"}),
                                         "mailgun": frozenset({"routeId", "webhookUrl"})}

# Fields whose description makes them URLs (the spec gives none of them `format: uri`): each must be an
# absolute http(s) URL, like a webhook's target. A dotted name is a field of a nested object.
URL_FIELDS = ("buttonIconUrl", "businessIconUrl", "backgroundImageUrl", "prechatCapture.avatarUrl", "qrCodeUrl")

_SDK = {
    "attachmentsEnabled": True,  # read-only: "by default, the setting is set to true"
    "canUserSeeConversationList": True,  # "by default, the list of conversations will be visible"
}
_SPECIFIC: dict[str, dict[str, Any]] = {
    "android": _SDK, "ios": _SDK, "unity": _SDK,
    "instagram": {"storyRepliesEnabled": True, "storyMentionsEnabled": True},
    "mailgun": {"hideUnsubscribeLink": False},  # "by default, the unsubscribe link will be included"
    "web": {**_SDK, "brandColor": "65758e", "fixedIntroPane": False, "conversationColor": "0099ff",
            "actionColor": "0099ff", "displayStyle": "button", "buttonWidth": "58", "buttonHeight": "58"},
    "whatsapp": {"hsmFallbackLanguage": "en_US"},
}
DEFAULTS: dict[str, dict[str, Any]] = {  # the spec's defaults and read-only values, stored at creation
    kind: {} if kind == "custom" else {"showAIDisclaimer": True, **_SPECIFIC.get(kind, {})} for kind in TYPES}


class IntegrationApiKey(Struct):
    """CreateCustomIntegrationKey's body."""

    display_name: DisplayName
