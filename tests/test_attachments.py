"""UploadAttachment and DeleteAttachment through the official SDK, the served files, and media messages.

The SDK sends `source` as a multipart file part: raw bytes under the file name `source` with type
application/octet-stream, a `(name, bytes)` tuple or a path with the type its name suggests.
The files on disk, the size limit and deletion with messages, conversations and users are in
test_attachment_files.py, against a server whose attachments directory the test knows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.attachments import PNG, image, upload
from tests.conftest import Server, sdk_client
from tests.spec import SpecChecker
from tests.utils import MISSING_ID, http_error, post, sdk_error

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def fetch(url: str) -> httpx.Response:
    return httpx.get(url)


def raw_upload(http: httpx.Client, app_id: str, params: dict[str, str] | None = None,
               files: Any = None, **kwargs: Any) -> httpx.Response:
    return http.post(f"/v2/apps/{app_id}/attachments", params={"access": "public"} if params is None else params,
                     files={"source": ("a.txt", b"hello", "text/plain")} if files is None else files, **kwargs)


# --- UploadAttachment ---------------------------------------------------------------------------

def test_upload_answers_201_with_a_media_url_serving_the_bytes(account: sc.ApiClient, app_id: str) -> None:
    """A named PNG comes back as image/png; its mediaUrl serves the same bytes with that content type."""
    attachment = upload(account, app_id, ("dot.png", PNG))
    served = fetch(attachment.media_url)
    assert ("image/png", 200, PNG, "image/png") == (
        attachment.media_type, served.status_code, served.content, served.headers["content-type"])


def test_media_url_is_under_the_host_the_request_came_to(account: sc.ApiClient, server: Server,
                                                         app_id: str) -> None:
    """Without HELIOGRAPH_PUBLIC_URL the mediaUrl starts with the request's scheme and host, and ends with the name."""
    url = upload(account, app_id, ("report 2024.pdf", PDF)).media_url
    assert (True, True) == (url.startswith(server.base_url + "/attachments/v2/"), url.endswith("/report%202024.pdf"))


def test_raw_bytes_are_typed_by_their_content(account: sc.ApiClient, app_id: str) -> None:
    """Bytes sent without a telling name or type (the SDK's default) are recognised by their content."""
    assert ["image/png", "application/pdf", "application/octet-stream"] == [
        upload(account, app_id, data).media_type for data in (PNG, PDF, b"\x00\x01 no magic here")]


def test_upload_from_a_path_keeps_the_file_name(account: sc.ApiClient, app_id: str, tmp_path: Path) -> None:
    """A path given to the SDK uploads that file: its name ends the mediaUrl, its extension gives the type."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"plain words\n")
    attachment = upload(account, app_id, str(path))
    served = fetch(attachment.media_url)
    assert ("text/plain", True, b"plain words\n") == (
        attachment.media_type, attachment.media_url.endswith("/notes.txt"), served.content)


def test_the_parts_own_content_type_wins(http: httpx.Client, app_id: str) -> None:
    """A file part that states a specific Content-Type keeps it, whatever its name suggests."""
    response = raw_upload(http, app_id, files={"source": ("data.bin", b'{"a": 1}', "application/json")})
    assert (201, "application/json") == (response.status_code, response.json()["attachment"]["mediaType"])
    assert "application/json" == fetch(response.json()["attachment"]["mediaUrl"]).headers["content-type"]


def test_served_files_are_not_sniffed_or_scripted(account: sc.ApiClient, app_id: str) -> None:
    """An uploaded page is served as sent, sandboxed and with nosniff, so it never runs as this origin."""
    url = upload(account, app_id, ("page.html", b"<script>alert(1)</script>")).media_url
    headers = fetch(url).headers
    assert ("text/html", "nosniff", "sandbox") == (
        headers["content-type"].split(";")[0], headers["x-content-type-options"], headers["content-security-policy"])


@pytest.mark.parametrize("name, ending", [
    (b"../../etc/passwd", "/passwd"), (b"C:\\Users\\ana\\photo.png", "/photo.png"),
    (b"bell\x07.txt", "/bell.txt"), (b"..", "/file"), (b"", "/file"), (b"n" * 300 + b".txt", "/" + "n" * 200)])
def test_file_names_lose_directories_and_control_characters(http: httpx.Client, app_id: str, name: bytes,
                                                            ending: str) -> None:
    """A file name is reduced to its last segment without control characters, at most 200 bytes; `file` when
    nothing is left."""
    body = (b'--b\r\nContent-Disposition: form-data; name="source"; filename="' + name +
            b'"\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n')
    response = http.post(f"/v2/apps/{app_id}/attachments", params={"access": "public"}, content=body,
                         headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.json()["attachment"]["mediaUrl"].endswith(ending)


def _unnamed_part(content: bytes, content_type: bytes = b"application/octet-stream") -> bytes:
    """A multipart body whose `source` part names no filename, as the official JS SDK sends a Node Buffer."""
    return (b'--b\r\nContent-Disposition: form-data; name="source"\r\nContent-Type: ' + content_type +
            b"\r\n\r\n" + content + b"\r\n--b--\r\n")


@pytest.mark.parametrize("content, media_type", [
    (PNG, "image/png"), (b"caf\xe9 \xff\xfe", "application/octet-stream"),
    (b"x" * (2 * 1024 * 1024), "application/octet-stream"),
])
def test_a_part_without_a_filename_is_the_file(http: httpx.Client, app_id: str, content: bytes,
                                               media_type: str) -> None:
    """A `source` part without a filename is stored byte for byte (beyond 1 MB too), typed by its content,
    and named `file`."""
    response = http.post(f"/v2/apps/{app_id}/attachments", params={"access": "public"}, content=_unnamed_part(content),
                         headers={"content-type": "multipart/form-data; boundary=b"})
    attachment = response.json()["attachment"]
    served = fetch(attachment["mediaUrl"])
    assert (201, media_type, True, content) == (
        response.status_code, attachment["mediaType"], attachment["mediaUrl"].endswith("/file"), served.content)


def test_a_part_without_a_filename_keeps_its_own_content_type(http: httpx.Client, app_id: str) -> None:
    """The unnamed part's Content-Type is its media type, as for a named one."""
    response = http.post(f"/v2/apps/{app_id}/attachments", params={"access": "public"},
                         content=_unnamed_part(b'{"a": 1}', b"application/json"),
                         headers={"content-type": "multipart/form-data; boundary=b"})
    assert (201, "application/json") == (response.status_code, response.json()["attachment"]["mediaType"])


@pytest.mark.parametrize("params, title", [
    ({}, "Missing required query parameter `access`"),
    ({"access": "private"}, "Invalid access: 'private'; the only supported access level is 'public'"),
    ({"access": "public", "for": "conversation"}, "Invalid for: 'conversation'; the only supported value is 'message'"),
    ({"access": "public", "for": "message"}, "conversationId is required when for is 'message'"),
    ({"access": "public", "conversationId": MISSING_ID}, "conversationId applies only with for=message"),
])
def test_bad_query_is_400(http: httpx.Client, app_id: str, params: dict[str, str], title: str) -> None:
    """`access` is required and only `public` exists; `for` is only `message`, which needs a conversationId."""
    assert (400, "bad_request", title) == http_error(raw_upload(http, app_id, params))


def test_private_access_through_the_sdk_is_400(account: sc.ApiClient, app_id: str) -> None:
    """The SDK's required `access` argument set to private is refused."""
    with pytest.raises(sc.ApiException) as raised:
        sc.AttachmentsApi(account).upload_attachment(app_id, "private", PNG)
    assert 400 == sdk_error(raised)[0]


def test_unknown_conversation_is_404(account: sc.ApiClient, app_id: str) -> None:
    """for=message with a conversationId that names no conversation of the app: 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        upload(account, app_id, PNG, var_for="message", conversation_id=MISSING_ID)
    assert (404, "conversation_not_found", "Conversation not found") == sdk_error(raised)


def test_unknown_app_is_404(http: httpx.Client) -> None:
    """Uploading to an app that does not exist: 404 app_not_found."""
    assert (404, "app_not_found", "App not found") == http_error(raw_upload(http, MISSING_ID))


@pytest.mark.parametrize("files, data, title", [
    ({"other": ("a.txt", b"x", "text/plain")}, None, "Missing required field `source`"),
    ({"source": ("a.txt", b"x", "text/plain"), "extra": ("b.txt", b"y", "text/plain")}, None,
     "Invalid multipart body: Too many files. Maximum number of files is 1."),
])
def test_bad_form_is_400(http: httpx.Client, app_id: str, files: Any, data: Any, title: str) -> None:
    """The form holds exactly one file, in the field `source`."""
    response = http.post(f"/v2/apps/{app_id}/attachments", params={"access": "public"}, files=files, data=data)
    assert (400, "bad_request", title) == http_error(response)


def test_a_json_body_is_415(http: httpx.Client, app_id: str) -> None:
    """UploadAttachment takes multipart/form-data only."""
    response = http.post(f"/v2/apps/{app_id}/attachments", params={"access": "public"}, json={"source": "x"})
    assert (415, "unsupported_media_type", "Content-Type must be multipart/form-data") == http_error(response)


def test_a_broken_multipart_body_is_400(http: httpx.Client, app_id: str) -> None:
    """A multipart Content-Type without a boundary is a 400."""
    response = http.post(f"/v2/apps/{app_id}/attachments", params={"access": "public"}, content=b"--x",
                         headers={"content-type": "multipart/form-data"})
    assert (400, "bad_request", "Invalid multipart body: Missing boundary in multipart.") == http_error(response)


def test_an_app_key_may_upload(server: Server, checker: SpecChecker, account: sc.ApiClient, app_id: str) -> None:
    """UploadAttachment accepts app keys (its security lists integration, app and account)."""
    key = sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="k")).key
    assert "image/png" == upload(sdk_client(server, checker, key.id, key.secret), app_id, PNG).media_type


# --- DeleteAttachment ---------------------------------------------------------------------------

def test_delete_attachment_stops_serving_it(account: sc.ApiClient, app_id: str) -> None:
    """After DeleteAttachment the mediaUrl answers 404, and deleting it again is 404 not_found."""
    url = upload(account, app_id, ("dot.png", PNG)).media_url
    sc.AttachmentsApi(account).delete_attachment(app_id, sc.AttachmentDeleteBody(media_url=url))
    with pytest.raises(sc.ApiException) as raised:
        sc.AttachmentsApi(account).delete_attachment(app_id, sc.AttachmentDeleteBody(media_url=url))
    assert (404, (404, "not_found", "Attachment not found")) == (fetch(url).status_code, sdk_error(raised))


def test_delete_of_a_foreign_url_is_400(account: sc.ApiClient, app_id: str) -> None:
    """A mediaUrl that is not one of this server's is refused with the spec's title."""
    url = "https://badhost.com/image.png"
    with pytest.raises(sc.ApiException) as raised:
        sc.AttachmentsApi(account).delete_attachment(app_id, sc.AttachmentDeleteBody(media_url=url))
    assert (400, "bad_request", f"Unsupported media URL for attachment deletion: {url}") == sdk_error(raised)


def test_delete_of_another_apps_attachment_is_404(account: sc.ApiClient, app_id: str) -> None:
    """Another app's attachment is not found through this app, and stays served."""
    other = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    url = upload(account, other, PNG).media_url
    with pytest.raises(sc.ApiException) as raised:
        sc.AttachmentsApi(account).delete_attachment(app_id, sc.AttachmentDeleteBody(media_url=url))
    assert ((404, "not_found", "Attachment not found"), 200) == (sdk_error(raised), fetch(url).status_code)


def test_delete_without_media_url_is_400(http: httpx.Client, app_id: str) -> None:
    """attachmentDeleteBody requires mediaUrl."""
    response = http.post(f"/v2/apps/{app_id}/attachments/remove", json={})
    assert (400, "bad_request", "Missing required field `mediaUrl`") == http_error(response)


def test_unknown_media_url_path_is_404(account: sc.ApiClient, server: Server, app_id: str) -> None:
    """A URL of this server that names no attachment: 404, and fetching it is 404 too."""
    url = f"{server.base_url}/attachments/v2/{'A' * 32}/x.png"
    with pytest.raises(sc.ApiException) as raised:
        sc.AttachmentsApi(account).delete_attachment(app_id, sc.AttachmentDeleteBody(media_url=url))
    assert ((404, "not_found", "Attachment not found"), 404) == (sdk_error(raised), fetch(url).status_code)


def test_a_wrong_file_name_is_not_served(account: sc.ApiClient, app_id: str) -> None:
    """The mediaUrl is exact: the right token under another file name is 404."""
    url = upload(account, app_id, ("dot.png", PNG)).media_url
    assert 404 == fetch(url.rsplit("/", 1)[0] + "/other.png").status_code


# --- media messages -----------------------------------------------------------------------------

def test_image_message_of_an_upload_gets_media_type_and_size(account: sc.ApiClient, app_id: str,
                                                             conversation_id: str) -> None:
    """An image message pointing at an upload has mediaType, mediaSize and, by default, the file name as altText."""
    url = upload(account, app_id, ("dot.png", PNG)).media_url
    content = post(account, app_id, conversation_id, image(url)).content.actual_instance
    assert ("image/png", len(PNG), "dot.png") == (content.media_type, content.media_size, content.alt_text)


def test_file_message_keeps_its_own_alt_text(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A file message pointing at an upload gets mediaType and mediaSize; an altText given is kept."""
    url = upload(account, app_id, ("report.pdf", PDF)).media_url
    content = post(account, app_id, conversation_id, sc.Content(sc.FileMessage(
        type="file", media_url=url, alt_text="The report"))).content.actual_instance
    assert ("application/pdf", len(PDF), "The report") == (content.media_type, content.media_size, content.alt_text)


def test_carousel_items_of_uploads_get_media_type_and_alt_text(account: sc.ApiClient, app_id: str,
                                                               conversation_id: str) -> None:
    """A carousel or list item whose mediaUrl is an upload gets the upload's mediaType ("if mediaType is not
    specified, the media type will be resolved with the mediaUrl") and the file name as altText, unless
    given; an item with another URL keeps what was sent."""
    url = upload(account, app_id, ("dot.png", PNG)).media_url
    link = sc.ActionSubset(sc.Link(type="link", text="Open", uri="https://example.com"))
    items = [sc.Item(title="Ours", media_url=url, actions=[link]),
             sc.Item(title="Typed", media_url=url, media_type="image/webp", alt_text="A dot", actions=[link]),
             sc.Item(title="Theirs", media_url="https://example.com/x.png", actions=[link])]
    for kind, model in (("carousel", sc.CarouselMessage), ("list", sc.ListMessage)):
        content = post(account, app_id, conversation_id, sc.Content(model(type=kind, items=items))).content
        assert [("image/png", "dot.png"), ("image/webp", "A dot"), (None, None)] == [
            (item.media_type, item.alt_text) for item in content.actual_instance.items]


def test_other_media_urls_get_no_media_fields(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """An image hosted elsewhere, or another app's upload, is stored as sent."""
    other = sc.AppsApi(account).create_app(sc.AppCreateBody(display_name="Other")).app.id
    for url in ("https://example.com/attachments/v2/x/dot.png", upload(account, other, PNG).media_url):
        content = post(account, app_id, conversation_id, image(url)).content.actual_instance
        assert (None, None, None) == (content.media_type, content.media_size, content.alt_text)


def test_media_fields_in_the_body_are_ignored(http: httpx.Client, app_id: str, conversation_id: str) -> None:
    """mediaType and mediaSize are read-only: values sent are not stored."""
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages", json={
        "author": {"type": "business"},
        "content": {"type": "image", "mediaUrl": "https://example.com/a.png", "mediaType": "x/y", "mediaSize": 9}})
    content = response.json()["messages"][0]["content"]
    assert (201, None, None) == (response.status_code, content.get("mediaType"), content.get("mediaSize"))
