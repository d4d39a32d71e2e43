"""Default integration assignment: who takes control of a conversation that nobody controls.

The spec (ReleaseControl, DeleteSwitchboardIntegration, `defaultResponderId`) and the switchboard
guide it links: a conversation without an active switchboard integration (control released, or its
active switchboard integration deleted) gets one the next time its user writes: the default
responder of the integration the user wrote through when that integration names one of the
switchboard's members, otherwise the switchboard's default. A conversation that never had control
assigned (it existed before the switchboard was enabled) is the default's already, so only a
per-integration responder changes it. Nothing else is emitted for the assignment: the hosted
service issues no passControl for it (Zendesk support article 7075261041690); the message's own
`conversation:message` shows the new `activeSwitchboardIntegration`, and goes to its webhooks.
"""

from __future__ import annotations

from heliograph.store import switchboards as store
from heliograph.store.fast import Plan


def assign_plan(*, app_id: str, conversation_id: str, integration_id: str | None) -> Plan[None]:
    """A step of PostMessage's plan for a user's message, written through `integration_id` (None: the API
    with an app or account key); runs after the conversation's row is locked by the message count."""
    found = yield store.vacancy(app_id=app_id, conversation_id=conversation_id)
    if not found:
        return  # no enabled switchboard: nobody is ever in control
    board = found[0]
    stored = board["stored"] is not None
    if stored and board["active_id"] is not None:
        return
    chosen = None
    if integration_id is not None:
        named = yield store.responder(integration_id=integration_id, switchboard_id=board["id"])
        chosen = named[0]["id"] if named else None
    if chosen is None:
        if not stored:
            return  # never assigned: the default is in control of it already
        chosen = board["default_id"]
        if chosen is None:
            return
    yield store.assign(app_id=app_id, conversation_id=conversation_id, active_id=chosen, stored=stored)
