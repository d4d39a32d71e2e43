"""The OAuth consent page in a real browser: the app's owner follows a partner's authorize link,
signs in at the Basic-auth prompt, and allows or denies; the browser lands back at the partner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import Site, open_page, screenshot
from tests.conftest import Server
from tests.oauth_flow import exchange, register
from tests.spec import SpecChecker


@pytest.fixture(scope="module")
def partner() -> Iterator[Site]:
    """The partner's website on loopback, where Heliograph sends the browser back."""
    site = Site()
    yield site
    site.stop()


@pytest.fixture(scope="module")
def partner_client(server: Server, partner: Site) -> dict[str, Any]:
    """The partner's OAuth client, registered with its loopback callback."""
    return register(server, "Partner Bot", f"{partner.url}/oauth/callback")


@pytest.fixture
def owner(chromium: Browser, server: Server) -> Iterator[Page]:
    """A tab of the app's owner: it answers Heliograph's Basic-auth prompt with the account key."""
    yield from open_page(chromium, signed_in=server.account_key, origin=server.base_url)


def start(owner: Page, server: Server, client: dict[str, Any], state: str) -> None:
    """Follow the partner's authorize link, as far as the consent page."""
    query = urlencode({"response_type": "code", "client_id": client["clientId"], "state": state})
    owner.goto(f"{server.base_url}/oauth/authorize?{query}")
    expect(owner.get_by_role("heading", level=1)).to_have_text("Connect Partner Bot?")


def landed(owner: Page, partner: Site) -> dict[str, list[str]]:
    """Wait for the browser to reach the partner's callback; the query it arrived with."""
    owner.wait_for_url(f"{partner.url}/oauth/callback?*")
    return parse_qs(urlsplit(owner.url).query)


def test_allow_brings_the_browser_back_with_a_code_that_works(
        owner: Page, server: Server, checker: SpecChecker, partner: Site, partner_client: dict[str, Any],
        app_id: str, tmp_path: Path) -> None:
    """The owner picks the app and clicks Allow: the partner's callback gets the state and a code,
    and GetToken trades that code for a token of the app."""
    start(owner, server, partner_client, state="s-allow")
    owner.get_by_label("App").select_option(app_id)
    screenshot(owner, tmp_path, "consent")
    owner.get_by_role("button", name="Allow").click()
    query = landed(owner, partner)
    token = exchange(server, checker, partner_client, query["code"][0])
    assert (["s-allow"], "Bearer") == (query["state"], token.token_type)


def test_deny_brings_the_browser_back_with_access_denied(
        owner: Page, server: Server, partner: Site, partner_client: dict[str, Any], app_id: str) -> None:
    """The owner clicks Deny: the partner's callback gets `error=access_denied` and the state, no code."""
    start(owner, server, partner_client, state="s-deny")
    owner.get_by_role("button", name="Deny").click()
    assert {"error": ["access_denied"], "state": ["s-deny"]} == landed(owner, partner)
