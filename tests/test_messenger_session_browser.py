"""The web messenger when its session ends while the visitor chats (docs/messenger.md §4, Session), in a real
browser against the suite's live servers (25-second heartbeat): the stream closes with 4401 at once, the widget
forgets the session, and the visitor's next message starts a new anonymous user and is stored, with no error
shown."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc
from playwright.sync_api import Page, expect

from tests.browser import Site
from tests.conftest import Server
from tests.end_users import basic
from tests.messenger import WAIT_MS, conversation_of, say, texts, visit

# Before the page's scripts: every WebSocket's close code, in `window.hgCloses`.
RECORD_CLOSES = """
window.hgCloses = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("close", (event) => window.hgCloses.push(event.code));
  }
};
"""

pytestmark = pytest.mark.usefixtures("console")  # a failing test shows what the page logged



def end_session(how: str, server: Server, account: sc.ApiClient, app_id: str, shop: Site,
                session: dict[str, str]) -> None:
    """End the widget's session on the server: logged out through the SDK API with its own token (as another
    tab would), or its user deleted through the v2 API (DeleteUser)."""
    if how == "logout":
        response = httpx.post(f"{server.base_url}/sdk/v2/apps/{app_id}/appusers/{session['userId']}/logout",
                              headers={"origin": shop.url, **basic(session["userId"], session["sessionToken"])})
        assert 200 == response.status_code, response.text
    else:
        sc.UsersApi(account).delete_user(app_id, session["userId"])


@pytest.mark.parametrize("how", ["logout", "delete user"])
def test_a_session_ended_while_chatting_is_forgotten_and_the_next_message_starts_anew(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        how: str) -> None:
    """The visitor chats; their session is ended on the server. The stream closes with 4401 at once (within
    WAIT_MS, well before a heartbeat), the widget drops the stored session and the old conversation, and the
    next message the visitor types makes a new anonymous user, whose conversation stores it; no error is shown,
    nothing is lost."""
    key = f"heliograph.session.{shop_web['id']}"
    page.add_init_script(RECORD_CLOSES)
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Is my order on its way?")
    first_conversation = conversation_of(page)
    page.wait_for_function("window.hgEvents.includes('connected')", timeout=WAIT_MS)
    session = json.loads(page.evaluate(f"localStorage.getItem('{key}')"))
    end_session(how, server, account, app_id, shop, session)
    page.wait_for_function(f"localStorage.getItem('{key}') === null", timeout=WAIT_MS)
    expect(page.locator(".hg-message")).to_have_count(0)
    say(page, "Hello again")
    user_id = page.evaluate("Heliograph.getUser().id")
    conversation = conversation_of(page)
    assert [4401] == page.evaluate("window.hgCloses")
    assert (True, True) == (user_id != session["userId"], conversation != first_conversation)
    assert ["Hello again"] == texts(account, app_id, conversation)
    assert user_id == json.loads(page.evaluate(f"localStorage.getItem('{key}')"))["userId"]
    assert (0, True) == (page.locator(".hg-failed").count(), page.locator(".hg-error").is_hidden())
    if how == "logout":  # the old user and what they said stay on the server
        assert ["Is my order on its way?"] == texts(account, app_id, first_conversation)
