"""Closed-loop PostMessage load against a running server: messages/s and latency percentiles.

    python bench/post_messages.py --url http://127.0.0.1:8000 --key act_… --secret … [--concurrency 32] [--seconds 10]

Each worker keeps one HTTP/1.1 connection and posts text messages (business author) into its own
conversation, as fast as the server answers. Every reply must be a 201. The load generator is a
separate process speaking raw HTTP on asyncio streams, so that it costs little of the 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import time
from urllib.parse import urlsplit


class Connection:
    def __init__(self, host: str, port: int, auth: str) -> None:
        self.host, self.port, self.auth = host, port, auth

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        payload = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: {self.auth}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return int(status_line.split()[1]), json.loads(data) if data else {}


async def main(args: argparse.Namespace) -> None:
    url = urlsplit(args.url)
    auth = "Basic " + base64.b64encode(f"{args.key}:{args.secret}".encode()).decode()
    setup = Connection(url.hostname, url.port or 80, auth)
    await setup.open()
    _, app = await setup.request("POST", "/v2/apps", {"displayName": "bench"})
    app_id = app["app"]["id"]
    conversations = []
    for n in range(args.concurrency):
        _, user = await setup.request("POST", f"/v2/apps/{app_id}/users", {"externalId": f"bench-{n}"})
        _, conv = await setup.request("POST", f"/v2/apps/{app_id}/conversations", {
            "type": "personal", "participants": [{"userId": user["user"]["id"]}]})
        conversations.append(conv["conversation"]["id"])
    latencies: list[float] = []
    deadline = time.perf_counter() + args.seconds

    async def worker(conversation_id: str) -> None:
        conn = Connection(url.hostname, url.port or 80, auth)
        await conn.open()
        body = {"author": {"type": "business"}, "content": {"type": "text", "text": "Hello from the bench"}}
        path = f"/v2/apps/{app_id}/conversations/{conversation_id}/messages"
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = await conn.request("POST", path, body)
            assert status == 201, status
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conversations))
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"{len(latencies)} messages in {elapsed:.1f} s: {len(latencies) / elapsed:.0f} messages/s, "
          f"p50 {quantiles[49] * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms "
          f"(concurrency {args.concurrency})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    asyncio.run(main(parser.parse_args()))
