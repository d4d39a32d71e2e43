"""A real webhook receiver on loopback: records every POST; tests wait on it with a condition.

Waiting uses `threading.Condition.wait_for`, which returns as soon as the awaited requests have
arrived (or fails after the timeout): tests never sleep for a fixed time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: dict[str, Any]


class Receiver:
    def __init__(self, status: int = 200, port: int = 0) -> None:
        self.status = status
        self.hold = threading.Event()  # cleared: every reply waits until it is set again
        self.hold.set()
        self.requests: list[Received] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                with receiver._changed:
                    receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                    receiver._changed.notify_all()
                receiver.hold.wait(60)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        # serve_forever checks for shutdown() once per poll interval (0.5 s by default): a short one
        # lets stop() return in milliseconds
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            return [event for request in self.requests for event in request.body["events"]]

    def wait_for(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 20) -> list[dict[str, Any]]:
        """Block until `done(events received so far)` holds; the events. Fails after `timeout` s."""
        with self._changed:
            ok = self._changed.wait_for(lambda: done(
                [e for r in self.requests for e in r.body["events"]]), timeout)
            events = [e for r in self.requests for e in r.body["events"]]
        assert ok, f"the awaited events did not arrive within {timeout} s; got {len(events)}"
        return events

    def stop(self) -> None:
        """Release held replies, stop serving and close the socket, waiting for the server's thread."""
        self.hold.set()
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
