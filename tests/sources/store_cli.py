"""Drives the CLI end to end for store tests: a private data folder, a test keyring, a sandbox."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import keyring.core
import pytest

from connex_desktop.__main__ import main
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.storage.keyring_secrets import BACKEND_ENV
from tests.fakes.memory_keyring import MemoryKeyring


class Cli:
    """`connex-desktop --data-dir DIR …` run in-process, with standard input given."""

    def __init__(self, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.data_dir = data_dir
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(self, *args: str, stdin: str = "", expect: int = 0) -> tuple[int, str]:
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(["--data-dir", str(self.data_dir), *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = self.capsys.readouterr()
        assert code == expect, f"{args} exited {code}: {captured.err}{captured.out}"
        return code, captured.out if code == 0 else captured.err + captured.out

    def sync(self, name: str, *, expect: int = 0) -> dict[str, Any]:
        _, out = self("sync", name, "--json", expect=expect)
        return json.loads(out)  # type: ignore[no-any-return]

    def connect_quickbooks(self, name: str, sandbox: SandboxServer) -> None:
        grant = sandbox.new_grant()
        self("qb", "connect", name, "--environment", sandbox.base_url, "--client-id",
             sandbox.client_id, "--realm-id", sandbox.realm_id, "--token-stdin",
             stdin=f"{sandbox.client_secret}\n{grant['refresh_token']}\n")


@pytest.fixture(name="cli")
def cli_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.setenv(BACKEND_ENV, f"{MemoryKeyring.__module__}.{MemoryKeyring.__name__}")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setattr(MemoryKeyring, "passwords", {})
    return Cli(tmp_path / "data", monkeypatch, capsys)


@pytest.fixture(name="sandbox")
def sandbox_fixture() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


def documents(sandbox: SandboxServer, entity: str) -> list[dict[str, Any]]:
    return list(sandbox.company.all(entity))


def amount(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def assert_no_file_holds(folder: Path, secret: str) -> None:
    """The secret lives in the keyring only: no file under `folder` (database, logs) holds it."""
    for path in folder.rglob("*"):
        assert not path.is_file() or secret.encode() not in path.read_bytes(), path
