"""Sandbox test fixtures: a running sandbox, python-quickbooks clients and raw HTTP against it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.objects.base import Ref

from connex_desktop.sandbox.server import SandboxServer


def connect(sandbox: SandboxServer, refresh_token: str | None = None,
            access_token: str | None = None) -> QuickBooks:
    """A python-quickbooks client with its own AuthClient, its API URL pointed at the sandbox."""
    auth = AuthClient(sandbox.client_id, sandbox.client_secret, "http://127.0.0.1/callback",
                      sandbox.discovery_url, access_token=access_token)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = QuickBooks(auth_client=auth, refresh_token=refresh_token or sandbox.refresh_token,
                            company_id=sandbox.realm_id, minorversion=75)
    client.api_url_v3 = sandbox.api_url
    return client


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(rate_limits=False) as server:
        yield server


@pytest.fixture
def qb(sandbox: SandboxServer) -> QuickBooks:
    return connect(sandbox)


class RawApi:
    """Plain HTTP against the sandbox's API, for what python-quickbooks does not cover."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {sandbox.access_token}",
                                     "Accept": "application/json"})

    def url(self, resource: str) -> str:
        return f"{self.sandbox.api_url}/company/{self.sandbox.realm_id}/{resource}"

    def post(self, resource: str, body: Any, **params: str) -> requests.Response:
        return self.session.post(self.url(resource), json=body,
                                 params={"minorversion": "75", **params}, timeout=10)

    def get(self, resource: str, **params: str) -> requests.Response:
        return self.session.get(self.url(resource), params={"minorversion": "75", **params},
                                timeout=10)

    def query(self, text: str) -> dict[str, Any]:
        response = self.get("query", query=text)
        assert response.status_code == 200, response.text
        return response.json()["QueryResponse"]  # type: ignore[no-any-return]


@pytest.fixture
def api(sandbox: SandboxServer) -> RawApi:
    return RawApi(sandbox)


def first_id(sandbox: SandboxServer, entity: str, where: str) -> str:
    found = sandbox.company.query(f"SELECT * FROM {entity} WHERE {where}")
    assert found, f"no {entity} where {where}"
    return str(found[0]["Id"])


def ref(value: str) -> Ref:
    """A python-quickbooks reference to the record with Id `value`."""
    result = Ref()
    result.value = value
    return result


@contextlib.contextmanager
def sandbox_command(*options: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """`connex-desktop sandbox OPTIONS` running, with the JSON line it printed; killed if left."""
    process = subprocess.Popen(
        [sys.executable, "-m", "connex_desktop", "sandbox", "--port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=Path(__file__).resolve().parents[2])
    try:
        assert process.stdout is not None
        yield process, json.loads(process.stdout.readline())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
