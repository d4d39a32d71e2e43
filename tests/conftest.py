"""Live servers for the suite: one on SQLite and one on a throwaway PostgreSQL database.

Every test that takes `server` (directly or through a client fixture) runs once per engine.
PostgreSQL is optional on a developer machine and mandatory when CI=true.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import sunshine_conversations_client as sc

from tests.spec import SpecChecker
from tests.utils import make_conversation, make_user

PG_ADMIN_URL = os.environ.get("HELIOGRAPH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ACCOUNT_KEY = ("act_" + secrets.token_hex(12), secrets.token_urlsafe(32))


@dataclass(frozen=True)
class Server:
    engine: str
    base_url: str
    database_url: str
    account_key: tuple[str, str]


@pytest.fixture(scope="session")
def checker() -> SpecChecker:
    return SpecChecker()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'test.sqlite3'}"
        yield from _serve(request.param, url, data_dir)
        return
    name = "heliograph_test_" + secrets.token_hex(6)
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required when CI=true: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        yield from _serve(request.param, f"postgresql+asyncpg://{base.split('://', 1)[1]}/{name}", data_dir)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _serve(engine: str, database_url: str, data_dir: Path) -> Iterator[Server]:
    port = _free_port()
    env = {**os.environ, "HELIOGRAPH_DATABASE_URL": database_url, "HELIOGRAPH_DATA_DIR": str(data_dir),
           "HELIOGRAPH_ACCOUNT_KEY_ID": ACCOUNT_KEY[0], "HELIOGRAPH_ACCOUNT_KEY_SECRET": ACCOUNT_KEY[1]}
    process = subprocess.Popen([sys.executable, "-m", "heliograph.cli", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = []
    for line in process.stdout:  # the server prints its ready line once /health answers 200
        output.append(line)
        if "is ready at" in line:
            break
    else:
        raise RuntimeError("the server did not start:\n" + "".join(output))
    drain = threading.Thread(target=output.extend, args=(process.stdout,), daemon=True)
    drain.start()  # keep reading, so a chatty server never blocks on a full pipe
    try:
        yield Server(engine, f"http://127.0.0.1:{port}", database_url, ACCOUNT_KEY)
    finally:
        process.terminate()
        process.wait(timeout=10)
        drain.join(timeout=5)
        process.stdout.close()
        if any("Traceback" in line for line in output):
            pytest.fail("the server logged an unhandled error:\n" + "".join(output))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CheckedApiClient(sc.ApiClient):
    """The official client, with every response body checked against the spec."""

    checker: SpecChecker

    def call_api(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = super().call_api(method, url, *args, **kwargs)
        body = response.read()
        self.checker.check(method, url, response.status, httpx.Response(200, content=body).json() if body else None)
        return response


def sdk_client(server: Server, checker: SpecChecker, key_id: str, secret: str, *, use_jwt: bool = False,
               scope: str | None = None) -> sc.ApiClient:
    if use_jwt:
        token = jwt.encode({"scope": scope or ("account" if key_id.startswith("act_") else "app")},
                           secret, algorithm="HS256", headers={"kid": key_id})
        config = sc.Configuration(host=server.base_url, access_token=token)
    else:
        config = sc.Configuration(host=server.base_url, username=key_id, password=secret)
    client = CheckedApiClient(config)
    client.checker = checker
    return client


@pytest.fixture
def account(server: Server, checker: SpecChecker) -> sc.ApiClient:
    """The official SDK authenticated with the account key (Basic auth)."""
    return sdk_client(server, checker, *server.account_key)


@pytest.fixture
def app_id(account: sc.ApiClient) -> str:
    """A fresh app for the test."""
    return str(sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Test app")).app.id)


@pytest.fixture
def http(server: Server, checker: SpecChecker) -> Iterator[httpx.Client]:
    """Raw HTTP with the account key, for what the SDK cannot send; responses checked too."""

    def check(response: httpx.Response) -> None:
        response.read()
        body = response.json() if response.content else None
        checker.check(response.request.method, str(response.request.url), response.status_code, body)

    with httpx.Client(base_url=server.base_url, auth=server.account_key,
                      event_hooks={"response": [check]}) as client:
        yield client


@pytest.fixture
def user(account: sc.ApiClient, app_id: str) -> sc.User:
    """A user with an externalId."""
    return make_user(account, app_id, external_id="ana")


@pytest.fixture
def conversation_id(account: sc.ApiClient, app_id: str, user: sc.User) -> str:
    """A personal conversation with the user as its participant."""
    return str(make_conversation(account, app_id, user).id)
