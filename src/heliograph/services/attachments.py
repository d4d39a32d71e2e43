"""Attachments (UploadAttachment, DeleteAttachment) and what image and file messages learn from them.

The file itself is kept by `store.media`; this module owns the rows. A mediaUrl is
`<public base>/attachments/v2/<token>/<file name>`: the token is random, since `access=public`
serves the file to whoever holds the URL.
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
from typing import Any
from urllib.parse import quote

import puremagic
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, NotFound
from heliograph.ids import IdFactory
from heliograph.schemas.attachments import UploadTarget
from heliograph.store.apps import require_app
from heliograph.store.attachment_tables import attachments as _a
from heliograph.store.conversations import require_conversation
from heliograph.store.fast import Fast, Plan, Step, rows, run
from heliograph.store.media import StoredFile

MEDIA_PATH = "/attachments/v2/"
DEFAULT_TYPE = "application/octet-stream"
_MEDIA_TYPE = re.compile(r"^[\w.+-]{1,127}/[\w.+-]{1,127}$")
_NAME_BYTES = 200  # of UTF-8: a mediaUrl stays short enough for its unique index on either engine
_ALT_TEXT_LIMIT = 128  # the spec's altText maxLength

_BY_URL = Fast(sa.select(_a.c.token, _a.c.conversation_id, _a.c.message_id, _a.c.filename, _a.c.media_type,
                         _a.c.media_size).where(_a.c.app_id == sa.bindparam("p_app_id"),
                                                _a.c.media_url == sa.bindparam("p_media_url")))
_CLAIM = Fast(_a.update().where(_a.c.token == sa.bindparam("p_token"), _a.c.message_id.is_(None)).values(
    message_id=sa.bindparam("p_message_id")))


async def upload_attachment(conn: AsyncConnection, *, ids: IdFactory, app_id: str, target: UploadTarget,
                            stored: StoredFile, filename: str | None, declared_type: str | None,
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
    await conn.execute(_a.insert(), row)
    return {"mediaUrl": row["media_url"], "mediaType": row["media_type"]}


async def delete_attachment(conn: AsyncConnection, *, app_id: str, media_url: str, base_url: str) -> None:
    """Remove the row; its file goes after the commit (store.media.sweep)."""
    deleted = await conn.execute(_a.delete().where(_a.c.app_id == app_id, _a.c.media_url == media_url))
    if deleted.rowcount:
        return
    await require_app(conn, app_id=app_id)
    if not media_url.startswith(base_url + MEDIA_PATH):
        raise BadRequest(f"Unsupported media URL for attachment deletion: {media_url}")
    raise NotFound("Attachment not found")


async def find_media(conn: AsyncConnection, *, token: str) -> Any:
    """The row that serves a mediaUrl's file, or None."""
    row = (await conn.execute(sa.select(_a.c.filename, _a.c.media_type).where(_a.c.token == token))).first()
    return None if row is None else row._mapping


def is_ours(media_url: str) -> bool:
    """Whether a mediaUrl may name an upload (cheap, so PostMessage asks the database only then)."""
    return MEDIA_PATH in media_url


def describe_media(*, app_id: str, conversation_id: str, content: dict[str, Any]) -> Plan[str | None]:
    """Fill in mediaType, mediaSize (and altText by default: the file name) of an image or file message
    whose mediaUrl is one of the app's uploads. Returns the token of an upload `for=message` in this
    conversation that no message has claimed yet: `claim` it once the message is stored."""
    found = yield rows(_BY_URL, {"p_app_id": app_id, "p_media_url": content["mediaUrl"]})
    if not found:
        return None
    row = found[0]
    content["mediaType"], content["mediaSize"] = row["media_type"], row["media_size"]
    content.setdefault("altText", row["filename"][:_ALT_TEXT_LIMIT])
    return row["token"] if row["conversation_id"] == conversation_id and row["message_id"] is None else None


def claim(*, token: str, message_id: str) -> Step:
    """The upload now goes with this message (a foreign-key cascade deletes it with the message)."""
    return run(_CLAIM, {"p_token": token, "p_message_id": message_id})


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
