"""The demo connects as a user does: Connect to QuickBooks through a connect service on this
computer, the sandbox playing Intuit; no keys typed, refreshes through the service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connex_desktop.app import build_app
from connex_desktop.core.result import RunStatus
from connex_desktop.logs import LOG_FILE_NAME
from connex_desktop.sandbox.seed import COMPANY_NAME
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from tests.test_cli import (
    cli,
    memory_keyring,  # noqa: F401  (the keyring, in memory, for every test)
)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


def demo(data_dir, capsys, orders: int) -> dict:
    assert cli(data_dir, "demo", "--orders", str(orders), "--json") == 0
    return json.loads(capsys.readouterr().out)


def shown(data_dir, capsys) -> dict:
    assert cli(data_dir, "connection", "show", "Demo store", "--json") == 0
    return json.loads(capsys.readouterr().out)["quickbooks"]


def saved(keyring: dict, name: str) -> list[str]:
    return [value for (_service, key), value in keyring.items() if key.endswith("/" + name)]


def test_the_demo_signs_in_through_the_service_and_keeps_its_rotated_token_in_the_keyring(
        data_dir, capsys, memory_keyring):  # noqa: F811  (the fixtures imported above)
    first = demo(data_dir, capsys, 12)
    assert first["orders"]["fetched"] == 12 and first["status"] == "succeeded"
    company = shown(data_dir, capsys)
    assert company["company"] == COMPANY_NAME and company["signed_in_at"]
    assert company["connect_service"].startswith("http://127.0.0.1:")
    (refresh_token,) = saved(memory_keyring, "qb_refresh_token")
    assert saved(memory_keyring, "qb_client_secret") == []     # the service keeps it

    # An hour later the saved access token has expired; the demo's run is undone in QuickBooks.
    with SandboxServer(data_dir / "demo-company.sqlite3") as company_file:
        company_file.oauth.expire_access_tokens()
    assert cli(data_dir, "undo", str(first["run_id"])) == 0
    capsys.readouterr()
    with SandboxServer(data_dir / "demo-company.sqlite3") as company_file:
        assert company_file.company.all("Invoice") == []
    again = shown(data_dir, capsys)
    assert again["signed_in_at"] == company["signed_in_at"]       # no new sign-in
    (rotated,) = saved(memory_keyring, "qb_refresh_token")
    assert rotated != refresh_token                               # kept, rotated
    log = (data_dir / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert log.count("POST /v1/sign-ins 201") == 1
    assert "POST /v1/tokens/refresh 200" in log                   # through the service
    # The service's read of the company's name is counted: the first sync is not throttled.
    assert "QuickBooks is busy" not in log
    for path in data_dir.rglob("*"):      # the app's files; the demo company is Intuit's side
        if path.is_file() and not path.name.startswith("demo-company"):
            assert not any(token.encode() in path.read_bytes()
                           for token in memory_keyring.values()), path


def test_without_a_keyring_the_demo_still_signs_in_and_books_headless(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "OAUTHLIB_INSECURE_TRANSPORT": "1", "HOME": str(tmp_path)}
    data = tmp_path / "data"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "connex_desktop", "--data-dir", str(data),
                               *args], capture_output=True, text=True, env=env, timeout=120,
                              check=False)

    booked = run("demo", "--orders", "6", "--json")
    assert booked.returncode == 0, booked.stderr
    assert json.loads(booked.stdout)["orders"]["fetched"] == 6
    again = run("demo", "--orders", "6")     # signs in anew: its tokens were in memory
    assert again.returncode == 0, again.stderr
    company = json.loads(run("connection", "show", "Demo store", "--json").stdout)["quickbooks"]
    assert company["connect_service"].startswith("http://127.0.0.1:")
    log = (data / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert log.count("POST /v1/sign-ins 201") == 2


def test_an_installation_without_the_connect_service_has_the_sandbox_grant_directly(
        tmp_path, monkeypatch):
    """The bundle leaves the web framework out: its demo still connects and books."""
    monkeypatch.setitem(sys.modules, "connex_desktop.connect_service.local", None)
    app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    try:
        connection = app.start_demo(orders=6)
        assert connection.quickbooks.connected and not connection.quickbooks.connect_service
        result = app.engine().run(connection, query=OrderQuery())
        assert result.status is RunStatus.SUCCEEDED and result.synced > 0, result.message
    finally:
        app.close()
