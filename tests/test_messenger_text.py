"""The web messenger's texts (docs/messenger.md, "Text"): one table in text.js, every key the scripts ask for
is in it, every key in it is used and documented, and the bundle carries text.js before the scripts that use
it. (That customText reaches the page: tests/test_messenger_browser.py.)"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from heliograph import messenger

DOCS = Path(__file__).resolve().parent.parent / "docs" / "messenger.md"


def _read(name: str) -> str:
    return resources.files(messenger).joinpath(name).read_text(encoding="utf-8")


def table_keys() -> set[str]:
    return set(re.findall(r"^  (\w+): \"", _read("text.js"), re.MULTILINE))


def used_keys() -> set[str]:
    """The keys core.js and render.js ask hgText for: `hgText("key"…)`, either key of `hgText(c ? "a" : "b")`
    and of `this.named("plain", "named", …)`, and the form formats' `problem: "key"`."""
    keys: set[str] = set()
    for name in ("core.js", "render.js"):
        script = _read(name)
        keys |= set(re.findall(r'hgText\("(\w+)"', script))
        keys |= {key for pair in re.findall(r'hgText\([^()"]*\? "(\w+)" : "(\w+)"', script) for key in pair}
        keys |= {key for pair in re.findall(r'this\.named\("(\w+)", "(\w+)"', script) for key in pair}
        keys |= set(re.findall(r'problem: "(\w+)"', script))
    return keys


def test_every_text_asked_for_is_in_the_table_and_every_entry_is_used() -> None:
    assert (set(), set()) == (used_keys() - table_keys(), table_keys() - used_keys())


def test_every_key_is_documented() -> None:
    documented = set(re.findall(r"`(\w+)`", DOCS.read_text().split('**Text.**', 1)[1].split("\n## ", 1)[0]))
    assert set() == table_keys() - documented


def test_the_bundle_defines_the_texts_before_the_scripts_that_use_them() -> None:
    bundle = messenger.bundle().decode()
    assert bundle.index("const HG_DEFAULT_TEXT") < bundle.index("function hgRenderContent") < bundle.index(
        "class Messenger")
