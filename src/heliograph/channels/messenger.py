"""Facebook Messenger and Instagram (docs/channels.md#messenger-and-instagram): a Page's conversations through
Meta's Messenger Platform. Notifications come to the integration's webhook signed with the Meta app's secret
(channels/meta.py), with the same verify-token check as WhatsApp; messages go out through the Send API
(`POST /me/messages` with the Page's token).

Provisioning checks the Page's token (`GET /me`: the Page's id and name, or, for Instagram, its business account
too), subscribes the app to the Page's events with the integration's webhook and verify token (the app's
`subscriptions`, with its app token `appId|appSecret`), and subscribes the Page to the app (`subscribed_apps`).

Buttons: reply actions become quick replies (at most 13, titles of 20 characters), whose payload comes back
with the person's message; postback and link actions a button template (at most 3), each postback's payload
being the action's id (`<messageId>:<n>`), so a press finds its action; a carousel or list a generic
template (at most 10 elements of 3 buttons). Instagram has no button template: its buttons go as a generic
template of one element.
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
    InboundEvent,
    InboundRequest,
    Postback,
    Profile,
    Read,
    Receipt,
    Refused,
    Sent,
    Unsupported,
    UserMessage,
)
from heliograph.channels.plain import map_link

MAX_TEXT = 2000  # characters of a Messenger message
MAX_QUICK_REPLIES, MAX_BUTTONS, MAX_ELEMENTS = 13, 3, 10
MAX_TITLE = 20
FIELDS = {"page": "messages,messaging_postbacks,message_deliveries,message_reads",  # the webhook fields of each
          "instagram": "messages,messaging_postbacks,messaging_seen"}  # object (Page, Instagram account)


class Messenger(meta.MetaChannel):
    type: ClassVar[str] = "messenger"
    default_base_url: ClassVar[str] = "https://graph.facebook.com"
    receipts: ClassVar[bool] = True  # deliveries (with their message ids); reads go by watermark: not matched,
    reads: ClassVar[bool] = False  # so a delivery is the last event of a message
    object: ClassVar[str] = "page"
    button_template: ClassVar[bool] = True

    def configured(self, config: Mapping[str, Any]) -> bool:
        return bool(config.get("pageAccessToken") and config.get("appId") and config.get("appSecret"))

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise Refused(400, "The body is not JSON") from None
        if not isinstance(body, dict) or body.get("object") != self.object:
            raise Refused(400, f"The body is not a notification of object {self.object}")
        events: list[InboundEvent] = []
        for entry in _dicts(body.get("entry")):
            for item in _dicts(entry.get("messaging")):
                page = None if entry.get("id") is None else str(entry["id"])
                events += [dataclasses.replace(event, addressee=page) for event in _events(item)]
        return events

    def address(self, config: Mapping[str, Any]) -> str | None:
        page = config.get("pageId")  # an app's notifications name the Page they are for (`entry.id`)
        return None if page is None else str(page)

    def acknowledge(self, events: Sequence[InboundEvent]) -> Answer:
        return Answer()

    def render(self, content: Mapping[str, Any], *, message_id: str, to: str) -> list[Call]:
        kind = content.get("type")
        actions = content.get("actions") or []
        if kind == "text":
            messages = [self._text(content.get("text") or "", actions, message_id)]
        elif kind in ("image", "file"):
            attachment = {"type": kind, "payload": {"url": content["mediaUrl"], "is_reusable": True}}
            messages = [{"attachment": attachment}]
            if content.get("text") or any(a.get("type") != "reply" for a in actions):
                messages.append(self._text(content.get("text") or "", actions, message_id))
            elif actions:  # quick replies only: they go with the picture itself
                messages[0]["quick_replies"] = _quick_replies(actions)
        elif kind == "location":
            text = content.get("text") or map_link(content["coordinates"])
            messages = [{"text": text[:MAX_TEXT]}]
        elif kind in ("carousel", "list"):
            elements = [_element(item, f"{message_id}:{n}") for n, item in enumerate(content.get("items") or ())]
            messages = [_generic(elements[:MAX_ELEMENTS])]
        else:
            raise Unsupported(f"Unsupported message type `{kind}`")
        return [Call("POST", "me/messages", {"recipient": {"id": to}, "messaging_type": "RESPONSE",
                                             "message": message}) for message in messages]

    def _text(self, text: str, actions: list[dict[str, Any]], message_id: str) -> dict[str, Any]:
        """A text with its quick replies, or a button template of its postback and link actions."""
        buttons = [_button(action, f"{message_id}:{n}") for n, action in enumerate(actions)
                   if action.get("type") in ("postback", "link", "webview")][:MAX_BUTTONS]
        if buttons:
            if self.button_template:
                return {"attachment": {"type": "template", "payload": {
                    "template_type": "button", "text": text[:640] or " ", "buttons": buttons}}}
            return _generic([{"title": text[:80] or " ", "buttons": buttons}])
        message: dict[str, Any] = {"text": text[:MAX_TEXT]}
        replies = _quick_replies(actions)
        if replies:
            message["quick_replies"] = replies
        return message

    async def send(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], call: Call) -> Sent:
        url = f"{base_url.rstrip('/')}/{meta.GRAPH_VERSION}/{call.path}"
        answer = await meta.graph(http, self.label, "POST", url, str(config.get("pageAccessToken") or ""), call.json)
        return Sent([str(answer["message_id"])] if answer.get("message_id") else [])

    async def provision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], *,
                        webhook_url: str, secret: str) -> dict[str, Any]:
        base, token = f"{base_url.rstrip('/')}/{meta.GRAPH_VERSION}", str(config.get("pageAccessToken") or "")
        page = await meta.graph(http, self.label, "GET", f"{base}/me?fields=id,name", token, None)
        if not page.get("id"):
            raise ChannelError("bad_request", f"{self.label} did not describe the Page")
        app_token = f"{config.get('appId')}|{config.get('appSecret')}"
        await meta.graph(http, self.label, "POST", f"{base}/{config.get('appId')}/subscriptions", app_token, {
            "object": self.object, "callback_url": webhook_url, "verify_token": secret, "fields": FIELDS[self.object]})
        await meta.graph(http, self.label, "POST", f"{base}/{page['id']}/subscribed_apps", token,
                         {"subscribed_fields": FIELDS["page"]})
        return self.learnt(page)

    def learnt(self, page: Mapping[str, Any]) -> dict[str, Any]:
        """The Page's read-only fields: its id (a number, as the spec has it) and name."""
        return {"pageId": int(page["id"]) if str(page["id"]).isdigit() else page["id"],
                **({"pageName": page["name"]} if page.get("name") else {})}

    async def deprovision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any]) -> None:
        base, token = f"{base_url.rstrip('/')}/{meta.GRAPH_VERSION}", str(config.get("pageAccessToken") or "")
        await meta.graph(http, self.label, "DELETE", f"{base}/{config.get('pageId')}/subscribed_apps", token, None)

    @property
    def label(self) -> str:
        return "Messenger"


class Instagram(Messenger):
    type: ClassVar[str] = "instagram"
    object: ClassVar[str] = "instagram"
    button_template: ClassVar[bool] = False  # Instagram's buttons go in a generic template
    receipts: ClassVar[bool] = False  # no deliveries; reads (messaging_seen) go by watermark
    reads: ClassVar[bool] = False

    def address(self, config: Mapping[str, Any]) -> str | None:
        return None  # its notifications name the Instagram account, which the integration does not know

    def learnt(self, page: Mapping[str, Any]) -> dict[str, Any]:
        """The Page's id (a string, as the spec's instagram object has it)."""
        return {"pageId": str(page["id"])}

    @property
    def label(self) -> str:
        return "Instagram"


# --- reading notifications --------------------------------------------------------------------------------

def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _events(item: dict[str, Any]) -> list[InboundEvent]:
    """The events of one `messaging` item: a message, a press, or deliveries (echoes of our own are dropped)."""
    person = _dict(item.get("sender")).get("id")
    if not isinstance(person, str):
        return []
    profile = Profile(raw={"psid": person})
    message = item.get("message")
    if isinstance(message, dict) and not message.get("is_echo") and isinstance(message.get("mid"), str):
        content = _content(message)
        stamp = item.get("timestamp")
        return [] if content is None else [UserMessage(
            user=person, profile=profile, external_id=f"message:{message['mid']}", original_id=message["mid"],
            sent_at=stamp if isinstance(stamp, int) else None, content=content)]
    postback = item.get("postback")
    if isinstance(postback, dict) and isinstance(postback.get("payload"), str):
        key = postback.get("mid") or f"{person}:{item.get('timestamp')}"
        return [Postback(user=person, profile=profile, external_id=f"postback:{key}", action_id=postback["payload"])]
    delivery = item.get("delivery")
    if isinstance(delivery, dict):
        return [Receipt(external_id=f"status:{mid}:delivered", message=mid, status="delivered")
                for mid in delivery.get("mids") or [] if isinstance(mid, str)]
    read = item.get("read")
    if isinstance(read, dict):  # Messenger's watermark (everything sent before it), Instagram's seen message
        mark = read.get("watermark") if read.get("watermark") is not None else read.get("mid")
        if isinstance(mark, int | str) and not isinstance(mark, bool):
            return [Read(user=person, external_id=f"read:{person}:{mark}")]
    return []  # reactions, referrals …


def _content(message: dict[str, Any]) -> dict[str, Any] | None:
    """A text (a quick reply's with its payload), or its first image or file attachment (Meta's CDN URL)."""
    text = message.get("text")
    reply = message.get("quick_reply")
    if isinstance(text, str) and text:
        found: dict[str, Any] = {"type": "text", "text": text}
        if isinstance(reply, dict) and isinstance(reply.get("payload"), str):
            found["payload"] = reply["payload"]
        return found
    for attachment in _dicts(message.get("attachments")):
        url = _dict(attachment.get("payload")).get("url")
        if isinstance(url, str) and attachment.get("type") in ("image", "file", "video", "audio"):
            return {"type": "image" if attachment["type"] == "image" else "file", "mediaUrl": url}
    return None


# --- writing messages --------------------------------------------------------------------------------------

def _quick_replies(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"content_type": "text", "title": (a.get("text") or "")[:MAX_TITLE], "payload": a.get("payload")
             or a.get("text") or ""} for a in actions if a.get("type") == "reply"][:MAX_QUICK_REPLIES]


def _button(action: dict[str, Any], action_id: str) -> dict[str, Any]:
    title = (action.get("text") or "")[:MAX_TITLE]
    if action.get("type") == "postback":
        return {"type": "postback", "title": title, "payload": action_id}
    return {"type": "web_url", "title": title, "url": action.get("uri")}


def _element(item: dict[str, Any], prefix: str) -> dict[str, Any]:
    element: dict[str, Any] = {"title": (item.get("title") or " ")[:80]}
    if item.get("description"):
        element["subtitle"] = item["description"][:80]
    if item.get("mediaUrl"):
        element["image_url"] = item["mediaUrl"]
    buttons = [_button(action, f"{prefix}:{n}") for n, action in enumerate(item.get("actions") or ())
               if action.get("type") in ("postback", "link", "webview")][:MAX_BUTTONS]
    if buttons:
        element["buttons"] = buttons
    return element


def _generic(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}}
