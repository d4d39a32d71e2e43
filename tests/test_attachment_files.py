"""Attachment files on disk: where they are kept, the 50 MB limit, and their deletion with what they belong to.

These tests run their own server (per engine) with HELIOGRAPH_ATTACHMENTS_DIR and HELIOGRAPH_PUBLIC_URL
set, so that they can look into the directory and see the public URL at work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.config import Settings
from heliograph.store import media
from heliograph.store import tables as t
from heliograph.store.tables import attachment_garbage, attachments
from tests.attachments import PNG, image, upload
from tests.conftest import ACCOUNT_KEY, Server, sdk_client, throwaway_postgres
from tests.servers import Process, free_port
from tests.spec import SpecChecker
from tests.utils import in_database, make_conversation, make_user, open_database, post, sdk_error

LIMIT = 50 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class MediaServer:
    api: sc.ApiClient
    files: Path
    public_url: str
    database_url: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           checker: SpecChecker) -> Iterator[MediaServer]:
    data_dir = tmp_path_factory.mktemp(f"media-{request.param}")
    if request.param == "sqlite":
        yield from _serve(request.param, f"sqlite+aiosqlite:///{data_dir / 'media.sqlite3'}", data_dir, checker)
        return
    with throwaway_postgres("heliograph_media_") as url:
        yield from _serve(request.param, url, data_dir, checker)


def _serve(engine: str, database_url: str, data_dir: Path, checker: SpecChecker) -> Iterator[MediaServer]:
    port, files = free_port(), data_dir / "uploads"
    public_url = f"http://localhost:{port}"
    process = Process("serve", database_url=database_url, data_dir=data_dir, account_key=ACCOUNT_KEY, port=port,
                      env={"HELIOGRAPH_ATTACHMENTS_DIR": str(files), "HELIOGRAPH_PUBLIC_URL": public_url + "/"})
    try:
        api = sdk_client(Server(engine, process.base_url, database_url, ACCOUNT_KEY), checker, *ACCOUNT_KEY)
        yield MediaServer(api, files, public_url, database_url)
    finally:
        process.stop()
        if process.tracebacks():
            pytest.fail("the server logged an unhandled error:\n" + process.tracebacks())


@pytest.fixture
def app(served: MediaServer) -> str:
    return str(sc.AppsApi(served.api).create_app(sc.AppCreateBody(display_name="Files")).app.id)


def on_disk(served: MediaServer) -> set[str]:
    return {path.name for path in served.files.iterdir()} if served.files.exists() else set()


def token(url: str) -> str:
    return url.rsplit("/", 2)[1]


def stored_rows(database_url: str) -> int:
    return int(in_database(database_url, sa.select(sa.func.count()).select_from(attachments))[0][0])


def deletable(served: MediaServer, app: str) -> sc.Conversation:
    """A personal conversation that is not its user's default, so that DeleteConversation may remove it."""
    user = make_user(served.api, app, external_id="ana")
    make_conversation(served.api, app, user)
    return make_conversation(served.api, app, user)


def for_message(served: MediaServer, app: str, conversation_id: str) -> str:
    return str(upload(served.api, app, ("dot.png", PNG), var_for="message", conversation_id=conversation_id)
               .media_url)


def test_files_are_kept_in_the_attachments_directory(served: MediaServer, app: str) -> None:
    """HELIOGRAPH_ATTACHMENTS_DIR holds the file; the mediaUrl starts with HELIOGRAPH_PUBLIC_URL and serves it."""
    url = upload(served.api, app, ("dot.png", PNG)).media_url
    served_file = httpx.get(url)
    assert (True, PNG, PNG, "image/png") == (
        url.startswith(served.public_url + "/attachments/v2/"), (served.files / token(url)).read_bytes(),
        served_file.content, served_file.headers["content-type"])


def test_50_mb_is_accepted_and_one_byte_more_is_413(served: MediaServer, app: str) -> None:
    """A file of exactly 50 MB is stored; 50 MB + 1 byte is refused with 413, leaving no file and no row."""
    kept = upload(served.api, app, ("big.bin", b"\x00" * LIMIT)).media_url
    before = (on_disk(served), stored_rows(served.database_url))
    with pytest.raises(sc.ApiException) as raised:
        upload(served.api, app, ("bigger.bin", b"\x00" * (LIMIT + 1)))
    assert (LIMIT, (413, "payload_too_large", "Attachments are limited to 50 MB (52428800 bytes)"), before) == (
        (served.files / token(kept)).stat().st_size, sdk_error(raised),
        (on_disk(served), stored_rows(served.database_url)))


def test_refused_uploads_leave_nothing_behind(served: MediaServer, app: str) -> None:
    """An upload refused after its file was read (unknown conversation) leaves no file and no row."""
    before = (on_disk(served), stored_rows(served.database_url))
    with pytest.raises(sc.ApiException) as raised:
        upload(served.api, app, PNG, var_for="message", conversation_id="0123456789abcdef01234567")
    assert (404, before) == (raised.value.status, (on_disk(served), stored_rows(served.database_url)))


def test_delete_attachment_removes_the_file(served: MediaServer, app: str) -> None:
    """DeleteAttachment removes the file from the directory before it answers."""
    url = upload(served.api, app, PNG).media_url
    sc.AttachmentsApi(served.api).delete_attachment(app, sc.AttachmentDeleteBody(media_url=url))
    assert (False, 404) == (token(url) in on_disk(served), httpx.get(url).status_code)


def test_deleting_the_message_deletes_its_upload(served: MediaServer, app: str) -> None:
    """An upload for=message used by a message goes with DeleteMessage; other files stay."""
    conversation = make_conversation(served.api, app, make_user(served.api, app, external_id="ana"))
    url, other = for_message(served, app, conversation.id), for_message(served, app, conversation.id)
    message = post(served.api, app, conversation.id, image(url))
    sc.MessagesApi(served.api).delete_message(app, conversation.id, message.id)
    assert (False, True, 404) == (token(url) in on_disk(served), token(other) in on_disk(served),
                                  httpx.get(url).status_code)


def test_delete_all_messages_deletes_their_uploads(served: MediaServer, app: str) -> None:
    """DeleteAllMessages removes the uploads its messages used; an upload no message used yet stays."""
    conversation = make_conversation(served.api, app, make_user(served.api, app, external_id="ana"))
    used, unused = for_message(served, app, conversation.id), for_message(served, app, conversation.id)
    post(served.api, app, conversation.id, image(used))
    sc.MessagesApi(served.api).delete_all_messages(app, conversation.id)
    assert (False, True) == (token(used) in on_disk(served), token(unused) in on_disk(served))


def test_deleting_the_conversation_deletes_its_uploads(served: MediaServer, app: str) -> None:
    """Uploads for=message in a conversation, used or not, go with DeleteConversation."""
    conversation = deletable(served, app)
    used, unused = for_message(served, app, conversation.id), for_message(served, app, conversation.id)
    post(served.api, app, conversation.id, image(used))
    sc.ConversationsApi(served.api).delete_conversation(app, conversation.id)
    assert set() == {token(used), token(unused)} & on_disk(served)


def test_deleting_the_user_deletes_the_uploads_of_their_conversations(served: MediaServer, app: str) -> None:
    """DeleteUser removes the user's personal conversations, and with them their uploads."""
    user = make_user(served.api, app, external_id="ana")
    conversation = make_conversation(served.api, app, user)
    url = for_message(served, app, conversation.id)
    sc.UsersApi(served.api).delete_user(app, user.id)
    assert (False, 404) == (token(url) in on_disk(served), httpx.get(url).status_code)


def test_deleting_the_app_deletes_all_its_files(served: MediaServer, app: str) -> None:
    """DeleteApp removes every upload of the app, for a message or not."""
    conversation = make_conversation(served.api, app, make_user(served.api, app, external_id="ana"))
    urls = [upload(served.api, app, PNG).media_url, for_message(served, app, conversation.id)]
    sc.AppsApi(served.api).delete_app(app)
    assert set() == {token(url) for url in urls} & on_disk(served)


def test_uploads_not_for_a_message_outlive_the_messages_using_them(served: MediaServer, app: str) -> None:
    """Without for=message an upload is the app's: deleting a message, or its conversation, keeps the file."""
    conversation = deletable(served, app)
    url = upload(served.api, app, PNG).media_url
    message = post(served.api, app, conversation.id, image(url))
    sc.MessagesApi(served.api).delete_message(app, conversation.id, message.id)
    sc.ConversationsApi(served.api).delete_conversation(app, conversation.id)
    assert (True, 200) == (token(url) in on_disk(served), httpx.get(url).status_code)


def test_an_upload_goes_with_its_own_conversation_only(served: MediaServer, app: str) -> None:
    """An upload for one conversation, used in another, is not claimed there: it goes with its own conversation."""
    own = deletable(served, app)
    other = make_conversation(served.api, app, make_user(served.api, app, external_id="bo"))
    url = for_message(served, app, own.id)
    message = post(served.api, app, other.id, image(url))
    sc.MessagesApi(served.api).delete_message(app, other.id, message.id)
    kept = token(url) in on_disk(served)
    sc.ConversationsApi(served.api).delete_conversation(app, own.id)
    assert (True, False) == (kept, token(url) in on_disk(served))


def test_only_the_first_message_claims_an_upload(served: MediaServer, app: str) -> None:
    """Two messages use one upload: deleting the second keeps it, deleting the first (its owner) removes it."""
    conversation = make_conversation(served.api, app, make_user(served.api, app, external_id="ana"))
    url = for_message(served, app, conversation.id)
    first, second = (post(served.api, app, conversation.id, image(url)) for _ in range(2))
    sc.MessagesApi(served.api).delete_message(app, conversation.id, second.id)
    kept = token(url) in on_disk(served)
    sc.MessagesApi(served.api).delete_message(app, conversation.id, first.id)
    assert (True, False) == (kept, token(url) in on_disk(served))


def test_carousel_items_claim_their_uploads(served: MediaServer, app: str) -> None:
    """Uploads for=message in a carousel's items go with the message, like an image message's."""
    conversation = make_conversation(served.api, app, make_user(served.api, app, external_id="ana"))
    urls = [for_message(served, app, conversation.id) for _ in range(2)]
    link = sc.ActionSubset(sc.Link(type="link", text="Open", uri="https://example.com"))
    message = post(served.api, app, conversation.id, sc.Content(sc.CarouselMessage(type="carousel", items=[
        sc.Item(title=f"Item {n}", media_url=url, actions=[link]) for n, url in enumerate(urls)])))
    kept = {token(url) for url in urls} <= on_disk(served)
    sc.MessagesApi(served.api).delete_message(app, conversation.id, message.id)
    assert (True, set()) == (kept, {token(url) for url in urls} & on_disk(served))


# --- the sweep and the settings -----------------------------------------------------------------

def test_sweep_unlinks_deleted_and_old_orphan_files(database_url: str, tmp_path: Path) -> None:
    """The start-up sweep removes files of deleted rows and old files no row names; fresh orphans and
    files with rows stay."""
    files = tmp_path / "files"
    files.mkdir()
    for name in ("gone", "kept", "old-orphan", "new-orphan"):
        (files / name).write_bytes(b"x")
    old = time.time() - media.ORPHAN_AGE_SECONDS - 60
    for name in ("kept", "old-orphan"):
        os.utime(files / name, (old, old))

    async def sweep() -> None:
        async with open_database(database_url) as db:
            async with db.write() as conn:
                await conn.execute(t.apps.insert(), {"id": "a" * 24, "display_name": "A", "settings": {},
                                                     "metadata": None, "created_at": 0})
                await conn.execute(attachments.insert(), {
                    "token": "kept", "app_id": "a" * 24, "media_url": "http://h/attachments/v2/kept/x",
                    "filename": "x", "media_type": "text/plain", "media_size": 1, "created_at": 0})
                await conn.execute(attachment_garbage.insert(), {"token": "gone"})
            await media.sweep(db, files, orphans=True)
            async with db.read() as conn:
                assert [] == list(await conn.scalars(sa.select(attachment_garbage.c.token)))

    asyncio.run(sweep())
    assert {"kept", "new-orphan"} == {path.name for path in files.iterdir()}


def test_settings_read_the_attachments_dir_and_public_url(tmp_path: Path) -> None:
    """HELIOGRAPH_ATTACHMENTS_DIR defaults to <data dir>/attachments; HELIOGRAPH_PUBLIC_URL loses its final slash."""
    default = Settings.from_env({"HELIOGRAPH_DATA_DIR": str(tmp_path)})
    chosen = Settings.from_env({"HELIOGRAPH_DATA_DIR": str(tmp_path), "HELIOGRAPH_ATTACHMENTS_DIR": str(tmp_path / "f"),
                                "HELIOGRAPH_PUBLIC_URL": "https://chat.example.com/sc/"})
    assert (tmp_path / "attachments", None, tmp_path / "f", "https://chat.example.com/sc") == (
        default.attachments_path, default.public_url, chosen.attachments_path, chosen.public_url)


def test_a_public_url_must_be_http(tmp_path: Path) -> None:
    """HELIOGRAPH_PUBLIC_URL without an http(s) scheme is refused at start-up."""
    with pytest.raises(ValueError, match="HELIOGRAPH_PUBLIC_URL must start with http:// or https://"):
        Settings.from_env({"HELIOGRAPH_DATA_DIR": str(tmp_path), "HELIOGRAPH_PUBLIC_URL": "chat.example.com"})
