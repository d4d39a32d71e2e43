"""Clients (the spec's Clients tag) for tests: the channels a client may link, and CreateClient's raw body."""

from __future__ import annotations

from typing import Any

from tests.integrations import MINIMAL

CONFIG = {kind: MINIMAL[kind] for kind in ("mailgun", "messagebird", "twilio", "whatsapp")}  # their integrations
CRITERIA = {"mailgun": {"address": "ana@example.org"}, "messagebird": {"phoneNumber": "+15550001234"},
            "twilio": {"phoneNumber": "+1 212-555-2368"}, "whatsapp": {"phoneNumber": "+1 212 555 2368"}}


def raw_body(kind: str, integration_id: str, conversation_id: str) -> dict[str, Any]:
    return {"matchCriteria": {"type": kind, "integrationId": integration_id, **CRITERIA[kind]},
            "confirmation": {"type": "immediate"}, "target": {"conversationId": conversation_id}}
