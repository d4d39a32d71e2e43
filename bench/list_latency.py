"""ListMessages and ListConversations latency with 1,000 and with 1,000,000 messages stored (issue 5).

    python bench/list_latency.py --engine sqlite
    python bench/list_latency.py --engine postgresql [--pg postgresql://postgres@127.0.0.1:5432]

The target: each list's latency with 1,000,000 messages stored is at most 1.3x its latency with 1,000.

Seeding. Each scale has a database of its own (SQLite: <cache>/sqlite-<scale>/, PostgreSQL: a database
bench_list_<scale>_<tag of the cache dir>), seeded once and reused by later runs (`--reseed` starts
over, `--drop` removes them at the end). A `heliograph serve` on the empty database makes, through the
API, an app, two users, a personal conversation, and a business and a user message in it; those rows,
read back, are templates, cloned in bulk (SQLite executemany, PostgreSQL COPY) under fresh time-ordered
ids from heliograph.ids, so every column holds what the server itself writes. The templates' own
conversation is removed. A cached database is migrated by the server like any other, so a new
migration (an index, say) is measured on the same rows.

The shape at M messages: C = max(100, M / 100) personal conversations, half of them the hot user's
(the other half one each of C / 2 other users); the hot user's oldest conversation holds
min(M / 2, 25,000) messages, spread evenly over the whole history, and the other conversations share
the rest round robin (so a conversation's rows are scattered through the table, as in real life).
Messages alternate between the business and the conversation's user.

Measuring. Both servers run at once, one keep-alive connection to each. Each query goes to each scale
in turn, request by request, so drift on this shared machine hits both scales alike and the ratio
1M / 1k comes from the same minutes; the servers are restarted every round, in either order. Besides
latency, each server's CPU time (all threads, /proc/<pid>/task/*/schedstat) is read after every reply:
the CPU a request cost, which other people's load on the machine disturbs much less than latency.
Queries: ListMessages newest page (100 messages); ListMessages with page[before] at 30 % of the hot
conversation's history; ListConversations of the hot user, first page (25), with page[after] at 20 %
of their list and with page[before] at 80 %.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import shutil
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
from harness import Http, basic_auth, cpu_ns, free_port, percentiles, spawn, stop, wait_healthy

from heliograph.ids import IdFactory
from heliograph.store import tables as t

SEED_VERSION = 1  # bump when the shape or the rows change, so cached databases are seeded again
KEY = ("act_" + "b" * 24, "list-latency-bench-secret")
TEXT = "Seeded message: about as long as a line people type into a chat window."
STEP_MS = 500  # simulated time between two records


@dataclasses.dataclass(frozen=True)
class Shape:
    messages: int

    @property
    def conversations(self) -> int:
        return max(100, self.messages // 100)

    @property
    def hot_messages(self) -> int:
        return min(self.messages // 2, 25_000)


# --- the databases ---------------------------------------------------------------------------

class Sqlite:
    """A scale's SQLite database: a data dir of its own under the cache."""

    def __init__(self, cache: Path, scale: int) -> None:
        self.data_dir = cache / f"sqlite-{scale}"
        self.path = self.data_dir / "heliograph.sqlite3"
        self.url = f"sqlite+aiosqlite:///{self.path}"
        self.manifest = self.data_dir / "bench.json"

    async def create(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)

    async def holds(self, app_id: str) -> bool:
        if not self.path.exists():
            return False
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT 1 FROM apps WHERE id = ?", (app_id,)).fetchone() is not None
        except sqlite3.Error:
            return False
        finally:
            db.close()

    async def drop(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)

    async def fill(self, work: Fill) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA cache_size=-400000")  # 400 MB: the index on (conversation_id, id) takes random inserts
        db.execute("PRAGMA synchronous=OFF")  # a seed that fails is seeded again
        work.templates = {table.name: [dict(r) for r in db.execute(sql, args)] for table, sql, args in work.reads("?")}
        for table in work.tables:
            names = [r["name"] for r in db.execute(f"PRAGMA table_info({table.name})")]
            _check_columns(table, names)
        db.execute("BEGIN")
        for sql, args in work.deletes("?"):
            db.execute(sql, args)
        for table, rows in work.inserts():
            columns = [c.name for c in table.columns]
            db.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                           f"({', '.join('?' * len(columns))})", rows)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()


class Postgres:
    """A scale's PostgreSQL database, bench_list_<scale>_<cache's tag>; the data dir only holds the manifest."""

    def __init__(self, cache: Path, scale: int, server: str) -> None:
        tag = hashlib.sha1(str(cache).encode()).hexdigest()[:6]  # caches elsewhere have databases of their own
        self.server, self.name = server.rstrip("/"), f"bench_list_{scale}_{tag}"
        self.data_dir = cache / f"pg-{scale}"
        self.url = f"{self.server}/{self.name}"
        self.manifest = self.data_dir / "bench.json"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(f"{self.server}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self) -> None:
        await self.drop()
        await self._admin(f"CREATE DATABASE {self.name}")
        self.data_dir.mkdir(parents=True)

    async def holds(self, app_id: str) -> bool:
        try:
            conn = await asyncpg.connect(self.url)
        except asyncpg.InvalidCatalogNameError:
            return False
        try:
            return bool(await conn.fetchval("SELECT 1 FROM apps WHERE id = $1", app_id))
        except asyncpg.PostgresError:
            return False
        finally:
            await conn.close()

    async def drop(self) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    async def fill(self, work: Fill) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            work.templates = {}
            for table, sql, args in work.reads("$"):
                work.templates[table.name] = [dict(r) for r in await conn.fetch(sql, *args)]
            for table in work.tables:
                names = await conn.fetch("SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = $1", table.name)
                _check_columns(table, [r[0] for r in names])
            async with conn.transaction():
                for sql, args in work.deletes("$"):
                    await conn.execute(sql, *args)
                for table, rows in work.inserts():
                    await conn.copy_records_to_table(table.name, records=rows,
                                                     columns=[c.name for c in table.columns])
            await conn.execute("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
        finally:
            await conn.close()


def _check_columns(table: Any, names: list[str]) -> None:
    if sorted(names) != sorted(c.name for c in table.columns):
        raise RuntimeError(f"{table.name}: the database has {sorted(names)}, tables.py says "
                           f"{sorted(c.name for c in table.columns)}")


# --- seeding ---------------------------------------------------------------------------------

class Fill:
    """Everything written into one scale's database, from the templates the API made."""

    tables = (t.users, t.conversations, t.participants, t.messages)

    def __init__(self, shape: Shape, made: dict[str, str]) -> None:
        self.shape, self.made = shape, made
        self.templates: dict[str, list[dict[str, Any]]] = {}
        self.manifest: dict[str, Any] = {}

    def reads(self, style: str) -> list[tuple[Any, str, list[str]]]:
        p = (lambda n: "?") if style == "?" else (lambda n: f"${n}")  # noqa: E731
        conversation = self.made["conversation"]
        return [
            (t.users, f"SELECT * FROM users WHERE id = {p(1)}", [self.made["other_user"]]),
            (t.conversations, f"SELECT * FROM conversations WHERE id = {p(1)}", [conversation]),
            (t.participants, f"SELECT * FROM participants WHERE conversation_id = {p(1)}", [conversation]),
            (t.messages, f"SELECT * FROM messages WHERE conversation_id = {p(1)} ORDER BY id", [conversation]),
        ]

    def deletes(self, style: str) -> list[tuple[str, list[str]]]:
        p = "?" if style == "?" else "$1"
        conversation = self.made["conversation"]
        return [(f"DELETE FROM {table} WHERE {column} = {p}", [conversation]) for table, column in (
            ("messages", "conversation_id"), ("participants", "conversation_id"), ("conversations", "id"))]

    def inserts(self) -> Iterator[tuple[Any, Iterator[tuple[Any, ...]]]]:
        shape = self.shape
        [user_t] = self.templates["users"]
        [conversation_t] = self.templates["conversations"]
        [participant_t] = self.templates["participants"]
        business_t, user_message_t = self.templates["messages"]
        assert json.loads(business_t["author"])["type"] == "business", business_t
        hot_user = self.made["hot_user"]

        clock = [int(time.time() * 1000) - (shape.conversations * 2 + shape.messages) * STEP_MS - 3_600_000]
        ids = IdFactory(clock=lambda: clock[0])

        def new_id() -> tuple[str, int]:
            clock[0] += STEP_MS
            return ids.new_at()

        # Users and their conversations, oldest first; even conversations are the hot user's.
        owners, conversation_ids, participant_ids, users = [], [], [], []
        for k in range(shape.conversations):
            if k % 2 == 0:
                owner = hot_user
            else:
                owner, now = new_id()
                users.append(_clone(t.users, user_t, id=owner, external_id=f"user-{k}", signed_up_at=now,
                                    created_at=now))
            owners.append(owner)
            conversation_ids.append(new_id())
            participant_ids.append(new_id()[0])  # CreateConversation adds the participant right after
        hot = 0  # the hot user's oldest conversation, their default one
        others = [k for k in range(shape.conversations) if k != hot]

        # Which conversation each message goes to, and each conversation's totals.
        first_message_ms = clock[0] + STEP_MS
        assignment = bytearray()  # 0: hot, 1: the next other one round robin
        counts = [0] * shape.conversations
        last_index = [-1] * shape.conversations
        last_business = [-1] * shape.conversations
        turn = 0
        for i in range(shape.messages):
            is_hot = (i * shape.hot_messages) // shape.messages != ((i + 1) * shape.hot_messages) // shape.messages
            k = hot if is_hot else others[turn % len(others)]
            turn += not is_hot
            assignment.append(0 if is_hot else 1)
            counts[k] += 1
            last_index[k] = i
            if counts[k] % 2 == 1:  # a conversation's messages alternate: business first
                last_business[k] = i

        def at(i: int) -> int | None:
            return None if i < 0 else first_message_ms + i * STEP_MS

        conversations, participants = [], []
        for k, (conversation_id, created) in enumerate(conversation_ids):
            last = at(last_index[k]) or created
            conversations.append(_clone(
                t.conversations, conversation_t, id=conversation_id, created_at=created, last_updated_at=last,
                message_count=counts[k], is_default=k == hot or k % 2 == 1,  # each user's oldest is the default
                business_last_read=at(last_business[k]) if conversation_t["business_last_read"] else None))
            participants.append(_clone(
                t.participants, participant_t, id=participant_ids[k], conversation_id=conversation_id,
                user_id=owners[k], unread_count=0, last_read=last))

        hot_ids = [conversation_ids[k][0] for k in range(0, shape.conversations, 2)]
        self.manifest = {
            "seed_version": SEED_VERSION, "messages": shape.messages, "conversations": shape.conversations,
            "hot_messages": shape.hot_messages, "hot_user_conversations": len(hot_ids),
            "app_id": self.made["app"], "hot_user": hot_user, "hot_conversation": conversation_ids[hot][0],
            "conversations_after": hot_ids[len(hot_ids) // 5], "conversations_before": hot_ids[len(hot_ids) * 4 // 5],
        }
        deep = int(shape.hot_messages * 0.3)
        manifest = self.manifest

        def messages() -> Iterator[tuple[Any, ...]]:
            seen = [0] * shape.conversations
            turn = 0
            clock[0] = first_message_ms
            for i in range(shape.messages):
                if assignment[i] == 0:
                    k = hot
                else:
                    k = others[turn % len(others)]
                    turn += 1
                message_id, now = ids.new_at()
                clock[0] += STEP_MS
                by_business = seen[k] % 2 == 0
                seen[k] += 1
                if k == hot and seen[k] == deep:
                    manifest["messages_before"] = message_id
                template = business_t if by_business else user_message_t
                author = template["author"] if by_business else template["author"].replace(hot_user, owners[k])
                yield _clone(t.messages, template, id=message_id, conversation_id=conversation_ids[k][0],
                             received=now, author=author)

        yield t.users, iter(users)
        yield t.conversations, iter(conversations)
        yield t.participants, iter(participants)
        yield t.messages, messages()


def _clone(table: Any, template: dict[str, Any], **changes: Any) -> tuple[Any, ...]:
    row = {**template, **changes}
    return tuple(row[c.name] for c in table.columns)


async def make_templates(store: Sqlite | Postgres, log: Path) -> dict[str, str]:
    """Through the API: the app, the hot user, another user, a conversation with two messages."""
    port = free_port()
    process = spawn(database_url=store.url, data_dir=store.data_dir, key=KEY, port=port, log=log)
    try:
        wait_healthy(process, port)
        http = await Http(port, basic_auth(KEY)).open()
        app = (await http.json("POST", "/v2/apps", {"displayName": "list latency"}, expect=201))["app"]["id"]
        users = f"/v2/apps/{app}/users"
        hot = (await http.json("POST", users, {"externalId": "hot-user"}, expect=201))["user"]["id"]
        other = (await http.json("POST", users, {"externalId": "user-template"}, expect=201))["user"]["id"]
        conversation = (await http.json("POST", f"/v2/apps/{app}/conversations", {
            "type": "personal", "participants": [{"userId": hot}]}, expect=201))["conversation"]["id"]
        messages = f"/v2/apps/{app}/conversations/{conversation}/messages"
        for author in ({"type": "business"}, {"type": "user", "userId": hot}):
            await http.json("POST", messages, {"author": author, "content": {"type": "text", "text": TEXT}},
                            expect=201)
        http.close()
    finally:
        stop(process)
    return {"app": app, "hot_user": hot, "other_user": other, "conversation": conversation}


async def seeded(store: Sqlite | Postgres, shape: Shape, *, reseed: bool, log: Path) -> dict[str, Any]:
    """The manifest of a seeded database for `shape`, seeding it first unless a valid one is cached."""
    if not reseed and store.manifest.exists():
        manifest = json.loads(store.manifest.read_text())
        if (manifest.get("seed_version") == SEED_VERSION and manifest.get("messages") == shape.messages
                and await store.holds(manifest["app_id"])):
            print(f"  {shape.messages:>9,} messages: reusing {store.url}")
            return manifest
    started = time.perf_counter()
    await store.create()
    made = await make_templates(store, log)
    work = Fill(shape, made)
    await store.fill(work)
    store.manifest.write_text(json.dumps(work.manifest, indent=2))
    print(f"  {shape.messages:>9,} messages: seeded {store.url} in {time.perf_counter() - started:.0f} s")
    return work.manifest


# --- measuring -------------------------------------------------------------------------------

def queries(m: dict[str, Any]) -> dict[str, tuple[str, str, int]]:
    """name: (path, list key, records expected)."""
    messages = f"/v2/apps/{m['app_id']}/conversations/{m['hot_conversation']}/messages"
    conversations = f"/v2/apps/{m['app_id']}/conversations?filter[userId]={m['hot_user']}"
    return {
        "ListMessages, newest page": (messages, "messages", 100),
        "ListMessages, page[before] deep": (f"{messages}?page[before]={m['messages_before']}", "messages", 100),
        "ListConversations, first page": (conversations, "conversations", 25),
        "ListConversations, page[after] deep": (f"{conversations}&page[after]={m['conversations_after']}",
                                                "conversations", 25),
        "ListConversations, page[before] deep": (f"{conversations}&page[before]={m['conversations_before']}",
                                                 "conversations", 25),
    }


class Server:
    """One scale's `heliograph serve` and a keep-alive connection to it."""

    def __init__(self, scale: int, store: Sqlite | Postgres, manifest: dict[str, Any], log: Path) -> None:
        self.scale, self.store, self.manifest, self.log = scale, store, manifest, log
        self.plan = queries(manifest)

    async def start(self) -> float:
        self.port = free_port()
        started = time.perf_counter()
        self.process = spawn(database_url=self.store.url, data_dir=self.store.data_dir, key=KEY, port=self.port,
                             log=self.log)
        wait_healthy(self.process, self.port, interval=0.01)  # a new migration may index the cached rows first
        self.http = await Http(self.port, basic_auth(KEY)).open()
        return time.perf_counter() - started

    def stop(self) -> None:
        self.http.close()
        stop(self.process)


Samples = dict[str, dict[int, list[float]]]


async def measure(servers: list[Server], requests: int, warmup: int, latency: Samples, cpu: Samples) -> None:
    """Add latencies (s) and server CPU (s) per request, per query and scale; the scales and queries
    interleaved request by request. CPU is read after each reply, outside the timed part."""
    for server in servers:  # every answer is a full page, at every scale
        for name, (path, key, expected) in server.plan.items():
            body = await server.http.json("GET", path)
            if len(body[key]) != expected:
                raise RuntimeError(f"{name} at {server.scale:,}: {len(body[key])} {key}, expected {expected}")
    last = {server.scale: cpu_ns(server.process.pid) for server in servers}
    for n in range(warmup + requests):
        for name in latency:
            for server in (servers if n % 2 else servers[::-1]):
                started = time.perf_counter()
                status, _ = await server.http.raw("GET", server.plan[name][0])
                elapsed = time.perf_counter() - started
                used = cpu_ns(server.process.pid)
                if status != 200:
                    raise RuntimeError(f"{name} at {server.scale:,}: status {status}")
                if n >= warmup:
                    latency[name][server.scale].append(elapsed)
                    cpu[name][server.scale].append((used - last[server.scale]) / 1e9)
                last[server.scale] = used


def report(engine: str, latency: Samples, cpu: Samples, small: int, large: int) -> str:
    lines = [f"| {engine} | {small:,}: p50 / p95 / p99 | {large:,}: p50 / p95 / p99 | ratio p50 | ratio p95 "
             f"| server CPU {small:,} → {large:,} |", "| --- | --- | --- | --- | --- | --- |"]
    for name, by_scale in latency.items():
        a, b = percentiles(by_scale[small]), percentiles(by_scale[large])
        ca, cb = (statistics.mean(cpu[name][s]) * 1000 for s in (small, large))
        lines.append(f"| {name} | {a['p50']:.2f} / {a['p95']:.2f} / {a['p99']:.2f} ms "
                     f"| {b['p50']:.2f} / {b['p95']:.2f} / {b['p99']:.2f} ms "
                     f"| {b['p50'] / a['p50']:.2f} | {b['p95'] / a['p95']:.2f} | {ca:.2f} → {cb:.2f} ms |")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    cache = Path(args.cache).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    scales = sorted({int(s) for s in args.scales.split(",")})
    stores: dict[int, Sqlite | Postgres] = {
        s: Sqlite(cache, s) if args.engine == "sqlite" else Postgres(cache, s, args.pg) for s in scales}
    log = cache / f"server-{args.engine}.log"
    print(f"{args.engine}: databases (server output in {log})")
    servers = [Server(s, stores[s], await seeded(stores[s], Shape(s), reseed=args.reseed, log=log), log)
               for s in scales]
    names = list(servers[0].plan)
    latency: Samples = {name: {s: [] for s in scales} for name in names}
    cpu: Samples = {name: {s: [] for s in scales} for name in names}
    for round_ in range(args.rounds):
        # Fresh servers each round, started in turn in either order: which process the scheduler
        # happens to favour on this shared machine changes from round to round.
        started = []
        try:
            for server in (servers if round_ % 2 == 0 else servers[::-1]):
                seconds = await server.start()
                started.append(server)
                if round_ == 0:
                    print(f"  {server.scale:>9,} messages: {seconds:.1f} s to /health")
            await measure(servers, args.requests, args.warmup, latency, cpu)
        finally:
            for server in started:
                server.stop()
    print(f"\n{args.rounds} rounds of {args.requests} requests per query and scale, each after {args.warmup} "
          f"of warm-up:\n")
    print(report("SQLite" if args.engine == "sqlite" else "PostgreSQL", latency, cpu, scales[0], scales[-1]))
    if args.drop:
        for store in stores.values():
            await store.drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432",
                        help="a PostgreSQL server where the bench may create and drop bench_list_* databases")
    parser.add_argument("--scales", default="1000,1000000", help="messages stored, comma-separated (two)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, each with fresh servers")
    parser.add_argument("--requests", type=int, default=250, help="measured requests per query, scale and round")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per query and scale first")
    parser.add_argument("--cache", default="/tmp/heliograph-bench/list-latency",
                        help="where seeded databases (SQLite) and their manifests are kept between runs")
    parser.add_argument("--reseed", action="store_true", help="seed the databases again even if cached")
    parser.add_argument("--drop", action="store_true", help="remove the seeded databases at the end")
    asyncio.run(main(parser.parse_args()))
