"""Authentication (Basic, HS256 JWT) and authorization (account and app scopes) of the v2 API."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import jwt
import pytest
import sunshine_conversations_client as sc

from tests.apps import apps_after, key_ids, new_app, new_key, raw_app
from tests.conftest import Server, bearer_client, sdk_client
from tests.spec import SpecChecker
from tests.utils import error_of, make_conversation, make_user, post, refused, text


def token(key_id: str, secret: str, scope: str | None, *, algorithm: str = "HS256", **claims: Any) -> str:
    payload = {**({} if scope is None else {"scope": scope}), **claims}
    return jwt.encode(payload, secret, algorithm=algorithm, headers={"kid": key_id})


@pytest.fixture
def app_key(account: sc.ApiClient, app_id: str) -> sc.AppKey:
    """A key of the `app_id` app."""
    return new_key(account, app_id)


@pytest.fixture
def app_api(server: Server, checker: SpecChecker, app_key: sc.AppKey) -> sc.ApiClient:
    """The official SDK with the `app_key` (Basic auth)."""
    return sdk_client(server, checker, app_key.id, app_key.secret)


# --- Basic auth -------------------------------------------------------------------------------

def test_missing_authorization_is_unauthorized(server: Server, checker: SpecChecker) -> None:
    """A request without an Authorization header answers 401 unauthorized."""
    anonymous = sc.AppsApi(bearer_client(server, checker, None))
    assert (401, "unauthorized") == refused(anonymous.list_apps)[:2]


@pytest.mark.parametrize("credentials", ["wrong-secret", "unknown-key", "unknown-app-key", "empty-secret"])
def test_bad_basic_credentials_are_unauthorized(server: Server, checker: SpecChecker, account: sc.ApiClient,
                                                http: httpx.Client, credentials: str) -> None:
    """A wrong secret, an unknown key id or an empty secret answers 401; nothing is created."""
    key_id, secret = server.account_key
    key_id, secret = {"wrong-secret": (key_id, secret + "x"), "unknown-key": ("act_" + "0" * 24, secret),
                      "unknown-app-key": ("app_" + "0" * 24, secret), "empty-secret": (key_id, "")}[credentials]
    marker = new_app(account, "Marker").id
    stranger = sc.AppsApi(sdk_client(server, checker, key_id, secret))
    assert (401, "unauthorized") == refused(stranger.create_app, sc.AppCreateBody(display_name="Nope"))[:2]
    assert [] == apps_after(http, marker)


@pytest.mark.parametrize("header", [
    "Basic", "Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), "Digest abc", "Token abc", "Bearer",
    "Bearer not.a.jwt",
])
def test_malformed_authorization_is_unauthorized(http: httpx.Client, header: str) -> None:
    """A malformed Basic or Bearer value, or another scheme, answers 401 unauthorized."""
    response = http.get("/v2/apps", auth=None, headers={"Authorization": header})
    assert (401, "unauthorized") == error_of(response)


def test_basic_scheme_is_case_insensitive(http: httpx.Client, server: Server) -> None:
    """The auth scheme is matched case-insensitively (`basic` works like `Basic`)."""
    encoded = base64.b64encode(":".join(server.account_key).encode()).decode()
    assert 200 == http.get("/v2/apps", auth=None, headers={"Authorization": f"basic {encoded}"}).status_code


# --- JWTs -------------------------------------------------------------------------------------

def test_account_jwt_works(server: Server, checker: SpecChecker) -> None:
    """An HS256 JWT with the account key's kid and scope `account` authorizes account operations."""
    api = sc.AppsApi(sdk_client(server, checker, *server.account_key, use_jwt=True))
    created = api.create_app(sc.AppCreateBody(display_name="By JWT")).app
    assert "By JWT" == api.get_app(created.id).app.display_name


def test_app_jwt_works(server: Server, checker: SpecChecker, app_id: str, app_key: sc.AppKey) -> None:
    """An HS256 JWT with an app key's kid and scope `app` authorizes that app's operations."""
    client = sdk_client(server, checker, app_key.id, app_key.secret, use_jwt=True)
    user = make_user(client, app_id, external_id="jwt-user")
    assert (app_id, "jwt-user") == (sc.AppsApi(client).get_app(app_id).app.id,
                                    sc.UsersApi(client).get_user(app_id, user.id).user.external_id)


def test_unsigned_jwt_is_unauthorized(server: Server, checker: SpecChecker) -> None:
    """A JWT with `alg: none` is refused with 401, even naming a valid kid and scope."""
    unsigned = jwt.encode({"scope": "account"}, None, algorithm="none", headers={"kid": server.account_key[0]})
    api = sc.AppsApi(bearer_client(server, checker, unsigned))
    assert (401, "unauthorized") == refused(api.list_apps)[:2]


# the test account secret is shorter than PyJWT recommends for HS512; the token only has to be refused
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("case", ["wrong-secret", "unknown-kid", "no-scope", "hs512", "expired", "no-kid"])
def test_bad_jwts_are_unauthorized(server: Server, checker: SpecChecker, account: sc.ApiClient,
                                   http: httpx.Client, case: str) -> None:
    """A JWT with a wrong signature, unknown or missing kid, no scope, another alg, or expired answers 401."""
    key_id, secret = server.account_key
    bad = {"wrong-secret": lambda: token(key_id, secret + "x", "account"),
           "unknown-kid": lambda: token("act_" + "0" * 24, secret, "account"),
           "no-scope": lambda: token(key_id, secret, None),
           "hs512": lambda: token(key_id, secret, "account", algorithm="HS512"),
           "expired": lambda: token(key_id, secret, "account", exp=int(time.time()) - 3600),
           "no-kid": lambda: jwt.encode({"scope": "account"}, secret, algorithm="HS256")}[case]()
    marker = new_app(account, "Marker").id
    api = sc.AppsApi(bearer_client(server, checker, bad))
    assert (401, "unauthorized") == refused(api.create_app, sc.AppCreateBody(display_name="Nope"))[:2]
    assert [] == apps_after(http, marker)


def test_jwt_scope_must_match_the_key(server: Server, checker: SpecChecker, app_id: str,
                                      app_key: sc.AppKey) -> None:
    """An app key's JWT claiming scope `account` (or an unknown scope) answers 401."""
    for scope in ("account", "integration", "user"):
        api = sc.AppsApi(bearer_client(server, checker, token(app_key.id, app_key.secret, scope)))
        assert (401, "unauthorized") == refused(api.get_app, app_id)[:2]


# --- Scopes -----------------------------------------------------------------------------------

def test_app_key_cannot_call_account_operations(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                app_key: sc.AppKey, app_api: sc.ApiClient) -> None:
    """CreateApp, ListApps, DeleteApp and the App Keys operations answer 403 to an app key; nothing changes."""
    apps, keys = sc.AppsApi(app_api), sc.AppKeysApi(app_api)
    marker = new_app(account, "Marker").id
    calls = [(apps.create_app, sc.AppCreateBody(display_name="Nope")), (apps.list_apps,),
             (apps.delete_app, app_id), (keys.create_app_key, app_id, sc.AppKeyCreateBody(display_name="K")),
             (keys.list_app_keys, app_id), (keys.get_app_key, app_id, app_key.id),
             (keys.delete_app_key, app_id, app_key.id)]
    for call, *args in calls:
        assert (403, "forbidden") == refused(call, *args)[:2]
    assert ([], [app_key.id]) == (apps_after(http, marker), key_ids(account, app_id))
    assert app_id == apps.get_app(app_id).app.id


def test_app_key_cannot_touch_another_app(account: sc.ApiClient, http: httpx.Client, app_api: sc.ApiClient,
                                          app_key: sc.AppKey) -> None:
    """An app key on any path of another app answers 403 forbidden, and that app is unchanged."""
    other = new_app(account, "Other", metadata={"a": "1"}).id
    user = make_user(account, other, external_id="theirs")
    conversation = make_conversation(account, other, user)
    post(account, other, conversation.id, text("private"))
    before = (raw_app(http, other), http.get(f"/v2/apps/{other}/users/{user.id}").json(),
              http.get(f"/v2/apps/{other}/conversations/{conversation.id}/messages").json()["messages"])
    apps, users = sc.AppsApi(app_api), sc.UsersApi(app_api)
    conversations, messages = sc.ConversationsApi(app_api), sc.MessagesApi(app_api)
    calls = [(apps.get_app, other), (apps.update_app, other, sc.AppUpdateBody(display_name="Mine")),
             (users.create_user, other, sc.UserCreateBody(external_id="intruder")),
             (users.get_user, other, user.id), (users.delete_user, other, user.id),
             (conversations.get_conversation, other, conversation.id),
             (conversations.list_conversations, other, sc.ConversationListFilter(user_id=user.id)),
             (conversations.delete_conversation, other, conversation.id),
             (messages.list_messages, other, conversation.id),
             (messages.post_message, other, conversation.id,
              sc.MessagePost(author=sc.Author(type="business"), content=text("intrusion"))),
             (messages.delete_all_messages, other, conversation.id)]
    for call, *args in calls:
        assert (403, "forbidden") == refused(call, *args)[:2], call.__name__
    after = (raw_app(http, other), http.get(f"/v2/apps/{other}/users/{user.id}").json(),
             http.get(f"/v2/apps/{other}/conversations/{conversation.id}/messages").json()["messages"])
    assert before == after
    listed = http.get(f"/v2/apps/{other}/users", params={"filter[identities.email]": "a@b.c"},
                      auth=(app_key.id, app_key.secret))  # ListUsers: the SDK has no method for it
    assert (403, "forbidden") == error_of(listed)
    assert (404, "user_not_found") == refused(sc.UsersApi(account).get_user, other, "intruder")[:2]


def test_app_key_of_unknown_app_path_is_forbidden(app_api: sc.ApiClient) -> None:
    """An app key on a path naming an app that does not exist answers 403, revealing nothing."""
    assert (403, "forbidden") == refused(sc.AppsApi(app_api).get_app, "0" * 24)[:2]


def test_app_key_works_on_its_own_app(app_api: sc.ApiClient, app_id: str, account: sc.ApiClient) -> None:
    """An app key reads and updates its own app and creates users, conversations and messages in it."""
    apps = sc.AppsApi(app_api)
    assert "Renamed" == apps.update_app(app_id, sc.AppUpdateBody(display_name="Renamed")).app.display_name
    assert "Renamed" == apps.get_app(app_id).app.display_name
    user = make_user(app_api, app_id, external_id="own")
    conversation = make_conversation(app_api, app_id, user)
    sent = post(app_api, app_id, conversation.id, text("Hi"))
    listed = sc.MessagesApi(account).list_messages(app_id, conversation.id).messages
    mine = sc.ConversationsApi(app_api).list_conversations(app_id, sc.ConversationListFilter(user_id=user.id))
    assert (user.id, [conversation.id], [sent.id]) == (
        sc.UsersApi(app_api).get_user(app_id, "own").user.id, [c.id for c in mine.conversations],
        [m.id for m in listed])


# --- Key lifecycle ----------------------------------------------------------------------------

def test_deleted_app_key_stops_working_at_once(account: sc.ApiClient, app_id: str, app_key: sc.AppKey,
                                               app_api: sc.ApiClient, server: Server,
                                               checker: SpecChecker) -> None:
    """Once DeleteAppKey answers, the next request with that key (Basic or JWT) answers 401."""
    jwt_api = sc.AppsApi(sdk_client(server, checker, app_key.id, app_key.secret, use_jwt=True))
    assert (app_id, app_id) == (sc.AppsApi(app_api).get_app(app_id).app.id, jwt_api.get_app(app_id).app.id)
    sc.AppKeysApi(account).delete_app_key(app_id, app_key.id)
    assert (401, "unauthorized") == refused(sc.AppsApi(app_api).get_app, app_id)[:2]
    assert (401, "unauthorized") == refused(jwt_api.get_app, app_id)[:2]


def test_other_keys_survive_a_key_deletion(account: sc.ApiClient, app_id: str, server: Server,
                                           checker: SpecChecker) -> None:
    """Deleting one app key leaves the app's other keys working."""
    kept, doomed = new_key(account, app_id, "Kept"), new_key(account, app_id, "Doomed")
    kept_api = sc.AppsApi(sdk_client(server, checker, kept.id, kept.secret))
    sc.AppKeysApi(account).delete_app_key(app_id, doomed.id)
    assert app_id == kept_api.get_app(app_id).app.id
