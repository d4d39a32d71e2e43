"""Message retention: the app setting `conversationRetentionSeconds`, applied by a background job.

"Number of seconds of inactivity before a conversation's messages will be automatically deleted."
A conversation is inactive since its `lastUpdatedAt` (a message moves it); once that lies
`conversationRetentionSeconds` or more in the past, its messages are deleted as DeleteAllMessages
deletes them (message count and unread counts back to zero; the attachment files of the deleted
messages are swept after the commit). The conversation itself stays. 0, the default, keeps messages.
Its end users' streams show `conversation:cleared`, as for DeleteAllMessages (docs/end-users.md §4).

No webhook event is emitted: the spec names none for it, and the hosted service sends none that we
know of. The job is idempotent (an emptied conversation holds no messages, so it is not chosen again
until a new message arrives), so several processes may run it against one database.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.services.messages import clear_messages
from heliograph.store import apps as app_store
from heliograph.store import messages as store

SETTING = "conversationRetentionSeconds"


async def expire_messages(conn: AsyncConnection, *, now: int, limit: int = 100) -> int:
    """Delete the messages of at most `limit` conversations inactive for their app's retention at `now`
    (ms); how many conversations were emptied (fewer than `limit`: nothing more is due)."""
    emptied = 0
    for app_id, settings in await app_store.all_settings(conn):
        retention = settings.get(SETTING) or 0
        if retention <= 0:
            continue
        due = await store.stale_conversations(conn, app_id=app_id, updated_before=now - int(retention) * 1000,
                                              limit=limit - emptied)
        for conversation_id in due:
            await clear_messages(conn, conversation_id=conversation_id, now=now)
        emptied += len(due)
        if emptied >= limit:
            break
    return emptied
