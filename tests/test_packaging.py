"""What `./bin/serve` installs is enough to run: every third-party import of the server is a
declared runtime dependency (test extras do not count)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "heliograph"


def _imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m != "heliograph" and m not in sys.stdlib_module_names}


def _runtime_distributions() -> set[str]:
    declared = [r for r in requires("heliograph") or [] if "extra ==" not in r]
    return {re.split(r"[\s\[<>=!;~]", r, maxsplit=1)[0].lower().replace("_", "-") for r in declared}


def test_every_third_party_import_is_a_runtime_dependency() -> None:
    """A module the server imports comes from a distribution listed in [project].dependencies."""
    owners = packages_distributions()
    runtime = _runtime_distributions()
    undeclared = {module: owners.get(module) for module in _imported_top_level_modules()
                  if not {d.lower().replace("_", "-") for d in owners.get(module, [])} & runtime}
    assert {} == undeclared
