"""Channels under load (issue 12 §8): outbound channel sends while PostMessage runs, and inbound channel webhooks
to the bot's `conversation:message`.

One run per engine, all on loopback:
- the fake Telegram Bot API of heliograph.simulator, in a process of its own (`channels.py fake --port P`),
  which checks and records every call;
- `heliograph serve`, whose Telegram base URL points at it;
- this process: the load generator, and the bot's webhook receiver.

Outbound. `--persons` people write to the bot on Telegram first, so each has a conversation whose channel
is Telegram. Then a closed loop (`--concurrency`) posts business messages into those conversations for
`--seconds`. The report gives:
- PostMessage/s;
- channel sends/s at the fake;
- each message's time from its 201 to its arrival at the fake;
- whether the webhooks kept up: `conversation:message` and `delivery:channel` events at the receiver, with their
  lag after the 201.

The same loop into conversations without a channel client (their users made through the API) is the reference.
The report gives the PostMessage ratio.

Inbound. An open loop POSTs signed updates to the inbound route at `--rate`/s for `--seconds`. The report gives
the time from each POST's start to the bot's webhook receiving its `conversation:message`.

    .venv/bin/python bench/channels.py --engines sqlite,postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import Http, basic_auth, free_port, percentiles, spawn, stop, throwaway_postgres, wait_healthy

TOKEN = "555000111:AAH-bench_token"


# --- the fake, in its own process ---------------------------------------------------------------------------

def serve_fake(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from heliograph.simulator.app import Fakes, fake_apis

    fakes = Fakes()

    async def webhook(request: Request) -> JSONResponse:
        return JSONResponse(fakes.telegram.webhooks.get(request.path_params["token"], {}))

    async def arrivals(_request: Request) -> JSONResponse:  # (text, when) of each message sent, and refusals
        with fakes.telegram.records.lock:
            sent = [(one.body.get("text", ""), one.at) for one in fakes.telegram.sent]
            refused = sum(1 for call in fakes.telegram.calls if call.status != 200)
        return JSONResponse({"sent": sent, "refused": refused})

    app = Starlette(routes=[Route("/_bench/webhook/{token}", webhook), Route("/_bench/arrivals", arrivals),
                            Mount("/", fake_apis(fakes))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the bot's webhook receiver ------------------------------------------------------------------------------

class Receiver:
    """A minimal HTTP server on asyncio streams: the time each event arrived, by type and message id."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.texts: dict[str, float] = {}  # a user message's text -> when its conversation:message arrived
        self.conversations: set[str] = set()  # those of the people's first messages ("hello …")
        self.port = 0

    async def start(self) -> None:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length))
                now = time.perf_counter()
                for event in body.get("events", []):
                    message = event["payload"].get("message", {})
                    self.arrived.setdefault((event["type"], message.get("id", "")), now)
                    if event["type"] == "conversation:message" and message.get("author", {}).get("type") == "user":
                        text = message["content"].get("text", "")
                        self.texts.setdefault(text, now)
                        if text.startswith("hello "):
                            self.conversations.add(event["payload"]["conversation"]["id"])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


# --- a run ----------------------------------------------------------------------------------------------------

async def setup(http: Http, receiver: Receiver, fake_port: int, persons: int) -> tuple[str, str, list[str], list[str]]:
    """An app with the bot's webhook and a Telegram integration; `persons` people who wrote on Telegram, and as
    many users made through the API, each with a conversation: (app, integration, channel and API conversations)."""
    app_id = (await http.json("POST", "/v2/apps", {"displayName": "channels bench"}, expect=201))["app"]["id"]
    hook = {"target": f"http://127.0.0.1:{receiver.port}/hook",
            "triggers": ["conversation:message", "conversation:message:delivery:channel"]}
    await http.json("POST", f"/v2/apps/{app_id}/integrations", {"type": "custom", "displayName": "bot",
                                                                "webhooks": [hook]}, expect=201)
    integration = (await http.json("POST", f"/v2/apps/{app_id}/integrations", {"type": "telegram", "token": TOKEN},
                                   expect=201))["integration"]["id"]
    fake = await Http(fake_port, "").open()
    hooked = await fake.json("GET", f"/_bench/webhook/{TOKEN}")
    fake.close()
    inbound = Inbound(hooked["url"], hooked["secret_token"])
    for n in range(persons):
        await inbound.post(1000 + n, f"hello {n}")
    deadline = time.monotonic() + 60
    while len([t for t in receiver.texts if t.startswith("hello ")]) < persons and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    channel = sorted(receiver.conversations)
    assert len(channel) == persons, f"{len(channel)} conversations of {persons} people"
    api = []
    for n in range(persons):
        user = (await http.json("POST", f"/v2/apps/{app_id}/users", {"externalId": f"api-{n}"}, expect=201))["user"]
        api.append((await http.json("POST", f"/v2/apps/{app_id}/conversations", {
            "type": "personal", "participants": [{"userId": user["id"]}]}, expect=201))["conversation"]["id"])
    return app_id, integration, channel, api


class Inbound:
    """Telegram's side: updates signed with the webhook's secret token, POSTed on keep-alive connections."""

    def __init__(self, url: str, secret: str) -> None:
        rest = url.split("://", 1)[1]
        host, _, path = rest.partition("/")
        self.port, self.path, self.secret = int(host.split(":")[1]), "/" + path, secret
        self.update_id = 0
        self._pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, person: int, text: str) -> int:
        self.update_id += 1
        update = {"update_id": self.update_id, "message": {
            "message_id": self.update_id, "date": int(time.time()), "text": text,
            "from": {"id": person, "is_bot": False, "first_name": f"P{person}"},
            "chat": {"id": person, "type": "private"}}}
        body = json.dumps(update).encode()
        head = (f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-Telegram-Bot-Api-Secret-Token: {self.secret}\r\nContent-Length: {len(body)}\r\n\r\n")
        reader, writer = self._pool.pop() if self._pool else await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(head.encode() + body)
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        self._pool.append((reader, writer))
        return status


async def closed_loop(port: int, auth: str, app_id: str, conversations: list[str], seconds: float,
                      concurrency: int, tag: str) -> dict[str, float]:
    """Business messages as fast as `concurrency` clients go; each text `<tag><n>` -> when its 201 came."""
    done: dict[str, float] = {}
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def client(k: int) -> None:
        http = await Http(port, auth).open()
        try:
            while time.perf_counter() < deadline:
                n = next(counter)
                text = f"{tag}{n}"
                conversation = conversations[(k + n) % len(conversations)]
                await http.json("POST", f"/v2/apps/{app_id}/conversations/{conversation}/messages", {
                    "author": {"type": "business"}, "content": {"type": "text", "text": text}}, expect=201)
                done[text] = time.perf_counter()
        finally:
            http.close()

    await asyncio.gather(*(client(k) for k in range(concurrency)))
    return done


async def run(engine: str, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    key = (f"act_{secrets.token_hex(12)}", secrets.token_urlsafe(24))
    fake_port, port = free_port(), free_port()
    fake = await asyncio.create_subprocess_exec(sys.executable, __file__, "fake", "--port", str(fake_port))
    receiver = Receiver()
    await receiver.start()
    with tempfile.TemporaryDirectory() as data:
        server = spawn(database_url=database_url, data_dir=Path(data), key=key, port=port,
                       env={"HELIOGRAPH_CHANNEL_BASE_URL_TELEGRAM": f"http://127.0.0.1:{fake_port}/telegram",
                            "HELIOGRAPH_PUBLIC_URL": f"http://127.0.0.1:{port}"})
        try:
            wait_healthy(server, port)
            await _wait_port(fake_port)
            http = await Http(port, basic_auth(key)).open()
            app_id, _integration, channel, api = await setup(http, receiver, fake_port, args.persons)
            http.close()
            report: dict[str, Any] = {}
            reference = await closed_loop(port, basic_auth(key), app_id, api, args.seconds, args.concurrency, "r")
            with_channel = await closed_loop(port, basic_auth(key), app_id, channel, args.seconds,
                                             args.concurrency, "c")
            arrivals = await _arrivals(fake_port, len(with_channel), wait=60)
            report["postmessage_per_s"] = {"reference": len(reference) / args.seconds,
                                           "with_channel": len(with_channel) / args.seconds}
            report["ratio"] = report["postmessage_per_s"]["with_channel"] / report["postmessage_per_s"]["reference"]
            sent_at = {text: at for text, at in arrivals["sent"] if text in with_channel}
            report["sends"] = {"posted": len(with_channel), "arrived": len(sent_at), "refused": arrivals["refused"]}
            report["sends_per_s"] = _rate(sorted(sent_at.values()))
            report["lag_201_to_channel_ms"] = percentiles(
                [max(0.0, at - with_channel[text] + arrivals["offset"]) for text, at in sent_at.items()])
            report["inbound"] = await _inbound(receiver, fake_port, args)
            return report
        finally:
            stop(server)
            fake.terminate()
            await fake.wait()


def _rate(times: list[float]) -> float:
    """Events per second over the span they arrived in (the middle 90%, so the ramps do not count)."""
    if len(times) < 20:
        return 0.0
    low, high = times[len(times) // 20], times[-len(times) // 20 - 1]
    return (len(times) * 0.9) / max(high - low, 1e-6)


async def _arrivals(fake_port: int, expected: int, wait: float) -> dict[str, Any]:
    """The fake's record of what arrived, once `expected` messages did (or `wait` seconds passed), with the
    offset between the fake's clock (time.time) and this process's perf_counter."""
    deadline = time.monotonic() + wait
    fake = await Http(fake_port, "").open()
    try:
        while True:
            found = await fake.json("GET", "/_bench/arrivals")
            if len([1 for text, _ in found["sent"] if text.startswith("c")]) >= expected or time.monotonic() > deadline:
                found["offset"] = time.perf_counter() - time.time()
                return found
            await asyncio.sleep(0.2)
    finally:
        fake.close()


async def _inbound(receiver: Receiver, fake_port: int, args: argparse.Namespace) -> dict[str, Any]:
    fake = await Http(fake_port, "").open()
    hooked = await fake.json("GET", f"/_bench/webhook/{TOKEN}")
    fake.close()
    senders = [Inbound(hooked["url"], hooked["secret_token"]) for _ in range(16)]
    for n, sender in enumerate(senders):
        sender.update_id = 10**6 * (n + 1)
    started: dict[str, float] = {}
    tasks = []
    interval, total = 1 / args.rate, int(args.rate * args.seconds)
    begin = time.perf_counter()
    for n in range(total):
        await asyncio.sleep(max(0.0, begin + n * interval - time.perf_counter()))
        text = f"in{n}"
        started[text] = time.perf_counter()
        tasks.append(asyncio.create_task(senders[n % len(senders)].post(2000 + n % 50, text)))
    statuses = await asyncio.gather(*tasks)
    deadline = time.monotonic() + 30
    while len([t for t in started if t in receiver.texts]) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    latencies = [receiver.texts[text] - at for text, at in started.items() if text in receiver.texts]
    return {"posted": total, "answered_200": statuses.count(200), "arrived": len(latencies),
            "to_bot_ms": percentiles(latencies) if len(latencies) > 1 else {}}


async def _wait_port(port: int) -> None:
    for _ in range(500):
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.02)
    raise TimeoutError(f"nothing listens on {port}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "fake":
        serve_fake(int(sys.argv[sys.argv.index("--port") + 1]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--persons", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rate", type=float, default=200, help="inbound updates per second")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as data:
                report = asyncio.run(run(engine, f"sqlite+aiosqlite:///{data}/bench.sqlite3", args))
        else:
            with throwaway_postgres("bench_channels_") as url:
                report = asyncio.run(run(engine, url, args))
        print(f"{engine}: {json.dumps(report, indent=2)}", flush=True)


if __name__ == "__main__":
    main()
