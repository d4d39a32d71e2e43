"""End users' sockets under PostMessage load (issue 11 §5): delivery latency, memory per socket, throughput.

    .venv/bin/python bench/sockets.py [--engines sqlite,postgresql] [--sockets 10000] [--processes 1|2]
        [--rate 200] [--seconds 20] [--clients 4] [--rounds 2] [--throughput-seconds 8] [--through-api 200]
        [--no-deflate] [--client-nice 10] [--client lean|websockets]
        [--throughput-to holder|poster] [--throughput-into sockets|others] [--pin] [--keep]

For each engine, on a fresh database, it starts `heliograph serve` (with `--processes 2`, PostgreSQL
only: a second one on the same database, which holds the sockets; the first takes the API's load),
then:
1. sets up an app and a `web` integration through the API, and `--sockets` anonymous users each with
   a conversation: `--through-api` of them through the SDK API (POST /sdk/v2/apps/{appId}/appusers,
   then POST …/appusers/{userId}/conversations, 16 at a time; about 40 ms a user on this machine), the
   others as copies of those users' rows with new ids and session tokens, written straight into the
   database (seed());
2. reads the socket server's VmRSS, opens one stream per user (docs/end-users.md §4: subprotocols
   `heliograph.v1` and `auth.<base64url(userId:sessionToken)>`, the `web` origin) from `--clients`
   processes (asyncio; with `--client lean`, the default, the handshake written by hand and one
   asyncio.Protocol a socket that parses frames as they come, with `--client websockets` the
   `websockets` library's client, a task a socket; offering permessage-deflate as browsers do unless
   `--no-deflate`; at niceness `--client-nice`, below the server's, as they stand in for browsers on
   other machines: at its priority, on two cores, their wake-ups preempt the server they measure, and
   the lean client takes a third of the library's CPU a frame),
   waits for every `ready`, reads the server's CPU over `--idle-seconds` (heartbeats)
   and VmRSS again: memory per socket is the difference over the sockets still open then;
3. posts business messages (PostMessage with the account key) open loop at `--rate` messages/s into
   the conversations of the open sockets, shuffled, to the sockets' own server (and then, with two
   processes, to the other one), and matches each socket's `message` frame to its 201 by message id:
   the latency runs from the 201's arrival to the frame's, both read from CLOCK_MONOTONIC
   (`time.perf_counter`, one clock for every process on Linux). Every message must reach its socket
   once: missing and repeated ones are counted;
4. closed-loop PostMessage throughput (bench/throughput.py's loop: `--concurrency` connections, each
   posting into its own conversation as fast as its 201s come), to the sockets' server (or, with
   `--throughput-to poster`, to the other one), with the sockets connected and then closed,
   `--rounds` times (with, without, with, without …), each loop once the servers have quieted down
   after the sockets' opening or closing: the ratio of each pair, with the clients' CPU a message. With
   `--throughput-into others` the loop posts into `--concurrency` users' conversations that hold no
   socket (those users open none), while the other sockets wait. `--pin` puts the servers on CPU 0 and
   everything else on CPU 1.
The open-file limit is raised as far as the hard limit allows; the servers and clients inherit it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgspec
from harness import (
    PG_ADMIN,
    Http,
    basic_auth,
    cpu_ns,
    free_port,
    percentiles,
    pg_admin,
    rss_kb,
    spawn,
    stop,
    wait_healthy,
)
from throughput import closed_loop, open_loop

ORIGIN = "https://shop.example"
PROTOCOL = "heliograph.v1"
NOFILE = 65536


def raise_nofile() -> int:
    """Raise this process's open-file limit (inherited by the servers and clients it starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(NOFILE, soft), max(NOFILE, hard)))
    except (ValueError, PermissionError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Server:
    """One `heliograph serve`, with what bench/throughput.py's loops read of their Target (hence the
    `type: ignore[arg-type]` where it is passed to them)."""

    kind = "heliograph"
    worker = None

    def __init__(self, engine: str, url: str, data: Path, key: tuple[str, str]) -> None:
        self.engine, self.key, self.port = engine, key, free_port()
        log = data / "server.log"
        self.process = spawn(database_url=url, data_dir=data, key=key, port=self.port, log=log)
        try:
            wait_healthy(self.process, self.port, interval=0.05)
        except RuntimeError:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise

    def cpu_seconds(self) -> float:
        return cpu_ns(self.process.pid) / 1e9

    def rss_kb(self) -> int:
        return rss_kb(self.process.pid)

    def connection(self) -> Http:
        return Http(self.port, basic_auth(self.key))


class Deployment:
    """The servers of one engine, on a fresh database: one, or two on the same PostgreSQL database."""

    def __init__(self, engine: str, processes: int, workdir: Path) -> None:
        self.pg_name = f"bench_sockets_{secrets.token_hex(4)}" if engine == "postgresql" else None
        data = workdir / f"{engine}-{secrets.token_hex(4)}"
        data.mkdir()
        if self.pg_name:
            asyncio.run(pg_admin(f'CREATE DATABASE "{self.pg_name}"'))
            url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql:", "postgresql+asyncpg:") + "/" + self.pg_name
        else:
            url = f"sqlite+aiosqlite:///{data / 'bench.sqlite3'}"
        key = ("act_" + secrets.token_hex(12), secrets.token_urlsafe(24))
        self.url = url
        self.servers: list[Server] = []
        try:
            for n in range(processes):  # one after the other: the first migrates the database
                (data / str(n)).mkdir()
                self.servers.append(Server(engine, url, data / str(n), key))
        except BaseException:
            self.stop()
            raise

    @property
    def poster(self) -> Server:
        return self.servers[0]

    @property
    def holder(self) -> Server:
        """The server the sockets connect to (the other one, with two)."""
        return self.servers[-1]

    def stop(self) -> None:
        for server in self.servers:
            stop(server.process)
        if self.pg_name:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))


# --- set-up through the API --------------------------------------------------------------------------

User = tuple[str, str, str]  # user id, session token, conversation id


async def set_up(server: Server, sockets: int, through_api: int) -> tuple[str, list[User]]:
    """An app, its `web` integration, and `sockets` anonymous users each with a conversation (at most
    `through_api` of them through the API: the bench seeds the others, see seed())."""
    setup = await server.connection().open()
    app_id = (await setup.json("POST", "/v2/apps", {"displayName": "bench"}, expect=201))["app"]["id"]
    integration = await setup.json("POST", f"/v2/apps/{app_id}/integrations", {
        "type": "web", "displayName": "shop", "originWhitelist": [ORIGIN]}, expect=201)
    setup.close()
    integration_id = integration["integration"]["id"]
    users: list[User] = []

    async def sign_up(count: int) -> None:
        conn = await server.connection().open()
        for _ in range(count):
            created = await conn.json("POST", f"/sdk/v2/apps/{app_id}/appusers", {"integrationId": integration_id},
                                      expect=201)
            user_id, token = created["user"]["id"], created["sessionToken"]
            conn.auth = basic_auth((user_id, token))
            started = await conn.json("POST", f"/sdk/v2/apps/{app_id}/appusers/{user_id}/conversations", {},
                                      expect=201)
            conn.auth = basic_auth(server.key)
            users.append((user_id, token, started["conversation"]["id"]))
        conn.close()

    made = min(sockets, through_api)
    await asyncio.gather(*(sign_up(made // 16 + (n < made % 16)) for n in range(16)))
    return app_id, users


# What the two requests write: each table, the column that ties its rows to the user or their conversation,
# and which of the two it holds (its place in User).
SEEDED = {"users": ("id", 0), "clients": ("user_id", 0), "sdk_sessions": ("user_id", 0), "conversations": ("id", 2),
          "participants": ("conversation_id", 2)}


async def seed(url: str, templates: list[User], count: int) -> list[User]:
    """`count` more users, each a copy of a template user's rows (SEEDED) with new ids and a new session
    token, written straight into the database: the SDK sign-up takes about 40 ms a user here."""
    db = await Direct.open(url)
    try:
        rows = {table: await db.select(table, column, [user[place] for user in templates])
                for table, (column, place) in SEEDED.items()}
        users: list[User] = []
        copies: dict[str, list[dict[str, Any]]] = {table: [] for table in SEEDED}
        for n in range(count):
            template = templates[n % len(templates)]
            token = secrets.token_urlsafe(32)
            renamed = {old: secrets.token_hex(12) for old in _ids_of(rows, template)}
            for table in SEEDED:
                copies[table] += _rows_of(rows[table], renamed, token_hash=hashlib.sha256(token.encode()).hexdigest())
            users.append((renamed[template[0]], token, renamed[template[2]]))
        for table, found in copies.items():
            await db.insert(table, found)
        return users
    finally:
        await db.close()


class Direct:
    """A plain driver connection to the bench's database (sqlite3, or asyncpg), for seed()."""

    sqlite: bool
    db: Any

    @classmethod
    async def open(cls, url: str) -> Direct:
        direct = cls()
        direct.sqlite = url.startswith("sqlite")
        if direct.sqlite:
            import sqlite3
            direct.db = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            direct.db.row_factory = sqlite3.Row
        else:
            import asyncpg
            direct.db = await asyncpg.connect(url.replace("+asyncpg", ""))
        return direct

    async def select(self, table: str, column: str, values: list[str]) -> list[dict[str, Any]]:
        marks = ", ".join("?" if self.sqlite else f"${n + 1}" for n in range(len(values)))
        sql = f"SELECT * FROM {table} WHERE {column} IN ({marks})"
        found = self.db.execute(sql, values).fetchall() if self.sqlite else await self.db.fetch(sql, *values)
        return [dict(row) for row in found]

    async def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        values = [tuple(row[c] for c in columns) for row in rows]
        if self.sqlite:
            self.db.execute("BEGIN")
            self.db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                f"({', '.join('?' * len(columns))})", values)
            self.db.execute("COMMIT")
        else:
            await self.db.copy_records_to_table(table, records=values, columns=columns)
            await self.db.execute(f"ANALYZE {table}")

    async def close(self) -> None:
        if self.sqlite:
            self.db.close()
        else:
            await self.db.close()


def _ids_of(rows: dict[str, list[dict[str, Any]]], template: User) -> set[str]:
    """The ids of a template user's rows: its user, client, session, conversation and participant."""
    user_id, _, conversation_id = template
    return {row["id"] for table, found in rows.items() for row in found
            if row["id"] in (user_id, conversation_id) or row.get("user_id") == user_id}


def _rows_of(rows: list[dict[str, Any]], renamed: dict[str, str], *, token_hash: str) -> list[dict[str, Any]]:
    """The rows that belong to the renamed ids, with every id in them (also inside JSON text) renamed, and
    a session's token hash replaced."""
    copies = []
    for row in rows:
        if row["id"] not in renamed:
            continue
        copy = {}
        for column, value in row.items():
            if isinstance(value, str):
                for old, new in renamed.items():
                    value = value.replace(old, new)
            copy[column] = value
        if "token_hash" in copy:
            copy["token_hash"] = token_hash
        copies.append(copy)
    return copies


# --- the client processes: each holds its share of the sockets -------------------------------------------

def client_main(pipe: Connection, port: int, app_id: str, users: list[User], deflate: bool, nice: int,
                kind: str) -> None:
    os.nice(nice)
    asyncio.run((LeanClient if kind == "lean" else Client)(port, app_id, users, deflate).serve(pipe))


class Client:
    """Sockets of some users, opened and closed on the bench's command; notes when each message arrives."""

    def __init__(self, port: int, app_id: str, users: list[User], deflate: bool) -> None:
        self.port, self.app_id, self.users, self.deflate = port, app_id, users, deflate
        self.sockets: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []
        self.open_conversations: list[str] = []
        self.arrivals: dict[str, float] = {}
        self.repeated = 0

    async def serve(self, pipe: Connection) -> None:
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, pipe.recv)) != "stop":
            if command == "open":
                started, cpu = time.perf_counter(), time.process_time()
                failures = await self.open_all()
                pipe.send({"opened": self.open_conversations, "failures": failures,
                           "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu})
            elif command == "close":
                await self.close_all()
                pipe.send({"closed": True})
            elif command == "alive":
                pipe.send({"alive": self.alive()})
            elif command == "arrivals":
                arrivals, self.arrivals = self.arrivals, {}
                pipe.send({"arrivals": arrivals, "repeated": self.repeated})
                self.repeated = 0

    def alive(self) -> int:
        """Sockets still open (a reader ends when its socket closes)."""
        return sum(not reader.done() for reader in self.readers)

    async def open_all(self) -> list[str]:
        gate, failures = asyncio.Semaphore(32), []

        async def one(user: User) -> None:
            user_id, token, conversation_id = user
            pair = base64.urlsafe_b64encode(f"{user_id}:{token}".encode()).rstrip(b"=").decode()
            async with gate:
                try:
                    socket = await self.connect(f"/sdk/v2/apps/{self.app_id}/appusers/{user_id}/stream", pair)
                except Exception as error:  # noqa: BLE001 (counted and reported, not fatal)
                    failures.append(f"{type(error).__name__}: {error}")
                    return
            self.sockets.append(socket)
            self.open_conversations.append(conversation_id)

        await asyncio.gather(*(one(user) for user in self.users))
        return failures[:5] + ([f"... {len(failures)} in all"] if len(failures) > 5 else [])

    async def connect(self, path: str, pair: str) -> Any:
        """One stream, open once its `ready` came (read here: `read` notes the frames after it)."""
        from websockets.asyncio.client import connect
        from websockets.typing import Origin, Subprotocol

        socket = await connect(f"ws://127.0.0.1:{self.port}{path}", origin=Origin(ORIGIN),
                               subprotocols=[Subprotocol(PROTOCOL), Subprotocol(f"auth.{pair}")],
                               compression="deflate" if self.deflate else None,
                               ping_interval=None, open_timeout=120, max_queue=None, proxy=None)
        try:
            ready = json.loads(await asyncio.wait_for(socket.recv(), 120))
            assert ready["type"] == "ready", ready
        except BaseException:
            await socket.close()  # not counted as open: the server must not hold it either
            raise
        self.readers.append(asyncio.create_task(self.read(socket)))
        return socket

    async def read(self, socket: Any) -> None:
        """Note each message frame's arrival: the clock first, then the parsing."""
        try:
            async for raw in socket:
                now = time.perf_counter()
                self.arrived(json.loads(raw), now)
        except Exception:  # noqa: BLE001,S110 (a socket closed by the bench or the server ends its reader)
            pass

    async def close_all(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(socket.close() for socket in self.sockets), return_exceptions=True)
        self.sockets, self.readers, self.open_conversations = [], [], []

    def arrived(self, frame: dict[str, Any], now: float) -> None:
        if frame["type"] == "message":
            message_id = frame["message"]["id"]
            if message_id in self.arrivals:
                self.repeated += 1
            self.arrivals.setdefault(message_id, now)


WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
DEFLATE = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"  # offered as browsers do


class LeanClient(Client):
    """The same sockets, spoken to with as little work on this machine as RFC 6455 allows (`--client lean`):
    the handshake written by hand, then one asyncio.Protocol a socket that parses the server's frames (never
    masked, never fragmented by this server) in its `data_received`, with no task, queue or wake-up per frame;
    a `message` frame's JSON is decoded with msgspec to note its id. The clients stand in for browsers on other
    machines: what they cost here is taken from the server they measure (docs/performance.md)."""

    async def connect(self, path: str, pair: str) -> Any:
        loop = asyncio.get_running_loop()
        _, socket = await loop.create_connection(lambda: LeanSocket(self, path, pair), "127.0.0.1", self.port)
        try:
            await asyncio.wait_for(socket.ready, 120)
        except BaseException:
            socket.transport.abort()  # not counted as open: the server must not hold it either
            raise
        return socket

    async def close_all(self) -> None:
        for socket in self.sockets:
            socket.close()
        await asyncio.gather(*(socket.lost for socket in self.sockets), return_exceptions=True)
        self.sockets, self.open_conversations = [], []

    def alive(self) -> int:
        return sum(not socket.lost.done() for socket in self.sockets)


class LeanSocket(asyncio.Protocol):
    """One stream: its handshake, then its frames."""

    def __init__(self, client: Client, path: str, pair: str) -> None:
        loop = asyncio.get_running_loop()
        self.client, self.buffer, self.upgraded = client, bytearray(), False
        self.ready: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.key = base64.b64encode(os.urandom(16))
        self.request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key.decode()}\r\n"
                        f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {PROTOCOL}, auth.{pair}\r\n"
                        f"Origin: {ORIGIN}\r\n{DEFLATE if client.deflate else ''}\r\n").encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded and not self.upgrade():
            return
        buffer = self.buffer
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4]), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[2:10]), 10
            if len(buffer) < start + length:
                return
            opcode, payload = buffer[0] & 0x0F, bytes(buffer[start:start + length])
            del buffer[:start + length]
            if opcode == 0x1:
                frame = msgspec.json.decode(payload)
                if frame["type"] == "ready" and not self.ready.done():
                    self.ready.set_result(None)
                self.client.arrived(frame, now)
            elif opcode == 0x8:
                self.transport.close()

    def upgrade(self) -> bool:
        """Whether the server's 101 has come whole (checked: the accept key, no compression); the rest of the
        buffer is frames."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).decode("latin-1").lower()
        del self.buffer[:end + 4]
        accept = base64.b64encode(hashlib.sha1(self.key + WEBSOCKET_GUID).digest()).decode().lower()  # noqa: S324
        problem = (head.splitlines()[0] if head else "no answer") if not head.startswith("http/1.1 101") \
            else "a wrong sec-websocket-accept" if f"sec-websocket-accept: {accept}" not in head \
            else "the server accepted permessage-deflate: --client websockets reads it" \
            if "permessage-deflate" in head else None
        if problem is not None:
            self.ready.set_exception(RuntimeError(problem))
            self.transport.close()
            return False
        self.upgraded = True
        return True

    def close(self) -> None:
        """A close frame (1000), masked as a client's must be, then the connection."""
        if self.transport.is_closing():
            return
        mask, code = os.urandom(4), (1000).to_bytes(2)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(code))
        self.transport.write(bytes([0x88, 0x80 | len(code)]) + mask + masked)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before ready"))
        if not self.lost.done():
            self.lost.set_result(None)


class Clients:
    """The client processes, driven from the bench's process."""

    def __init__(self, count: int, port: int, app_id: str, users: list[User], deflate: bool, nice: int,
                 kind: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for n in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(target=client_main,
                                      args=(theirs, port, app_id, users[n::count], deflate, nice, kind))
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)

    def ask(self, command: str) -> list[dict[str, Any]]:
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def open(self) -> tuple[int, float]:
        """Open every socket; how many opened, and in how many seconds."""
        replies = self.ask("open")
        failures = [f for reply in replies for f in reply["failures"]]
        if failures:
            print(f"  failed to open: {failures}", flush=True)
        self.conversations = [c for reply in replies for c in reply["opened"]]  # those a socket watches
        return len(self.conversations), max(r["seconds"] for r in replies)

    def arrivals(self) -> tuple[dict[str, float], int]:
        arrivals: dict[str, float] = {}
        replies = self.ask("arrivals")
        for reply in replies:
            arrivals.update(reply["arrivals"])
        return arrivals, sum(r["repeated"] for r in replies)

    def cpu_seconds(self) -> float:
        return sum(cpu_ns(process.pid) for process in self.processes if process.pid is not None) / 1e9

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send("stop")
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


# --- the measurements ---------------------------------------------------------------------------------

def ms(values: list[float], *points: int) -> str:
    if len(values) < 2:
        return "n/a"
    q = statistics.quantiles(values, n=100, method="inclusive")
    return " / ".join(f"p{p} {q[p - 1] * 1000:.1f}" for p in points) + f" / max {max(values) * 1000:.1f} ms"


def collect(clients: Clients, sent: dict[str, float], timeout: float = 30.0) -> tuple[list[float], int, int]:
    """Wait for every sent message's frame (up to `timeout` s); the latencies from each 201, how many
    never arrived, and how many arrived twice."""
    arrivals: dict[str, float] = {}
    deadline, repeated = time.perf_counter() + timeout, 0
    while True:
        more, again = clients.arrivals()
        arrivals.update(more)
        repeated += again
        if all(m in arrivals for m in sent) or time.perf_counter() > deadline:
            break
        time.sleep(0.2)
    latencies = [arrivals[m] - t for m, t in sent.items() if m in arrivals]
    return latencies, sum(m not in arrivals for m in sent), repeated


QUIET = 0.15  # of a core: the servers are quiet below this, read over QUIET_SECONDS
QUIET_SECONDS = 0.5


def quiet_down(servers: list[Server], limit: float = 30.0) -> float:
    """Wait until the servers use under QUIET of a core over QUIET_SECONDS (what opening or closing 10,000
    sockets left them to do is done), at most `limit` seconds; how long it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        cpu = sum(server.cpu_seconds() for server in servers)
        time.sleep(QUIET_SECONDS)
        if sum(server.cpu_seconds() for server in servers) - cpu < QUIET * QUIET_SECONDS:
            break
    else:
        print(f"  (the servers were still busy after {limit:.0f} s: measuring anyway)", flush=True)
    return time.perf_counter() - started


def idle_memory(deployment: Deployment, clients: Clients, sockets: int, settle: float,
                idle_seconds: float) -> dict[str, Any]:
    """Open the sockets; the socket server's VmRSS before and after, and its CPU while they idle."""
    holder = deployment.holder
    time.sleep(1)
    before = holder.rss_kb()
    cpu = holder.cpu_seconds()
    opened, seconds = clients.open()
    opening_cpu = holder.cpu_seconds() - cpu
    time.sleep(settle)
    cpu, started = holder.cpu_seconds(), time.perf_counter()
    time.sleep(idle_seconds)
    idle_cpu = (holder.cpu_seconds() - cpu) / (time.perf_counter() - started)
    after = holder.rss_kb()
    alive = sum(reply["alive"] for reply in clients.ask("alive"))
    per_socket = (after - before) / max(alive, 1)
    print(f"  opened {opened} of {sockets} sockets in {seconds:.1f} s ({opened / seconds:.0f}/s; server CPU "
          f"{opening_cpu / max(opened, 1) * 1000:.2f} ms per socket), {alive} still open after {idle_seconds:.0f} s "
          f"idle; server VmRSS {before / 1024:.1f} -> {after / 1024:.1f} MB = {per_socket:.1f} KB per open socket; "
          f"idle server CPU {idle_cpu:.1%} of a core", flush=True)
    return {"opened": opened, "open_after_idle": alive, "rss_before_mb": round(before / 1024, 1),
            "rss_after_mb": round(after / 1024, 1), "kb_per_socket": round(per_socket, 1),
            "idle_cpu": round(idle_cpu, 3)}


async def post_open_loop(server: Server, app_id: str, conversations: list[str], rate: float,
                         seconds: float) -> tuple[dict[str, float], list[float]]:
    conversations = list(conversations)
    random.shuffle(conversations)
    sent: dict[str, float] = {}
    latencies = await open_loop(server, app_id, conversations, rate, seconds, sent)  # type: ignore[arg-type]
    return sent, latencies


def latency(server: Server, clients: Clients, app_id: str, args: argparse.Namespace) -> dict[str, Any]:
    """Messages posted open loop to `server`: from each 201 to its frame on the user's socket."""
    clients.arrivals()  # forget anything before
    load = os.getloadavg()[0]
    sent, posts = asyncio.run(post_open_loop(server, app_id, clients.conversations, args.rate, args.seconds))
    lags, missing, repeated = collect(clients, sent)
    early = sum(lag < 0 for lag in lags)
    print(f"  open loop {args.rate:.0f}/s for {args.seconds:.0f} s, posted to pid {server.process.pid} (load average "
          f"{load:.1f} -> {os.getloadavg()[0]:.1f}): {len(sent)} messages, PostMessage {ms(posts, 50, 99)}; "
          f"201 -> socket {ms(lags, 50, 95, 99)} ({missing} missing, {repeated} twice, {early} before their 201)",
          flush=True)
    result: dict[str, Any] = {"messages": len(sent), "missing": missing, "repeated": repeated}
    if len(lags) >= 2:  # (none arrived: the missing count says so)
        result.update({f"{key}_ms": round(value, 1) for key, value in percentiles(lags).items() if key != "max"})
    return result


def throughput(deployment: Deployment, clients: Clients, app_id: str, args: argparse.Namespace,
               quiet: list[str]) -> dict[str, Any]:
    """Closed-loop PostMessage with the sockets connected and without, alternating (they start connected):
    into the sockets' conversations, or into the `quiet` ones, which have none."""
    rates: dict[str, list[float]] = {"with": [], "without": []}
    conversations = clients.conversations
    for round_ in range(args.rounds):
        for phase in ("with", "without"):
            if phase == "with" and round_ > 0:
                clients.open()
            clients.arrivals()
            waited = quiet_down(deployment.servers)  # so that neither phase pays for the sockets' coming and going
            sent: dict[str, float] = {}
            chosen = quiet or random.sample(conversations, min(args.concurrency, len(conversations)))
            print(f"  round {round_ + 1}, {phase} sockets (after {waited:.1f} s for the servers to quiet down):",
                  flush=True)
            target = deployment.holder if args.throughput_to == "holder" else deployment.poster
            loop = closed_loop(target, app_id, chosen, args.throughput_seconds, sent)  # type: ignore[arg-type]
            cpu = clients.cpu_seconds()
            rate, _ = asyncio.run(loop)
            cpu = clients.cpu_seconds() - cpu
            rates[phase].append(rate)
            if phase == "with":
                share = f"{cpu / args.throughput_seconds:.0%} of a core"
                if quiet:
                    print(f"    {rate:.0f} msg/s, into conversations without a socket (clients' CPU {share})",
                          flush=True)
                else:
                    lags, missing, repeated = collect(clients, sent)
                    print(f"    {rate:.0f} msg/s; clients' CPU {cpu * 1000 / max(len(sent), 1):.3f} ms per message "
                          f"({share}); 201 -> socket at full throughput {ms(lags, 50, 95, 99)} ({missing} missing, "
                          f"{repeated} twice)", flush=True)
                clients.ask("close")
            else:
                print(f"    {rate:.0f} msg/s", flush=True)
    pairs = [w / wo for w, wo in zip(rates["with"], rates["without"], strict=True)]
    print(f"  throughput with / without sockets: {', '.join(f'{r:.2f}' for r in pairs)} "
          f"(with {[round(r) for r in rates['with']]}, without {[round(r) for r in rates['without']]} msg/s)",
          flush=True)
    return {"with": [round(r) for r in rates["with"]], "without": [round(r) for r in rates["without"]],
            "ratios": [round(r, 2) for r in pairs]}


def pin(deployment: Deployment) -> None:
    """`--pin`: every thread of the servers on CPU 0, this process and the clients it starts on CPU 1 (PostgreSQL's
    own processes are left where the system puts them)."""
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("--pin needs two CPUs")
    for server in deployment.servers:
        for task in Path(f"/proc/{server.process.pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError, FileNotFoundError):  # a thread that just ended
                os.sched_setaffinity(int(task.name), {0})
    os.sched_setaffinity(0, {1})


def run(engine: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    deployment = Deployment(engine, args.processes, workdir)
    clients = None
    try:
        if args.pin:
            pin(deployment)
        started = time.perf_counter()
        app_id, users = asyncio.run(set_up(deployment.poster, args.sockets, args.through_api))
        made = time.perf_counter() - started
        if len(users) < args.sockets:
            users += asyncio.run(seed(deployment.url, users, args.sockets - len(users)))
        pids = ", ".join(str(s.process.pid) for s in deployment.servers)
        print(f"{engine}, {args.processes} process(es) (pid {pids}), {args.sockets} sockets: {args.through_api} users "
              f"with a conversation made through the API in {made:.1f} s, {args.sockets - args.through_api} seeded "
              f"in {time.perf_counter() - started - made:.1f} s", flush=True)
        quiet = users[len(users) - args.concurrency:] if args.throughput_into == "others" else []  # no socket
        holding = users[:len(users) - len(quiet)]
        clients = Clients(args.clients, deployment.holder.port, app_id, holding, not args.no_deflate, args.client_nice,
                          args.client)
        memory = idle_memory(deployment, clients, len(holding), args.settle, args.idle_seconds)
        result: dict[str, Any] = {"memory": memory}
        if args.rate:  # posted to the sockets' own process, then (with two) to the other one
            result["latency"] = latency(deployment.holder, clients, app_id, args)
            if len(deployment.servers) > 1:
                result["latency_across"] = latency(deployment.poster, clients, app_id, args)
        if args.rounds:
            result["throughput"] = throughput(deployment, clients, app_id, args, [user[2] for user in quiet])
        return result
    finally:
        if clients is not None:
            clients.stop()
        deployment.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1,
                        help="2: PostgreSQL only, messages posted to one server, sockets held by the other")
    parser.add_argument("--rate", type=float, default=200, help="open-loop messages/s; 0 to skip")
    parser.add_argument("--seconds", type=float, default=20, help="open-loop duration")
    parser.add_argument("--through-api", type=int, default=200,
                        help="users signed up through the SDK API; the others are copies of them (seed())")
    parser.add_argument("--clients", type=int, default=4, help="client processes holding the sockets")
    parser.add_argument("--settle", type=float, default=3, help="seconds of rest once the sockets are open")
    parser.add_argument("--idle-seconds", type=float, default=30,
                        help="seconds over which the idle server's CPU is read (the stream's heartbeat is 25 s)")
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds (with, without); 0 to skip")
    parser.add_argument("--throughput-seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--throughput-into", choices=("sockets", "others"), default="sockets",
                        help="the closed loop posts into the sockets' conversations (each message is delivered) or "
                             "into --concurrency other users' conversations, which hold no socket (the sockets wait)")
    parser.add_argument("--throughput-to", choices=("holder", "poster"), default="holder",
                        help="the closed loop's server: the one holding the sockets, or (--processes 2) the other")
    parser.add_argument("--no-deflate", action="store_true", help="clients do not offer permessage-deflate")
    parser.add_argument("--client-nice", type=int, default=10,
                        help="niceness of the client processes (0: the server's priority)")
    parser.add_argument("--client", choices=("lean", "websockets"), default="lean",
                        help="how the clients speak WebSocket: lean (the handshake by hand, a Protocol a socket) "
                             "or the websockets library's asyncio client")
    parser.add_argument("--pin", action="store_true",
                        help="the servers on CPU 0, the load generator and the clients on CPU 1 (two CPUs): as if "
                             "they were on other machines, but for the shared cache and memory")
    parser.add_argument("--keep", action="store_true", help="keep the data directories and server logs")
    args = parser.parse_args()
    print(f"open files allowed: {raise_nofile()}", flush=True)
    prefix = "heliograph-sockets-"
    with contextlib.nullcontext(tempfile.mkdtemp(prefix=prefix)) if args.keep else \
            tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        if args.keep:
            print(f"server logs in {workdir}", flush=True)
        for engine in args.engines.split(","):
            if args.processes == 2 and engine != "postgresql":
                print(f"{engine}: skipped, two processes need PostgreSQL (LISTEN/NOTIFY)", flush=True)
                continue
            print(f"{engine}: {json.dumps(run(engine, args, Path(workdir)))}", flush=True)


if __name__ == "__main__":
    main()
