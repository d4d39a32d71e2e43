"""The `heliograph` command: serve, migrate, account-key. Thin: settings in, one call out."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

from heliograph.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="heliograph", description="Sunshine Conversations API v2 server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API server (applies migrations first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("account-key", help="print the account-scope API keys")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("migrations applied")
        return 0
    asyncio.run(_print_account_keys(settings))
    return 0


def _serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from heliograph.app import create_app
    from heliograph.services.account import AccountKey

    key: list[AccountKey | None] = []

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # listening: now the credentials are worth printing
                _announce(settings, f"http://{host}:{port}", key[0] if key else None)

    app = create_app(settings, on_ready=key.append)
    Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")).run()
    return 0


def _announce(settings: Settings, base: str, key: object) -> None:
    print(f"Heliograph is ready at {base}  (database: {_safe(settings.database_url)})")
    if key is not None and getattr(key, "created", False):
        print(f"  account key id:     {key.id}\n  account key secret: {key.secret}")  # type: ignore[attr-defined]
    else:
        print("  account key: unchanged since it was first printed (`heliograph account-key` shows it)")
    print(f"  try: curl -u KEY_ID:SECRET {base}/v2/apps", flush=True)


async def _migrate(settings: Settings) -> None:
    from heliograph.store.db import Database
    from heliograph.store.migrate import upgrade

    db = Database(settings)
    await upgrade(db)
    await db.dispose()


async def _print_account_keys(settings: Settings) -> None:
    from heliograph.services.account import account_keys
    from heliograph.store.db import Database

    db = Database(settings)
    async with db.read() as conn:
        for key in await account_keys(conn):
            print(f"{key.id} {key.secret}")
    await db.dispose()


def _safe(url: str) -> str:
    """The database URL without its password."""
    head, sep, tail = url.rpartition("@")
    return url if not sep else head.split(":")[0] + ":" + head.split(":")[1].split("//")[0] + "//…@" + tail


if __name__ == "__main__":
    sys.exit(main())
