"""A first walk through the core operations with the official SDK."""

from __future__ import annotations

import sunshine_conversations_client as sc

from tests.utils import make_conversation, make_user, post, text


def test_message_round_trip(account: sc.ApiClient, app_id: str) -> None:
    """A business message posted to a personal conversation is listed back unchanged."""
    user = make_user(account, app_id, external_id="jane")
    conversation = make_conversation(account, app_id, user)
    sent = post(account, app_id, conversation.id, text("Hello!"))
    listed = sc.MessagesApi(account).list_messages(app_id, conversation.id).messages
    assert [m.id for m in listed] == [sent.id]
    assert listed[0].content.actual_instance.text == "Hello!"
