"""Switchboard actions through the official SDK: who controls a conversation, the switchboard:* events a
real receiver gets (and their :failure events), standby delivery, and the integration-scope 403s."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.conftest import Server, sdk_client
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.spec import SpecChecker, event_payload_validator
from tests.switchboards import add_member, make_switchboard
from tests.utils import MISSING_ID, http_error, make_conversation, make_user, post, sdk_error, text

TRIGGERS = ["conversation:message", "switchboard:passControl", "switchboard:passControl:failure",
            "switchboard:offerControl", "switchboard:offerControl:failure", "switchboard:acceptControl",
            "switchboard:acceptControl:failure", "switchboard:releaseControl"]


@dataclass
class Desk:
    """An app whose enabled switchboard has a bot (the default, next: agent) and an agent, each a custom
    integration with a webhook to its own receiver."""

    app_id: str
    switchboard_id: str
    bot: sc.SwitchboardIntegration
    agent: sc.SwitchboardIntegration
    bot_hook: Receiver
    agent_hook: Receiver


def build_desk(api: sc.ApiClient, app_id: str, *, agent_standby: bool = False,
               triggers: list[str] = TRIGGERS) -> Desk:
    bot_hook, agent_hook = Receiver(), Receiver()
    bot_integration, _ = custom_integration(api, app_id, bot_hook.url, triggers)
    agent_integration, _ = custom_integration(api, app_id, agent_hook.url, triggers)
    board = make_switchboard(api, app_id)
    agent = add_member(api, app_id, board.id, "agent", agent_integration, deliver_standby_events=agent_standby)
    bot = add_member(api, app_id, board.id, "bot", bot_integration, deliver_standby_events=False,
                     next_switchboard_integration_id=agent.id)
    enable(api, app_id, board.id, bot.id)
    return Desk(app_id, board.id, bot, agent, bot_hook, agent_hook)


def enable(api: sc.ApiClient, app_id: str, switchboard_id: str, default_id: str, enabled: bool = True) -> None:
    sc.SwitchboardsApi(api).update_switchboard(app_id, switchboard_id, sc.SwitchboardUpdateBody(
        enabled=enabled, default_switchboard_integration_id=default_id))


@pytest.fixture
def desk(account: sc.ApiClient, app_id: str) -> Iterator[Desk]:
    built = build_desk(account, app_id)
    yield built
    built.bot_hook.stop()
    built.agent_hook.stop()


@pytest.fixture
def convo(account: sc.ApiClient, desk: Desk) -> str:
    """A personal conversation created once the switchboard was enabled."""
    return str(make_conversation(account, desk.app_id, make_user(account, desk.app_id, external_id="ana")).id)


def control(api: sc.ApiClient, app_id: str, conversation_id: str) -> tuple[str | None, str | None]:
    """The names of the switchboard integrations active and pending on the conversation (GetConversation)."""
    found = sc.ConversationsApi(api).get_conversation(app_id, conversation_id).conversation
    return tuple(None if s is None else s.name  # type: ignore[return-value]
                 for s in (found.active_switchboard_integration, found.pending_switchboard_integration))


def actions(api: sc.ApiClient) -> sc.SwitchboardActionsApi:
    return sc.SwitchboardActionsApi(api)


def of_type(receiver: Receiver, kind: str, count: int = 1) -> list[dict[str, Any]]:
    """The first `count` events of `kind` the receiver got, once they arrived."""
    events = receiver.wait_for(lambda got: sum(e["type"] == kind for e in got) >= count)
    return [e for e in events if e["type"] == kind][:count]


def wire(member: sc.SwitchboardIntegration) -> dict[str, str]:
    return {"id": member.id, "name": member.name, "integrationId": member.integration_id,
            "integrationType": member.integration_type}


def test_new_conversations_start_with_the_default_in_control(account: sc.ApiClient, desk: Desk) -> None:
    """With an enabled switchboard, CreateConversation answers with the default switchboard integration
    active, and GetConversation and ListConversations say the same."""
    user = make_user(account, desk.app_id, external_id="ana")
    created = make_conversation(account, desk.app_id, user)
    listed = sc.ConversationsApi(account).list_conversations(desk.app_id, filter={"userId": user.id}).conversations
    assert wire(desk.bot) == created.active_switchboard_integration.to_dict()
    assert ("bot", None) == control(account, desk.app_id, created.id)
    assert [wire(desk.bot)] == [c.active_switchboard_integration.to_dict() for c in listed]


def test_older_conversations_get_the_default_and_a_disabled_switchboard_controls_nothing(
        account: sc.ApiClient, app_id: str) -> None:
    """A conversation from before the switchboard was enabled is the default's; disabled, nobody's."""
    conversation = make_conversation(account, app_id, make_user(account, app_id, external_id="ana"))
    desk = build_desk(account, app_id)
    assert ("bot", None) == control(account, app_id, conversation.id)
    enable(account, app_id, desk.switchboard_id, desk.bot.id, enabled=False)
    assert (None, None) == control(account, app_id, conversation.id)


def test_pass_control_by_name_id_type_and_next(http: httpx.Client, account: sc.ApiClient, desk: Desk,
                                               convo: str) -> None:
    """passControl targets a switchboard integration by name, by id, by `next` and by an unambiguous type."""
    add_member(account, desk.app_id, desk.switchboard_id, "extra", create_web(http, desk.app_id))
    api = actions(account)
    steps = [("agent", "agent"), (desk.bot.id, "bot"), ("next", "agent"), ("web", "extra")]
    seen = []
    for target, _ in steps:
        assert {} == api.pass_control(desk.app_id, convo, sc.PassControlBody(switchboard_integration=target))
        seen.append(control(account, desk.app_id, convo))
    assert [(expected, None) for _, expected in steps] == seen


def test_pass_control_emits_its_event_with_the_new_active_and_metadata(account: sc.ApiClient, desk: Desk,
                                                                       convo: str) -> None:
    """switchboard:passControl reaches the webhooks with the conversation's new active integration and the
    metadata; the request body is checked against the spec's event schema."""
    actions(account).pass_control(desk.app_id, convo, sc.PassControlBody(switchboard_integration="agent",
                                                                         metadata={"lang": "en", "n": 2}))
    event = of_type(desk.agent_hook, "switchboard:passControl")[0]
    assert {"conversation": {"id": convo, "type": "personal", "activeSwitchboardIntegration": wire(desk.agent)},
            "metadata": {"lang": "en", "n": 2}} == event["payload"]
    assert event == of_type(desk.bot_hook, "switchboard:passControl")[0]
    validator = event_payload_validator()
    assert [] == [e.message for r in desk.agent_hook.requests for e in validator.iter_errors(r.body)]


def test_pass_control_to_an_unknown_target_fails_by_event(account: sc.ApiClient, desk: Desk, convo: str) -> None:
    """An unknown or ambiguous target: 200, control unchanged, switchboard:passControl:failure with
    switchboard_invalid_target."""
    for target in ("nobody", "custom"):  # both members are custom integrations: the type is ambiguous
        actions(account).pass_control(desk.app_id, convo, sc.PassControlBody(switchboard_integration=target))
    failures = of_type(desk.bot_hook, "switchboard:passControl:failure", 2)
    assert ("bot", None) == control(account, desk.app_id, convo)
    assert [{"conversation": {"id": convo, "type": "personal", "activeSwitchboardIntegration": wire(desk.bot)},
             "error": {"code": "switchboard_invalid_target", "message": "Switchboard invalid target"}}] * 2 == [
        f["payload"] for f in failures]


def test_offer_then_accept(account: sc.ApiClient, desk: Desk, convo: str) -> None:
    """offerControl makes the target pending (switchboard:offerControl with active and pending); acceptControl
    makes it active and clears pending (switchboard:acceptControl)."""
    actions(account).offer_control(desk.app_id, convo, sc.OfferControlBody(switchboard_integration="next"))
    offered = control(account, desk.app_id, convo)
    actions(account).accept_control(desk.app_id, convo, sc.AcceptControlBody(metadata={"ticket": 7}))
    offer = of_type(desk.agent_hook, "switchboard:offerControl")[0]["payload"]
    accept = of_type(desk.agent_hook, "switchboard:acceptControl")[0]["payload"]
    assert [("bot", "agent"), ("agent", None)] == [offered, control(account, desk.app_id, convo)]
    assert {"id": convo, "type": "personal", "activeSwitchboardIntegration": wire(desk.bot),
            "pendingSwitchboardIntegration": wire(desk.agent)} == offer["conversation"]
    assert {"conversation": {"id": convo, "type": "personal", "activeSwitchboardIntegration": wire(desk.agent)},
            "metadata": {"ticket": 7}} == accept


def test_offer_to_the_active_and_accept_without_offer_fail_by_event(account: sc.ApiClient, desk: Desk,
                                                                   convo: str) -> None:
    """Offering control to the active integration, or accepting when nothing is pending, changes nothing and
    emits the documented :failure events."""
    actions(account).offer_control(desk.app_id, convo, sc.OfferControlBody(switchboard_integration="bot"))
    actions(account).accept_control(desk.app_id, convo, sc.AcceptControlBody())
    offer = of_type(desk.bot_hook, "switchboard:offerControl:failure")[0]["payload"]["error"]
    accept = of_type(desk.bot_hook, "switchboard:acceptControl:failure")[0]["payload"]["error"]
    assert ("bot", None) == control(account, desk.app_id, convo)
    assert {"code": "switchboard_invalid_target", "message": "Cannot offer control to the active switchboard "
                                                             "integration."} == offer
    assert {"code": "switchboard_invalid_action", "message": "There is no pendingSwitchboardIntegration"} == accept


def test_release_control_without_a_body(account: sc.ApiClient, desk: Desk, convo: str) -> None:
    """releaseControl (the SDK posts no body) leaves nobody in control and emits switchboard:releaseControl
    without an active integration."""
    actions(account).offer_control(desk.app_id, convo, sc.OfferControlBody(switchboard_integration="agent"))
    assert {} == actions(account).release_control(desk.app_id, convo)
    event = of_type(desk.bot_hook, "switchboard:releaseControl")[0]
    assert (None, None) == control(account, desk.app_id, convo)
    assert {"conversation": {"id": convo, "type": "personal"}} == event["payload"]


def test_actions_need_an_enabled_switchboard(account: sc.ApiClient, app_id: str) -> None:
    """Without a switchboard, passControl is accepted but fails by event with switchboard_invalid_action."""
    receiver = Receiver()
    try:
        custom_integration(account, app_id, receiver.url, TRIGGERS)
        conversation = make_conversation(account, app_id, make_user(account, app_id, external_id="ana"))
        actions(account).pass_control(app_id, conversation.id, sc.PassControlBody(switchboard_integration="bot"))
        error = of_type(receiver, "switchboard:passControl:failure")[0]["payload"]["error"]
    finally:
        receiver.stop()
    assert {"code": "switchboard_invalid_action", "message": "The app has no enabled switchboard"} == error


def test_actions_on_an_unknown_conversation_are_404(account: sc.ApiClient, desk: Desk) -> None:
    """Each action on an unknown conversation: 404 conversation_not_found."""
    api = actions(account)
    calls = [(api.pass_control, sc.PassControlBody(switchboard_integration="next")),
             (api.offer_control, sc.OfferControlBody(switchboard_integration="next")),
             (api.accept_control, sc.AcceptControlBody()), (api.release_control, None)]
    for call, body in calls:
        with pytest.raises(sc.ApiException) as raised:
            call(desk.app_id, MISSING_ID, body)
        assert (404, "conversation_not_found") == sdk_error(raised)[:2]


@pytest.mark.parametrize(("action", "body", "title"), [
    ("passControl", {}, "Missing required field `switchboardIntegration`"),
    ("offerControl", {"switchboardIntegration": 3}, "Invalid switchboardIntegration: Expected `str`, got `int`"),
    ("acceptControl", {"metadata": {"a": "x" * 5000}}, "metadata is limited to 4096 bytes in size."),
    ("releaseControl", {"metadata": {"nested": {}}},
     "Invalid metadata[...]: Expected `bool | int | float | str`, got `object`"),
])
def test_actions_refuse_bad_bodies(http: httpx.Client, account: sc.ApiClient, desk: Desk, convo: str,
                                   action: str, body: dict[str, Any], title: str) -> None:
    """A malformed action body is a 400 naming the field, and control does not change."""
    response = http.post(f"/v2/apps/{desk.app_id}/conversations/{convo}/{action}", json=body)
    assert (400, "bad_request", title) == http_error(response)
    assert ("bot", None) == control(account, desk.app_id, convo)


def integration_client(server: Server, checker: SpecChecker, api: sc.ApiClient, app_id: str,
                       integration_id: str) -> sc.ApiClient:
    key = sc.CustomIntegrationApiKeysApi(api).create_custom_integration_key(
        app_id, integration_id, sc.IntegrationApiKey(display_name="key")).key
    return sdk_client(server, checker, key.id, key.secret)


def test_integration_scope_accepts_only_its_offer_and_releases_only_its_control(
        server: Server, checker: SpecChecker, account: sc.ApiClient, desk: Desk, convo: str) -> None:
    """With an integration key, acceptControl is a 403 unless the offer is to the caller, and releaseControl a 403
    unless the caller is in control; the right integration succeeds."""
    bot = actions(integration_client(server, checker, account, desk.app_id, desk.bot.integration_id))
    agent = actions(integration_client(server, checker, account, desk.app_id, desk.agent.integration_id))
    refused = []
    for call, args in ((agent.accept_control, (sc.AcceptControlBody(),)), (agent.release_control, ())):
        with pytest.raises(sc.ApiException) as raised:
            call(desk.app_id, convo, *args)
        refused.append(sdk_error(raised)[:2])
    bot.offer_control(desk.app_id, convo, sc.OfferControlBody(switchboard_integration="agent"))
    with pytest.raises(sc.ApiException) as raised:
        bot.accept_control(desk.app_id, convo, sc.AcceptControlBody())
    refused.append(sdk_error(raised)[:2])
    agent.accept_control(desk.app_id, convo, sc.AcceptControlBody())
    with pytest.raises(sc.ApiException) as raised:
        bot.release_control(desk.app_id, convo)
    refused.append(sdk_error(raised)[:2])
    agent.release_control(desk.app_id, convo)
    assert [(403, "forbidden")] * 4 == refused
    assert (None, None) == control(account, desk.app_id, convo)


def test_next_from_an_integration_no_longer_in_control_is_disregarded(
        server: Server, checker: SpecChecker, account: sc.ApiClient, desk: Desk, convo: str) -> None:
    """A repeated passControl `next` by the bot once the agent is in control changes nothing."""
    bot = actions(integration_client(server, checker, account, desk.app_id, desk.bot.integration_id))
    for _ in range(2):
        bot.pass_control(desk.app_id, convo, sc.PassControlBody(switchboard_integration="next"))
    assert ("agent", None) == control(account, desk.app_id, convo)


def test_standby_webhooks_get_conversation_events_only_if_they_asked(account: sc.ApiClient, desk: Desk,
                                                                    convo: str) -> None:
    """The agent in standby (deliverStandbyEvents false) misses messages; once in control it gets them."""
    post(account, desk.app_id, convo, text("for the bot"))
    actions(account).pass_control(desk.app_id, convo, sc.PassControlBody(switchboard_integration="agent"))
    post(account, desk.app_id, convo, text("for the agent"))
    agent_events = desk.agent_hook.wait_for(lambda got: any(e["type"] == "conversation:message" for e in got))
    bot_events = desk.bot_hook.wait_for(lambda got: sum(e["type"] == "conversation:message" for e in got) >= 1
                                        and any(e["type"] == "switchboard:passControl" for e in got))
    assert ["switchboard:passControl", "conversation:message"] == [e["type"] for e in agent_events]
    assert "for the agent" == agent_events[1]["payload"]["message"]["content"]["text"]
    assert ["conversation:message", "switchboard:passControl"] == [e["type"] for e in bot_events][:2]


def test_standby_webhooks_with_deliver_standby_events_get_everything(account: sc.ApiClient, app_id: str) -> None:
    """With deliverStandbyEvents true, the agent in standby receives the conversation's messages too."""
    desk = build_desk(account, app_id, agent_standby=True)
    try:
        conversation = make_conversation(account, app_id, make_user(account, app_id, external_id="ana"))
        post(account, app_id, conversation.id, text("for everyone"))
        events = desk.agent_hook.wait_for(lambda got: len(got) >= 1)
    finally:
        desk.bot_hook.stop()
        desk.agent_hook.stop()
    assert [("conversation:message", "for everyone")] == [
        (e["type"], e["payload"]["message"]["content"]["text"]) for e in events]


def test_deleting_the_active_switchboard_integration_leaves_control_to_the_users_next_message(
        http: httpx.Client, account: sc.ApiClient, desk: Desk) -> None:
    """When the active switchboard integration is deleted nobody is in control (the spec: it is re-selected
    "next time the conversation has activity"); the user's next message gives control to the default,
    without a passControl event, and that message's conversation:message already names it."""
    user = make_user(account, desk.app_id, external_id="ana")
    convo = str(make_conversation(account, desk.app_id, user).id)
    extra = add_member(account, desk.app_id, desk.switchboard_id, "extra",
                       create_web(http, desk.app_id))
    actions(account).pass_control(desk.app_id, convo, sc.PassControlBody(switchboard_integration="extra"))
    during = control(account, desk.app_id, convo)
    sc.SwitchboardIntegrationsApi(account).delete_switchboard_integration(desk.app_id, desk.switchboard_id, extra.id)
    deleted = control(account, desk.app_id, convo)
    post(account, desk.app_id, convo, text("hello?"), author=sc.Author(type="user", user_id=user.id))
    event = of_type(desk.bot_hook, "conversation:message")[0]
    assert [("extra", None), (None, None), ("bot", None)] == [during, deleted, control(account, desk.app_id, convo)]
    assert wire(desk.bot) == event["payload"]["conversation"]["activeSwitchboardIntegration"]
    assert ["switchboard:passControl", "conversation:message"] == [e["type"] for e in desk.bot_hook.events()]


def test_after_release_control_the_users_next_message_goes_to_the_default(account: sc.ApiClient,
                                                                         desk: Desk) -> None:
    """After releaseControl a business message assigns nobody (and reaches no switchboard integration that
    ignores standby events); the user's next message gives control to the default, whose webhook gets it."""
    user = make_user(account, desk.app_id, external_id="ana")
    convo = str(make_conversation(account, desk.app_id, user).id)
    actions(account).release_control(desk.app_id, convo)
    post(account, desk.app_id, convo, text("nobody hears this"))
    released = control(account, desk.app_id, convo)
    post(account, desk.app_id, convo, text("help"), author=sc.Author(type="user", user_id=user.id))
    events = desk.bot_hook.wait_for(lambda got: any(e["type"] == "conversation:message" for e in got))
    assert [(None, None), ("bot", None)] == [released, control(account, desk.app_id, convo)]
    assert [("switchboard:releaseControl", None), ("conversation:message", "help")] == [
        (e["type"], e["payload"].get("message", {}).get("content", {}).get("text")) for e in events]
    assert wire(desk.bot) == events[1]["payload"]["conversation"]["activeSwitchboardIntegration"]


def test_conversation_events_carry_the_switchboard_state(http: httpx.Client, account: sc.ApiClient,
                                                         app_id: str) -> None:
    """conversation:create, :message, :read, :typing, :join, :leave and :remove name the active and the
    pending switchboard integrations (omitted when there is none); the bodies match the spec's schema."""
    desk = build_desk(account, app_id, agent_standby=True, triggers=[
        "conversation:create", "conversation:message", "conversation:read", "conversation:typing",
        "conversation:join", "conversation:leave", "conversation:remove"])
    try:
        ana, ben = make_user(account, app_id, external_id="ana"), make_user(account, app_id, external_id="ben")
        group = str(make_conversation(account, app_id, ana, kind="sdkGroup").id)
        actions(account).offer_control(app_id, group, sc.OfferControlBody(switchboard_integration="agent"))
        post(account, app_id, group, text("offered"))
        sc.ActivitiesApi(account).post_activity(app_id, group, sc.ActivityPost(
            author=sc.Author(type="user", user_id=ana.id), type="conversation:read"))
        sc.ActivitiesApi(account).post_activity(app_id, group, sc.ActivityPost(
            author=sc.Author(type="business"), type="typing:start"))
        sc.ParticipantsApi(account).join_conversation(app_id, group, sc.ParticipantJoinBody(
            user_id=ben.id, subscribe_sdk_client=False))
        sc.ParticipantsApi(account).leave_conversation(app_id, group, sc.ParticipantLeaveBody(
            sc.ParticipantLeaveBodyUserId(user_id=ben.id)))
        actions(account).release_control(app_id, group)
        sc.ConversationsApi(account).delete_conversation(app_id, group)
        events = desk.agent_hook.wait_for(lambda got: any(e["type"] == "conversation:remove" for e in got))
    finally:
        desk.bot_hook.stop()
        desk.agent_hook.stop()
    shown = [(e["type"], e["payload"]["conversation"].get("activeSwitchboardIntegration"),
              e["payload"]["conversation"].get("pendingSwitchboardIntegration")) for e in events]
    bot, agent = wire(desk.bot), wire(desk.agent)
    assert [("conversation:create", bot, None), ("conversation:message", bot, agent),
            ("conversation:read", bot, agent), ("conversation:typing", bot, agent),
            ("conversation:join", bot, agent), ("conversation:leave", bot, agent),
            ("conversation:remove", None, None)] == [row for row in shown if not row[0].startswith("switchboard")]
    validator = event_payload_validator()
    assert [] == [e.message for r in desk.agent_hook.requests for e in validator.iter_errors(r.body)]


def create_web(http: httpx.Client, app_id: str) -> str:
    return str(http.post(f"/v2/apps/{app_id}/integrations", json={"type": "web"}).json()["integration"]["id"])
