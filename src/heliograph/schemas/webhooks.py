"""Webhook bodies (webhookCreateBody, webhookBody) and the spec's list of webhook triggers."""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

from heliograph.errors import BadRequest
from heliograph.schemas.common import UNSET, Struct, UnsetType

VERSION = "v2"
TARGET_MAX_LENGTH = 2048

TRIGGERS = frozenset({  # the spec's "Webhook Triggers" table, in its order
    "client:add", "client:remove", "client:update",
    "conversation:create", "conversation:join", "conversation:leave", "conversation:remove",
    "conversation:message", "conversation:message:delivery:channel", "conversation:message:delivery:failure",
    "conversation:message:delivery:user", "conversation:postback", "conversation:read", "conversation:referral",
    "passthrough:messaging", "conversation:typing",
    "switchboard:acceptControl", "switchboard:acceptControl:failure", "switchboard:offerControl",
    "switchboard:offerControl:failure", "switchboard:passControl", "switchboard:passControl:failure",
    "switchboard:releaseControl",
    "user:merge", "user:update", "user:remove",
})


class WebhookCreateBody(Struct):
    target: str
    triggers: list[str]
    include_full_user: bool = False
    include_full_source: bool = False


class WebhookBody(Struct):
    target: str | UnsetType = UNSET
    triggers: list[str] | UnsetType = UNSET
    include_full_user: bool | UnsetType = UNSET
    include_full_source: bool | UnsetType = UNSET


def check_target(target: str, *, field: str = "target") -> None:
    """A target is an absolute http(s) URL with a host (and a valid port, if any)."""
    try:
        parts = urlsplit(target)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number in range, or a malformed IPv6 host
        valid = False
    if not valid or len(target) > TARGET_MAX_LENGTH or any(c.isspace() or not c.isprintable() for c in target):
        raise BadRequest(f"Invalid {field}: must be an absolute http or https URL of at most "
                         f"{TARGET_MAX_LENGTH} characters")


def check_triggers(triggers: list[str], *, field: str = "triggers") -> list[str]:
    """At least one trigger, each one of the spec's; duplicates are dropped, first occurrence kept."""
    if not triggers:
        raise BadRequest(f"Invalid {field}: at least one trigger is required")
    for index, trigger in enumerate(triggers):
        if trigger not in TRIGGERS:
            raise BadRequest(f"Invalid {field}[{index}]: unknown trigger '{trigger}'")
    return list(dict.fromkeys(triggers))


def check_webhook(body: WebhookCreateBody, *, field: str = "") -> WebhookCreateBody:
    """The body with its rules checked (errors name `field` + the property) and duplicate triggers dropped."""
    check_target(body.target, field=field + "target")
    return msgspec.structs.replace(body, triggers=check_triggers(body.triggers, field=field + "triggers"))
