"""Attachments (UploadAttachment, DeleteAttachment) and what image and file messages learn from them.

The file itself is kept by `store.media`, the rows by `store.attachments`. A mediaUrl is
`<public base>/attachments/v2/<token>/<file name>`: the token is random, since `access=public`
serves the file to whoever holds the URL.
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import puremagic
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, NotFound
from heliograph.ids import IdFactory
from heliograph.schemas.attachments import UploadTarget
from heliograph.store import attachments as store
from heliograph.store import media
from heliograph.store.apps import require_app
from heliograph.store.conversations import require_conversation
from heliograph.store.db import Database
from heliograph.store.fast import Plan

MEDIA_PATH = "/attachments/v2/"
DEFAULT_TYPE = "application/octet-stream"
_MEDIA_TYPE = re.compile(r"^[\w.+-]{1,127}/[\w.+-]{1,127}$")
_NAME_BYTES = 200  # of UTF-8: a mediaUrl stays short enough for its unique index on either engine
_ALT_TEXT_LIMIT = 128  # the spec's altText maxLength


async def upload_attachment(db: Database, *, ids: IdFactory, directory: Path, app_id: str, target: UploadTarget,
                            source: BinaryIO, filename: str | None, declared_type: str | None,
                            base_url: str) -> dict[str, Any]:
    """Keep the file in `directory` and commit its row; the file is unlinked again if that transaction fails.

    Like PostMessage, this takes the `Database`: it owns its transaction, which the file's lifecycle wraps.
    """
    async with media.kept(directory, source) as stored, db.write() as conn:
        return await _insert_upload(conn, ids=ids, app_id=app_id, target=target, stored=stored, filename=filename,
                                    declared_type=declared_type, base_url=base_url)


async def _insert_upload(conn: AsyncConnection, *, ids: IdFactory, app_id: str, target: UploadTarget,
                         stored: media.StoredFile, filename: str | None, declared_type: str | None,
                         base_url: str) -> dict[str, Any]:
    if target.conversation_id is None:
        await require_app(conn, app_id=app_id)
    else:
        await require_conversation(conn, app_id=app_id, conversation_id=target.conversation_id)
    name = safe_name(filename)
    row = {"token": stored.token, "app_id": app_id, "conversation_id": target.conversation_id, "message_id": None,
           "media_url": f"{base_url}{MEDIA_PATH}{stored.token}/{quote(name, safe='')}", "filename": name,
           "media_type": media_type(name, declared_type, stored.head), "media_size": stored.size,
           "created_at": ids.clock()}
    await store.insert_attachment(conn, row)
    return {"mediaUrl": row["media_url"], "mediaType": row["media_type"]}


async def delete_attachment(conn: AsyncConnection, *, app_id: str, media_url: str, base_url: str) -> None:
    """Remove the row; its file goes after the commit (store.media.sweep)."""
    if await store.delete_attachment(conn, app_id=app_id, media_url=media_url):
        return
    await require_app(conn, app_id=app_id)
    if not media_url.startswith(base_url + MEDIA_PATH):
        raise BadRequest(f"Unsupported media URL for attachment deletion: {media_url}")
    raise NotFound("Attachment not found")


async def find_media(conn: AsyncConnection, *, token: str) -> Any:
    """The row that serves a mediaUrl's file, or None."""
    return await store.find_media(conn, token=token)


def is_ours(media_url: str) -> bool:
    """Whether a mediaUrl may name an upload (cheap, so PostMessage asks the database only then)."""
    return MEDIA_PATH in media_url


def describe_media(*, app_id: str, conversation_id: str, content: dict[str, Any]) -> Plan[str | None]:
    """Fill in mediaType, mediaSize (and altText by default: the file name) of an image or file message
    whose mediaUrl is one of the app's uploads. Returns the token of an upload `for=message` in this
    conversation that no message has claimed yet: `store.attachments.claim` it once the message is stored
    (the upload then goes with the message: a foreign-key cascade deletes it with the message)."""
    found = yield store.find_by_media_url(app_id=app_id, media_url=content["mediaUrl"])
    if not found:
        return None
    row = found[0]
    content["mediaType"], content["mediaSize"] = row["media_type"], row["media_size"]
    content.setdefault("altText", row["filename"][:_ALT_TEXT_LIMIT])
    return row["token"] if row["conversation_id"] == conversation_id and row["message_id"] is None else None


def describe_items(*, app_id: str, conversation_id: str, content: dict[str, Any]) -> Plan[list[str]]:
    """`describe_media` for the items of a carousel or list: an item whose mediaUrl is one of the app's
    uploads gets its `mediaType` and `altText` (the file name) unless given. The tokens to claim."""
    tokens = []
    for item in content.get("items", ()):
        if "mediaUrl" not in item or not is_ours(item["mediaUrl"]):
            continue
        found = yield store.find_by_media_url(app_id=app_id, media_url=item["mediaUrl"])
        if not found:
            continue
        row = found[0]
        item.setdefault("mediaType", row["media_type"])
        item.setdefault("altText", row["filename"][:_ALT_TEXT_LIMIT])
        if row["conversation_id"] == conversation_id and row["message_id"] is None and row["token"] not in tokens:
            tokens.append(row["token"])
    return tokens


def safe_name(filename: str | None) -> str:
    """The file name without directories or control characters, at most 200 bytes; `file` when nothing is left."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    name = name.encode()[:_NAME_BYTES].decode(errors="ignore")
    return "file" if name in ("", ".", "..") else name


def media_type(name: str, declared: str | None, head: bytes) -> str:
    """The part's own Content-Type if it says more than octet-stream, else the file name's, else the content's."""
    given = (declared or "").split(";", 1)[0].strip().lower()
    if _MEDIA_TYPE.match(given) and given != DEFAULT_TYPE:
        return given
    guessed = mimetypes.guess_type(name, strict=False)[0]
    if guessed:
        return guessed
    with contextlib.suppress(puremagic.PureError, ValueError):
        return puremagic.from_string(head, mime=True) or DEFAULT_TYPE
    return DEFAULT_TYPE
