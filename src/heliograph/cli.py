"""The `heliograph` command: serve, worker, migrate, account-key, deliveries, oauth-client.

Thin: settings in, one call out."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from heliograph.config import Settings
from heliograph.store.db import Database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="heliograph", description="Sunshine Conversations API v2 server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API server (applies migrations first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("worker", help="deliver webhooks without serving the API (PostgreSQL; run any number)")
    commands.add_parser("account-key", help="print the account-scope API keys")
    _deliveries_parser(commands.add_parser("deliveries", help="list, inspect and redeliver webhook deliveries"))
    users = commands.add_parser("users", help="operator tasks on users").add_subparsers(dest="action", required=True)
    link = users.add_parser("link-zendesk", help="link a user to a Zendesk user id (for SyncUser)")
    for name in ("app_id", "user", "zendesk_id"):
        link.add_argument(name)
    _oauth_client_parser(commands.add_parser("oauth-client", help="register, list and delete OAuth clients"))
    _sim_parser(commands.add_parser("sim", help="the channel simulator: write as a person, read what was sent "
                                                "(a server started with HELIOGRAPH_CHANNELS=simulate)"))
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "users":
        return asyncio.run(_link_zendesk(settings, args))
    if args.command == "deliveries":
        return asyncio.run(_deliveries(settings, args))
    if args.command == "oauth-client":
        return asyncio.run(_oauth_client(settings, args))
    if args.command == "sim":
        return asyncio.run(_sim(settings, args))
    if args.command == "worker":
        return _worker(settings)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("migrations applied")
        return 0
    asyncio.run(_print_account_keys(settings))
    return 0


def _serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from heliograph.app import create_app
    from heliograph.realtime.websocket import Socket
    from heliograph.services.account import AccountKey

    key: list[AccountKey | None] = []

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # listening: now the credentials are worth printing
                gc.freeze()  # what startup made lives as long as the process: no collection walks it again
                _announce(settings, f"http://{host}:{port}", key[0] if key else None)

    # The garbage collector, for a server that allocates fast and may hold 10,000 sockets' objects
    # (docs/performance.md, "The garbage collector"): a young collection every 10,000 allocations instead of
    # 700, so that far fewer objects of requests in flight are promoted, and a full collection (which walks
    # every socket's objects: 0.7 s at 10,000 sockets here) comes far more seldom.
    gc.set_threshold(10_000, 10, 10)

    app = create_app(settings, on_ready=key.append)
    # The end users' streams (api/stream.py) hold thousands of idle sockets in one process
    # (docs/performance.md, "The end users' stream with sockets connected"). No permessage-deflate: browsers
    # offer it, and it gives every socket two zlib contexts (35 KB) to compress frames of a few hundred
    # bytes. No WebSocket pings from uvicorn: the stream sends its own heartbeat frame after 25 quiet
    # seconds, and uvicorn's, every 20 s, about doubled what idle sockets cost in CPU.
    # Its WebSocket protocol (realtime/websocket.py) lets go of the handshake once done, and lets a stream
    # wait with no task on `receive()` and be written to straight from the request that commits a message.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", ws=Socket,
                            ws_per_message_deflate=False, ws_ping_interval=None)
    Server(config).run()
    return 0


def _announce(settings: Settings, base: str, key: object) -> None:
    print(f"Heliograph is ready at {base}  (database: {_safe(settings.database_url)})")
    if key is not None and getattr(key, "created", False):
        print(f"  account key id:     {key.id}\n  account key secret: {key.secret}")  # type: ignore[attr-defined]
    else:
        print("  account key: unchanged since it was first printed (`heliograph account-key` shows it)")
    print(f"  try: curl -u KEY_ID:SECRET {base}/v2/apps", flush=True)


def _deliveries_parser(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="a webhook's deliveries, newest first")
    listing.add_argument("webhook_id")
    listing.add_argument("--status", choices=["pending", "held", "delivered", "failed"])
    listing.add_argument("--limit", type=int, default=50)
    actions.add_parser("show", help="one delivery, its event and every attempt").add_argument("delivery_id", type=int)
    actions.add_parser("redeliver", help="send a delivery again, same event id").add_argument("delivery_id", type=int)


async def _deliveries(settings: Settings, args: argparse.Namespace) -> int:
    """The CLI face of services.deliveries: JSON out."""
    from heliograph.ids import system_clock
    from heliograph.services import deliveries

    async def work(db: Database) -> None:
        if args.action == "list":
            async with db.read() as conn:
                rows = await deliveries.list_deliveries(conn, webhook_id=args.webhook_id, status=args.status,
                                                        limit=args.limit)
            for row in rows:
                print(json.dumps(row))
        elif args.action == "show":
            async with db.read() as conn:
                print(json.dumps(await deliveries.get_delivery(conn, delivery_id=args.delivery_id), indent=2))
        else:
            async with db.write() as conn:
                delivery = await deliveries.redeliver(conn, delivery_id=args.delivery_id, now=system_clock())
            print(json.dumps(delivery, indent=2))

    return await _with_database(settings, work)


async def _with_database(settings: Settings, work: Callable[[Database], Awaitable[None]]) -> int:
    """Run an operator command on the database: exit 0, or 1 with the error's title on stderr."""
    from heliograph.errors import ApiError

    db = Database(settings)
    try:
        await work(db)
        return 0
    except ApiError as error:
        print(error.title, file=sys.stderr)
        return 1
    finally:
        await db.dispose()


def _oauth_client_parser(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="register a client; prints its id and secret (shown once)")
    create.add_argument("--name", required=True, help="shown to app owners on the consent page")
    create.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris",
                        help="an allowed redirect URI (repeat for several; the first is the default)")
    actions.add_parser("list", help="every client and the apps it is connected to")
    actions.add_parser("delete", help="remove a client, its connections, their webhooks and tokens").add_argument(
        "client_id")


async def _oauth_client(settings: Settings, args: argparse.Namespace) -> int:
    """The CLI face of services.oauth's clients: JSON out."""
    from heliograph.ids import IdFactory
    from heliograph.services import oauth
    from heliograph.store.migrate import upgrade

    async def work(db: Database) -> None:
        await upgrade(db)
        async with db.write() as conn:
            if args.action == "create":
                print(json.dumps(await oauth.create_client(conn, ids=IdFactory(), name=args.name,
                                                           redirect_uris=args.redirect_uris), indent=2))
            elif args.action == "list":
                for client in await oauth.list_clients(conn):
                    print(json.dumps(client))
            else:
                await oauth.delete_client(conn, client_id=args.client_id)
                print(f"deleted OAuth client {args.client_id}")

    return await _with_database(settings, work)


async def _link_zendesk(settings: Settings, args: argparse.Namespace) -> int:
    from heliograph.services.user_sync import link_zendesk

    async def work(db: Database) -> None:
        async with db.write() as conn:
            user = await link_zendesk(conn, app_id=args.app_id, user=args.user, zendesk_id=args.zendesk_id)
        print(json.dumps(user))

    return await _with_database(settings, work)


def _sim_parser(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)  # each action's, after it: `sim write ID TEXT --json`
    common.add_argument("--url", default=os.environ.get("HELIOGRAPH_URL", "http://127.0.0.1:8000"),
                        help="the server (HELIOGRAPH_URL; default http://127.0.0.1:8000)")
    common.add_argument("--json", action="store_true", help="print the simulator's JSON answers")
    actions = parser.add_subparsers(dest="action", required=True)
    write = actions.add_parser("write", help="a person writes to the integration's channel", parents=[common])
    write.add_argument("integration_id")
    write.add_argument("text", nargs="?", help="what they write (right after the integration's id)")
    write.add_argument("--from", dest="person", default="4711",
                       help="their id on the channel: a number, +E.164, or an email address on mailgun (default 4711)")
    write.add_argument("--name", default="Ann", help="their name: given name, then surname")
    write.add_argument("--location", help="LAT,LONG: they share a location instead")
    write.add_argument("--postback", help="they press the button with this data (as `outbox` shows it)")
    outbox = actions.add_parser("outbox", help="what Heliograph sent to the integration's channel", parents=[common])
    outbox.add_argument("integration_id")
    outbox.add_argument("--follow", action="store_true", help="keep printing new messages until Ctrl-C")
    receipt = actions.add_parser("receipt", help="the channel reports on a message it was sent (Twilio)",
                                 parents=[common])
    receipt.add_argument("integration_id")
    receipt.add_argument("message_id", help="the message's id on the channel, as `outbox` shows it")
    receipt.add_argument("status", choices=["delivered", "read", "undelivered", "failed"])
    receipt.add_argument("--error-code", dest="error_code", help="the channel's error code (undelivered, failed)")
    fail = actions.add_parser("fail", help="the channel's API fails its next calls of a method", parents=[common])
    fail.add_argument("integration_id")
    fail.add_argument("method", help="Telegram's sendMessage, sendPhoto, …; Twilio's Messages, …")
    fail.add_argument("status", type=int, help="429, 500, 403, …")
    fail.add_argument("--retry-after", type=int, dest="retry_after")
    fail.add_argument("--times", type=int, default=1)


async def _sim(settings: Settings, args: argparse.Namespace) -> int:
    """The CLI face of the simulator's endpoints (api/simulator.py), with the account key of the database."""
    import httpx

    from heliograph.services.account import account_keys

    db = Database(settings)
    try:
        async with db.read() as conn:
            keys = await account_keys(conn)
    finally:
        await db.dispose()
    if not keys:
        print("no account key in the database: start the server once first", file=sys.stderr)
        return 1
    base = f"{args.url.rstrip('/')}/_heliograph/sim/integrations/{args.integration_id}"
    async with httpx.AsyncClient(auth=(keys[0].id, keys[0].secret), timeout=30) as http:
        try:
            if args.action == "write":
                return _said(await http.post(f"{base}/messages", json=_sim_write(args)), args.json, _show_write)
            if args.action == "receipt":
                report = {"messageId": args.message_id, "status": args.status,
                          **({"errorCode": args.error_code} if args.error_code else {})}
                return _said(await http.post(f"{base}/receipts", json=report), args.json, _show_write)
            if args.action == "fail":
                fault = {"method": args.method, "status": args.status, "times": args.times,
                         **({"retryAfter": args.retry_after} if args.retry_after else {})}
                return _said(await http.post(f"{base}/faults", json=fault), args.json, lambda _: "set")
            return await _sim_outbox(http, f"{base}/outbox", args)
        except httpx.HTTPError as error:
            print(f"could not reach {args.url}: {error}", file=sys.stderr)
            return 1


def _sim_write(args: argparse.Namespace) -> dict[str, object]:
    given, _, surname = args.name.partition(" ")
    body: dict[str, object] = {"from": {"id": args.person, "givenName": given, **({"surname": surname} if surname
                                                                                 else {})}}
    if args.location:
        lat, _, long = args.location.partition(",")
        body["location"] = {"lat": float(lat), "long": float(long)}
    elif args.postback:
        body["postback"] = args.postback
    elif args.text:
        body["text"] = args.text
    return body


def _said(response: object, as_json: bool, show: Callable[[dict[str, object]], str]) -> int:
    """Print the simulator's answer (or its error); the exit code."""
    import httpx

    assert isinstance(response, httpx.Response)
    found = response.json()
    if response.status_code >= 400:
        print(found["errors"][0]["title"], file=sys.stderr)
        return 1
    print(json.dumps(found, indent=2) if as_json else show(found))
    return 0


def _show_write(found: dict[str, object]) -> str:
    answer = found["answer"]
    assert isinstance(answer, dict)
    return f"sent to {found['request']['url']}: answered {answer['status']}"  # type: ignore[index]


async def _sim_outbox(http: object, url: str, args: argparse.Namespace) -> int:
    import httpx

    assert isinstance(http, httpx.AsyncClient)
    shown = 0
    while True:
        response = await http.get(url)
        if response.status_code >= 400:
            return _said(response, args.json, str)
        messages = response.json()["messages"]
        for message in messages[shown:]:
            print(json.dumps(message) if args.json else _line(message), flush=True)
        shown = len(messages)
        if not args.follow:
            return 0
        await asyncio.sleep(0.5)  # a person's screen, refreshed: the server has no push for the simulator


def _line(message: dict[str, object]) -> str:
    """One message as the person sees it: `#371 to 4711: Pick one  [Large → 01a2…:0] [Guide → https://…]`."""
    parts = [f"#{message['id']} to {message['to']}:"]
    for field in ("text", "mediaUrl"):
        if field in message:
            parts.append(str(message[field]))
    if "location" in message:
        parts.append(f"location {message['location']}")
    buttons = message.get("buttons") or []
    assert isinstance(buttons, list)
    parts += [f"[{b['text']} → {b.get('callback_data') or b.get('url') or 'location'}]" for b in buttons]
    return "  ".join(parts)


def _worker(settings: Settings) -> int:
    if settings.simulate_channels:
        print("heliograph worker cannot simulate channels: the fakes live in `heliograph serve`, which sends "
              "itself when HELIOGRAPH_CHANNELS=simulate", file=sys.stderr)
        return 2
    if settings.is_sqlite:
        print("heliograph worker needs PostgreSQL: on SQLite, `heliograph serve` delivers webhooks itself",
              file=sys.stderr)
        return 2
    asyncio.run(_run_worker(settings))
    return 0


async def _run_worker(settings: Settings) -> None:
    import signal

    from heliograph.store.migrate import upgrade
    from heliograph.worker.runner import delivering

    db = Database(settings)
    await upgrade(db)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with delivering(settings, db):
        print(f"Heliograph worker is delivering webhooks (database: {_safe(settings.database_url)})", flush=True)
        await stop.wait()
    await db.dispose()


async def _migrate(settings: Settings) -> None:
    from heliograph.store.migrate import upgrade

    db = Database(settings)
    await upgrade(db)
    await db.dispose()


async def _print_account_keys(settings: Settings) -> None:
    from heliograph.services.account import account_keys

    db = Database(settings)
    async with db.read() as conn:
        for key in await account_keys(conn):
            print(f"{key.id} {key.secret}")
    await db.dispose()


def _safe(url: str) -> str:
    """The database URL with its password masked."""
    return sa.make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
