"""Protocol-level behaviour: unknown routes, body limits, content types, malformed input."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server


def test_unknown_route_is_404_in_the_error_envelope(http: httpx.Client) -> None:
    """A path the API does not have answers 404 with the spec's envelope."""
    response = http.get("/v2/nothing-here")
    assert (404, "not_found") == (response.status_code, response.json()["errors"][0]["code"])


def test_wrong_method_is_405(http: httpx.Client, app_id: str) -> None:
    """A known path with a method it does not support answers 405."""
    response = http.put(f"/v2/apps/{app_id}")
    assert (405, "method_not_allowed") == (response.status_code, response.json()["errors"][0]["code"])


def test_health_answers_once_ready(server: Server) -> None:
    """GET /health is 200 with no credentials once the server is up."""
    assert 200 == httpx.get(server.base_url + "/health").status_code


def test_body_over_100kb_is_413_and_creates_nothing(http: httpx.Client) -> None:
    """A JSON body of 100 kB + 1 byte is refused with 413 before it is parsed."""
    before = http.get("/v2/apps", params={"page[size]": 100}).json()["apps"]
    padding = "x" * (100 * 1024 + 1 - len('{"displayName":"a","metadata":{"p":""}}'))
    body = '{"displayName":"a","metadata":{"p":"' + padding + '"}}'
    assert 100 * 1024 + 1 == len(body)
    response = http.post("/v2/apps", content=body, headers={"content-type": "application/json"})
    assert (413, "payload_too_large") == (response.status_code, response.json()["errors"][0]["code"])
    assert before == http.get("/v2/apps", params={"page[size]": 100}).json()["apps"]


def test_body_of_exactly_100kb_is_parsed(http: httpx.Client) -> None:
    """A body at the limit is read; here its metadata is then refused for exceeding 4 KB."""
    padding = "x" * (100 * 1024 - len('{"displayName":"a","metadata":{"p":""}}'))
    body = '{"displayName":"a","metadata":{"p":"' + padding + '"}}'
    response = http.post("/v2/apps", content=body, headers={"content-type": "application/json"})
    assert 400 == response.status_code
    assert "4096" in response.json()["errors"][0]["title"]


def test_chunked_body_over_the_limit_is_413(http: httpx.Client) -> None:
    """Without a Content-Length, the limit is enforced while the body streams in."""
    chunks = (b"x" * 1024 for _ in range(101))
    response = http.post("/v2/apps", content=chunks, headers={"content-type": "application/json"})
    assert 413 == response.status_code


@pytest.mark.parametrize("body", [b"{", b"[]", b"null", b"\"text\"", b"{\"displayName\": 5}", b"\xff\xfe"])
def test_malformed_or_mistyped_json_is_400(http: httpx.Client, body: bytes) -> None:
    """Broken JSON, a non-object body or a wrong type is a 400 naming the problem, never a 500."""
    response = http.post("/v2/apps", content=body, headers={"content-type": "application/json"})
    assert (400, "bad_request") == (response.status_code, response.json()["errors"][0]["code"])


def test_missing_required_field_is_named(http: httpx.Client) -> None:
    """The title of a missing-field error names the field."""
    response = http.post("/v2/apps", json={})
    assert 400 == response.status_code
    assert "displayName" in response.json()["errors"][0]["title"]


def test_non_json_content_type_is_415(http: httpx.Client) -> None:
    """The API requires content-type: application/json for bodies."""
    response = http.post("/v2/apps", content=b"displayName=a",
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert (415, "unsupported_media_type") == (response.status_code, response.json()["errors"][0]["code"])


def test_unknown_app_is_404_app_not_found(http: httpx.Client) -> None:
    """An account key naming an app that does not exist gets app_not_found."""
    response = http.get("/v2/apps/" + "0" * 24)
    assert (404, "app_not_found") == (response.status_code, response.json()["errors"][0]["code"])


@pytest.mark.parametrize("path", ["/v2/apps/%00", "/v2/apps/" + "a" * 5000, "/v2/apps/%E2%98%83/users/x%2Fy",
                                  "/v2/apps/a%0Ab/users", "/v2/apps/a%0D%0A"])
def test_odd_path_parameters_are_404_not_500(http: httpx.Client, path: str) -> None:
    """Ids that cannot exist are simply not found, in the error envelope (a newline included)."""
    assert 404 == http.get(path).status_code


@pytest.mark.parametrize("body", [b'{"displayName": "a\\u0000b"}', b'{"displayName": "a\x00b"}',
                                  b'{"displayName": "a", "metadata": {"k\\u0000": 1}}'])
def test_nul_characters_in_bodies_are_400(http: httpx.Client, body: bytes) -> None:
    """A NUL character in any string is refused on both engines (PostgreSQL text cannot hold it)."""
    response = http.post("/v2/apps", content=body, headers={"content-type": "application/json"})
    assert 400 == response.status_code


def test_nul_characters_in_query_are_400(http: httpx.Client, app_id: str) -> None:
    """A NUL character in a query parameter is a 400, not a database error."""
    response = http.get(f"/v2/apps/{app_id}/conversations", params={"filter[userId]": "a\x00"})
    assert 400 == response.status_code
