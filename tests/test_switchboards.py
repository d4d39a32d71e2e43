"""Switchboards and switchboard integrations through the official SDK: one switchboard per app, at most
10 switchboard integrations, names, links, defaults and `next`, on both engines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.conftest import Server, sdk_client
from tests.integrations import create_raw, custom
from tests.spec import SpecChecker
from tests.switchboards import add_member, make_switchboard
from tests.utils import MISSING_ID, http_error, sdk_error


def members(api: sc.ApiClient, app_id: str, switchboard_id: str) -> list[sc.SwitchboardIntegration]:
    return sc.SwitchboardIntegrationsApi(api).list_switchboard_integrations(app_id, switchboard_id) \
        .switchboard_integrations


@pytest.fixture
def board(account: sc.ApiClient, app_id: str) -> sc.Switchboard:
    """A new (disabled) switchboard of the test's app."""
    return make_switchboard(account, app_id)


def members_url(app_id: str, switchboard_id: str) -> str:
    return f"/v2/apps/{app_id}/switchboards/{switchboard_id}/switchboardIntegrations"


# --- switchboards -----------------------------------------------------------------------------

def test_a_switchboard_is_created_disabled_and_listed(account: sc.ApiClient, app_id: str) -> None:
    """CreateSwitchboard answers 201 with a disabled switchboard without default; ListSwitchboards lists it."""
    created = make_switchboard(account, app_id)
    listed = sc.SwitchboardsApi(account).list_switchboards(app_id).switchboards
    assert (False, None) == (created.enabled, created.default_switchboard_integration_id)
    assert [created.id] == [s.id for s in listed]


def test_only_one_switchboard_per_app(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """A second CreateSwitchboard is the spec's 400, and the app keeps its one switchboard."""
    with pytest.raises(sc.ApiException) as raised:
        make_switchboard(account, app_id)
    assert (400, "bad_request", "Only one switchboard can be created per app") == sdk_error(raised)
    assert [board.id] == [s.id for s in sc.SwitchboardsApi(account).list_switchboards(app_id).switchboards]


def test_switchboards_of_an_unknown_app_are_404(account: sc.ApiClient) -> None:
    """CreateSwitchboard and ListSwitchboards on an unknown app: 404 app_not_found."""
    for call in (sc.SwitchboardsApi(account).create_switchboard, sc.SwitchboardsApi(account).list_switchboards):
        with pytest.raises(sc.ApiException) as raised:
            call(MISSING_ID)
        assert (404, "app_not_found") == sdk_error(raised)[:2]


def test_an_app_without_switchboard_lists_none(account: sc.ApiClient, app_id: str) -> None:
    """ListSwitchboards of an app without one is an empty list."""
    assert [] == sc.SwitchboardsApi(account).list_switchboards(app_id).switchboards


def test_update_sets_the_default_and_enables(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """UpdateSwitchboard sets defaultSwitchboardIntegrationId and enabled; ListSwitchboards shows both."""
    bot = add_member(account, app_id, board.id, "bot")
    body = sc.SwitchboardUpdateBody(enabled=True, default_switchboard_integration_id=bot.id)
    updated = sc.SwitchboardsApi(account).update_switchboard(app_id, board.id, body).switchboard
    listed = sc.SwitchboardsApi(account).list_switchboards(app_id).switchboards[0]
    assert (True, bot.id) == (updated.enabled, updated.default_switchboard_integration_id)
    assert updated.to_dict() == listed.to_dict()


def test_enabling_needs_a_default(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """Enabling a switchboard without a default switchboard integration is a 400; it stays disabled."""
    with pytest.raises(sc.ApiException) as raised:
        sc.SwitchboardsApi(account).update_switchboard(app_id, board.id, sc.SwitchboardUpdateBody(enabled=True))
    assert (400, "bad_request", "Enabled switchboard must have an associated default switchboardIntegration") == \
        sdk_error(raised)
    assert [False] == [s.enabled for s in sc.SwitchboardsApi(account).list_switchboards(app_id).switchboards]


def test_the_default_must_be_a_member(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """A default that names no switchboard integration of the switchboard: 404 switchboard_integration_not_found."""
    body = sc.SwitchboardUpdateBody(default_switchboard_integration_id=MISSING_ID)
    with pytest.raises(sc.ApiException) as raised:
        sc.SwitchboardsApi(account).update_switchboard(app_id, board.id, body)
    assert (404, "switchboard_integration_not_found") == sdk_error(raised)[:2]


def test_update_and_delete_of_an_unknown_switchboard_are_404(account: sc.ApiClient, app_id: str) -> None:
    """UpdateSwitchboard and DeleteSwitchboard of an unknown id: 404 switchboard_not_found."""
    api = sc.SwitchboardsApi(account)
    for call, args in ((api.update_switchboard, (sc.SwitchboardUpdateBody(enabled=False),)),
                       (api.delete_switchboard, ())):
        with pytest.raises(sc.ApiException) as raised:
            call(app_id, MISSING_ID, *args)
        assert (404, "switchboard_not_found", "Switchboard not found") == sdk_error(raised)


def test_update_refuses_bad_types(http: httpx.Client, app_id: str, board: sc.Switchboard) -> None:
    """UpdateSwitchboard with `enabled: "true"` is a 400 naming the field."""
    response = http.patch(f"/v2/apps/{app_id}/switchboards/{board.id}", json={"enabled": "true"})
    assert (400, "bad_request", "Invalid enabled: Expected `bool`, got `str`") == http_error(response)


def test_delete_removes_the_switchboard_and_its_integrations(account: sc.ApiClient, app_id: str,
                                                            board: sc.Switchboard) -> None:
    """DeleteSwitchboard removes it with its switchboard integrations; the linked integrations remain."""
    bot = add_member(account, app_id, board.id, "bot")
    sc.SwitchboardsApi(account).delete_switchboard(app_id, board.id)
    with pytest.raises(sc.ApiException) as raised:
        members(account, app_id, board.id)
    assert (404, "switchboard_not_found") == sdk_error(raised)[:2]
    assert [] == sc.SwitchboardsApi(account).list_switchboards(app_id).switchboards
    assert bot.integration_id == sc.IntegrationsApi(account).get_integration(app_id, bot.integration_id) \
        .integration.id
    assert board.id != make_switchboard(account, app_id).id


def test_switchboards_refuse_integration_keys(server: Server, checker: SpecChecker, account: sc.ApiClient,
                                              app_id: str, board: sc.Switchboard) -> None:
    """The Switchboards operations list the app and account scopes only: an integration key gets 403."""
    integration = custom(account, app_id)
    key = sc.CustomIntegrationApiKeysApi(account).create_custom_integration_key(
        app_id, integration.id, sc.IntegrationApiKey(display_name="Bot")).key
    api = sdk_client(server, checker, key.id, key.secret)
    with pytest.raises(sc.ApiException) as raised:
        sc.SwitchboardsApi(api).list_switchboards(app_id)
    assert (403, "forbidden") == sdk_error(raised)[:2]


# --- switchboard integrations -----------------------------------------------------------------

def test_create_links_an_integration_with_defaults(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """CreateSwitchboardIntegration answers the link's integrationId and type; deliverStandbyEvents defaults
    to true; ListSwitchboardIntegrations lists it as created."""
    integration = custom(account, app_id)
    created = add_member(account, app_id, board.id, "bot", integration.id)
    assert {"name": "bot", "integrationId": integration.id, "integrationType": "custom", "deliverStandbyEvents": True,
            "nextSwitchboardIntegrationId": None, "messageHistoryCount": None} == {
        k: v for k, v in created.to_dict().items() if k != "id"}
    assert [created.to_dict()] == [m.to_dict() for m in members(account, app_id, board.id)]


def test_create_with_every_field(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """nextSwitchboardIntegrationId, messageHistoryCount and deliverStandbyEvents are stored as given."""
    agent = add_member(account, app_id, board.id, "agent-1")
    bot = add_member(account, app_id, board.id, "Bot_2", deliver_standby_events=False,
                     next_switchboard_integration_id=agent.id, message_history_count=10)
    assert (False, agent.id, 10) == (bot.deliver_standby_events, bot.next_switchboard_integration_id,
                                     bot.message_history_count)


def test_integration_type_names_the_only_integration_of_that_type(http: httpx.Client, account: sc.ApiClient,
                                                                  app_id: str, board: sc.Switchboard) -> None:
    """integrationType links the app's one integration of that type; with several, it is ambiguous (400)."""
    web = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "web"}).json()["integration"]["id"]
    linked = add_member(account, app_id, board.id, "widget", integration_type="web")
    http.post(f"/v2/apps/{app_id}/integrations", json={"type": "web"})
    with pytest.raises(sc.ApiException) as raised:
        add_member(account, app_id, board.id, "other", integration_type="web")
    assert (web, "web") == (linked.integration_id, linked.integration_type)
    assert (400, "bad_request") == sdk_error(raised)[:2]
    assert 1 == len(members(account, app_id, board.id))


def test_a_custom_integration_is_linked_by_its_id(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """The spec: integrationId "must be used when linking a custom integration"; its type is a 400."""
    custom(account, app_id)
    with pytest.raises(sc.ApiException) as raised:
        add_member(account, app_id, board.id, "bot", integration_type="custom")
    assert (400, "bad_request", "Invalid integrationType: a custom integration is linked by its integrationId") == \
        sdk_error(raised)
    assert [] == members(account, app_id, board.id)


@pytest.mark.parametrize(("body", "title"), [
    ({"name": "bot!"}, "Invalid name: Expected `str` matching regex '^[A-Za-z0-9_-]+$'"),
    ({"name": ""}, "Invalid name: Expected `str` matching regex '^[A-Za-z0-9_-]+$'"),
    ({"name": "b" * 129}, "Invalid name: Expected `str` of length <= 128"),
    ({"integrationType": "web"}, "Missing required field `name`"),
    ({"name": "bot", "messageHistoryCount": 0}, "Invalid messageHistoryCount: Expected `int` >= 1"),
    ({"name": "bot", "messageHistoryCount": 11}, "Invalid messageHistoryCount: Expected `int` <= 10"),
    ({"name": "bot", "deliverStandbyEvents": "yes"}, "Invalid deliverStandbyEvents: Expected `bool`, got `str`"),
    ({"name": "bot"}, "One of integrationId or integrationType is required"),
    ({"name": "bot", "integrationType": "custom", "integrationId": MISSING_ID},
     "Provide integrationId or integrationType, not both"),
])
def test_create_refuses_bad_bodies(http: httpx.Client, account: sc.ApiClient, app_id: str, board: sc.Switchboard,
                                   body: dict[str, Any], title: str) -> None:
    """Each malformed CreateSwitchboardIntegration body is a 400 naming the problem; nothing is created."""
    custom(account, app_id)
    response = http.post(members_url(app_id, board.id), json=body)
    assert (400, "bad_request", title) == http_error(response)
    assert [] == members(account, app_id, board.id)


def test_create_refuses_what_does_not_exist(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """An unknown switchboard, integration or next switchboard integration is a 404 with its code."""
    integration = custom(account, app_id)
    api = sc.SwitchboardIntegrationsApi(account)
    cases = [(MISSING_ID, {"integration_id": integration.id}, "switchboard_not_found"),
             (board.id, {"integration_id": MISSING_ID}, "integration_not_found"),
             (board.id, {"integration_type": "whatsapp"}, "integration_not_found"),
             (board.id, {"integration_id": integration.id, "next_switchboard_integration_id": MISSING_ID},
              "switchboard_integration_not_found")]
    for switchboard_id, fields, code in cases:
        with pytest.raises(sc.ApiException) as raised:
            api.create_switchboard_integration(app_id, switchboard_id,
                                               sc.SwitchboardIntegrationCreateBody(name="bot", **fields))
        assert (404, code) == sdk_error(raised)[:2]
    assert [] == members(account, app_id, board.id)


def test_names_and_integrations_are_unique_in_a_switchboard(account: sc.ApiClient, app_id: str,
                                                            board: sc.Switchboard) -> None:
    """A second switchboard integration with the same name, or linking the same integration, is a 400."""
    bot = add_member(account, app_id, board.id, "bot")
    for name, integration_id in (("bot", custom(account, app_id).id), ("bot2", bot.integration_id)):
        with pytest.raises(sc.ApiException) as raised:
            add_member(account, app_id, board.id, name, integration_id)
        assert (400, "bad_request") == sdk_error(raised)[:2]
    assert [bot.id] == [m.id for m in members(account, app_id, board.id)]


def test_at_most_ten_switchboard_integrations(http: httpx.Client, account: sc.ApiClient, app_id: str,
                                              board: sc.Switchboard) -> None:
    """The 11th switchboard integration is the spec's 400 too_many_switchboard_integrations."""
    linked = [create_raw(http, app_id, "web").json()["integration"]["id"] for _ in range(11)]
    for n in range(10):
        add_member(account, app_id, board.id, f"member-{n}", linked[n])
    with pytest.raises(sc.ApiException) as raised:
        add_member(account, app_id, board.id, "eleventh", linked[10])
    assert (400, "too_many_switchboard_integrations",
            "Switchboard has reached the max number of switchboard integrations (10)") == sdk_error(raised)
    assert 10 == len(members(account, app_id, board.id))


def test_update_changes_the_given_fields(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """UpdateSwitchboardIntegration changes what is given, relinks by integrationId, and null clears next
    and messageHistoryCount."""
    agent = add_member(account, app_id, board.id, "agent")
    bot = add_member(account, app_id, board.id, "bot", next_switchboard_integration_id=agent.id,
                     message_history_count=3)
    other = custom(account, app_id, name="Other")
    api = sc.SwitchboardIntegrationsApi(account)
    body = sc.SwitchboardIntegrationUpdateBody(name="bot-2", deliver_standby_events=False, integration_id=other.id)
    updated = api.update_switchboard_integration(app_id, board.id, bot.id, body).switchboard_integration
    assert ("bot-2", False, other.id, agent.id, 3) == (
        updated.name, updated.deliver_standby_events, updated.integration_id,
        updated.next_switchboard_integration_id, updated.message_history_count)
    cleared = sc.SwitchboardIntegrationUpdateBody(next_switchboard_integration_id=None, message_history_count=None)
    cleared.model_fields_set.update({"next_switchboard_integration_id", "message_history_count"})
    result = api.update_switchboard_integration(app_id, board.id, bot.id, cleared).switchboard_integration
    assert (None, None) == (result.next_switchboard_integration_id, result.message_history_count)
    assert result.to_dict() == next(m.to_dict() for m in members(account, app_id, board.id) if m.id == bot.id)


@pytest.mark.parametrize(("body", "expected"), [
    ({"integrationId": MISSING_ID, "integrationType": "custom"},
     (400, "bad_request", "Provide integrationId or integrationType, not both")),
    ({"name": "with space"}, (400, "bad_request", "Invalid name: Expected `str` matching regex '^[A-Za-z0-9_-]+$'")),
    ({"messageHistoryCount": 12}, (400, "bad_request", "Invalid messageHistoryCount: Expected `int` <= 10")),
    ({"nextSwitchboardIntegrationId": "self"},
     (400, "bad_request", "nextSwitchboardIntegrationId cannot be the switchboard integration itself")),
    ({"name": "agent"}, (400, "bad_request", "Invalid name: the switchboard already has a switchboard integration "
                         "named agent")),
    ({"nextSwitchboardIntegrationId": MISSING_ID},
     (404, "switchboard_integration_not_found", "nextSwitchboardIntegrationId: switchboard integration not found")),
    ({"integrationId": MISSING_ID}, (404, "integration_not_found", "Integration not found")),
])
def test_update_refuses_bad_changes(http: httpx.Client, account: sc.ApiClient, app_id: str, board: sc.Switchboard,
                                    body: dict[str, Any], expected: tuple[int, str, str]) -> None:
    """Each bad UpdateSwitchboardIntegration body is refused with its status; nothing changes."""
    add_member(account, app_id, board.id, "agent")
    bot = add_member(account, app_id, board.id, "bot")
    before = [m.to_dict() for m in members(account, app_id, board.id)]
    body = {k: bot.id if v == "self" else v for k, v in body.items()}
    response = http.patch(f"{members_url(app_id, board.id)}/{bot.id}", json=body)
    assert expected == http_error(response)
    assert before == [m.to_dict() for m in members(account, app_id, board.id)]


def test_update_and_delete_of_an_unknown_switchboard_integration_are_404(account: sc.ApiClient, app_id: str,
                                                                         board: sc.Switchboard) -> None:
    """An unknown switchboard integration: 404 switchboard_integration_not_found on update and delete."""
    api = sc.SwitchboardIntegrationsApi(account)
    with pytest.raises(sc.ApiException) as raised:
        api.update_switchboard_integration(app_id, board.id, MISSING_ID, sc.SwitchboardIntegrationUpdateBody())
    assert (404, "switchboard_integration_not_found", "SwitchboardIntegration not found") == sdk_error(raised)
    with pytest.raises(sc.ApiException) as raised:
        api.delete_switchboard_integration(app_id, board.id, MISSING_ID)
    assert (404, "switchboard_integration_not_found", "SwitchboardIntegration not found") == sdk_error(raised)


def test_delete_refuses_the_default_and_a_next(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """The default switchboard integration, and one another's next refers to, cannot be deleted (400)."""
    agent = add_member(account, app_id, board.id, "agent")
    bot = add_member(account, app_id, board.id, "bot", next_switchboard_integration_id=agent.id)
    sc.SwitchboardsApi(account).update_switchboard(
        app_id, board.id, sc.SwitchboardUpdateBody(default_switchboard_integration_id=bot.id))
    api = sc.SwitchboardIntegrationsApi(account)
    for refused in (bot, agent):
        with pytest.raises(sc.ApiException) as raised:
            api.delete_switchboard_integration(app_id, board.id, refused.id)
        assert (400, "bad_request") == sdk_error(raised)[:2]
    assert 2 == len(members(account, app_id, board.id))


def test_delete_removes_a_switchboard_integration(account: sc.ApiClient, app_id: str, board: sc.Switchboard) -> None:
    """DeleteSwitchboardIntegration answers 200 {} and the switchboard integration is gone."""
    bot = add_member(account, app_id, board.id, "bot")
    keep = add_member(account, app_id, board.id, "keep")
    assert {} == sc.SwitchboardIntegrationsApi(account).delete_switchboard_integration(app_id, board.id, bot.id)
    assert [keep.id] == [m.id for m in members(account, app_id, board.id)]


def test_deleting_the_integration_removes_its_switchboard_integration(account: sc.ApiClient, app_id: str,
                                                                      board: sc.Switchboard) -> None:
    """DeleteIntegration takes the switchboard integration that linked it along."""
    bot = add_member(account, app_id, board.id, "bot")
    sc.IntegrationsApi(account).delete_integration(app_id, bot.integration_id)
    assert [] == members(account, app_id, board.id)


def test_a_channel_integration_can_be_linked_by_id(http: httpx.Client, account: sc.ApiClient, app_id: str,
                                                   board: sc.Switchboard) -> None:
    """Any integration of the app can be linked by id; its type is the integration's type."""
    integration = create_raw(http, app_id, "web").json()["integration"]
    linked = add_member(account, app_id, board.id, "web", integration["id"])
    assert ("web", integration["id"]) == (linked.integration_type, linked.integration_id)
