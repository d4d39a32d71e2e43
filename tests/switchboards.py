"""Switchboards for tests: a switchboard and its switchboard integrations, through the official SDK."""

from __future__ import annotations

from typing import Any

import sunshine_conversations_client as sc

from tests.integrations import custom


def make_switchboard(api: sc.ApiClient, app_id: str) -> sc.Switchboard:
    return sc.SwitchboardsApi(api).create_switchboard(app_id).switchboard


def add_member(api: sc.ApiClient, app_id: str, switchboard_id: str, name: str, integration_id: str | None = None,
               **fields: Any) -> sc.SwitchboardIntegration:
    """A switchboard integration linking `integration_id` (a new custom integration when None)."""
    if integration_id is None and "integration_type" not in fields:
        integration_id = custom(api, app_id, name=name).id
    body = sc.SwitchboardIntegrationCreateBody(name=name, integration_id=integration_id, **fields)
    return sc.SwitchboardIntegrationsApi(api).create_switchboard_integration(app_id, switchboard_id, body) \
        .switchboard_integration
