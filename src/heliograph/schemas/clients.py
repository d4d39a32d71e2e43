"""Client bodies (clientCreate and its matchCriteria, syncUserBody) and the client and device wire objects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from msgspec import Meta

from heliograph.errors import BadRequest
from heliograph.ids import iso
from heliograph.schemas.common import EMAIL_PATTERN, UNSET, Struct, UnsetType
from heliograph.schemas.messages import MessagePost

Row = Mapping[Any, Any]  # a RowMapping or a dict of a table's columns
_PHONE = re.compile(r"^\+[0-9][0-9 ().\-]*$")
PHONE_DIGITS = (7, 15)  # E.164: a country code and at most 15 digits in all


class Criteria(Struct, tag_field="type"):
    """matchCriteriaBase: the integration to link, told apart by `type` (each kind adds `primary` last,
    after its required fields)."""

    integration_id: str


class MailgunCriteria(Criteria, tag="mailgun"):
    address: Annotated[str, Meta(min_length=1, max_length=128, pattern=EMAIL_PATTERN)]
    subject: Annotated[str, Meta(min_length=1, max_length=998)] | UnsetType = UNSET
    primary: bool = True


class MessagebirdCriteria(Criteria, tag="messagebird"):
    phone_number: str
    primary: bool = True


class TwilioCriteria(Criteria, tag="twilio"):
    phone_number: str
    primary: bool = True


class WhatsappCriteria(Criteria, tag="whatsapp"):
    phone_number: str
    primary: bool = True


MatchCriteria = MailgunCriteria | MessagebirdCriteria | TwilioCriteria | WhatsappCriteria


class Confirmation(Struct):
    type: Literal["immediate", "userActivity", "prompt"]
    message: MessagePost | UnsetType = UNSET


class Target(Struct):
    conversation_id: str


class ClientCreate(Struct):
    match_criteria: MatchCriteria
    confirmation: Confirmation
    target: Target


class SyncUserBody(Struct):
    surviving_zendesk_id: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET


def phone_number(value: str, *, field: str = "matchCriteria.phoneNumber") -> str:
    """A phone number with its + prefix and country code, as E.164 (`+12125552368`)."""
    digits = re.sub(r"\D", "", value)
    if not _PHONE.match(value) or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
        raise BadRequest(f"Invalid {field}: must contain the + prefix and the country code, "
                         "such as +1 212-555-2368")
    return "+" + digits


def _present(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def client(row: Row) -> dict[str, Any]:
    return _present([
        ("id", row["id"]), ("type", row["type"]), ("status", row["status"]),
        ("integrationId", row["integration_id"]), ("externalId", row["external_id"]),
        ("lastSeen", iso(row["last_seen"])), ("linkedAt", iso(row["linked_at"])),
        ("displayName", row["display_name"]), ("avatarUrl", row["avatar_url"]),
        ("info", row["info"]), ("raw", row["raw"]),
    ])


def device(row: Row) -> dict[str, Any]:
    return _present([
        ("id", row["id"]), ("type", row["type"]), ("guid", row["guid"]), ("clientId", row["client_id"]),
        ("status", row["status"]), ("integrationId", row["integration_id"]),
        ("lastSeen", iso(row["last_seen"])), ("pushNotificationToken", row["push_notification_token"]),
        ("info", row["info"]), ("appVersion", row["app_version"]),
    ])
