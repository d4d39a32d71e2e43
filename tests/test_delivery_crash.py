"""Delivery survives crashes, and several workers share the work without sending anything twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import sunshine_conversations_client as sc

from tests.delivery import KEY, QUICK_RETRIES, client, message_ids, stored_event_ids
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.servers import Process, free_port
from tests.utils import make_conversation, make_user, post, text


def test_sigkill_with_pending_events_loses_none(database_url: str, tmp_path: Path) -> None:
    """Events pending when the server is SIGKILLed are all delivered after a restart, same event.id, in order."""
    port = free_port()  # nothing listens here yet: every attempt before the crash is refused
    first = Process("serve", database_url=database_url, data_dir=tmp_path, account_key=KEY, env=QUICK_RETRIES)
    api = client(first)
    app_id = sc.AppsApi(api).create_app(sc.AppCreateBody(display_name="crash")).app.id
    custom_integration(api, app_id, f"http://127.0.0.1:{port}/hooks", ["conversation:message"])
    conversation = make_conversation(api, app_id, make_user(api, app_id, external_id="ana"))
    sent = [post(api, app_id, conversation.id, text(f"m{n}")).id for n in range(20)]
    first.kill()
    receiver = Receiver(port=port)
    second = Process("serve", database_url=database_url, data_dir=tmp_path, account_key=KEY, env=QUICK_RETRIES)
    try:
        events = receiver.wait_for(lambda got: set(sent) <= {e["payload"]["message"]["id"] for e in got}, 30)
        assert sent == message_ids(events)
        assert sorted(stored_event_ids(database_url)) == sorted({e["id"] for e in events})
        listed = sc.MessagesApi(client(second)).list_messages(app_id, conversation.id).messages
        assert sent == [m.id for m in listed]
    finally:
        second.stop()
        receiver.stop()
    assert "" == first.tracebacks() + second.tracebacks()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # workers need PostgreSQL
def test_two_workers_never_deliver_the_same_event_twice(database_url: str, tmp_path: Path) -> None:
    """With the API process not delivering and two `heliograph worker`s, each event arrives exactly once."""
    receiver = Receiver()
    server = Process("serve", database_url=database_url, data_dir=tmp_path, account_key=KEY,
                     env={"HELIOGRAPH_DISPATCHER": "off"})
    workers = [Process("worker", database_url=database_url, data_dir=tmp_path, account_key=KEY) for _ in range(2)]
    try:
        api = client(server)
        app_id = sc.AppsApi(api).create_app(sc.AppCreateBody(display_name="workers")).app.id
        custom_integration(api, app_id, receiver.url, ["conversation:message"])
        conversations = [make_conversation(api, app_id, make_user(api, app_id, external_id=f"u{n}")).id
                         for n in range(5)]
        sent: dict[str, list[str]] = {c: [] for c in conversations}
        for n in range(60):
            conversation_id = conversations[n % 5]
            sent[conversation_id].append(post(api, app_id, conversation_id, text(f"m{n}")).id)
        events = receiver.wait_for(lambda got: len(got) >= 60)
        assert 60 == len({e["id"] for e in events}) == len(events)
        for conversation_id, ids in sent.items():
            assert ids == [e["payload"]["message"]["id"] for e in events
                           if e["payload"]["conversation"]["id"] == conversation_id]
    finally:
        for process in [server, *workers]:
            process.stop()
        receiver.stop()
    assert "" == "".join(p.tracebacks() for p in [server, *workers])
