"""Devices through the official SDK: the SDK installs of a user's SDK client, listed and fetched; they go
with their user. Devices are registered by the SDKs, so the tests write them as an SDK would."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.store.tables import clients, devices
from tests.conftest import Server
from tests.seeding import add_device, run
from tests.utils import MISSING_ID, http_error, make_conversation, make_user, sdk_error

DAY = 86_400_000
T0 = 1_738_000_000_000  # 2025-01-27T17:46:40.000Z


def sdk_client_of(account: sc.ApiClient, app_id: str, user: sc.User) -> str:
    """The user's SDK client, made by joining a group with subscribeSDKClient."""
    group = make_conversation(account, app_id, kind="sdkGroup")
    body = sc.ParticipantJoinBody(user_id=user.id, subscribe_sdk_client=True)
    participant = sc.ParticipantsApi(account).join_conversation(app_id, group.id, body).participant
    return str(participant.client_associations[0].client_id)


def web_integration(http: httpx.Client, app_id: str) -> str:
    return str(http.post(f"/v2/apps/{app_id}/integrations", json={"type": "web"}).json()["integration"]["id"])


def seeded(server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str, user: sc.User,
           **fields: Any) -> tuple[str, str, str]:
    """A device of the user's SDK client: the client's id, the integration's id, the device's id."""
    client_id, integration_id = sdk_client_of(account, app_id, user), web_integration(http, app_id)
    device_id = add_device(server.database_url, app_id=app_id, user_id=user.id, client_id=client_id,
                           integration_id=integration_id, last_seen=T0, **fields)
    return client_id, integration_id, device_id


def test_get_device_returns_every_field(server: Server, account: sc.ApiClient, http: httpx.Client, app_id: str,
                                        user: sc.User) -> None:
    """GetDevice answers the device with its client, integration, status, lastSeen and SDK details."""
    info = {"currentUrl": "https://example.com", "browserLanguage": "en-US", "sdkVersion": "0.1"}
    client_id, integration_id, device_id = seeded(server, account, http, app_id, user, info=info,
                                                  push_notification_token="tok", app_version="1.2")
    device = sc.DevicesApi(account).get_device(app_id, user.id, device_id).device
    assert {"id": device_id, "type": "web", "guid": device_id * 2, "clientId": client_id, "status": "active",
            "integrationId": integration_id, "lastSeen": "2025-01-27T17:46:40.000Z",
            "pushNotificationToken": "tok", "info": info, "appVersion": "1.2"} == device.to_dict()


def test_list_devices_most_recently_seen_first(server: Server, account: sc.ApiClient, http: httpx.Client,
                                               app_id: str, user: sc.User) -> None:
    """ListDevices lists the user's devices sorted by lastSeen, the most recent first."""
    client_id, integration_id, old = seeded(server, account, http, app_id, user)
    recent = add_device(server.database_url, app_id=app_id, user_id=user.id, client_id=client_id,
                        integration_id=integration_id, last_seen=T0 + DAY, type="ios")
    listed = sc.DevicesApi(account).list_devices(app_id, "ana").devices
    assert [(recent, "ios"), (old, "web")] == [(d.id, d.type) for d in listed]


def test_a_user_without_devices_has_an_empty_list(http: httpx.Client, app_id: str, user: sc.User) -> None:
    """ListDevices of a user who never used an SDK is an empty list."""
    response = http.get(f"/v2/apps/{app_id}/users/{user.id}/devices")
    assert (200, {"devices": []}) == (response.status_code, response.json())


def test_device_lookups_that_find_nothing(server: Server, account: sc.ApiClient, http: httpx.Client,
                                          app_id: str, user: sc.User) -> None:
    """An unknown device, or another user's device, is 404 device_not_found; an unknown user user_not_found."""
    _, _, device_id = seeded(server, account, http, app_id, user)
    other = make_user(account, app_id, external_id="bo")
    for owner, wanted in ((user.id, MISSING_ID), (other.id, device_id)):
        with pytest.raises(sc.ApiException) as exc:
            sc.DevicesApi(account).get_device(app_id, owner, wanted)
        assert (404, "device_not_found", "Device not found") == sdk_error(exc)
    for path in (f"devices/{device_id}", "devices"):
        response = http.get(f"/v2/apps/{app_id}/users/{MISSING_ID}/{path}")
        assert (404, "user_not_found") == http_error(response)[:2]


def test_deleting_a_user_deletes_their_clients_and_devices(server: Server, account: sc.ApiClient,
                                                           http: httpx.Client, app_id: str, user: sc.User) -> None:
    """DeleteUser leaves no client or device of the user behind."""
    client_id, _, device_id = seeded(server, account, http, app_id, user)
    sc.UsersApi(account).delete_user(app_id, user.id)
    left = sa.select(
        sa.select(sa.func.count()).where(clients.c.id == client_id).scalar_subquery().label("clients"),
        sa.select(sa.func.count()).where(devices.c.id == device_id).scalar_subquery().label("devices"))
    assert [{"clients": 0, "devices": 0}] == run(server.database_url, left)
