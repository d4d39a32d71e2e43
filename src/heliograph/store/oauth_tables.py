"""OAuth (revision 0006): registered clients, pending authorizations with their codes, access tokens."""

from __future__ import annotations

import sqlalchemy as sa

from heliograph.store.tables import Id, Json, Ms, metadata


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


oauth_clients = sa.Table(  # registered with `heliograph oauth-client create`
    "oauth_clients", metadata,
    sa.Column("id", Id, primary_key=True),  # the client_id
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),  # SHA-256 hex: the secret is shown once
    sa.Column("redirect_uris", Json, nullable=False),  # the first is the default
    sa.Column("created_at", Ms, nullable=False),
)

oauth_codes = sa.Table(  # one authorization request: pending consent, then holding its code until exchanged
    "oauth_codes", metadata,
    sa.Column("id", Id, primary_key=True),  # the request id the consent page names
    sa.Column("client_id", Id, _cascade("oauth_clients.id"), nullable=False, index=True),
    sa.Column("redirect_uri", sa.String(2048), nullable=False),
    sa.Column("state", sa.Text),
    sa.Column("secret", sa.String(128), nullable=False),  # keys the consent form's CSRF token
    sa.Column("code_hash", sa.String(64), unique=True),  # SHA-256 hex of the code, once consent is given
    sa.Column("app_id", Id, _cascade("apps.id")),
    sa.Column("expires_at", Ms, nullable=False, index=True),
    sa.Column("created_at", Ms, nullable=False),
)

oauth_tokens = sa.Table(  # access tokens: JWTs whose `kid` is the id and whose key is the secret
    "oauth_tokens", metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # oat_…
    sa.Column("client_id", Id, _cascade("oauth_clients.id"), nullable=False, index=True),
    sa.Column("app_id", Id, _cascade("apps.id"), nullable=False),
    sa.Column("integration_id", Id, _cascade("integrations.id"), nullable=False, index=True),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)
