"""A form is answered once (docs/end-users.md §2, form responses), on a live server, both engines: the user's
formResponse quotes the form (`quotedMessage`) wherever a message is shown, the form becomes `submitted`, and
a second answer, also a racing one, is a 409 that writes nothing."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.store import tables as t
from tests.conftest import Server
from tests.end_users import SHOP, Visitor, basic, frame
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.utils import error_of, in_database

FORM = {"type": "form", "blockChatInput": True, "fields": [
    {"type": "text", "name": "name", "label": "Your name?"},
    {"type": "select", "name": "size", "label": "Size",
     "options": [{"name": "s", "label": "Small"}, {"name": "l", "label": "Large"}]}]}
ANSWERS = [{"type": "text", "name": "name", "text": "Ana"},
           {"type": "select", "name": "size", "select": [{"name": "s"}]}]


@pytest.fixture
def conversation(visitor: Visitor) -> str:
    return str(visitor.start().json()["conversation"]["id"])


def ask(http: httpx.Client, app_id: str, conversation: str) -> dict[str, Any]:
    """The business's form message in the conversation."""
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation}/messages",
                         json={"author": {"type": "business"}, "content": FORM})
    assert 201 == response.status_code, response.text
    return dict(response.json()["messages"][0])


def messages_of(account: sc.ApiClient, app_id: str, conversation: str) -> dict[str, sc.Message]:
    """The conversation's messages by id, as the official SDK parses ListMessages."""
    return {m.id: m for m in sc.MessagesApi(account).list_messages(app_id, conversation).messages}


def test_the_response_quotes_the_form_everywhere_and_the_form_is_submitted(
        server: Server, http: httpx.Client, account: sc.ApiClient, app_id: str, visitor: Visitor, conversation: str,
        receiver: Receiver) -> None:
    """The 201, ListMessages (the business's and the user's), /sync, the conversation:message webhook and the
    stream all show the response's `quotedMessage`: `{type: message, message: <the form>}`, the form as it is
    now, `submitted: true`; the form itself is `submitted: true` in ListMessages, and the official SDK
    parses both."""
    form = ask(http, app_id, conversation)
    custom_integration(account, app_id, receiver.url, ["conversation:message"])
    with visitor.connect(server.base_url) as socket:
        frame(socket)  # ready
        answered = visitor.answer(conversation, form["id"], ANSWERS)
        streamed = frame(socket)
    response = answered.json()["messages"][0]
    quoted = {"type": "message", "message": {**form, "content": {**form["content"], "submitted": True}}}
    hook = receiver.wait_for(lambda got: len(got) >= 1)[0]["payload"]["message"]
    own = {m["id"]: m for m in visitor.call("GET", f"/conversations/{conversation}/messages").json()["messages"]}
    synced = {m["id"]: m for m in visitor.sync().json()["conversations"][0]["messages"]}
    assert (201, False) == (answered.status_code, form["content"]["submitted"])
    assert [quoted] * 5 == [response["quotedMessage"], hook["quotedMessage"], streamed["message"]["quotedMessage"],
                            own[response["id"]]["quotedMessage"], synced[response["id"]]["quotedMessage"]]
    assert (True, True) == (own[form["id"]]["content"]["submitted"], synced[form["id"]]["content"]["submitted"])
    parsed = messages_of(account, app_id, conversation)
    quoting = parsed[response["id"]].quoted_message.actual_instance
    assert ("message", form["id"], True, True) == (
        quoting.type, quoting.message.id, quoting.message.content.actual_instance.submitted,
        parsed[form["id"]].content.actual_instance.submitted)


def test_a_second_answer_is_a_409_that_writes_nothing(
        server: Server, http: httpx.Client, account: sc.ApiClient, app_id: str, visitor: Visitor, conversation: str,
        receiver: Receiver) -> None:
    """Once answered, the form takes no other answer: 409 conflict, no message, no event, the form unchanged;
    another form of the conversation is still open."""
    form, other = ask(http, app_id, conversation), ask(http, app_id, conversation)
    assert 201 == visitor.answer(conversation, form["id"], ANSWERS).status_code
    custom_integration(account, app_id, receiver.url, ["conversation:message"])
    before = messages_of(account, app_id, conversation)
    again = visitor.answer(conversation, form["id"], [{**ANSWERS[0], "text": "Bob"}, ANSWERS[1]])
    after = messages_of(account, app_id, conversation)
    assert ((409, "conflict"), before) == (error_of(again), after)
    assert 201 == visitor.answer(conversation, other["id"], ANSWERS).status_code
    events = receiver.wait_for(lambda got: len(got) >= 1)
    assert [other["id"]] == [e["payload"]["message"]["quotedMessage"]["message"]["id"] for e in events]


def test_racing_answers_store_one(server: Server, http: httpx.Client, app_id: str, visitor: Visitor,
                                  conversation: str) -> None:
    """Answers to one form sent at the same moment (four at a time, for five forms): one 201 each, the others
    409, and exactly one formResponse quotes each form."""
    forms = [ask(http, app_id, conversation)["id"] for _ in range(5)]
    path = f"/sdk/v2/apps/{app_id}/conversations/{conversation}/form-responses"
    headers = {"origin": SHOP, **basic(visitor.id, visitor.token)}
    for form in forms:
        start, statuses = threading.Barrier(4), []

        def answer(quoted: str, barrier: threading.Barrier, seen: list[int]) -> None:
            with httpx.Client(base_url=server.base_url) as client:
                barrier.wait(timeout=10)
                seen.append(client.post(path, json={"quotedMessageId": quoted, "fields": ANSWERS},
                                        headers=headers).status_code)

        racers = [threading.Thread(target=answer, args=(form, start, statuses)) for _ in range(4)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=30)
        assert [201, 409, 409, 409] == sorted(statuses)
    quoted = in_database(server.database_url, sa.select(t.messages.c.quoted_message_id).where(
        t.messages.c.conversation_id == conversation, t.messages.c.quoted_message_id.is_not(None)))
    assert sorted(forms) == sorted(row[0] for row in quoted)


def test_a_response_whose_form_was_deleted_quotes_nothing(
        http: httpx.Client, account: sc.ApiClient, app_id: str, visitor: Visitor, conversation: str) -> None:
    """DeleteMessage of the form: the response stays, without `quotedMessage` (the spec's other branch,
    externalMessageId, names a channel's own message id, which a web form never had); the SDK parses it."""
    form = ask(http, app_id, conversation)
    response = visitor.answer(conversation, form["id"], ANSWERS).json()["messages"][0]
    deleted = http.delete(f"/v2/apps/{app_id}/conversations/{conversation}/messages/{form['id']}")
    listed = visitor.call("GET", f"/conversations/{conversation}/messages").json()["messages"]
    parsed = messages_of(account, app_id, conversation)
    assert (200, [response["id"]], False) == (deleted.status_code, [m["id"] for m in listed],
                                              "quotedMessage" in listed[0])
    assert (None, "formResponse") == (parsed[response["id"]].quoted_message,
                                      parsed[response["id"]].content.actual_instance.type)
