"""Channel sends that are no message: a channel link's confirmation (CreateClient's `confirmation.message`, which
"will not be added to the user's conversation") goes out through the channels' outbox with its own content.

Links made before this revision never matched anyone: their pending clients get the person's id on the channel
now (services/clients.channel_id's rule, kept here as it was), unless another client of the integration has it.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"


def upgrade() -> None:
    with op.batch_alter_table("channel_sends") as batch:
        batch.alter_column("message_id", existing_type=sa.String(24), nullable=True)
        batch.add_column(sa.Column("content", sa.Text))  # a JSON object (tables.Json): the confirmation's content
    _match_earlier_links()


def _channel_id(criteria: dict[str, Any]) -> str | None:
    if criteria.get("type") == "mailgun":
        return str(criteria.get("address") or "").lower() or None
    phone = str(criteria.get("phoneNumber") or "")
    return (phone.lstrip("+") if criteria.get("type") == "whatsapp" else phone) or None


def _match_earlier_links() -> None:
    bind = op.get_bind()
    clients = sa.table("clients", sa.column("id"), sa.column("integration_id"), sa.column("external_id"),
                       sa.column("status"), sa.column("link"))
    pending = bind.execute(sa.select(clients.c.id, clients.c.integration_id, clients.c.link).where(
        clients.c.status == "pending", clients.c.external_id.is_(None), clients.c.link.is_not(None))).all()
    for client_id, integration_id, link in pending:
        external_id = _channel_id((json.loads(link) if isinstance(link, str) else link).get("matchCriteria") or {})
        taken = external_id is None or bind.execute(sa.select(clients.c.id).where(
            clients.c.integration_id == integration_id, clients.c.external_id == external_id)).first()
        if not taken:
            bind.execute(clients.update().where(clients.c.id == client_id).values(external_id=external_id))


def downgrade() -> None:
    op.execute("DELETE FROM channel_sends WHERE message_id IS NULL")
    with op.batch_alter_table("channel_sends") as batch:
        batch.drop_column("content")
        batch.alter_column("message_id", existing_type=sa.String(24), nullable=False)
