"""CPU per request of Heliograph's own code, in process: the ASGI app called directly, no HTTP, no load generator.

    .venv/bin/python bench/inprocess.py [--engine sqlite|postgresql] [--messages 3000] [--reads 1000]

Noise on these 2-core machines moves latency and throughput far more than the CPU a request costs,
so this is the figure to compare two versions of the code by (run each, alternately, in the same
stretch). It builds the app with `create_app` on a fresh database, with the dispatcher off, one
custom integration whose webhook subscribes to `conversation:message` (so PostMessage writes its
event and delivery too), and 32 conversations; then it measures the process's CPU time (every
thread: the SQLite writer's included) over N PostMessages, 32 at a time, and over N GetConversations
and ListMessages. Prints one JSON line: microseconds of CPU per request of each kind.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import throwaway_postgres

from heliograph.app import create_app
from heliograph.config import Settings

KEY = ("act_" + secrets.token_hex(12), secrets.token_urlsafe(32))
AUTH = b"Basic " + base64.b64encode(f"{KEY[0]}:{KEY[1]}".encode())
MESSAGE = json.dumps({"author": {"type": "business"}, "content": {"type": "text", "text": "Hello"}}).encode()


async def call(app: Any, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
    """One request through the ASGI app: its status and decoded JSON body."""
    scope = {"type": "http", "http_version": "1.1", "method": method, "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8000),
             "client": ("127.0.0.1", 50000), "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", AUTH),
                                                         (b"content-type", b"application/json"),
                                                         (b"content-length", str(len(body)).encode())]}
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    raw = b"".join(chunks)
    return status, json.loads(raw) if raw else None


async def created(app: Any, path: str, body: dict[str, Any], key: str) -> Any:
    status, reply = await call(app, "POST", path, json.dumps(body).encode())
    assert status == 201, (status, reply)
    return reply[key]


async def cpu_per_request(app: Any, requests: list[tuple[str, str, bytes]], expected: int) -> float:
    """Microseconds of this process's CPU per request, sent 32 at a time."""
    started = time.process_time()
    for at in range(0, len(requests), 32):
        statuses = await asyncio.gather(*(call(app, *one) for one in requests[at:at + 32]))
        assert all(status == expected for status, _ in statuses), statuses[:3]
    return round((time.process_time() - started) / len(requests) * 1e6, 1)


async def measure(database_url: str, data_dir: Path, messages: int, reads: int) -> dict[str, float]:
    settings = Settings(database_url=database_url, data_dir=data_dir, account_key_id=KEY[0],
                        account_key_secret=KEY[1], dispatcher=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app_id = (await created(app, "/v2/apps", {"displayName": "bench"}, "app"))["id"]
        base = f"/v2/apps/{app_id}"
        await created(app, base + "/integrations", {"type": "custom", "displayName": "hook", "webhooks": [
            {"target": "http://127.0.0.1:9/hook", "triggers": ["conversation:message"]}]}, "integration")
        conversations = []
        for n in range(32):
            user = await created(app, base + "/users", {"externalId": f"user-{n}"}, "user")
            conversations.append((await created(app, base + "/conversations", {
                "type": "personal", "participants": [{"userId": user["id"]}]}, "conversation"))["id"])
        posts = [("POST", f"{base}/conversations/{conversations[n % 32]}/messages", MESSAGE) for n in range(messages)]
        gets = [("GET", f"{base}/conversations/{conversations[n % 32]}", b"") for n in range(reads)]
        lists = [("GET", f"{base}/conversations/{conversations[n % 32]}/messages", b"") for n in range(reads)]
        return {"post_message_us": await cpu_per_request(app, posts, 201),
                "get_conversation_us": await cpu_per_request(app, gets, 200),
                "list_messages_us": await cpu_per_request(app, lists, 200)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--reads", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        if args.engine == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir}/bench.sqlite3"
            figures = asyncio.run(measure(url, Path(workdir), args.messages, args.reads))
        else:
            with throwaway_postgres("bench_inprocess_") as url:
                figures = asyncio.run(measure(url, Path(workdir), args.messages, args.reads))
    print(json.dumps({"engine": args.engine, **figures}))


if __name__ == "__main__":
    main()
