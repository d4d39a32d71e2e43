"""The README's walkthrough bot (examples/webhook_bot.py) against a live server, both engines: it sets its
app up, and an end user who writes through the web messenger's API gets its answer on their stream."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Server
from tests.end_users import Visitor, frame

BOT = Path(__file__).resolve().parent.parent / "examples" / "webhook_bot.py"


@pytest.fixture
def bot(server: Server) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """The bot, running with the account key; its app id and the demo page's integration id, from what it prints."""
    key_id, secret = server.account_key
    process = subprocess.Popen([sys.executable, str(BOT), "--url", server.base_url, "--key-id", key_id,
                                f"--secret={secret}"], stdout=subprocess.PIPE, text=True)  # it may start with -
    try:
        assert process.stdout is not None
        answering, demo = process.stdout.readline(), process.stdout.readline()
        app_id = answering.split(" in app ")[1].split(",")[0]
        assert demo.startswith(f"Chat with it: {server.base_url}/messenger/demo?integrationId="), demo
        integration_id = parse_qs(urlsplit(demo.split(": ", 1)[1].strip()).query)["integrationId"][0]
        yield process, app_id, integration_id
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def test_the_walkthrough_bot_answers_an_end_user_live(
        server: Server, http: httpx.Client, browserless: httpx.Client,
        bot: tuple[subprocess.Popen[str], str, str]) -> None:
    """An end user of the bot's web integration writes; the bot's echo arrives on their stream. The bot set up a
    web and a custom integration, and removes its own (the custom one) when it stops."""
    process, app_id, integration_id = bot
    visitor = Visitor(browserless, app_id, integration_id)
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        frame(socket)  # ready
        assert 201 == visitor.say(conversation, "Is anyone there?").status_code
        mine, answer = frame(socket), frame(socket, timeout=20)
    assert ("user", "Is anyone there?") == (mine["message"]["author"]["type"], mine["message"]["content"]["text"])
    assert ("business", "Echo bot", "You said: Is anyone there?") == (
        answer["message"]["author"]["type"], answer["message"]["author"]["displayName"],
        answer["message"]["content"]["text"])
    integrations = http.get(f"/v2/apps/{app_id}/integrations").json()["integrations"]
    assert {"web", "custom"} == {i["type"] for i in integrations}
    process.terminate()
    assert 0 == process.wait(timeout=20)
    left = http.get(f"/v2/apps/{app_id}/integrations").json()["integrations"]
    assert ["web"] == [i["type"] for i in left]  # the bot removed its webhook's integration on the way out
