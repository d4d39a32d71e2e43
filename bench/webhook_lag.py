"""Webhook lag: time from a PostMessage's 201 to its event's arrival at a loopback receiver.

    python bench/webhook_lag.py --url http://127.0.0.1:8000 --key act_… --secret … [--messages 300] [--rate 100]

Posts `--messages` messages at `--rate` per second (open loop, one conversation per 10 messages)
and reports percentiles of the lag between each 201 and the first POST carrying its event.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

arrivals: dict[str, float] = {}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        now = time.perf_counter()
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        for event in body["events"]:
            arrivals.setdefault(event["payload"]["message"]["id"], now)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def main(args: argparse.Namespace) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    api = httpx.Client(base_url=args.url, auth=(args.key, args.secret))
    app_id = api.post("/v2/apps", json={"displayName": "lag"}).json()["app"]["id"]
    target = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    api.post(f"/v2/apps/{app_id}/integrations", json={"type": "custom", "webhooks": [
        {"target": target, "triggers": ["conversation:message"]}]}).raise_for_status()
    conversations = []
    for n in range(max(1, args.messages // 10)):
        user = api.post(f"/v2/apps/{app_id}/users", json={"externalId": f"lag-{n}"}).json()["user"]["id"]
        conversations.append(api.post(f"/v2/apps/{app_id}/conversations", json={
            "type": "personal", "participants": [{"userId": user}]}).json()["conversation"]["id"])
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for n in range(args.messages):
        time.sleep(max(0.0, start + n / args.rate - time.perf_counter()))  # open loop pacing
        path = f"/v2/apps/{app_id}/conversations/{conversations[n % len(conversations)]}/messages"
        reply = api.post(path, json={"author": {"type": "business"}, "content": {"type": "text", "text": "lag"}})
        sent[reply.json()["messages"][0]["id"]] = time.perf_counter()
    deadline = time.perf_counter() + 30
    while len(arrivals) < len(sent) and time.perf_counter() < deadline:
        time.sleep(0.05)
    lags = sorted((arrivals[m] - t) * 1000 for m, t in sent.items() if m in arrivals)
    q = statistics.quantiles(lags, n=100)
    print(f"{len(lags)}/{len(sent)} events arrived; lag from 201: p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, "
          f"p99 {q[98]:.1f} ms, max {lags[-1]:.1f} ms (rate {args.rate}/s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=100)
    main(parser.parse_args())
