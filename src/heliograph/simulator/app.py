"""The fakes of the channels' APIs as one ASGI application, each channel under its type:

    POST /telegram/bot{token}/{method}                                  the Bot API (simulator/telegram.py)
    GET  /telegram/file/bot{token}/{file_path}                          … and its files
    POST /twilio/2010-04-01/Accounts/{sid}/Messages.json                Twilio's REST API (simulator/twilio.py)
    POST /twilio/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{pn}.json
    POST /twilio/v1/Services/{mg}                                       … and its Messaging API
    GET  /whatsapp/{version}/{phone number id | media id}               Meta's Graph API for WhatsApp
    GET  /whatsapp/media/{media id}                                     … a media's download
    POST /whatsapp/{version}/{phone number id}/messages                 (simulator/whatsapp.py)
    POST|DELETE /whatsapp/{version}/{account id}/subscribed_apps
    GET  /messenger/{version}/me, POST /messenger/{version}/me/messages, …   the Messenger Platform (Pages),
    GET  /instagram/{version}/me, …                                        and its Instagram twin
                                                                          (simulator/messenger.py)
    GET  /mailgun/v3/domains/{domain}, POST /mailgun/v3/routes, …          Mailgun's API
    POST /mailgun/v3/{domain}/messages                                    (simulator/mailgun.py)

Point a channel type's base URL at `<this app>/<type>` (HELIOGRAPH_CHANNEL_BASE_URL_TELEGRAM=…/telegram).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from heliograph.simulator.mailgun import FakeMailgun
from heliograph.simulator.messenger import FakeMessenger
from heliograph.simulator.telegram import FakeTelegram
from heliograph.simulator.twilio import FakeTwilio
from heliograph.simulator.whatsapp import FakeWhatsApp

TYPES = ("telegram", "twilio", "whatsapp", "messenger", "instagram", "mailgun")  # the channels the fakes stand in for


@dataclasses.dataclass
class Fakes:
    telegram: FakeTelegram = dataclasses.field(default_factory=FakeTelegram)
    twilio: FakeTwilio = dataclasses.field(default_factory=FakeTwilio)
    whatsapp: FakeWhatsApp = dataclasses.field(default_factory=FakeWhatsApp)
    messenger: FakeMessenger = dataclasses.field(default_factory=lambda: FakeMessenger("page"))
    instagram: FakeMessenger = dataclasses.field(default_factory=lambda: FakeMessenger("instagram"))
    mailgun: FakeMailgun = dataclasses.field(default_factory=FakeMailgun)

    @classmethod
    def lenient(cls) -> Fakes:
        """The simulator's fakes: any credential works."""
        return cls(telegram=FakeTelegram(strict=False), twilio=FakeTwilio(strict=False),
                   whatsapp=FakeWhatsApp(strict=False), messenger=FakeMessenger("page", strict=False),
                   instagram=FakeMessenger("instagram", strict=False), mailgun=FakeMailgun(strict=False))


async def _json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON object ({} for no body), or None if it is not one."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _verified(callback: str, verify_token: Any) -> bool:
    """Meta's check of a webhook being subscribed: a GET with the verify token, which must echo the challenge."""
    challenge = str(secrets.randbelow(10**9))
    query = {"hub.mode": "subscribe", "hub.verify_token": str(verify_token or ""), "hub.challenge": challenge}
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(callback, params=query)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.text == challenge


def fake_apis(fakes: Fakes) -> Starlette:
    async def telegram(request: Request) -> JSONResponse:
        body = await _json_object(request)
        if body is None:
            return JSONResponse({"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"}, 400)
        status, answer = fakes.telegram.call(request.path_params["token"], request.path_params["method"], body)
        return JSONResponse(answer, status)

    async def telegram_file(request: Request) -> Response:
        content = fakes.telegram.file(request.path_params["token"], request.path_params["path"])
        if content is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return Response(content, 200, media_type="application/octet-stream")

    def twilio(method: str, resource: str) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
            auth = _basic(request.headers.get("authorization"))
            sid = request.path_params.get("sid") or (auth[0] if auth else "")
            status, answer, headers = fakes.twilio.call(method, sid, auth, request.path_params.get(resource, ""),
                                                        form)
            return JSONResponse(answer, status, headers)
        return endpoint

    def graph(kind: str, method: str) -> Callable[[Request], Awaitable[JSONResponse]]:
        """A Graph API call of Meta's fakes: the node, its token (Bearer, or `access_token`) and JSON body."""
        async def endpoint(request: Request) -> JSONResponse:
            body = await _json_object(request)
            if body is None:
                return JSONResponse({"error": {"message": "Invalid JSON", "code": 100}}, 400)
            token = _bearer(request)
            callback = body.get("callback_url") or body.get("override_callback_uri")
            if request.method == "POST" and callback and not await _verified(str(callback), body.get("verify_token")):
                return JSONResponse({"error": {"message": "(#2200) Callback verification failed", "code": 2200}}, 400)
            fake: FakeMessenger | FakeWhatsApp = getattr(fakes, kind)
            status, answer = fake.call(method, request.method, request.path_params.get("node", "me"), token, body)
            return JSONResponse(answer, status)
        return endpoint

    def mailgun(method: str, *names: str) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            form = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
            status, answer, headers = fakes.mailgun.call(method, request.method, _basic(request.headers.get(
                "authorization")), [request.path_params[name] for name in names], form)
            return JSONResponse(answer, status, headers)
        return endpoint

    phone_number = graph("whatsapp", "phone_number")

    async def whatsapp_node(request: Request) -> Response:
        """GET /{version}/{node}: a media id's description (its download URL on this app), else the number's."""
        token = _bearer(request)
        found = fakes.whatsapp.media_info(request.path_params["node"], token)
        if found is None:
            return await phone_number(request)
        status, answer = found
        if status == 200:
            answer["url"] = f"{str(request.base_url).rstrip('/')}/whatsapp/media/{request.path_params['node']}"
        return JSONResponse(answer, status)

    async def whatsapp_media(request: Request) -> Response:
        content = fakes.whatsapp.download(request.path_params["id"], _bearer(request))
        if content is None:
            return JSONResponse({"error": {"message": "Invalid media", "code": 131052}}, 404)
        return Response(content, 200, media_type="application/octet-stream")

    accounts = "/twilio/2010-04-01/Accounts/{sid}"
    return Starlette(routes=[
        Route("/telegram/bot{token}/{method}", telegram, methods=["POST"]),
        Route("/telegram/file/bot{token}/{path:path}", telegram_file, methods=["GET"]),
        Route(f"{accounts}/Messages.json", twilio("Messages", ""), methods=["POST"]),
        Route(f"{accounts}/IncomingPhoneNumbers/{{pn}}.json", twilio("IncomingPhoneNumbers", "pn"), methods=["POST"]),
        Route("/twilio/v1/Services/{mg}", twilio("Services", "mg"), methods=["POST"]),
        *(route for kind in ("messenger", "instagram") for route in (
            Route(f"/{kind}/{{version}}/me", graph(kind, "me"), methods=["GET"]),
            Route(f"/{kind}/{{version}}/me/messages", graph(kind, "messages"), methods=["POST"]),
            Route(f"/{kind}/{{version}}/{{node}}/subscriptions", graph(kind, "subscriptions"), methods=["POST"]),
            Route(f"/{kind}/{{version}}/{{node}}/subscribed_apps", graph(kind, "subscribed_apps"),
                  methods=["POST", "DELETE"]))),
        Route("/whatsapp/media/{id}", whatsapp_media, methods=["GET"]),
        Route("/whatsapp/{version}/{node}", whatsapp_node, methods=["GET"]),
        Route("/whatsapp/{version}/{node}/messages", graph("whatsapp", "messages"), methods=["POST"]),
        Route("/whatsapp/{version}/{node}/subscribed_apps", graph("whatsapp", "subscribed_apps"),
              methods=["POST", "DELETE"]),
        Route("/mailgun/v3/domains/{domain}", mailgun("domains", "domain"), methods=["GET"]),
        Route("/mailgun/v3/domains/{domain}/webhooks", mailgun("webhooks", "domain"), methods=["POST"]),
        Route("/mailgun/v3/domains/{domain}/webhooks/{kind}", mailgun("webhooks", "domain", "kind"),
              methods=["GET", "PUT", "DELETE"]),
        Route("/mailgun/v3/routes", mailgun("routes"), methods=["POST"]),
        Route("/mailgun/v3/routes/{id}", mailgun("routes", "id"), methods=["DELETE"]),
        Route("/mailgun/v3/{domain}/messages", mailgun("messages", "domain"), methods=["POST"]),
    ])


def _bearer(request: Request) -> str | None:
    """A Graph API call's token: Bearer, or `access_token`."""
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else request.query_params.get("access_token")


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password
