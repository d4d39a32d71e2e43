"""Cold start to the first `/health` 200, and idle RSS, of `heliograph serve` (issue 5).

    python bench/startup.py --engine sqlite [--runs 10]
    python bench/startup.py --engine postgresql [--pg postgresql://postgres@127.0.0.1:5432] [--runs 10]

Targets: cold start to /health 200 at most 1 s; idle RSS at most 120 MB.

Each run spawns `python -m heliograph.cli serve` and busy-polls GET /health (a new TCP connection
every 0.5 ms) from just before the spawn to the first 200: interpreter start, imports, migrations,
the account key, the dispatcher, listening. Two cases:
- fresh: an empty data dir (SQLite) or a new empty database (PostgreSQL, created before the clock
  starts), so every migration runs;
- migrated: the database the fresh runs left, already at the head revision.
Idle RSS: after each migrated start, a few requests (create an app, a user, a conversation, post and
list messages), a second of rest, then VmRSS of the server and any children it has (/proc/<pid>/status).
For reference, the same clock on `python -c pass` (the interpreter alone).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from harness import Http, basic_auth, cpu_ns, free_port, rss_kb, spawn, stop, wait_healthy

KEY = ("act_" + "c" * 24, "startup-bench-secret")
POLL = 0.0005


async def exercise(port: int) -> None:
    """A few requests of every kind the server does most: what an idle server has warmed up."""
    http = await Http(port, basic_auth(KEY)).open()
    app = (await http.json("POST", "/v2/apps", {"displayName": "startup"}, expect=201))["app"]["id"]
    await http.json("GET", "/v2/apps")
    user = (await http.json("POST", f"/v2/apps/{app}/users", {"externalId": "u"}, expect=201))["user"]["id"]
    conversation = (await http.json("POST", f"/v2/apps/{app}/conversations", {
        "type": "personal", "participants": [{"userId": user}]}, expect=201))["conversation"]["id"]
    messages = f"/v2/apps/{app}/conversations/{conversation}/messages"
    for _ in range(5):
        await http.json("POST", messages, {"author": {"type": "business"},
                                           "content": {"type": "text", "text": "hi"}}, expect=201)
    await http.json("GET", messages)
    await http.json("GET", f"/v2/apps/{app}/conversations?filter[userId]={user}")
    http.close()


@dataclasses.dataclass
class Start:
    seconds: float  # from spawn to the first /health 200
    cpu: float  # CPU seconds the server had used by then (all threads)
    process: subprocess.Popen[bytes]
    port: int


def cold_start(database_url: str, data_dir: Path, log: Path) -> Start:
    """Spawn `heliograph serve` and wait for its first /health 200; the server is left running."""
    port = free_port()
    started = time.perf_counter()
    process = spawn(database_url=database_url, data_dir=data_dir, key=KEY, port=port, log=log)
    try:
        ready = wait_healthy(process, port, timeout=60, interval=POLL)
        cpu = cpu_ns(process.pid) / 1e9
    except BaseException:
        stop(process)
        raise
    return Start(ready - started, cpu, process, port)


def interpreter_alone() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


async def pg_admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def summary(values: list[float], unit: str, scale: float = 1.0, digits: int = 0) -> str:
    median, low, high = (v * scale for v in (statistics.median(values), min(values), max(values)))
    return f"median {median:.{digits}f} {unit}, min {low:.{digits}f} {unit}, max {high:.{digits}f} {unit}"


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="heliograph-startup-"))
    log = work / "server.log"
    fresh: list[Start] = []
    migrated: list[Start] = []
    rss: list[float] = []
    names: list[str] = []
    try:
        baseline = [interpreter_alone() for _ in range(args.runs)]
        for n in range(args.runs):
            data_dir = work / f"data-{n}"
            if args.engine == "sqlite":
                url = f"sqlite+aiosqlite:///{data_dir / 'heliograph.sqlite3'}"
            else:
                names.append(f"bench_startup_{n}")
                await pg_admin(args.pg, f"DROP DATABASE IF EXISTS {names[-1]} WITH (FORCE)")
                await pg_admin(args.pg, f"CREATE DATABASE {names[-1]}")
                url = f"{args.pg.rstrip('/')}/{names[-1]}"
            fresh.append(cold_start(url, data_dir, log))
            stop(fresh[-1].process)
            migrated.append(cold_start(url, data_dir, log))
            try:
                await exercise(migrated[-1].port)
                time.sleep(1)
                rss.append(rss_kb(migrated[-1].process.pid) / 1024)
            finally:
                stop(migrated[-1].process)
            print(f"  run {n + 1}: fresh {fresh[-1].seconds * 1000:.0f} ms ({fresh[-1].cpu * 1000:.0f} ms CPU), "
                  f"migrated {migrated[-1].seconds * 1000:.0f} ms ({migrated[-1].cpu * 1000:.0f} ms CPU), "
                  f"idle RSS {rss[-1]:.1f} MB", flush=True)
    finally:
        for name in names:
            await pg_admin(args.pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    engine = "SQLite" if args.engine == "sqlite" else "PostgreSQL"
    print(f"\n{engine}, {args.runs} runs:")
    for case, starts in (("fresh", fresh), ("migrated", migrated)):
        wall, cpu = summary([s.seconds for s in starts], "ms", 1000), summary([s.cpu for s in starts], "ms", 1000)
        print(f"  cold start to /health 200, {case + ' database:':18} {wall}")
        print(f"    server CPU used by then:                    {cpu}")
    print(f"  idle RSS after a few requests:                {summary(rss, 'MB', digits=1)}")
    print(f"  python -c pass, for reference:                {summary(baseline, 'ms', 1000)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432",
                        help="a PostgreSQL server where the bench may create and drop bench_startup_* databases")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and the server log")
    asyncio.run(main(parser.parse_args()))
