"""What every channel adapter speaks (docs/channels.md): the inbound request as the channel sent it, the events
read from it, the calls a business message becomes, and how a channel's API refused one.

An adapter is pure where it can be: `verify`, `parse`, `acknowledge` and `render` take values and return
values. Only `provision`, `deprovision` and `send` do I/O, through the httpx client they are given, against
the base URL they are given (a setting per channel type: the real API, a proxy, or a fake).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx


@dataclasses.dataclass(frozen=True)
class InboundRequest:
    """A channel's webhook request, before anything of it is trusted: `url` is the public URL it was sent to
    (some signatures cover it), `headers` have lower-case names, `body` is the raw body the signature covers."""

    method: str
    url: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    received_at: int = 0  # when it came (ms): some signatures carry a timestamp that must be recent


@dataclasses.dataclass(frozen=True)
class Profile:
    """What the channel says of the person writing (each may be missing)."""

    given_name: str | None = None
    surname: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    raw: Mapping[str, Any] | None = None  # the channel's own description of them (the client's `raw`)


@dataclasses.dataclass(frozen=True)
class Media:
    """A picture or file the person sent that only the channel's API hands over (Telegram's `file_id`, WhatsApp's
    media id): Heliograph fetches it and keeps it as an attachment of the app, whose URL the message's content
    then has (a channel's own URL would expose its token, or need it)."""

    ref: str
    media_type: str | None = None
    filename: str | None = None


@dataclasses.dataclass(frozen=True)
class Fetched:
    """A fetched picture or file: its bytes and their type, as the channel gave them."""

    body: bytes
    media_type: str | None


@dataclasses.dataclass(frozen=True)
class UserMessage:
    """The person wrote: `content` is Sunshine content (text, image, file, location); `external_id` names the
    message uniquely on this integration (a replayed webhook is recognised by it), `original_id` is the
    channel's own message id (the source's originalMessageId), `sent_at` when the channel received it (ms)."""

    user: str  # the person's id on the channel: the client's externalId
    profile: Profile
    external_id: str
    original_id: str
    sent_at: int | None
    content: dict[str, Any]  # an image's or file's without its mediaUrl while `media` is to be fetched
    addressee: str | None = None  # the business account it was for (a Page, a number), where the channel says
    media: Media | None = None


@dataclasses.dataclass(frozen=True)
class Postback:
    """The person pressed a postback button: `action_id` names it as the end-user API does
    (`<messageId>:<n>` or `<messageId>:<item>:<n>`, services/postbacks.py)."""

    user: str
    profile: Profile
    external_id: str
    action_id: str
    addressee: str | None = None


@dataclasses.dataclass(frozen=True)
class Receipt:
    """The channel reports on a message Heliograph sent: `message` is the channel's id for it (as `Sent` gave
    it), `status` is `delivered`, `read` or `failed` (then with `error`: code and message)."""

    external_id: str
    message: str
    status: str
    error: tuple[str, str] | None = None
    addressee: str | None = None


@dataclasses.dataclass(frozen=True)
class Read:
    """The person read the conversation (Messenger's watermark, Instagram's seen): conversation:read."""

    user: str
    external_id: str
    addressee: str | None = None


InboundEvent = UserMessage | Postback | Receipt | Read


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the channel's request is answered with once its events are stored (200, and a body if the channel
    takes one: Telegram lets the answer carry one more API call)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"


class Refused(Exception):
    """The inbound request is not the channel's, or not one it would send: answered with `status`, and nothing
    of it is stored."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class Call:
    """One request to the channel's API, relative to its base URL."""

    method: str
    path: str
    json: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Sent:
    """The channel accepted a call: the ids it gave what it made (delivery events' externalMessages)."""

    external_ids: Sequence[str]


class ChannelError(Exception):
    """The channel refused or failed. `retry_after` (seconds) when it asked to be called again later (429);
    `retryable` when trying again may succeed (5xx, timeouts, refused connections); otherwise it is final
    and becomes conversation:message:delivery:failure with `code`."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable, self.retry_after = code, message, retryable, retry_after


class Unsupported(ChannelError):
    """A message the channel cannot carry in any form (a form on Telegram): a failure, never retried."""

    def __init__(self, message: str) -> None:
        super().__init__("uncategorized_error", message)


class Adapter(Protocol):
    """A channel: an integration type whose users write through a third-party API."""

    type: ClassVar[str]  # the integration's and the client's type
    default_base_url: ClassVar[str]
    receipts: ClassVar[bool]  # whether the channel reports deliveries to the person (then, reads: `reads`)
    reads: ClassVar[bool]

    def configured(self, config: Mapping[str, Any]) -> bool:
        """Whether the integration's fields are enough to set the channel up (else it is stored inactive)."""

    def handshake(self, secret: str, query: Mapping[str, str]) -> Answer:
        """The answer to the channel's GET that checks the webhook (Refused if it has none, or it is not for
        this integration: `secret`)."""

    def verify(self, config: Mapping[str, Any], secret: str, request: InboundRequest) -> None:
        """Raise Refused unless the request is the channel's, for this integration (`secret`: its own)."""

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """The events of a verified request that Heliograph stores (others are answered and dropped)."""

    def address(self, config: Mapping[str, Any]) -> str | None:
        """The integration's own account on the channel, which events name as their `addressee` where one webhook
        hears several (a Meta app's Pages, an account's numbers): events for another are dropped. None: all."""

    def nonce(self, request: InboundRequest) -> str | None:
        """The verified request's one-time token, where its signature covers that and not the body (Mailgun): a
        request with a token taken in before adds nothing, whatever its body. None for the other channels."""

    def acknowledge(self, events: Sequence[InboundEvent]) -> Answer:
        """What the request is answered with once its events are stored."""

    def render(self, content: Mapping[str, Any], *, message_id: str, to: str) -> list[Call]:
        """The calls that carry a business message's content to the person `to` (Unsupported if none can)."""

    async def send(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], call: Call) -> Sent:
        """Make one call (ChannelError if the channel refused or failed)."""

    async def provision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], *,
                        webhook_url: str, secret: str) -> dict[str, Any]:
        """Set the channel up for a new integration: check its credentials, point its webhook at
        `webhook_url`; the read-only fields it learnt (ChannelError if it refused)."""

    async def deprovision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any]) -> None:
        """Undo `provision` for an integration being deleted (ChannelError if the channel refused)."""


@runtime_checkable
class FetchesMedia(Protocol):
    """A channel whose people's pictures and files are fetched through its API (UserMessage.media)."""

    async def fetch(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], media: Media, *,
                    limit: int) -> Fetched:
        """The picture or file (ChannelError if the channel refused, or it is larger than `limit` bytes)."""


def refusal(response: httpx.Response, message: str) -> ChannelError:
    """A REST API's refusal by its status: 429 (with Retry-After's seconds) and 5xx to be retried; 400, 401, 403 and
    404 by name, anything else uncategorized, all final."""
    if response.status_code == 429:
        after = response.headers.get("retry-after")
        return ChannelError("too_many_requests", message, retryable=True,
                            retry_after=float(after) if after and after.isdigit() else None)
    if response.status_code >= 500:
        return ChannelError("service_unavailable", message, retryable=True)
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}
    return ChannelError(codes.get(response.status_code, "uncategorized_error"), message)


async def download(http: httpx.AsyncClient, channel: str, url: str, *, limit: int,
                   headers: Mapping[str, str] | None = None) -> Fetched:
    """A file from the channel (GET `url`), of at most `limit` bytes: ChannelError, to be retried, when the channel
    failed or could not be reached; final when it refused, or the file is larger."""
    try:
        async with http.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise refusal(response, f"{channel} refused the file: HTTP {response.status_code}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ChannelError("bad_request", f"The {channel} file is larger than {limit} bytes")
                chunks.append(chunk)
            return Fetched(b"".join(chunks), response.headers.get("content-type"))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _unanswered(channel, exc) from None


async def call_api(http: httpx.AsyncClient, channel: str, method: str, url: str,
                   **request: Any) -> tuple[httpx.Response, dict[str, Any]]:
    """One call of a channel's API: its response and JSON object (empty if it sent none); ChannelError, to be
    retried, when the channel did not answer in time or could not be reached."""
    try:
        response = await http.request(method, url, **request)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _unanswered(channel, exc) from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    return response, answer if isinstance(answer, dict) else {}


def _unanswered(channel: str, exc: Exception) -> ChannelError:
    """The channel did not answer in time, or could not be reached: to be retried."""
    if isinstance(exc, httpx.TimeoutException):
        return ChannelError("timeout", f"{channel} did not answer in time", retryable=True)
    return ChannelError("service_unavailable", f"{channel} could not be reached: {type(exc).__name__}",
                        retryable=True)
