"""End users for tests (docs/end-users.md): a visitor of the shop's page, signed in through a web
integration, with its SDK API requests and its realtime stream."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

SHOP = "https://shop.example"
EVIL = "https://evil.example"
PROTOCOL = "heliograph.v1"


def basic(user_id: str, token: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user_id}:{token}".encode()).decode()}


def auth_protocol(name: str, secret: str) -> str:
    """The WebSocket subprotocol that carries credentials (a browser cannot set Authorization on a WebSocket):
    `auth.` and the unpadded base64url of `name:secret` (a user's id and session token, or an app key's)."""
    return "auth." + base64.urlsafe_b64encode(f"{name}:{secret}".encode()).rstrip(b"=").decode()


def sign_up(client: httpx.Client, app_id: str, integration_id: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"/sdk/v2/apps/{app_id}/appusers", json={"integrationId": integration_id, **fields},
                           headers={"origin": SHOP})
    assert 201 == response.status_code, response.text
    return dict(response.json())


def user_jwt(key: Any, **claims: Any) -> str:
    """A user JWT signed with an app key (`key.id`, `key.secret`): `scope: user` and `claims`."""
    return jwt.encode({"scope": "user", **claims}, key.secret, algorithm="HS256", headers={"kid": key.id})


def log_in(client: httpx.Client, app_id: str, token: str, **body: Any) -> httpx.Response:
    """POST …/login from the shop's page with the user JWT `token` and `body`."""
    return client.post(f"/sdk/v2/apps/{app_id}/login", json=body,
                       headers={"origin": SHOP, "authorization": f"Bearer {token}"})


class Visitor:
    """An anonymous user of the shop's page, signed in, with requests sent as that page sends them."""

    def __init__(self, client: httpx.Client, app_id: str, integration_id: str) -> None:
        self.client, self.app_id = client, app_id
        created = sign_up(client, app_id, integration_id)
        self.id, self.token = created["user"]["id"], created["sessionToken"]

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"origin": SHOP, **basic(self.id, self.token)}
        return self.client.request(method, f"/sdk/v2/apps/{self.app_id}{path}", headers=headers, **kwargs)

    def start(self, **fields: Any) -> httpx.Response:
        return self.call("POST", f"/appusers/{self.id}/conversations", json=fields)

    def say(self, conversation_id: str, text: str, **fields: Any) -> httpx.Response:
        return self.call("POST", f"/conversations/{conversation_id}/messages",
                         json={"content": {"type": "text", "text": text}, **fields})

    def update(self, **fields: Any) -> httpx.Response:
        return self.call("PUT", f"/appusers/{self.id}", json=fields)

    def send_file(self, conversation_id: str, name: str, data: bytes, media_type: str,
                  **fields: str) -> httpx.Response:
        return self.call("POST", f"/conversations/{conversation_id}/files", data=fields,
                         files={"source": (name, data, media_type)})

    def click(self, conversation_id: str, action_id: str) -> httpx.Response:
        return self.call("POST", f"/conversations/{conversation_id}/postback", json={"actionId": action_id})

    def answer(self, conversation_id: str, form_id: str, fields: list[dict[str, Any]]) -> httpx.Response:
        return self.call("POST", f"/conversations/{conversation_id}/form-responses",
                         json={"quotedMessageId": form_id, "fields": fields})

    def sync(self) -> httpx.Response:
        return self.call("GET", f"/appusers/{self.id}/sync")

    def stream_url(self, base_url: str, cursor: str | None = None, user_id: str | None = None) -> str:
        url = base_url.replace("http", "ws", 1) + f"/sdk/v2/apps/{self.app_id}/appusers/{user_id or self.id}/stream"
        return url if cursor is None else f"{url}?cursor={cursor}"

    def credentials(self) -> str:
        return auth_protocol(self.id, self.token)

    def connect(self, base_url: str, *, cursor: str | None = None, origin: str = SHOP,
                protocols: list[str] | None = None, user_id: str | None = None) -> ClientConnection:
        offered = [PROTOCOL, self.credentials()] if protocols is None else protocols
        # max_queue=None: like a browser, the client keeps reading frames it has not asked for yet, so a
        # close in the middle of a backlog completes at once (a bounded queue would stall the close)
        return connect(self.stream_url(base_url, cursor, user_id), subprotocols=offered,  # type: ignore[arg-type]
                       origin=origin, open_timeout=10, max_queue=None)  # type: ignore[arg-type]


class SignedIn(Visitor):
    """A visitor whose session is already open (an identified user's, or someone's on another app's path)."""

    def __init__(self, client: httpx.Client, app_id: str, user_id: str, token: str) -> None:
        self.client, self.app_id, self.id, self.token = client, app_id, user_id, token


def frame(socket: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    """The next frame the server sends (a JSON object)."""
    return dict(json.loads(socket.recv(timeout=timeout)))


def frames_until_closed(socket: ClientConnection, wait: float = 10) -> tuple[list[str], int, str]:
    """The types of the frames received until the server closes the socket (at most `wait` seconds from now),
    the close code and its reason."""
    deadline = time.monotonic() + wait
    kinds = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            kinds.append(json.loads(socket.recv(timeout=deadline - time.monotonic()))["type"])
    received = closed.value.rcvd
    assert received is not None, "the connection dropped without a close frame"
    return kinds, received.code, received.reason


def texts(frames: list[dict[str, Any]]) -> list[str]:
    """The texts of `message` frames, in order."""
    return [f["message"]["content"]["text"] for f in frames]
