"""Switchboards, their switchboard integrations, and who controls each conversation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import SwitchboardIntegrationNotFound, SwitchboardNotFound
from heliograph.store import tables as t
from heliograph.store.apps import require_app
from heliograph.store.fast import Fast, Step, rows, run

_sb, _si, _cs = t.switchboards, t.switchboard_integrations, t.conversation_switchboards
CONTROL_FIELDS = ("id", "name", "integration_id", "integration_type")  # how a conversation names its control
_BOARD = sa.select(_sb).where(_sb.c.app_id == sa.bindparam("app_id"))
_ENABLED_BOARD = _BOARD.where(_sb.c.enabled == sa.true())
_MEMBERS = sa.select(_si).where(_si.c.switchboard_id == sa.bindparam("switchboard_id")).order_by(_si.c.id)


async def initial_control(conn: AsyncConnection, *, app_id: str, conversation_id: str,
                          integration_id: str | None = None) -> dict[str, Any]:
    """Give a new conversation to the default responder of the integration it starts through, if that
    names a member of the app's enabled switchboard, else to that switchboard's default.

    The control columns for render.conversation (empty when there is no such switchboard).
    """
    default = None
    if integration_id is not None:
        named = (sa.select(_si).join(_sb, _sb.c.id == _si.c.switchboard_id)
                 .join(t.integrations, t.integrations.c.default_responder_id == _si.c.id)
                 .where(_sb.c.app_id == app_id, _sb.c.enabled == sa.true(), t.integrations.c.id == integration_id))
        default = (await conn.execute(named)).first()
    if default is None:
        query = (sa.select(_si).join(_sb, _sb.c.default_id == _si.c.id)
                 .where(_sb.c.app_id == app_id, _sb.c.enabled == sa.true()))
        default = (await conn.execute(query)).first()
    if default is None:
        return {}
    await conn.execute(_cs.insert(), {"conversation_id": conversation_id, "app_id": app_id,
                                      "active_id": default.id, "pending_id": None})
    return {f"active_sbi_{column}": default._mapping[column] for column in CONTROL_FIELDS}


# --- switchboards -----------------------------------------------------------------------------

async def find_switchboard(conn: AsyncConnection, *, app_id: str, enabled: bool = False) -> Any:
    """The app's switchboard (only if it is enabled, with `enabled`); None if there is none."""
    row = (await conn.execute(_ENABLED_BOARD if enabled else _BOARD, {"app_id": app_id})).first()
    return None if row is None else row._mapping


async def require_switchboard(conn: AsyncConnection, *, app_id: str, switchboard_id: str,
                              lock: bool = False) -> Any:
    """The app's switchboard with that id (locked, with `lock`); its `default_id` is None when it names
    no member any more. SwitchboardNotFound, or AppNotFound, if there is none."""
    default = sa.select(_si.c.id).where(_si.c.id == _sb.c.default_id).scalar_subquery()
    query = (sa.select(*[c for c in _sb.c if c.name != "default_id"], default.label("default_id"))
             .where(_sb.c.app_id == app_id, _sb.c.id == switchboard_id))
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        await require_app(conn, app_id=app_id)
        raise SwitchboardNotFound()
    return row._mapping


async def insert_switchboard(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_sb.insert(), row)


async def update_switchboard(conn: AsyncConnection, *, switchboard_id: str, changes: dict[str, Any]) -> None:
    """Set these columns of the switchboard."""
    await conn.execute(_sb.update().where(_sb.c.id == switchboard_id).values(changes))


async def delete_switchboard(conn: AsyncConnection, *, app_id: str, switchboard_id: str) -> None:
    """Delete the switchboard, its switchboard integrations (by cascade) and every conversation's control row."""
    await conn.execute(_cs.delete().where(_cs.c.app_id == app_id))
    await conn.execute(_sb.delete().where(_sb.c.id == switchboard_id))


# --- switchboard integrations (members) -------------------------------------------------------

async def list_members(conn: AsyncConnection, *, switchboard_id: str) -> list[dict[str, Any]]:
    """The switchboard's switchboard integrations, oldest first."""
    return [dict(r._mapping) for r in await conn.execute(_MEMBERS, {"switchboard_id": switchboard_id})]


async def require_member(conn: AsyncConnection, *, switchboard_id: str, member_id: str) -> Any:
    row = (await conn.execute(sa.select(_si).where(_si.c.switchboard_id == switchboard_id,
                                                   _si.c.id == member_id))).first()
    if row is None:
        raise SwitchboardIntegrationNotFound()
    return row._mapping


async def insert_member(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_si.insert(), row)


async def update_member(conn: AsyncConnection, *, member_id: str, changes: dict[str, Any]) -> None:
    """Set these columns of the switchboard integration."""
    await conn.execute(_si.update().where(_si.c.id == member_id).values(changes))


async def delete_member(conn: AsyncConnection, *, member_id: str) -> None:
    """Delete the switchboard integration; the conversations it controlled have nobody in control."""
    await conn.execute(_cs.update().where(_cs.c.active_id == member_id).values(active_id=None))
    await conn.execute(_si.delete().where(_si.c.id == member_id))


async def release_integration(conn: AsyncConnection, *, integration_id: str) -> None:
    """Before the integration goes (and its switchboard integration by cascade): the conversations that
    switchboard integration controlled have nobody in control."""
    member = sa.select(_si.c.id).where(_si.c.integration_id == integration_id).scalar_subquery()
    await conn.execute(_cs.update().where(_cs.c.active_id.in_(member)).values(active_id=None))


# --- control of a conversation ----------------------------------------------------------------

async def find_control(conn: AsyncConnection, *, conversation_id: str) -> Any:
    """The conversation's own control row (None when it was never assigned: the default is in control)."""
    row = (await conn.execute(sa.select(_cs).where(_cs.c.conversation_id == conversation_id))).first()
    return None if row is None else row._mapping


async def insert_control(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_cs.insert(), row)


async def update_control(conn: AsyncConnection, *, conversation_id: str, active_id: str | None,
                         pending_id: str | None) -> None:
    await conn.execute(_cs.update().where(_cs.c.conversation_id == conversation_id).values(
        active_id=active_id, pending_id=pending_id))


# --- default integration assignment (steps of PostMessage's plan) -------------------------------

_default = _si.alias("default_sbi")
_VACANCY = Fast(sa.select(
    _sb.c.id, _default.c.id.label("default_id"), _cs.c.conversation_id.label("stored"), _cs.c.active_id,
).select_from(
    _sb.outerjoin(_default, sa.and_(_default.c.id == _sb.c.default_id, _default.c.switchboard_id == _sb.c.id))
    .outerjoin(_cs, _cs.c.conversation_id == sa.bindparam("conversation_id")),
).where(_sb.c.app_id == sa.bindparam("app_id"), _sb.c.enabled == sa.true()))
_RESPONDER = Fast(sa.select(_si.c.id).select_from(
    t.integrations.join(_si, _si.c.id == t.integrations.c.default_responder_id),
).where(t.integrations.c.id == sa.bindparam("integration_id"), _si.c.switchboard_id == sa.bindparam("switchboard_id")))
_INSERT_CONTROL = Fast(_cs.insert())
_ASSIGN = Fast(_cs.update().where(_cs.c.conversation_id == sa.bindparam("p_conversation_id")).values(
    active_id=sa.bindparam("p_active_id")))


def vacancy(*, app_id: str, conversation_id: str) -> Step:
    """Step: the app's enabled switchboard (`id`, and `default_id` if it names a member) with the
    conversation's control row (`stored` is None without one; `active_id` None once released); no row
    when the switchboard is disabled or there is none."""
    return rows(_VACANCY, {"app_id": app_id, "conversation_id": conversation_id})


def responder(*, integration_id: str, switchboard_id: str) -> Step:
    """Step: the integration's default responder (`id`), if it is a member of that switchboard."""
    return rows(_RESPONDER, {"integration_id": integration_id, "switchboard_id": switchboard_id})


def assign(*, app_id: str, conversation_id: str, active_id: str, stored: bool) -> Step:
    """Step: give the conversation to `active_id` (its control row exists already, with `stored`)."""
    if stored:
        return run(_ASSIGN, {"p_conversation_id": conversation_id, "p_active_id": active_id})
    return run(_INSERT_CONTROL, {"conversation_id": conversation_id, "app_id": app_id, "active_id": active_id,
                                 "pending_id": None})


async def members_of_app(conn: AsyncConnection, *, app_id: str) -> tuple[Any, list[dict[str, Any]]]:
    """The app's switchboard (None if it has none) and its switchboard integrations, oldest first."""
    board = await find_switchboard(conn, app_id=app_id)
    return board, [] if board is None else await list_members(conn, switchboard_id=board["id"])
