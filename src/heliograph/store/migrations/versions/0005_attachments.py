"""Uploaded attachments, and the trigger that lists the files of deleted rows.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

ID = sa.String(24)
TOKEN = sa.String(64)

_SQLITE_TRIGGER = """
CREATE TRIGGER attachments_gone AFTER DELETE ON attachments
BEGIN INSERT INTO attachment_garbage (token) VALUES (OLD.token); END
"""
_POSTGRESQL_FUNCTION = """
CREATE FUNCTION attachments_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO attachment_garbage (token) VALUES (OLD.token); RETURN OLD; END $$
"""
_POSTGRESQL_TRIGGER = """
CREATE TRIGGER attachments_gone AFTER DELETE ON attachments
FOR EACH ROW EXECUTE FUNCTION attachments_gone()
"""


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("token", TOKEN, primary_key=True),
        sa.Column("app_id", ID, _cascade("apps.id"), nullable=False, index=True),
        sa.Column("conversation_id", ID, _cascade("conversations.id"), index=True),
        sa.Column("message_id", ID, _cascade("messages.id"), index=True),
        sa.Column("media_url", sa.Text, nullable=False, unique=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("media_size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table("attachment_garbage", sa.Column("token", TOKEN, primary_key=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SQLITE_TRIGGER)
    else:
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(_POSTGRESQL_TRIGGER)


def downgrade() -> None:
    op.drop_table("attachments")  # its trigger goes with it
    op.drop_table("attachment_garbage")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS attachments_gone()")
