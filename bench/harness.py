"""What the benchmarks share: a `heliograph serve` subprocess, /health polling, a raw HTTP/1.1 client.

Not a benchmark itself. The scripts in bench/ import it (`python bench/x.py` puts bench/ on sys.path).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PG_ADMIN = os.environ.get("HELIOGRAPH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
HEALTH_REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(*, database_url: str, data_dir: Path, key: tuple[str, str], port: int,
          log: Path | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`heliograph serve` on a loopback port, with nothing of the caller's HELIOGRAPH_* environment."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    variables.update({"HELIOGRAPH_DATABASE_URL": database_url, "HELIOGRAPH_DATA_DIR": str(data_dir),
                      "HELIOGRAPH_ACCOUNT_KEY_ID": key[0], "HELIOGRAPH_ACCOUNT_KEY_SECRET": key[1], **(env or {})})
    output = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (the child keeps it)
    try:
        return subprocess.Popen([sys.executable, "-m", "heliograph.cli", "serve", "--port", str(port)],
                                env=variables, stdout=output, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            output.close()  # type: ignore[union-attr]


def health_status(port: int) -> int | None:
    """The status of GET /health, or None when nothing listens yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(HEALTH_REQUEST)
            head = sock.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def wait_healthy(process: subprocess.Popen[bytes], port: int, *, timeout: float = 120.0,
                 interval: float = 0.001) -> float:
    """Busy-poll /health until it answers 200; the perf_counter time of that answer."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if health_status(port) == 200:
            return time.perf_counter()
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before /health said 200")
        time.sleep(interval)
    raise TimeoutError(f"/health on port {port} did not say 200 within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def basic_auth(key: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{key[0]}:{key[1]}".encode()).decode()


class Http:
    """One keep-alive HTTP/1.1 connection on asyncio streams: cheap for the load generator's core."""

    def __init__(self, port: int, auth: str) -> None:
        self.port, self.auth = port, auth

    async def open(self) -> Http:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    def close(self) -> None:
        self.writer.close()

    async def raw(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """Send one request and read its whole reply: the status and the body's bytes (not parsed)."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {self.auth}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    async def json(self, method: str, path: str, body: Any = None, *, expect: int = 200) -> Any:
        status, data = await self.raw(method, path, body)
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else {}


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max of `samples` (seconds), in milliseconds."""
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000, "max": max(samples) * 1000}


def cpu_ns(pid: int) -> int:
    """CPU time a process has run so far, all its threads (schedstat: nanoseconds, not clock ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just ended
    return total


def rss_kb(pid: int) -> int:
    """VmRSS of a process and all its descendants, in kB."""
    total = 0
    for p in [pid, *_descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return found
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


async def pg_admin(sql: str) -> None:
    """Run one statement on PostgreSQL's admin database (CREATE or DROP DATABASE)."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database (its asyncpg URL), dropped when the block ends."""
    name = f"{prefix}{secrets.token_hex(4)}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql:", "postgresql+asyncpg:") + "/" + name
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
