"""Switchboard actions (PassControl, OfferControl, AcceptControl, ReleaseControl) on one conversation.

A valid request for an existing conversation is accepted (200); whether control moved is told by
its `switchboard:*` event, or by the `:failure` event with the reason (the spec lists no 400 for
these operations: an unknown target, an offer to the integration already in control, an accept
with nothing offered are failures of the action, not of the request). Integration-scoped callers
may accept only what was offered to them and release only what they control (403 otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import Forbidden
from heliograph.events import switchboards as payloads
from heliograph.events.switchboards import INVALID_ACTION, INVALID_TARGET
from heliograph.ids import IdFactory
from heliograph.schemas.common import UNSET, Metadata, UnsetType, check_metadata
from heliograph.schemas.switchboards import (
    NEXT,
    AcceptControlBody,
    OfferControlBody,
    PassControlBody,
    ReleaseControlBody,
)
from heliograph.store import switchboards as store
from heliograph.store.conversations import lock_conversation, require_conversation
from heliograph.store.outbox import emit

Row = Mapping[Any, Any]  # a RowMapping or a dict of its columns
NO_SWITCHBOARD = "The app has no enabled switchboard"
NOTHING_OFFERED = "There is no pendingSwitchboardIntegration"


@dataclasses.dataclass
class Control:
    """A conversation and who controls it: the members of the app's enabled switchboard (none if disabled)."""

    conversation: Row
    members: Sequence[Row]
    stored: bool  # whether the conversation has its own control row (else the default is in control)
    active: Row | None
    pending: Row | None

    def member_of(self, integration_id: str | None) -> Row | None:
        return next((m for m in self.members if m["integration_id"] == integration_id), None)


async def pass_control(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                       caller: str | None, body: PassControlBody) -> None:
    metadata = _metadata(body.metadata)
    control = await _control(conn, app_id, conversation_id)
    me = control.member_of(caller) if caller is not None else None
    if body.switchboard_integration == NEXT and me is not None and not _is(me, control.active):
        return  # a repeated `next` from an integration no longer in control: disregarded, as the spec says
    target, problem = _target(control, body.switchboard_integration)
    if target is None:
        return await _fail(conn, ids, app_id, control, "switchboard:passControl:failure", metadata, problem)
    await _save(conn, app_id, control, active=target, pending=None)
    await _emit(conn, ids, app_id, control, "switchboard:passControl", payloads.control(
        control.conversation, target, None, metadata))


async def offer_control(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                        body: OfferControlBody) -> None:
    metadata = _metadata(body.metadata)
    control = await _control(conn, app_id, conversation_id)
    target, problem = _target(control, body.switchboard_integration)
    if target is not None and _is(target, control.active):
        target, problem = None, (INVALID_TARGET, "Cannot offer control to the active switchboard integration.")
    if target is None:
        return await _fail(conn, ids, app_id, control, "switchboard:offerControl:failure", metadata, problem)
    await _save(conn, app_id, control, active=control.active, pending=target)
    await _emit(conn, ids, app_id, control, "switchboard:offerControl", payloads.control(
        control.conversation, control.active, target, metadata))


async def accept_control(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                         caller: str | None, body: AcceptControlBody) -> None:
    metadata = _metadata(body.metadata)
    control = await _control(conn, app_id, conversation_id)
    pending = control.pending
    if caller is not None and (pending is None or pending["integration_id"] != caller):
        raise Forbidden("Only the integration offered control of the conversation can accept it")
    if pending is None:
        problem = (INVALID_ACTION, NO_SWITCHBOARD if not control.members else NOTHING_OFFERED)
        return await _fail(conn, ids, app_id, control, "switchboard:acceptControl:failure", metadata, problem)
    await _save(conn, app_id, control, active=pending, pending=None)
    await _emit(conn, ids, app_id, control, "switchboard:acceptControl", payloads.control(
        control.conversation, pending, None, metadata))


async def release_control(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                          caller: str | None, body: ReleaseControlBody) -> None:
    """Nobody controls the conversation any more (and nothing is offered), until control is passed again."""
    metadata = _metadata(body.metadata)
    control = await _control(conn, app_id, conversation_id)
    if caller is not None and (control.active is None or control.active["integration_id"] != caller):
        raise Forbidden("Only the integration in control of the conversation can release it")
    if control.members:
        await _save(conn, app_id, control, active=None, pending=None)
    await _emit(conn, ids, app_id, control, "switchboard:releaseControl", payloads.control(
        control.conversation, None, None, metadata))


async def _control(conn: AsyncConnection, app_id: str, conversation_id: str) -> Control:
    """The conversation (locked against concurrent actions) and its control."""
    conversation = await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    await lock_conversation(conn, conversation_id=conversation_id)
    board = await store.find_switchboard(conn, app_id=app_id, enabled=True)
    if board is None:
        return Control(conversation, [], False, None, None)
    members = await store.list_members(conn, switchboard_id=board["id"])
    state = await store.find_control(conn, conversation_id=conversation_id)
    active_id = board["default_id"] if state is None else state["active_id"]
    pending_id = None if state is None else state["pending_id"]
    by_id = {m["id"]: m for m in members}
    return Control(conversation, members, state is not None, by_id.get(active_id), by_id.get(pending_id))


def _target(control: Control, name: str) -> tuple[Row | None, tuple[str, str]]:
    """The member `name` designates: `next`, then by id, by name, by integration type (if unambiguous)."""
    if not control.members:
        return None, (INVALID_ACTION, NO_SWITCHBOARD)
    if name == NEXT:
        next_id = None if control.active is None else control.active["next_id"]
        found = [m for m in control.members if m["id"] == next_id]
    else:
        found = next(([m for m in control.members if m[key] == name]
                      for key in ("id", "name", "integration_type") if any(m[key] == name for m in control.members)),
                     [])
    if len(found) != 1:
        return None, (INVALID_TARGET, "Switchboard invalid target")
    return found[0], ("", "")


async def _save(conn: AsyncConnection, app_id: str, control: Control, *, active: Row | None,
                pending: Row | None) -> None:
    values = {"active_id": None if active is None else active["id"],
              "pending_id": None if pending is None else pending["id"]}
    conversation_id = control.conversation["id"]
    if control.stored:
        await store.update_control(conn, conversation_id=conversation_id, **values)
    else:
        await store.insert_control(conn, {"conversation_id": conversation_id, "app_id": app_id, **values})


async def _fail(conn: AsyncConnection, ids: IdFactory, app_id: str, control: Control, type: str,
                metadata: Metadata | None, problem: tuple[str, str]) -> None:
    code, message = problem
    await _emit(conn, ids, app_id, control, type, payloads.failure(
        control.conversation, control.active, control.pending, metadata, code=code, message=message))


async def _emit(conn: AsyncConnection, ids: IdFactory, app_id: str, control: Control, type: str,
                payload: dict[str, Any]) -> None:
    await emit(conn, ids=ids, app_id=app_id, type=type, payload=payload, lane=control.conversation["id"])


def _is(member: Row | None, other: Row | None) -> bool:
    return member is not None and other is not None and member["id"] == other["id"]


def _metadata(value: Metadata | UnsetType) -> Metadata | None:
    metadata = None if value is UNSET else value
    check_metadata(metadata)
    return metadata
