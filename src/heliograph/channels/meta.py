"""What Meta's channels share (WhatsApp, Messenger, Instagram): the webhook's GET check with a verify token, the
`X-Hub-Signature-256` of every notification, and the Graph API's calls and errors."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx

from heliograph.channels.base import Answer, ChannelError, InboundRequest, Refused, call_api

SIGNATURE_HEADER = "x-hub-signature-256"
GRAPH_VERSION = "v21.0"
# Meta's rate limits and "service unavailable": retried; the 24-hour window: final, said so
RETRIED = frozenset({4, 17, 32, 613, 80007, 130429, 131016, 131056, 133016})
OUTSIDE_WINDOW = frozenset({131047, 2018278, 2534022})  # WhatsApp's code; Messenger's, Instagram's subcodes


class MetaChannel:
    """What Meta's channels answer alike: the webhook's GET check, and the signature of the app's secret."""

    def handshake(self, secret: str, query: Mapping[str, str]) -> Answer:
        return handshake(secret, query)

    def verify(self, config: Mapping[str, Any], secret: str, request: InboundRequest) -> None:
        verify(str(config.get("appSecret") or ""), request)

    def nonce(self, request: InboundRequest) -> str | None:
        return None  # the signature covers the whole body

    def address(self, config: Mapping[str, Any]) -> str | None:
        return None  # (Messenger: its Page; WhatsApp: its number)


def handshake(secret: str, query: Mapping[str, str]) -> Answer:
    """Meta's GET that checks the webhook: the challenge, if the verify token is the integration's."""
    token = query.get("hub.verify_token", "")
    if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(token.encode(), secret.encode()):
        raise Refused(403, "The verify token is not this integration's")
    return Answer(200, query.get("hub.challenge", "").encode(), "text/plain")


def verify(app_secret: str, request: InboundRequest) -> None:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(the app's secret, the raw body)>`, compared in constant time."""
    given = request.headers.get(SIGNATURE_HEADER)
    if given is None:
        raise Refused(401, "Missing X-Hub-Signature-256 header")
    if not app_secret:
        raise Refused(401, "The integration has no app secret to check the signature with")
    expected = "sha256=" + hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused(401, "Invalid X-Hub-Signature-256 header")


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


async def graph(http: httpx.AsyncClient, channel: str, method: str, url: str, token: str,
                body: Mapping[str, Any] | None) -> dict[str, Any]:
    """One Graph API call with `token`: its JSON, or ChannelError as it failed."""
    response, answer = await call_api(http, channel, method, url, headers={"authorization": f"Bearer {token}"},
                                      **({} if body is None else {"json": dict(body)}))
    if 200 <= response.status_code < 300:
        return answer
    found = answer.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = f"{channel} refused the request: {error.get('message') or f'HTTP {response.status_code}'}" + (
        f" (error {code})" if code else "")
    if code in OUTSIDE_WINDOW or subcode in OUTSIDE_WINDOW:
        raise ChannelError("outside_window", message)  # more than 24 hours since the person last wrote
    if response.status_code == 429 or code in RETRIED:
        raise ChannelError("too_many_requests", message, retryable=True)
    if response.status_code >= 500:
        raise ChannelError("service_unavailable", message, retryable=True)
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}
    raise ChannelError(codes.get(response.status_code, "uncategorized_error"), message)
