"""The route registry against the spec: paths, methods and scopes."""

from __future__ import annotations

from collections import Counter

from heliograph.api import all_routes
from tests.spec import operations, security_scopes

CORE_OPERATIONS = {
    "CreateApp", "ListApps", "GetApp", "UpdateApp", "DeleteApp",
    "CreateAppKey", "ListAppKeys", "GetAppKey", "DeleteAppKey",
    "CreateUser", "ListUsers", "GetUser", "UpdateUser", "DeleteUser", "DeleteUserPersonalInformation",
    "CreateConversation", "ListConversations", "GetConversation", "UpdateConversation", "DeleteConversation",
    "JoinConversation", "ListParticipants", "LeaveConversation",
    "PostMessage", "ListMessages", "DeleteAllMessages", "DeleteMessage", "PostActivity",
    "CreateIntegration", "ListIntegrations", "GetIntegration", "UpdateIntegration", "DeleteIntegration",
    "CreateCustomIntegrationKey", "ListCustomIntegrationKeys", "GetCustomIntegrationKey", "DeleteCustomIntegrationKey",
    "CreateWebhook", "ListWebhooks", "GetWebhook", "UpdateWebhook", "DeleteWebhook",
}


def test_every_core_operation_is_routed_exactly_once() -> None:
    """Each core operationId has one route, and no route names an operation the spec lacks."""
    counts = Counter(route.operation_id for route in all_routes())
    assert {op: 1 for op in sorted(CORE_OPERATIONS)} == {op: counts[op] for op in sorted(CORE_OPERATIONS)}
    assert set(counts) <= set(operations())


def test_routes_match_the_spec_paths_and_methods() -> None:
    """A route's method and path template are the spec's for its operationId."""
    spec = operations()
    for route in all_routes():
        method, path, _ = spec[route.operation_id]
        assert (method, path) == (route.method, route.template)


def test_routes_accept_exactly_the_scopes_of_the_spec_security_block() -> None:
    """The scopes a route accepts are the union of the scopes its security block lists."""
    spec = operations()
    for route in all_routes():
        scopes = security_scopes(spec[route.operation_id][2])
        assert (route.operation_id, scopes) == (route.operation_id, set(route.scopes))


def test_every_operation_of_the_spec_is_routed_exactly_once() -> None:
    """All the spec's operations are served: none missing, none twice (a full run also proves each answered)."""
    counts = Counter(route.operation_id for route in all_routes())
    assert {op: 1 for op in sorted(operations())} == {op: counts[op] for op in sorted(operations())}
