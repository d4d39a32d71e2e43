"""Sunshine content as plain text, for the channels without buttons or cards (SMS, email): actions become lines
of text (`Yes`, `Guide: https://…`), a carousel or list its items' titles, descriptions and actions, a location
its text or a map link, a file its link. Hosted behaviour for such channels (spec: a carousel elsewhere "is
rendered as raw text").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heliograph.channels.base import Unsupported


def plain(content: Mapping[str, Any]) -> tuple[str, str | None]:
    """The content's text, and its picture's URL when it is an image (which the channel may show itself);
    Unsupported for a type no text stands for (a form, a template)."""
    kind = content.get("type")
    if kind == "text":
        return with_actions(content.get("text") or "", content.get("actions")), None
    if kind == "image":
        return with_actions(content.get("text") or "", content.get("actions")), content["mediaUrl"]
    if kind == "file":
        return "\n".join(part for part in (content.get("text"), content["mediaUrl"]) if part), None
    if kind == "location":
        return content.get("text") or map_link(content["coordinates"]), None
    if kind in ("carousel", "list"):
        return "\n\n".join(with_actions("\n".join(p for p in (item.get("title"), item.get("description")) if p),
                                        item.get("actions")) for item in content.get("items") or ()), None
    raise Unsupported(f"Unsupported message type `{kind}`")


def with_actions(text: str, actions: Any) -> str:
    """The text with its actions as lines: a reply's or postback's label, a link's label and address."""
    lines = [text] if text else []
    for action in actions or ():
        label = action.get("text") or ""
        if action.get("type") in ("link", "webview") and action.get("uri"):
            lines.append(f"{label}: {action['uri']}")
        elif action.get("type") in ("reply", "postback") and label:
            lines.append(label)
    return "\n".join(lines)


def map_link(coordinates: Mapping[str, Any]) -> str:
    return f"https://maps.google.com/maps?q={coordinates['lat']},{coordinates['long']}"
