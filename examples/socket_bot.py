"""A bot that answers every end user over Heliograph's socket mode: no public URL needed.

It makes (or reuses) a `custom` integration of the app whose webhook's target is the reserved
`https://socket.invalid`, through the official Python SDK; Heliograph then holds that webhook's
events for the app's WebSocket (docs/socket-mode.md) instead of POSTing them. The bot connects,
answers each message a user writes with an echo of it (through the SDK, as any bot would), and
acknowledges each event once it is handled, so an event is never lost: one that arrives while the
bot is stopped waits for it, and one it had not acknowledged when it stopped comes again.

    pip install sunshine-conversations-client==17.0.1 websockets
    python examples/socket_bot.py --url http://localhost:8080 --app APP_ID --key-id KEY_ID --secret=SECRET

The key is an account key (act_…) or a key of the app (app_…). Stop it with Ctrl-C; the integration
stays, so the events of the meantime wait for the next run (delete it in the console or with
DeleteIntegration when the bot is gone for good). Socket mode is Heliograph's own: against the hosted
service, use examples/webhook_bot.py.
"""

from __future__ import annotations

import argparse
import base64
import json
import signal
import time
from typing import Any

import sunshine_conversations_client as sc
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

BOT_NAME = "Socket bot"
SOCKET_TARGET = "https://socket.invalid"
PROTOCOL = "heliograph.v1"
FATAL = {4400: "refused", 4401: "bad credentials", 4403: "a key of another app", 4404: "no such app or webhook",
         4409: "another socket took this webhook over"}


def answer(text: str) -> str:
    """What the bot says to a user who wrote `text`."""
    return f"You said: {text}" if text.strip() else "I can read text only, for now."


def socket_webhook(api: sc.ApiClient, app_id: str) -> str:
    """The id of the bot's socket-mode webhook: its custom integration's, made if the app has none."""
    integrations = sc.IntegrationsApi(api)
    listed = integrations.list_integrations(app_id, filter=sc.IntegrationListFilter(types="custom"))
    for integration in listed.integrations:
        for webhook in getattr(integration, "webhooks", None) or []:
            if integration.display_name == BOT_NAME and webhook.target.startswith(SOCKET_TARGET):
                return str(webhook.id)
    hook = sc.Webhook(target=SOCKET_TARGET, triggers=["conversation:message"], include_full_user=True)
    made = integrations.create_integration(app_id, sc.Custom(type="custom", display_name=BOT_NAME, webhooks=[hook]))
    return str(made.integration.webhooks[0].id)


class Bot:
    def __init__(self, api: sc.ApiClient, app_id: str) -> None:
        self.api, self.app_id = api, app_id
        self.busy = False  # handling an event: a stop request waits until it is answered and acknowledged
        self.stopping = False

    def stop(self, *_: object) -> None:
        """SIGTERM or Ctrl-C: stop now if waiting for events, else once the event in hand is acknowledged."""
        self.stopping = True
        if not self.busy:
            raise KeyboardInterrupt

    def handle(self, body: dict[str, Any]) -> None:
        """Answer each user message of an event's body: exactly what a webhook's POST would carry."""
        for event in body.get("events", []):
            payload = event.get("payload", {})
            message = payload.get("message", {})
            if event.get("type") != "conversation:message" or message.get("author", {}).get("type") != "user":
                continue
            content = message.get("content", {})
            reply = answer(content.get("text", "") if content.get("type") == "text" else "")
            post = sc.MessagePost(author=sc.Author(type="business", display_name=BOT_NAME),
                                  content=sc.Content(sc.TextMessage(type="text", text=reply)))
            sc.MessagesApi(self.api).post_message(self.app_id, payload["conversation"]["id"], post)

    def serve(self, socket: ClientConnection) -> None:
        """Handle each event as it comes and acknowledge it once answered (at least once: a bot that
        stops between the two gets the event again, so a real bot would drop repeats by `event.id`)."""
        for raw in socket:
            frame = json.loads(raw)
            if frame["type"] == "ready":
                print(f"{BOT_NAME} connected: webhook {frame['webhookId']}", flush=True)
            elif frame["type"] == "event":
                self.busy = True
                self.handle(frame["body"])
                socket.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
                self.busy = False
                if self.stopping:
                    raise KeyboardInterrupt


def stream_url(url: str, app_id: str, webhook_id: str) -> str:
    return url.replace("http", "ws", 1) + f"/sdk/v2/apps/{app_id}/stream?webhookId={webhook_id}"


def credentials(key_id: str, secret: str) -> str:
    """The key as the socket's second subprotocol (browsers and most clients cannot set headers)."""
    return "auth." + base64.urlsafe_b64encode(f"{key_id}:{secret}".encode()).rstrip(b"=").decode()


def run(bot: Bot, url: str, webhook_id: str, key: tuple[str, str]) -> int:
    """Stay connected, reconnecting after a dropped connection (1 s, 2 s … up to 30 s apart); the exit status
    once the server refuses for good."""
    delay = 1.0
    while True:
        try:
            with connect(stream_url(url, bot.app_id, webhook_id), open_timeout=10,
                         subprotocols=[PROTOCOL, credentials(*key)]) as socket:  # type: ignore[list-item]
                delay = 1.0
                bot.serve(socket)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else None
            if code in FATAL:
                print(f"{BOT_NAME} stops: {FATAL[code]} ({code}, {closed.rcvd.reason if closed.rcvd else ''})")
                return 1
        except (OSError, InvalidHandshake, InvalidStatus, TimeoutError) as error:
            print(f"{BOT_NAME}: cannot connect ({error}); again in {delay:.0f} s", flush=True)
        time.sleep(delay)  # back off before reconnecting: a server that restarts is not hammered
        delay = min(delay * 2, 30.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the Heliograph server")
    parser.add_argument("--app", required=True, help="the app to answer in")
    parser.add_argument("--key-id", required=True, help="an account key id (act_…) or a key of the app (app_…)")
    parser.add_argument("--secret", required=True, help="that key's secret (as --secret=…: it may start with -)")
    args = parser.parse_args(argv)

    url = args.url.rstrip("/")
    api = sc.ApiClient(sc.Configuration(host=url, username=args.key_id, password=args.secret))
    bot = Bot(api, args.app)
    webhook_id = socket_webhook(api, args.app)
    signal.signal(signal.SIGTERM, bot.stop)  # SIGTERM ends the bot as Ctrl-C does
    signal.signal(signal.SIGINT, bot.stop)
    try:
        return run(bot, url, webhook_id, (args.key_id, args.secret))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
