"""`connex-desktop sandbox`: run the local QuickBooks Online sandbox in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from connex_desktop.sandbox.server import SandboxServer


def run(args: argparse.Namespace) -> int:
    """Start the sandbox, print one JSON line to connect with, serve until SIGINT/SIGTERM."""
    sandbox = SandboxServer(args.db, host=args.host, port=args.port, latency_ms=args.latency_ms,
                            fail_rate=args.fail_rate, rate_limits=not args.no_rate_limits,
                            read_quota=args.read_quota,
                            kind=args.company, multicurrency=bool(args.multicurrency))
    with until_stopped() as stopping:
        if args.stop_on_stdin_eof:
            threading.Thread(target=_set_at_stdin_eof, args=(stopping,), name="stdin-watch",
                             daemon=True).start()
        sandbox.start()
        try:
            print(json.dumps({"base_url": sandbox.base_url, "realm_id": sandbox.realm_id,
                              "client_id": sandbox.client_id,
                              "client_secret": sandbox.client_secret,
                              "refresh_token": sandbox.refresh_token,
                              "discovery_url": sandbox.discovery_url, "company": args.company,
                              "multicurrency": bool(args.multicurrency)}), flush=True)
            while not stopping.wait(0.5):   # a timeout: Windows delivers signals between waits
                pass
        finally:
            sandbox.stop()
    print("sandbox stopped", file=sys.stderr)
    return 0


def _set_at_stdin_eof(stopping: threading.Event) -> None:
    """The app that started this process holds its standard input: when the app ends (even
    killed), the pipe closes and the sandbox stops with it."""
    while sys.stdin.read(4096):
        pass
    stopping.set()


@contextlib.contextmanager
def until_stopped() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while inside; the previous handlers come back after."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
