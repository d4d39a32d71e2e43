"""Default integration assignment (services/assignment.py, run by PostMessage): a conversation that nobody
controls gets the writing integration's default responder, else the switchboard's default, when its user
writes; and every conversation:* event shows who controls the conversation (store/outbox.py)."""

from __future__ import annotations

from typing import Any

from heliograph.schemas.integrations import IntegrationBody
from heliograph.schemas.messages import MessagePost
from heliograph.schemas.switchboards import ReleaseControlBody
from heliograph.services import conversations, integrations, messages, switchboards
from heliograph.services import switchboard_actions as actions
from heliograph.store.db import Database
from heliograph.store.switchboards import find_switchboard
from tests.factories import IDS, body, make_app, make_conversation, make_switchboard, make_user
from tests.utils import stored_events, with_database

TRIGGERS = ("conversation:message", "switchboard:passControl", "switchboard:releaseControl")


class Desk:
    """An app whose enabled switchboard has `bot` (the default) and `agent`, a web integration whose
    default responder is `agent`, and a personal conversation of Ana's."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, *, enabled_before_the_conversation: bool = True) -> Desk:
        async with self.db.write() as conn:
            self.app_id = (await make_app(conn))["id"]
            ana = await make_user(conn, self.app_id, externalId="ana")
            self.ana = ana["id"]
            if not enabled_before_the_conversation:
                self.conversation_id = (await make_conversation(conn, self.app_id, ana))["id"]
            self.members = await make_switchboard(conn, self.app_id, "bot", "agent", triggers=TRIGGERS)
            self.board = (await find_switchboard(conn, app_id=self.app_id))["id"]
            if enabled_before_the_conversation:
                self.conversation_id = (await make_conversation(conn, self.app_id, ana))["id"]
            self.web = (await integrations.create_integration(conn, ids=IDS, app_id=self.app_id, body=body(
                IntegrationBody, type="web", defaultResponderId=self.members["agent"]["id"])))["id"]
        return self

    async def release(self) -> None:
        async with self.db.write() as conn:
            await actions.release_control(conn, ids=IDS, app_id=self.app_id, conversation_id=self.conversation_id,
                                          caller=None, body=body(ReleaseControlBody))

    async def write(self, text: str, *, by_user: bool = True, through: str | None = None) -> None:
        author = {"type": "user", "userId": self.ana} if by_user else {"type": "business"}
        await messages.post_message(self.db, ids=IDS, limit=100, app_id=self.app_id,
                                    conversation_id=self.conversation_id, caller=through, body=body(
                                        MessagePost, author=author, content={"type": "text", "text": text}))

    async def control(self) -> tuple[str | None, str | None]:
        async with self.db.read() as conn:
            shown = await conversations.get_conversation(conn, app_id=self.app_id,
                                                         conversation_id=self.conversation_id)
        return _name(shown.get("activeSwitchboardIntegration")), _name(shown.get("pendingSwitchboardIntegration"))

    async def events(self) -> list[tuple[str, str | None]]:
        """Each event: its type, and the text of a message or who the conversation says is in control."""
        async with self.db.read() as conn:
            stored = await stored_events(conn, self.app_id)
        return [(kind, payload["message"]["content"]["text"] if "message" in payload else None,
                 _name(payload["conversation"].get("activeSwitchboardIntegration")))  # type: ignore[misc]
                for kind, payload in stored]


def _name(member: dict[str, Any] | None) -> str | None:
    return None if member is None else str(member["name"])


def test_after_a_release_the_users_next_message_gives_control_to_the_default(empty_database_url: str) -> None:
    """The business's own message assigns nobody; the user's gives control to the default, silently (no
    passControl), and its conversation:message already shows the new active switchboard integration."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open()
        await desk.write("hello", by_user=False)
        await desk.release()
        await desk.write("anyone?", by_user=False)
        after_business = await desk.control()
        await desk.write("I need help")
        return after_business, await desk.control(), await desk.events()

    assert ((None, None), ("bot", None), [
        ("conversation:message", "hello", "bot"),
        ("switchboard:releaseControl", None, None),
        ("conversation:message", "anyone?", None),
        ("conversation:message", "I need help", "bot"),
    ]) == with_database(empty_database_url, scenario)


def test_a_user_writing_through_an_integration_gets_its_default_responder(empty_database_url: str) -> None:
    """An integration's defaultResponderId outranks the switchboard's default once nobody is in control,
    and for a conversation from before the switchboard was enabled; not while someone is in control."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open()
        await desk.write("hi", through=desk.web)  # the bot is in control: nothing changes
        in_control = await desk.control()
        await desk.release()
        await desk.write("hi again", through=desk.web)
        released = await desk.control()
        older = await Desk(db).open(enabled_before_the_conversation=False)
        before = await older.control()
        await older.write("hello", through=older.web)
        return in_control, released, before, await older.control()

    assert (("bot", None), ("agent", None), ("bot", None), ("agent", None)) == with_database(
        empty_database_url, scenario)


def test_deleting_the_active_switchboard_integration_leaves_control_to_the_next_user_message(
        empty_database_url: str) -> None:
    """Deleting the active switchboard integration leaves nobody in control (no event); the user's next
    message gives it to the default. Deleting the integration behind it does the same."""
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open()
        async with db.write() as conn:
            await actions.pass_control(conn, ids=IDS, app_id=desk.app_id, conversation_id=desk.conversation_id,
                                       caller=None, body=body(actions.PassControlBody, switchboardIntegration="agent"))
            await switchboards.delete_switchboard_integration(
                conn, app_id=desk.app_id, switchboard_id=desk.board,
                member_id=desk.members["agent"]["id"])
        deleted = await desk.control()
        await desk.write("still there?")
        return deleted, await desk.control(), [kind for kind, _, _ in await desk.events()]

    assert ((None, None), ("bot", None), ["switchboard:passControl", "conversation:message"]) == with_database(
        empty_database_url, scenario)


def test_without_an_enabled_switchboard_nothing_is_assigned(empty_database_url: str) -> None:
    async def scenario(db: Database) -> Any:
        desk = await Desk(db).open()
        async with db.write() as conn:
            await switchboards.update_switchboard(conn, app_id=desk.app_id, switchboard_id=desk.board, body=body(
                switchboards.SwitchboardUpdateBody, enabled=False))
        await desk.release()
        await desk.write("hello", through=desk.web)
        return await desk.control()

    assert (None, None) == with_database(empty_database_url, scenario)
