"""The fakes of the channels' APIs (heliograph.simulator), served on loopback for the whole test session:
every server a test starts calls them instead of the real APIs (tests/servers.py gives it their base URLs), so
no test reaches the internet, and a test reads what its server sent there and writes as a person would."""

from __future__ import annotations

import asyncio
import secrets
import threading

import httpx
import uvicorn

from heliograph.simulator.app import TYPES, Fakes, fake_apis
from heliograph.simulator.telegram import Delivery

TWILIO_ACCOUNT, TWILIO_TOKEN, TWILIO_NUMBER = "AC1", "auth-token", "+15550001111"
PAGE_ID, PAGE_TOKEN = "106731941223392", "page-token"
MAILGUN_KEY, MAILGUN_DOMAIN = "key-1", "mg.example.org"
_lock = threading.Lock()
_running: tuple[Fakes, str] | None = None


def fakes() -> Fakes:
    return _started()[0]


def env() -> dict[str, str]:
    """The variables that point a server's channels at the fakes."""
    url = _started()[1]
    return {f"HELIOGRAPH_CHANNEL_BASE_URL_{kind.upper()}": f"{url}/{kind}" for kind in TYPES}


def new_bot_token() -> str:
    """A Telegram bot token of Telegram's form, of a bot no other test has (the fake serves the session)."""
    return f"{secrets.randbelow(10**9) + 10**9}:AAH-{secrets.token_hex(8)}"


def deliver(delivery: Delivery) -> httpx.Response:
    """POST a channel's request (a person's action, made by a fake) to the server it names."""
    return httpx.post(delivery.url, content=delivery.body, headers=delivery.headers, timeout=10)


def _started() -> tuple[Fakes, str]:
    global _running
    with _lock:
        if _running is None:
            made = Fakes()
            # The Twilio account of tests/integrations.MINIMAL, so that any test may make a twilio integration
            made.twilio.account(TWILIO_ACCOUNT, TWILIO_TOKEN, numbers={"PN1": TWILIO_NUMBER}, services=("MG1",))
            made.messenger.page(PAGE_ID, PAGE_TOKEN, "An Awesome Page")  # … and the Pages of its messenger and
            made.instagram.page(PAGE_ID, PAGE_TOKEN, "An Awesome Page")  # instagram integrations
            made.mailgun.account(MAILGUN_KEY, domains=[MAILGUN_DOMAIN])  # … and of its mailgun integration
            server = uvicorn.Server(uvicorn.Config(fake_apis(made), host="127.0.0.1", port=0, log_level="warning",
                                                   lifespan="off"))
            thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True, name="channel-fakes")
            thread.start()
            while not server.started:  # a few milliseconds: uvicorn binds, then says so
                if not thread.is_alive():
                    raise RuntimeError("the channels' fakes did not start")
                threading.Event().wait(0.005)
            port = server.servers[0].sockets[0].getsockname()[1]
            _running = (made, f"http://127.0.0.1:{port}")
        return _running
