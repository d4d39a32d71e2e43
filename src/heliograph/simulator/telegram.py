"""A fake Telegram Bot API (docs/channels.md#the-fakes): what Heliograph calls, checked as Telegram checks it,
answered as Telegram answers, and recorded; and the updates a person's actions make, signed as Telegram
signs them, for the bot's webhook.

Any token of Telegram's form (`<bot id>:<secret>`) is a bot, unless `revoke`d. The checks are those of the
Bot API's documentation: a text of 1 to 4,096 characters, a caption of at most 1,024, `callback_data` of 1 to
64 bytes, an inline button with exactly one of `callback_data` and `url`, a webhook secret of 1 to 256 of
`A-Za-z0-9_-`. A fault set with `fail` answers the next calls of a method instead (429 with `retry_after`,
a 5xx), as Telegram would.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
import zlib
from collections.abc import Callable
from typing import Any

from heliograph.simulator.base import Called, Delivery, FakeApi, Records, Sent

TOKEN = re.compile(r"(\d{1,20}):[A-Za-z0-9_-]{1,100}")
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
__all__ = ["Delivery", "FakeTelegram", "Sent", "preview"]


class BadRequest(Exception):
    """400, with Telegram's description after "Bad Request: "."""


class FakeTelegram(FakeApi):
    """`strict`: only tokens of Telegram's form are bots (the tests' fake); not strict, any token is, so that the
    simulator takes whatever a developer types (its bot id is then the token's CRC-32)."""

    def __init__(self, clock: Callable[[], float] = time.time, *, strict: bool = True) -> None:
        self.clock, self.strict = clock, strict
        self.webhooks: dict[str, dict[str, Any]] = {}  # token -> setWebhook's body
        self.records = Records()
        self.revoked: set[str] = set()
        self.files: dict[str, tuple[str, str, bytes]] = {}  # file_id -> (the bot's token, file_path, content)
        self._ids = itertools.count(1)  # message ids (Telegram's are per chat; unique here is enough)
        self._updates = itertools.count(100_000)

    @property
    def sent(self) -> list[Sent]:
        return self.records.sent

    @property
    def calls(self) -> list[Called]:
        return self.records.calls

    # --- the Bot API --------------------------------------------------------------------------------

    def call(self, token: str, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One Bot API call: the status and JSON Telegram would answer with (and its record in `calls`)."""
        status, answer = self._answer(token, method, body)
        self.records.called(Called(token, method, status, self.clock()))
        return status, answer

    def _answer(self, token: str, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.records.lock:
            fault = self.records.fault(method)
            if fault is not None:
                answer: dict[str, Any] = {"ok": False, "error_code": fault.status, "description": fault.description}
                if fault.retry_after is not None:
                    answer["parameters"] = {"retry_after": fault.retry_after}
                return fault.status, answer
            if not self._is_bot(token):
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            handler = _METHODS.get(method)
            if handler is None:
                return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
            try:
                result = handler(self, token, body)
            except BadRequest as error:
                return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}
            return 200, {"ok": True, "result": result}

    def describe(self, status: int, retry_after: int | None) -> str:
        return f"Too Many Requests: retry after {retry_after}" if status == 429 else f"Error {status}"

    def _is_bot(self, token: str) -> bool:
        return token not in self.revoked and (TOKEN.fullmatch(token) is not None or not self.strict and bool(token))

    def revoke(self, token: str) -> None:
        with self.records.lock:
            self.revoked.add(token)

    # --- a person's actions, for the bot's webhook --------------------------------------------------

    def message(self, token: str, *, user_id: int, first_name: str, text: str | None = None,
                location: tuple[float, float] | None = None, last_name: str | None = None) -> Delivery:
        """The update of a person writing to the bot in a private chat (a text, or a location)."""
        person = _person(user_id, first_name, last_name)
        message: dict[str, Any] = {"message_id": next(self._ids), "from": person,
                                   "chat": {"id": user_id, "type": "private", "first_name": first_name},
                                   "date": int(self.clock())}
        if text is not None:
            message["text"] = text
        if location is not None:
            message["location"] = {"latitude": location[0], "longitude": location[1]}
        return self._delivery(token, {"update_id": next(self._updates), "message": message})

    def photo(self, token: str, *, user_id: int, first_name: str, content: bytes, caption: str | None = None,
              document: tuple[str, str] | None = None) -> Delivery:
        """The update of a person sending the bot a photo (or, with `document`: its file name and type, a file)."""
        file_id = f"AgAC{next(self._ids):08d}{secrets.token_hex(6)}"
        path = f"{'documents' if document else 'photos'}/file_{len(self.files)}.{'bin' if document else 'jpg'}"
        with self.records.lock:
            self.files[file_id] = (token, path, content)
        message: dict[str, Any] = {"message_id": next(self._ids), "from": _person(user_id, first_name, None),
                                   "chat": {"id": user_id, "type": "private", "first_name": first_name},
                                   "date": int(self.clock())}
        described = {"file_id": file_id, "file_unique_id": file_id[-8:], "file_size": len(content)}
        if document is None:
            message["photo"] = [{**described, "file_id": f"{file_id}-small", "width": 90, "height": 90},
                                {**described, "width": 800, "height": 600}]
        else:
            message["document"] = {**described, "file_name": document[0], "mime_type": document[1]}
        if caption is not None:
            message["caption"] = caption
        return self._delivery(token, {"update_id": next(self._updates), "message": message})

    def file(self, token: str, path: str) -> bytes | None:
        """A file the Bot API serves at `/file/bot<token>/<path>` (None: no such file of this bot)."""
        with self.records.lock:
            return next((content for owner, kept, content in self.files.values() if (owner, kept) == (token, path)),
                        None)

    def press(self, token: str, *, user_id: int, first_name: str, data: str, under: Sent | None = None) -> Delivery:
        """The update of a person pressing an inline button (its `callback_data`) under a message the bot sent."""
        person = _person(user_id, first_name, None)
        bot = {"id": bot_id(token), "is_bot": True, "first_name": "Bot"}
        query = {"id": str(next(self._updates)), "from": person, "chat_instance": str(user_id), "data": data,
                 "message": {"message_id": int(under.message_id) if under else next(self._ids), "from": bot,
                             "chat": {"id": user_id, "type": "private"}, "date": int(self.clock()),
                             "text": under.body.get("text", "") if under else ""}}
        return self._delivery(token, {"update_id": next(self._updates), "callback_query": query})

    def _delivery(self, token: str, update: dict[str, Any]) -> Delivery:
        with self.records.lock:
            hook = self.webhooks.get(token)
        if hook is None:
            raise LookupError(f"The bot {token.split(':')[0]} has no webhook")
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers[SECRET_HEADER] = hook["secret_token"]
        return Delivery(hook["url"], headers, json.dumps(update).encode())


def _person(user_id: int, first_name: str, last_name: str | None) -> dict[str, Any]:
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        person["last_name"] = last_name
    return person


# --- the methods ------------------------------------------------------------------------------------

def bot_id(token: str) -> int:
    """The bot's id: the digits a token of Telegram's form starts with, else the token's CRC-32."""
    found = TOKEN.fullmatch(token)
    return int(found.group(1)) if found else zlib.crc32(token.encode())


def _get_me(fake: FakeTelegram, token: str, _body: dict[str, Any]) -> dict[str, Any]:
    bot_id_ = bot_id(token)
    return {"id": bot_id_, "is_bot": True, "first_name": "Bot", "username": f"bot{bot_id_}_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


def _set_webhook(fake: FakeTelegram, token: str, body: dict[str, Any]) -> bool:
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise BadRequest("bad webhook: an HTTPS URL must be provided for webhook")
    secret = body.get("secret_token")
    if secret is not None and not (isinstance(secret, str) and SECRET.fullmatch(secret)):
        raise BadRequest("bad webhook: secret token contains unallowed characters")
    fake.webhooks[token] = dict(body)
    return True


def _delete_webhook(fake: FakeTelegram, token: str, _body: dict[str, Any]) -> bool:
    fake.webhooks.pop(token, None)
    return True


def _webhook_info(fake: FakeTelegram, token: str, _body: dict[str, Any]) -> dict[str, Any]:
    hook = fake.webhooks.get(token, {})
    return {"url": hook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0,
            "allowed_updates": hook.get("allowed_updates", [])}


def _sender(kind: str, check: Callable[[dict[str, Any]], None]) -> Callable[[FakeTelegram, str, dict[str, Any]],
                                                                             dict[str, Any]]:
    def send(fake: FakeTelegram, token: str, body: dict[str, Any]) -> dict[str, Any]:
        chat = body.get("chat_id")
        if not (isinstance(chat, int) or isinstance(chat, str) and chat.lstrip("-").isdigit()):
            raise BadRequest("chat not found")
        check(body)
        _markup(body.get("reply_markup"))
        message_id = next(fake._ids)
        fake.records.record(Sent(token, kind, dict(body), str(message_id), fake.clock()))
        shown = {k: v for k, v in body.items() if k in ("text", "caption")}
        return {"message_id": message_id, "chat": {"id": int(chat), "type": "private"}, "date": int(fake.clock()),
                **shown}
    return send


def _text(body: dict[str, Any]) -> None:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("message text is empty")
    if len(text) > 4096:
        raise BadRequest("message is too long")


def _media(field: str) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        if not isinstance(body.get(field), str) or not body[field]:
            raise BadRequest(f"there is no {field} in the request")
        if len(body.get("caption") or "") > 1024:
            raise BadRequest("message caption is too long")
    return check


def _location(body: dict[str, Any]) -> None:
    for field, limit in (("latitude", 90), ("longitude", 180)):
        value = body.get(field)
        if not isinstance(value, int | float) or isinstance(value, bool) or abs(value) > limit:
            raise BadRequest(f"wrong {field}")


def _markup(markup: Any) -> None:
    """reply_markup as the Bot API takes it: inline buttons (callback_data or url) or a keyboard."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise BadRequest("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            for button in row:
                _inline_button(button)
    elif "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
                    raise BadRequest("keyboard button text is empty")
    else:
        raise BadRequest("can't parse reply keyboard markup JSON object")


def _inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
        raise BadRequest("text buttons are unallowed in the inline keyboard")
    kinds = [kind for kind in ("callback_data", "url") if kind in button]
    if len(kinds) != 1:
        raise BadRequest("can't parse inline keyboard button: exactly one optional field must be used")
    if kinds == ["callback_data"] and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
        raise BadRequest("BUTTON_DATA_INVALID")
    if kinds == ["url"] and not str(button["url"]).startswith(("http://", "https://", "tg://")):
        raise BadRequest("inline keyboard button URL is invalid")


def _get_file(fake: FakeTelegram, token: str, body: dict[str, Any]) -> dict[str, Any]:
    found = fake.files.get(str(body.get("file_id")))
    if found is None or found[0] != token:
        raise BadRequest("wrong file_id or the file is temporarily unavailable")
    return {"file_id": body["file_id"], "file_unique_id": str(body["file_id"])[-8:], "file_size": len(found[2]),
            "file_path": found[1]}


_METHODS: dict[str, Callable[[FakeTelegram, str, dict[str, Any]], Any]] = {
    "getMe": _get_me, "setWebhook": _set_webhook, "deleteWebhook": _delete_webhook, "getWebhookInfo": _webhook_info,
    "sendMessage": _sender("sendMessage", _text), "sendPhoto": _sender("sendPhoto", _media("photo")),
    "sendDocument": _sender("sendDocument", _media("document")), "sendLocation": _sender("sendLocation", _location),
    "answerCallbackQuery": lambda _fake, _token, body: _answered(body), "getFile": _get_file,
}


def _answered(body: dict[str, Any]) -> bool:
    if not isinstance(body.get("callback_query_id"), str):
        raise BadRequest("query is too old and response timeout expired or query ID is invalid")
    return True


def preview(sent: Sent) -> dict[str, Any]:
    """What the person sees of a message the bot sent, read from its Bot API call: its text (or caption),
    media, location and buttons (each with the `callback_data` a press sends back, or its URL)."""
    body = sent.body
    shown: dict[str, Any] = {"id": sent.message_id, "method": sent.method, "to": str(body.get("chat_id"))}
    text = body.get("text") or body.get("caption")
    if text:
        shown["text"] = text
    media = body.get("photo") or body.get("document")
    if media:
        shown["mediaUrl"] = media
    if "latitude" in body:
        shown["location"] = {"lat": body["latitude"], "long": body["longitude"]}
    markup = body.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    buttons = [{k: v for k, v in button.items() if k in ("text", "callback_data", "url", "request_location")}
               for row in rows for button in row]
    if buttons:
        shown["buttons"] = buttons
    return shown
