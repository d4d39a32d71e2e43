"""Shared wire types (displayName, metadata, uri) and the one decoder that turns bad JSON into 400s."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from heliograph.errors import BadRequest

__all__ = ["UNSET", "UnsetType", "Struct", "decode", "check_metadata", "DisplayName", "Uri", "Metadata"]

URI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
METADATA_MAX_BYTES = 4096

DisplayName = Annotated[str, Meta(min_length=1, max_length=100)]
Uri = Annotated[str, Meta(pattern=URI_PATTERN, min_length=1, max_length=2048)]
Metadata = dict[str, str | int | float | bool]


class Struct(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """Base of every wire model: camelCase on the wire, unset fields left out when re-encoded."""


T = TypeVar("T")
_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def decode(body: bytes, model: type[T]) -> T:
    """Decode a JSON request body into `model`; any problem is a 400 that names the field.

    Strings may not hold the NUL character: PostgreSQL text cannot store it, so neither engine takes it.
    """
    if b"\\u0000" in body and _NUL_ESCAPE.search(body):
        raise BadRequest("Strings may not contain the NUL character (\\u0000)")
    try:
        return msgspec.json.decode(body, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise BadRequest(_title(str(exc))) from None
    except msgspec.DecodeError:
        raise BadRequest("Request body is not valid JSON") from None


def _title(message: str) -> str:
    match = _PATH.match(message)
    assert match is not None
    path = (match["path"] or "").lstrip(".")
    text = match["msg"]
    if text.startswith("Object missing required field"):
        return text.replace("Object missing required field", "Missing required field", 1) + (
            f" in {path}" if path else "")
    return f"Invalid {path or 'request body'}: {text}"


def check_metadata(value: Metadata | None, *, field: str = "metadata") -> None:
    """The spec's metadata rule: flat (enforced by the type) and at most 4 KB once encoded."""
    if value is not None and len(msgspec.json.encode(value)) > METADATA_MAX_BYTES:
        raise BadRequest(f"{field} is limited to {METADATA_MAX_BYTES} bytes in size.")


def to_wire(value: Any) -> Any:
    """A decoded model back to plain JSON-ready data, unset fields left out."""
    return msgspec.to_builtins(value)
