"""The README's promise to a new user: a first start prints credentials that work, and the
SDK snippet in the README runs as written against them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import sunshine_conversations_client as sc

from tests.servers import free_port as _free_port

README = Path(__file__).parents[1] / "README.md"


def _start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    env["HELIOGRAPH_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen([sys.executable, "-m", "heliograph.cli", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("  try:"):
            return process, lines
    raise AssertionError("no ready banner:\n" + "".join(lines))


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)
    assert process.stdout is not None
    process.stdout.close()


def _credentials(lines: list[str]) -> tuple[str, str]:
    text = "".join(lines)
    key_id = re.search(r"account key id:\s+(act_[0-9a-f]{24})", text)
    secret = re.search(r"account key secret:\s+(\S+)", text)
    assert key_id and secret, text
    return key_id.group(1), secret.group(1)


def test_first_start_prints_credentials_that_work(tmp_path: Path) -> None:
    """With no key configured, the first start creates one, prints it, and it authenticates."""
    port = _free_port()
    process, lines = _start(tmp_path, port)
    try:
        key_id, secret = _credentials(lines)
        api = sc.ApiClient(sc.Configuration(host=f"http://127.0.0.1:{port}", username=key_id, password=secret))
        assert [] == sc.AppsApi(api).list_apps().apps
    finally:
        _stop(process)


def test_restart_keeps_the_key_and_account_key_prints_it(tmp_path: Path) -> None:
    """A second start reuses the stored key without printing it; `heliograph account-key` shows it."""
    process, lines = _start(tmp_path, _free_port())
    _stop(process)
    first = _credentials(lines)
    process, lines = _start(tmp_path, _free_port())
    _stop(process)
    assert "account key secret" not in "".join(lines)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")},
           "HELIOGRAPH_DATA_DIR": str(tmp_path)}
    printed = subprocess.run([sys.executable, "-m", "heliograph.cli", "account-key"], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
    assert list(first) == printed


def test_migrate_command_prepares_an_empty_database(tmp_path: Path) -> None:
    """`heliograph migrate` creates the schema on a new SQLite file and can be run again."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")},
           "HELIOGRAPH_DATA_DIR": str(tmp_path)}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "heliograph.cli", "migrate"], env=env,
                                capture_output=True, text=True)
        assert (0, "migrations applied\n") == (result.returncode, result.stdout)
    assert (tmp_path / "heliograph.sqlite3").exists()


def test_readme_sdk_snippet_runs_against_the_printed_key(tmp_path: Path) -> None:
    """The Python example in the README works as written, with the printed key filled in."""
    snippet = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert snippet is not None
    port = _free_port()
    process, lines = _start(tmp_path, port)
    try:
        key_id, secret = _credentials(lines)
        code = (snippet.group(1).replace('"act_…"', repr(key_id)).replace('"…"', repr(secret))
                .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}"))
        namespace: dict[str, object] = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
        api = namespace["api"]
        conversation = namespace["conversation"]
        app = namespace["app"]
        listed = sc.MessagesApi(api).list_messages(app.id, conversation.id).messages  # type: ignore[attr-defined]
        assert ["Hello!"] == [m.content.actual_instance.text for m in listed]
    finally:
        _stop(process)
