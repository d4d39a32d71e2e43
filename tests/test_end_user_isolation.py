"""User isolation on the end users' SDK API and stream (issue 11 §4, docs/end-users.md §2 "Reach"), on a live
server, both engines.

Two apps: in the first, anonymous users A and B and an identified user D whose session has expired; in the
second, user C. Every end-user route of the route registry is called with A's credentials on B's user,
conversation and message ids, with C's credentials on the first app's paths (and on its own app's paths
with the first app's ids), with A's on the second app's paths, with forged and garbled credentials, with an
expired user JWT and an expired session, and with none. Each is refused with its documented status (the
stream with its close code), in the spec's error envelope, names nothing of another user that the request
did not carry itself, answers another user's id exactly as it answers an id that names nothing (existence
is not disclosed), and changes nothing: the v2 API shows every user, conversation and message as before,
and no row of the database (sessions and emitted events included) differs.

The table of requests is checked against the registry (`test_the_table_covers_every_end_user_route`): an
end-user route added without its row here fails the suite.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc
from starlette.routing import Route as Endpoint
from starlette.routing import WebSocketRoute
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from heliograph.api import all_routes, app_stream, stream
from heliograph.api import end_users as sdk
from heliograph.app import create_app
from heliograph.config import Settings
from heliograph.schemas.webhooks import TRIGGERS
from heliograph.store import tables as t
from tests.conftest import Server, sdk_client
from tests.end_users import EVIL, PROTOCOL, SHOP, SignedIn, Visitor, auth_protocol, basic, frame, user_jwt
from tests.receiver import Receiver
from tests.spec import SpecChecker
from tests.utils import MISSING_ID, in_database, open_database

Key = tuple[str, str]  # (METHOD, path template); a WebSocket route's method is WEBSOCKET
Body = dict[str, Any]  # httpx keyword arguments: json=… or files=…
FORM = {"type": "form", "fields": [{"type": "text", "name": "name", "label": "Name?"}]}
ANSWERS = [{"type": "text", "name": "name", "text": "intruder"}]


def registry() -> set[Key]:
    """Every route under /sdk/ that an app built by `create_app` answers: the `Api`'s (the route registry's
    `Routes`) and Starlette's own (the stream's WebSocket, a fallback's endpoint)."""
    with tempfile.TemporaryDirectory() as directory:  # an app whose database is never opened
        app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{directory}/routes.sqlite3",
                                  data_dir=Path(directory), dispatcher=False))
    keys = {(route.method, route.template) for route in all_routes() if route.template.startswith("/sdk/")}
    for own in app.router.routes:
        if isinstance(own, WebSocketRoute) and own.path.startswith("/sdk/"):
            keys.add(("WEBSOCKET", own.path))
        elif isinstance(own, Endpoint) and own.path.startswith("/sdk/"):
            keys |= {(method, own.path) for method in own.methods or ()}
    return keys


# --- the people -----------------------------------------------------------------------------------

@dataclasses.dataclass
class Person:
    """An end user with what a leak would show of them: their ids, their token, their texts."""

    visitor: Visitor
    app_id: str
    conversation: str
    form: str  # a form message of the business in their conversation
    buttons: str  # a message with a postback button, in their conversation
    said: str  # a message of theirs
    ticket: str  # opens their stream's SSE fallback (`…/events?ticket=`)
    secrets: set[str]  # all of the above, their token, client ids, and the texts that name them

    @property
    def id(self) -> str:
        return self.visitor.id

    def params(self, app_id: str | None = None) -> dict[str, str]:
        """Path parameters that name this person's user and conversation (in their app, or `app_id`)."""
        return {"appId": app_id or self.app_id, "userId": self.id, "conversationId": self.conversation}


@dataclasses.dataclass
class World:
    server: Server
    client: httpx.Client  # no credentials of its own, like a widget's page
    admin: httpx.Client  # the account key, for the v2 API
    apps: tuple[str, str]
    webs: tuple[str, str]
    keys: tuple[sc.AppKey, sc.AppKey]
    recorders: tuple[str, str]  # each app's webhook (its id), which takes every trigger
    a: Person
    b: Person
    c: Person
    d: Person  # identified, whose session ended with its JWT

    def everyone(self) -> list[Person]:
        return [self.a, self.b, self.c, self.d]


def _business_says(admin: httpx.Client, app_id: str, conversation: str, content: dict[str, Any]) -> str:
    response = admin.post(f"/v2/apps/{app_id}/conversations/{conversation}/messages",
                          json={"author": {"type": "business"}, "content": content})
    assert 201 == response.status_code, response.text
    return str(response.json()["messages"][0]["id"])


def _person(admin: httpx.Client, visitor: Visitor, app_id: str, name: str) -> Person:
    """The visitor with a profile, metadata, a conversation, their message, a form and a postback button."""
    marker = f"{name}-{secrets.token_hex(6)}"
    assert 200 == visitor.update(profile={"givenName": f"given-{marker}"},
                                 metadata={"secret": f"metadata-{marker}"}).status_code
    conversation = visitor.start(displayName=f"conversation-{marker}").json()["conversation"]["id"]
    said = visitor.say(conversation, f"text-{marker}").json()["messages"][0]["id"]
    form = _business_says(admin, app_id, conversation, FORM)
    buttons = _business_says(admin, app_id, conversation, {"type": "text", "text": f"buttons-{marker}",
                                                                 "actions": [{"type": "postback", "text": "Go",
                                                                              "payload": f"payload-{marker}"}]})
    clients = admin.get(f"/v2/apps/{app_id}/users/{visitor.id}/clients").json()["clients"]
    ticket = visitor.call("POST", f"/appusers/{visitor.id}/ticket").json()["ticket"]
    found = {visitor.id, visitor.token, conversation, said, form, buttons, marker, ticket,
             *(c["id"] for c in clients)}
    return Person(visitor, app_id, conversation, form, buttons, said, ticket, found)


def _expired_person(server: Server, client: httpx.Client, admin: httpx.Client, app_id: str, web: str,
                    key: sc.AppKey) -> Person:
    """D: identified by a user JWT of the app, with a conversation, whose session has since expired."""
    external = f"d-{secrets.token_hex(6)}"
    token = user_jwt(key, external_id=external, exp=int(time.time()) + 3600)
    signed = client.post(f"/sdk/v2/apps/{app_id}/login", json={"integrationId": web},
                         headers={"origin": SHOP, "authorization": f"Bearer {token}"})
    assert 200 == signed.status_code, signed.text
    visitor = SignedIn(client, app_id, signed.json()["user"]["id"], signed.json()["sessionToken"])
    person = _person(admin, visitor, app_id, "d")
    person.secrets.add(external)
    in_database(server.database_url, sa.update(t.sdk_sessions).where(t.sdk_sessions.c.user_id == visitor.id)
                .values(expires_at=int(time.time() * 1000) - 1))
    return person


@pytest.fixture(scope="module")
def world(server: Server, checker: SpecChecker) -> Iterator[World]:
    """The two apps and their four users; every app's events are kept (a webhook takes every trigger)."""
    account = sdk_client(server, checker, *server.account_key)
    receiver = Receiver()
    try:
        yield from _world(server, account, receiver)
    finally:
        receiver.stop()


def _world(server: Server, account: sc.ApiClient, receiver: Receiver) -> Iterator[World]:
    with httpx.Client(base_url=server.base_url) as client, \
            httpx.Client(base_url=server.base_url, auth=server.account_key) as admin:
        apps, webs, keys, recorders = [], [], [], []
        for name in ("First", "Second"):
            app_id = str(sc.AppsApi(account).create_app(sc.AppCreateBody(display_name=name)).app.id)
            recorders.append(admin.post(f"/v2/apps/{app_id}/integrations", json={
                "type": "custom", "displayName": "Recorder",
                "webhooks": [{"target": receiver.url, "triggers": sorted(TRIGGERS), "includeFullUser": True}]}
            ).json()["integration"]["webhooks"][0]["id"])
            webs.append(admin.post(f"/v2/apps/{app_id}/integrations", json={
                "type": "web", "originWhitelist": [SHOP]}).json()["integration"]["id"])
            keys.append(sc.AppKeysApi(account).create_app_key(app_id, sc.AppKeyCreateBody(display_name="k")).key)
            apps.append(app_id)
        a, b = (_person(admin, Visitor(client, apps[0], webs[0]), apps[0], name) for name in ("a", "b"))
        c = _person(admin, Visitor(client, apps[1], webs[1]), apps[1], "c")
        d = _expired_person(server, client, admin, apps[0], webs[0], keys[0])
        yield World(server, client, admin, (apps[0], apps[1]), (webs[0], webs[1]), (keys[0], keys[1]),
                    (recorders[0], recorders[1]), a, b, c, d)


# --- what must not change -------------------------------------------------------------------------

def views(world: World) -> dict[str, Any]:
    """Every user as the business sees them through the v2 API: GetUser, ListClients, their conversations,
    and each conversation's participants and messages."""
    seen: dict[str, Any] = {}
    for person in world.everyone():
        base = f"/v2/apps/{person.app_id}"
        seen[person.id] = [world.admin.get(f"{base}/users/{person.id}").json(),
                           world.admin.get(f"{base}/users/{person.id}/clients").json(),
                           world.admin.get(f"{base}/conversations", params={"filter[userId]": person.id}).json()]
        for tail in ("participants", "messages"):
            seen[f"{person.conversation}/{tail}"] = world.admin.get(
                f"{base}/conversations/{person.conversation}/{tail}").json()
    return seen


_REFLECTED: dict[str, list[sa.Table]] = {}  # the tables of each database, reflected once


def snapshot(database_url: str) -> dict[str, list[str]]:
    """Every row of every table, as text; deliveries aside (the dispatcher moves them on its own time:
    the events they carry are in `events`, which is compared)."""
    async def read() -> dict[str, list[str]]:
        async with open_database(database_url) as db, db.read() as conn:
            if database_url not in _REFLECTED:
                metadata = sa.MetaData()
                await conn.run_sync(metadata.reflect)
                _REFLECTED[database_url] = [table for table in metadata.sorted_tables if table.name not in (
                    "deliveries", "delivery_attempts", "alembic_version")]
            return {table.name: sorted(repr(tuple(row)) for row in await conn.execute(sa.select(table)))
                    for table in _REFLECTED[database_url]}
    return asyncio.run(read())


@dataclasses.dataclass(frozen=True)
class State:
    views: dict[str, Any]
    rows: dict[str, list[str]]


def state(world: World) -> State:
    return State(views(world), snapshot(world.server.database_url))


# --- the table of requests ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    """One request that must be refused: who sends it, the path's parameters, the body's target (whose
    message ids it names), and the expected status and code."""

    name: str
    caller: Person | None  # whose credentials, if someone's (for the secrets it may see)
    headers: dict[str, str]
    params: dict[str, str]
    target: Person
    expected: tuple[int, str]
    hides: Person | None = None  # the other user whose ids, replaced by unknown ones, must answer the same


BODIES: dict[Key, Callable[[Person], Body]] = {  # every route that takes a signed-in user's credentials
    ("POST", sdk.LOGOUT): lambda _: {},
    ("GET", sdk.APPUSER): lambda _: {},
    ("PUT", sdk.APPUSER): lambda _: {"json": {"metadata": {"owned": "yes"}}},
    ("GET", sdk.SYNC): lambda _: {},
    ("GET", sdk.CONVERSATIONS): lambda _: {},
    ("POST", sdk.CONVERSATIONS): lambda _: {"json": {"displayName": "intruder"}},
    ("GET", sdk.MESSAGES): lambda _: {},
    ("POST", sdk.MESSAGES): lambda _: {"json": {"content": {"type": "text", "text": "intruder"}}},
    ("POST", sdk.ACTIVITY): lambda _: {"json": {"type": "conversation:read"}},
    ("POST", sdk.FILES): lambda _: {"files": {"source": ("x.txt", b"intruder", "text/plain")}},
    ("POST", sdk.POSTBACK): lambda to: {"json": {"actionId": f"{to.buttons}:0"}},
    ("POST", sdk.FORM_RESPONSES): lambda to: {"json": {"quotedMessageId": to.form, "fields": ANSWERS}},
    ("POST", sdk.TICKET): lambda _: {},
    ("GET", stream.EVENTS): lambda _: {"params": {"timeout": "0"}},  # the long-poll (SSE signs in the same way)
    ("HEAD", stream.EVENTS): lambda _: {"params": {"timeout": "0"}},
}
PUBLIC = {("GET", sdk.CONFIG), ("POST", sdk.APPUSERS), ("POST", sdk.LOGIN)}  # cases of their own below
SOCKETS = {("WEBSOCKET", stream.ROUTE), ("WEBSOCKET", app_stream.ROUTE)}  # cases in their tests below


def not_found_code(template: str) -> str:
    return "conversation_not_found" if "{conversationId}" in template else "user_not_found"


def session_cases(world: World, template: str) -> list[Case]:
    """The refusals every route of a signed-in user must make."""
    a, b, c, d = world.a, world.b, world.c, world.d
    first, second = world.apps
    hidden, unknown = (404, not_found_code(template)), (401, "unauthorized")
    forged = basic(b.id, secrets.token_urlsafe(32))
    expired_jwt = {"authorization": f"Bearer {user_jwt(world.keys[0], external_id='d', exp=1_000_000_000)}"}
    cases = [
        Case("A on B's user and conversation", a, basic(a.id, a.visitor.token), b.params(), b, hidden, hides=b),
        Case("C on the first app's paths", c, basic(c.id, c.visitor.token), b.params(), b, unknown),
        Case("C on its own app's path, with the first app's ids", c, basic(c.id, c.visitor.token),
             b.params(second), b, hidden, hides=b),
        Case("A on the second app's paths", a, basic(a.id, a.visitor.token), c.params(), c, unknown),
        Case("A on its own ids, in the second app's path", a, basic(a.id, a.visitor.token), a.params(second), a,
             unknown),
        Case("a forged session token", None, forged, b.params(), b, unknown),
        Case("garbled Basic credentials", None, {"authorization": "Basic !!!not-base64"}, b.params(), b, unknown),
        Case("B's id with A's token", a, basic(b.id, a.visitor.token), b.params(), b, unknown),
        Case("a bearer that is no JWT", None, {"authorization": "Bearer garbage"}, b.params(), b, unknown),
        Case("an expired user JWT", None, expired_jwt, d.params(), d, unknown),
        Case("the session of an expired user JWT", d, basic(d.id, d.visitor.token), d.params(), d, unknown),
        Case("no credentials", None, {}, b.params(), b, unknown),
    ]
    if template in (sdk.POSTBACK, sdk.FORM_RESPONSES):  # B's message named in A's own conversation
        cases.append(Case("A's conversation, B's message", a, basic(a.id, a.visitor.token),
                          {**a.params(first)}, b, (404, "not_found"), hides=b))
    if template == stream.EVENTS:  # an EventSource signs in with a ticket in the query
        cases += [Case("A's ticket on B's events", a, {}, {**b.params(), "ticket": a.ticket}, b, hidden, hides=b),
                  Case("C's ticket on the first app", c, {}, {**b.params(), "ticket": c.ticket}, b, unknown),
                  Case("A's ticket on the second app", a, {}, {**c.params(), "ticket": a.ticket}, c, unknown),
                  Case("a forged ticket", None, {}, {**b.params(), "ticket": secrets.token_urlsafe(32)}, b, unknown)]
    return cases


def public_cases(world: World, key: Key) -> list[tuple[Case, Body]]:
    """The routes that sign no one in by a session: the config, a new anonymous user, login."""
    a, b, c = world.a, world.b, world.c
    first, second = world.apps
    nobody = {"appId": first}
    if key == ("GET", sdk.CONFIG):  # public by design; it must name no user of either app
        return [(Case("the other app's config, with A's credentials", a, basic(a.id, a.visitor.token),
                      {"integrationId": world.webs[1]}, c, (200, "")), {})]
    if key == ("POST", sdk.APPUSERS):
        return [(Case("a user for the second app's integration", a, basic(a.id, a.visitor.token), nobody, b,
                      (404, "integration_not_found")), {"json": {"integrationId": world.webs[1]}}),
                (Case("a user of the second app for the first's integration", None, {}, {"appId": second}, c,
                      (404, "integration_not_found")), {"json": {"integrationId": world.webs[0]}})]
    valid = {"authorization": f"Bearer {user_jwt(world.keys[0], external_id='mallory')}"}
    forged = jwt.encode({"scope": "user", "external_id": "mallory"}, "x" * 64, algorithm="HS256",
                        headers={"kid": world.keys[0].id})
    expired = user_jwt(world.keys[0], external_id="mallory", exp=1_000_000_000)
    web = {"integrationId": world.webs[0]}
    login = (401, "unauthorized")
    return [(Case(name, caller, headers, {"appId": app}, target, expected), {"json": body}) for
            name, caller, headers, app, target, expected, body in [
        ("A's session handing B over", a, valid, first, b, login,
         {**web, "userId": b.id, "sessionToken": a.visitor.token}),
        ("C's session handed to the first app", c, valid, first, c, login,
         {**web, "userId": c.id, "sessionToken": c.visitor.token}),
        ("a JWT of the second app's key", None, {"authorization": f"Bearer {user_jwt(world.keys[1], external_id='m')}"},
         first, b, login, web),
        ("a JWT of the first app's key on the second app", None, valid, second, c, login,
         {"integrationId": world.webs[1]}),
        ("the second app's integration", None, valid, first, c, (404, "integration_not_found"),
         {"integrationId": world.webs[1]}),
        ("a forged JWT", None, {"authorization": f"Bearer {forged}"}, first, b, login, web),
        ("a garbled JWT", None, {"authorization": "Bearer garbage"}, first, b, login, web),
        ("A's session credentials", a, basic(a.id, a.visitor.token), first, b, login, web),
        ("an expired user JWT", None, {"authorization": f"Bearer {expired}"}, first, b, login, web),
        ("no credentials", None, {}, first, b, login, web),
    ]]


# --- checking one request -------------------------------------------------------------------------

def send(world: World, method: str, template: str, case: Case, body: Body, *,
         swap: str | None = None) -> httpx.Response:
    """The case's request; with `swap`, every id of that user replaced by an id that names nothing."""
    params, content = case.params, body
    if swap is not None:
        person = next(p for p in world.everyone() if p.id == swap)
        ids = {person.id, person.conversation, person.form, person.buttons}
        params = {k: MISSING_ID if v in ids else v for k, v in params.items()}
        content = json.loads(_replace(json.dumps(body), ids)) if "json" in body else body
    if "ticket" in params:
        content = {**content, "params": {**content.get("params", {}), "ticket": params["ticket"]}}
    return world.client.request(method, template.format_map(params), headers={"origin": SHOP, **case.headers},
                                **content)


def _replace(text: str, ids: set[str]) -> str:
    for found in ids:
        text = text.replace(found, MISSING_ID)
    return text


def leaked(world: World, case: Case, request: str, answer: str) -> set[str]:
    """What the answer names of users other than the caller, beyond what the request itself carried."""
    others = [p for p in world.everyone() if case.caller is None or p.id != case.caller.id]
    return {found for person in others for found in person.secrets if found in answer and found not in request}


def check(world: World, method: str, template: str, case: Case, body: Body) -> None:
    response = send(world, method, template, case, body)
    request = template.format_map(case.params) + json.dumps(body.get("json"))
    where = f"{method} {template}, {case.name}"
    assert set() == leaked(world, case, request, response.text), where
    if case.expected[0] == 200:
        assert 200 == response.status_code, where
        return
    if method == "HEAD":  # no body to check
        assert (case.expected[0], b"") == (response.status_code, response.content), where
        return
    errors = response.json()["errors"]
    assert (case.expected, [{"code", "title"}]) == ((response.status_code, errors[0]["code"]),
                                                    [set(error) for error in errors]), where
    if case.hides is not None:  # another user's ids answer as ids that name nothing
        unknown = send(world, method, template, case, body, swap=case.hides.id)
        ids = {case.hides.id, case.hides.conversation, case.hides.form, case.hides.buttons}
        assert (response.status_code, _replace(response.text, ids)) == (unknown.status_code, unknown.text), where


# --- the tests ------------------------------------------------------------------------------------

def test_the_table_covers_every_end_user_route() -> None:
    """Every /sdk/ route the app answers has its requests here (a preflight's are made for each one), and
    the table names no route the app does not answer."""
    tabled = set(BODIES) | PUBLIC | SOCKETS
    preflights = {key for key in registry() if key[0] == "OPTIONS"}
    assert sorted(registry() - preflights) == sorted(tabled)


@pytest.mark.parametrize("key", sorted(BODIES), ids=lambda key: f"{key[0]} {key[1]}")
def test_a_signed_in_route_refuses_everyone_but_its_user(world: World, key: Key) -> None:
    """Each refusal has its status and code in the spec's envelope, names nothing of another user, answers
    another user's ids as unknown ids, and changes nothing."""
    method, template = key
    before = state(world)
    for case in session_cases(world, template):
        check(world, method, template, case, BODIES[key](case.target))
    assert before == state(world)


@pytest.mark.parametrize("key", sorted(PUBLIC), ids=lambda key: f"{key[0]} {key[1]}")
def test_a_public_route_refuses_other_apps_and_sessions(world: World, key: Key) -> None:
    """The config, a new anonymous user and login: another app's integration, key or session is refused,
    and nothing changes."""
    before = state(world)
    for case, body in public_cases(world, key):
        check(world, key[0], key[1], case, body)
    assert before == state(world)


def test_preflights_name_no_one(world: World) -> None:
    """A preflight carries no credentials: granted with an empty body to the shop, refused in the envelope
    to another origin, for every path and either app."""
    before = state(world)
    for _, template in sorted(key for key in registry() if key[0] == "OPTIONS"):
        for person in (world.b, world.c):
            path = template.format_map({**person.params(), "integrationId": world.webs[0]})
            granted, refused = (world.client.options(path, headers={
                "origin": origin, "access-control-request-method": "GET", **basic(world.a.id, world.a.visitor.token)})
                for origin in (SHOP, EVIL))
            assert ((200, b""), (403, "forbidden")) == ((granted.status_code, granted.content),
                                                        (refused.status_code, refused.json()["errors"][0]["code"]))
            assert set() == {s for p in world.everyone() for s in p.secrets if s in refused.text and s not in path}
    assert before == state(world)


def _closed(world: World, person: Person, *, user_id: str, protocols: list[str] | None = None,
            app_id: str | None = None) -> tuple[int, str]:
    """The close code and reason of a stream the server refuses, opened with `person`'s credentials."""
    connecting = SignedIn(world.client, app_id or person.app_id, person.id, person.visitor.token)
    with connecting.connect(world.server.base_url, protocols=protocols, user_id=user_id) as socket, \
            pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_the_stream_refuses_everyone_but_its_user(world: World) -> None:
    """The stream closes 4404 on another user's stream (in either app) and 4401 for another app's
    credentials, forged, garbled or expired ones, or none; the reason names no one; nothing changes."""
    a, b, c, d = world.a, world.b, world.c, world.d
    before = state(world)
    refusals = [
        (_closed(world, a, user_id=b.id), 4404),
        (_closed(world, c, user_id=b.id), 4404),
        (_closed(world, c, user_id=b.id, app_id=world.apps[0]), 4401),
        (_closed(world, a, user_id=c.id, app_id=world.apps[1]), 4401),
        (_closed(world, a, user_id=a.id, app_id=world.apps[1]), 4401),
        (_closed(world, b, user_id=b.id, protocols=[PROTOCOL, auth_protocol(b.id, secrets.token_urlsafe(32))]), 4401),
        (_closed(world, b, user_id=b.id, protocols=[PROTOCOL, "auth.!!!"]), 4401),
        (_closed(world, b, user_id=b.id, protocols=[PROTOCOL, auth_protocol(b.id, a.visitor.token)]), 4401),
        (_closed(world, d, user_id=d.id), 4401),
        (_closed(world, b, user_id=b.id, protocols=[PROTOCOL]), 4401),
    ]
    assert [expected for _, expected in refusals] == [code for (code, _), _ in refusals]
    assert set() == {s for p in world.everyone() for s in p.secrets for (_, reason), _ in refusals if s in reason}
    assert before == state(world)


def _stream_with_cursor(world: World, named: str) -> list[dict[str, Any]]:
    """A's stream opened with a cursor that names the conversation `named` from its start: its frames, `ready`
    first, up to A's next message."""
    a = world.a
    cursor = base64.urlsafe_b64encode(json.dumps({named: 0}).encode()).rstrip(b"=").decode()
    with a.visitor.connect(world.server.base_url, cursor=cursor) as socket:
        frames = [frame(socket)]
        sent = a.visitor.say(a.conversation, "after the cursor").json()["messages"][0]["id"]
        while frames[-1].get("message", {}).get("id") != sent:
            frames.append(frame(socket))
    return frames


def test_a_cursor_naming_another_users_conversation_reads_nothing_of_it(world: World) -> None:
    """A's stream opened with a cursor that names B's conversation carries A's own conversation only (its
    history from the start, since the cursor does not name it), nothing of B's but the id A sent, and
    treats B's conversation exactly as an id that names nothing."""
    a, b = world.a, world.b
    frames = {named: _stream_with_cursor(world, named) for named in (b.conversation, MISSING_ID)}
    shown = {named: [(f["type"], f.get("conversationId")) for f in got if f["type"] not in ("ready", "message")]
             for named, got in frames.items()}
    assert {a.conversation} == {f["conversationId"] for got in frames.values() for f in got if f["type"] == "message"}
    assert shown[MISSING_ID] == [(kind, MISSING_ID if c == b.conversation else c) for kind, c in shown[b.conversation]]
    assert set() == {s for s in b.secrets - {b.conversation} if s in json.dumps(frames[b.conversation])}


def _app_socket_closed(world: World, app_id: str, protocols: list[str]) -> tuple[int, str]:
    """The close code and reason of an app socket (socket mode) the server refuses."""
    url = world.server.base_url.replace("http", "ws", 1) + app_stream.ROUTE.format(appId=app_id)
    with connect(f"{url}?webhookId={world.recorders[0]}", subprotocols=protocols,  # type: ignore[arg-type]
                 open_timeout=10) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_the_app_socket_refuses_end_users_and_other_apps(world: World) -> None:
    """Socket mode is the app's: an end user's session (of either app), another app's key, a forged key, an
    expired user JWT or no credentials close it (4401, 4403 for another app's key); nothing changes."""
    a, c = world.a, world.c
    key = world.keys[1]
    expired = user_jwt(world.keys[0], external_id="d", exp=1_000_000_000)
    before = state(world)
    refusals = [
        (_app_socket_closed(world, world.apps[0], [PROTOCOL, auth_protocol(a.id, a.visitor.token)]), 4401),
        (_app_socket_closed(world, world.apps[0], [PROTOCOL, auth_protocol(c.id, c.visitor.token)]), 4401),
        (_app_socket_closed(world, world.apps[0], [PROTOCOL, auth_protocol(key.id, key.secret)]), 4403),
        (_app_socket_closed(world, world.apps[0], [PROTOCOL, auth_protocol(world.keys[0].id, key.secret)]), 4401),
        (_app_socket_closed(world, world.apps[0], [PROTOCOL, "auth.!!!"]), 4401),
        (_app_socket_closed(world, world.apps[0], [PROTOCOL, f"bearer.{expired}"]), 4401),
        (_app_socket_closed(world, world.apps[0], [PROTOCOL]), 4401),
    ]
    assert [expected for _, expected in refusals] == [code for (code, _), _ in refusals]
    assert set() == {s for p in world.everyone() for s in p.secrets for (_, reason), _ in refusals if s in reason}
    assert before == state(world)
