"""The official OpenAPI spec, read from ../shared (never copied here), as JSON Schema validators.

Every response a test sees goes through `SpecChecker.check`: its body must match the schema the
spec gives for that path, method and status (or the error envelope for a status it does not list).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml


def _spec_path() -> Path:
    """HELIOGRAPH_SPEC, else ../shared beside this checkout, else ../shared beside the repository it
    was cloned from (a local clone made elsewhere, e.g. in /tmp)."""
    if "HELIOGRAPH_SPEC" in os.environ:
        return Path(os.environ["HELIOGRAPH_SPEC"])
    checkout = Path(__file__).resolve().parents[1]
    beside = checkout.parent / "shared" / "spec" / "openapi.yaml"
    origin = subprocess.run(["git", "-C", str(checkout), "config", "remote.origin.url"],
                            capture_output=True, text=True).stdout.strip()
    if beside.exists() or not origin or not Path(origin).is_dir():
        return beside
    return Path(origin).resolve().parent / "shared" / "spec" / "openapi.yaml"


SPEC_PATH = _spec_path()


@functools.cache
def load_spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        raise RuntimeError(f"the OpenAPI spec is missing at {SPEC_PATH} (set HELIOGRAPH_SPEC)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when PyYAML has it: 0.1 s rather than 1 s
    return yaml.load(SPEC_PATH.read_text(), Loader=loader)


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path template, operation)."""
    found = {}
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = (method.upper(), path, op)
    return found


def security_scopes(op: dict[str, Any]) -> set[str]:
    """The scopes an operation's security block accepts (empty for `security: []`)."""
    return {scope for requirement in op.get("security", []) for listed in requirement.values() for scope in listed}


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema (draft 7): nullable, and discriminated oneOf as if/then."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": "#/definitions/" + node["$ref"].rsplit("/", 1)[1]}
    out = {k: to_json_schema(v) for k, v in node.items()
           if k not in ("nullable", "discriminator", "example", "readOnly", "writeOnly", "x-resourceId")}
    if "discriminator" in node and "oneOf" in node:
        out.pop("oneOf")
        out.update(_discriminated(node))
    if isinstance(out.get("required"), bool):  # a property-level `required: true` is not JSON Schema
        out.pop("required")
    if isinstance(out.get("required"), list):  # responses are checked: writeOnly properties are absent there
        properties = node.get("properties", {})
        out["required"] = [name for name in out["required"] if not properties.get(name, {}).get("writeOnly")]
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _discriminated(node: dict[str, Any]) -> dict[str, Any]:
    field = node["discriminator"]["propertyName"]
    mapping = node["discriminator"].get("mapping") or {
        ref["$ref"].rsplit("/", 1)[1]: ref["$ref"] for ref in node["oneOf"]}
    branches = [{"if": {"properties": {field: {"const": value}}, "required": [field]},
                 "then": to_json_schema({"$ref": ref})} for value, ref in mapping.items()]
    return {"required": [field], "properties": {field: {"enum": list(mapping)}}, "allOf": branches}


@functools.cache
def definitions() -> dict[str, Any]:
    return {name: to_json_schema(schema) for name, schema in load_spec()["components"]["schemas"].items()}


def validator(schema: Any) -> jsonschema.Draft7Validator:
    """A validator of an OpenAPI schema of the spec, its $refs resolved against the spec's components."""
    return jsonschema.Draft7Validator({**to_json_schema(schema), "definitions": definitions()})


def event_payload_validator() -> jsonschema.Draft7Validator:
    """A validator of a whole webhook request body: the spec's `Webhook Event` (x-webhooks)."""
    operation = load_spec()["x-webhooks"]["Webhook Event"]
    return validator(operation.get("post", operation)["requestBody"]["content"]["application/json"]["schema"])


EVENT_SCHEMAS = {  # an event's type -> the spec's schema of that event
    "conversation:create": "conversationCreateEvent", "conversation:join": "conversationJoinEvent",
    "conversation:leave": "conversationLeaveEvent", "conversation:remove": "conversationRemoveEvent",
    "conversation:message": "conversationMessageEvent", "conversation:read": "conversationReadEvent",
    "conversation:typing": "conversationTypingEvent", "user:remove": "userRemoveEvent",
}


def event_errors(body: dict[str, Any]) -> list[str]:
    """What the spec's schema for the event's type finds wrong with one event (nothing, hopefully)."""
    schema = {"$ref": f"#/definitions/{EVENT_SCHEMAS[body['type']]}", "definitions": definitions()}
    return [f"{e.message} at {list(e.path)}" for e in jsonschema.Draft7Validator(schema).iter_errors(body)]


class SpecChecker:
    def __init__(self) -> None:
        # the operation a request names, also as the hosted service accepts it: under /sc, in any case
        self.routes = [(method, path, re.compile("(?i)^(?:/sc)?" + re.sub(r"\{\w+\}", "[^/]+", path) + "$"), op)
                       for method, path, op in operations().values()]
        self.checked: list[tuple[str, int]] = []  # (operationId, status) of every response seen

    def operation_for(self, method: str, url: str) -> dict[str, Any] | None:
        path = urlsplit(url).path
        for route_method, _template, pattern, op in self.routes:
            if route_method == method.upper() and pattern.match(path):
                return op
        return None

    def check(self, method: str, url: str, status: int, body: Any) -> None:
        op = self.operation_for(method, url)
        if op is None:
            return
        responses = op["responses"]
        response = responses.get(str(status))
        if response is None:
            assert status >= 400, f"{op['operationId']} answered {status}, which the spec does not list"
            schema: Any = {"$ref": "#/components/schemas/errorResponse"}
        else:
            content = response["content"]  # JSON, except Authorize's text/plain redirect
            schema = content.get("application/json", next(iter(content.values())))["schema"]
        if status >= 400:
            assert isinstance(body, dict) and body.get("errors"), f"{status} without an error envelope: {body}"
            assert all(e.get("code") and e.get("title") for e in body["errors"]), body
        errors = sorted(validator(schema).iter_errors(body), key=lambda e: list(e.path))
        assert not errors, (f"{op['operationId']} {status} violates the spec: "
                            f"{errors[0].message} at {list(errors[0].path)}")
        self.checked.append((op["operationId"], status))
