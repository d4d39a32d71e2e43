"""Webhook payloads of clients and merges (client:add, client:remove, user:merge), as the spec shapes them.

Pure builders like those of events/payloads.py: rows and wire objects in, the event's payload out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heliograph.events.payloads import API_SOURCE, Row, conversation, user, user_truncated
from heliograph.schemas.clients import client as wire_client

CHANNEL_LINKING = "channelLinking"


def client_add(client_row: Row, user_row: Row, target: Row | None,
               source: Mapping[str, Any] = API_SOURCE, reason: str | None = None) -> dict[str, Any]:
    """client:add. A channel link names its target conversation and the `channelLinking` reason;
    an SDK client made by the API, or by an anonymous user's first visit, has neither (no reason of the
    spec's list applies to it). `source` is where it came from: the API, or an SDK integration."""
    payload: dict[str, Any] = {"user": user_truncated(user_row), "client": wire_client(client_row)}
    if target is not None:
        payload["conversation"] = conversation(target)
        payload["reason"] = CHANNEL_LINKING
    elif reason is not None:
        payload["reason"] = reason
    payload["source"] = dict(source)
    return payload


def client_remove(client_row: Row, user_row: Row, reason: str, *, target: Row | None = None,
                  error: Mapping[str, str] | None = None) -> dict[str, Any]:
    """client:remove: the removed client as it was, and why (`api` for RemoveClient; `linkFailed`, with the
    link's target conversation and the error, for a channel link given up)."""
    payload: dict[str, Any] = {"user": user_truncated(user_row), "client": wire_client(client_row)}
    if target is not None:
        payload["conversation"] = conversation(target)
    payload["reason"] = reason
    if error is not None:
        payload["error"] = dict(error)
    payload["source"] = dict(API_SOURCE)
    return payload


def client_update(client_row: Row, user_row: Row, target: Row | None, reason: str) -> dict[str, Any]:
    """client:update of a channel link: `matched` (the channel's person is known), `confirmed` (active)."""
    payload: dict[str, Any] = {"user": user_truncated(user_row), "client": wire_client(client_row),
                               "reason": reason}
    return payload if target is None else {"conversation": conversation(target), **payload}


def user_merge(surviving: Row, discarded: Row, *, conversations: tuple[Row, Row] | None,
               clients: tuple[Row, Row] | None, discarded_metadata: Mapping[str, Any],
               reason: str = "api") -> dict[str, Any]:
    """user:merge, with reason `api` (SyncUser) or `sdkLogin` (an end user's login); the merged pairs
    appear only when something was merged."""
    payload: dict[str, Any] = {"mergedUsers": {"surviving": user(surviving), "discarded": user(discarded)}}
    if conversations is not None:
        payload["mergedConversations"] = {"surviving": conversation(conversations[0]),
                                          "discarded": conversation(conversations[1])}
    if clients is not None:
        payload["mergedClients"] = {"surviving": wire_client(clients[0]), "discarded": wire_client(clients[1])}
    if discarded_metadata:
        payload["discardedMetadata"] = dict(discarded_metadata)
    payload["reason"] = reason
    return payload


def user_authenticated(user_row: Row, source: Mapping[str, Any]) -> dict[str, Any]:
    """user:update with reason `authentication`: an anonymous user became an identified one."""
    return {"user": user(user_row), "reason": "authentication", "source": dict(source)}
