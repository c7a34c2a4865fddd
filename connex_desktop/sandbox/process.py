"""The sandbox in a process of its own, so its work never competes with the window's thread."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import requests

from connex_desktop.sandbox.kinds import DEFAULT_KIND
from connex_desktop.sandbox.qbo_company import Company
from connex_desktop.sandbox.server import FAULT_PATH, GRANT_PATH

STOP_TIMEOUT_S = 10
GRANT_TIMEOUT_S = 10


def sandbox_command(*options: str) -> list[str]:
    """How to run `connex-desktop sandbox OPTIONS` with this interpreter (or frozen app)."""
    if getattr(sys, "frozen", False):   # the bundle's executable takes the subcommands itself
        return [sys.executable, "sandbox", *options]
    return [sys.executable, "-m", "connex_desktop", "sandbox", *options]


class SandboxProcess:
    """`connex-desktop sandbox` run as a child process, with what clients connect with.

    The child stops when `stop()` closes its standard input, or when this process ends in any
    way (the pipe closes then too), so no sandbox outlives the app that started it.
    """

    def __init__(self, db_path: str | Path | None = None, *, kind: str = DEFAULT_KIND,
                 multicurrency: bool = False, latency_ms: int = 0,
                 rate_limits: bool = True) -> None:
        options = ["--port", "0", "--stop-on-stdin-eof", "--company", kind,
                   "--latency-ms", str(latency_ms)]
        options += ["--db", str(db_path)] if db_path is not None else []
        options += ["--multicurrency"] if multicurrency else []
        options += [] if rate_limits else ["--no-rate-limits"]
        self._command = sandbox_command(*options)
        self._company_file = (db_path, kind, multicurrency)
        self._process: subprocess.Popen[str] | None = None
        self._errors: IO[str] | None = None
        self._details: dict[str, Any] = {}

    def start(self) -> SandboxProcess:
        """Start the child and wait for the line it prints once it answers."""
        # Its errors go to a file, not a pipe: a pipe nobody reads would fill and stall it.
        self._errors = errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._process = subprocess.Popen(
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = _first_line(self._process.stdout)
        if not line:
            self._process.wait(STOP_TIMEOUT_S)
            errors.seek(0)
            said = errors.read()[-500:].strip()
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {said}")
        self._details = json.loads(line)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def base_url(self) -> str:
        return str(self._details["base_url"])

    @property
    def realm_id(self) -> str:
        return str(self._details["realm_id"])

    @property
    def client_id(self) -> str:
        return str(self._details["client_id"])

    @property
    def client_secret(self) -> str:
        return str(self._details["client_secret"])

    @property
    def refresh_token(self) -> str:
        """The refresh token the child issued at start (rotates once used)."""
        return str(self._details["refresh_token"])

    @contextlib.contextmanager
    def books(self) -> Iterator[Company]:
        """The company as its file holds it now, to read (tests, checks); closed after."""
        db_path, kind, multicurrency = self._company_file
        if db_path is None:
            raise RuntimeError("a sandbox kept in memory has no file to read")
        company = Company(db_path, kind=kind, multicurrency=multicurrency)
        try:
            yield company
        finally:
            company.close()

    def inject(self, fault: str, count: int = 1) -> None:
        """SandboxServer.inject in the child: `fault` on its next `count` matching requests."""
        self._post(FAULT_PATH, {"fault": fault, "count": count})

    def new_grant(self) -> dict[str, Any]:
        """Tokens for another connection, as SandboxServer.new_grant gives them."""
        grant: dict[str, Any] = self._post(GRANT_PATH).json()
        return grant

    def _post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        """A POST to the child's own control `path`; its refusal raises."""
        reply = requests.post(self.base_url + path, json=body, timeout=GRANT_TIMEOUT_S)
        reply.raise_for_status()
        return reply

def _first_line(stream: IO[str] | None) -> str:
    return stream.readline() if stream is not None else ""
