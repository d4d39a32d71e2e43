"""The web messenger's files (docs/messenger.md), and the one script `GET /messenger.js` serves.

The widget is hand-written ES2020 with no build step: `bundle()` wraps the stylesheets and the three
scripts (text.js: every text it shows, by key) into one strict-mode function, read from the package once
per process. render.js (how one
message's content looks) is optional: without it, core.js draws a message's text.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

STYLESHEETS = ("messenger.css", "render.css")
SCRIPTS = ("text.js", "render.js", "core.js")
DEMO = "demo.html"


def _read(name: str) -> str:
    """One of the messenger's files, or "" if it is not there (render.js and render.css may be missing)."""
    path = resources.files(__package__).joinpath(name)
    return path.read_text(encoding="utf-8") if path.is_file() else ""


@functools.cache
def bundle() -> bytes:
    """The script served at /messenger.js: the styles as a JS string, then text.js, render.js and core.js."""
    styles = "\n".join(_read(name) for name in STYLESHEETS)
    scripts = "\n".join(_read(name) for name in SCRIPTS)
    return (f'(function () {{\n"use strict";\nconst STYLES = {json.dumps(styles)};\n{scripts}\n}})();\n').encode()


@functools.cache
def demo_page() -> bytes:
    """The demo page: it loads /messenger.js from this server for the integration its query names."""
    return _read(DEMO).encode()
