"""create_app(settings): the composition root that wires the database, auth and routes together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette

from heliograph.api import all_routes, endpoints
from heliograph.api.http import Api, Services, method_not_allowed
from heliograph.auth import Authenticator
from heliograph.config import Settings
from heliograph.ids import IdFactory
from heliograph.services.account import AccountKey, ensure_account_key
from heliograph.store import media
from heliograph.store.db import Database
from heliograph.store.migrate import upgrade
from heliograph.worker.runner import delivering


def create_app(settings: Settings, *, ids: IdFactory | None = None,
               on_ready: Callable[[AccountKey | None], None] | None = None) -> Starlette:
    db = Database(settings)
    services = Services(settings=settings, db=db, ids=ids or IdFactory(),
                        auth=Authenticator(db, settings.key_cache_seconds))
    db.on_delete_commit(lambda: media.sweep(db, settings.attachments_path))  # files of deleted attachments

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await upgrade(db)
        await media.sweep(db, settings.attachments_path, orphans=True)
        async with db.write() as conn:
            key = await ensure_account_key(conn, ids=services.ids, key_id=settings.account_key_id,
                                           secret=settings.account_key_secret)
        async with contextlib.AsyncExitStack() as stack:
            if settings.dispatcher:
                await stack.enter_async_context(delivering(settings, db))
            services.ready.set()
            if on_ready is not None:
                on_ready(key)
            yield
        await db.dispose()

    # The registry (heliograph.api), mounted: Starlette's few routes first, the Api for every other path
    # (a Mount("/") would miss those holding a newline, %0A).
    app = Starlette(routes=endpoints(services), lifespan=lifespan, exception_handlers={405: method_not_allowed})
    app.router.default = Api(services, all_routes())
    app.router.redirect_slashes = False  # the API answers those paths itself
    return app
