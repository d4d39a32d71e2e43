"""A fake of Meta's Graph API for WhatsApp (docs/channels.md#the-fakes): the calls Heliograph makes, checked as the
Cloud API checks them (a Bearer token the number knows, `messaging_product: whatsapp`, a `to` of digits, a
text of 1 to 4,096 characters, at most 3 reply buttons of 20 characters, at most 10 list rows of 24),
answered with Meta's JSON and recorded; and the notifications Meta sends the webhook, signed with the app's
secret (X-Hub-Signature-256).

A number is known once `number()` made it (the tests); not strict, any phone number id and token make one on
their first call (the simulator)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

from heliograph.simulator.base import Delivery, GraphFake, Records, Sent

__all__ = ["FakeWhatsApp", "Sent", "preview"]


@dataclasses.dataclass
class Number:
    token: str
    display: str
    account: str = ""
    webhook: dict[str, str] = dataclasses.field(default_factory=dict)  # override_callback_uri, verify_token


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeWhatsApp(GraphFake):
    def __init__(self, clock: Callable[[], float] = time.time, *, strict: bool = True) -> None:
        self.clock, self.strict = clock, strict
        self.numbers: dict[str, Number] = {}  # phone number id -> the number
        self.media: dict[str, tuple[str, str, bytes]] = {}  # media id -> (the number's token, its type, content)
        self.records = Records()
        self._ids = itertools.count(1)

    def number(self, phone_number_id: str, token: str, display: str = "15550783881") -> None:
        with self.records.lock:
            self.numbers[phone_number_id] = Number(token, display)

    # --- the Graph API -----------------------------------------------------------------------------------

    def answer(self, method: str, http_method: str, node: str, token: str | None, body: dict[str, Any]
               ) -> tuple[int, dict[str, Any]]:
        with self.records.lock:
            fault = self.records.fault(method)
            if fault is not None:
                code = {429: 130429, 503: 131016}.get(fault.status, 131000)
                return fault.status, _error(code, fault.description)
            try:
                if method == "subscribed_apps":
                    return 200, self._subscribe(http_method, node, token, body)
                number = self._authenticated(node, token)
                if method == "phone_number":
                    return 200, {"id": node, "display_phone_number": number.display, "verified_name": "Shop",
                                 "quality_rating": "GREEN"}
                return 200, self._message(node, body)
            except GraphError as error:
                return error.status, _error(error.code, error.message)

    def _authenticated(self, node: str, token: str | None) -> Number:
        number = self.numbers.get(node)
        if number is None and not self.strict and token:
            number = self.numbers[node] = Number(token, f"1555{zlib.crc32(node.encode()) % 10**7:07d}")
        if number is None or token is None or not hmac.compare_digest(number.token.encode(), token.encode()):
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        return number

    def _subscribe(self, http_method: str, account: str, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        numbers = [n for n in self.numbers.values() if token and hmac.compare_digest(n.token.encode(), token.encode())]
        if not numbers:
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        for number in numbers:
            number.account = account
            url, verify = str(body.get("override_callback_uri") or ""), str(body.get("verify_token") or "")
            number.webhook = {} if http_method == "DELETE" else {"url": url, "verify_token": verify}
        return {"success": True}

    def _message(self, node: str, body: dict[str, Any]) -> dict[str, Any]:
        to = str(body.get("to") or "")
        if body.get("messaging_product") != "whatsapp":
            raise GraphError(400, 100, "The parameter messaging_product is required.")
        if not to.lstrip("+").isdigit():
            raise GraphError(400, 131009, "Parameter value is not valid: to")
        _check_content(body)
        wamid = f"wamid.{next(self._ids):024d}"
        self.records.record(Sent(node, str(body.get("type")), dict(body), wamid, self.clock()))
        return {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                "messages": [{"id": wamid}]}

    # --- what Meta sends Heliograph ------------------------------------------------------------------------

    def message(self, phone_number_id: str, app_secret: str, *, sender: str, name: str, text: str | None = None,
                location: tuple[float, float] | None = None, press: str | None = None) -> Delivery:
        """The notification of a person's text, location or button press (its reply id) to the number."""
        message: dict[str, Any] = {"from": sender, "id": f"wamid.in{next(self._ids):020d}",
                                   "timestamp": str(int(self.clock()))}
        if text is not None:
            message.update(type="text", text={"body": text})
        elif location is not None:
            message.update(type="location", location={"latitude": location[0], "longitude": location[1]})
        else:
            message.update(type="interactive", interactive={"type": "button_reply",
                                                            "button_reply": {"id": press, "title": "…"}})
        value = {"contacts": [{"profile": {"name": name}, "wa_id": sender}], "messages": [message]}
        return self._notification(phone_number_id, app_secret, value)

    def status(self, sent: Sent, app_secret: str, status: str, *, error_code: int | None = None) -> Delivery:
        """The notification of a message's status: `delivered`, `read` or `failed`."""
        state: dict[str, Any] = {"id": sent.message_id, "status": status, "timestamp": str(int(self.clock())),
                                 "recipient_id": str(sent.body.get("to"))}
        if error_code is not None:
            state["errors"] = [{"code": error_code, "title": "Message undeliverable"}]
        return self._notification(sent.owner, app_secret, {"statuses": [state]})

    def picture(self, phone_number_id: str, app_secret: str, *, sender: str, name: str, content: bytes,
                media_type: str = "image/jpeg", caption: str | None = None, filename: str | None = None) -> Delivery:
        """A person's picture (or, with `filename`, document), whose media id the Graph API hands over."""
        media_id = str(10**15 + next(self._ids))
        with self.records.lock:
            self.media[media_id] = (self.numbers[phone_number_id].token, media_type, content)
        kind = "document" if filename else "image"
        described: dict[str, Any] = {"id": media_id, "mime_type": media_type, "sha256": hashlib.sha256(
            content).hexdigest(), **({"caption": caption} if caption else {}), **({"filename": filename} if filename
                                                                                  else {})}
        message = {"from": sender, "id": f"wamid.in{next(self._ids):020d}", "timestamp": str(int(self.clock())),
                   "type": kind, kind: described}
        return self._notification(phone_number_id, app_secret, {
            "contacts": [{"profile": {"name": name}, "wa_id": sender}], "messages": [message]})

    def media_info(self, media_id: str, token: str | None) -> tuple[int, dict[str, Any]] | None:
        """GET /{media id}: where to download the media (its `url` is the caller's to make), or None: not media."""
        with self.records.lock:
            found = self.media.get(media_id)
        if found is None:
            return None
        if token is None or not hmac.compare_digest(found[0].encode(), token.encode()):
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token")
        return 200, {"messaging_product": "whatsapp", "id": media_id, "mime_type": found[1],
                     "sha256": hashlib.sha256(found[2]).hexdigest(), "file_size": len(found[2])}

    def download(self, media_id: str, token: str | None) -> bytes | None:
        """The media's content, for its number's token (None: no such media, or another token)."""
        with self.records.lock:
            found = self.media.get(media_id)
        if found is None or token is None or not hmac.compare_digest(found[0].encode(), token.encode()):
            return None
        return found[2]

    def _notification(self, phone_number_id: str, app_secret: str, value: dict[str, Any]) -> Delivery:
        with self.records.lock:
            number = self.numbers[phone_number_id]
        if not number.webhook.get("url"):
            raise LookupError(f"The number {phone_number_id} sends its notifications nowhere")
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": number.account, "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
                "display_phone_number": number.display, "phone_number_id": phone_number_id}, **value}}]}]}).encode()
        signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        return Delivery(number.webhook["url"], {"Content-Type": "application/json",
                                                "X-Hub-Signature-256": signature}, body)


def _check_content(body: dict[str, Any]) -> None:
    kind = body.get("type")
    if kind == "text":
        text = (body.get("text") or {}).get("body")
        if not isinstance(text, str) or not 1 <= len(text) <= 4096:
            raise GraphError(400, 100, "Invalid parameter: text.body must be 1 to 4096 characters")
    elif kind == "interactive":
        interactive = body.get("interactive") or {}
        action = interactive.get("action") or {}
        buttons = action.get("buttons") or []
        rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
        if interactive.get("type") == "button" and not (1 <= len(buttons) <= 3 and all(
                1 <= len(b["reply"]["title"]) <= 20 for b in buttons)):
            raise GraphError(400, 131009, "Parameter value is not valid: buttons")
        if interactive.get("type") == "list" and not (1 <= len(rows) <= 10 and all(
                1 <= len(r["title"]) <= 24 for r in rows)):
            raise GraphError(400, 131009, "Parameter value is not valid: rows")
    elif kind in ("image", "document") and not (body.get(kind) or {}).get("link"):
        raise GraphError(400, 131009, f"Parameter value is not valid: {kind}.link")
    elif kind not in ("image", "document", "location", "template"):
        raise GraphError(400, 131009, f"Parameter value is not valid: type {kind}")


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}


def preview(sent: Sent) -> dict[str, Any]:
    """What the person's WhatsApp shows of a message sent: its text, media, location and buttons."""
    body = sent.body
    shown: dict[str, Any] = {"id": sent.message_id, "method": sent.method, "to": str(body.get("to"))}
    interactive = body.get("interactive") or {}
    text = (body.get("text") or {}).get("body") or (interactive.get("body") or {}).get("text") or (
        body.get("image") or body.get("document") or {}).get("caption")
    if text:
        shown["text"] = text
    media = (body.get("image") or body.get("document") or {}).get("link")
    if media:
        shown["mediaUrl"] = media
    action = interactive.get("action") or {}
    buttons = [{"text": b["reply"]["title"], "id": b["reply"]["id"]} for b in action.get("buttons") or []]
    buttons += [{"text": r["title"], "id": r["id"]} for s in action.get("sections") or [] for r in s.get("rows") or []]
    if buttons:
        shown["buttons"] = buttons
    return shown
