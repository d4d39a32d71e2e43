"""Message content rules that a type alone cannot express, and the read-only fields the server fills in.

Pure functions: a validated `Content` in, the stored wire form out, or a BadRequest naming the field.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt

from heliograph.errors import BadRequest
from heliograph.schemas import messages as m
from heliograph.schemas.common import check_metadata, to_wire

TEXT_LIMIT = 4096
_markdown = MarkdownIt("commonmark", {"html": False})


def prepare(content: m.Content, *, author_type: str, schema: str | None) -> dict[str, Any]:
    """The content as stored and returned, after the rules of its type."""
    if schema is not None and schema != "whatsapp":
        raise BadRequest("Invalid schema: the only supported value is 'whatsapp'")
    if isinstance(content, m.FormResponse):
        raise BadRequest("content.type formResponse cannot be sent via the API: it answers a form on Web Messenger")
    if isinstance(content, m.Template) and schema != "whatsapp":
        raise BadRequest("content.type template requires schema to be set to 'whatsapp'")
    if isinstance(content, m.Form) and author_type != "business":
        raise BadRequest("content.type form can only be sent by the business")
    wire: dict[str, Any] = to_wire(content)
    _check_actions(wire)
    finish = _FINISHERS.get(type(content))
    return finish(wire) if finish else wire


def _check_actions(wire: dict[str, Any]) -> None:
    """Metadata limits of actions and items; at most one webview of the message opens on receipt."""
    for n, action in enumerate(wire.get("actions", [])):
        check_metadata(action.get("metadata"), field=f"content.actions[{n}].metadata")
    for n, item in enumerate(wire.get("items", [])):
        check_metadata(item.get("metadata"), field=f"content.items[{n}].metadata")
    actions = [*wire.get("actions", []), *(a for item in wire.get("items", []) for a in item.get("actions", []))]
    if sum(1 for action in actions if action.get("openOnReceive") is True) > 1:
        raise BadRequest("content: only one webview action per message can have openOnReceive set to true")


def _rich_text(wire: dict[str, Any]) -> dict[str, Any]:
    """markdownText becomes htmlText; without text, the plain text of the rich one is the fallback."""
    markdown = wire.pop("markdownText", None)
    if markdown is not None:
        if "htmlText" in wire:
            raise BadRequest("content: htmlText and markdownText cannot be used together")
        wire["htmlText"] = _markdown.render(markdown).strip()
        if len(wire["htmlText"]) > TEXT_LIMIT:
            raise BadRequest(f"content.markdownText converts to htmlText over {TEXT_LIMIT} characters")
    if "text" not in wire and "htmlText" in wire:
        wire["text"] = _plain(wire["htmlText"])[:TEXT_LIMIT]
    return wire


def _text(wire: dict[str, Any]) -> dict[str, Any]:
    """A text message must say something: empty strings and an empty actions list do not count."""
    if not any(wire.get(k) for k in ("text", "actions", "htmlText", "markdownText")):
        raise BadRequest("content.text is required unless actions, htmlText or markdownText is provided")
    return _rich_text(wire)


def _carousel(wire: dict[str, Any]) -> dict[str, Any]:
    wire["text"] = "\n\n".join(f"{n}. {_item_text(item)}" for n, item in enumerate(wire["items"], 1))
    return wire


def _item_text(item: dict[str, Any]) -> str:
    lines = [item["title"]] + ([item["description"]] if item.get("description") else [])
    lines += [f"{a['text']}: {a['uri']}" for a in item["actions"] if a["type"] in ("link", "webview")]
    return "\n".join(lines)


def _location(wire: dict[str, Any]) -> dict[str, Any]:
    place = wire.get("location", {})
    lat, long = wire["coordinates"]["lat"], wire["coordinates"]["long"]
    lines = [v for v in (place.get("name"), place.get("address")) if v]
    wire["text"] = "\n".join(["Location shared:", *lines, f"https://maps.google.com/maps?q={lat},{long}"])
    return wire


def _form(wire: dict[str, Any]) -> dict[str, Any]:
    names = [f["name"] for f in wire["fields"]]
    if len(set(names)) != len(names):
        raise BadRequest("content.fields: each field name must be unique within the form")
    for n, field in enumerate(wire["fields"]):
        if field["type"] == "select" and not field.get("options"):
            raise BadRequest(f"content.fields[{n}].options is required for a select field")
        options = [option["name"] for option in field.get("options", []) if "name" in option]
        if len(set(options)) != len(options):
            raise BadRequest(f"content.fields[{n}].options: each option name must be unique within its field")
    wire["submitted"] = False
    return wire


_FINISHERS = {m.Text: _text, m.Image: _rich_text, m.File: _rich_text,
              m.Carousel: _carousel, m.List: lambda w: w, m.Location: _location, m.Form: _form}


_BLOCKS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "table"})


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment; a line break ends each block and each <br>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")


def _plain(html: str) -> str:
    """The plain text of `html`: one line per block, blank lines dropped."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
