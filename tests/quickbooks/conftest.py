"""Adapter fixtures: a running sandbox, a recording secret store, clients built as the app does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.quickbooks.auth import QuickBooksAuth, save_credentials
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.quickbooks.ratelimit import RateLimiter
from connex_desktop.sandbox.server import SandboxServer

PREFIX = "connection-1"


class RecordingSecretStore:
    """A dictionary secret store that remembers the order of writes (keys, never values)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.writes: list[str] = []

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.writes.append(key)
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


class SleepRecorder:
    """Stands in for time.sleep in the retry loop: records the waits, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    yield server
    server.stop()


def company_of(sandbox: SandboxServer) -> QuickBooksCompany:
    return QuickBooksCompany(environment=sandbox.base_url, client_id=sandbox.client_id,
                             realm_id=sandbox.realm_id, company_name="Sandbox")


def connected_store(sandbox: SandboxServer, *, with_access_token: bool = True
                    ) -> RecordingSecretStore:
    secrets = RecordingSecretStore()
    save_credentials(secrets, PREFIX, client_secret=sandbox.client_secret,
                     refresh_token=sandbox.refresh_token,
                     access_token=sandbox.access_token if with_access_token else "")
    secrets.writes.clear()
    return secrets


def make_client(sandbox: SandboxServer, secrets: RecordingSecretStore | None = None,
                **options: object) -> QuickBooksClient:
    """A client with its own limiter (tests do not share windows) and a recording sleep."""
    company = company_of(sandbox)
    auth = QuickBooksAuth(company, secrets or connected_store(sandbox), PREFIX)
    options.setdefault("sleep", SleepRecorder())
    options.setdefault("limiter", RateLimiter())
    return QuickBooksClient(company, auth, **options)  # type: ignore[arg-type]


@pytest.fixture
def secrets(sandbox: SandboxServer) -> RecordingSecretStore:
    return connected_store(sandbox)


@pytest.fixture
def client(sandbox: SandboxServer, secrets: RecordingSecretStore) -> Iterator[QuickBooksClient]:
    with make_client(sandbox, secrets) as qb_client:
        yield qb_client


def assert_no_secrets(text: str, sandbox: SandboxServer, *stores: RecordingSecretStore) -> None:
    secrets = {sandbox.client_secret, sandbox.refresh_token, sandbox.access_token}
    for store in stores:
        secrets.update(store.values.values())
    for secret in secrets:
        assert secret not in text
