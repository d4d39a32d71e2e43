"""Apps and app keys for tests: plain functions over the official SDK and raw HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import sunshine_conversations_client as sc


def new_app(account: sc.ApiClient, name: str = "App", **fields: Any) -> sc.App:
    return sc.AppsApi(account).create_app(sc.AppCreateBody(display_name=name, **fields)).app


def apps_after(http: httpx.Client, marker: str) -> list[str]:
    """Ids of the apps created after `marker` (tests run one at a time, so: by this test)."""
    return [a["id"] for a in http.get("/v2/apps", params={"page[after]": marker, "page[size]": 100}).json()["apps"]]


def raw_app(http: httpx.Client, app_id: str) -> dict[str, Any]:
    return dict(http.get(f"/v2/apps/{app_id}").json()["app"])


def new_key(account: sc.ApiClient, app_id: str, name: str = "Key") -> sc.AppKey:
    return sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name=name)).key


def key_ids(account: sc.ApiClient, app_id: str) -> list[str]:
    return [k.id for k in sc.AppKeysApi(account).list_app_keys(app_id).keys]
