"""Switchboard control (services/switchboard_actions.py): pass, offer, accept and release, told by events."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import Forbidden
from heliograph.schemas.switchboards import (
    AcceptControlBody,
    OfferControlBody,
    PassControlBody,
    ReleaseControlBody,
    SwitchboardIntegrationUpdateBody,
)
from heliograph.services import conversations, switchboards
from heliograph.services import switchboard_actions as actions
from heliograph.store.db import Database
from tests.factories import IDS, body, make_app, make_conversation, make_custom, make_switchboard, make_user
from tests.utils import api_error, stored_events, with_database

TRIGGERS = ("switchboard:passControl", "switchboard:passControl:failure", "switchboard:offerControl",
            "switchboard:offerControl:failure", "switchboard:acceptControl", "switchboard:acceptControl:failure",
            "switchboard:releaseControl")


class Desk:
    """An app whose enabled switchboard has `bot` (the default) and `agent`, and a conversation of it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, *names: str) -> Desk:
        async with self.db.write() as conn:
            self.app_id = (await make_app(conn))["id"]
            self.members = await make_switchboard(conn, self.app_id, *names, triggers=TRIGGERS)
            user = await make_user(conn, self.app_id, externalId="ana")
            self.conversation_id = (await make_conversation(conn, self.app_id, user))["id"]
        return self

    def integration(self, name: str) -> str:
        return str(self.members[name]["integrationId"])

    async def act(self, action: Any, **arguments: Any) -> None:
        """One switchboard action on the conversation, in a transaction of its own."""
        async with self.db.write() as conn:
            await action(conn, ids=IDS, app_id=self.app_id, conversation_id=self.conversation_id, **arguments)

    async def control(self) -> tuple[str | None, str | None]:
        """The names of the switchboard integrations in control of the conversation and offered it."""
        async with self.db.read() as conn:
            shown = await conversations.get_conversation(conn, app_id=self.app_id,
                                                         conversation_id=self.conversation_id)
        return _name(shown.get("activeSwitchboardIntegration")), _name(shown.get("pendingSwitchboardIntegration"))

    async def events(self) -> list[tuple[str, str | None, str | None, str | None]]:
        """Each switchboard event: its type, who it says is in control and offered it, and its error code."""
        async with self.db.read() as conn:
            stored = await stored_events(conn, self.app_id)
        return [(kind, _name(payload["conversation"].get("activeSwitchboardIntegration")),
                 _name(payload["conversation"].get("pendingSwitchboardIntegration")),
                 payload.get("error", {}).get("code")) for kind, payload in stored]


def _name(member: dict[str, Any] | None) -> str | None:
    return None if member is None else str(member["name"])


def passing(target: str, **wire: Any) -> dict[str, Any]:
    return {"caller": None, "body": body(PassControlBody, switchboardIntegration=target, **wire)}


def test_a_new_conversation_starts_with_the_default_in_control(empty_database_url: str) -> None:
    """The default switchboard integration controls a new conversation; nothing is offered, nothing emitted."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        return await desk.control(), await desk.events()

    assert (("bot", None), []) == with_database(empty_database_url, scenario)


def test_pass_control_moves_control_and_says_so(empty_database_url: str) -> None:
    """PassControl by name gives the target control; its event names the new active and carries the metadata."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.pass_control, **passing("agent", metadata={"reason": "escalate"}))
        async with db.read() as conn:
            [(_, payload)] = await stored_events(conn, desk.app_id)
        return await desk.control(), await desk.events(), payload["metadata"]

    assert (("agent", None), [("switchboard:passControl", "agent", None, None)], {"reason": "escalate"}) == \
        with_database(empty_database_url, scenario)


def test_a_target_is_named_by_id_name_or_unambiguous_type(empty_database_url: str) -> None:
    """The target may be a switchboard integration's id or name; a type that several share names none."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.pass_control, **passing(desk.members["agent"]["id"]))
        await desk.act(actions.pass_control, **passing("bot"))
        await desk.act(actions.pass_control, **passing("custom"))  # both are custom integrations
        return await desk.control(), await desk.events()

    assert (("bot", None), [("switchboard:passControl", "agent", None, None),
                            ("switchboard:passControl", "bot", None, None),
                            ("switchboard:passControl:failure", "bot", None, "switchboard_invalid_target")]) == \
        with_database(empty_database_url, scenario)


def test_pass_control_to_an_unknown_target_fails_by_event(empty_database_url: str) -> None:
    """An unknown target leaves control where it was; the failure event says so (the request itself succeeds)."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.pass_control, **passing("nobody"))
        return await desk.control(), await desk.events()

    assert (("bot", None), [("switchboard:passControl:failure", "bot", None, "switchboard_invalid_target")]) == \
        with_database(empty_database_url, scenario)


def test_next_is_the_active_ones_next_and_a_stale_next_is_disregarded(empty_database_url: str) -> None:
    """`next` passes to the active's nextSwitchboardIntegration; the same `next` sent again by the integration
    that has just lost control is disregarded: nothing moves and nothing is emitted."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        async with db.write() as conn:
            [board] = await switchboards.list_switchboards(conn, app_id=desk.app_id)
            await switchboards.update_switchboard_integration(
                conn, app_id=desk.app_id, switchboard_id=board["id"], member_id=desk.members["bot"]["id"],
                body=body(SwitchboardIntegrationUpdateBody, nextSwitchboardIntegrationId=desk.members["agent"]["id"]))
        await desk.act(actions.pass_control, caller=desk.integration("bot"), body=body(
            PassControlBody, switchboardIntegration="next"))
        await desk.act(actions.pass_control, caller=desk.integration("bot"), body=body(
            PassControlBody, switchboardIntegration="next"))
        return await desk.control(), await desk.events()

    assert (("agent", None), [("switchboard:passControl", "agent", None, None)]) == \
        with_database(empty_database_url, scenario)


def test_offer_then_accept(empty_database_url: str) -> None:
    """An offer keeps the active in control and makes the target pending; accepting gives it control."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.offer_control, body=body(OfferControlBody, switchboardIntegration="agent"))
        offered = await desk.control()
        await desk.act(actions.accept_control, caller=desk.integration("agent"), body=AcceptControlBody())
        return offered, await desk.control(), await desk.events()

    assert (("bot", "agent"), ("agent", None), [("switchboard:offerControl", "bot", "agent", None),
                                                ("switchboard:acceptControl", "agent", None, None)]) == \
        with_database(empty_database_url, scenario)


def test_offering_control_to_the_one_in_control_fails_by_event(empty_database_url: str) -> None:
    """An offer to the active switchboard integration is an invalid target: nothing becomes pending."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.offer_control, body=body(OfferControlBody, switchboardIntegration="bot"))
        return await desk.control(), await desk.events()

    assert (("bot", None), [("switchboard:offerControl:failure", "bot", None, "switchboard_invalid_target")]) == \
        with_database(empty_database_url, scenario)


def test_accepting_without_an_offer_fails_by_event(empty_database_url: str) -> None:
    """AcceptControl with nothing pending is an invalid action; control stays with the active."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.accept_control, caller=None, body=AcceptControlBody())
        return await desk.control(), await desk.events()

    assert (("bot", None), [("switchboard:acceptControl:failure", "bot", None, "switchboard_invalid_action")]) == \
        with_database(empty_database_url, scenario)


def test_only_the_integration_offered_control_may_accept_it(empty_database_url: str) -> None:
    """An integration key of another integration gets 403 on AcceptControl; the offer stands, nothing is emitted."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.offer_control, body=body(OfferControlBody, switchboardIntegration="agent"))
        with pytest.raises(Forbidden) as raised:
            await desk.act(actions.accept_control, caller=desk.integration("bot"), body=AcceptControlBody())
        return api_error(raised)[:2], await desk.control(), await desk.events()

    assert ((403, "forbidden"), ("bot", "agent"), [("switchboard:offerControl", "bot", "agent", None)]) == \
        with_database(empty_database_url, scenario)


def test_release_leaves_nobody_in_control(empty_database_url: str) -> None:
    """ReleaseControl clears the active and the pending switchboard integration until control is passed again."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        await desk.act(actions.offer_control, body=body(OfferControlBody, switchboardIntegration="agent"))
        await desk.act(actions.release_control, caller=desk.integration("bot"), body=ReleaseControlBody())
        released = await desk.control()
        await desk.act(actions.pass_control, **passing("agent"))
        return released, await desk.control(), [event[0] for event in await desk.events()]

    assert ((None, None), ("agent", None), ["switchboard:offerControl", "switchboard:releaseControl",
                                            "switchboard:passControl"]) == \
        with_database(empty_database_url, scenario)


def test_only_the_integration_in_control_may_release_it(empty_database_url: str) -> None:
    """An integration key of an integration not in control gets 403 on ReleaseControl; control stays."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open("bot", "agent")
        with pytest.raises(Forbidden) as raised:
            await desk.act(actions.release_control, caller=desk.integration("agent"), body=ReleaseControlBody())
        return api_error(raised)[:2], await desk.control(), await desk.events()

    assert ((403, "forbidden"), ("bot", None), []) == with_database(empty_database_url, scenario)


def test_without_an_enabled_switchboard_control_cannot_move(empty_database_url: str) -> None:
    """With no enabled switchboard, PassControl fails by event as an invalid action and nobody is in control."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            await make_custom(conn, app_id, triggers=list(TRIGGERS))
            conversation = await make_conversation(conn, app_id, await make_user(conn, app_id))
            await actions.pass_control(conn, ids=IDS, app_id=app_id, conversation_id=conversation["id"],
                                       **passing("bot"))
            shown = await conversations.get_conversation(conn, app_id=app_id, conversation_id=conversation["id"])
            stored = await stored_events(conn, app_id)
        return "activeSwitchboardIntegration" in shown, [(kind, payload["error"]) for kind, payload in stored]

    assert (False, [("switchboard:passControl:failure", {"code": "switchboard_invalid_action",
                                                         "message": "The app has no enabled switchboard"})]) == \
        with_database(empty_database_url, scenario)
