"""The `heliograph` command: serve, migrate, account-key. Thin: settings in, one call out."""

from __future__ import annotations

import argparse
import asyncio
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

    def announce(key: AccountKey | None) -> None:
        base = f"http://{host}:{port}"
        print(f"Heliograph is ready at {base}  (database: {_safe(settings.database_url)})", flush=True)
        if key is not None and key.created:
            print(f"  account key id:     {key.id}\n  account key secret: {key.secret}", flush=True)
        else:
            print("  account key: unchanged (`heliograph account-key` prints it)", flush=True)
        print(f"  try: curl -u KEY_ID:SECRET {base}/v2/apps", flush=True)

    app = create_app(settings, on_ready=announce)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
    return 0


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
