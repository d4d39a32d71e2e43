"""The fakes of the channels' APIs as one ASGI application, each channel under its type:

    POST /telegram/bot{token}/{method}    the Bot API (simulator/telegram.py)

Point a channel type's base URL at `<this app>/<type>` (HELIOGRAPH_CHANNEL_BASE_URL_TELEGRAM=…/telegram).
"""

from __future__ import annotations

import dataclasses
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from heliograph.simulator.telegram import FakeTelegram

TYPES = ("telegram",)  # the channels the fakes stand in for


@dataclasses.dataclass
class Fakes:
    telegram: FakeTelegram = dataclasses.field(default_factory=FakeTelegram)

    @classmethod
    def lenient(cls) -> Fakes:
        """The simulator's fakes: any credential works."""
        return cls(telegram=FakeTelegram(strict=False))


def fake_apis(fakes: Fakes) -> Starlette:
    async def telegram(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"}, 400)
        status, answer = fakes.telegram.call(request.path_params["token"], request.path_params["method"], body)
        return JSONResponse(answer, status)

    return Starlette(routes=[Route("/telegram/bot{token}/{method}", telegram, methods=["POST"])])
