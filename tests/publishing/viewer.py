"""A real HTTP server standing in for the viewer site, with programmable faults.

It is the idempotent receiver docs/publishing.md describes: it checks the
signature independently of publishing.signing, deduplicates by Idempotency-Key
and applies each event to an in-memory copy of the published state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Modes: ok, 500, 422, 429, slow (process, answer after the client gave up),
# drop (close mid-request, nothing processed), drop_after (process, then close).
Mode = str


class FakeViewer:
    def __init__(self, *, secret: str, slow_s: float = 1.0):
        self.secret = secret
        self.slow_s = slow_s
        self.delay_s = 0.0  # every request takes this long (for concurrency tests)
        self.script: list[Mode] = []  # consumed one per request, then `rule`
        self.rule: Callable[[dict], Mode] | None = None
        self.lock = threading.Lock()
        self.questions: dict[int, dict] = {}
        self.explanations: dict[int, dict] = {}
        self.seen_keys: set[str] = set()
        self.applied: list[dict] = []
        self.received: list[dict] = []
        self.duplicates = 0
        self.out_of_order: list[tuple[int, int]] = []
        self._last_seq: dict[int, int] = {}
        self._in_flight: Counter[int] = Counter()
        self.max_in_flight_per_question = 0
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        server.daemon_threads = True
        server.handle_error = lambda request, address: None
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: nothing listens on the port, connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- receiving -----------------------------------------------------------

    def next_mode(self, payload: dict | None) -> Mode:
        with self.lock:
            if self.script:
                return self.script.pop(0)
        if payload is not None and self.rule is not None:
            return self.rule(payload)
        return "ok"

    def peek_drop(self) -> bool:
        with self.lock:
            if self.script and self.script[0] == "drop":
                self.script.pop(0)
                return True
        return False

    def verify(self, body: bytes, header: str) -> bool:
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts:
            return False
        if abs(time.time() - int(parts["t"])) > 300:
            return False
        expected = hmac.new(
            self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])

    def apply_once(self, key: str, payload: dict) -> bool:
        """Apply unless the key was seen; False for a duplicate."""
        with self.lock:
            if key in self.seen_keys:
                self.duplicates += 1
                return False
            self.seen_keys.add(key)
            self._apply(payload)
            return True

    def _apply(self, payload: dict) -> None:
        aggregate, seq = payload["aggregate_id"], payload["seq"]
        if seq <= self._last_seq.get(aggregate, 0):
            self.out_of_order.append((aggregate, seq))
        self._last_seq[aggregate] = seq
        snapshot, kind = payload["snapshot"], payload["kind"]
        if kind == "question":
            self.questions[snapshot["id"]] = snapshot
        elif kind == "explanation":
            self.explanations[snapshot["question_id"]] = snapshot
        elif kind == "question_tombstone":
            self.questions.pop(snapshot["id"], None)
            self.explanations.pop(snapshot["id"], None)
        elif kind == "explanation_tombstone":
            self.explanations.pop(snapshot["question_id"], None)
        self.applied.append(payload)

    def enter(self, aggregate: int) -> None:
        with self.lock:
            self._in_flight[aggregate] += 1
            self.max_in_flight_per_question = max(
                self.max_in_flight_per_question, self._in_flight[aggregate]
            )

    def leave(self, aggregate: int) -> None:
        with self.lock:
            self._in_flight[aggregate] -= 1

    def applied_seqs(self, aggregate: int) -> list[int]:
        return [p["seq"] for p in self.applied if p["aggregate_id"] == aggregate]


def _handler_for(viewer: FakeViewer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def do_POST(self):
            if viewer.peek_drop():
                self.close_connection = True
                return
            body = self.rfile.read(int(self.headers["Content-Length"]))
            payload = json.loads(body)
            key = self.headers.get("Idempotency-Key", "")
            verified = viewer.verify(body, self.headers.get("X-Gichul-Signature", ""))
            with viewer.lock:
                viewer.received.append(
                    {"key": key, "payload": payload, "verified": verified}
                )
            viewer.enter(payload["aggregate_id"])
            try:
                self._respond(viewer.next_mode(payload), key, payload, verified)
            except OSError:
                pass  # the relay gave up on us (slow mode)
            finally:
                viewer.leave(payload["aggregate_id"])

        def _respond(self, mode: Mode, key: str, payload: dict, verified: bool):
            if viewer.delay_s:
                time.sleep(viewer.delay_s)
            if mode in ("500", "422"):
                return self._send(int(mode), {"error": mode})
            if mode == "429":
                return self._send(429, {"error": "slow down"}, retry_after="30")
            if not verified:
                return self._send(401, {"error": "bad signature"})
            fresh = viewer.apply_once(key, payload)
            if mode == "drop_after":
                self.close_connection = True
                return
            if mode == "slow":
                time.sleep(viewer.slow_s)
            self._send(200, {"duplicate": not fresh})

        def _send(self, status: int, data: dict, retry_after: str | None = None):
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(body)

    return Handler
