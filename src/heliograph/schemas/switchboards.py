"""Switchboard bodies (switchboardUpdateBody, switchboardIntegration…Body, the control bodies) and
the renderers of switchboard rows (switchboard, switchboardIntegration, switchboardIntegrationWebhook)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from msgspec import Meta

from heliograph.errors import BadRequest
from heliograph.schemas.common import UNSET, Metadata, Struct, UnsetType

Name = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]+$", max_length=128)]
HistoryCount = Annotated[int, Meta(ge=1, le=10)]
NEXT = "next"  # the control target that means "the active switchboard integration's next one"


class SwitchboardUpdateBody(Struct):
    enabled: bool | UnsetType = UNSET
    default_switchboard_integration_id: str | UnsetType = UNSET


class SwitchboardIntegrationCreateBody(Struct):
    name: Name
    integration_id: str | UnsetType = UNSET
    integration_type: str | UnsetType = UNSET
    deliver_standby_events: bool = True
    next_switchboard_integration_id: str | None = None
    message_history_count: HistoryCount | None = None


class SwitchboardIntegrationUpdateBody(Struct):
    name: Name | UnsetType = UNSET
    integration_id: str | UnsetType = UNSET
    integration_type: str | UnsetType = UNSET
    deliver_standby_events: bool | UnsetType = UNSET
    next_switchboard_integration_id: str | None | UnsetType = UNSET
    message_history_count: HistoryCount | None | UnsetType = UNSET


class PassControlBody(Struct):
    switchboard_integration: str
    metadata: Metadata | UnsetType = UNSET


class OfferControlBody(PassControlBody):
    pass


class AcceptControlBody(Struct):
    metadata: Metadata | UnsetType = UNSET


class ReleaseControlBody(AcceptControlBody):
    pass


def check_link(integration_id: str | UnsetType, integration_type: str | UnsetType, *, required: bool) -> None:
    """integrationId or integrationType, never both; on creation, exactly one of them."""
    given = (integration_id is not UNSET) + (integration_type is not UNSET)
    if given == 2:
        raise BadRequest("Provide integrationId or integrationType, not both")
    if required and given == 0:
        raise BadRequest("One of integrationId or integrationType is required")


def switchboard(row: Mapping[Any, Any]) -> dict[str, Any]:
    wire = {"id": row["id"], "enabled": row["enabled"]}
    if row["default_id"] is not None:
        wire["defaultSwitchboardIntegrationId"] = row["default_id"]
    return wire


def switchboard_integration(row: Mapping[Any, Any]) -> dict[str, Any]:
    wire = {**switchboard_integration_webhook(row), "deliverStandbyEvents": row["deliver_standby_events"]}
    if row["next_id"] is not None:
        wire["nextSwitchboardIntegrationId"] = row["next_id"]
    if row["message_history_count"] is not None:
        wire["messageHistoryCount"] = row["message_history_count"]
    return wire


def default_responder(row: Mapping[Any, Any], *, inherited: bool) -> dict[str, Any]:
    """An integration's defaultResponder: the switchboard integration (without its id, as the spec shows
    it) and whether it is the switchboard's default (`inherited`) rather than the integration's own."""
    wire = switchboard_integration(row)
    del wire["id"]
    return {**wire, "inherited": inherited}


def switchboard_integration_webhook(row: Mapping[Any, Any]) -> dict[str, Any]:
    """switchboardIntegrationWebhook: how a conversation names the integration in (or offered) control."""
    return {"id": row["id"], "name": row["name"], "integrationId": row["integration_id"],
            "integrationType": row["integration_type"]}
