"""A fake of Meta's Messenger Platform, for Messenger and for Instagram (docs/channels.md#the-fakes): the Graph API
calls Heliograph makes, checked as Meta checks them (the Page's token, the app's token `appId|appSecret`, a
recipient, a text of 1 to 2,000 characters, at most 13 quick replies and 3 buttons of 20 characters, at most
10 generic elements), answered with Meta's JSON and recorded; and the notifications Meta sends the app's webhook,
signed with the app's secret.

A Page is known once `page()` made it (the tests); not strict, any token makes one on its first call."""

from __future__ import annotations

import dataclasses
import hmac
import itertools
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

from heliograph.channels.meta import sign
from heliograph.simulator.base import Delivery, GraphFake, Records, Sent

__all__ = ["FakeMessenger", "Sent", "preview"]


@dataclasses.dataclass
class Page:
    id: str
    token: str
    name: str
    subscribed: bool = False


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeMessenger(GraphFake):
    def __init__(self, object_: str, clock: Callable[[], float] = time.time, *, strict: bool = True) -> None:
        self.object, self.clock, self.strict = object_, clock, strict
        self.pages: dict[str, Page] = {}  # token -> its Page
        self.apps: dict[str, dict[str, str]] = {}  # app id -> its subscription (callback_url, verify_token)
        self.records = Records()
        self._ids = itertools.count(1)

    def page(self, page_id: str, token: str, name: str = "Shop") -> None:
        with self.records.lock:
            self.pages[token] = Page(page_id, token, name)

    # --- the Graph API -----------------------------------------------------------------------------------

    def answer(self, method: str, http_method: str, node: str, token: str | None, body: dict[str, Any]
               ) -> tuple[int, dict[str, Any]]:
        with self.records.lock:
            fault = self.records.fault(method)
            if fault is not None:
                return fault.status, _error({429: 613, 503: 2}.get(fault.status, 1), fault.description)
            try:
                if method == "subscriptions":
                    return 200, self._subscribe_app(node, token, body)
                page = self._page(token)
                if method == "me":
                    return 200, {"id": page.id, "name": page.name}
                if method == "subscribed_apps":
                    page.subscribed = http_method != "DELETE"
                    return 200, {"success": True}
                return 200, self._message(page, body)
            except GraphError as error:
                return error.status, _error(error.code, error.message)

    def _page(self, token: str | None) -> Page:
        page = self.pages.get(token or "")
        if page is None and not self.strict and token:
            page = self.pages[token] = Page(str(10**14 + zlib.crc32(token.encode())), token, "Simulated Page")
        if page is None:
            raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        return page

    def _subscribe_app(self, app_id: str, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        if not token or not hmac.compare_digest(token.split("|")[0].encode(), app_id.encode()) or "|" not in token:
            raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if body.get("object") != self.object or not str(body.get("callback_url", "")).startswith("http"):
            raise GraphError(400, 100, "Invalid parameter: object or callback_url")
        self.apps[app_id] = {"url": str(body["callback_url"]), "verify_token": str(body.get("verify_token") or ""),
                             "secret": token.split("|", 1)[1]}
        return {"success": True}

    def _message(self, page: Page, body: dict[str, Any]) -> dict[str, Any]:
        recipient = (body.get("recipient") or {}).get("id")
        if not isinstance(recipient, str) or not recipient:
            raise GraphError(400, 100, "The parameter recipient is required")
        _check_message(body.get("message") or {})
        mid = f"m_{next(self._ids):020d}"
        kind = "template" if "attachment" in (body.get("message") or {}) else "text"
        self.records.record(Sent(page.id, kind, dict(body), mid, self.clock()))
        return {"recipient_id": recipient, "message_id": mid}

    # --- what Meta sends Heliograph ------------------------------------------------------------------------

    def message(self, page_id: str, app_id: str, *, sender: str, text: str, quick_reply: str | None = None
                ) -> Delivery:
        message: dict[str, Any] = {"mid": f"m_in{next(self._ids):018d}", "text": text}
        if quick_reply is not None:
            message["quick_reply"] = {"payload": quick_reply}
        return self._notification(page_id, app_id, {"sender": {"id": sender}, "message": message})

    def postback(self, page_id: str, app_id: str, *, sender: str, payload: str, title: str = "…") -> Delivery:
        return self._notification(page_id, app_id, {"sender": {"id": sender}, "postback": {
            "mid": f"m_pb{next(self._ids):018d}", "title": title, "payload": payload}})

    def read(self, page_id: str, app_id: str, *, sender: str) -> Delivery:
        """The person read everything the Page sent up to now: Messenger's watermark, Instagram's seen message."""
        with self.records.lock:
            last = next((one.message_id for one in reversed(self.records.sent) if one.owner == page_id), "m_none")
        mark: dict[str, Any] = ({"watermark": int(self.clock() * 1000)} if self.object == "page" else {"mid": last})
        return self._notification(page_id, app_id, {"sender": {"id": sender}, "read": mark})

    def delivery(self, sent: Sent, app_id: str) -> Delivery:
        recipient = str((sent.body.get("recipient") or {}).get("id"))
        return self._notification(sent.owner, app_id, {"sender": {"id": recipient}, "delivery": {
            "mids": [sent.message_id], "watermark": int(self.clock() * 1000)}})

    def _notification(self, page_id: str, app_id: str, item: dict[str, Any]) -> Delivery:
        with self.records.lock:
            app = self.apps.get(app_id)
        if app is None:
            raise LookupError(f"The app {app_id} sends its notifications nowhere")
        now = int(self.clock() * 1000)
        event = {"recipient": {"id": page_id}, "timestamp": now, **item}
        body = json.dumps({"object": self.object, "entry": [{"id": page_id, "time": now,
                                                             "messaging": [event]}]}).encode()
        return Delivery(app["url"], {"Content-Type": "application/json",
                                     "X-Hub-Signature-256": sign(app["secret"], body)}, body)


def _check_message(message: dict[str, Any]) -> None:
    text, replies = message.get("text"), message.get("quick_replies") or []
    if text is not None and not (isinstance(text, str) and 1 <= len(text) <= 2000):
        raise GraphError(400, 100, "Invalid parameter: message.text must be 1 to 2000 characters")
    if len(replies) > 13 or any(not 1 <= len(str(r.get("title", ""))) <= 20 for r in replies):
        raise GraphError(400, 100, "Invalid parameter: quick_replies")
    payload = ((message.get("attachment") or {}).get("payload")) or {}
    if payload.get("template_type") == "button" and not 1 <= len(payload.get("buttons") or []) <= 3:
        raise GraphError(400, 100, "Invalid parameter: buttons")
    if payload.get("template_type") == "generic" and not 1 <= len(payload.get("elements") or []) <= 10:
        raise GraphError(400, 100, "Invalid parameter: elements")
    if text is None and not message.get("attachment"):
        raise GraphError(400, 100, "The parameter message.text or message.attachment is required")


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}


def preview(sent: Sent) -> dict[str, Any]:
    """What the person sees of a message sent: its text, media, quick replies and buttons."""
    message = sent.body.get("message") or {}
    shown: dict[str, Any] = {"id": sent.message_id, "method": sent.method,
                             "to": str((sent.body.get("recipient") or {}).get("id"))}
    payload = (message.get("attachment") or {}).get("payload") or {}
    text = message.get("text") or payload.get("text")
    if text:
        shown["text"] = text
    if payload.get("url"):
        shown["mediaUrl"] = payload["url"]
    buttons = [{"text": r.get("title"), "payload": r.get("payload")} for r in message.get("quick_replies") or []]
    for holder in [payload, *(payload.get("elements") or [])]:
        buttons += [{"text": b.get("title"), "payload": b.get("payload") or b.get("url")}
                    for b in holder.get("buttons") or []]
    if buttons:
        shown["buttons"] = buttons
    return shown
