"""WhatsApp through Meta's Cloud API (docs/channels.md#whatsapp): a business number's messages and the statuses of
the messages sent come to the integration's webhook as JSON signed with the Meta app's secret; messages go out
through the Graph API's `/{phone-number-id}/messages`.

What the spec's `whatsapp` integration lacks, Heliograph takes as its own fields: `phoneNumberId`,
`accessToken` (a system user's token; else `accountManagementAccessToken` is used) and `appSecret`, both
write-only. Without them the integration is stored inactive, as before.

Meta signs each POST with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`, checked here in
constant time; its GET handshake (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`) carries no
signature and is answered with the challenge when the verify token is the integration's own secret.

Buttons: up to three postback or reply actions become reply buttons (`interactive.button`), whose ids are the
actions' ids (`<messageId>:<n>`), so a press finds its action with no state kept; four to ten a list
(`interactive.list`); links are lines of the text. A carousel or list message is its items as text; a
`template` message (schema `whatsapp`) goes as it is.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from heliograph.channels import meta
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
    Receipt,
    Refused,
    Sent,
    Unsupported,
    UserMessage,
    download,
)

SIGNATURE_HEADER, GRAPH_VERSION = meta.SIGNATURE_HEADER, meta.GRAPH_VERSION
MAX_TEXT = 4096
MAX_BUTTONS, MAX_ROWS = 3, 10
MAX_BUTTON_TITLE, MAX_ROW_TITLE = 20, 24
_STATUSES = {"delivered": "delivered", "read": "read", "failed": "failed"}


class WhatsApp(meta.MetaChannel):
    type: ClassVar[str] = "whatsapp"
    default_base_url: ClassVar[str] = "https://graph.facebook.com"
    receipts: ClassVar[bool] = True  # statuses: delivered, read, failed
    reads: ClassVar[bool] = True

    # --- inbound ----------------------------------------------------------------------------------

    def configured(self, config: Mapping[str, Any]) -> bool:
        """The Cloud API's number, a token, the app's secret and the account: else stored inactive, as before."""
        return all(config.get(k) for k in ("phoneNumberId", "appSecret", "accountId")) and bool(
            config.get("accessToken") or config.get("accountManagementAccessToken"))

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise Refused(400, "The body is not JSON") from None
        if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
            raise Refused(400, "The body is not a WhatsApp Business Account notification")
        events: list[InboundEvent] = []
        for entry in _dicts(body.get("entry")):
            for change in _dicts(entry.get("changes")):
                value = change.get("value")
                if change.get("field") != "messages" or not isinstance(value, dict):
                    continue
                names = {contact.get("wa_id"): _dict(contact.get("profile")).get("name")
                         for contact in _dicts(value.get("contacts"))}
                found = [event for message in _dicts(value.get("messages"))
                         if (event := _message(message, names)) is not None]
                found += [receipt for status in _dicts(value.get("statuses"))
                          if (receipt := _receipt(status)) is not None]
                number = _dict(value.get("metadata")).get("phone_number_id")
                events += [dataclasses.replace(event, addressee=None if number is None else str(number))
                           for event in found]
        return events

    def address(self, config: Mapping[str, Any]) -> str | None:
        number = config.get("phoneNumberId")  # an account's notifications name the number they are for
        return None if number is None else str(number)

    def acknowledge(self, events: Sequence[InboundEvent]) -> Answer:
        return Answer()

    # --- outbound ---------------------------------------------------------------------------------

    def render(self, content: Mapping[str, Any], *, message_id: str, to: str) -> list[Call]:
        kind = content.get("type")
        base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        if kind == "text":
            return [Call("POST", "messages", {**base, **_text(content.get("text") or "", content.get("actions"),
                                                              message_id)})]
        if kind in ("image", "file"):
            field = "image" if kind == "image" else "document"
            media = {"link": content["mediaUrl"], **({"caption": content["text"]} if content.get("text") else {})}
            return [Call("POST", "messages", {**base, "type": field, field: media})]
        if kind == "location":
            place = content.get("location") or {}
            coordinates = content["coordinates"]
            return [Call("POST", "messages", {**base, "type": "location", "location": {
                "latitude": coordinates["lat"], "longitude": coordinates["long"],
                **{k: place[k] for k in ("name", "address") if place.get(k)}}})]
        if kind in ("carousel", "list"):
            lines = ["\n".join(p for p in (item.get("title"), item.get("description")) if p)
                     for item in content.get("items") or ()]
            return [Call("POST", "messages", {**base, "type": "text", "text": {"body": "\n\n".join(lines)}})]
        if kind == "template":
            return [Call("POST", "messages", {**base, "type": "template", "template": content.get("template")})]
        raise Unsupported(f"Unsupported message type `{kind}`")

    async def fetch(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], media: Media, *,
                    limit: int) -> Fetched:
        """`GET /{media id}` gives the file's short-lived URL, which takes the same Bearer token."""
        found = await _graph(http, "GET", f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{media.ref}", config, None)
        if not isinstance(found.get("url"), str):
            raise ChannelError("bad_request", "WhatsApp gave no URL for the media")
        if isinstance(found.get("file_size"), int) and found["file_size"] > limit:
            raise ChannelError("bad_request", f"The WhatsApp media is larger than {limit} bytes")
        token = str(config.get("accessToken") or config.get("accountManagementAccessToken") or "")
        fetched = await download(http, "WhatsApp", found["url"], limit=limit,
                                 headers={"authorization": f"Bearer {token}"})
        declared = found.get("mime_type")
        return Fetched(fetched.body, declared if isinstance(declared, str) else fetched.media_type)

    async def send(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], call: Call) -> Sent:
        url = f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{config.get('phoneNumberId', '')}/{call.path}"
        answer = await _graph(http, "POST", url, config, call.json)
        return Sent([str(sent["id"]) for sent in _dicts(answer.get("messages")) if sent.get("id")])

    # --- provisioning -----------------------------------------------------------------------------

    async def provision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], *,
                        webhook_url: str, secret: str) -> dict[str, Any]:
        """Check the token on the phone number (its display number is the integration's read-only
        `phoneNumber`), then send the account's notifications to this integration's webhook."""
        base = f"{base_url.rstrip('/')}/{GRAPH_VERSION}"
        number = await _graph(http, "GET", f"{base}/{config.get('phoneNumberId', '')}", config, None)
        await _graph(http, "POST", f"{base}/{config.get('accountId', '')}/subscribed_apps", config,
                     {"override_callback_uri": webhook_url, "verify_token": secret})
        shown = number.get("display_phone_number")
        return {"phoneNumber": str(shown)} if shown else {}

    async def deprovision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any]) -> None:
        url = f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{config.get('accountId', '')}/subscribed_apps"
        await _graph(http, "DELETE", url, config, None)


# --- reading notifications --------------------------------------------------------------------------

def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _message(message: dict[str, Any], names: Mapping[Any, Any]) -> InboundEvent | None:
    person, wamid = message.get("from"), message.get("id")
    if not isinstance(person, str) or not isinstance(wamid, str):
        return None
    name = names.get(person)
    named = name if isinstance(name, str) and name else None  # WhatsApp's one name: the user's given name
    profile = Profile(given_name=named, display_name=named, raw={"waId": person})
    kind = message.get("type")
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        reply = _dict(interactive.get("button_reply")) or _dict(interactive.get("list_reply"))
        if not isinstance(reply.get("id"), str):
            return None  # a Flow's reply (nfm_reply) or another kind: not an action of ours
        return Postback(user=person, profile=profile, external_id=f"message:{wamid}", action_id=reply["id"])
    media = _media(kind, message)
    content = _content(kind, message) if media is None else _captioned(kind, message)
    if content is None:
        return None
    stamp = message.get("timestamp")
    sent_at = int(stamp) * 1000 if isinstance(stamp, str) and stamp.isascii() and stamp.isdigit() else None
    return UserMessage(user=person, profile=profile, external_id=f"message:{wamid}", original_id=wamid,
                       sent_at=sent_at, content=content, media=media)


_MEDIA = {"image": "image", "sticker": "image", "document": "file", "audio": "file", "video": "file"}


def _media(kind: Any, message: dict[str, Any]) -> Media | None:
    """A picture, sticker, document, voice note or video, to fetch by its media id (services/channels.py)."""
    found = _dict(message.get(kind)) if kind in _MEDIA else {}
    if not isinstance(found.get("id"), str):
        return None
    declared, name = found.get("mime_type"), found.get("filename")
    return Media(found["id"], declared if isinstance(declared, str) else None, name if isinstance(name, str) else None)


def _captioned(kind: Any, message: dict[str, Any]) -> dict[str, Any]:
    caption = _dict(message.get(kind)).get("caption")
    return {"type": _MEDIA[kind], **({"text": caption} if isinstance(caption, str) and caption else {})}


def _content(kind: Any, message: dict[str, Any]) -> dict[str, Any] | None:
    """Text (and a quick reply's text) and locations (media: `_media`)."""
    if kind == "text" and isinstance(_dict(message.get("text")).get("body"), str):
        return {"type": "text", "text": message["text"]["body"]}
    if kind == "button" and isinstance(_dict(message.get("button")).get("text"), str):
        return {"type": "text", "text": message["button"]["text"]}  # a template's quick reply
    place = _dict(message.get("location"))
    if kind == "location" and all(isinstance(place.get(k), int | float) for k in ("latitude", "longitude")):
        named = {k: place[k] for k in ("name", "address") if isinstance(place.get(k), str)}
        return {"type": "location", "coordinates": {"lat": place["latitude"], "long": place["longitude"]},
                **({"location": named} if named else {})}
    return None


def _receipt(status: dict[str, Any]) -> Receipt | None:
    wamid, state = status.get("id"), _STATUSES.get(str(status.get("status")))
    if not isinstance(wamid, str) or state is None:
        return None  # `sent`: on its way, nothing to report yet
    error = None
    if state == "failed":
        first = next(iter(_dicts(status.get("errors"))), {})
        error = (f"whatsapp_{first.get('code', 'uncategorized')}", str(first.get("title") or first.get("message")
                                                                        or "WhatsApp could not deliver the message"))
    return Receipt(external_id=f"status:{wamid}:{state}", message=wamid, status=state, error=error)


# --- writing messages --------------------------------------------------------------------------------

def _text(text: str, actions: Any, message_id: str) -> dict[str, Any]:
    """A text, or an interactive message of its reply and postback actions; links as lines of the text."""
    links = [f"{a.get('text') or ''}: {a['uri']}" for a in actions or () if a.get("type") in ("link", "webview")
             and a.get("uri")]
    body = "\n".join([text, *links]) if text or links else ""
    choices = [(f"{message_id}:{n}", a.get("text") or "") for n, a in enumerate(actions or ())
               if a.get("type") in ("reply", "postback")]
    if not choices:
        return {"type": "text", "text": {"body": body[:MAX_TEXT]}}
    if len(choices) <= MAX_BUTTONS:
        buttons = [{"type": "reply", "reply": {"id": key, "title": title[:MAX_BUTTON_TITLE]}} for key, title in choices]
        return {"type": "interactive", "interactive": {"type": "button", "body": {"text": body[:1024] or " "},
                                                       "action": {"buttons": buttons}}}
    rows = [{"id": key, "title": title[:MAX_ROW_TITLE]} for key, title in choices[:MAX_ROWS]]
    return {"type": "interactive", "interactive": {"type": "list", "body": {"text": body[:4096] or " "},
                                                   "action": {"button": "Options", "sections": [{"rows": rows}]}}}


# --- the Graph API -------------------------------------------------------------------------------------

async def _graph(http: httpx.AsyncClient, method: str, url: str, config: Mapping[str, Any],
                 body: Mapping[str, Any] | None) -> dict[str, Any]:
    token = str(config.get("accessToken") or config.get("accountManagementAccessToken") or "")
    return await meta.graph(http, "WhatsApp", method, url, token, body)
