"""Switchboard Actions routes (PassControl, OfferControl, AcceptControl, ReleaseControl)."""

from __future__ import annotations

from typing import Any

from heliograph.api.http import INTEGRATION, Call, Reply, Routes
from heliograph.schemas.switchboards import AcceptControlBody, OfferControlBody, PassControlBody, ReleaseControlBody
from heliograph.services import switchboard_actions as service

routes = Routes()
CONVERSATION = "/v2/apps/{appId}/conversations/{conversationId}"


def _conversation(call: Call) -> dict[str, Any]:
    return {"ids": call.services.ids, "app_id": call.params["appId"],
            "conversation_id": call.params["conversationId"]}


@routes("POST", CONVERSATION + "/passControl", "PassControl", INTEGRATION)
async def pass_control(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/passControl (PassControl)."""
    body = call.body(PassControlBody)
    async with call.services.db.write() as conn:
        await service.pass_control(conn, **_conversation(call), caller=call.principal.integration_id, body=body)
    return 200, {}


@routes("POST", CONVERSATION + "/offerControl", "OfferControl", INTEGRATION)
async def offer_control(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/offerControl (OfferControl)."""
    body = call.body(OfferControlBody)
    async with call.services.db.write() as conn:
        await service.offer_control(conn, **_conversation(call), body=body)
    return 200, {}


@routes("POST", CONVERSATION + "/acceptControl", "AcceptControl", INTEGRATION)
async def accept_control(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/acceptControl (AcceptControl)."""
    body = call.body(AcceptControlBody) if call.raw_body else AcceptControlBody()
    async with call.services.db.write() as conn:
        await service.accept_control(conn, **_conversation(call), caller=call.principal.integration_id, body=body)
    return 200, {}


@routes("POST", CONVERSATION + "/releaseControl", "ReleaseControl", INTEGRATION)
async def release_control(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/releaseControl (ReleaseControl).

    The official SDK posts no body at all (with a JSON content type): that is an empty body.
    """
    body = call.body(ReleaseControlBody) if call.raw_body else ReleaseControlBody()
    async with call.services.db.write() as conn:
        await service.release_control(conn, **_conversation(call), caller=call.principal.integration_id, body=body)
    return 200, {}
