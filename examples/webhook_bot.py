"""A bot that answers every end user on webhooks, through the official Python SDK.

It is the bot of the README's walkthrough: given a Heliograph server and its account key, it makes
(or reuses) an app, a `web` integration for the web messenger and a `custom` integration whose
webhook points at this script, prints the messenger's demo page, and then answers each message a
user writes with an echo of it. Nothing here is Heliograph-specific: the same code runs against
the hosted Sunshine Conversations API.

    pip install sunshine-conversations-client==17.0.1
    python examples/webhook_bot.py --url http://127.0.0.1:8000 --key-id act_… --secret=…

Stop it with Ctrl-C: the custom integration it made is deleted again, the app and the web
integration stay (run it again with --app to reuse them).
"""

from __future__ import annotations

import argparse
import hmac
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sunshine_conversations_client as sc

BOT_NAME = "Echo bot"


def answer(text: str) -> str:
    """What the bot says to a user who wrote `text`."""
    return f"You said: {text}" if text.strip() else "I can read text only, for now."


class Bot:
    """The bot's state: the SDK client, the app, and the secret its webhook's requests carry."""

    def __init__(self, api: sc.ApiClient, app_id: str) -> None:
        self.api, self.app_id = api, app_id
        self.secret = ""
        self.integration_id: str | None = None

    def subscribe(self, target: str) -> None:
        """A custom integration whose webhook sends this app's user messages to `target`."""
        webhook = sc.Webhook(target=target, triggers=["conversation:message"])
        integration = sc.IntegrationsApi(self.api).create_integration(
            self.app_id, sc.Custom(type="custom", display_name=BOT_NAME, webhooks=[webhook])).integration
        self.integration_id, self.secret = integration.id, integration.webhooks[0].secret

    def unsubscribe(self) -> None:
        if self.integration_id is not None:
            sc.IntegrationsApi(self.api).delete_integration(self.app_id, self.integration_id)
            self.integration_id = None

    def handle(self, body: dict[str, Any]) -> None:
        """Answer each user message of a webhook's body (one event, or several when batched)."""
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


def serve_webhooks(bot: Bot, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server that checks each POST's X-API-Key against the webhook's secret and hands the body
    to the bot; it answers 200 before the bot replies, so a slow reply never makes Heliograph retry."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if not hmac.compare_digest(self.headers.get("x-api-key", ""), bot.secret):
                self.send_response(401)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            threading.Thread(target=bot.handle, args=(json.loads(raw),), daemon=True).start()

        def log_message(self, *_args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def web_integration(api: sc.ApiClient, app_id: str) -> str:
    """The app's first `web` integration, made if it has none."""
    integrations = sc.IntegrationsApi(api)
    listed = integrations.list_integrations(app_id, filter=sc.IntegrationListFilter(types="web"))
    for integration in listed.integrations:
        return str(integration.id)
    made = integrations.create_integration(app_id, sc.Web(type="web", display_name="Web messenger",
                                                          business_name=BOT_NAME, brand_color="2a6ebb"))
    return str(made.integration.id)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the bot as Ctrl-C does: its integration is deleted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the Heliograph server")
    parser.add_argument("--key-id", required=True, help="an account key id (act_…), or an app key id with --app")
    parser.add_argument("--secret", required=True, help="that key's secret (as --secret=…: it may start with -)")
    parser.add_argument("--app", help="the app to answer in (default: a new app named after the bot)")
    parser.add_argument("--host", default="127.0.0.1", help="where the bot listens for webhooks")
    parser.add_argument("--port", type=int, default=0, help="its port (default: any free one)")
    args = parser.parse_args(argv)

    api = sc.ApiClient(sc.Configuration(host=args.url.rstrip("/"), username=args.key_id, password=args.secret))
    app_id = str(args.app or sc.AppsApi(api).create_app(sc.AppCreateBody(display_name=BOT_NAME)).app.id)
    bot = Bot(api, app_id)
    server = serve_webhooks(bot, args.host, args.port)
    bot.subscribe(f"http://{args.host}:{server.server_address[1]}/hook")
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"{BOT_NAME} answers in app {app_id}, on webhooks at {args.host}:{server.server_address[1]}")
    print(f"Chat with it: {args.url.rstrip('/')}/messenger/demo?integrationId={web_integration(api, app_id)}",
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the clean-up short
        server.server_close()
        bot.unsubscribe()


if __name__ == "__main__":
    main()
