"""PostMessage throughput, latency and webhook lag, against the bare-Starlette reference, in one run.

    .venv/bin/python bench/throughput.py [--engines sqlite,postgresql] [--concurrency 32] [--seconds 8]
        [--rounds 2] [--rate 200] [--rate-seconds 10] [--batch 1,250]

For each engine, each round, on a fresh database each time (Heliograph once per `--batch` value,
HELIOGRAPH_WEBHOOK_BATCH: 1 is the default, one event per webhook POST; 250 batches as far as it goes):
1. the reference (bench/reference_app.py: the same two inserts, message and outbox row, in one
   transaction, on a bare Starlette route), under closed-loop load;
2. `heliograph serve`, with one custom integration whose webhook subscribes to
   `conversation:message` and delivers to a receiver in this process, under the same load. Every
   201 is checked; after the load, the run waits until every message's event has arrived, and
   reports the lag from each 201 to its event's first delivery and how long the backlog took to
   drain (zero when the dispatcher keeps up);
3. Heliograph again, open loop at `--rate` messages/s: latency percentiles measured from each
   request's scheduled start (so a stall counts against every request it delays), and the lag.
The load generator (this process) and the servers share the machine's cores; the ratio of
Heliograph to the reference, measured back to back, is the figure that means something.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httptools
from harness import PG_ADMIN, Http, basic_auth, cpu_ns, free_port, pg_admin, spawn, stop, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
BODY = {"author": {"type": "business"}, "content": {"type": "text", "text": "Hello from the bench"}}


OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


class _Hook(asyncio.Protocol):
    """One connection to the receiver: httptools parses each POST, answered 200 as soon as it is read."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver, self.parser, self.body = receiver, httptools.HttpRequestParser(self), bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.receiver.arrived(bytes(self.body))
        self.body.clear()
        self.transport.write(OK)


@dataclass
class Receiver:
    """A minimal HTTP/1.1 webhook receiver: notes when each message's event first arrives.

    It stands in for a bot on another machine but shares this one's cores, so it is kept lean (a
    Protocol and httptools, as uvicorn parses): every POST it takes costs CPU the servers lack.
    """

    arrivals: dict[str, float] = field(default_factory=dict)
    posts: int = 0

    async def start(self) -> int:
        self.server = await asyncio.get_running_loop().create_server(lambda: _Hook(self), "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def arrived(self, body: bytes) -> None:
        now = time.perf_counter()
        self.posts += 1
        for event in json.loads(body)["events"]:
            self.arrivals.setdefault(event["payload"]["message"]["id"], now)


class Target:
    """A server process on a fresh database: the reference or Heliograph."""

    def __init__(self, kind: str, engine: str, workdir: Path, *, worker: bool = False,
                 env: dict[str, str] | None = None) -> None:
        self.kind, self.engine = kind, engine
        self.worker: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.pg_name = f"bench_{kind}_{secrets.token_hex(4)}" if engine == "postgresql" else None
        self.key = ("act_" + secrets.token_hex(12), secrets.token_urlsafe(24))
        data = workdir / f"{kind}-{secrets.token_hex(4)}"
        data.mkdir()
        if self.pg_name:
            asyncio.run(pg_admin(f'CREATE DATABASE "{self.pg_name}"'))
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.pg_name
        else:
            url = f"sqlite:///{data / 'bench.sqlite3'}"
        if kind == "reference":
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "reference_app.py"), "--port", str(self.port),
                 "--database", url], stdout=subprocess.DEVNULL)
        else:
            url = url.replace("sqlite:", "sqlite+aiosqlite:").replace("postgresql:", "postgresql+asyncpg:")
            settings = {**(env or {}), **({"HELIOGRAPH_DISPATCHER": "off"} if worker else {})}
            self.process = spawn(database_url=url, data_dir=data, key=self.key, port=self.port, env=settings)
        wait_healthy(self.process, self.port, interval=0.05)
        if worker:  # `heliograph worker` beside it, started once the server has migrated the database
            variables = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
            variables.update(HELIOGRAPH_DATABASE_URL=url, HELIOGRAPH_DATA_DIR=str(data), **(env or {}))
            self.worker = subprocess.Popen([sys.executable, "-m", "heliograph.cli", "worker"], env=variables,
                                           stdout=subprocess.DEVNULL)

    def cpu_seconds(self) -> float:
        """The server's CPU time so far (every thread; with its worker process, if it has one)."""
        return sum(cpu_ns(p.pid) for p in (self.process, self.worker) if p is not None) / 1e9

    def connection(self) -> Http:
        return Http(self.port, basic_auth(self.key))

    def stop(self) -> None:
        if self.worker is not None:
            stop(self.worker)
        stop(self.process)
        if self.pg_name:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))


def _postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process (backends, WAL writer, ...), to show the database's share."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += cpu_ns(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total / 1e9


async def setup_heliograph(target: Target, receiver_port: int, conversations: int) -> tuple[str, list[str]]:
    """An app whose custom integration's webhook listens for conversation:message, and conversations."""
    setup = await target.connection().open()
    app_id = (await setup.json("POST", "/v2/apps", {"displayName": "bench"}, expect=201))["app"]["id"]
    await setup.json("POST", f"/v2/apps/{app_id}/integrations", {"type": "custom", "webhooks": [
        {"target": f"http://127.0.0.1:{receiver_port}/hook", "triggers": ["conversation:message"]}]}, expect=201)
    ids = []
    for n in range(conversations):
        user = await setup.json("POST", f"/v2/apps/{app_id}/users", {"externalId": f"bench-{n}"}, expect=201)
        conversation = await setup.json("POST", f"/v2/apps/{app_id}/conversations", {
            "type": "personal", "participants": [{"userId": user["user"]["id"]}]}, expect=201)
        ids.append(conversation["conversation"]["id"])
    setup.close()
    return app_id, ids


async def closed_loop(target: Target, app_id: str, conversations: list[str], seconds: float,
                      sent: dict[str, float]) -> tuple[float, list[float]]:
    """Each connection posts into its own conversation as fast as replies come; messages/s and latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(conversation_id: str) -> None:
        conn = await target.connection().open()
        path = f"/v2/apps/{app_id}/conversations/{conversation_id}/messages"
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            reply = await conn.json("POST", path, BODY, expect=201)
            done = time.perf_counter()
            latencies.append(done - started)
            sent[reply["messages"][0]["id"]] = done
        conn.close()

    started, cpu, pg = time.perf_counter(), target.cpu_seconds(), _postgres_cpu_seconds()
    own = time.process_time()
    await asyncio.gather(*(worker(c) for c in conversations))
    elapsed, cpu, pg = time.perf_counter() - started, target.cpu_seconds() - cpu, _postgres_cpu_seconds() - pg
    n = len(latencies) / 1000
    database = f"PostgreSQL {pg / n:.2f} ms, " if target.engine == "postgresql" else ""
    print(f"  {target.kind}: {len(latencies)} messages; CPU per message: server {cpu / n:.2f} ms "
          f"({cpu / elapsed:.0%} of a core), {database}load generator {(time.process_time() - own) / n:.2f} ms",
          flush=True)
    return len(latencies) / elapsed, latencies


async def open_loop(target: Target, app_id: str, conversations: list[str], rate: float, seconds: float,
                    sent: dict[str, float]) -> list[float]:
    """Requests started on a fixed schedule; each latency counts from its scheduled start."""
    idle: asyncio.Queue[Http] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(await target.connection().open())
    latencies: list[float] = []

    async def one(n: int, scheduled: float) -> None:
        conn = await idle.get()
        path = f"/v2/apps/{app_id}/conversations/{conversations[n % len(conversations)]}/messages"
        reply = await conn.json("POST", path, BODY, expect=201)
        done = time.perf_counter()
        latencies.append(done - scheduled)
        sent[reply["messages"][0]["id"]] = done
        idle.put_nowait(conn)

    tasks = []
    start = time.perf_counter() + 0.1
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n, scheduled)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()
    return latencies


async def drained(receiver: Receiver, sent: dict[str, float], timeout: float = 120) -> float:
    """Seconds from now until every sent message's event has arrived."""
    started = time.perf_counter()
    while any(m not in receiver.arrivals for m in sent):
        if time.perf_counter() - started > timeout:
            missing = sum(m not in receiver.arrivals for m in sent)
            raise RuntimeError(f"{missing} of {len(sent)} events did not arrive within {timeout} s")
        await asyncio.sleep(0.01)
    return max(receiver.arrivals[m] for m in sent) - started if sent else 0.0


def pct(values: list[float], *points: int) -> str:
    q = statistics.quantiles(values, n=100)
    return ", ".join(f"p{p} {q[p - 1] * 1000:.1f} ms" for p in points)


def lags(receiver: Receiver, sent: dict[str, float]) -> list[float]:
    return [receiver.arrivals[m] - t for m, t in sent.items()]


async def run_heliograph(target: Target, args: argparse.Namespace) -> dict[str, object]:
    receiver = Receiver()
    port = await receiver.start()
    app_id, conversations = await setup_heliograph(target, port, args.concurrency)
    sent: dict[str, float] = {}
    rate, latencies = await closed_loop(target, app_id, conversations, args.seconds, sent)
    cpu = target.cpu_seconds()
    backlog = await drained(receiver, sent)
    if backlog:
        print(f"  drain: server CPU {(target.cpu_seconds() - cpu) * 1000:.0f} ms for the backlog", flush=True)
    result: dict[str, object] = {"rate": rate, "latency": pct(latencies, 50, 99), "messages": len(sent),
                                 "lag": pct(lags(receiver, sent), 50, 95, 99), "drain_s": round(backlog, 3),
                                 "events_per_post": round(len(sent) / max(receiver.posts, 1), 1)}
    if args.rate:
        sent = {}
        latencies = await open_loop(target, app_id, conversations, args.rate, args.rate_seconds, sent)
        await drained(receiver, sent)
        result["open_loop"] = f"{len(latencies)} at {args.rate:.0f}/s: {pct(latencies, 50, 99)}"
        result["open_loop_lag"] = pct(lags(receiver, sent), 50, 95, 99)
    receiver.server.close()
    return result


async def run_reference(target: Target, args: argparse.Namespace) -> float:
    conversations = [f"{n:024x}" for n in range(args.concurrency)]
    rate, _ = await closed_loop(target, "0" * 24, conversations, args.seconds, {})
    if args.rate:  # the same open loop, as a control for the load generator's own pacing and delays
        latencies = await open_loop(target, "0" * 24, conversations, args.rate, args.rate_seconds, {})
        print(f"  reference open loop: {len(latencies)} at {args.rate:.0f}/s: {pct(latencies, 50, 99)}", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200, help="open-loop rate; 0 to skip")
    parser.add_argument("--rate-seconds", type=float, default=10)
    parser.add_argument("--batch", default="1,250",
                        help="HELIOGRAPH_WEBHOOK_BATCH values, each run back to back in every round (1: the default)")
    parser.add_argument("--worker", action="store_true",
                        help="PostgreSQL: deliver from a `heliograph worker` process, not inside `serve`")
    parser.add_argument("--port", type=int, help="load a running Heliograph (to profile it) instead")
    parser.add_argument("--key", nargs=2, metavar=("ID", "SECRET"), help="its account key, with --port")
    args = parser.parse_args()
    if args.port:
        running = Target.__new__(Target)
        running.port, running.key, running.kind, running.engine = args.port, tuple(args.key), "heliograph", "?"
        running.worker = None
        running.process = subprocess.Popen(["true"])  # stands in for the running server: only its pid is read
        running.process.pid = int(subprocess.check_output(["pgrep", "-f", f"serve --port {args.port}"]).split()[0])
        print(asyncio.run(run_heliograph(running, args)))
        return
    with tempfile.TemporaryDirectory(prefix="heliograph-bench-") as workdir:
        for engine in args.engines.split(","):
            for round_ in range(1, args.rounds + 1):
                reference = Target("reference", engine, Path(workdir))
                try:
                    ref_rate = asyncio.run(run_reference(reference, args))
                finally:
                    reference.stop()
                rates: dict[str, float] = {}
                for batch in args.batch.split(","):
                    heliograph = Target("heliograph", engine, Path(workdir), env={"HELIOGRAPH_WEBHOOK_BATCH": batch},
                                        worker=args.worker and engine == "postgresql")
                    try:
                        result = asyncio.run(run_heliograph(heliograph, args))
                    finally:
                        heliograph.stop()
                    rate = rates[batch] = float(result.pop("rate"))  # type: ignore[arg-type]
                    print(f"{engine} round {round_}, HELIOGRAPH_WEBHOOK_BATCH={batch}: reference {ref_rate:.0f} msg/s, "
                          f"heliograph {rate:.0f} msg/s = {rate / ref_rate:.2f}x; {result}", flush=True)
                if len(rates) > 1:
                    first, *others = rates
                    ratios = [f"batch {first} / batch {other} = {rates[first] / rates[other]:.2f}" for other in others]
                    print(f"{engine} round {round_}: {', '.join(ratios)}", flush=True)


if __name__ == "__main__":
    main()
