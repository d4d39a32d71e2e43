"""Telegram (docs/channels.md#telegram): a bot's updates come to the integration's webhook, its messages go out
through the Bot API (core.telegram.org/bots/api).

Provisioning checks the token (`getMe`, which gives the integration's read-only `username` and `botId`) and
points the bot's webhook at the integration's inbound URL with a secret token of the integration's own, which
Telegram sends back in `X-Telegram-Bot-Api-Secret-Token` with every update: that header is the only proof an
update is Telegram's (there is no signature). Private chats only: an update from a group is answered and
dropped. A photo or document is fetched through `getFile` and kept as an attachment (a file URL of the Bot
API has the bot's token in it).

Buttons: postback actions become inline buttons whose `callback_data` is the action's id
(`<messageId>:<n>`, at most 64 bytes as Telegram requires), so a press finds its action with no state kept
here; link and webview actions become URL buttons; reply and locationRequest actions a one-time reply
keyboard (dropped if the message also has inline buttons: Telegram takes one keyboard per message). A
carousel or list is one photo (or text) per item with that item's buttons.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from heliograph.channels.base import (
    Answer,
    Call,
    ChannelError,
    Fetched,
    InboundEvent,
    InboundRequest,
    Media,
    Postback,
    Profile,
    Refused,
    Sent,
    Unsupported,
    UserMessage,
    call_api,
    download,
)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_TEXT = 4096  # a message's text, in characters
MAX_CAPTION = 1024  # a photo's or document's caption
UPDATES = ("message", "callback_query")  # what the webhook asks Telegram for (setWebhook allowed_updates)
_INLINE = {"postback", "link", "webview"}
_KEYBOARD = {"reply", "locationRequest"}


class Telegram:
    type: ClassVar[str] = "telegram"
    default_base_url: ClassVar[str] = "https://api.telegram.org"
    receipts: ClassVar[bool] = False  # Telegram tells bots nothing of deliveries or reads
    reads: ClassVar[bool] = False

    # --- inbound ----------------------------------------------------------------------------------

    def configured(self, config: Mapping[str, Any]) -> bool:
        return True  # the spec's required fields are all it needs

    def handshake(self, secret: str, query: Mapping[str, str]) -> Answer:
        raise Refused(405, "This channel sends no GET")

    def verify(self, config: Mapping[str, Any], secret: str, request: InboundRequest) -> None:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            raise Refused(401, f"Missing {SECRET_HEADER} header")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise Refused(401, f"Invalid {SECRET_HEADER} header")

    def address(self, config: Mapping[str, Any]) -> str | None:
        return None  # a webhook of its own: every request is this integration's

    def nonce(self, request: InboundRequest) -> str | None:
        return None  # the secret or signature covers the whole request

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        update = _json_object(request.body)
        event: InboundEvent | None
        if isinstance(update.get("message"), dict):
            event = _message(update["message"])
        elif isinstance(update.get("callback_query"), dict):
            event = _callback(update["callback_query"])
        else:  # edited messages, channel posts, polls …: not for Sunshine
            return []
        return [] if event is None else [event]

    def acknowledge(self, events: Sequence[InboundEvent]) -> Answer:
        """A button press is answered at once (else the person's client shows a spinner): through the webhook's
        answer, which Telegram takes as one more Bot API call."""
        for event in events:
            if isinstance(event, Postback):
                query_id = event.external_id.removeprefix("callback:")
                body = json.dumps({"method": "answerCallbackQuery", "callback_query_id": query_id})
                return Answer(200, body.encode(), "application/json")
        return Answer()

    # --- outbound ---------------------------------------------------------------------------------

    def render(self, content: Mapping[str, Any], *, message_id: str, to: str) -> list[Call]:
        kind = content.get("type")
        chat = {"chat_id": to}
        if kind == "text":
            return _texts(chat, content.get("text") or "", _markup(content.get("actions"), message_id))
        if kind in ("image", "file"):
            method, field = ("sendPhoto", "photo") if kind == "image" else ("sendDocument", "document")
            return _with_caption(chat, method, {field: content["mediaUrl"]}, content.get("text") or "",
                                 _markup(content.get("actions"), message_id))
        if kind == "location":
            coordinates = content["coordinates"]
            return [Call("POST", "sendLocation", {**chat, "latitude": coordinates["lat"],
                                                  "longitude": coordinates["long"]})]
        if kind in ("carousel", "list"):
            return [call for place, item in enumerate(content.get("items") or ())
                    for call in _item(chat, item, _markup(item.get("actions"), f"{message_id}:{place}"))]
        raise Unsupported(f"Unsupported message type `{kind}`")

    async def fetch(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], media: Media, *,
                    limit: int) -> Fetched:
        """`getFile`, then the file from `{base}/file/bot<token>/<file_path>` (the Bot API serves up to 20 MB)."""
        found = await _call(http, base_url, config, "getFile", {"file_id": media.ref})
        path = found.get("file_path") if isinstance(found, dict) else None
        if not isinstance(path, str) or not path:
            raise ChannelError("bad_request", "Telegram gave no file_path for the file")
        if isinstance(found.get("file_size"), int) and found["file_size"] > limit:
            raise ChannelError("bad_request", f"The Telegram file is larger than {limit} bytes")
        return await download(http, "Telegram", f"{base_url.rstrip('/')}/file/bot{config.get('token', '')}/{path}",
                              limit=limit)

    async def send(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], call: Call) -> Sent:
        result = await _call(http, base_url, config, call.path, call.json)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Sent([] if message_id is None else [str(message_id)])

    # --- provisioning -----------------------------------------------------------------------------

    async def provision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], *,
                        webhook_url: str, secret: str) -> dict[str, Any]:
        me = await _call(http, base_url, config, "getMe", None)
        if not isinstance(me, dict) or "id" not in me:
            raise ChannelError("bad_request", "Telegram's getMe did not describe a bot")
        await _call(http, base_url, config, "setWebhook", {
            "url": webhook_url, "secret_token": secret, "allowed_updates": list(UPDATES)})
        learnt = {"botId": str(me["id"])}
        if me.get("username"):
            learnt["username"] = me["username"]
        return learnt

    async def deprovision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any]) -> None:
        await _call(http, base_url, config, "deleteWebhook", {})


# --- reading updates ------------------------------------------------------------------------------

def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        raise Refused(400, "The body is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, "The body is not a JSON object")
    return value


def _person(sender: Any) -> tuple[str, Profile] | None:
    if not isinstance(sender, dict) or not isinstance(sender.get("id"), int) or sender.get("is_bot"):
        return None
    given, surname = sender.get("first_name"), sender.get("last_name")
    shown = " ".join(part for part in (given, surname) if part) or sender.get("username")
    return str(sender["id"]), Profile(given_name=given, surname=surname, display_name=shown, raw=sender)


def _message(message: dict[str, Any]) -> UserMessage | None:
    chat, found = message.get("chat"), _person(message.get("from"))
    if found is None or not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    media = _media(message)
    content = _content(message) if media is None else _captioned(message)
    if content is None:
        return None
    user, profile = found
    date = message.get("date")
    return UserMessage(user=user, profile=profile, external_id=f"message:{chat.get('id')}:{message.get('message_id')}",
                       original_id=str(message.get("message_id")),
                       sent_at=date * 1000 if isinstance(date, int) else None, content=content, media=media)


def _content(message: dict[str, Any]) -> dict[str, Any] | None:
    """Sunshine content for what the person sent: a text or a location."""
    if isinstance(message.get("text"), str) and message["text"]:
        return {"type": "text", "text": message["text"]}
    location = message.get("location")
    if isinstance(location, dict) and _number(location.get("latitude")) and _number(location.get("longitude")):
        return {"type": "location", "coordinates": {"lat": location["latitude"], "long": location["longitude"]}}
    return None


def _media(message: dict[str, Any]) -> Media | None:
    """A photo (its largest size) or a document, to fetch by its file_id (services/channels.py)."""
    photos = [photo for photo in message.get("photo") or () if isinstance(photo, dict)] \
        if isinstance(message.get("photo"), list) else []
    if photos and isinstance(photos[-1].get("file_id"), str):
        unique = photos[-1].get("file_unique_id")
        return Media(photos[-1]["file_id"], "image/jpeg", f"photo-{unique}.jpg" if isinstance(unique, str) else None)
    document = message.get("document")
    if isinstance(document, dict) and isinstance(document.get("file_id"), str):
        declared, name = document.get("mime_type"), document.get("file_name")
        return Media(document["file_id"], declared if isinstance(declared, str) else None,
                     name if isinstance(name, str) else None)
    return None


def _captioned(message: dict[str, Any]) -> dict[str, Any]:
    caption = message.get("caption")
    return {"type": "file", **({"text": caption} if isinstance(caption, str) and caption else {})}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _callback(query: dict[str, Any]) -> Postback | None:
    found, data = _person(query.get("from")), query.get("data")
    if found is None or not isinstance(data, str) or not isinstance(query.get("id"), str):
        return None
    user, profile = found
    return Postback(user=user, profile=profile, external_id=f"callback:{query['id']}", action_id=data)


# --- writing messages -----------------------------------------------------------------------------

def _markup(actions: Any, action_prefix: str) -> dict[str, Any] | None:
    """The reply_markup of these actions: inline buttons, else a one-time reply keyboard, else none."""
    inline, keyboard = [], []
    for place, action in enumerate(actions or ()):
        kind, text = action.get("type"), action.get("text") or ""
        if kind == "postback":
            inline.append([{"text": text, "callback_data": f"{action_prefix}:{place}"}])
        elif kind in ("link", "webview"):
            inline.append([{"text": text, "url": action["uri"]}])
        elif kind == "reply":
            keyboard.append([{"text": text}])
        elif kind == "locationRequest":
            keyboard.append([{"text": text, "request_location": True}])
    if inline:
        return {"inline_keyboard": inline}
    if keyboard:
        return {"keyboard": keyboard, "one_time_keyboard": True, "resize_keyboard": True}
    return None


def _texts(chat: dict[str, Any], text: str, markup: dict[str, Any] | None) -> list[Call]:
    """sendMessage calls for a text of any length, cut at MAX_TEXT (the buttons under the last part)."""
    parts = [text[start:start + MAX_TEXT] for start in range(0, len(text), MAX_TEXT)] or [""]
    calls = [Call("POST", "sendMessage", {**chat, "text": part}) for part in parts]
    if markup is not None:
        last = calls[-1]
        calls[-1] = Call("POST", "sendMessage", {**(last.json or {}), "reply_markup": markup})
    return calls


def _with_caption(chat: dict[str, Any], method: str, media: dict[str, Any], text: str,
                  markup: dict[str, Any] | None) -> list[Call]:
    """A photo or document with its text as caption, or, for a text longer than a caption, the text after it."""
    if len(text) <= MAX_CAPTION:
        body = {**chat, **media, **({"caption": text} if text else {}), **({"reply_markup": markup} if markup else {})}
        return [Call("POST", method, body)]
    return [Call("POST", method, {**chat, **media}), *_texts(chat, text, markup)]


def _item(chat: dict[str, Any], item: Mapping[str, Any], markup: dict[str, Any] | None) -> list[Call]:
    text = "\n".join(part for part in (item.get("title"), item.get("description")) if part)
    if item.get("mediaUrl"):
        return _with_caption(chat, "sendPhoto", {"photo": item["mediaUrl"]}, text, markup)
    return _texts(chat, text, markup)


# --- the Bot API ------------------------------------------------------------------------------------

async def _call(http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], method: str,
                body: Mapping[str, Any] | None) -> Any:
    """One Bot API call (`POST {base}/bot<token>/<method>`): its `result`, or ChannelError as it failed."""
    url = f"{base_url.rstrip('/')}/bot{config.get('token', '')}/{method}"
    response, answer = await call_api(http, "Telegram", "POST", url, json=body or {})
    if response.status_code == 200 and answer.get("ok") is True:
        return answer.get("result")
    return _failure(method, response.status_code, answer)


def _failure(method: str, status: int, answer: dict[str, Any]) -> Any:
    description = answer.get("description") or f"HTTP {status}"
    message = f"Telegram refused {method}: {description}"
    if status == 429:
        parameters = answer.get("parameters")
        after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise ChannelError("too_many_requests", message, retryable=True,
                           retry_after=float(after) if isinstance(after, int | float) else None)
    if status >= 500:
        raise ChannelError("service_unavailable", message, retryable=True)
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "unauthorized"}  # 404: no such bot
    raise ChannelError(codes.get(status, "uncategorized_error"), message)
