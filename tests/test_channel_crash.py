"""Channel sends survive a crash (docs/channels.md): messages whose sends were pending when the server was
SIGKILLed all reach Telegram after a restart, in order, none lost."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.store import tables
from tests import channel_fakes
from tests.delivery import KEY, QUICK_RETRIES, client
from tests.servers import Process, free_port
from tests.utils import in_database, post, text


def test_sigkill_with_channel_sends_pending_loses_none(database_url: str, tmp_path: Path) -> None:
    token = channel_fakes.new_bot_token()
    fake = channel_fakes.fakes().telegram
    setup = Process("serve", database_url=database_url, data_dir=tmp_path, account_key=KEY, env=QUICK_RETRIES)
    try:  # the bot is set up, and a person writes to it
        api = client(setup)
        app_id = sc.AppsApi(api).create_app(sc.AppCreateBody(display_name="crash")).app.id
        sc.IntegrationsApi(api).create_integration(app_id, sc.Telegram(type="telegram", token=token))
        assert 200 == channel_fakes.deliver(fake.message(token, user_id=4740, first_name="Ed", text="hi")).status_code
    finally:
        setup.stop()
    [conversation] = [row.id for row in in_database(database_url, sa.select(tables.conversations.c.id).where(
        tables.conversations.c.app_id == app_id))]
    unreachable = {**QUICK_RETRIES, "HELIOGRAPH_CHANNEL_BASE_URL_TELEGRAM": f"http://127.0.0.1:{free_port()}"}
    crashing = Process("serve", database_url=database_url, data_dir=tmp_path, account_key=KEY, env=unreachable)
    api = client(crashing)
    sent = [f"m{n}" for n in range(20)]
    for words in sent:  # every send is refused a connection: all stay pending
        post(api, app_id, conversation, text(words))
    crashing.kill()
    assert [] == fake.sent_by(token)
    restarted = Process("serve", database_url=database_url, data_dir=tmp_path, account_key=KEY, env=QUICK_RETRIES)
    try:
        arrived = fake.wait_sent(token, 20, timeout=30)
        first_arrivals = list(dict.fromkeys(one.body["text"] for one in arrived))
        assert sent == first_arrivals
    finally:
        restarted.stop()
    assert "" == crashing.tracebacks() + restarted.tracebacks()
