"""Heliograph processes for tests: `heliograph serve` or `heliograph worker`, started and stopped
for real (a subprocess on a loopback port), ready when they print their banner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests import channel_fakes

READY = {"serve": "is ready at", "worker": "is delivering webhooks"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """One `heliograph serve|worker` process; its output is kept for diagnosis."""

    def __init__(self, command: str, *, database_url: str, data_dir: Path, account_key: tuple[str, str],
                 env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        variables = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
        variables.update({"HELIOGRAPH_DATABASE_URL": database_url, "HELIOGRAPH_DATA_DIR": str(data_dir),
                          "HELIOGRAPH_ACCOUNT_KEY_ID": account_key[0],
                          "HELIOGRAPH_ACCOUNT_KEY_SECRET": account_key[1], **channel_fakes.env(), **(env or {})})
        args = [sys.executable, "-m", "heliograph.cli", command]
        if command == "serve":
            args += ["--port", str(self.port)]
        self.output: list[str] = []
        self.process = subprocess.Popen(args, env=variables, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self._wait_ready(READY[command])

    def _wait_ready(self, banner: str) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:  # blocks until the process prints (or exits)
            self.output.append(line)
            if banner in line:
                break
        else:
            raise RuntimeError("the process did not start:\n" + "".join(self.output))
        self._drain = threading.Thread(target=self.output.extend, args=(self.process.stdout,), daemon=True)
        self._drain.start()  # keep reading, so a chatty process never blocks on a full pipe

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        self.process.terminate()
        self._reap()

    def _reap(self) -> None:
        self.process.wait(timeout=15)
        self._drain.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()

    def tracebacks(self) -> str:
        text = "".join(self.output)
        return text if "Traceback" in text else ""


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`heliograph ARGS…` against a database, as an operator would run it; never raises on failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    env["HELIOGRAPH_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "heliograph.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)
