"""The web messenger's two routes (docs/messenger.md): its script and its demo page.

    GET /messenger.js                      the whole widget, one script (no credentials)
    GET /messenger/demo[?integrationId=…]  a page of this server that embeds it
"""

from __future__ import annotations

from heliograph import messenger
from heliograph.api.http import PUBLIC, Call, Raw, Reply, Routes, exact_pattern

routes = Routes(exact_pattern)  # Heliograph's own: only at the root, spelled as written

SCRIPT_HEADERS = (("cache-control", "public, max-age=300"), ("x-content-type-options", "nosniff"),
                  ("access-control-allow-origin", "*"))
DEMO_HEADERS = (("cache-control", "no-cache"), ("x-content-type-options", "nosniff"),
                ("referrer-policy", "no-referrer"))


@routes("GET", "/messenger.js", "MessengerScript", PUBLIC)
async def script(_call: Call) -> Reply:
    """GET /messenger.js: the widget for any page's script tag; cached for five minutes."""
    return 200, Raw(messenger.bundle(), "application/javascript; charset=utf-8", SCRIPT_HEADERS)


@routes("GET", "/messenger/demo", "MessengerDemo", PUBLIC)
async def demo(_call: Call) -> Reply:
    """GET /messenger/demo: the demo page; its own script reads `integrationId` from the query."""
    return 200, Raw(messenger.demo_page(), "text/html; charset=utf-8", DEMO_HEADERS)
