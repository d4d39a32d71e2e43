"""create_app(settings): the composition root that wires the database, auth and routes together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from starlette.applications import Starlette
from starlette.routing import Match, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from heliograph.api import all_routes, endpoints
from heliograph.api.http import Api, Services, method_not_allowed
from heliograph.auth import Authenticator
from heliograph.channels.apis import ChannelApis
from heliograph.config import Settings
from heliograph.ids import Clock, IdFactory
from heliograph.realtime import sessions
from heliograph.realtime.hub import Hub
from heliograph.realtime.sockets import Sockets
from heliograph.services import retention
from heliograph.services.account import AccountKey, ensure_account_key
from heliograph.simulator.app import TYPES, Fakes, fake_apis
from heliograph.store import media
from heliograph.store.db import Database
from heliograph.store.fast import STREAM_CHANNEL
from heliograph.store.migrate import upgrade
from heliograph.store.notify import Listener
from heliograph.worker.runner import delivering

log = logging.getLogger("heliograph.retention")


def create_app(settings: Settings, *, ids: IdFactory | None = None,
               on_ready: Callable[[AccountKey | None], None] | None = None) -> Front:
    db = Database(settings)
    hub, sockets = Hub(), Sockets()
    fakes = Fakes.lenient() if settings.simulate_channels else None
    services = Services(settings=settings, db=db, ids=ids or IdFactory(),
                        auth=Authenticator(db, settings.key_cache_seconds), hub=hub, sockets=sockets,
                        channels=channel_apis(settings, fakes), simulator=fakes)
    db.on_delete_commit(lambda: media.sweep(db, settings.attachments_path))  # files of deleted attachments
    db.on_stream_commit(hub.heard)  # this process's commits wake its streams at once
    db.on_stream_commit(sockets.heard)  # and its app sockets (docs/socket-mode.md)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await upgrade(db)
        await media.sweep(db, settings.attachments_path, orphans=True)
        async with db.write() as conn:
            key = await ensure_account_key(conn, ids=services.ids, key_id=settings.account_key_id,
                                           secret=settings.account_key_secret)
        async with contextlib.AsyncExitStack() as stack:
            listener = None
            if not db.is_sqlite:  # the process's one LISTEN connection: other processes' commits
                listener = Listener(settings.database_url, own=db.backend_pids)  # own NOTIFYs heard late
                listener.on(STREAM_CHANNEL, hub.heard_one, on_connect=hub.wake_all)
                listener.on(STREAM_CHANNEL, sockets.heard_one, on_connect=sockets.wake_all)
            if settings.dispatcher:
                await stack.enter_async_context(delivering(settings, db, listener, services.ids, services.channels))
            if listener is not None:
                await stack.enter_async_context(_running(listener.run()))
            await stack.enter_async_context(  # the end users' streams end with their sessions
                _running(sessions.checking(hub, db, services.ids.clock, settings.stream_heartbeat)))
            if settings.retention_interval > 0:
                await stack.enter_async_context(expiring(db, services.ids.clock, settings.retention_interval))
            services.ready.set()
            if on_ready is not None:
                on_ready(key)
            yield
        await services.channels.aclose()
        await db.dispose()

    # The registry (heliograph.api), mounted: Starlette's few routes first, the Api for every other path
    # (a Mount("/") would miss those holding a newline, %0A).
    app = Starlette(routes=endpoints(services), lifespan=lifespan, exception_handlers={405: method_not_allowed})
    app.router.default = Api(services, all_routes())
    app.router.redirect_slashes = False  # the API answers those paths itself
    return Front(app)


def channel_apis(settings: Settings, fakes: Fakes | None) -> ChannelApis:
    """The channels' APIs: the real ones (or their HELIOGRAPH_CHANNEL_BASE_URL_<TYPE>), or, simulating, the
    fakes, called in this process through ASGI (docs/channels.md, the simulator)."""
    if fakes is None:
        return ChannelApis(settings.channel_base_urls)
    return ChannelApis([(kind, f"{SIMULATED}/{kind}") for kind in TYPES],
                       transport=httpx.ASGITransport(app=fake_apis(fakes)))


SIMULATED = "http://simulator.invalid"  # the fakes' base URL in simulate mode: never a real host (RFC 2606)


class Front:
    """The ASGI app served: a WebSocket goes straight to its route's endpoint, everything else to Starlette.
    Starlette's middleware and routing would stay under each socket's task for its life, ten coroutine
    frames and their closures (about 5 KB a socket, docs/performance.md), for a socket whose endpoint
    handles its own errors (api/stream.py, api/app_stream.py); a WebSocket no route takes goes to Starlette,
    which refuses it."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._sockets = [route for route in app.routes if isinstance(route, WebSocketRoute)]

    @property
    def router(self) -> Router:
        """Starlette's router: the routes it serves itself, and the `Api` as its default."""
        return self.app.router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            for route in self._sockets:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)
                    await route.endpoint(WebSocket(scope, receive, send))
                    return
        await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def _running(work: Awaitable[None]) -> AsyncIterator[None]:
    """`work` as a task while the block runs; cancelled when it ends."""
    task = asyncio.ensure_future(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def expiring(db: Database, clock: Clock, interval: float,
                   wait: Callable[[float], Awaitable[None]] = asyncio.sleep) -> AsyncIterator[None]:
    """Run the conversationRetentionSeconds job (services/retention.py) every `interval` seconds (`wait`
    sleeps between runs; tests pass their own) while the block runs; cancelled when it ends."""
    async with _running(_expire_every(db, clock, interval, wait)):
        yield


async def _expire_every(db: Database, clock: Clock, interval: float,
                        wait: Callable[[float], Awaitable[None]]) -> None:
    while True:
        await wait(interval)
        try:
            await expire_due(db, clock)
        except Exception:  # a failed run is logged and retried at the next interval; the loop lives on
            log.exception("deleting the messages of inactive conversations failed")


async def expire_due(db: Database, clock: Clock, *, batch: int = 100) -> int:
    """Every conversation now due for retention emptied, `batch` per transaction; how many in all."""
    total = 0
    while True:
        async with db.write() as conn:
            emptied = await retention.expire_messages(conn, now=clock(), limit=batch)
        total += emptied
        if emptied < batch:
            return total
