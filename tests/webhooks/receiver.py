"""A real webhook receiver for the tests: an HTTP server (thread) on a loopback
address that verifies every request with the `standardwebhooks` reference library and
records what came. Per path it knows the endpoint's secret and how to answer (a status,
a delay, or holding the request until released). It can stop listening (connections
refused) and come back on the same port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    message_id: str
    timestamp: str
    signature: str
    body: bytes
    at: float  # time.time() on arrival
    payload: dict[str, Any] | None  # verified and parsed; None when verification failed
    error: str | None
    headers: dict[str, str]

    @property
    def type(self) -> str:
        return str((self.payload or {}).get("type", ""))


@dataclass
class Route:
    secret: str = ""
    status: int = 200
    delay: float = 0.0
    # Set: requests wait for it (the test kills the sender meanwhile).
    hold: threading.Event | None = None
    body: bytes = b"ok"


@dataclass
class Receiver:
    host: str
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        self.routes.setdefault(path, Route())
        return f"http://{self.host}:{self.port}{path}"

    def of(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def types(self, path: str) -> list[str]:
        return [r.type for r in self.of(path) if r.payload is not None]

    def wait_for(self, path: str, check: Any, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.of(path)
            if check(got):
                return got
            time.sleep(0.05)
        raise AssertionError(f"receiver {path}: condition not met; got {[r.type for r in got]}")

    def start(self) -> None:
        server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: new connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            route = receiver.routes.get(self.path, Route(status=404))
            headers = {k.lower(): v for k, v in self.headers.items()}
            payload, error = None, None
            try:
                payload = Webhook(route.secret).verify(body, headers)
            except (WebhookVerificationError, ValueError, Exception) as exc:
                error = f"{type(exc).__name__}: {exc}"
            record = Received(
                self.path,
                headers.get("webhook-id", ""),
                headers.get("webhook-timestamp", ""),
                headers.get("webhook-signature", ""),
                body,
                time.time(),
                payload,
                error,
                headers,
            )
            with receiver.lock:
                receiver.received.append(record)
                now = receiver.in_flight.get(self.path, 0) + 1
                receiver.in_flight[self.path] = now
                peak = max(receiver.max_in_flight.get(self.path, 0), now)
                receiver.max_in_flight[self.path] = peak
            try:
                if route.hold is not None:
                    route.hold.wait(60)
                if route.delay:
                    time.sleep(route.delay)
                status = route.status if error is None else 400
                self.send_response(status)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)
            except OSError:
                pass  # the sender gave up (timeout) or died
            finally:
                with receiver.lock:
                    receiver.in_flight[self.path] -= 1

    return Handler


@contextmanager
def receiver(host: str = "127.0.0.2") -> Iterator[Receiver]:
    started = Receiver(host)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def payload_of(record: Received) -> dict[str, Any]:
    return dict(json.loads(record.body))
