"""Local HTTP servers on 127.0.0.1 that answer as the stores document, for connector tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# How quickly `stop` is noticed by the serving thread.
POLL_INTERVAL_S = 0.02


@dataclass(frozen=True)
class Received:
    """One request as the fake store saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    """What the fake store answers: a status, headers and a JSON-able body (None: no body)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Received], Reply]


class FakeServer:
    """A threaded HTTP server on a free loopback port that records requests and asks `route`."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.received: list[Received] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Received("GET", parts.path, parse_qs(parts.query),
                                   {k.lower(): v for k, v in self.headers.items()})
                fake.received.append(request)
                reply = fake.route(request)
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.status != 204:
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if reply.status != 204:
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `received` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_INTERVAL_S,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
