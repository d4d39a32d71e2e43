"""A real browser for tests: Debian's chromium, driven by Playwright (docs/testing.md).

Playwright cannot download its own browser builds here, so it drives the system's `chromium`
(`HELIOGRAPH_CHROMIUM` names another executable; a path that does not exist stands for a missing
one). Without a browser the tests skip, or fail when CI=true: `bin/test` installs it as root.

Playwright's sync API marks an asyncio loop as running in the main thread for as long as it is
started, so `asyncio.run` (the suite's database helpers) fails meanwhile: conftest.py starts it per
module and engine, after the engine's server, and stops it before the next one.
"""

from __future__ import annotations

import html
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, HttpCredentials, Page

BROWSER = os.environ.get("HELIOGRAPH_CHROMIUM") or "chromium"  # a name on the PATH, or a path


def launch(in_ci: bool) -> Iterator[Browser]:
    """Headless chromium for as long as the generator is suspended; skipped without one (failed when CI=true)."""
    path = shutil.which(BROWSER)
    if path is None:
        reason = (f"no browser for the browser tests: {BROWSER!r} is not an executable "
                  "(bin/test installs Debian's chromium with apt when run as root)")
        if in_ci:
            pytest.fail(f"{reason}; it is required when CI=true", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, *, signed_in: tuple[str, str] | None = None, origin: str | None = None,
              ) -> Iterator[Page]:
    """A tab in a fresh context (no cookies, no cache); with `signed_in`, it answers the Basic-auth
    prompts of `origin` (and of no other site) with that key id and secret."""
    credentials: HttpCredentials | None = None
    if signed_in is not None:
        credentials = {"username": signed_in[0], "password": signed_in[1], "origin": origin}
    context = browser.new_context(http_credentials=credentials)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, directory: Path, name: str) -> Path:
    """Save the whole page as `directory/name.png` (under pytest's tmp dir: a human can open it)."""
    path = directory / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


class Site:
    """Another website on loopback (an OAuth client's callback, a page embedding a widget): answers every
    GET with `body`, or by default with a small page naming the URL it was asked for."""

    def __init__(self, body: str | None = None) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                content = (site.body or f"<!doctype html><title>Partner</title><p>{html.escape(self.path)}").encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *_args: Any) -> None:
                pass

        self.body = body
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

