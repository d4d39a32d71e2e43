"""Payloads of the switchboard:* events (the spec's switchboardPassControl … schemas).

The conversation is conversationTruncated with the switchboard integrations in control of it
(`activeSwitchboardIntegration`) and offered control (`pendingSwitchboardIntegration`), each as
switchboardIntegrationWebhook; `metadata` is the action's metadata, when it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heliograph.events import payloads as events
from heliograph.schemas.switchboards import switchboard_integration_webhook

Row = Mapping[Any, Any]  # a RowMapping or a dict of its columns

INVALID_TARGET = "switchboard_invalid_target"
INVALID_ACTION = "switchboard_invalid_action"


def conversation(conversation_row: Row, active: Row | None, pending: Row | None) -> dict[str, Any]:
    truncated = events.conversation(conversation_row)
    if active is not None:
        truncated["activeSwitchboardIntegration"] = switchboard_integration_webhook(active)
    if pending is not None:
        truncated["pendingSwitchboardIntegration"] = switchboard_integration_webhook(pending)
    return truncated


def control(conversation_row: Row, active: Row | None, pending: Row | None,
            metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """switchboard:passControl, :offerControl, :acceptControl and :releaseControl."""
    payload: dict[str, Any] = {"conversation": conversation(conversation_row, active, pending)}
    if metadata is not None:
        payload["metadata"] = dict(metadata)
    return payload


def failure(conversation_row: Row, active: Row | None, pending: Row | None, metadata: Mapping[str, Any] | None,
            *, code: str, message: str) -> dict[str, Any]:
    """The `:failure` events: the conversation as it stays, and what went wrong."""
    return {**control(conversation_row, active, pending, metadata), "error": {"code": code, "message": message}}
