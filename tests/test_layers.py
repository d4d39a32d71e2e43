"""Imports go one way: every module of src/heliograph imports only the rooms docs/architecture.md allows."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "heliograph"

# The rooms, lowest first, and what each may import besides itself (docs/architecture.md, "Layers").
BASE = "base"  # ids, errors, config, pagination: the vocabulary every room shares
MAY_IMPORT: dict[str, set[str]] = {
    BASE: set(),
    "schemas": {BASE},
    "store": {BASE},
    "events": {"schemas", BASE},
    "services": {"auth", "store", "events", "schemas", "channels", BASE},
    "auth": {"store", BASE},
    "worker": {"store", "events", "channels", BASE},
    "channels": {"events", "schemas", BASE},
    "simulator": {"channels", BASE},  # the fakes of the channels' APIs (docs/channels.md)
    "realtime": {"store", "events", "schemas", BASE},
    "messenger": {BASE},  # the web messenger's files (JavaScript, CSS, the demo page) and their bundling
    "api": {"services", "auth", "schemas", "messenger", "simulator", BASE, "store.db"},
    "console": {"services", "auth", "schemas", BASE, "store.db"},
    "root": {"api", "messenger", "console", "realtime", "channels", "simulator", "worker", "services", "auth",
             "events", "store", "schemas", BASE},
}
ROOM_OF_TOP_LEVEL = {"ids": BASE, "errors": BASE, "config": BASE, "pagination": BASE, "auth": "auth",
                     "app": "root", "cli": "root", "__init__": BASE}
# Third-party packages that belong to one floor only: HTTP serving stays above the services.
WEB_PACKAGES = ("starlette", "uvicorn")
MAY_SERVE_HTTP = {"api", "console", "realtime", "simulator", "root"}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic's scripts: run by Alembic, imported by nothing
        yield ".".join(path.relative_to(SRC).with_suffix("").parts), path


def room(module: str) -> str:
    """`heliograph.services.users` → services; `heliograph.store.db` → store.db (api may import only that)."""
    parts = module.split(".")[1:] or ["__init__"]
    if parts[:2] == ["store", "db"]:
        return "store.db"
    return parts[0] if parts[0] in MAY_IMPORT else ROOM_OF_TOP_LEVEL[parts[0]]


def imported(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """Every module this one imports (at the top or inside a function), with its line."""
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up for each dot after the first
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                as_module = SRC.joinpath(*candidate.split("."))
                is_module = as_module.with_suffix(".py").exists() or as_module.is_dir()
                yield node.lineno, candidate if is_module else base


def allowed(importer: str, target: str) -> bool:
    if importer == target or target == "store.db" and importer == "store":
        return True
    permitted = MAY_IMPORT[importer]
    return target in permitted or target == "store.db" and "store" in permitted


def violations() -> list[str]:
    found = []
    for module, path in modules():
        importer = "store" if room(module) == "store.db" else room(module)
        for line, target in imported(module, path):
            where = f"{path.relative_to(SRC)}:{line}"
            if target.split(".")[0] in WEB_PACKAGES and importer not in MAY_SERVE_HTTP:
                found.append(f"{where}: {importer} imports {target} (HTTP serving belongs to api/)")
            if target.startswith("heliograph.") and not allowed(importer, room(target)):
                found.append(f"{where}: {importer} imports {target} ({room(target)})")
    return found


def test_every_import_goes_down_the_layers() -> None:
    """No module imports a room above its own, or a room beside it that the layering does not allow."""
    assert [] == violations()


def test_the_check_sees_every_room() -> None:
    """The check knows the room of every module, so a new folder cannot slip past it unclassified."""
    rooms = {room(module) for module, _ in modules()}
    assert {"store", "services", "api", "events", "schemas", "worker", BASE, "root"} <= rooms
    assert rooms <= set(MAY_IMPORT) | {"store.db"}


@pytest.mark.parametrize(("importer", "target", "expected"), [
    ("api", "services", True), ("api", "store.db", True), ("api", "store", False),
    ("services", "api", False), ("worker", "services", False), ("store", "events", False),
    ("events", "store", False), ("store", "store.db", True), ("channels", "store", False), ("auth", "services", False),
])
def test_the_rules_read_as_documented(importer: str, target: str, expected: bool) -> None:
    """A few of the rules spelled out, so that the table above cannot drift into allowing everything."""
    assert expected == allowed(importer, target)


def test_services_hold_no_sql() -> None:
    """Services orchestrate: their statements live in store/, so no service imports SQLAlchemy's SQL or a table."""
    leaks = []
    for module, path in modules():
        if room(module) != "services":
            continue
        for line, target in imported(module, path):
            if target == "sqlalchemy" or target.startswith("sqlalchemy.") and target != "sqlalchemy.ext.asyncio" \
                    or target.startswith("heliograph.store.") and target.endswith("tables"):
                leaks.append(f"{path.relative_to(SRC)}:{line}: {target}")
    assert [] == leaks
