"""OAuth for marketplace integrations (Authorize, GetToken, RevokeAccess, GetTokenInfo) and its clients.

An operator registers a client (`heliograph oauth-client create`). Authorize checks the client and its
redirect URI and stores a pending request; the consent page (account or app key, in the browser) picks
an app and answers it: a single-use code, valid for `LIFETIME_MS`, goes to the redirect URI. GetToken
trades the code for an access token (exchanged again, the code revokes that token): an HS256 JWT whose
`kid` is an `oat_…` token id and whose key is that token's secret, bound to an integration of type
`oauth` (one per client and app) that owns the webhooks the token creates. RevokeAccess deletes that
integration: its tokens and webhooks go with it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.auth import TOKEN_PREFIX, Principal
from heliograph.errors import BadRequest, Forbidden, Unauthorized
from heliograph.ids import IdFactory, new_secret
from heliograph.schemas import render
from heliograph.schemas.oauth import ConsentForm, GetTokenBody
from heliograph.schemas.webhooks import check_target
from heliograph.services.integrations import OAUTH
from heliograph.store import oauth as store
from heliograph.store.apps import require_app
from heliograph.store.integrations import insert_integration

LIFETIME_MS = 10 * 60 * 1000  # a pending request and a code: RFC 6749's recommended maximum for codes
MAX_REDIRECT_URIS = 10


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _with_query(uri: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{query}"


# --- clients (the CLI) -------------------------------------------------------------------------

async def create_client(conn: AsyncConnection, *, ids: IdFactory, name: str,
                        redirect_uris: list[str]) -> dict[str, Any]:
    """Register a client; its secret is in this answer only (the server keeps a SHA-256 digest)."""
    if not 1 <= len(name) <= 100:
        raise BadRequest("Invalid name: must be 1 to 100 characters")
    if not 1 <= len(redirect_uris) <= MAX_REDIRECT_URIS:
        raise BadRequest(f"Give 1 to {MAX_REDIRECT_URIS} redirect URIs")
    for uri in redirect_uris:
        check_target(uri, field="redirect URI")
        if urlsplit(uri).fragment or uri.endswith("#"):
            raise BadRequest("Invalid redirect URI: must not contain a fragment")
    client_id, now = ids.new_at()
    secret = new_secret()
    uris = list(dict.fromkeys(redirect_uris))  # in order, each once
    await store.insert_client(conn, {"id": client_id, "name": name, "secret_hash": _digest(secret),
                                     "redirect_uris": uris, "created_at": now})
    return {"clientId": client_id, "clientSecret": secret, "name": name, "redirectUris": uris}


async def list_clients(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every client with the apps it is connected to (secrets are never shown again)."""
    connected: dict[str, list[str]] = {}
    for row in await store.connected_apps(conn):
        connected.setdefault(row["client_id"], []).append(row["app_id"])
    return [{"clientId": r["id"], "name": r["name"], "redirectUris": r["redirect_uris"],
             "connectedApps": connected.get(r["id"], [])} for r in await store.list_clients(conn)]


async def delete_client(conn: AsyncConnection, *, client_id: str) -> None:
    """Remove a client and every connection it has: integrations, their webhooks and tokens."""
    await store.delete_client(conn, client_id=client_id)


# --- the authorization request and its consent -------------------------------------------------

async def authorize(conn: AsyncConnection, *, ids: IdFactory, client_id: str | None, response_type: str | None,
                    state: str | None, redirect_uri: str | None) -> str:
    """GET /oauth/authorize: where to send the browser (the consent page, or back with an error)."""
    if not client_id:
        raise BadRequest("Missing required query parameter `client_id`")
    client = await store.find_client(conn, client_id=client_id)
    if client is None:
        raise BadRequest("Invalid client_id: no OAuth client has this id")
    uri = client["redirect_uris"][0] if redirect_uri is None else redirect_uri
    if uri not in client["redirect_uris"]:
        raise BadRequest("Invalid redirect_uri: it is not one of the client's registered redirect URIs")
    if response_type != "code":  # RFC 6749 4.1.2.1: the client and URI are known, so tell the client
        error = "invalid_request" if response_type is None else "unsupported_response_type"
        return _with_query(uri, error=error, state=state)
    request_id, now = ids.new_at()
    await store.delete_expired(conn, now=now)  # forget abandoned requests
    await store.insert_request(conn, {"id": request_id, "client_id": client_id, "redirect_uri": uri,
                                      "state": state, "secret": new_secret(), "code_hash": None,
                                      "app_id": None, "expires_at": now + LIFETIME_MS, "created_at": now})
    return f"consent?{urlencode({'request': request_id})}"


def csrf_token(secret: str, principal: Principal) -> str:
    """The consent form's token: bound to the request and to the key that saw the page."""
    return hmac.new(secret.encode(), principal.key_id.encode(), hashlib.sha256).hexdigest()


async def _pending(conn: AsyncConnection, request_id: str, now: int) -> Any:
    row = await store.find_pending(conn, request_id=request_id, now=now)
    if row is None:
        raise BadRequest("This authorization request is unknown, answered or expired: "
                         "start again from the integration")
    return row


async def consent(conn: AsyncConnection, *, request_id: str, principal: Principal, now: int) -> dict[str, Any]:
    """What the consent page shows: the client's name, the apps the caller may connect, the CSRF token."""
    row = await _pending(conn, request_id, now)
    apps = [(r["id"], r["display_name"]) for r in await store.app_names(conn, app_id=principal.app_id)]
    return {"client": row["name"], "apps": apps, "request": request_id, "csrf": csrf_token(row["secret"], principal)}


async def decide(conn: AsyncConnection, *, now: int, form: ConsentForm, principal: Principal) -> str:
    """The consent form's answer: a code (or `access_denied`) sent to the request's redirect URI."""
    row = await _pending(conn, form.request, now)
    if not hmac.compare_digest(csrf_token(row["secret"], principal).encode(), form.csrf.encode()):
        raise Forbidden("Invalid consent form: reload the consent page and answer it again")
    if form.decision == "deny":
        await store.delete_request(conn, request_id=row["id"])
        return _with_query(row["redirect_uri"], error="access_denied", state=row["state"])
    if not form.app_id:
        raise BadRequest("Missing required field `app_id`: choose the app to connect")
    if principal.app_id not in (None, form.app_id):
        raise Forbidden("The credentials do not give access to this app")
    await require_app(conn, app_id=form.app_id)
    code = new_secret()
    if not await store.update_request(conn, request_id=row["id"], code_hash=_digest(code), app_id=form.app_id,
                                      expires_at=now + LIFETIME_MS):  # another tab answered it meanwhile
        raise BadRequest("This authorization request was answered already")
    return _with_query(row["redirect_uri"], code=code, state=row["state"])


# --- tokens ------------------------------------------------------------------------------------

_INVALID_CODE = "Invalid code: it is unknown, expired or already used"


class CodeReused(BadRequest):
    """A code exchanged again: the 400 it gets, returned (not raised) by `get_token` so that the revocation
    commits; `revoked` names the token the code gave (None if the code was forgotten meanwhile)."""

    def __init__(self, revoked: str | None) -> None:
        super().__init__(_INVALID_CODE)
        self.revoked = revoked


async def get_token(conn: AsyncConnection, *, ids: IdFactory, body: GetTokenBody) -> dict[str, str] | CodeReused:
    """POST /oauth/token: trade a code, once and in time, for an access token to its app.

    A code exchanged again revokes the token it gave (RFC 6749 4.1.2) and is refused: the refusal is
    returned, for the caller to commit the revocation before answering it."""
    if body.grant_type != "authorization_code":
        raise BadRequest("Invalid grant_type: must be `authorization_code`")
    client = await store.find_client(conn, client_id=body.client_id)
    if client is None or not hmac.compare_digest(client["secret_hash"], _digest(body.client_secret)):
        raise Unauthorized("Invalid client_id or client_secret")
    now = ids.clock()
    code_hash = _digest(body.code)
    row = await store.find_code(conn, code_hash=code_hash, client_id=body.client_id)
    if row is None or (row["token_id"] is None and row["expires_at"] <= now):
        raise BadRequest(_INVALID_CODE)
    new_id, created = ids.new_at()
    token_id = TOKEN_PREFIX + new_id
    # the code is single-use: of two concurrent exchanges, one claims it and the other finds it used
    if not await store.claim_code(conn, request_id=row["id"], token_id=token_id, now=now):
        return await _revoke_issued(conn, code_hash=code_hash, client_id=body.client_id)
    integration_id = await _connection(conn, ids=ids, client=client, app_id=row["app_id"])
    secret = new_secret()
    await store.insert_token(conn, {"id": token_id, "client_id": client["id"], "app_id": row["app_id"],
                                    "integration_id": integration_id, "secret": secret, "created_at": created})
    claims = {"scope": "integration", "appId": row["app_id"], "iat": created // 1000}
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": token_id})
    return {"access_token": token, "token_type": "Bearer"}


async def _revoke_issued(conn: AsyncConnection, *, code_hash: str, client_id: str) -> CodeReused:
    """Revoke the token a used code gave; its connection goes too (as by RevokeAccess) if no token is left."""
    row = await store.find_code(conn, code_hash=code_hash, client_id=client_id)
    if row is None or row["token_id"] is None:  # forgotten meanwhile
        return CodeReused(None)
    integration_id = await store.delete_token(conn, token_id=row["token_id"])
    if integration_id is not None and not await store.count_tokens(conn, integration_id=integration_id):
        await store.delete_connection(conn, integration_id=integration_id)
    return CodeReused(row["token_id"])


async def _connection(conn: AsyncConnection, *, ids: IdFactory, client: Any, app_id: str) -> str:
    """The client's `oauth` integration in the app: the one made by an earlier token, or a new one."""
    found = await store.find_connection(conn, client_id=client["id"], app_id=app_id)
    if found is not None:
        return found
    integration_id, now = ids.new_at()
    await insert_integration(conn, {
        "id": integration_id, "app_id": app_id, "type": OAUTH, "status": "active", "display_name": client["name"],
        "config": {"clientId": client["id"]}, "created_at": now})
    return integration_id


def _token_holder(principal: Principal) -> tuple[str, str]:
    if principal.client_id is None or principal.app_id is None or principal.integration_id is None:
        raise Forbidden("This operation takes an OAuth access token")
    return principal.app_id, principal.integration_id


async def revoke_access(conn: AsyncConnection, *, principal: Principal) -> str:
    """DELETE /oauth/authorization: remove the token's integration, its webhooks and every token of it."""
    _, integration_id = _token_holder(principal)
    await store.delete_connection(conn, integration_id=integration_id)
    return integration_id


async def get_token_info(conn: AsyncConnection, *, principal: Principal) -> dict[str, Any]:
    """GET /v2/tokenInfo: the app the access token is for (Heliograph has no subdomains)."""
    app_id, _ = _token_holder(principal)
    return render.app(await require_app(conn, app_id=app_id))
