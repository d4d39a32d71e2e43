"""Live servers for the suite: one on SQLite and one on a throwaway PostgreSQL database.

Every test that takes `server` (directly or through a client fixture) runs once per engine.
PostgreSQL is optional on a developer machine and mandatory when CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from tests import channel_fakes
from tests.receiver import Receiver
from tests.servers import Process
from tests.spec import SpecChecker, operations
from tests.utils import make_conversation, make_user, open_database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser import Site
    from tests.end_users import Visitor
    from tests.messenger import Proxy

PG_ADMIN_URL = os.environ.get("HELIOGRAPH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ACCOUNT_KEY = ("act_" + secrets.token_hex(12), secrets.token_urlsafe(32))
HEARTBEAT = 0.3  # seconds: quick_heartbeat_server's streams ping (and check their sessions) after this much quiet
WAIT = 10.0  # seconds: how long a test waits for what should come within a few heartbeats


@dataclass(frozen=True)
class Server:
    engine: str
    base_url: str
    database_url: str
    account_key: tuple[str, str]


FAST_TIER = ("unit", "store", "services")  # tests/<these>: no server process; `pytest -m fast` runs only them


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fast: the fast tier (tests/unit, tests/store, tests/services), no server")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and item.path.relative_to(here).parts[0] in FAST_TIER:
            item.add_marker(pytest.mark.fast)


CHECKER = SpecChecker()  # one for the session: it also proves every operation was exercised


@pytest.fixture(scope="session")
def checker() -> SpecChecker:
    return CHECKER


DESELECTED: list[pytest.Item] = []  # what -k, -m, --deselect or --last-failed left out of this run


def pytest_deselected(items: list[pytest.Item]) -> None:
    DESELECTED.extend(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On a full run, every routed operationId of the spec must have answered some test (any status)."""
    if not _ran_everything(session.config) or exitstatus != 0:
        return
    from heliograph.api import all_routes

    routed = {route.operation_id for route in all_routes()} & set(operations())
    missing = sorted(routed - {operation for operation, _ in CHECKER.checked})
    if missing:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"operations of the spec that no test exercised: {', '.join(missing)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _ran_everything(config: pytest.Config) -> bool:
    """Whether this run executed the whole suite: not --collect-only, not some paths, nothing deselected."""
    whole = config.args in ([], config.getini("testpaths"))
    return whole and not config.getoption("collectonly") and not DESELECTED


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve_new_database(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new migrated, empty database of each engine, for tests that start processes on it (a new one
    costs about a second on PostgreSQL: tests that start none take `empty_database_url`)."""
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def shared_database(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """One migrated database of each engine for the session's fast tier, and its tables, children first."""
    with migrated_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url, asyncio.run(_tables(url))


@pytest.fixture
def empty_database_url(shared_database: tuple[str, list[str]]) -> str:
    """A migrated database of each engine without rows: the session's, emptied for the test in milliseconds.

    For tests that start no process (one could outlive its test and write into the next one's rows).
    """
    url, tables = shared_database
    asyncio.run(_empty(url, tables))
    return url


@contextlib.contextmanager
def migrated_database(engine: str, directory: Path) -> Iterator[str]:
    """A new database of `engine` at the migrations' head (a file in `directory` for SQLite)."""
    from heliograph.store.migrate import upgrade

    async def migrate(url: str) -> None:
        async with open_database(url) as db:
            await upgrade(db)

    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'store.sqlite3'}"
        asyncio.run(migrate(url))
        yield url
        return
    with throwaway_postgres("heliograph_store_") as url:
        asyncio.run(migrate(url))
        yield url


async def _tables(database_url: str) -> list[str]:
    """The database's tables but Alembic's, each after those whose foreign keys point at it."""
    metadata = sa.MetaData()
    async with open_database(database_url) as db, db.read() as conn:
        await conn.run_sync(metadata.reflect)
    return [table.name for table in reversed(metadata.sorted_tables) if table.name != "alembic_version"]


async def _empty(database_url: str, tables: list[str]) -> None:
    """Delete every row, in one transaction sent as one script (one round trip: this runs before each test)."""
    script = "BEGIN; " + " ".join(f'DELETE FROM "{table}";' for table in tables) + " COMMIT;"
    async with open_database(database_url) as db, db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        await (driver.executescript(script) if db.is_sqlite else driver.execute(script))


@contextlib.contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; skipped locally without PostgreSQL."""
    name = prefix + secrets.token_hex(6)
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required when CI=true: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        yield f"postgresql+asyncpg://{PG_ADMIN_URL.rsplit('/', 1)[0].split('://', 1)[1]}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def serve_new_database(engine: str, data_dir: Path, *, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`heliograph serve` on a new database of `engine` (a file in `data_dir` for SQLite), with `env` added to
    its environment; stopped after, and failed if it logged an unhandled error."""
    if engine == "sqlite":
        yield from _serve(engine, f"sqlite+aiosqlite:///{data_dir / 'test.sqlite3'}", data_dir, env)
        return
    with throwaway_postgres("heliograph_test_") as url:
        yield from _serve(engine, url, data_dir, env)


def quick_heartbeat_server(engine: str, data_dir: Path) -> Iterator[Server]:
    """`serve_new_database` with HELIOGRAPH_STREAM_HEARTBEAT=HEARTBEAT: the servers of the modules whose streams
    must ping, check their sessions or give up within a test's time."""
    yield from serve_new_database(engine, data_dir, env={"HELIOGRAPH_STREAM_HEARTBEAT": str(HEARTBEAT)})


def _serve(engine: str, database_url: str, data_dir: Path, env: dict[str, str] | None) -> Iterator[Server]:
    process = Process("serve", database_url=database_url, data_dir=data_dir, account_key=ACCOUNT_KEY, env=env)
    try:
        yield Server(engine, process.base_url, database_url, ACCOUNT_KEY)
    finally:
        process.stop()
        if process.tracebacks():
            pytest.fail("the server logged an unhandled error:\n" + process.tracebacks())


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


def bearer_client(server: Server, checker: SpecChecker, token: str | None) -> sc.ApiClient:
    """The official SDK sending `Authorization: Bearer <token>`, or no Authorization at all."""
    client = CheckedApiClient(sc.Configuration(host=server.base_url, access_token=token))
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


@pytest.fixture
def bot_token() -> str:
    """A Telegram bot token of this test's own (the fake Bot API, tests/channel_fakes.py, serves the session)."""
    return channel_fakes.new_bot_token()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on loopback (tests/receiver.py), stopped after the test."""
    receiving = Receiver()
    yield receiving
    receiving.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> dict[str, Any]:
    """A registered OAuth client (tests/oauth_flow.py), shared by a module's tests on one engine."""
    from tests.oauth_flow import register

    return register(server)


@pytest.fixture
def browser(server: Server) -> Iterator[httpx.Client]:
    """A browser for the OAuth flow: follows no redirects, sends no credentials unless told."""
    from tests.oauth_flow import open_browser

    yield from open_browser(server)


@pytest.fixture(scope="module")
def chromium(server: Server) -> Iterator[Browser]:
    """Headless chromium (tests/browser.py), launched once per module and engine: after the engine's
    server, whose set-up needs `asyncio.run`, which Playwright refuses while it runs. Skipped without
    a browser, failed when CI=true."""
    from tests.browser import launch

    yield from launch(IN_CI)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser tab (no cookies, no credentials), closed after the test."""
    from tests.browser import open_page

    yield from open_page(chromium)


# --- end users: their pages, their streams (tests/end_users.py, tests/messenger.py) -----------------------------

@pytest.fixture
def web(http: httpx.Client, app_id: str) -> str:
    """A web integration that lets the shop's origin in (tests.end_users.SHOP): its id."""
    from tests.end_users import SHOP

    response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "web", "originWhitelist": [SHOP]})
    assert 201 == response.status_code, response.text
    return str(response.json()["integration"]["id"])


@pytest.fixture
def shop_web(http: httpx.Client, app_id: str, shop: Site) -> dict[str, Any]:
    """The web integration of the shop's website (the `shop` fixture), "Kent Shop": its origin let in."""
    from tests.messenger import make_web

    return make_web(http, app_id, shop, businessName="Kent Shop")


@pytest.fixture
def browserless(server: Server) -> Iterator[httpx.Client]:
    """HTTP with no credentials, as a widget's page sends it (waiting up to WAIT: a long-poll may be asked to)."""
    with httpx.Client(base_url=server.base_url, timeout=WAIT) as client:
        yield client


@pytest.fixture
def visitor(browserless: httpx.Client, app_id: str, web: str) -> Visitor:
    """An anonymous visitor of the shop's page, signed in through `web`, calling through `browserless`."""
    from tests.end_users import Visitor

    return Visitor(browserless, app_id, web)


@pytest.fixture(scope="module")
def shop() -> Iterator[Site]:
    """The shop's website, whose pages embed the messenger (tests/messenger.py)."""
    from tests.messenger import shop_site

    yield from shop_site()


@pytest.fixture
def console(page: Page) -> None:
    """The page's console and uncaught errors, printed (pytest shows them when a test fails)."""
    page.on("console", lambda message: print(f"console.{message.type}: {message.text}"))
    page.on("pageerror", lambda error: print(f"page error: {error}"))


@pytest.fixture
def proxy(server: Server) -> Iterator[Proxy]:
    """A loopback proxy between a page and the server, which the test cuts and restores."""
    from tests.messenger import Proxy

    between = Proxy(int(server.base_url.rsplit(":", 1)[1]))
    yield between
    between.stop()
