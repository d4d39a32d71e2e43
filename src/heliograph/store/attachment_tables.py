"""Uploaded attachments (revision 0005): one row per file kept in the attachments directory.

A row goes with its app, and, for an upload `for=message`, with its conversation and the message
that used it (foreign-key cascades). A trigger records the token of every deleted row in
`attachment_garbage`, so the files of rows removed by any cascade are found and unlinked after
the commit (`heliograph.store.media.sweep`).
"""

from __future__ import annotations

import sqlalchemy as sa

from heliograph.store.tables import Id, Ms, metadata


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


attachments = sa.Table(
    "attachments", metadata,
    sa.Column("token", sa.String(64), primary_key=True),  # random: the unguessable part of the mediaUrl
    sa.Column("app_id", Id, _cascade("apps.id"), nullable=False, index=True),
    sa.Column("conversation_id", Id, _cascade("conversations.id"), index=True),  # set for `for=message`
    sa.Column("message_id", Id, _cascade("messages.id"), index=True),  # the message that used it
    sa.Column("media_url", sa.Text, nullable=False, unique=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("media_type", sa.String(255), nullable=False),
    sa.Column("media_size", sa.BigInteger, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)

attachment_garbage = sa.Table(  # files whose rows are gone, filled by a trigger, emptied by the sweep
    "attachment_garbage", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
)
