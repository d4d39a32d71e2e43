"""Who is calling: Basic auth (key id / secret) or an HS256 JWT signed with a key's secret.

Account keys (`act_…`) have the `account` scope over every app; app keys (`app_…`) the `app`
scope over their own app; custom-integration keys (`int_…`) the `integration` scope over their
integration's app (and, for webhooks, over their own integration only). Keys are cached
in-process for at most `key_cache_seconds`, so a deleted key stops working everywhere within
about a second without a lookup per request.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from heliograph.errors import Forbidden, Unauthorized
from heliograph.store import keys, sessions
from heliograph.store.db import Database

TOKEN_PREFIX = "oat_"  # OAuth access tokens: never a Basic key id, only the `kid` of a JWT
SCOPE_BY_PREFIX = {"act_": "account", "app_": "app", "int_": "integration", TOKEN_PREFIX: "integration"}
# The paths the spec's OAuth tag opens to access tokens (route templates start with one of them).
OAUTH_REACH = ("/v2/apps/{appId}/users", "/v2/apps/{appId}/conversations",
               "/v2/apps/{appId}/integrations/{integrationId}/webhooks", "/oauth/")
_FIND_BY_PREFIX = {"int_": keys.find_integration_key, TOKEN_PREFIX: keys.find_token}


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    scope: str  # "account" | "app" | "integration"
    key_id: str
    app_id: str | None  # None for account keys
    integration_id: str | None = None  # the integration of an integration key or OAuth access token
    client_id: str | None = None  # the OAuth client of an access token

    def require(self, scopes: frozenset[str], app_id: str | None, template: str) -> None:
        """Refuse a scope the operation does not list, an app that is not the key's own, or (for an
        OAuth access token) a path outside the spec's OAuth table."""
        if self.scope not in scopes:
            raise Forbidden(f"This operation requires one of these scopes: {', '.join(sorted(scopes))}")
        if self.app_id is not None and app_id is not None and app_id != self.app_id:
            raise Forbidden("The credentials do not give access to this app")
        if self.client_id is not None and not template.startswith(OAUTH_REACH):
            raise Forbidden("An OAuth access token reaches users, conversations and its own webhooks only")


@dataclasses.dataclass(frozen=True, slots=True)
class EndUser:
    """An end user signed in through an SDK integration (docs/end-users.md)."""

    app_id: str
    user_id: str
    client_id: str
    integration_id: str
    session_id: str = ""
    expires_at: int | None = None  # ms: when the session ends with the user JWT it was opened with, if it does


@dataclasses.dataclass(frozen=True, slots=True)
class UserClaims:
    """What a valid user JWT says: the user's externalId, and when the token expires (ms), if it does."""

    external_id: str
    expires_at: int | None


def session_user(session: Mapping[str, Any], *, now: float) -> EndUser:
    """The end user signed in with a session (a row of sdk_sessions); 401 if it has expired by `now` (ms)
    with the user JWT it was opened with."""
    if session["expires_at"] is not None and session["expires_at"] <= now:
        raise Unauthorized("The session has expired with the user JWT it was opened with: log in again")
    return EndUser(app_id=session["app_id"], user_id=session["user_id"], client_id=session["client_id"],
                   integration_id=session["integration_id"], session_id=session["id"],
                   expires_at=session["expires_at"])


def token_hash(token: str) -> str:
    """How a session token is stored and looked up: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class _Key:
    secret: str
    app_id: str | None
    integration_id: str | None
    client_id: str | None


class Authenticator:
    def __init__(self, db: Database, cache_seconds: float) -> None:
        self._db = db
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, _Key | None]] = {}  # key id -> (fetched at, key or None)

    async def authenticate(self, header: str | None) -> Principal:
        if not header:
            raise Unauthorized("Authorization is required")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            return await self._basic(credentials.strip())
        if scheme.lower() == "bearer":
            return await self._bearer(credentials.strip())
        raise Unauthorized("Unsupported authorization scheme: use Basic or Bearer")

    async def end_user(self, header: str | None, *, app_id: str) -> EndUser:
        """The end user of `Basic base64(userId:sessionToken)`, signed in to this app; 401 otherwise."""
        if not header:
            raise Unauthorized("Authorization is required")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic":
            raise Unauthorized("Unsupported authorization scheme: use Basic userId:sessionToken")
        user_id, token = _basic_pair(credentials.strip())
        async with self._db.read() as conn:
            session = await sessions.find_session(conn, token_hash=token_hash(token))
        if session is None or not hmac.compare_digest(session["user_id"].encode(), user_id.encode()) \
                or session["app_id"] != app_id:
            raise Unauthorized("Invalid credentials")
        return session_user(session, now=time.time() * 1000)

    async def user_jwt(self, header: str | None, *, app_id: str) -> UserClaims:
        """A user JWT (`Bearer`): HS256, `kid` one of this app's keys, `scope: "user"`, a string
        `external_id`, and `exp` (if given) in the future; 401 otherwise."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized("Logging in needs a user JWT: Authorization: Bearer <jwt>")
        try:
            key_id = jwt.get_unverified_header(token.strip()).get("kid")
        except jwt.InvalidTokenError:
            raise Unauthorized("Malformed JWT") from None
        key = await self._key(key_id) if isinstance(key_id, str) and key_id.startswith("app_") else None
        if key is None or key.app_id != app_id:
            raise Unauthorized("A user JWT must be signed with a key of this app, named in `kid`")
        try:
            claims = jwt.decode(token.strip(), key.secret, algorithms=["HS256"], options={"require": ["scope"]})
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"Invalid JWT: {exc}") from None
        external_id = claims.get("external_id")
        if claims["scope"] != "user" or not isinstance(external_id, str) or not external_id:
            raise Unauthorized("A user JWT has `scope: user` and a string `external_id`")
        expires = claims.get("exp")
        return UserClaims(external_id, None if expires is None else int(expires * 1000))

    async def _basic(self, credentials: str) -> Principal:
        key_id, secret = _basic_pair(credentials)
        key = None if key_id.startswith(TOKEN_PREFIX) else await self._key(key_id)
        if key is None or not hmac.compare_digest(key.secret.encode(), secret.encode()):
            raise Unauthorized("Invalid credentials")
        return self._principal(key_id, key)

    async def _bearer(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthorized("Malformed JWT") from None
        key_id = header.get("kid")
        if header.get("alg") != "HS256" or not isinstance(key_id, str):
            raise Unauthorized("A JWT must be signed with HS256 and name its key in `kid`")
        key = await self._key(key_id)
        if key is None:
            raise Unauthorized("Invalid credentials")
        try:
            claims = jwt.decode(token, key.secret, algorithms=["HS256"], options={"require": ["scope"]})
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"Invalid JWT: {exc}") from None
        principal = self._principal(key_id, key)
        if claims["scope"] != principal.scope:
            raise Unauthorized(f"The JWT scope must be '{principal.scope}' for key {key_id}")
        return principal

    @staticmethod
    def _principal(key_id: str, key: _Key) -> Principal:
        return Principal(scope=SCOPE_BY_PREFIX[key_id[:4]], key_id=key_id, app_id=key.app_id,
                         integration_id=key.integration_id, client_id=key.client_id)

    async def _key(self, key_id: str) -> _Key | None:
        if key_id[:4] not in SCOPE_BY_PREFIX:
            return None
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        find = _FIND_BY_PREFIX.get(key_id[:4], keys.find_api_key)
        async with self._db.read() as conn:
            row = await find(conn, key_id=key_id)
        key = None if row is None else _Key(row["secret"], row["app_id"], row["integration_id"], row["client_id"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key_id] = (now, key)
        return key

    def forget(self, key_id: str) -> None:
        """Drop a key from this process's cache at once (called when this process deletes it)."""
        self._cache.pop(key_id, None)

    def forget_app(self, app_id: str) -> None:
        """Drop every cached key of an app, integration keys included (when this process deletes the app)."""
        self._forget_if(lambda key: key.app_id == app_id)

    def forget_integration(self, integration_id: str) -> None:
        """Drop every cached key or access token of an integration (when this process deletes it)."""
        self._forget_if(lambda key: key.integration_id == integration_id)

    def _forget_if(self, matches: Callable[[_Key], bool]) -> None:
        for key_id in [k for k, (_, key) in self._cache.items() if key is not None and matches(key)]:
            self.forget(key_id)


def _basic_pair(credentials: str) -> tuple[str, str]:
    """The two halves of Basic credentials (`name:secret`, base64); 401 if they are not that."""
    try:
        name, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Malformed Basic credentials") from None
    return name, secret
