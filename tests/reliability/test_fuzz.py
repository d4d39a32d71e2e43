"""Fuzzing (issue 5): schemathesis sends generated requests, valid and invalid, to the live server of
each engine with valid credentials. No answer may be a 5xx or leave the spec: status, content type and
body must be what the spec documents (a status it does not list must be a 4xx in the error envelope).

Requests name real resources most of the time (fuzz_world.World), so they get past the 404s and reach
the handlers' real work; every webhook target they write points at a receiver on loopback, so the
server's dispatcher delivers the events they cause without ever leaving the machine.

Each operation runs schemathesis's three phases: the spec's examples, its coverage cases (boundary and
invalid values, derived from the schemas) and HELIOGRAPH_FUZZ_EXAMPLES hypothesis examples (positive
and negative). The run is reproducible: a fixed seed, derandomized. Raise the examples (and vary
HELIOGRAPH_FUZZ_SEED) to search longer locally.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from heliograph.store import tables as t
from tests.conftest import CHECKER, Server
from tests.oauth_flow import register
from tests.receiver import Receiver
from tests.reliability.fuzz_world import World
from tests.seeding import run
from tests.spec import load_spec, operations

EXAMPLES = int(os.environ.get("HELIOGRAPH_FUZZ_EXAMPLES", "25"))  # ~8,500 requests, ~40 s per engine
SEED = int(os.environ.get("HELIOGRAPH_FUZZ_SEED", "20240605"))

# DownloadMessageRef and PostConversionEvents relay to Apple and Meta, and SyncUser without
# survivingZendeskId to Zendesk Support, none of which Heliograph reaches: after every check they answer
# 502 bad_gateway by design (docs/api-behaviour.md). A 500, or any other 5xx, of theirs is still a failure.
UPSTREAM = ("DownloadMessageRef", "PostConversionEvents", "SyncUser")

# The spec's examples for these request bodies are not valid against it: each body is a `oneOf` whose
# branches overlap (nothing `required` tells them apart), so an example matches several, and hypothesis
# spends a minute failing to complete them. Their coverage and fuzzing phases run as for every other.
INVALID_EXAMPLES = ("PostConversionEvents", "UpdateIntegration")

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "servers": {"variables": {"subdomain": "heliograph"}},  # the spec's first server uses it, defines it not
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none",
                   "with-security-parameters": False},  # credentials are valid ones, sent by the test
    "cache": {"enabled": False},  # no .schemathesis/ state in the checkout
    "operations": [
        *({"include-operation-id": name, "checks": {"not_a_server_error": {
            "expected-statuses": ["1xx", "2xx", "3xx", "4xx", 502]}}} for name in UPSTREAM),
        *({"include-operation-id": name, "phases": {"examples": {"enabled": False}}} for name in INVALID_EXAMPLES),
    ],
})


def fuzzable_spec() -> dict[str, Any]:
    """The spec, mended where schemathesis would read it otherwise than it means:

    - ListUsers' `filter` puts `required: true` on its property `identities.email` (JSON Schema wants
      the list `required` on the object); schemathesis refuses the whole document for it.
    - A `oneOf` with a `discriminator` (message content, actions, matchCriteria …) picks its branch by
      the discriminator, but its branches leave `type` free: as plain JSON Schema a form message is
      also a valid text message, and `oneOf` fails on every such answer. It becomes `anyOf` here;
      `spec_checker` still holds each response to the branch its discriminator names.
    """
    spec = copy.deepcopy(load_spec())
    email_filter = spec["components"]["parameters"]["userFilterQuery"]["schema"]
    del email_filter["properties"]["identities.email"]["required"]
    email_filter["required"] = ["identities.email"]
    for schema in spec["components"]["schemas"].values():
        if "discriminator" in schema and "oneOf" in schema:
            schema["anyOf"] = schema.pop("oneOf")
    return spec


schema = schemathesis.openapi.from_dict(fuzzable_spec(), config=CONFIG)


@pytest.fixture(scope="session")
def world(server: Server, pytestconfig: pytest.Config) -> Iterator[World]:
    receiver = Receiver()
    with httpx.Client(base_url=server.base_url, auth=server.account_key, timeout=30) as http:
        made = World(server, http, receiver, (register(server, "Fuzz partner"), register(server, "Fuzz spare")))
        made.build()
        yield made
    receiver.stop()
    report(made, pytestconfig)
    targets = {row["target"] for row in run(server.database_url, t.webhooks.select().where(
        t.webhooks.c.app_id == made.ids["app"]))}
    assert {receiver.url} == targets, "a webhook of the fuzzed app points off the machine"


def report(world: World, config: pytest.Config) -> None:
    """Print what the run sent; fail if it mostly missed the real resources (all operations ran)."""
    by_operation: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for (operation, status), count in world.statuses.items():
        by_operation[operation][status] += count
    total = sum(world.statuses.values())
    classes: collections.Counter[str] = collections.Counter()
    for (_, status), count in world.statuses.items():
        classes[f"{status // 100}xx"] += count
    succeeded = sorted(name for name, seen in by_operation.items() if any(s < 400 for s in seen))
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        config.pluginmanager.getplugin("terminalreporter").write_line(
            f"\nfuzz[{world.server.engine}]: {total} requests over {len(by_operation)} operations, "
            f"{dict(sorted(classes.items()))}; {len(succeeded)} operations answered a success")
    if len(by_operation) == len(operations()):
        assert len(succeeded) >= 0.75 * len(by_operation), f"few operations reached real resources: {succeeded}"


def aim(case: schemathesis.Case, world: World) -> None:
    """Point the case at real resources, and its webhooks at loopback.

    Three cases in five name real resources everywhere (path, and ids in the query and body); one keeps
    its own last path parameter; one is left as generated. The choice hangs on the generated values, so
    a run stays reproducible. It is made here rather than in a schemathesis hook, since hooks also run
    at collection (for the spec's examples), before any server exists.
    """
    pick = zlib.crc32(json.dumps([case.path_parameters, case.query, case.body], sort_keys=True,
                                 default=lambda value: type(value).__name__).encode()) % 5
    generated = case.path_parameters or {}
    if generated:
        real = world.targets(operation_id(case.operation), case.operation.path)
        chosen = {name: real[name] for name in generated}
        last = list(generated)[-1]
        case.path_parameters = [chosen, chosen, chosen, {**chosen, last: generated[last]}, generated][pick]
    references = world.references() if pick < 3 else {}
    case.query = rewritten(case.query, references, world.receiver.url)
    case.body = rewritten(case.body, references, world.receiver.url)


def rewritten(node: Any, references: dict[str, str], target: str) -> Any:
    """`node` with the string values of the fields in `references` replaced by theirs, and every string
    `target` that could hold a URL replaced by `target`: no webhook delivery leaves the machine."""
    if isinstance(node, list):
        return [rewritten(item, references, target) for item in node]
    if not isinstance(node, dict):
        return node
    found = {}
    for key, value in node.items():
        if key == "target" and isinstance(value, str) and ("/" in value or ":" in value):
            value = target
        elif key in references and isinstance(value, str):
            value = references[key]
        found[key] = rewritten(value, references, target)
    return found


def operation_id(operation: schemathesis.APIOperation) -> str:
    return str(operation.definition.raw["operationId"])


def spec_checker(_ctx: schemathesis.CheckContext, response: schemathesis.Response,
                 case: schemathesis.Case) -> None:
    """The suite's own reading of the spec (tests/spec.py), discriminators included. It stands in for
    schemathesis's status_code_conformance: the spec lists few error statuses (PostMessage lists 201
    and 423 only), so a status it does not list must be a 4xx in the error envelope."""
    is_json = (response.headers.get("content-type") or [""])[0].startswith("application/json")
    body = response.json() if is_json and response.content else response.text or None
    CHECKER.check(case.method, case.formatted_path, response.status_code, body)


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, spec_checker]


@schema.parametrize()
def test_fuzz(case: schemathesis.Case, world: World) -> None:
    """No generated request, valid or not, gets a 5xx or an answer outside the spec."""
    name = operation_id(case.operation)
    aim(case, world)
    headers = world.credentials(name, case.operation.tags or [])
    response = case.call_and_validate(base_url=world.server.base_url, headers=headers, checks=CHECKS)
    world.answered(name, response.status_code)
