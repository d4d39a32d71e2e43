"""The spec's limits at their exact boundaries, on the paths the older tests leave out, and paging
backwards through a nearly full conversation while new messages arrive.

Covered elsewhere and not repeated here: 100 kB + 1 byte on CreateApp with a Content-Length, and
a 101 kB chunked body (tests/test_http.py); exactly 50 MB and 50 MB + 1 byte through the SDK, with
a Content-Length (tests/test_attachment_files.py); the 30,000th and the 30,001st message posted
one at a time (tests/test_messages.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.utils import TEXT, all_message_ids, http_error, messages_url, pages_back, seed_messages

JSON_LIMIT = 100 * 1024  # "JSON: 100kb" (docs/api-behaviour.md: 102,400 bytes)
UPLOAD_LIMIT = 50 * 1024 * 1024  # "File upload: 50mb"
MESSAGE_LIMIT = 30_000  # "Conversations are limited to 30,000 messages"
MB = 1024 * 1024


@pytest.fixture
def plain(server: Server) -> Iterator[httpx.Client]:
    """Raw HTTP with the account key and no spec check: for loops of hundreds of requests."""
    with httpx.Client(base_url=server.base_url, auth=server.account_key, timeout=30) as client:
        yield client


# --- JSON bodies: 100 kB ------------------------------------------------------------------------

@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_message_of_exactly_100kb_is_posted_and_one_byte_more_is_413(
        http: httpx.Client, app_id: str, conversation_id: str, chunked: bool) -> None:
    """PostMessage with a body of 102,400 bytes is 201; 102,401 bytes is 413 and stores nothing,
    whether the size is declared (Content-Length) or only seen while the body streams in."""
    def send(size: int) -> httpx.Response:
        body = json.dumps(TEXT).encode()
        body += b" " * (size - len(body))  # JSON whitespace: still a valid text message
        content = iter([body[:size // 2], body[size // 2:]]) if chunked else body
        return http.post(messages_url(app_id, conversation_id), content=content,
                         headers={"content-type": "application/json"})

    accepted, refused = send(JSON_LIMIT), send(JSON_LIMIT + 1)
    assert 201 == accepted.status_code, accepted.text
    assert (413, "payload_too_large") == http_error(refused)[:2]
    listed = http.get(messages_url(app_id, conversation_id)).json()["messages"]
    assert [accepted.json()["messages"][0]["id"]] == [m["id"] for m in listed]


# --- uploads: 50 MB -------------------------------------------------------------------------------

def test_a_streamed_upload_of_exactly_50mb_is_stored_and_one_byte_more_is_413(
        http: httpx.Client, app_id: str) -> None:
    """Without a Content-Length (chunked), a 50 MB file is 201 and a 50 MB + 1 byte file is 413.

    The spec lists only 400 for UploadAttachment; Heliograph answers 413 payload_too_large, as for
    JSON bodies (docs/api-behaviour.md)."""
    def send(size: int) -> httpx.Response:
        request = http.build_request("POST", f"/v2/apps/{app_id}/attachments", params={"access": "public"},
                                     files={"source": ("big.bin", b"\x00" * size, "application/octet-stream")})
        body, headers = request.read(), {k: v for k, v in request.headers.items() if k != "content-length"}
        return http.post(request.url, content=(body[i:i + MB] for i in range(0, len(body), MB)), headers=headers)

    stored = send(UPLOAD_LIMIT)
    assert 201 == stored.status_code, stored.text
    assert str(UPLOAD_LIMIT) == httpx.head(stored.json()["attachment"]["mediaUrl"]).headers["content-length"]
    assert (413, "payload_too_large") == http_error(send(UPLOAD_LIMIT + 1))[:2]


# --- 30,000 messages ------------------------------------------------------------------------------

def test_posters_racing_for_the_last_places_get_exactly_that_many_201s(
        server: Server, plain: httpx.Client, app_id: str, conversation_id: str) -> None:
    """With 10 places left, 4 concurrent posters sending 5 messages each get exactly 10 201s and
    10 423s; the newest page then holds those 10 and the 90 newest stored messages, nothing else."""
    seed_messages(server.database_url, conversation_id, MESSAGE_LIMIT - 10)
    answers: list[httpx.Response] = []

    def poster() -> None:
        with httpx.Client(base_url=server.base_url, auth=server.account_key, timeout=30) as own:
            answers.extend(own.post(messages_url(app_id, conversation_id), json=TEXT) for _ in range(5))

    threads = [threading.Thread(target=poster) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [201] * 10 + [423] * 10 == sorted(a.status_code for a in answers)
    posted = {a.json()["messages"][0]["id"] for a in answers if a.status_code == 201}
    newest = plain.get(messages_url(app_id, conversation_id)).json()["messages"]  # a 423 stored nothing
    assert (posted, 90) == ({m["id"] for m in newest if m["content"]["text"] == "new"},
                            sum(m["content"]["text"].startswith("seed ") for m in newest))


class Poster(threading.Thread):
    """Posts into one conversation until stopped or locked; others can wait for its next 201."""

    def __init__(self, server: Server, url: str) -> None:
        super().__init__()
        self.server, self.url = server, url
        self.posted: list[str] = []
        self.stopped_with: int | None = None  # the status that stopped it; only 423 (the limit) may
        self.finished = threading.Event()
        self._changed = threading.Condition()

    def run(self) -> None:
        with httpx.Client(base_url=self.server.base_url, auth=self.server.account_key, timeout=30) as http:
            try:
                while not self.finished.is_set():
                    response = http.post(self.url, json=TEXT)
                    if response.status_code != 201:
                        self.stopped_with = response.status_code
                        break
                    with self._changed:
                        self.posted.append(response.json()["messages"][0]["id"])
                        self._changed.notify_all()
            finally:
                with self._changed:
                    self.finished.set()
                    self._changed.notify_all()

    def wait_past(self, count: int) -> int:
        """Wait until more than `count` messages were posted (or the poster stopped); how many."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.posted) > count or self.finished.is_set(), 30)
            return len(self.posted)


def test_paging_back_through_a_full_conversation_while_messages_arrive_sees_each_once(
        server: Server, plain: httpx.Client, app_id: str, conversation_id: str) -> None:
    """29,000 stored messages, read backwards with page[before] from the newest page while another
    client keeps posting (up to the 30,000 limit), at least one new message between two pages:
    every stored message is seen exactly once and in order, and nothing is seen twice."""
    seeded = 29_000
    seed_messages(server.database_url, conversation_id, seeded)
    poster = Poster(server, messages_url(app_id, conversation_id))
    poster.start()
    seen: list[dict[str, Any]] = []
    try:
        posted = poster.wait_past(0)
        for page in pages_back(plain, app_id, conversation_id):
            seen[:0] = page
            posted = poster.wait_past(posted)
    finally:
        poster.finished.set()
        poster.join(60)
    assert poster.stopped_with in (None, 423), poster.stopped_with
    ids, texts = [m["id"] for m in seen], [m["content"]["text"] for m in seen]
    seeds = [text for text in texts if text.startswith("seed ")]
    assert (len(ids), [f"seed {n}" for n in range(seeded)]) == (len(set(ids)), seeds)
    assert {m["id"] for m in seen if m["content"]["text"] == "new"} <= set(poster.posted)
    assert set(all_message_ids(plain, app_id, conversation_id)) == {*ids, *poster.posted}
    print(f"\npaging[{server.engine}]: {seeded} seeded, {len(seen)} seen on {-(-len(seen) // 100)} pages, "
          f"{len(poster.posted)} posted meanwhile")
